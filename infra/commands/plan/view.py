"""`billing plan`: an offline plan as a reviewer reads it, or as JSON for machines.

The text leads with a summary (counts by kind, values per host target, what
is protected, what would be adopted), shows the values written to the host as
one table of name x target (each host says how its resources map to it), and
nests long inputs instead of printing them on one line.
The JSON carries every registration whole. Secrets show as [secret] in both:
`offline.display` hides them before anything here sees them.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
import textwrap
from collections import Counter
from collections.abc import Sequence
from typing import Any, TextIO

from infra.commands.plan import offline
from infra.commands.plan.offline import Registration
from infra.core.escape import fenced, paint, terminal
from infra.hosts import HOSTS, Host, Target

OFFLINE_NOTE = (
    "This is an OFFLINE PLAN, not a provider preview: the real program ran under Pulumi's SDK "
    "mock runtime and nothing was sent to Stripe or the host. IDs shown as <name.id> are "
    "placeholders for what the provider assigns; secrets show as [secret]."
)
NOTE_LINES = (
    "This is an OFFLINE PLAN, not a provider preview: nothing was sent to Stripe or the host.",
    "IDs shown as <name.id> are placeholders for what the provider assigns; secrets show as [secret].",
)
"""OFFLINE_NOTE as the text plan prints it, each line within WIDTH."""
WIDTH = 100
"""No line of the text plan is longer (but one holding an unbroken name); inputs that fit stay on
one line, longer ones nest (--verbose) or are summarised (the default)."""
_PLUMBING = ("provider", "component")


def _host(r: Registration) -> Host | None:
    """The host whose values this registration holds, if any."""
    return next((host for host in HOSTS.values() if host.value_type == r.type), None)


def _package(r: Registration) -> str:
    host = _host(r)
    return host.key if host else r.type.split(":", 1)[0]


def _kind(r: Registration) -> str:
    """`promotion code` for stripe:index/promotionCode:PromotionCode; `provider` for a provider."""
    if r.type.startswith("pulumi:providers:"):
        return "provider"
    if _package(r) == "billing":
        return "component"
    return re.sub(r"(?<!^)(?=[A-Z])", " ", r.type.rsplit(":", 1)[-1]).lower()


def _slots(r: Registration) -> list[tuple[str, Target]]:
    host = _host(r)
    return host.slots(r.inputs) if host else []


def _tabled(r: Registration) -> bool:
    """A host value the table shows whole; one with any other input is listed in full."""
    host = _host(r)
    return host is not None and set(r.inputs) <= host.table_inputs


def resources(plan: offline.Plan) -> list[Registration]:
    """The registrations as shown: secrets hidden, sorted (registration order depends on async timing)."""
    return [dataclasses.replace(r, inputs=offline.display(r.inputs))
            for r in sorted(plan.resources, key=lambda r: (r.type, r.name))]


def to_json(plan: offline.Plan, placeholders: Sequence[str], out: TextIO) -> None:
    found = resources(plan)
    json.dump({
        "stack": plan.stack, "offline": True, "note": OFFLINE_NOTE, "placeholders": list(placeholders),
        "summary": {"resources": len(found), "by_type": dict(Counter(r.type for r in found)),
                    "host_targets": _per_target(found)},
        "resources": [{"type": r.type, "name": r.name, "inputs": r.inputs,
                       **({"protect": True} if r.protect else {}),
                       **({"adopts": r.import_id} if r.import_id else {})} for r in found],
        "outputs": offline.display(plan.outputs), "notices": plan.notices,
    }, out, indent=2, default=str)
    out.write("\n")


def to_text(plan: offline.Plan, placeholders: Sequence[str], out: TextIO, verbose: bool = False,
            colour: bool = False) -> None:
    # Names, metadata keys and adopted IDs are the catalog's and the account's: escaped, line by line;
    # colour goes on the program's own marks and headings after that.
    print("\n".join(_painted(terminal(line), colour) for line in _text(plan, placeholders, verbose)),
          file=out)


def to_markdown(plan: offline.Plan, placeholders: Sequence[str], out: TextIO) -> None:
    """The whole text plan (every input) as one fenced block that no line of it can close (the PR job
    summary)."""
    print(fenced(_text(plan, placeholders, verbose=True)), file=out)


_MARK_STYLES = {"+ ": "create", "= ": "info", "  ! ": "warn"}
_HEADINGS = re.compile(r"^(Summary:|Outputs:|Notices from the program:|Values on the host|"
                       r"Providers and components|[A-Z][a-z]+ \(\d+\)$|\d+ to create, )")


def _painted(line: str, colour: bool) -> str:
    """A line already escaped, its mark or heading coloured (for a terminal only)."""
    if not colour:
        return line
    for prefix, style in _MARK_STYLES.items():
        if line.startswith(prefix):
            return paint(prefix.rstrip(), style, colour) + line[len(prefix.rstrip()):]
    return paint(line, "bold", colour) if _HEADINGS.match(line) else line


def totals(found: Sequence[Registration]) -> str:
    """`27 to create, 0 to change, 0 to replace, 0 to delete`: an offline plan only creates (or
    adopts: `, 2 to import`)."""
    adopted = sum(bool(r.import_id) for r in found)
    line = f"{len(found) - adopted} to create, 0 to change, 0 to replace, 0 to delete"
    return line + (f", {adopted} to import" if adopted else "")


def _text(plan: offline.Plan, placeholders: Sequence[str], verbose: bool = False) -> list[str]:
    found = resources(plan)
    mode = plan.outputs.get("mode")
    lines = [f"Offline plan of stack {plan.stack!r}" + (f" ({mode} mode)" if isinstance(mode, str) else ""),
             *NOTE_LINES, ""]
    lines += _summary(found, placeholders)
    variables = [r for r in found if _tabled(r)]
    plumbing = [r for r in found if _kind(r) in _PLUMBING]
    for package in dict.fromkeys(_package(r) for r in found if r not in variables and r not in plumbing):
        group = [r for r in found if _package(r) == package and r not in variables and r not in plumbing]
        lines += ["", f"{package.capitalize()} ({len(group)})"]
        lines += [line for r in group for line in _block(r, verbose)]
    if variables:
        lines += ["", *_value_table(variables)]
    if plumbing:
        lines += ["", f"Providers and components ({len(plumbing)})"]
        lines += [line for r in plumbing for line in _block(r, verbose)]
    lines += ["", "Outputs:" if verbose else "Outputs (--verbose for every value):"]
    show = _nested if verbose else _brief
    lines += [line for key, value in plan.outputs.items() for line in show(key, offline.display(value), 2)]
    if plan.notices:
        lines += ["", "Notices from the program:"]
        lines += [line for notice in plan.notices for line in _wrapped(notice, "  ! ", "    ")]
    lines += ["", totals(found)]
    return lines


def _wrapped(text: str, first: str, rest: str) -> list[str]:
    """A sentence of ours (or the program's) as lines within WIDTH; a name longer than a line stays whole."""
    return textwrap.wrap(text, WIDTH, initial_indent=first, subsequent_indent=rest,
                         break_long_words=False, break_on_hyphens=False) or [first.rstrip()]


def placeholder_note(placeholders: Sequence[str]) -> str:
    if not placeholders:
        return ""
    return f" Credentials not supplied through PULUMI_CONFIG use placeholders: {', '.join(placeholders)}."


def _placeholder_row(placeholders: Sequence[str]) -> list[str]:
    """`  credentials:  4  placeholders for stripe:apiKey, ...`: what was not supplied, each named once."""
    if not placeholders:
        return []
    return _wrapped(f"{len(placeholders):>3}  placeholders for {', '.join(placeholders)} (not supplied "
                    "through PULUMI_CONFIG)", f"  {'credentials:':<12}", " " * 19)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _per_target(found: Sequence[Registration]) -> dict[str, dict[str, int]]:
    """Host values per target: how many, and how many of them sensitive."""
    targets: dict[str, dict[str, int]] = {}
    for r in found:
        for _, target in _slots(r):
            counts = targets.setdefault(target.name, {"values": 0, "sensitive": 0})
            counts["values"] += 1
            counts["sensitive"] += target.sensitive
    return targets


def _summary(found: Sequence[Registration], placeholders: Sequence[str] = ()) -> list[str]:
    lines = [f"Summary: {len(found)} resources would be registered"]
    managed = [r for r in found if _kind(r) not in _PLUMBING]
    for package in dict.fromkeys(_package(r) for r in managed):
        members = [r for r in managed if _package(r) == package]
        lines += _counted(f"{package}:", members)
        for target, counts in _per_target(members).items():  # a host's values, per target
            sensitive = (f"{counts['sensitive']} sensitive" if 0 < counts["sensitive"] < counts["values"]
                         else "all sensitive" if counts["sensitive"] else "none sensitive")
            lines.append(f"  {'':<12}     {target}: {_plural(counts['values'], 'value')} ({sensitive})")
    plumbing = [r for r in found if _kind(r) in _PLUMBING]
    if plumbing:
        lines += _counted("plumbing:", plumbing)
    lines.append(_protected(managed, [r for r in found if r.protect and _kind(r) == "provider"]))
    adopted = [r for r in found if r.import_id]
    listing = ", ".join(f"{r.name} ({r.import_id})" for r in adopted)
    lines.append(f"  {'adopted:':<12}{len(adopted):>3}  {listing}" if adopted
                 else f"  {'adopted:':<12}  -  nothing: every resource would be created")
    for host in dict.fromkeys(h for h in map(_host, found) if h is not None):
        lines += _wrapped(f" -  {host.title} values: {host.existing_values}", f"  {'existing:':<13}",
                          " " * 19)
    return lines + _placeholder_row(placeholders)


def _protected(managed: Sequence[Registration], providers: Sequence[Registration]) -> str:
    """`every stripe resource (9), 1 provider`: what Pulumi refuses to delete or replace."""
    parts = []
    for package in dict.fromkeys(_package(r) for r in managed):
        members = [r for r in managed if _package(r) == package]
        kept = [r for r in members if r.protect]
        if kept and len(kept) == len(members):
            parts.append(f"every {package} resource ({len(kept)})")
        elif kept:
            parts.append(", ".join(_plural(n, k) for k, n in Counter(_kind(r) for r in kept).items()))
    if providers:
        parts.append(_plural(len(providers), "provider"))
    count = sum(r.protect for r in managed) + len(providers)
    if not count:
        return f"  {'protected:':<12}  -  nothing"
    return f"  {'protected:':<12}{count:>3}  {', '.join(parts)}: Pulumi refuses to delete or replace them"


def _counted(label: str, found: Sequence[Registration]) -> list[str]:
    """`  stripe:       9  2 products, 3 prices, ...`, wrapped within WIDTH."""
    kinds = Counter(_kind(r) for r in found)
    return _wrapped(", ".join(_plural(n, k) for k, n in kinds.items()), f"  {label:<12}{len(found):>3}  ",
                    " " * 19)


def _block(r: Registration, verbose: bool = True) -> list[str]:
    sign, adopts = ("=", f"  (adopts {r.import_id})") if r.import_id else ("+", "")
    flags = "  [protected]" if r.protect and _kind(r) != "component" else ""
    lines = [f"{sign} {r.type}  {r.name}{adopts}{flags}"]
    show = _nested if verbose else _brief
    for key, value in sorted(r.inputs.items()):
        lines += show(key, value, 4)
    return lines


def _brief(key: str, value: Any, indent: int) -> list[str]:
    """`key: value` on one line: whole when it fits, else a map by its keys and a list by its length
    (so no name is listed twice); --verbose nests it whole."""
    inline = f"{' ' * indent}{key}: {_compact(value)}"
    if len(inline) <= WIDTH or not isinstance(value, dict | list) or not value:
        return [inline]
    if isinstance(value, list):
        return [f"{' ' * indent}{key}: [{_plural(len(value), 'item')}]"]
    names = [str(name) for name in sorted(value, key=str)]
    for shown in range(len(names), 0, -1):
        more = f", ... {len(names) - shown} more" if shown < len(names) else ""
        line = f"{' ' * indent}{key}: {{{', '.join(names[:shown])}{more}}}"
        if len(line) <= WIDTH:
            return [line]
    return [f"{' ' * indent}{key}: {{{_plural(len(names), 'key')}}}"]


def _compact(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False, sort_keys=True)


def _nested(key: str, value: Any, indent: int) -> list[str]:
    """`key: value` on one line when it fits; otherwise one line per member, YAML-like.

    A long list of plain values wraps like a paragraph instead of taking a line each.
    """
    pad = " " * indent
    inline = f"{pad}{key}: {_compact(value)}"
    if not isinstance(value, dict | list) or not value or len(inline) <= WIDTH:
        return [inline]
    if isinstance(value, list) and not any(isinstance(item, dict | list) for item in value):
        return textwrap.wrap(inline, WIDTH, subsequent_indent=" " * (len(pad) + len(key) + 3),
                             break_long_words=False, break_on_hyphens=False)
    lines = [f"{pad}{key}:"]
    if isinstance(value, dict):
        for child, member in sorted(value.items()):
            lines += _nested(str(child), member, indent + 2)
        return lines
    for item in value:
        if isinstance(item, dict) and item:
            members = [line for child, member in sorted(item.items())
                       for line in _nested(str(child), member, indent + 4)]
            lines += [f"{pad}  - {members[0].lstrip()}", *members[1:]]
        else:
            lines.append(f"{pad}  - {_compact(item)}")
    return lines


def _value_table(values: Sequence[Registration]) -> list[str]:
    """One row per name, one column per target: sensitive or plain, or `-` where it is not written."""
    rows: dict[str, dict[str, str]] = {}
    for r in values:
        for name, target in _slots(r):
            cell = "sensitive" if target.sensitive else "plain"
            rows.setdefault(name, {})[target.name] = f"= {cell}" if r.import_id else cell
    targets = list(dict.fromkeys(target for cells in rows.values() for target in cells))
    shared = {key: value for key, value in sorted(values[0].inputs.items())
              if key != "comment" and all(r.inputs.get(key) == value for r in values)}
    holds = _what_each_holds(values)
    hosts = ", ".join(dict.fromkeys(_package(r) for r in values))
    lines = [f"Values on the host ({len(values)} {hosts} resources: one per name and target)"]
    if shared:
        lines += _nested("the same on every one", shared, 2)
    width = max(len("name"), *(len(name) for name in rows)) + 2
    columns = [max(len(target), len("sensitive"), *(len(c.get(target, "")) for c in rows.values())) + 2
               for target in targets]

    def row(first: str, cells: Sequence[str], last: str) -> str:
        return ("  " + first.ljust(width) + "".join(c.ljust(w) for c, w in zip(cells, columns, strict=True))
                + last).rstrip()

    lines.append(row("name", targets, "holds" if holds else ""))
    lines += [row(name, [cells.get(target, "-") for target in targets], holds.get(name, ""))
              for name, cells in rows.items()]
    if any(r.import_id for r in values):
        lines.append("  (= already on the host: adopted, then given the stack's value)")
    return lines


def _what_each_holds(values: Sequence[Registration]) -> dict[str, str]:
    """Each value's comment without the words every comment shares (`Managed by ... stack test: `)."""
    comments = {name: str(r.inputs["comment"]) for r in values if r.inputs.get("comment")
                for name, _ in _slots(r)}
    texts = list(dict.fromkeys(comments.values()))
    if len(texts) < 2:
        return comments
    prefix = _shared_start(texts)
    prefix = prefix[: prefix.rfind(": ") + 2] if ": " in prefix else ""  # cut at a clause, never mid-word
    suffix = _shared_start([t[::-1] for t in texts])[::-1]
    suffix = suffix[suffix.find(". "):] if ". " in suffix else ""
    return {name: text[len(prefix): len(text) - len(suffix)] for name, text in comments.items()}


def _shared_start(texts: Sequence[str]) -> str:
    same = itertools.takewhile(lambda chars: len(set(chars)) == 1, zip(*texts, strict=False))
    return "".join(chars[0] for chars in same)
