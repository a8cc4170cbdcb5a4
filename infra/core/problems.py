"""Problems found in user input, reported together as `file:line: field: message`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from infra.core.escape import terminal
from infra.core.redact import mask


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the input, located as precisely as the source allows."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        # A key "enterprise\n", a pasted escape sequence: one problem is one line, shown as written.
        return mask(terminal(f"{where}: {self.field}: {self.message}"))


def plural(count: int, noun: str) -> str:
    """`1 coupon`, `2 coupons`: a count with its noun (regular plurals only)."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


class ConfigError(Exception):
    """Raised with every problem at once, before any resource is registered.

    Messages never carry secret values: callers show at most a key's prefix.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__(self.render())

    def render(self, applying: bool = False) -> str:
        """Every problem, one a line. `applying`: said by the program, the only one that could apply."""
        count = len(self.problems)
        consequence = "; nothing was applied:" if applying else ":"
        header = f"{plural(count, 'problem')} found{consequence}"
        return "\n".join([header, *(f"  {p}" for p in self.problems)])
