"""`verify hosting`: the stack's variables exist on exactly their targets, sensitive as declared.

Values are never read back (sensitive ones cannot be): the check compares
names, targets, the sensitive flag and update times. A variable updated after
the target's latest deployment has not reached the running app yet
(`unapplied`, which `billing status` asks too).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from infra.catalog import Deployment, hosting
from infra.clients.credentials import VERCEL_API_BASE
from infra.clients.errors import ApiError
from infra.clients.vercel_api import Vercel
from infra.core.checks import Check, Progress
from infra.hosts.vercel import DEPLOYED_TARGETS, FIRST_DEPLOY, REDEPLOY, TARGETS
from infra.probes.verify_record import rfc3339


def run(deployment: Deployment, vercel: Vercel, progress: Progress | None = None) -> list[Check]:
    say = progress or (lambda _: None)
    project = str(deployment.settings.vercel_project)
    targets = {t.name: t for t in TARGETS[deployment.mode]}
    other_mode = {t.name for mode, ts in TARGETS.items() if mode != deployment.mode for t in ts}
    say(f"environment variables of {project}")
    try:
        entries = vercel.env(project)
    except ApiError as error:
        return [_unreachable(f"env of {project}", error)]
    by_name: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in entries:
        by_name[str(entry.get("key"))].append(entry)

    checks = []
    stale: dict[str, list[str]] = defaultdict(list)
    latest, unread = _latest_deployments(vercel, project, [t for t in targets if t in DEPLOYED_TARGETS], say)
    for variable in hosting.variables(deployment.catalog):
        name = variable.name
        found = [(target, entry) for entry in by_name.get(name, []) for target in entry.get("target") or ()]
        mixed = [e for e in by_name.get(name, [])
                 if set(e.get("target") or ()) & set(targets) and set(e.get("target") or ()) & other_mode]
        problems = []
        if mixed:
            problems.append(f"one value is shared by {', '.join(sorted(mixed[0]['target']))}: a "
                            f"{deployment.mode} value reaches the other mode's targets")
        for target in targets.values():
            on_target = [e for t, e in found if t == target.name]
            if not on_target:
                problems.append(f"missing on {target.name}")
                continue
            for entry in on_target:
                sensitive = entry.get("type") == "sensitive"
                if sensitive != target.sensitive:
                    problems.append(f"{'sensitive' if sensitive else entry.get('type')} on {target.name}, "
                                    f"should be {'sensitive' if target.sensitive else 'not sensitive'}")
                deployed_at = latest.get(target.name)
                if deployed_at is not None and _ms(entry.get("updatedAt")) > deployed_at:
                    stale[target.name].append(name)
        if problems:
            checks.append(Check(f"variable {name}", "fail", "; ".join(problems),
                                f"run `pulumi up --stack {deployment.stack}`; a variable made by hand with "
                                "this name must be deleted first (Vercel refuses a duplicate)"))
        else:
            checks.append(Check(f"variable {name}", "pass",
                                f"on {', '.join(targets)} as declared ({variable.describe()})"))
    checks += [_unreachable(f"redeploy {target}", error) for target, error in unread.items()]
    for deployed in latest:
        names = stale.get(deployed)
        if names:
            checks.append(Check(f"redeploy {deployed}", "warn", f"{', '.join(names)} changed after the "
                                f"latest {deployed} deployment; the running app still has the old value",
                                REDEPLOY[deployed]))
        else:
            checks.append(Check(f"redeploy {deployed}", "pass",
                                f"no variable changed since the latest {deployed} deployment"))
    return checks


def _latest_deployments(
    vercel: Vercel, project: str, targets: list[str], say: Progress,
) -> tuple[dict[str, int], dict[str, ApiError]]:
    """Each target's latest READY deployment time (none yet: nothing to compare), and failed reads."""
    latest, unread = {}, {}
    for target in targets:
        say(f"latest {target} deployment")
        try:
            found = vercel.latest_deployment(project, target)
            if found is not None:
                latest[target] = _created(found)
        except ApiError as error:
            unread[target] = error
    return latest, unread


@dataclass(frozen=True)
class Unapplied:
    """One deployed target: when its latest deployment was made, and what was written after it."""

    target: str
    deployed_at: int | None
    """Milliseconds since the epoch, as Vercel counts; None when the target has no deployment yet."""
    written: dict[str, int]
    """Each of the stack's variables on this target written after that deployment -> when (ms)."""


def unapplied(vercel: Vercel, project: str, names: Mapping[str, Sequence[str]]) -> list[Unapplied]:
    """For each deployed target the stack writes (`names`: target -> variable names, as the stack's
    `hostingVariables` output lists them), the variables its running app does not have yet: the
    ones updated after the target's latest READY deployment was created. ApiError if unreadable,
    or when a time it needs is missing or not one (nothing is judged on a guess)."""
    entries = vercel.env(project)
    found = []
    for target in (t for t in DEPLOYED_TARGETS if t in names):
        latest = vercel.latest_deployment(project, target)
        deployed = _created(latest) if latest is not None else None
        written = {}
        for entry in entries:
            if entry["key"] in names[target] and target in entry["target"]:
                at = _time(entry.get("updatedAt"), f"GET env: a variable's updatedAt on {target}")
                if deployed is None or at > deployed:
                    written[str(entry["key"])] = at
        found.append(Unapplied(target, deployed, written))
    return found


def redeploy(vercel: Vercel, project: str, names: Mapping[str, Sequence[str]],
             changed: Sequence[str]) -> list[Check]:
    """`unapplied` as one finding per deployed target, each with what to do (`billing status`)."""
    try:
        found = unapplied(vercel, project, names)
    except ApiError as error:
        said = f"; the last update wrote {', '.join(changed)}" if changed else ""
        return [Check("redeploy", "fail", f"could not tell whether the running app has the stack's "
                      f"variables ({error}){said}", _fix(error))]
    checks = []
    for target in found:
        name = f"redeploy {target.target}"
        if target.deployed_at is None:
            checks.append(Check(name, "fail", f"{target.target} has no deployment yet, so no running app "
                                "reads the variables written there", FIRST_DEPLOY[target.target]))
        elif target.written:
            at = rfc3339(datetime.fromtimestamp(max(target.written.values()) / 1000, UTC))
            checks.append(Check(name, "fail", f"{target.target} deployment is older than the variables "
                                f"written at {at} ({', '.join(sorted(target.written))})",
                                REDEPLOY[target.target]))
        else:
            at = rfc3339(datetime.fromtimestamp(target.deployed_at / 1000, UTC))
            checks.append(Check(name, "pass", f"the latest {target.target} deployment ({at}) has every "
                                "variable the stack wrote"))
    return checks


def _created(deployment: dict[str, Any]) -> int:
    """When a deployment was made; ApiError when the answer gives no time."""
    return _time(deployment.get("createdAt", deployment.get("created")), "GET deployments: createdAt")


# Vercel counts milliseconds since the epoch; a number outside 2000-2200 is no time it wrote, and
# one far enough out is no time Python can print (an OverflowError, not an answer).
_EARLIEST_MS, _LATEST_MS = 946_684_800_000, 7_258_118_400_000


def _time(value: Any, what: str) -> int:
    if isinstance(value, int | float) and not isinstance(value, bool) and _EARLIEST_MS <= value <= _LATEST_MS:
        return int(value)
    raise ApiError("malformed", f"{what} is not a time in milliseconds")


def _ms(value: Any) -> int:
    return int(value) if isinstance(value, int | float) else 0


def _unreachable(what: str, error: ApiError) -> Check:
    return Check(what, "fail", f"could not read it from Vercel: {error}", _fix(error))


def _fix(error: ApiError) -> str:
    credential = "VERCEL_TOKEN (or vercel:apiToken)"
    return {"auth": f"check {credential}: Vercel does not accept it",
           "permission": f"the token cannot see this project: check {credential} and vercel:team",
           "not found": "no such project for this token: check billing:vercelProject and vercel:team "
                        "(a 404 is not a missing permission)",
           }.get(error.kind) or error.fix(credential, VERCEL_API_BASE)
