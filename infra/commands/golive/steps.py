"""The go-live runbook as ordered steps: how each knows it is done, and what it does when it is not.

Each step's `done` reads the stack's facts, and nothing else: `Context.open`,
the open items of `infra.probes.readiness` (what `billing status` prints) that
belong to it, and for the update whether the stack has had one. It returns why
the step is done, or None. `run` does the step, asking before every change, or
raises `Stop` with an exit status. The command runs the first step that is not
done, reads the facts again, and goes on; so a second run starts at the first
open item and repeats no step those facts call finished (a verify check
recorded as passed since the last update is not run again).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from infra.commands.golive import deploy, proof, setup
from infra.commands.golive.context import Context


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    done: Callable[[Context], str | None]
    """Why the step is done, or None while it is not."""
    run: Callable[[Context], None]


def _closed(stage: str, said: str) -> Callable[[Context], str | None]:
    """Done when readiness has no open item for this step."""
    return lambda ctx: None if ctx.open(stage) else said


STEPS: tuple[Step, ...] = (
    Step("engine", "the Pulumi CLI and a state backend", _closed("engine", "found and logged in"),
         setup.engine),
    Step("settings", "the stack's settings", _closed("settings", "set, and none is still an example"),
         setup.settings),
    Step("stack", "the stack and its passphrase", _closed("stack", "it exists and its secrets open"),
         setup.stack),
    Step("keys", "the keys", _closed("keys", "every key is stored and of the stack's mode and kind"),
         setup.keys),
    Step("policy", "the policy pack's virtualenv", _closed("policy", "built"), setup.policy),
    Step("update", "preview and update", deploy.update_done, deploy.update),
    Step("host", "the host", deploy.host_done, deploy.host),
    Step("verify", "verify the deployment", proof.verify_done, proof.verify),
    Step("payment", "the payment proof", proof.payment_done, proof.payment),
)
