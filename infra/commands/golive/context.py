"""What every go-live step reads and adds to: the stack's facts, the terminal, what the run did.

The facts are `infra.probes.readiness.read` (what `billing status` prints),
read again after every step that changes something. Each open item belongs to
the step that closes it (`stage`), so a second run starts at the first step
with an open item and never repeats a finished one.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from infra import hosts
from infra.catalog import Deployment, stack_config
from infra.catalog.guards import APP_KEY, DEPLOYER_KEY, PUBLISHABLE_KEY, WEBHOOK_SECRET
from infra.catalog.stack_files import open_stack, plain_config
from infra.commands.golive.terminal import Terminal
from infra.core.snapshot import Snapshot
from infra.probes import readiness
from infra.probes.facts import Item

if TYPE_CHECKING:
    from infra.commands.golive.engine import Engine

PASSPHRASE = "PULUMI_CONFIG_PASSPHRASE"  # noqa: S105 (a variable name)
PASSPHRASE_FILE = "PULUMI_CONFIG_PASSPHRASE_FILE"  # noqa: S105 (a variable name)


@dataclass
class Context:
    stack: str
    project: Path
    term: Terminal
    live: bool
    facts: readiness.Readiness | None = None
    started: float = field(default_factory=time.monotonic)
    created: list[str] = field(default_factory=list)
    """What this run created or changed, as the summary lists it."""
    checked: list[str] = field(default_factory=list)
    """What this run checked and how it came out."""
    passphrase_asked: bool = False
    updated: bool = False
    """This run's `up` ended as planned: a stop after it is never "nothing was done"."""
    _engine: Engine | None = None

    @property
    def mode(self) -> str:
        return "live" if self.live else "test"

    def refresh(self) -> readiness.Readiness:
        self.facts = readiness.read(self.stack, self.project)
        return self.facts

    def open(self, stage_name: str) -> list[Item]:
        """The open items the step `stage_name` closes."""
        facts = self.facts or self.refresh()
        keys = askable(self.project, self.stack)
        return [item for item in facts.missing if stage(item, keys) == stage_name]

    def engine(self) -> Engine:
        if self._engine is None:
            # The engine's module loads only when a step needs it.
            from infra.commands.golive.engine import Engine  # noqa: PLC0415

            self._engine = Engine(self.project, self.stack)
        return self._engine

    def deployment(self) -> Deployment:
        """The stack as `billing keys` loads it: sealed and unset keys stand in as placeholders."""
        return stack_config.from_stack(self.project, self.stack).load(examples_refused=False)

    def passphrase_given(self) -> bool:
        """The CLI has the stack's passphrase: from the environment, or typed in this run."""
        return bool(os.environ.get(PASSPHRASE) or os.environ.get(PASSPHRASE_FILE))

    def elapsed(self) -> str:
        seconds = int(time.monotonic() - self.started)
        return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


def askable(project: Path, stack: str) -> dict[str, str]:
    """The config keys go-live asks for at a hidden prompt, each with its kind: the Stripe keys, the
    host's token, each `hosting.extra` secret and an adopted endpoint's signing secret."""
    plain = plain_config(open_stack(stack, Snapshot(project), None))
    host = hosts.named(str(plain.get(hosts.HOST_SETTING) or "") or None)
    values = stack_config.from_stack(project, stack).values
    # In the order they are asked for: the two restricted keys as `billing keys` numbers them.
    found = {APP_KEY: "app", DEPLOYER_KEY: "deployer", PUBLISHABLE_KEY: "publishable", host.token: "token",
             WEBHOOK_SECRET: "webhook"}
    found.update({key: "extra" for key in stack_config.extra_config_keys(project, values)})
    return found


def stage(item: Item, keys: dict[str, str]) -> str:
    """The go-live step an open item belongs to.

    cli and backend: the engine; examples and settings: settings; the stack, and an item about
    reading its secrets (the passphrase): stack; a key go-live can ask for: keys. The others
    (policy, update, redeploy, verify) are their own.
    """
    step = str(item.step)
    if step in ("cli", "backend"):
        return "engine"
    if step == "examples":
        return "settings"
    if step == "config":
        if item.field is None:
            # Unreadable secrets (the passphrase), or keys not checked until the stack exists.
            return "stack"
        return "keys" if item.field in keys else "settings"
    return step
