"""`diff`: what a change to the catalog or a stack's settings does to money, in words.

Compares two resolved deployments (a git revision and the working tree) and
says, per plan, price, webhook, portal, key and hosting variable, what the
next `up` will do: update in place, or replace (a new price ID, a rotated
webhook secret), what customers keep, what must be redeployed, and what would
stay live by mistake. Which fields replace an object comes from stripe-python's
own update params: a field Stripe cannot update forces a new object.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from stripe.params import PriceUpdateParams, WebhookEndpointUpdateParams

from infra import hosting
from infra.catalog import Catalog, KeyManifest, Price
from infra.loader import Deployment

Severity = Literal["info", "warn", "error"]
GROUPS = ("plans", "prices", "webhook", "portal", "keys", "hosting", "stack")
PRICE_UPDATABLE = frozenset(PriceUpdateParams.__annotations__)
WEBHOOK_UPDATABLE = frozenset(WebhookEndpointUpdateParams.__annotations__)


@dataclass(frozen=True)
class Change:
    group: str
    severity: Severity
    subject: str
    message: str


def exit_status(changes: Iterable[Change]) -> int:
    severities = {c.severity for c in changes}
    return 2 if "error" in severities else 1 if "warn" in severities else 0


def compare(base: Deployment | None, head: Deployment) -> list[Change]:
    if base is None:
        return [Change("stack", "info", head.stack, "no deployable state at the base revision; "
                       "everything in the stack is new")]
    changes = _plans(base.catalog, head.catalog)
    changes += _prices(base, head)
    changes += _webhook(base, head)
    changes += _portal(base, head)
    changes += _keys(base.catalog, head.catalog)
    changes += _hosting(base, head)
    changes += _stack(base, head)
    return changes


def _targets(mode: str) -> str:
    return " and ".join(t.name for t in hosting.TARGETS[mode])


# ---------------------------------------------------------------- plans and prices


def _plans(base: Catalog, head: Catalog) -> list[Change]:
    changes = []
    for key in head.plans.keys() - base.plans.keys():
        plan = head.plans[key]
        what = f"a new product {plan.name!r}" if plan.paid else "a free plan (no Stripe product)"
        changes.append(Change("plans", "info", key, f"added: {what}"))
    for key in base.plans.keys() - head.plans.keys():
        if base.plans[key].paid:
            changes.append(Change("plans", "warn", key, (
                "removed: the product stays in Stripe (a product with prices cannot be deleted) and is only "
                "dropped from the stack; archive it in the Dashboard")))
        else:
            changes.append(Change("plans", "info", key, "removed (a free plan: nothing in Stripe)"))
    for key in sorted(base.plans.keys() & head.plans.keys()):
        old, new = base.plans[key], head.plans[key]
        fields = [f for f in ("name", "description", "features", "metadata")
                  if getattr(old, f) != getattr(new, f)]
        if fields:
            changes.append(Change("plans", "info", key,
                                  f"{', '.join(fields)} updated in place on the product"))
        if old.limits != new.limits:
            changes.append(Change("plans", "info", key, f"limits {old.limits} -> {new.limits} "
                                  "(the planLimits output; nothing in Stripe changes)"))
    return sorted(changes, key=lambda c: c.subject)


def _terms(price: Price) -> str:
    every = price.interval if price.interval_count == 1 else f"{price.interval_count} {price.interval}s"
    return f"{price.amount} {price.currency.upper()} every {every}"


def _prices(base: Deployment, head: Deployment) -> list[Change]:
    old_cat, new_cat = base.catalog, head.catalog
    old = {(p, k): price for p, k, price in old_cat.prices()}
    new = {(p, k): price for p, k, price in new_cat.prices()}
    targets = _targets(head.mode)
    changes = []
    for plan, key in sorted(new.keys() - old.keys()):
        price, lookup = new[(plan, key)], new_cat.lookup_key(plan, key)
        variable = hosting.price_variable(new_cat, lookup)
        changes.append(Change("prices", "info", lookup, f"added: {_terms(price)}; {variable} is written to "
                              f"{targets}: redeploy to sell it"))
    for plan, key in sorted(old.keys() - new.keys()):
        price, lookup = old[(plan, key)], old_cat.lookup_key(plan, key)
        if price.archived:
            changes.append(Change("prices", "info", lookup,
                                  "dropped from the stack; it stays archived in Stripe"))
        else:
            changes.append(Change("prices", "error", lookup, (
                "removed without being archived first: the provider cannot delete prices, so "
                f"{_terms(price)} would stay purchasable. Mark it `archived: true` and deploy that; "
                "remove it later")))
    for plan, key in sorted(old.keys() & new.keys()):
        changes += _price_change(base, head, plan, key, old[(plan, key)], new[(plan, key)])
    return changes


def _price_change(
    base: Deployment, head: Deployment, plan: str, key: str, old: Price, new: Price,
) -> list[Change]:
    old_lookup, new_lookup = base.catalog.lookup_key(plan, key), head.catalog.lookup_key(plan, key)
    old_var = hosting.price_variable(base.catalog, old_lookup)
    new_var = hosting.price_variable(head.catalog, new_lookup)
    targets = _targets(head.mode)
    changes = []
    # What the catalog calls amount/interval, Stripe calls unit_amount/recurring: not updatable.
    replacing = {"currency": "currency", "unit_amount": "amount", "recurring": "interval"}
    replaced = [name for field, name in replacing.items() if field not in PRICE_UPDATABLE
                and (getattr(old, name) != getattr(new, name)
                     or (name == "interval" and old.interval_count != new.interval_count))]
    if replaced:
        changes.append(Change("prices", "warn", new_lookup, (
            f"{_terms(old)} -> {_terms(new)} REPLACES the price: the new price gets a new ID; existing "
            f"subscribers stay on the old price at the old terms; the lookup key {new_lookup!r} moves to the "
            f"new price; {new_var} changes, redeploy {targets}. The old price stays active in Stripe: "
            "archive it in the Dashboard, or keep it declared with `archived: true` under another key")))
    in_place = [f for f in ("metadata", "nickname", "tax_behavior") if getattr(old, f) != getattr(new, f)]
    if in_place:
        changes.append(Change("prices", "info", new_lookup, f"{', '.join(in_place)} updated in place; the "
                              "price ID stays"))
    if old_lookup != new_lookup:
        renamed = f"; {old_var} becomes {new_var}, redeploy {targets}" if old_var != new_var else ""
        changes.append(Change("prices", "warn", new_lookup, f"lookup key {old_lookup!r} -> {new_lookup!r} "
                              "(in place, the price ID stays): code that looks up the old key finds nothing"
                              + renamed))
    if not old.archived and new.archived:
        changes.append(Change("prices", "warn", new_lookup, "archived: no new checkouts; existing "
                              f"subscribers keep it; {old_var} is removed from {targets}: redeploy"))
    elif old.archived and not new.archived:
        changes.append(Change("prices", "info", new_lookup, f"reactivated: purchasable again; {new_var} is "
                              f"written to {targets}"))
    return changes


# ---------------------------------------------------------------- webhook and portal


def _webhook(base: Deployment, head: Deployment) -> list[Change]:
    old, new = base.catalog.webhook, head.catalog.webhook
    old_url = f"https://{base.settings.domain}{old.path}"
    new_url = f"https://{head.settings.domain}{new.path}"
    changes = []
    if old.api_version != new.api_version and "api_version" not in WEBHOOK_UPDATABLE:
        changes.append(Change("webhook", "warn", "endpoint", (
            f"api_version {old.api_version} -> {new.api_version} REPLACES the endpoint (Stripe cannot change "
            "an endpoint's version): its signing secret rotates. The stack writes the new "
            f"{head.catalog.hosting.names.webhook_secret} to {_targets(head.mode)}; until the app is "
            "redeployed every event fails verification (Stripe retries for 3 days). Redeploy right "
            "after `up`")))
    if old_url != new_url:
        changes.append(Change("webhook", "warn", "endpoint", f"URL {old_url} -> {new_url}, in place (same "
                              "secret): Stripe delivers there from the moment `up` runs; deploy the app's "
                              "route first"))
    added = [e for e in new.events if e not in old.events]
    removed = [e for e in old.events if e not in new.events]
    if added:
        changes.append(Change("webhook", "info", "events", f"now delivered: {', '.join(added)}; make sure "
                              "the handler answers 2xx to them"))
    if removed:
        changes.append(Change("webhook", "warn", "events", f"no longer delivered: {', '.join(removed)}; code "
                              "that waits for them stops hearing"))
    if old.description != new.description:
        changes.append(Change("webhook", "info", "endpoint", "description updated in place"))
    return changes


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: value}


def _portal(base: Deployment, head: Deployment) -> list[Change]:
    old = _flatten(base.catalog.portal.model_dump(mode="json"))
    new = _flatten(head.catalog.portal.model_dump(mode="json"))
    changes = [Change("portal", "info", name, f"{old.get(name)!r} -> {new.get(name)!r} (in place; customers "
                      "see it in their next portal session)")
               for name in sorted(old.keys() | new.keys()) if old.get(name) != new.get(name)]
    if base.settings.domain != head.settings.domain:
        changes.append(Change("portal", "info", "default_return_url", f"returns to {head.settings.domain}"))
    return changes


# ---------------------------------------------------------------- keys, hosting, stack


def _keys(base: Catalog, head: Catalog) -> list[Change]:
    changes = []
    for role in ("app", "deployer"):
        old: KeyManifest = getattr(base.keys, role)
        new: KeyManifest = getattr(head.keys, role)
        for resource in sorted(old.permissions.keys() | new.permissions.keys()):
            was, now = old.permissions.get(resource, "none"), new.permissions.get(resource, "none")
            if was != now:
                changes.append(Change("keys", "warn", f"{role} key", (
                    f"{resource}: {was.title()} -> {now.title()}. Manual Dashboard work (no API can change a "
                    f"restricted key): edit the {role} key in each mode, then "
                    "`python -m infra verify stripe`")))
    return changes


def _hosting(base: Deployment, head: Deployment) -> list[Change]:
    old = {v.name: v for v in hosting.variables(base.catalog)}
    new = {v.name: v for v in hosting.variables(head.catalog)}
    targets = _targets(head.mode)
    changes = []
    for name in sorted(new.keys() - old.keys()):
        changes.append(Change("hosting", "warn", name, f"added ({new[name].describe()}) on {targets}: "
                              "redeploy for the app to read it"))
    for name in sorted(old.keys() - new.keys()):
        changes.append(Change("hosting", "warn", name, f"deleted from {targets}: an app that still reads it "
                              "breaks at its next deployment"))
    return changes


def _stack(base: Deployment, head: Deployment) -> list[Change]:
    changes = []
    if base.mode != head.mode:
        changes.append(Change("stack", "error", "billing:mode", f"{base.mode} -> {head.mode}: a stack never "
                              "changes mode; make a new stack"))
    if base.settings.vercel_project != head.settings.vercel_project:
        changes.append(Change("stack", "warn", "billing:vercelProject", "every variable moves to another "
                              "project: they are deleted from the old one"))
    old, new = base.settings.coupons, head.settings.coupons
    for key in sorted(new.keys() - old.keys()):
        changes.append(Change("stack", "info", f"coupon {key}", "added"))
    for key in sorted(old.keys() - new.keys()):
        changes.append(Change("stack", "warn", f"coupon {key}", "removed: the coupon is deleted and its "
                              "promotion codes stop working at checkout"))
    for key in sorted(old.keys() & new.keys()):
        if old[key] != new[key]:
            changes.append(Change("stack", "warn", f"coupon {key}", "changed: coupon terms cannot be "
                                  "updated, so the coupon and its promotion codes are replaced"))
    return changes
