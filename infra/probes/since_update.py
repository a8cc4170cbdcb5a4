"""What a stack needs once an update has run: the running app has every value the update wrote
to the host (`redeploy`), and every check `billing verify` records passed since (`verify`)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from infra import hosts
from infra.catalog import stack_config
from infra.catalog.guards import store_secret
from infra.clients import pulumi_cli
from infra.clients.http import Limits
from infra.core.problems import ConfigError
from infra.core.snapshot import Snapshot
from infra.probes import hosting, verify_record
from infra.probes.facts import Item

CLOCK_SKEW = timedelta(minutes=5)
"""How far ahead of this machine's clock a verify record may be dated (another machine's clock)."""


class Clock(Protocol):
    """What is left of the status run's one deadline (infra.probes.readiness)."""

    def cli(self) -> float: ...

    def limits(self) -> Limits: ...


def redeploy_items(stack: str, files: Snapshot, plain: Any, config: stack_config.EngineConfig | None,
                   last_update: str, clock: Clock) -> list[Item]:
    """Whether the running app has every value the host holds for it. A host that applies each write
    at once (a Worker) never has a gap; Vercel's app has a variable once a deployment made after
    the variable was written is running (`infra.probes.vercel.redeploy`)."""
    host = hosts.named(str(plain.get(hosts.HOST_SETTING) or hosts.DEFAULT))
    if host.applies_at_once:
        return [Item("redeploy", True, f"host: {host.title} applies each value as `up` writes it: "
                                       "no redeploy")]
    try:
        outputs = pulumi_cli.stack_outputs(stack, files.root, clock.cli())
    except pulumi_cli.CliError as error:
        return [Item("redeploy", False, f"host: the stack's outputs could not be read: {error}",
                     f"`pulumi stack output --stack {stack}` shows why")]
    # What the program writes: target -> the names written there, and the `target:NAME` slots the
    # update changed (absent before the program wrote it). Anything else is not read on a guess.
    names, changed = outputs.get("hostingVariables"), outputs.get("redeployNeeded", [])
    if not isinstance(names, dict) or not all(_names(v) for v in names.values()) or not _names(changed):
        return [Item("redeploy", False, f"host: the last update ({last_update}) left no list of the "
                                        "host's values (the hostingVariables and redeployNeeded outputs "
                                        "are not lists of names)",
                     f"`pulumi up --stack {stack} --policy-pack policies` writes them")]
    token = os.environ.get(host.token_env) or (config.get(host.token) if config else None)
    if not token:
        return [Item("redeploy", False, f"host: no {host.title} token to read the deployments with",
                     f"export {host.token_env}, or store {host.token} in the stack: "
                     f"{store_secret(host.token, stack, 'the token')}", field=host.token)]
    settings = config or stack_config.from_stack(files.root, stack, files=files)  # project, team: plain
    try:
        found = hosting.redeploy(host.key, settings.get, token, names, changed, clock.limits())
    except ConfigError as error:  # an API root the token may not travel to
        return [Item("redeploy", False, f"host: {problem}") for problem in error.problems]
    return [Item("redeploy", check.status == "pass", f"host: {check.meaning}", check.fix,
                 field=check.name.removeprefix("redeploy ") if check.name.startswith("redeploy ") else None)
            for check in found]


def _names(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(name, str) for name in value)


def verify_items(stack: str, project: Path, last_update: str, clock: Clock) -> list[Item]:
    """Each check `billing verify` records: passed since the last update, or what to run."""
    try:
        records = verify_record.read(stack, project, clock.cli())
    except pulumi_cli.CliError as error:
        return [Item("verify", False, f"verify: the stack's verify record could not be read: {error}",
                     f"`pulumi stack tag ls --stack {stack}` shows why")]
    updated = verify_record.parse_time(last_update)
    now = datetime.now(UTC)
    items = []
    for check in verify_record.CHECKS:
        run = (f"`billing verify payment --stack {stack}` (test mode: a subscription made and removed; "
               "live: a Checkout Session a person pays)" if check == "payment"
               else f"`billing verify --stack {stack}`")
        record = records.get(check)
        about = verify_record.tag(check)
        when = f"at {verify_record.rfc3339(record.at)}" if record else ""
        if check not in records:
            items.append(Item("verify", False, f"verify {check}: never recorded on this stack", run, about))
        elif record is None:
            items.append(Item("verify", False, f"verify {check}: the tag {verify_record.tag(check)} is not "
                                               "`pass|fail <time>` as verify writes it", run, about))
        elif record.at > now + CLOCK_SKEW:
            # A tag anyone with the backend can set: a pass dated ahead would outlive every later update.
            items.append(Item("verify", False, f"verify {check}: the tag {verify_record.tag(check)} is dated "
                                               f"{verify_record.rfc3339(record.at)}, later than now: not a "
                                               "record `billing verify` made", run, about))
        elif updated is not None and record.at < updated:
            said = "passed" if record.outcome == "pass" else "failed"
            items.append(Item("verify", False, f"verify {check}: {said} {when}, before the last update", run,
                              about))
        elif record.outcome == "fail":
            items.append(Item("verify", False, f"verify {check}: failed {when}",
                              f"{run} again shows each failed check with its fix", about))
        else:
            items.append(Item("verify", True, f"verify {check}: passed {when}, after the last update",
                              field=about))
    return items
