"""The second-`up` harness: the real program run again over what the real provider would store.

Pulumi's mock runtime echoes whatever the program registers, so a program that
omits a field Stripe fills, or changes one Update never sends, looks fine
under it. Here each Stripe registration is answered with the state the
bridged provider's Read would store (infra/stripe/provider_table.py: what Create
sends, what Stripe answers for the rest), the next run's inputs are diffed
against it with the provider's own rules, and each resource gets the step the
engine would take: create, same, update, replace or delete, refused when the
resource is protected (live) and the step would replace or delete it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pulumi.runtime import mocks

from infra.catalog.stack_config import from_stack
from infra.commands.plan import offline
from infra.stripe import provider_model, provider_table
from infra.stripe.provider_model import FieldChange
from tests.conftest import credentials

Key = tuple[str, str]
"""(type token, resource name)"""
WEBHOOK = provider_table.WEBHOOK_ENDPOINT.token
SIGNING_SECRET = "whsec_" + "H4rn" * 8


@dataclass(frozen=True)
class Outcome:
    kind: Literal["create", "same", "update", "replace", "delete", "import"]
    protected: bool
    changes: tuple[FieldChange, ...] = ()

    @property
    def refused(self) -> bool:
        """The engine refuses to replace or delete a protected resource."""
        return self.protected and self.kind in ("replace", "delete")

    def lasting(self) -> bool:
        """The update cannot converge: the same diff comes back on the next run."""
        return any(c.effect in ("no-op", "not cleared", "refused by Stripe") for c in self.changes)

    def fields(self) -> dict[str, str]:
        return {change.path: change.effect for change in self.changes}


@dataclass
class Account:
    """One stack's objects as the provider stores them, carried from one `up` to the next."""

    project: Path
    stack: str
    config: dict[str, str] = field(default_factory=dict)
    state: dict[Key, dict[str, Any]] = field(default_factory=dict)
    protected: dict[Key, bool] = field(default_factory=dict)
    existing: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Objects already in Stripe by ID, as the provider's Read would store them (for adoption)."""

    def up(self) -> dict[Key, Outcome]:
        """One `pulumi up`: each Stripe resource's step, and the state it leaves."""
        registered: dict[Key, dict[str, Any]] = {}
        imports: dict[Key, str] = {}

        def answer(args: mocks.MockResourceArgs) -> tuple[str, dict[str, Any]] | None:
            if args.typ not in provider_table.RESOURCES:
                return None
            key = (args.typ, args.name)
            inputs = offline.display(args.inputs)
            registered[key] = inputs
            if args.resource_id:
                imports[key] = args.resource_id
            before = self.state.get(key)
            if before is None and args.resource_id in self.existing:
                before = self.existing[args.resource_id]
            stored = before if before is not None else provider_model.created_state(args.typ, inputs)
            extra = {"secret": SIGNING_SECRET} if args.typ == WEBHOOK else {}
            return args.resource_id or f"<{args.name}.id>", {**stored, **extra}

        secrets = credentials(self.stack) | self.config
        engine = from_stack(self.project, self.stack, env={}, overrides=secrets)
        plan = offline.run_program(self.project / "__main__.py", self.stack, engine.values,
                                   engine.secret_keys, answer=answer)
        protected = {(r.type, r.name): r.protect for r in plan.resources}
        outcomes: dict[Key, Outcome] = {}
        for key, inputs in registered.items():
            outcomes[key] = self._step(key, inputs, protected[key], imports.get(key))
        for key in set(self.state) - set(registered):
            outcomes[key] = Outcome("delete", self.protected.get(key, False))
            if not outcomes[key].refused:
                del self.state[key]
        self.protected.update(protected)
        return outcomes

    def _step(self, key: Key, inputs: dict[str, Any], protected: bool, import_id: str | None) -> Outcome:
        token = key[0]
        before = self.state.get(key)
        if before is None and import_id is not None:
            adopted = self.existing[import_id]
            step = provider_model.diff(token, adopted, inputs)
            # Since Pulumi 3.174 an import whose inputs differ imports, then updates in place;
            # only a replacement is refused.
            kind: Literal["import", "replace"] = "replace" if step.kind == "replace" else "import"
            if kind == "import":
                self.state[key] = provider_model.updated_state(token, adopted, inputs)
            return Outcome(kind, True, step.changes) if kind == "replace" else Outcome(kind, protected,
                                                                                       step.changes)
        if before is None:
            self.state[key] = provider_model.created_state(token, inputs)
            return Outcome("create", protected)
        step = provider_model.diff(token, before, inputs)
        outcome = Outcome(step.kind, protected, step.changes)
        if outcome.refused:
            return outcome
        if step.kind == "replace":
            self.state[key] = provider_model.created_state(token, inputs)
        elif step.kind == "update":
            self.state[key] = provider_model.updated_state(token, before, inputs)
        return outcome


def changed(outcomes: dict[Key, Outcome]) -> dict[Key, Outcome]:
    """Every outcome but `same`: what a reviewer would see in the preview."""
    return {key: outcome for key, outcome in outcomes.items() if outcome.kind != "same"}
