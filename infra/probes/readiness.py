"""Where a stack stands in going live: the facts `billing status` prints and `billing go-live`
resumes from.

Read-only: it asks the pulumi CLI (its version, `whoami`, `stack ls`, the
stack's decrypted config into memory only, how its last update ended, its
outputs with secrets masked, its tags) and reads the stack and catalog files;
after the first update it reads the host's deployments (GET only) and the
record `billing verify` left.
It never sends anything to Stripe and writes nothing. Each item names the
go-live step that closes it (infra/probes/facts.py), so a resumed go-live starts at the first
step with an open item and never repeats a finished one.

Before the first update there is no gap after `examples`: going live *is* the
first `pulumi up`, so a stack ready for it is ready (`Readiness.last_update`
is None and the `update` item says so). After it, the host must have every
value the update wrote (`redeploy`) and every verify check must have passed
since (`verify`): infra/probes/since_update.py.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra import hosts
from infra.catalog import stack_config
from infra.catalog.guards import ROLE_KEYS
from infra.catalog.stack_files import open_stack, plain_config
from infra.clients import pulumi_cli
from infra.clients.http import Limits
from infra.core import sources
from infra.core.problems import ConfigError
from infra.core.redact import mask, url_shown
from infra.core.snapshot import Snapshot
from infra.probes import since_update, verify_record
from infra.probes.facts import Item

# README step 5: older CLIs refuse an adoption whose inputs differ.
MIN_PULUMI = (3, 174)
DEADLINE = 30.0
"""One question to the pulumi CLI, at most."""
TOTAL_SECONDS = 120.0
"""All of status: every question to the CLI and every request to the host (each CLI question still
gets a second when the rest is spent, so at most a few seconds more)."""
POLICY_VENV = "policies/venv"


@dataclass(frozen=True)
class Readiness:
    stack: str
    items: tuple[Item, ...]
    last_update: str | None
    """When the stack's last update finished, as the backend says (RFC 3339); None before the
    first `up`, or when the CLI or the stack could not be reached."""

    @property
    def missing(self) -> list[Item]:
        return [item for item in self.items if not item.ok]

    @property
    def ready(self) -> bool:
        return not self.missing


class _Clock:
    """The one deadline of a status run, shared out to each CLI question and host request."""

    def __init__(self) -> None:
        self.ends = time.monotonic() + TOTAL_SECONDS

    def cli(self) -> float:
        return max(1.0, min(DEADLINE, self.ends - time.monotonic()))

    def limits(self) -> Limits:
        return Limits(until=self.ends)


def read(stack: str, project: Path) -> Readiness:
    """Every fact about `stack`: ConfigError (REFUSED) only for a stack with no file here, or one
    that is not a file that can be read."""
    files = Snapshot(project)  # the stack's files, read once for every item below
    document = open_stack(stack, files, None)
    unreadable = [problem for problem in document.problems if problem.field == "(file)"]
    if unreadable:
        # Not a file to read (a pipe, a device, too large, not UTF-8): bad input, refused as validate
        # refuses it, before the CLI is asked (it would open the same file, and a pipe never answers).
        raise ConfigError(unreadable)
    plain = plain_config(document)
    clock = _Clock()
    items, summary = _cli_items(stack, project, clock)
    cli_ready = all(item.ok for item in items)
    config_items, config = _config_items(stack, files, plain, cli_ready, clock)
    items += config_items
    items.append(_policy_item(project))
    last_update = None
    if summary is not None:
        update, last_update = _update_item(stack, project, summary, clock)
        items.append(update)
        if last_update is not None:
            items += since_update.redeploy_items(stack, files, plain, config, last_update, clock)
            items += since_update.verify_items(stack, project, last_update, clock)
    return Readiness(stack, tuple(items), last_update)


def min_version() -> str:
    return ".".join(map(str, MIN_PULUMI))


def _cli_items(stack: str, project: Path, clock: _Clock) -> tuple[list[Item], dict[str, Any] | None]:
    """The CLI, the backend and the stack; with the stack's `stack ls` summary when it exists."""
    install = f"install the Pulumi CLI {min_version()} or newer: {pulumi_cli.INSTALL}"
    try:
        said = pulumi_cli.run(["version"], project, clock.cli()).strip()
    except pulumi_cli.CliError as error:
        return [Item("cli", False, f"pulumi CLI: {error}", install)], None
    found = re.match(r"v?(\d+)\.(\d+)", said)
    version = (int(found.group(1)), int(found.group(2))) if found else (0, 0)
    if version < MIN_PULUMI:
        return [Item("cli", False, f"pulumi CLI {said[:40]!r} is older than {min_version()}", install)], None
    items = [Item("cli", True, f"pulumi CLI {said[:40]}")]
    login = "`pulumi login --local` (no account), or your team's backend (README step 5)"
    try:
        whoami, wrong = sources.parse_json(pulumi_cli.run(["whoami", "--json"], project, clock.cli()))
    except pulumi_cli.CliError as error:
        # Not logged in, or a backend it cannot open: the CLI's own words tell which.
        items.append(Item("backend", False, f"not logged in to a state backend: {error}", login))
        return items, None
    backend = whoami.get("url") if isinstance(whoami, dict) else None
    if not isinstance(backend, str):
        said = f"did not answer JSON ({wrong})" if wrong else "named no backend URL"
        items.append(Item("backend", False, f"not logged in to a state backend: `pulumi whoami --json` "
                          f"{said}", login))
        return items, None
    # A backend URL can carry its credentials (`postgres://user:password@host`, `s3://b?token=`):
    # shown as scheme, host, port and path only.
    where = mask(url_shown(backend))[:100]
    items.append(Item("backend", True, f"logged in to {where}"))
    again = f"then `billing status --stack {stack}` again"
    try:
        listed, wrong = sources.parse_json(pulumi_cli.run(["stack", "ls", "--json"], project, clock.cli()))
    except pulumi_cli.CliError as error:
        wrong = str(error)
    else:
        wrong = f"`pulumi stack ls --json` did not answer a JSON list ({wrong or 'another JSON value'})" \
            if wrong or not isinstance(listed, list) else None
    if wrong is not None:
        # The stack may well exist: never advise making it again.
        items.append(Item("stack", False, f"the stacks in {where} could not be listed: {wrong}",
                          f"`pulumi stack ls` shows why; {again}"))
        return items, None
    summary, other = _summary_of(stack, listed)
    if other == ABSENT:
        items.append(Item("stack", False, f"stack {stack!r} {other} in {where}",
                          f"export PULUMI_CONFIG_PASSPHRASE (the {stack} stack's own passphrase), then "
                          f"`pulumi stack init {stack} --secrets-provider passphrase` (README step 6)",
                          field="absent"))
        return items, None
    if isinstance(other, str):  # another organization's: making one here would duplicate it
        items.append(Item("stack", False, f"stack {stack!r} {other} in {where}",
                          f"`pulumi org set-default ORG` to the organization that holds it, {again}"))
        return items, None
    if summary is None:
        names = ", ".join(name[:80] for name in other)
        items.append(Item("stack", False, f"{len(other)} stacks are named {stack!r} in {where} ({names}), "
                          f"and `--stack {stack}` means the one in your default organization",
                          f"`pulumi org set-default ORG` to the organization that holds it, {again}"))
        return items, None
    items.append(Item("stack", True, f"stack {stack!r} exists"))
    return items, summary


ABSENT = "does not exist"


def _summary_of(stack: str, listed: list[Any]) -> tuple[dict[str, Any] | None, str | list[str]]:
    """The `stack ls --json` entry that `--stack <stack>` names, as the CLI resolves it (stackSummaryJSON
    `name`, the reference's String(): the bare name for this project in the default organization,
    `org/name` in another one, `org/project/name` everywhere when PULUMI_FULLY_QUALIFY_STACK_NAMES
    is set; `stack ls` lists this project's stacks only). Else None with why: a sentence, or the
    fully qualified names that leave it ambiguous."""
    summaries = {str(s.get("name", "")): s for s in listed if isinstance(s, dict)}
    if stack in summaries:
        return summaries[stack], []
    qualified = [name for name in summaries if name.count("/") == 2 and name.rsplit("/", 1)[-1] == stack]
    if len(qualified) == 1:
        return summaries[qualified[0]], []
    if qualified:
        return None, qualified
    elsewhere = [name for name in summaries if name.count("/") == 1 and name.rsplit("/", 1)[-1] == stack]
    if elsewhere:  # `org/test`: another organization's stack, which `--stack test` does not name
        return None, (f"does not exist in your default organization (only as {elsewhere[0][:80]}: "
                      "`--stack` with the bare name never reaches it)")
    return None, ABSENT


def _update_item(stack: str, project: Path, summary: dict[str, Any], clock: _Clock
                 ) -> tuple[Item, str | None]:
    """From `stack ls --json` (stackSummaryJSON: `lastUpdate` in RFC 3339 with milliseconds, UTC;
    `resourceCount`; `updateInProgress` on backends that report progress, with no `lastUpdate`
    while it runs), and, once something is deployed, how the last update ended (`_last_result`).

    A `lastUpdate` alone does not mean an update ran: the file backend's `stack init` writes a
    checkpoint, so a new stack has one, with `resourceCount` 0 (seen with CLI 3.274.1). Every
    `up` registers at least the stack's own resource, so resources mean something was deployed. A
    stack with resources, or with a `lastUpdate` that is not a time, has no readable update time:
    an open item, since the host and the verify record are judged against that time. A failed `up`
    leaves the resources it made, so they do not mean the update succeeded either."""
    last = summary.get("lastUpdate")
    count = summary.get("resourceCount")
    if summary.get("updateInProgress") is True:
        return Item("update", False, "an update of the stack is running now",
                    f"wait for it to end (`pulumi stack --stack {stack}` shows it), then `billing status "
                    f"--stack {stack}` again"), None
    if count == 0 or (last is None and count is None):
        # Not a gap: going live is the first `up`, and this stack is ready for it when nothing else is open.
        return Item("update", True, f"nothing deployed yet: going live is `pulumi up --stack {stack} "
                    "--policy-pack policies`; then redeploy the app and run `billing verify`"), None
    if not isinstance(last, str) or verify_record.parse_time(last) is None:
        # Resources, or a time that is not one: something was deployed, and when is what the host and
        # the verify record are judged against. Never "nothing deployed yet".
        return Item("update", False, "the backend gave no readable time for the stack's last update, so "
                    "the host and the verify record cannot be judged against it",
                    f"`pulumi stack --stack {stack}` shows the last update; then `billing status --stack "
                    f"{stack}` again"), None
    return _last_result(stack, project, last, clock), last


def _last_result(stack: str, project: Path, last: str, clock: _Clock) -> Item:
    """The update item of a deployed stack: how its last update (or refresh, destroy, import)
    ended, from `pulumi stack history --json --page-size 1` (pkg/v3 cmd/pulumi/stack/
    stack_history.go, updateInfoJSON: `kind`, `result` of `succeeded`, `failed` or
    `in-progress`, `endTime`). Needs no passphrase: without --show-secrets the CLI shows
    secret config as `[secret]` (seen with CLI 3.274.1)."""
    try:
        listed, wrong = sources.parse_json(pulumi_cli.run(
            ["stack", "history", "--json", "--page-size", "1", "--stack", stack], project, clock.cli()))
    except pulumi_cli.CliError as error:
        wrong = str(error)
    else:
        entry = listed[0] if isinstance(listed, list) and listed else {}
        if wrong or not isinstance(listed, list) or not isinstance(entry, dict) \
                or not isinstance(entry.get("result", ""), str):
            wrong = (f"`pulumi stack history --json` did not answer a list of updates "
                     f"({wrong or 'another value'})")
    if wrong is not None:
        # Unknown is not "succeeded": a forged or garbled answer is a gap, as every other fact here.
        return Item("update", False, f"the last update's result could not be read: {wrong}",
                    f"`pulumi stack history --stack {stack}` shows why; then `billing status --stack "
                    f"{stack}` again")
    kind, result = str(entry.get("kind") or "update")[:20], entry.get("result")
    if result == "failed":
        return Item("update", False, f"the last {kind} of the stack (ended {str(entry.get('endTime'))[:40]}) "
                    "failed: the stack may be part-way through it",
                    f"`pulumi preview --stack {stack} --policy-pack policies` shows what is left, then "
                    f"`pulumi up --stack {stack} --policy-pack policies`", field="failed")
    if result is not None and result != "succeeded":
        return Item("update", False, f"the last {kind} of the stack has not ended ({str(result)[:20]!r})",
                    f"wait for it to end (`pulumi stack history --stack {stack}` shows it), then `billing "
                    "status` again")
    # No entry (a stack brought in by `pulumi stack import` has no history): nothing says it failed.
    return Item("update", True, f"last update {last}" + (" succeeded" if result == "succeeded" else ""))


def _config_items(stack: str, files: Snapshot, plain: Any, cli_ready: bool, clock: _Clock
                  ) -> tuple[list[Item], stack_config.EngineConfig | None]:
    """The settings and keys; with the config holding the real secrets when the CLI could read them."""
    sealed = sorted(k for k, v in plain.items() if isinstance(v, dict) and set(v) == {"secure"})
    settings = sorted(k for k, v in plain.items() if k not in sealed and v is not None)
    items = [Item("config", True, f"settings set: {', '.join(settings) or 'none'}"),
             Item("config", True, f"secrets set: {', '.join(sealed) or 'none'} (names only)")]
    mode = str(plain.get("billing:mode", "test"))
    # Unread, a sealed value counts as set and is named above as not checked; an unset one is reported.
    decrypted = {key: stack_config.placeholder(key, mode if mode in ("test", "live") else "test")
                 for key in sealed}
    read = False
    if cli_ready:
        try:
            decrypted, read = pulumi_cli.decrypted_config(stack, files.root, clock.cli()).values, True
        except pulumi_cli.CliError as error:
            items.append(Item("config", False, f"the stack's secrets could not be read: {error}",
                              "export PULUMI_CONFIG_PASSPHRASE with this stack's passphrase (README step 6)"))
        else:
            items.append(Item("config", True,
                              "keys checked with their real values (decrypted in memory only)"))
    else:
        items.append(Item("config", False, "the keys are not checked until the pulumi CLI can read the stack",
                          f"the items above, then `billing status --stack {stack}` again"))
    config = stack_config.from_stack(files.root, stack, decrypted=decrypted, files=files)
    try:
        deployment = config.load()
    except ConfigError as error:
        # A key the user has not made yet: `billing keys` says how (a prefilled Dashboard link).
        made_by_keys = {*ROLE_KEYS.values(), hosts.named(str(plain.get(hosts.HOST_SETTING) or "")).token}
        items += [Item("config", False, str(problem), f"`billing keys --stack {stack}` says how to make it"
                       if problem.field in made_by_keys else "", field=problem.field)
                  for problem in error.problems]
        notices = _examples(stack, files)
    else:
        # Placeholders stood in for keys that could not be read: then only the settings were checked.
        items.append(Item("config", True, f"every setting and key is valid for {deployment.mode} mode" if read
                          else f"every setting is valid for {deployment.mode} mode; the keys are not checked "
                          "until they can be read"))
        notices = list(deployment.notices)
    # A test stack may run on the repository's examples (warnings there); going live needs them replaced.
    items += [Item("examples", False, f"still the repository's example: {notice}", field=notice.field)
              for notice in notices]
    return items, config if read else None


def _policy_item(project: Path) -> Item:
    """`--policy-pack policies` runs the pack in its own virtualenv, which the CLI does not build
    for a local pack (PulumiPolicy.yaml: `virtualenv: venv`); without it, preview and up stop with
    only "connection refused", or wait at "Loading policy packs" (both seen with CLI 3.274.1).
    `make policy-venv` writes its stamp last."""
    if (project / POLICY_VENV / ".installed").exists():
        return Item("policy", True, f"the policy pack's virtualenv {POLICY_VENV} is built")
    return Item("policy", False, f"the policy pack's virtualenv {POLICY_VENV} is not built: `pulumi preview` "
                "and `up` with `--policy-pack policies` fail without it (a refused connection, or a wait at "
                "\"Loading policy packs\")",
                "`make policy-venv`")


def _examples(stack: str, files: Snapshot) -> list[Any]:
    """The example values a test stack still uses, found with placeholders for what is unset."""
    config = stack_config.from_stack(files.root, stack, files=files)
    try:
        return list(config.load().notices)
    except ConfigError:
        return []
