"""go-live's keys and steps without the Pulumi CLI: the person as a script of answers, the facts as
readiness items made here, the CLI's config calls as stand-ins (tests/commands/test_go_live*.py)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest

from infra.clients import pulumi_cli
from infra.commands.golive.context import Context
from infra.commands.golive.terminal import Terminal
from infra.probes import readiness
from infra.probes.facts import Item
from infra.probes.readiness import Readiness
from tests.support.project import Project


class Person:
    """Answers each question and hidden prompt in turn; records every prompt it was shown."""

    def __init__(self, *answers: str | Callable[[], str]) -> None:
        self.answers = list(answers)
        self.prompts: list[str] = []

    def __call__(self, prompt: str) -> str:
        self.prompts.append(prompt)
        if not self.answers:
            raise EOFError
        answer = self.answers.pop(0)
        return answer() if callable(answer) else answer


def at_terminal(*answers: str | Callable[[], str], yes: bool = False) -> tuple[Terminal, io.StringIO, Person]:
    out, person = io.StringIO(), Person(*answers)
    return Terminal(out, yes=yes, read_line=person, read_secret=person), out, person


def facts(stack: str, *items: Item, last_update: str | None = None) -> Readiness:
    ready = [Item("cli", True, "pulumi CLI v3.274.1"), Item("backend", True, "logged in to file:///x"),
             Item("stack", True, f"stack {stack!r} exists")]
    return Readiness(stack, (*ready, *items), last_update)


def with_facts(monkeypatch: pytest.MonkeyPatch, *found: Readiness) -> list[Readiness]:
    """readiness.read answers each of `found` in turn, then the last one again."""
    queue = list(found)

    def read(stack: str, project: Path) -> Readiness:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    monkeypatch.setattr(readiness, "read", read)
    return queue


def context(project: Project, term: Terminal, stack: str = "test") -> Context:
    return Context(stack, project.root, term, live=stack == "live")


def key_items(*fields: str, problem: str = "is not set") -> list[Item]:
    return [Item("config", False, f"Pulumi.test.yaml:1: {field}: {problem}: run `pulumi config set ...`",
                 field=field) for field in fields]


def stored_keys(monkeypatch: pytest.MonkeyPatch, already: dict[str, str] | None = None
                ) -> list[tuple[str, str, bool]]:
    stored: list[tuple[str, str, bool]] = []

    def set_config(stack: str, config_key: str, value: str, project: Path, secret: bool) -> None:
        stored.append((config_key, value, secret))

    monkeypatch.setattr(pulumi_cli, "set_config", set_config)
    monkeypatch.setattr(pulumi_cli, "decrypted_config",
                        lambda stack, project: pulumi_cli.DecryptedConfig(dict(already or {}), frozenset()))
    return stored


def no_token_exported(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the shell running the tests exports, go-live sees no host token there."""
    for variable in ("VERCEL_API_TOKEN", "VERCEL_TOKEN", "CLOUDFLARE_API_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
