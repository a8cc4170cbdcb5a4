"""The real Pulumi program run whole under the SDK mock runtime: the registrations a stack would make."""

from __future__ import annotations

from typing import Any

from infra.catalog.stack_config import from_stack
from infra.commands.plan import offline
from tests.support.project import Project, credentials

WEBHOOK = "stripe:index/webhookEndpoint:WebhookEndpoint"
# What the provider returns at creation: built at run time, never committed key-shaped.
SIGNING_SECRET = "whsec_" + "S1gn" * 8


def run(
    project: Project, stack: str, api_key: str | None = None,
    state: dict[str, dict[str, Any]] | None = None, **config: str,
) -> offline.Plan:
    secrets = credentials(stack) | ({"stripe:apiKey": api_key} if api_key else {}) | config
    # Non-secret config comes from the stack file, exactly as the engine reads it.
    engine = from_stack(project.root, stack, env={}, overrides=secrets)
    return offline.run_program(
        project.root / "__main__.py", stack, engine.values, engine.secret_keys,
        provider_state={WEBHOOK: {"secret": SIGNING_SECRET}, **(state or {})},
    )


def plain(value: Any) -> Any:
    return offline.display(value)
