"""What every host's component shares: names per target, value digests, and the redeploy notice.

Each component writes one value per slot (`target:NAME`) and keeps a digest
of it in the stack's outputs. The next preview or update compares each slot
with the last update's digest, read back from the stack's own outputs, and
says which values changed and what makes them reach the app. The comparison
is slot by slot: during a preview a value that is not known yet (a new price's
ID, a rotated webhook secret) skips only its own slot, and every known change
is still reported.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar, cast

import pulumi

from infra.catalog.hosting import Variable

DIGESTS_OUTPUT = "hostingDigests"
# The engine's built-in invoke that reads a stack's last outputs (pulumi/pulumi
# pkg/resource/deploy/builtins.go, `readStackOutputs`). An invoke, not a StackReference: a
# StackReference is a resource, stored in state with the outputs it read, so the `pulumi
# refresh` after any `up` that changed the outputs found it changed (seen under the real
# engine, CLI v3.274.1). An invoke leaves nothing in state.
READ_STACK_OUTPUTS = "pulumi:pulumi:readStackOutputs"
# The file backend can be read while this very update is writing its checkpoint: the invoke
# then fails with "failed to load checkpoint: EOF" (seen under the real engine with a
# file:// backend). Read again, a few times, before giving up.
_CHECKPOINT_RACE = "failed to load checkpoint"
_READ_ATTEMPTS = 5
T = TypeVar("T")


def config_value(key: str, secret: bool) -> pulumi.Output[str]:
    """A value from stack config, kept secret when it is (or was stored as) a secret."""
    namespace, name = key.split(":", 1)
    config = pulumi.Config(namespace)
    if secret or pulumi.runtime.is_config_secret(key):
        return config.require_secret(name)
    return pulumi.Output.from_input(config.require(name))


@dataclass(frozen=True)
class HostedValue:
    variable: Variable
    value: pulumi.Output[str]


class Environment(pulumi.ComponentResource):
    """Base of the hosts' components: call `_finish` once every value is registered."""

    variable_names: dict[str, list[str]]
    """Names per target (Vercel environment or Worker script): names only, never values."""
    digests: pulumi.Output[dict[str, str]]
    """A digest per `target:NAME` of the value written; secret, and only compared, never shown."""
    redeploy_needed: pulumi.Output[list[str]]
    """`target:NAME` of each value the running app does not have until it is deployed again."""

    # How the notice names the values, and what makes each target's values reach the app
    # (None: nothing, the host applies a write at once).
    noun = "values"
    redeploy: ClassVar[Mapping[str, str] | None] = None

    def _finish(self, values: Mapping[str, pulumi.Output[str]],
                variable_names: dict[str, list[str]]) -> None:
        self.variable_names = variable_names
        # Each value is read once, into a digest per known slot (None for a slot not known yet),
        # and both outputs below are built from that one map. Output.all and Output.secret would
        # wrap every entry of these maps in an Output of its own, several times over
        # (Output.from_input unwraps a map deeply): 40% of what the offline plan of 30 plans
        # did beyond a bare SDK program declaring the same resources (benchmarks/plan_scaling.py).
        current = asyncio.ensure_future(known_digests(values))
        self.digests = _output(_all_digests(current), secret=True, resources=_resources(values))
        self.redeploy_needed = _output(self._compare(current), secret=False, resources=set())
        self.register_outputs({
            "variable_names": self.variable_names,
            "digests": self.digests,
            "redeploy_needed": self.redeploy_needed,
        })

    async def _compare(self, current: Awaitable[dict[str, str | None]]) -> tuple[list[str] | None, bool]:
        """The slots to redeploy, once the last update's digests are read; unknown while they are.

        Known slots only are compared, so that one unknown value does not hide every other change.
        """
        found = await last_outputs(_own_stack_name())
        if pulumi.contains_unknowns(found):
            return None, False
        # A stack that was never updated has no outputs (None rather than {} on some backends).
        previous = ((found or {}).get("outputs") or {}).get(DIGESTS_OUTPUT)
        # Only names leave this comparison, so the result need not stay secret.
        return self._notice(previous, await current), True

    def _notice(self, previous: Mapping[str, str] | None, current: Mapping[str, str | None]) -> list[str]:
        """Log what changed and what to do; return the slots the running app does not have yet."""
        text = notice(self.noun, self.redeploy, previous, current)
        if text and self.redeploy is not None:
            pulumi.log.warn(text)
        elif text:
            pulumi.log.info(text)
        return changed(previous, current) if self.redeploy is not None else []


async def last_outputs(stack: str) -> dict[str, Any] | None:
    """The engine's answer to readStackOutputs for `stack`, read again on a checkpoint race."""
    for attempt in range(_READ_ATTEMPTS):
        try:
            found = await pulumi.runtime.invoke_async(READ_STACK_OUTPUTS, {"name": stack})
            return found if isinstance(found, dict) else None
        except Exception as error:  # the SDK raises a bare Exception for a failed invoke
            if _CHECKPOINT_RACE not in str(error) or attempt == _READ_ATTEMPTS - 1:
                raise
            await asyncio.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


async def known_values(outputs: Mapping[str, pulumi.Output[str]]) -> dict[str, str | None]:
    """Each slot's value, or None for a value not known yet (a preview): never all-or-nothing."""
    found: dict[str, str | None] = {}
    for slot, output in outputs.items():
        # Output.all would make the whole map unknown as soon as one value is.
        found[slot] = await output.future() if await output.is_known() else None
    return found


async def known_digests(values: Mapping[str, pulumi.Output[str]]) -> dict[str, str | None]:
    """A digest per slot whose value is known; None for one that is not known yet.

    A known value can still be None (a property the provider left out; the mock runtime's
    webhook secret): it is digested as written, like any other known value.
    """
    found: dict[str, str | None] = {}
    for slot, output in values.items():
        found[slot] = digest(slot, str(await output.future())) if await output.is_known() else None
    return found


async def _all_digests(current: Awaitable[dict[str, str | None]]) -> tuple[dict[str, str] | None, bool]:
    """Every slot's digest, or unknown while one of them is (as Output.all would have it)."""
    found = await current
    complete = {slot: value for slot, value in found.items() if value is not None}
    return (complete, True) if len(complete) == len(found) else (None, False)


async def _resources(values: Mapping[str, pulumi.Output[Any]]) -> set[pulumi.Resource]:
    """The resources the values come from, as Output.all would carry them."""
    found: set[pulumi.Resource] = set()
    for value in values.values():
        found |= await value.resources()
    return found


def _output(data: Awaitable[tuple[T | None, bool]], secret: bool,
            resources: set[pulumi.Resource] | Awaitable[set[pulumi.Resource]]) -> pulumi.Output[T]:
    """One Output from a coroutine that answers (value, known), None while unknown as the SDK's
    own outputs have it: no Output per entry of the value."""
    shared = asyncio.ensure_future(data)

    async def value() -> T | None:
        return (await shared)[0]

    async def known() -> bool:
        return (await shared)[1]

    async def is_secret() -> bool:
        return secret

    return cast(pulumi.Output[T], pulumi.Output(resources, value(), known(), is_secret()))


def _own_stack_name() -> str:
    # The stack reads its own last update's outputs; the local backend's organization
    # is "organization".
    organization = pulumi.get_organization() or "organization"
    return f"{organization}/{pulumi.get_project()}/{pulumi.get_stack()}"


def digest(slot: str, value: str) -> str:
    return hashlib.sha256(f"{slot}\0{value}".encode()).hexdigest()


def changed(previous: Mapping[str, str] | None, current: Mapping[str, str | None]) -> list[str]:
    """Slots whose value is new, different or gone since the last update.

    A slot whose current value is None is not known yet: it is skipped, not
    reported; every other slot is still compared. With no last update every
    known slot is new.
    """
    known = {slot for slot, value in current.items() if value is not None}
    if previous is None:
        return sorted(known)
    gone = set(previous) - set(current)
    return sorted(gone | {slot for slot in known if previous.get(slot) != current[slot]})


def notice(noun: str, redeploy: Mapping[str, str] | None, previous: Mapping[str, str] | None,
           current: Mapping[str, str | None]) -> str | None:
    """The sentence for the log, or None when there is nothing to say."""
    slots = changed(previous, current)
    unknown = sorted(slot for slot, value in current.items() if value is None)
    if not slots and not unknown:
        return None
    parts = []
    if slots:
        listing = _by_target(slots)
        if previous is None:
            # Nothing to compare with: say what is new, not what "differs".
            # Every one: the plan's table and the redeployNeeded output name them; count them here.
            parts.append(f"This stack has no record of a last update, so every one of its {noun} is new "
                         f"({_counted_by_target(slots)}).")
        else:
            parts.append(f"{noun[0].upper()}{noun[1:]} differ from this stack's last update ({listing}).")
    if unknown:
        parts.append(f"Not known until the update runs, and may change too: {_by_target(unknown)}.")
    targets = {slot.split(":", 1)[0] for slot in [*slots, *unknown]}
    if redeploy is None:
        parts.append("Each write takes effect at once; no code deploy is needed.")
    else:
        advice = "; ".join(redeploy[target] for target in sorted(targets) if target in redeploy)
        parts.append(f"Running deployments keep the old values until the app is deployed again: {advice}.")
    return " ".join(parts)


def _counted_by_target(slots: list[str]) -> str:
    """`7 on development, 7 on preview`"""
    targets = sorted({slot.split(":", 1)[0] for slot in slots})
    return ", ".join(f"{sum(s.startswith(f'{t}:') for s in slots)} on {t}" for t in targets)


def _by_target(slots: list[str]) -> str:
    by_target: dict[str, list[str]] = {}
    for slot in slots:
        target, name = slot.split(":", 1)
        by_target.setdefault(target, []).append(name)
    return "; ".join(f"{target}: {', '.join(names)}" for target, names in sorted(by_target.items()))
