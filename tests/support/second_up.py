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

import copy
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pulumi.runtime import mocks

from infra.catalog import Deployment, load_deployment
from infra.catalog.stack_config import from_stack
from infra.commands import diff
from infra.commands.plan import offline
from infra.stripe import provider_model, provider_table
from infra.stripe.provider_model import FieldChange
from tests.support.mock_program import shallow
from tests.support.project import Project, credentials

Key = tuple[str, str]
"""(type token, resource name)"""
PRICE = provider_table.PRICE.token
PRODUCT = provider_table.PRODUCT.token
PORTAL = provider_table.PORTAL_CONFIGURATION.token
WEBHOOK = provider_table.WEBHOOK_ENDPOINT.token
SIGNING_SECRET = "whsec_" + "H4rn" * 8
# A host value outside Stripe, given to every `up` the helpers below run.
EXTRA = {"app:clerkSecretKey": "clerk" + "S3cr" * 6}


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
        plan = shallow(lambda: offline.run_program(self.project / "__main__.py", self.stack, engine.values,
                                                   engine.secret_keys, answer=answer))
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


def use(project: Project, catalog: str, stack_file: str | None = None, stack: str = "test") -> None:
    project.catalog(catalog)
    if stack_file is not None:
        project.stack(stack, stack_file)


def deployment(project: Project, stack: str) -> Deployment:
    config = from_stack(project.root, stack, env={}, overrides=credentials(stack) | EXTRA)
    return load_deployment(stack, project.root, config.get)


# A deployed base, by everything its `up` reads: the ~30 parametrized diff cases share a handful of
# bases, and each `up` under the mock runtime is ~0.15 s of CPU. Deterministic by construction (the
# same files, stack and config give the same registrations); the no-op tests run their own ups.
_DEPLOYED: dict[str, tuple[dict[Key, dict[str, Any]], dict[Key, bool]]] = {}


def deployed(project: Project, stack: str) -> Account:
    """An Account after one `up` of the project as it is now, from the cache when this worker ran it."""
    files = sorted((str(path.relative_to(project.root)), path.read_bytes())
                   for path in project.root.rglob("*") if path.is_file())
    key = hashlib.sha256(repr((stack, sorted(EXTRA.items()), files)).encode()).hexdigest()
    account = Account(project.root, stack, config=dict(EXTRA))
    if key not in _DEPLOYED:
        account.up()
        _DEPLOYED[key] = copy.deepcopy((account.state, account.protected))
    account.state, account.protected = copy.deepcopy(_DEPLOYED[key])
    return account


def agree(project: Project, stack: str, base: str, head: str, base_stack: str | None = None,
          head_stack: str | None = None) -> tuple[list[diff.Change], dict[Key, Outcome]]:
    """Deploy `base`, then run `diff` and the next `up` on `head`: every step diff claims is the
    step the provider takes, and every resource the provider touches is one diff speaks of."""
    use(project, base, base_stack, stack)
    account = deployed(project, stack)
    old = deployment(project, stack)
    use(project, head, head_stack, stack)
    changes = diff.compare(old, deployment(project, stack))
    outcomes = account.up()
    for change in changes:
        if change.resource is None:
            continue
        outcome = outcomes[change.resource]
        if change.step in ("no-op", "not cleared", "refused by Stripe"):
            assert change.step in outcome.fields().values(), (change, outcome)
        else:
            assert outcome.kind == change.step, (change, outcome)
    claimed = {c.resource for c in changes}
    assert set(changed(outcomes)) <= claimed, (changes, outcomes)
    return changes, outcomes


def read_back(obj: dict[str, object]) -> dict[str, object]:
    """A Stripe object as the provider's Read stores it (field names from the provider table)."""
    token = {"product": PRODUCT, "price": PRICE, "webhook_endpoint": WEBHOOK,
             "billing_portal.configuration": PORTAL,
             "entitlements.feature": provider_table.ENTITLEMENTS_FEATURE.token}.get(str(obj.get("object")))
    if token is None:
        return {}
    inputs = {entry.name: obj[entry.tf] for entry in provider_table.RESOURCES[token].fields
              if entry.kind not in ("block", "blocks") and obj.get(entry.tf) is not None}
    if token == PRODUCT:
        inputs["marketingFeatures"] = [f["name"] for f in obj.get("marketing_features") or []]  # type: ignore[attr-defined]
    if token == PRICE and isinstance(obj.get("recurring"), dict):
        recurring = obj["recurring"]
        inputs["recurring"] = {"interval": recurring["interval"],  # type: ignore[index]
                               "intervalCount": recurring.get("interval_count", 1)}  # type: ignore[attr-defined]
    if token == WEBHOOK:
        inputs["disabled"] = obj.get("status") != "enabled"
    state = provider_model.created_state(token, inputs)
    state.pop("transferLookupKey", None)  # never read: an import leaves it null
    return state
