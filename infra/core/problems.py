"""Problems found in user input, reported together as `file:line: field: message`."""

from __future__ import annotations

import difflib
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


# How alike a mistyped name and a known one must be to be offered (difflib's ratio): one for
# every "did you mean", so a typo of a field, a currency or a feature is judged the same.
SUGGEST_CUTOFF = 0.75


def closest(value: str, choices: Iterable[str]) -> str | None:
    """The one of `choices` `value` most likely mistypes, or None. Only a choice is ever offered:
    callers pass the valid names, never what the input itself holds."""
    found = difflib.get_close_matches(value, list(choices), n=1, cutoff=SUGGEST_CUTOFF)
    return found[0] if found else None


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """`; did you mean 'x'?` for the closest choice, or nothing."""
    found = closest(value, choices)
    return f"; did you mean {found!r}?" if found is not None else ""


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
