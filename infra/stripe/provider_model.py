"""The provider's diff and what Stripe stores, modelled from the provider table.

`provider_table` holds the facts (per field: ForceNew, what Create and Update
send, what Read fills, Stripe's answer when nothing is sent). This module
applies SDKv2's diff rules to them: what one field change does (`effect`), the
step the provider plans for a resource (`diff`), and the state Read stores
after a create or an update (`created_state`, `updated_state`). `diff` and the
second-`up` harness use it; it is a model built from the source, not a run of
the provider.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from infra.stripe.provider_table import RESOURCES, Field, Kind

Effect = Literal["replace", "update", "no-op", "not cleared", "refused by Stripe"]


@dataclass(frozen=True)
class FieldChange:
    path: str
    old: Any
    new: Any
    effect: Effect


@dataclass(frozen=True)
class Step:
    """What `up` does to one resource, as the provider's Diff and Update decide."""

    token: str
    changes: tuple[FieldChange, ...] = field(default_factory=tuple)

    @property
    def kind(self) -> Literal["same", "update", "replace"]:
        if any(c.effect == "replace" for c in self.changes):
            return "replace"
        return "update" if self.changes else "same"

    def lasting(self) -> bool:
        """True when the update cannot converge: the same diff comes back on the next run."""
        return any(c.effect in ("no-op", "not cleared", "refused by Stripe") for c in self.changes)


def diff(token: str, state: Mapping[str, Any], inputs: Mapping[str, Any]) -> Step:
    """The step the provider plans when the program registers `inputs` over `state`."""
    resource = RESOURCES[token]
    return Step(token, tuple(_diff_fields(resource.fields, state, inputs, "", force_new=False)))


def _present(value: Any) -> bool:
    return value is not None


def _as_list(value: Any, kind: Kind) -> list[Any]:
    if value is None:
        return []
    if kind == "block":
        return list(value) if isinstance(value, list) else [value]
    return list(value)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return float(a) == float(b)
    return bool(a == b)


def _diff_fields(
    fields: tuple[Field, ...], state: Mapping[str, Any], inputs: Mapping[str, Any], prefix: str,
    force_new: bool,
) -> Iterator[FieldChange]:
    for entry in fields:
        path = f"{prefix}{entry.name}"
        new, old = inputs.get(entry.name), state.get(entry.name)
        if not _present(new) and entry.computed:
            continue  # Optional+Computed and not sent: the state is kept
        if entry.kind in ("block", "blocks"):
            new_items, old_items = _as_list(new, entry.kind), _as_list(old, entry.kind)
            if len(new_items) != len(old_items):
                # Blocks are sent only when present: an omitted block leaves Stripe's as it is.
                effect: Effect = "replace" if entry.force_new else "update" if new_items else "not cleared"
                yield FieldChange(path, len(old_items), len(new_items), effect)
                continue
            for index, (n, o) in enumerate(zip(new_items, old_items, strict=True)):
                at = f"{path}." if entry.kind == "block" else f"{path}[{index}]."
                yield from _diff_fields(entry.children, o or {}, n or {}, at, force_new)
            continue
        new_value = new if _present(new) else entry.zero()
        old_value = old if _present(old) else entry.zero()
        if not _same(new_value, old_value):
            yield FieldChange(path, old_value, new_value, _effect(entry, old_value, new_value))


def effect(token: str, path: str, old: Any, new: Any) -> Effect:
    """What changing one field from `old` to `new` does, as the provider decides."""
    entry = RESOURCES[token].get(path)
    if entry.kind in ("block", "blocks") and not new:
        return "replace" if entry.force_new else "not cleared"
    return _effect(entry, old, new)


def _effect(entry: Field, old: Any, new: Any) -> Effect:
    if entry.force_new:
        return "replace"
    if entry.update == "never":
        return "no-op"
    if entry.update == "sent_if_nonempty" and new in ("", [], None):
        return "not cleared"
    if entry.update == "refused_once_set" and old in ("inclusive", "exclusive"):
        return "refused by Stripe"
    return "update"


# ---------------------------------------------------------------- what Stripe stores


def created_state(token: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The state the provider's Read stores after Create sent `inputs`: what Create really
    sends, then Stripe's answer for everything it did not (`answer`)."""
    return _stored(RESOURCES[token].fields, inputs, creating=True)


def updated_state(token: str, state: Mapping[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The state after an in-place Update: only what Update sends reaches Stripe."""
    resource = RESOURCES[token]
    return _apply(resource.fields, dict(state), inputs)


def _stored(fields: tuple[Field, ...], inputs: Mapping[str, Any], creating: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for entry in fields:
        value = inputs.get(entry.name)
        sent = _present(value) and _sent_on_create(entry, value)
        if entry.read == "never":
            if _present(value):
                out[entry.name] = value
            continue
        if entry.kind in ("block", "blocks"):
            items = _as_list(value, entry.kind) if sent else (list(entry.answer or []))
            stored = [_stored(entry.children, item or {}, creating) for item in items]
            if stored:
                out[entry.name] = stored[0] if entry.kind == "block" else stored
            continue
        if sent:
            out[entry.name] = str(value).lower() if entry.name == "currency" else value
        elif entry.answer is not None:
            out[entry.name] = entry.answer
        elif entry.default is not None and entry.create == "always":
            out[entry.name] = entry.default
    return out


def _sent_on_create(entry: Field, value: Any) -> bool:
    if entry.create == "never":
        return False
    if entry.create == "if_true":
        return value is True
    if entry.create == "if_set":
        # GetOk: a zero value counts as unset and is not sent.
        return bool(value) if isinstance(value, str | bool | int | float | list | dict) else True
    return True


def _apply(fields: tuple[Field, ...], state: dict[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
    for entry in fields:
        new = inputs.get(entry.name)
        if not _present(new) and entry.computed:
            continue
        if entry.kind in ("block", "blocks"):
            new_items = _as_list(new, entry.kind)
            old_items = _as_list(state.get(entry.name), entry.kind)
            if not new_items or entry.force_new or entry.update == "never":
                continue  # not sent: Stripe keeps what it has
            merged = [_apply(entry.children, dict(old_items[i]) if i < len(old_items) else {}, item or {})
                      for i, item in enumerate(new_items)]
            if merged:
                state[entry.name] = merged[0] if entry.kind == "block" else merged
            else:
                state.pop(entry.name, None)
            continue
        effect = _effect(entry, state.get(entry.name), new if _present(new) else entry.zero())
        if effect == "update":
            if _present(new):
                state[entry.name] = new
            else:
                state.pop(entry.name, None)
    return state
