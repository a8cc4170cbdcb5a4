"""`billing status --stack S`: where a stack is in going live, and the command that fixes each gap.

Read-only: it asks the pulumi CLI (its version, `whoami`, `stack ls`, the
stack's decrypted config, into memory only) and reads the stack and catalog
files; it never sends anything to Stripe or the host. Exit OK only when the
stack is ready to go live: the CLI new enough, logged in, the stack created,
every setting and key set and of the right kind (checked with the real keys),
and no example value of this repository left. Otherwise FINDINGS, each gap
with its fix; REFUSED for bad input (no such stack).
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from infra.catalog import stack_config
from infra.catalog.stack_files import open_stack, plain_config
from infra.clients import pulumi_cli
from infra.core import exits, sources
from infra.core.problems import ConfigError, plural
from infra.core.snapshot import Snapshot

# README step 5: older CLIs refuse an adoption whose inputs differ.
MIN_PULUMI = (3, 174)
_DEADLINE = 30.0


@dataclass(frozen=True)
class Item:
    ok: bool
    what: str
    fix: str = ""


def main(args: argparse.Namespace, out: TextIO) -> int:
    project: Path = args.project
    stack: str = args.stack
    files = Snapshot(project)  # the stack's files, read once for every item below
    doc = open_stack(stack, files, None)
    items = _cli_items(stack, project)
    cli_ready = all(item.ok for item in items)
    items += _config_items(stack, files, plain_config(doc), cli_ready)
    missing = [item for item in items if not item.ok]
    print(f"status of stack {stack!r}", file=out)
    for item in items:
        print(f"  {'ok' if item.ok else 'TODO':<4}  {item.what}", file=out)
        if item.fix:
            print(f"        fix: {item.fix}", file=out)
    if missing:
        print(f"not ready to go live: {plural(len(missing), 'item')} to do, each with its fix above",
              file=out)
        return exits.FINDINGS
    print(f"ready to go live: next `pulumi preview --stack {stack} --policy-pack policies`", file=out)
    return exits.OK


def _cli_items(stack: str, project: Path) -> list[Item]:
    install = f"install the Pulumi CLI {'.'.join(map(str, MIN_PULUMI))} or newer: {pulumi_cli.INSTALL}"
    try:
        said = pulumi_cli.run(["version"], project, _DEADLINE).strip()
    except pulumi_cli.CliError as error:
        return [Item(False, f"pulumi CLI: {error}", install)]
    found = re.match(r"v?(\d+)\.(\d+)", said)
    version = (int(found.group(1)), int(found.group(2))) if found else (0, 0)
    if version < MIN_PULUMI:
        return [Item(False, f"pulumi CLI {said[:40]!r} is older than {'.'.join(map(str, MIN_PULUMI))}",
                     install)]
    items = [Item(True, f"pulumi CLI {said[:40]}")]
    try:
        whoami, _ = sources.parse_json(pulumi_cli.run(["whoami", "--json"], project, _DEADLINE))
    except pulumi_cli.CliError:
        whoami = None
    backend = whoami.get("url") if isinstance(whoami, dict) else None
    if not isinstance(backend, str):
        items.append(Item(False, "not logged in to a state backend",
                          "`pulumi login --local` (no account), or your team's backend (README step 5)"))
        return items
    items.append(Item(True, f"logged in to {backend[:100]}"))
    try:
        listed, _ = sources.parse_json(pulumi_cli.run(["stack", "ls", "--json"], project, _DEADLINE))
    except pulumi_cli.CliError:
        listed = None
    # `stack ls --json` (stackSummaryJSON): name (org/project/stack on Pulumi Cloud), lastUpdate.
    summaries = {str(s.get("name", "")).rsplit("/", 1)[-1]: s for s in listed if isinstance(s, dict)} \
        if isinstance(listed, list) else {}
    if stack not in summaries:
        items.append(Item(False, f"stack {stack!r} does not exist in {backend[:100]}",
                          f"`pulumi stack init {stack} --secrets-provider passphrase` (README step 6)"))
        return items
    last = summaries[stack].get("lastUpdate")
    # Not a gap: going live is the first `up`.
    updated = (f"last update {str(last)[:40]}" if last
               else f"no update yet (`pulumi up --stack {stack}` makes the first)")
    items.append(Item(True, f"stack {stack!r} exists; {updated}"))
    return items


def _config_items(stack: str, files: Snapshot, plain: Any, cli_ready: bool) -> list[Item]:
    sealed = sorted(k for k, v in plain.items() if isinstance(v, dict) and set(v) == {"secure"})
    settings = sorted(k for k, v in plain.items() if k not in sealed and v is not None)
    items = [Item(True, f"settings set: {', '.join(settings) or 'none'}"),
             Item(True, f"secrets set: {', '.join(sealed) or 'none'} (names only)")]
    mode = str(plain.get("billing:mode", "test"))
    # Unread, a sealed value counts as set and is named above as not checked; an unset one is reported.
    decrypted = {key: stack_config.placeholder(key, mode if mode in ("test", "live") else "test")
                 for key in sealed}
    if cli_ready:
        try:
            decrypted = pulumi_cli.decrypted_config(stack, files.root).values
        except pulumi_cli.CliError as error:
            items.append(Item(False, f"the stack's secrets could not be read: {error}",
                              "export PULUMI_CONFIG_PASSPHRASE with this stack's passphrase (README step 6)"))
        else:
            items.append(Item(True, "keys checked with their real values (decrypted in memory only)"))
    else:
        items.append(Item(False, "the keys are not checked without a working pulumi CLI and backend",
                          "the items above, then `billing status` again"))
    config = stack_config.from_stack(files.root, stack, decrypted=decrypted, files=files)
    try:
        deployment = config.load()
    except ConfigError as error:
        items += [Item(False, str(problem)) for problem in error.problems]
        notices = _examples(stack, files)
    else:
        items.append(Item(True, f"every setting and key is valid for {deployment.mode} mode"))
        notices = list(deployment.notices)
    # A test stack may run on the repository's examples (warnings there); going live needs them replaced.
    return items + [Item(False, f"still the repository's example: {notice}") for notice in notices]


def _examples(stack: str, files: Snapshot) -> list[Any]:
    """The example values a test stack still uses, found with placeholders for what is unset."""
    config = stack_config.from_stack(files.root, stack, files=files)
    try:
        return list(config.load().notices)
    except ConfigError:
        return []
