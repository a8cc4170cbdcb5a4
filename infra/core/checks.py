"""One finding of `verify`: pass, warn or fail, what it means and how to fix it.

Every probe (webhook, Stripe account, hosting, payment) reports in this shape,
and `write` prints every run of them, so the table, the JSON and the exit
status are the same whichever ran.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal, TextIO

from infra.core.escape import terminal
from infra.core.problems import plural

Status = Literal["pass", "warn", "fail"]
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    meaning: str
    fix: str = ""
    http_status: int | None = None
    seconds: float | None = None


def failed(checks: Sequence[Check]) -> bool:
    return any(check.status == "fail" for check in checks)


Run = tuple[str, Sequence[Check]]
"""What one part of `verify` found, under its title."""


def write(runs: Sequence[Run], out: TextIO, in_json: bool, stack: str | None = None) -> None:
    """Every run as a table, a blank line between; or as JSON: one run's object, or, for several,
    every run's with the stack and whether all passed."""
    if in_json:
        data = _as_json(*runs[0]) if len(runs) == 1 else {
            "stack": stack, "ok": not any(failed(found) for _, found in runs),
            "results": [_as_json(title, found) for title, found in runs]}
        json.dump(data, out, indent=2)
        out.write("\n")
        return
    for index, (title, found) in enumerate(runs):
        if index:
            print(file=out)
        _render(title, found, out)


def _as_json(title: str, checks: Sequence[Check]) -> dict[str, Any]:
    return {"target": title, "ok": not failed(checks), "checks": [asdict(c) for c in checks]}


def _render(title: str, checks: Sequence[Check], out: TextIO) -> None:
    # Names and meanings quote what servers answered (IDs, URLs, messages): escaped, line by line.
    print(terminal(f"verify {title}"), file=out)
    width = max((len(c.name) for c in checks), default=0) + 2
    fixes_shown: set[str] = set()
    for check in checks:
        timing = f" {check.http_status or '-'} {check.seconds:.2f}s" if check.seconds is not None else ""
        line = f"  {check.status.upper():<4} {check.name:<{width}}{timing}  {check.meaning}"
        print(terminal(line), file=out)
        # One cause failing several checks (an endpoint that is down) gets its fix once.
        if check.fix and check.status != "pass" and check.fix not in fixes_shown:
            fixes_shown.add(check.fix)
            print(terminal(f"       fix: {check.fix}"), file=out)
    counts = {s: sum(c.status == s for c in checks) for s in ("pass", "warn", "fail")}
    print(f"{counts['pass']} passed, {plural(counts['warn'], 'warning')}, {counts['fail']} failed", file=out)
