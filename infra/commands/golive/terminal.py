"""How go-live talks to the person running it: lines, y/N questions and hidden input, each counted.

Secrets are read with `getpass` (from the controlling terminal, echo off), so a
key typed here is never on a command line, in the shell's history or in the
terminal's transcript. A question is asked only on a terminal; with `--yes`
every question is answered yes and says so, and a secret cannot be asked at
all (CI stores its keys before it runs). Every answer is counted: the summary
reports the acts the user performed.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from infra.core.escape import terminal


class Stop(Exception):
    """The run ends here, with an exit status; the message (safe to print) says why."""

    def __init__(self, status: int, message: str = "") -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Acts:
    """What the person did during the run, by kind."""

    confirmations: int = 0
    """y/N questions answered."""
    typed: int = 0
    """Values typed at hidden prompts (the passphrase, keys, tokens)."""
    visits: list[str] = field(default_factory=list)
    """Forms and pages the person went to outside the terminal: a Dashboard form, a checkout."""

    def visited(self, what: str) -> None:
        self.visits.append(what)


@dataclass
class Terminal:
    out: TextIO
    yes: bool = False
    """`--yes`: every question is answered yes (never a secret)."""
    interactive: bool = True
    """A person at a terminal can answer; False in CI, where only `--yes` answers."""
    read_line: Callable[[str], str] = input
    read_secret: Callable[[str], str] = getpass.getpass
    acts: Acts = field(default_factory=Acts)

    def say(self, text: str = "") -> None:
        """Print lines the program wrote, which may quote outside text: escaped line by line. Only
        the program's own "\n" ends a line: a CR, form feed, NEL or line separator inside a quoted
        value is escaped with the rest, so it cannot start a line of its own."""
        for line in text.split("\n"):
            print(terminal(line), file=self.out, flush=True)

    def confirm(self, question: str) -> bool:
        """Ask y/N (no is the default); `--yes` answers yes and says so."""
        if self.yes:
            self.say(f"{question} [y/N] yes (--yes)")
            return True
        if not self.interactive:
            raise Stop(2, f"{question}: no terminal to answer on; run it in a terminal")
        self.out.flush()
        try:
            answer = self.read_line(terminal(f"{question} [y/N] "))
        except EOFError:
            raise Stop(2, "the terminal closed before an answer") from None
        self.acts.confirmations += 1
        return answer.strip().lower() in ("y", "yes")

    def pause(self, what: str) -> None:
        """Wait until the person says a thing done outside the terminal is done (Enter)."""
        if self.yes or not self.interactive:
            raise Stop(1, f"{what}: it needs a person; run `billing go-live` in a terminal")
        self.out.flush()
        try:
            self.read_line(terminal(f"{what}; press Enter when it is done (Ctrl-C stops) "))
        except EOFError:
            raise Stop(2, "the terminal closed before an answer") from None
        self.acts.confirmations += 1

    def secret(self, prompt: str) -> str:
        """A value typed with echo off; an empty answer is returned as "" (the caller decides)."""
        if not self.interactive:
            raise Stop(2, f"{prompt.strip().rstrip(':')}: a secret is only read at a terminal's hidden "
                       "prompt; in CI, store it first (`pulumi config set --secret KEY --stack S`, the "
                       "value on stdin) and run go-live again")
        self.out.flush()
        try:
            value = self.read_secret(terminal(prompt))
        except EOFError:
            raise Stop(2, "the terminal closed before an answer") from None
        value = value.strip()
        if value:
            self.acts.typed += 1
        return value


def on_terminal(out: TextIO, yes: bool) -> Terminal:
    """The terminal of this process: interactive when stdin is one."""
    return Terminal(out, yes=yes, interactive=sys.stdin.isatty())
