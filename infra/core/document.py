"""A parsed file: its data, the line of every key, and the problems found in it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from infra.core.problems import Problem

Path_ = tuple[str | int, ...]


@dataclass
class Document:
    """A parsed file: its data, where each key stands, and what was wrong."""

    file: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    origin: Callable[[str], str | None] | None = None
    """For a stack file: where a config key's value came from instead of this file (`PULUMI_CONFIG`)."""

    def line_of(self, path: Path_) -> int | None:
        """Line of `path`, or of its nearest ancestor present in the file."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None

    def problem(self, path: Path_, message: str, field_name: str | None = None) -> Problem:
        """A problem with the value at `path`, placed where that value came from."""
        setting = str(path[1]) if len(path) > 1 and path[0] == "config" else None
        elsewhere = self.origin(setting) if self.origin and setting else None
        if elsewhere:
            return Problem(elsewhere, None, field_name or dotted(path), message)
        return self.in_file(path, message, field_name)

    def in_file(self, path: Path_, message: str, field_name: str | None = None) -> Problem:
        """A problem with what this file holds at `path` (or its nearest ancestor)."""
        return Problem(self.file, self.line_of(path), field_name or dotted(path), message)


def dotted(path: Path_) -> str:
    """`("plans", "pro", "prices", 0)` -> `plans.pro.prices[0]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out or "(document)"
