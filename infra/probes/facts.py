"""One fact of readiness: an item, and the go-live step that closes it (infra.probes.readiness)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Step = Literal["cli", "backend", "stack", "config", "examples", "policy", "update", "redeploy", "verify"]
"""What closes an open item, in going-live order: install the CLI, log in, create the stack, set a
setting or a secret, replace an example value, build the policy pack's virtualenv, run (or wait
for) the update, redeploy the app so the host's values reach it, run `billing verify`."""


@dataclass(frozen=True)
class Item:
    step: Step
    ok: bool
    what: str
    fix: str = ""
    field: str | None = None
    """The one thing an item is about, when it names one: a `config` item's config key
    (`stripe:apiKey`), a `redeploy` item's host target (`production`), a `verify` item's stack tag
    (`billing:verify:stripe`), `failed` on the `update` item of a last update that failed, and
    `absent` on the `stack` item of a stack the backend does not hold (never on one it could not
    list, or one another organization holds, which must not be made again). A
    command that acts on the facts (`billing go-live`) reads this, never the wording."""
