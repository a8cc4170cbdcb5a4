"""The Pulumi engine as go-live drives it: the Automation API over the CLI on PATH.

`pulumi.automation` (a LocalWorkspace on the project directory, `PulumiCommand`
for the CLI on PATH) creates the stack, runs the preview with the policy pack
and runs `up`; how the last update ended is readiness's to say (what `billing
status` prints), not the engine's. Its one exception is storing a secret, done
by `infra.clients.pulumi_cli.set_config` with the value on the CLI's stdin: the
SDK's `set_config` puts the value on the CLI's command line. The passphrase
reaches every CLI process through its environment (PULUMI_CONFIG_PASSPHRASE in
this process's environment, which the SDK passes on), never its arguments.
Secrets are never shown: no command runs with `--show-secrets`, and what the
engine says is masked before it is printed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pulumi import automation as auto

from infra.core.escape import terminal
from infra.core.layout import STACK_TYPE
from infra.core.redact import mask

POLICY_PACKS = ["policies"]
# What the engine registers for itself, not the program's resources.
_ENGINE_OWN = (STACK_TYPE,)
# A step as `pulumi preview` counts it; the others (same, read, refresh...) change nothing.
COUNTED = {"create": "create", "update": "update", "replace": "replace", "create-replacement": "replace",
           "delete": "delete", "import": "import"}
_MAX_SHOWN = 40  # lines of an engine error shown; the rest is in `pulumi stack history`
# The engine's errors, and what the program wrote to stderr (a Python traceback: why the program
# exited), which the engine passes on as `info#err` diagnostics.
_FAILURE_SAID = ("error", "info#err")


class EngineFailed(Exception):
    """A preview or update the engine refused or that failed; str() is masked and safe to print."""


@dataclass
class Run:
    """What one preview or update did, counted from the engine's own events."""

    steps: list[tuple[str, str, str]] = field(default_factory=list)
    """(op, type, name) of every resource step that changes something, in the engine's order."""
    errors: list[str] = field(default_factory=list)
    """The engine's error diagnostics and mandatory policy violations, masked."""

    def totals(self) -> Counter[str]:
        return Counter(COUNTED[op] for op, _, _ in self.steps)

    def total_line(self) -> str:
        """`3 to create, 0 to update, 0 to replace, 0 to delete` (what `billing diff` prints)."""
        counts = self.totals()
        words = ["create", "update", "replace", "delete"] + (["import"] if counts["import"] else [])
        return ", ".join(f"{counts[word]} to {word}" for word in words)


def _shown(text: str) -> str:
    return terminal(mask(text.strip()))


class Engine:
    """One stack of the project in `project`, through the CLI on PATH."""

    def __init__(self, project: Path, stack: str) -> None:
        self.stack_name = stack
        # PulumiCommand() runs `pulumi version` and refuses a CLI older than the SDK supports.
        self.workspace = auto.LocalWorkspace(work_dir=str(project), pulumi_command=auto.PulumiCommand(),
                                             secrets_provider="passphrase")

    def create(self) -> None:
        """`pulumi stack init STACK --secrets-provider passphrase`: the stack's own passphrase."""
        try:
            auto.Stack.create(self.stack_name, self.workspace)
        except auto.CommandError as error:
            raise EngineFailed(_last_lines(str(error))) from None

    def _stack(self) -> auto.Stack:
        return auto.Stack.select(self.stack_name, self.workspace)

    def preview(self) -> Run:
        """`pulumi preview --policy-pack policies`, its steps counted from the engine's events."""
        run = Run()
        try:
            self._stack().preview(policy_packs=POLICY_PACKS, color="never", suppress_progress=True,
                                  on_event=lambda event: _record(event, run, None))
        except auto.CommandError as error:
            raise EngineFailed(_why(run, error)) from None
        return run

    def up(self, progress: Callable[[str], None]) -> Run:
        """`pulumi up --policy-pack policies`, each finished step said as it finishes."""
        run = Run()
        try:
            self._stack().up(policy_packs=POLICY_PACKS, color="never", suppress_progress=True,
                                      suppress_outputs=True, show_secrets=False,
                                      on_event=lambda event: _record(event, run, progress))
        except auto.CommandError as error:
            raise EngineFailed(_why(run, error)) from None
        return run


def _record(event: auto.EngineEvent, run: Run, progress: Callable[[str], None] | None) -> None:
    if event.resource_pre_event is not None:
        meta = event.resource_pre_event.metadata
        op = str(getattr(meta.op, "value", meta.op))
        if op in COUNTED and meta.type not in _ENGINE_OWN:
            run.steps.append((op, meta.type, meta.urn.rsplit("::", 1)[-1]))
    elif event.res_outputs_event is not None and progress is not None:
        meta = event.res_outputs_event.metadata
        op = str(getattr(meta.op, "value", meta.op))
        if op in COUNTED and meta.type not in _ENGINE_OWN:
            progress(f"  {op:<8} {meta.type}  {meta.urn.rsplit('::', 1)[-1]}")
    elif event.diagnostic_event is not None and event.diagnostic_event.severity in _FAILURE_SAID:
        run.errors.append(_shown(event.diagnostic_event.message))
    elif event.policy_event is not None and event.policy_event.enforcement_level == "mandatory":
        policy = event.policy_event
        run.errors.append(_shown(f"policy {policy.policy_name}: {policy.message}"))


def _why(run: Run, error: auto.CommandError) -> str:
    """The engine's own error diagnostics, else the end of what the CLI printed; masked."""
    if run.errors:
        lines = [line for text in run.errors for line in text.splitlines() if line.strip()]
        return "\n".join(lines[:_MAX_SHOWN])
    return _last_lines(str(error))


def _last_lines(text: str) -> str:
    """What the CLI wrote to stderr (the SDK's CommandError is `code: ... stdout: ... stderr: ...`),
    or all of it when there is no such part; masked, the last lines only."""
    said = text.split("\n stderr: ", 1)[-1] if "\n stderr: " in text else text
    lines = [_shown(line) for line in said.splitlines() if line.strip()]
    return "\n".join(lines[-_MAX_SHOWN:])
