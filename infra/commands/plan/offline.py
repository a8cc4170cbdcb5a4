"""Run the real Pulumi program under the SDK's mock runtime and record what it registers.

This is an offline plan, not a provider preview: no engine, no provider
plugin, nothing sent to Stripe or a host. The mock answers each registration
with a placeholder ID (`<name>.id`) and echoes the inputs as state, so values
the provider would compute (IDs, the webhook secret) are placeholders here.
"""

from __future__ import annotations

import asyncio
import logging
import runpy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks, rpc, settings
from pulumi.runtime.stack import run_pulumi_func

from infra.components.environment import READ_STACK_OUTPUTS
from infra.core.layout import STACK_TYPE

PROJECT = "billing"
# How the SDK marks a secret value on the wire (pulumi/runtime/rpc.py).
_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105 (a type marker, not a secret)
SECRET = "[secret]"  # noqa: S105 (what is shown instead of a secret)


@dataclass(frozen=True)
class Registration:
    type: str
    name: str
    inputs: dict[str, Any]
    # Resource options as the engine would receive them.
    parent: str
    protect: bool
    delete_before_replace: bool
    import_id: str = ""
    ignore_changes: tuple[str, ...] = ()
    """The existing object the engine would adopt (the `import` option), or empty."""


@dataclass
class Plan:
    stack: str
    resources: list[Registration] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    """What the program logged at warning level or above (`pulumi.log.warn`)."""

    def of_type(self, type_token: str) -> list[Registration]:
        return [r for r in self.resources if r.type == type_token]

    def named(self, type_token: str, name: str) -> Registration:
        matches = [r for r in self.of_type(type_token) if r.name == name]
        if len(matches) != 1:
            raise KeyError(f"{type_token} {name}: {len(matches)} registrations")
        return matches[0]


Answer = Callable[[mocks.MockResourceArgs], "tuple[str, dict[str, Any]] | None"]
"""Answers a registration with (ID, state) in place of the echo, or None to echo."""


class _Answers(mocks.Mocks):
    """Answers each registration: a placeholder ID, the inputs echoed as state."""

    def __init__(self, state: Mapping[str, Mapping[str, Any]], answer: Answer | None = None) -> None:
        self.state = state
        self.answer = answer

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        answered = self.answer(args) if self.answer else None
        if answered is not None:
            return answered
        # An adopted resource keeps its existing ID, as the engine's import would.
        return args.resource_id or f"<{args.name}.id>", {**args.inputs, **self.state.get(args.typ, {})}

    def call(self, args: mocks.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        # The SDK's mock also takes a bare dict (no failures); its annotation says only tuple.
        if args.token == READ_STACK_OUTPUTS:
            # The stack's last outputs: none, unless the caller supplies them under this
            # token (as if the stack had been updated before).
            return {"name": args.args.get("name"), "outputs": {}, "secretOutputNames": [],
                    **self.state.get(READ_STACK_OUTPUTS, {})}
        return {}


class _Monitor(mocks.MockMonitor):
    """Records every registration request whole: the Mocks API alone omits the options."""

    def __init__(self, answers: _Answers, plan: Plan) -> None:
        super().__init__(answers)
        self.plan = plan
        self.thread_loops: set[asyncio.AbstractEventLoop] = set()

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != STACK_TYPE:
            # The SDK opened an event loop on this worker thread and never closes it; an
            # unclosed loop collected at interpreter exit prints a traceback.
            self.thread_loops.add(asyncio.get_event_loop())
            # Called on worker threads; list.append is atomic.
            self.plan.resources.append(Registration(
                request.type, request.name, rpc.deserialize_properties(request.object),
                parent=request.parent, protect=bool(request.protect),
                delete_before_replace=bool(request.deleteBeforeReplace), import_id=request.importId,
                ignore_changes=tuple(request.ignoreChanges),
            ))
        return response


def run_program(
    program: Path,
    stack: str,
    config: Mapping[str, str],
    secret_keys: Sequence[str] = (),
    provider_state: Mapping[str, Mapping[str, Any]] | None = None,
    answer: Answer | None = None,
) -> Plan:
    """Run `program` (a Pulumi `__main__.py`) for `stack` with engine-style config.

    `provider_state` adds output properties per type token that a provider
    would compute (tests use it to give the webhook endpoint a secret); `answer`
    replaces the echo (the second-`up` harness answers with what the provider stores).
    Raises pulumi.RunError when the program stops on invalid input.
    """
    plan = Plan(stack=stack)
    monitor: _Monitor | None = None
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        pulumi.runtime.set_all_config(dict(config), list(secret_keys))
        answers = _Answers(provider_state or {}, answer)
        monitor = _Monitor(answers, plan)
        pulumi.runtime.set_mocks(answers, project=PROJECT, stack=stack, preview=False, monitor=monitor,
                                 logger=_collector(plan.notices), organization="organization")
        error: list[BaseException] = []

        def body() -> None:
            try:
                runpy.run_path(str(program), run_name="__main__")
            except pulumi.RunError as run_error:
                error.append(run_error)

        loop.run_until_complete(run_pulumi_func(body))
        if error:
            raise error[0]
        root = settings.get_root_resource()
        outputs = getattr(root, "outputs", {})
        plan.outputs = loop.run_until_complete(_resolve(outputs))
        return plan
    finally:
        pulumi.runtime.reset_options()
        pulumi.runtime.set_all_config({}, [])
        loop.run_until_complete(loop.shutdown_default_executor())
        for thread_loop in (monitor.thread_loops if monitor else set()) - {loop}:
            thread_loop.close()
        asyncio.set_event_loop(None)
        loop.close()


def _collector(notices: list[str]) -> logging.Logger:
    """A logger that keeps the program's warnings for the plan instead of printing them."""
    logger = logging.getLogger(f"{__name__}.program")
    logger.propagate = False
    logger.setLevel(logging.WARNING)

    class _Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            notices.append(record.getMessage())

    logger.handlers = [_Keep()]
    return logger


async def _resolve(outputs: Mapping[str, Any]) -> dict[str, Any]:
    """Each stack output as Output.from_input(value) resolves it: SECRET when any part of it
    is secret, None while any part is unknown."""
    resolved: dict[str, Any] = {}
    for name, value in outputs.items():
        plain, secret, known = await _plain(value)
        resolved[name] = SECRET if secret else plain if known else None
    return resolved


async def _plain(value: Any) -> tuple[Any, bool, bool]:
    """(value with every Output in it resolved, whether any part is secret, whether all is known).

    What Output.from_input would give, walked directly: from_input wraps every entry of a
    map or list in an Output of its own, and the outputs hold maps of every price and variable.
    """
    if isinstance(value, pulumi.Output):
        secret = await value.is_secret()
        if not await value.is_known():
            return None, secret, False
        inner, inner_secret, known = await _plain(await value.future(with_unknowns=True))
        return inner, secret or inner_secret, known
    if type(value) is dict:
        plain: dict[Any, Any] = {}
        secret, known = False, True
        for key, item in value.items():
            plain[key], item_secret, item_known = await _plain(item)
            secret, known = secret or item_secret, known and item_known
        return plain, secret, known
    if type(value) is list:
        items = [await _plain(item) for item in value]
        return ([item for item, _, _ in items], any(secret for _, secret, _ in items),
                all(known for _, _, known in items))
    if isinstance(value, str | int | float | bool | None):
        return value, False, True
    # Anything else (tuples, input types, awaitables) as the SDK unwraps it.
    output = pulumi.Output.from_input(value)
    return await output.future(with_unknowns=True), await output.is_secret(), await output.is_known()


def display(value: Any) -> Any:
    """Inputs as a reviewer should see them: secrets hidden, numbers as written."""
    if isinstance(value, dict):
        if value.get(_SIG_KEY) == _SECRET_SIG:
            return SECRET
        return {k: display(v) for k, v in value.items()}
    if isinstance(value, list):
        return [display(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # protobuf carries every number as a double
    return value
