"""`billing diff --base REV [--stack S] [--format text|markdown|json]`.

Loads the stack at git revision REV (revision.py: its stack file and the catalog
it names, read from that one commit, bounded and validated like the working tree) and the
working tree, and prints the diff package's change list. A base that no longer
validates is still compared where its raw files allow (removed plans and
prices), with its own problems listed. Exit 0: nothing risky; 1: warnings;
2: an error (or a working tree that does not validate).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from infra.catalog import Deployment, stack_config, stack_files
from infra.commands import diff
from infra.commands.diff import Change
from infra.commands.diff import base as diff_base
from infra.commands.diff.change import FieldChange
from infra.commands.diff.revision import Revision, RevisionError, state_at
from infra.core import exits
from infra.core.escape import colour_wanted, markdown_code, markdown_text, paint, terminal
from infra.core.problems import ConfigError
from infra.core.snapshot import Snapshot

MARKER = "<!-- billing-diff -->"  # lets a workflow find and update its own comment
ICONS = {"error": ":x: error", "warn": ":warning: warning", "info": "in place / info"}


@dataclass(frozen=True)
class StackDiff:
    stack: str
    mode: str
    changes: list[Change]


def main(args: argparse.Namespace, out: TextIO) -> int:
    project: Path = args.project
    results: list[StackDiff] = []
    try:
        here = stack_files.stacks(project)
        revision = Revision.of(project, args.base)
        # Both sides: a stack file the change deletes or renames is a change, never "no billing change".
        both = {*revision.names(), *(f"Pulumi.{s}.yaml" for s in here)}
        names = [args.stack] if args.stack else stack_files.stacks_named(both)
        files = Snapshot(project)  # the working tree, read once for every stack compared
        for stack in names:
            gone = _removed(project, stack, revision) if stack not in here else None
            if gone is not None:
                results.append(gone)
                continue
            config = stack_config.from_stack(project, stack, files=files)
            head = config.load()
            changes = compare_with_base(stack, revision, head)
            results.append(StackDiff(head.stack, head.mode, changes))
    except ConfigError as error:
        print(error.render(), file=sys.stderr)
        return exits.REFUSED
    except RevisionError as error:
        print(f"--base: {error}", file=sys.stderr)
        return exits.REFUSED
    if args.format == "markdown":
        markdown(results, args.base, out)
    elif args.format == "json":
        as_json(results, args.base, out)
    else:
        text(results, args.base, out, explain=args.explain, colour=colour_wanted(out, os.environ))
    return max((diff.exit_status(result.changes) for result in results), default=exits.OK)


def _removed(project: Path, stack: str, revision: Revision) -> StackDiff | None:
    """A stack whose file is at the base and not here (deleted, or renamed): live, an error."""
    base = state_at(stack, revision)
    if not base.existed or stack_files.stack_file(project, stack).exists():
        return None
    rev = revision.rev
    mode = base.deployment.mode if base.deployment else str(base.mode or stack)
    name = f"Pulumi.{stack}.yaml"
    consequence = ("every object it made stays in Stripe, protected, and no `up` of it can run"
                   if mode == "live" else "every object it made stays in Stripe")
    change = Change("stack", "warn" if mode == "test" else "error", name, (
        f"removed: {name} is at {rev} and not here, so the stack's settings are gone: {consequence}; a "
        f"renamed file is a new stack whose first `up` creates every object again. Restore it (`git "
        f"checkout {rev} -- {name}`); retire a stack as its own reviewed step (`pulumi destroy`, then "
        f"`pulumi stack rm {stack}`)"))
    return StackDiff(stack, mode, [change])


def compare_with_base(stack: str, revision: Revision, head: Deployment) -> list[Change]:
    base = state_at(stack, revision)
    if base.deployment is not None or not base.existed:
        return diff.compare(base.deployment, head)
    # The base does not validate: compare what its raw files still show, never "all new, exit 0".
    return diff_base.compare_broken(base.catalog, base.problems, head, revision.rev)


def _counts(changes: Sequence[Change]) -> str:
    n = {s: sum(c.severity == s for c in changes) for s in ("error", "warn", "info")}

    def plural(count: int, word: str) -> str:
        return f"{count} {word}{'' if count == 1 else 's'}"

    return f"{plural(n['error'], 'error')}, {plural(n['warn'], 'warning')}, {n['info']} in place / info"


# The step a change predicts, as `pulumi preview` marks it and as the totals line counts it.
MARKS = {"create": "+", "update": "~", "no-op": "~", "not cleared": "~", "refused by Stripe": "~",
         "replace": "+-", "delete": "-"}
_COUNTED = {"+": "create", "~": "change", "+-": "replace", "-": "delete"}
_STRENGTH = ("~", "+", "-", "+-")  # a resource's mark is its strongest change's
_STYLE = {"+": "create", "~": "update", "+-": "replace", "-": "delete"}


def totals(results: Sequence[StackDiff]) -> str:
    """`1 to create, 2 to change, 0 to replace, 0 to delete`: each resource of each stack once."""
    marks: dict[tuple[str, str, str], str] = {}
    for result in results:
        for change in result.changes:
            mark = MARKS.get(change.step)
            if change.resource is None or mark is None:
                continue
            key = (result.stack, *change.resource)
            marks[key] = max(marks.get(key, mark), mark, key=_STRENGTH.index)
    counts = {word: sum(_COUNTED[m] == word for m in marks.values()) for word in _COUNTED.values()}
    return ", ".join(f"{count} to {word}" for word, count in counts.items())


@dataclass
class _Entry:
    """One resource (or one resource-less change) across the stacks it affects."""

    resource: tuple[str, str] | None
    stacks: list[str] = field(default_factory=list)
    mark: str = ""
    fields: list[FieldChange] = field(default_factory=list)
    advice: dict[tuple[str, str, str], list[str]] = field(default_factory=dict)
    """(severity, subject, message) -> the stacks it is said of."""


def _entries(results: Sequence[StackDiff], group: str, explain: bool) -> list[_Entry]:
    """The group's changes, each catalog change once with the stacks it affects. A resource is one
    entry for the stacks whose moves of its fields are the same, and one per stack where they differ
    (a coupon of one name in each stack, changed each its own way): a move is never shown as every
    listed stack's when it is one stack's."""
    moves: dict[tuple[str, tuple[str, str]], tuple[FieldChange, ...]] = {}
    for result in results:
        for change in result.changes:
            if change.group == group and change.resource is not None:
                found = moves.get((result.stack, change.resource), ())
                moves[(result.stack, change.resource)] = found + tuple(f for f in change.fields
                                                                       if f not in found)
    entries: dict[Any, _Entry] = {}
    for result in results:
        for change in (c for c in result.changes if c.group == group):
            message = change.explained() if explain else change.message
            key = (change.resource, moves[(result.stack, change.resource)]) if change.resource \
                else (change.severity, change.subject, message)
            entry = entries.setdefault(key, _Entry(change.resource))
            if result.stack not in entry.stacks:
                entry.stacks.append(result.stack)
            mark = MARKS.get(change.step, "")
            if mark:
                entry.mark = max(entry.mark or mark, mark, key=_STRENGTH.index)
            entry.fields += [f for f in change.fields if f not in entry.fields]
            stacks = entry.advice.setdefault((change.severity, change.subject, message), [])
            if result.stack not in stacks:
                stacks.append(result.stack)
    return list(entries.values())


def text(results: Sequence[StackDiff], rev: str, out: TextIO, explain: bool = False,
         colour: bool = False) -> None:
    """Like `terraform plan`: each resource with its mark (+ ~ - +-) and every field old -> new, then
    what it means; a catalog change once, with the stacks it affects; one totals line at the end.
    Every line is escaped first; colour is added to the program's own marks and words after."""
    several = len(results) > 1

    def say(line: str, style: str = "") -> None:
        print(paint(terminal(line), style, colour) if style else terminal(line), file=out)

    for result in results:
        say(f"billing diff: stack {result.stack!r} ({result.mode} mode) against {rev}: "
            f"{_counts(result.changes)}", "bold")
        if not result.changes:
            say("  no billing change")
    for group in diff.GROUPS:
        entries = _entries(results, group, explain)
        if not entries:
            continue
        say("")
        say(f"{group}:", "bold")
        for entry in entries:
            label = f"  [{', '.join(entry.stacks)}]" if several else ""
            if entry.resource is not None and entry.mark:
                mark = paint(entry.mark, _STYLE[entry.mark], colour)
                print(f"{mark} {terminal(f'{entry.resource[0]}  {entry.resource[1]}{label}')}", file=out)
                label = ""  # said once, on the resource
            for moved in entry.fields:
                say(f"    {moved.path}: {moved.old} → {moved.new}")
            for (severity, subject, message), stacks in entry.advice.items():
                said = label or (f"  [{', '.join(stacks)}]" if several and stacks != entry.stacks else "")
                word = paint(f"{severity.upper():<5}", severity, colour)
                print(f"  {word} {terminal(f'{subject}: {message}{said}')}", file=out)
    say("")
    say(totals(results), "bold")


def as_json(results: Sequence[StackDiff], rev: str, out: TextIO) -> None:
    """For tools: what the text says, as data. `stacks` gives each stack's mode, exit status and
    counts; `changes` each catalog change once, with the `stacks` it affects (a change that reads
    differently per stack is one entry per wording), its resource and predicted step.
    JSON escapes every control character itself; nothing here is rendered."""
    changes: dict[Any, dict[str, Any]] = {}
    for result in results:
        for c in result.changes:
            entry = {"group": c.group, "severity": c.severity, "subject": c.subject, "message": c.explained(),
                     "resource": {"type": c.resource[0], "name": c.resource[1]} if c.resource else None,
                     "step": c.step or None,
                     "fields": [{"path": f.path, "old": f.old, "new": f.new} for f in c.fields],
                     "sources": list(c.sources)}
            found = changes.setdefault(json.dumps(entry, sort_keys=True), {**entry, "stacks": []})
            if result.stack not in found["stacks"]:
                found["stacks"].append(result.stack)
    json.dump({"base": rev, "stacks": [{
        "stack": result.stack, "mode": result.mode, "exit": diff.exit_status(result.changes),
        "counts": {s: sum(c.severity == s for c in result.changes) for s in ("error", "warn", "info")},
    } for result in results], "changes": list(changes.values()), "totals": totals(results)},
        out, indent=2, ensure_ascii=True)
    out.write("\n")


def markdown(results: Sequence[StackDiff], rev: str, out: TextIO) -> None:
    """The text's content as a PR comment: each stack's counts, then per group one table whose rows
    are the catalog changes, each once with the stacks it affects, errors first."""
    print(MARKER, file=out)
    # Plan names, portal text and the revision are the PR author's: every one escaped for markdown.
    print(f"## Billing diff against {markdown_code(rev)}\n\n| stack | mode | findings |\n|---|---|---|",
          file=out)
    for result in results:
        said = _counts(result.changes) if result.changes else "no billing change"
        print(f"| {markdown_code(result.stack)} | {markdown_text(result.mode)} | {said} |", file=out)
    rank = ("error", "warn", "info")
    for group in diff.GROUPS:
        entries = sorted(_entries(results, group, explain=True),
                         key=lambda e: min(rank.index(severity) for severity, _, _ in e.advice))
        if not entries:
            continue
        print(f"\n#### {group.title()}\n\n| | resource | stacks | what it means |\n|---|---|---|---|",
              file=out)
        for entry in entries:
            resource = (f"{markdown_code(entry.mark)} {markdown_code(entry.resource[0])} "
                        f"{markdown_code(entry.resource[1])}" if entry.resource and entry.mark else "")
            moves = "".join(f"<br>{markdown_code(f.path)}: {markdown_code(f.old)} → {markdown_code(f.new)}"
                            for f in entry.fields)
            for (severity, subject, message), stacks in entry.advice.items():
                print(f"| {ICONS[severity]} | {resource} | {', '.join(markdown_code(s) for s in stacks)} | "
                      f"{markdown_code(subject)}: {markdown_text(message)}{moves} |", file=out)
                moves = ""  # said once, on the resource's first row
    print(f"\n**{totals(results)}**", file=out)
    print("\nExit status: 0 nothing risky, 1 warnings, 2 errors. Generated by `billing diff`.",
          file=out)
