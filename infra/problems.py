"""Problems found in user input, reported together as `file:line: field: message`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the input, located as precisely as the source allows."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.field}: {self.message}"


class ConfigError(Exception):
    """Raised with every problem at once, before any resource is registered.

    Messages never carry secret values: callers show at most a key's prefix.
    """

    exit_code = 2

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__(self.render())

    def render(self) -> str:
        count = len(self.problems)
        header = f"{count} problem{'s' if count != 1 else ''} found; nothing was applied:"
        return "\n".join([header, *(f"  {p}" for p in self.problems)])
