"""Where a stack stands in going live: the facts `billing status` prints and `billing go-live`
resumes from.

Read-only: it asks the pulumi CLI (its version, `whoami`, `stack ls`, the
stack's decrypted config, into memory only) and reads the stack and catalog
files; it never sends anything to Stripe or the host. Each item names the
go-live step that closes it (`Step`), so a resumed go-live starts at the first
step with an open item and never repeats a finished one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from infra.catalog import stack_config
from infra.catalog.stack_files import open_stack, plain_config
from infra.clients import pulumi_cli
from infra.core import sources
from infra.core.problems import ConfigError
from infra.core.snapshot import Snapshot

# README step 5: older CLIs refuse an adoption whose inputs differ.
MIN_PULUMI = (3, 174)
DEADLINE = 30.0

Step = Literal["cli", "backend", "stack", "config", "examples"]
"""What closes an open item: install the CLI, log in, create the stack, set a setting or a
secret, replace an example value. Later steps (the update, the host, verify) add their own."""


@dataclass(frozen=True)
class Item:
    step: Step
    ok: bool
    what: str
    fix: str = ""
    field: str | None = None
    """The config key an open `config` item is about (`stripe:apiKey`), when it names one."""


@dataclass(frozen=True)
class Readiness:
    stack: str
    items: tuple[Item, ...]
    last_update: str | None
    """When the stack's last update finished, as the backend says; None before the first `up`."""

    @property
    def missing(self) -> list[Item]:
        return [item for item in self.items if not item.ok]

    @property
    def ready(self) -> bool:
        return not self.missing


def read(stack: str, project: Path) -> Readiness:
    """Every fact about `stack`: ConfigError (REFUSED) only for a stack with no file here."""
    files = Snapshot(project)  # the stack's files, read once for every item below
    doc = open_stack(stack, files, None)
    items, last_update = _cli_items(stack, project)
    cli_ready = all(item.ok for item in items)
    items += _config_items(stack, files, plain_config(doc), cli_ready)
    return Readiness(stack, tuple(items), last_update)


def min_version() -> str:
    return ".".join(map(str, MIN_PULUMI))


def _cli_items(stack: str, project: Path) -> tuple[list[Item], str | None]:
    install = f"install the Pulumi CLI {min_version()} or newer: {pulumi_cli.INSTALL}"
    try:
        said = pulumi_cli.run(["version"], project, DEADLINE).strip()
    except pulumi_cli.CliError as error:
        return [Item("cli", False, f"pulumi CLI: {error}", install)], None
    found = re.match(r"v?(\d+)\.(\d+)", said)
    version = (int(found.group(1)), int(found.group(2))) if found else (0, 0)
    if version < MIN_PULUMI:
        return [Item("cli", False, f"pulumi CLI {said[:40]!r} is older than {min_version()}", install)], None
    items = [Item("cli", True, f"pulumi CLI {said[:40]}")]
    try:
        whoami, _ = sources.parse_json(pulumi_cli.run(["whoami", "--json"], project, DEADLINE))
    except pulumi_cli.CliError:
        whoami = None
    backend = whoami.get("url") if isinstance(whoami, dict) else None
    if not isinstance(backend, str):
        items.append(Item("backend", False, "not logged in to a state backend",
                          "`pulumi login --local` (no account), or your team's backend (README step 5)"))
        return items, None
    items.append(Item("backend", True, f"logged in to {backend[:100]}"))
    try:
        listed, _ = sources.parse_json(pulumi_cli.run(["stack", "ls", "--json"], project, DEADLINE))
    except pulumi_cli.CliError:
        listed = None
    # `stack ls --json` (stackSummaryJSON): name (org/project/stack on Pulumi Cloud), lastUpdate.
    summaries = {str(s.get("name", "")).rsplit("/", 1)[-1]: s for s in listed if isinstance(s, dict)} \
        if isinstance(listed, list) else {}
    if stack not in summaries:
        items.append(Item("stack", False, f"stack {stack!r} does not exist in {backend[:100]}",
                          f"`pulumi stack init {stack} --secrets-provider passphrase` (README step 6)"))
        return items, None
    last = summaries[stack].get("lastUpdate")
    last_update = str(last)[:40] if isinstance(last, str) and last else None
    # Not a gap: going live is the first `up`.
    updated = (f"last update {last_update}" if last_update
               else f"no update yet (`pulumi up --stack {stack}` makes the first)")
    items.append(Item("stack", True, f"stack {stack!r} exists; {updated}"))
    return items, last_update


def _config_items(stack: str, files: Snapshot, plain: Any, cli_ready: bool) -> list[Item]:
    sealed = sorted(k for k, v in plain.items() if isinstance(v, dict) and set(v) == {"secure"})
    settings = sorted(k for k, v in plain.items() if k not in sealed and v is not None)
    items = [Item("config", True, f"settings set: {', '.join(settings) or 'none'}"),
             Item("config", True, f"secrets set: {', '.join(sealed) or 'none'} (names only)")]
    mode = str(plain.get("billing:mode", "test"))
    # Unread, a sealed value counts as set and is named above as not checked; an unset one is reported.
    decrypted = {key: stack_config.placeholder(key, mode if mode in ("test", "live") else "test")
                 for key in sealed}
    if cli_ready:
        try:
            decrypted = pulumi_cli.decrypted_config(stack, files.root).values
        except pulumi_cli.CliError as error:
            items.append(Item("config", False, f"the stack's secrets could not be read: {error}",
                              "export PULUMI_CONFIG_PASSPHRASE with this stack's passphrase (README step 6)"))
        else:
            items.append(Item("config", True,
                              "keys checked with their real values (decrypted in memory only)"))
    else:
        items.append(Item("config", False,
                          "the keys are not checked without a working pulumi CLI and backend",
                          "the items above, then `billing status` again"))
    config = stack_config.from_stack(files.root, stack, decrypted=decrypted, files=files)
    try:
        deployment = config.load()
    except ConfigError as error:
        items += [Item("config", False, str(problem), field=problem.field) for problem in error.problems]
        notices = _examples(stack, files)
    else:
        items.append(Item("config", True, f"every setting and key is valid for {deployment.mode} mode"))
        notices = list(deployment.notices)
    # A test stack may run on the repository's examples (warnings there); going live needs them replaced.
    return items + [Item("examples", False, f"still the repository's example: {notice}",
                         field=notice.field) for notice in notices]


def _examples(stack: str, files: Snapshot) -> list[Any]:
    """The example values a test stack still uses, found with placeholders for what is unset."""
    config = stack_config.from_stack(files.root, stack, files=files)
    try:
        return list(config.load().notices)
    except ConfigError:
        return []
