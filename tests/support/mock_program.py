"""The real Pulumi program run whole under the SDK mock runtime: the registrations a stack would make."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from infra.catalog.stack_config import from_stack
from infra.commands.plan import offline
from tests.support.project import Project, credentials

WEBHOOK = "stripe:index/webhookEndpoint:WebhookEndpoint"
# What the provider returns at creation: built at run time, never committed key-shaped.
SIGNING_SECRET = "whsec_" + "S1gn" * 8


T = TypeVar("T")


def shallow(call: Callable[[], T]) -> T:
    """`call()` on a thread of its own, its result returned and its exception raised here.

    The SDK records, for each resource registered, every frame below the constructor's caller
    (pulumi.runtime.resource._get_stack_trace, a file URI per frame): under pytest that is ~40
    frames of the runner's own, ~a quarter of a mock run's CPU. On a fresh thread the program
    runs on the short stack it has under the engine's language host (~12 frames).
    """
    result: list[T] = []
    error: list[BaseException] = []

    def body() -> None:
        try:
            result.append(call())
        except BaseException as raised:  # raised again in the caller's thread, as if called there
            error.append(raised)

    worker = threading.Thread(target=body, name="pulumi program")
    worker.start()
    worker.join()
    if error:
        raise error[0]
    return result[0]


def run(
    project: Project, stack: str, api_key: str | None = None,
    state: dict[str, dict[str, Any]] | None = None, **config: str,
) -> offline.Plan:
    secrets = credentials(stack) | ({"stripe:apiKey": api_key} if api_key else {}) | config
    # Non-secret config comes from the stack file, exactly as the engine reads it.
    engine = from_stack(project.root, stack, env={}, overrides=secrets)
    return shallow(lambda: offline.run_program(
        project.root / "__main__.py", stack, engine.values, engine.secret_keys,
        provider_state={WEBHOOK: {"secret": SIGNING_SECRET}, **(state or {})},
    ))


def plain(value: Any) -> Any:
    return offline.display(value)
