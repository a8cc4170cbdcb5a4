"""What `billing verify` leaves on a stack, and `billing status` reads back: one stack tag per check.

`billing:verify:<check>` holds `<pass|fail> <UTC RFC 3339 time>`, the time the
check started. Stack tags are the backend's metadata kept beside the stack's
state, not in it (the file backend writes `<stack>.pulumi-tags` next to the
checkpoint: pkg/v3 backend/diy/stack_tags.go), so recording changes neither
the resources nor the stack's last update time. A tag travels in the CLI's
argv, so it holds an outcome and a time, never anything secret.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from infra.clients import pulumi_cli

CHECKS = ("webhook", "stripe", "hosting", "payment")
"""Every check `verify` records: its three read-only parts, and `verify payment`."""
TAG_PREFIX = "billing:verify:"
Outcome = Literal["pass", "fail"]
_VALUE = re.compile(r"(pass|fail) (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z)")


@dataclass(frozen=True)
class Record:
    outcome: Outcome
    at: datetime


def tag(check: str) -> str:
    return f"{TAG_PREFIX}{check}"


def rfc3339(moment: datetime) -> str:
    """`2026-12-06T08:41:00.123Z`: UTC to the millisecond, rounded down (never later than the
    event), as the CLI writes a stack's last update (pkg/v3 cmd/pulumi/cmd/time.go, FormatTime)."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_time(text: str) -> datetime | None:
    """An RFC 3339 time as the CLI and this module write it (`...Z`, or an offset), else None."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def parse(value: str) -> Record | None:
    """A tag's value as `write` made it; None for anything else (set by hand, or garbled)."""
    found = _VALUE.fullmatch(value)
    moment = parse_time(found.group(2)) if found else None
    if found is None or moment is None:
        return None
    outcome: Outcome = "pass" if found.group(1) == "pass" else "fail"
    return Record(outcome, moment)


def write(stack: str, project: Path, outcomes: Mapping[str, Record]) -> str:
    """Sets one tag per check through the pulumi CLI; returns the sentence that says what happened.

    Never raises for the CLI: without it, or without the stack, the checks still stand and the
    sentence says they were not recorded and why.
    """
    written: list[str] = []
    for check, record in outcomes.items():
        try:
            pulumi_cli.set_stack_tag(stack, project, tag(check), f"{record.outcome} {rfc3339(record.at)}")
        except pulumi_cli.CliError as error:
            done = f" (recorded: {', '.join(written)})" if written else ""
            return (f"not recorded for `billing status`{done}: {error}; the checks above stand "
                    "(`--no-record` skips recording)")
        written.append(f"{tag(check)}={record.outcome}")
    return f"recorded on stack {stack!r} for `billing status`: {', '.join(written)}"


def read(stack: str, project: Path,
         deadline: float = pulumi_cli.DEADLINE_SECONDS) -> dict[str, Record | None]:
    """Each check's last record, None where its tag is not a record; a check never run is absent.
    CliError when the tags cannot be read."""
    tags = pulumi_cli.stack_tags(stack, project, deadline)
    return {check: parse(tags[tag(check)]) for check in CHECKS if tag(check) in tags}
