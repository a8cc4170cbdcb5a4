"""`diff` for the Stripe objects of the catalog: plans, prices, the webhook endpoint, the portal."""

from __future__ import annotations

from typing import Any

from infra.catalog import Deployment, Price, adoption, hosting, site_url
from infra.commands.diff.change import Change, FieldChange, after_write, moved, removed, written_to
from infra.stripe import provider_model
from infra.stripe.provider_table import PORTAL_CONFIGURATION, PRICE, PRODUCT, WEBHOOK_ENDPOINT

# ---------------------------------------------------------------- plans and prices


def plans(base: Deployment, head: Deployment) -> list[Change]:
    old_plans, new_plans = base.catalog.plans, head.catalog.plans
    token = PRODUCT.token
    changes = []
    for key in sorted(new_plans.keys() - old_plans.keys()):
        plan = new_plans[key]
        if not plan.paid:
            changes.append(Change("plans", "info", key, "added: a free plan (no Stripe product)"))
        elif plan.archived:
            changes.append(Change("plans", "warn", key, (
                "added already archived: the provider creates a product active, "
                "so it is sellable until the next `up` archives it"), (token, key), "create",
                sources=(PRODUCT.cite("active"),)))
        else:
            changes.append(Change("plans", "info", key, f"added: a new product {plan.name!r}", (token, key),
                                  "create"))
    for key in sorted(old_plans.keys() - new_plans.keys()):
        plan = old_plans[key]
        if not plan.paid:
            changes.append(Change("plans", "info", key, "removed (a free plan: nothing in Stripe)"))
        elif not plan.archived:
            changes.append(Change("plans", "error", key, (
                "removed while its product is active: the provider cannot delete a product that has "
                "prices, so it would stay sellable in Stripe. Mark the plan and its prices `archived: "
                "true` and deploy that; remove them later"), (token, key), "delete"))
        else:
            changes.append(removed(head, "plans", key, token, key, "the archived product",
                                   "`archived: true` costs nothing"))
    for key in sorted(old_plans.keys() & new_plans.keys()):
        old, new = old_plans[key], new_plans[key]
        if not (old.paid and new.paid):
            continue
        fields = [f for f in ("name", "description", "metadata") if getattr(old, f) != getattr(new, f)]
        if old.features != new.features:
            if new.features or not old.features:
                fields.append("features")
            else:
                changes.append(Change("plans", "error", key, (
                    "every marketing feature removed: the provider sends nothing for an empty list, "
                    "so Stripe keeps the old ones and every `up` "
                    "shows a diff. Keep at least one feature"), (token, key), "not cleared",
                    fields=(moved("marketingFeatures", old.features, new.features),),
                    sources=(PRODUCT.cite("marketingFeatures"),)))
        if fields:
            paths = {"features": "marketingFeatures"}
            changes.append(Change("plans", "info", key, f"{', '.join(fields)} updated in place on the "
                                  "product", (token, key), "update",
                                  fields=tuple(moved(paths.get(f, f), getattr(old, f), getattr(new, f))
                                               for f in fields)))
        if old.archived != new.archived:
            what = ("archived: the product leaves the Dashboard's active list; existing subscribers keep it"
                    if new.archived else "reactivated: the product is active again")
            changes.append(Change("plans", "warn" if new.archived else "info", key, what, (token, key),
                                  "update", fields=(moved("active", not old.archived, not new.archived),)))
        if old.limits != new.limits:
            changes.append(Change("plans", "info", key, f"limits {old.limits} -> {new.limits} "
                                  "(the planLimits output; nothing in Stripe changes)"))
    return changes


def _terms(price: Price) -> str:
    every = price.interval if price.interval_count == 1 else f"{price.interval_count} {price.interval}s"
    return f"{price.amount} {price.currency.upper()} every {every}"


def prices(base: Deployment, head: Deployment) -> list[Change]:
    old_cat, new_cat = base.catalog, head.catalog
    old = {(p, k): price for p, k, price in old_cat.prices()}
    new = {(p, k): price for p, k, price in new_cat.prices()}
    targets, after = written_to(head), after_write(head)
    token = PRICE.token
    changes = []
    for plan, key in sorted(new.keys() - old.keys()):
        price, lookup = new[(plan, key)], new_cat.lookup_key(plan, key)
        name = adoption.price_name(plan, key)
        variable = hosting.price_variable(new_cat, lookup)
        moved = (f"; it takes lookup key {lookup!r} over from the archived price (moved with "
                 "transfer_lookup_key), so the app's lookup finds it at once"
                 if new_cat.takes_over_lookup_key(plan, key) else "")
        changes.append(Change("prices", "info", lookup, f"added: {_terms(price)}{moved}; {variable} is "
                              f"written to {targets} ({after}) to sell it", (token, name), "create"))
    for plan, key in sorted(old.keys() - new.keys()):
        price, lookup = old[(plan, key)], old_cat.lookup_key(plan, key)
        name = adoption.price_name(plan, key)
        if price.archived:
            changes.append(removed(head, "prices", lookup, token, name, "the archived price",
                                   "`archived: true` costs nothing"))
        else:
            changes.append(Change("prices", "error", lookup, (
                "removed without being archived first: the provider cannot delete prices, "
                f"so {_terms(price)} would stay purchasable. Mark it "
                "`archived: true` and deploy that; remove it later"), (token, name), "delete",
                sources=(f"{PRICE.file} {PRICE.delete_source}",)))
    for plan, key in sorted(old.keys() & new.keys()):
        changes += _price_change(base, head, plan, key, old[(plan, key)], new[(plan, key)])
    return changes


# Catalog field -> provider input it becomes.
_PRICE_TERMS = {"amount": "unitAmount", "currency": "currency", "interval": "recurring.interval",
                "interval_count": "recurring.intervalCount"}


def terms_changed(plan: str, key: str, old: Price, new: Price, lookup: str) -> list[Change]:
    """A price's terms never change: an edit to them is an error, with the edit that does it safely."""
    terms = [field for field in _PRICE_TERMS if getattr(old, field) != getattr(new, field)]
    if not terms:
        return []
    path = _PRICE_TERMS[terms[0]]
    step = provider_model.effect(PRICE.token, path, getattr(old, terms[0]), getattr(new, terms[0]))
    does = ("replaces the price: live refuses it (protected), and elsewhere the new price cannot take the "
            "lookup key the old one (never deleted by the provider) still holds, so `up` stops"
            if step == "replace" else
            "is never sent by the provider's Update: nothing changes in Stripe and every `up` shows it again")
    new_key = f"{key}_{new.interval}" if terms == ["interval"] else f"{key}_v2"
    return [Change("prices", "error", lookup, (
        f"{_terms(old)} -> {_terms(new)}: a Stripe price's terms never change. This edit {does}. "
        "For money: existing subscribers must stay on the old price at the old terms, "
        f"and new ones get the new terms from a new price. The edit: keep `{key}` as it was with `archived: "
        f"true`, and add a new price key, e.g. `{new_key}`, with the new terms and `lookup_key: {lookup}` "
        f"(it takes the key over); or run `billing reprice {plan}.{key} {new.amount}`"),
        (PRICE.token, adoption.price_name(plan, key)), step, fields=_term_fields(old, new, terms),
        sources=(PRICE.cite(path),))]


def _term_fields(old: Price, new: Price, terms: list[str]) -> tuple[FieldChange, ...]:
    """The provider inputs a terms edit moves: `unitAmount: 2900 -> 3900` (the currency's minor unit)."""
    def value(price: Price, name: str) -> Any:
        return price.unit_amount if name == "amount" else getattr(price, name)

    return tuple(moved(_PRICE_TERMS[name], value(old, name), value(new, name)) for name in terms)


def _price_change(
    base: Deployment, head: Deployment, plan: str, key: str, old: Price, new: Price,
) -> list[Change]:
    old_lookup, new_lookup = base.catalog.lookup_key(plan, key), head.catalog.lookup_key(plan, key)
    old_var = hosting.price_variable(base.catalog, old_lookup)
    new_var = hosting.price_variable(head.catalog, new_lookup)
    targets, after = written_to(head), after_write(head)
    resource = (PRICE.token, adoption.price_name(plan, key))
    changes = []
    changes += terms_changed(plan, key, old, new, new_lookup)
    if old.tax_behavior != new.tax_behavior:
        step = provider_model.effect(PRICE.token, "taxBehavior", old.tax_behavior or "unspecified",
                                     new.tax_behavior or "unspecified")
        if step == "refused by Stripe":
            changes.append(Change("prices", "error", new_lookup, (
                f"tax_behavior {old.tax_behavior} -> {new.tax_behavior}: Stripe refuses to change it once "
                "inclusive or exclusive; add a new price key instead"),
                resource, step, fields=(moved("taxBehavior", old.tax_behavior, new.tax_behavior),),
                sources=(PRICE.cite("taxBehavior"),)))
        else:
            changes.append(Change("prices", "info", new_lookup, "tax_behavior set in place; the price ID "
                                  "stays", resource, step,
                                  fields=(moved("taxBehavior", old.tax_behavior, new.tax_behavior),)))
    in_place = [f for f in ("metadata", "nickname") if getattr(old, f) != getattr(new, f)]
    if in_place:
        changes.append(Change("prices", "info", new_lookup, f"{', '.join(in_place)} updated in place; the "
                              "price ID stays", resource, "update",
                              fields=tuple(moved(f, getattr(old, f), getattr(new, f)) for f in in_place)))
    if old_lookup != new_lookup:
        renamed = f"; {old_var} becomes {new_var} ({after})" if old_var != new_var else ""
        changes.append(Change("prices", "warn", new_lookup, f"lookup key {old_lookup!r} -> {new_lookup!r} "
                              "(in place, the price ID stays): code that looks up the old key finds nothing"
                              + renamed, resource, "update",
                              fields=(moved("lookupKey", old_lookup, new_lookup),)))
    if not old.archived and new.archived:
        if head.catalog.held_lookup_key(plan, key) is None:
            # The variable stays: it now holds the ID of the price that took the lookup key over.
            changes.append(Change("prices", "info", new_lookup, "archived: no new checkouts; existing "
                                  "subscribers keep it; its lookup key and "
                                  f"{new_var} move to the price that takes it over ({after})", resource,
                                  "update", fields=(moved("active", True, False),)))
        else:
            changes.append(Change("prices", "warn", new_lookup, "archived: no new checkouts; existing "
                                  f"subscribers keep it; {old_var} is removed from {targets} ({after})",
                                  resource, "update", fields=(moved("active", True, False),)))
    elif old.archived and not new.archived:
        changes.append(Change("prices", "info", new_lookup, f"reactivated: purchasable again; {new_var} is "
                              f"written to {targets}", resource, "update",
                              fields=(moved("active", False, True),)))
    return changes


# ---------------------------------------------------------------- webhook and portal


def webhook(base: Deployment, head: Deployment) -> list[Change]:
    old, new = base.catalog.webhook, head.catalog.webhook
    token = WEBHOOK_ENDPOINT.token
    secret = head.catalog.hosting.names.webhook_secret
    secret_next = head.catalog.hosting.names.webhook_secret_next
    targets = written_to(head)
    old_versions = {old.api_version, *([old.next_api_version] if old.next_api_version else [])}
    new_versions = {new.api_version, *([new.next_api_version] if new.next_api_version else [])}
    changes = []
    if new.api_version != old.api_version and new.api_version not in old_versions:
        changes.append(Change("webhook", "error", "endpoint", (
            f"api_version {old.api_version} -> {new.api_version} in one step: a version never changes on an "
            "endpoint, so this is a new endpoint with a new secret "
            "and events fail verification until the app has the new secret (on live the old one is protected "
            "and "
            f"`up` stops). Upgrade in two steps: first keep api_version and add `next_api_version: "
            f"{new.api_version}` (a second endpoint; {secret_next} is written), deploy the app verifying "
            f"both secrets; then make it api_version and remove the old one"),
            (token, adoption.webhook_name(new.api_version)), "create",
            fields=(moved("apiVersion", old.api_version, new.api_version),),
            sources=(WEBHOOK_ENDPOINT.cite("apiVersion"),)))
    for version in sorted(new_versions - old_versions):
        if version == new.next_api_version:
            changes.append(Change("webhook", "info", "endpoint", (
                f"upgrade started: a second endpoint on API version {version} receives every event too, and "
                f"its secret is written as {secret_next} to {targets}. Deploy the app so it verifies a "
                f"signature with {secret} or {secret_next} and handles both event shapes (events arrive "
                "twice, once per endpoint: dedupe on the event id)"), (token, adoption.webhook_name(version)),
                "create"))
    for version in sorted(old_versions - new_versions):
        name = adoption.webhook_name(version)
        changes.append(removed(head, "webhook", f"endpoint {version}", token, name,
                               f"the endpoint on API version {version}", "as `api_version` or "
                               "`next_api_version`"))
    if new.api_version != old.api_version and new.api_version in old_versions:
        changes.append(Change("webhook", "warn", "endpoint", (
            f"upgrade finished: {secret} now holds the secret of the {new.api_version} endpoint and "
            f"{secret_next} is removed; {after_write(head)}, before the old endpoint goes"),
            (token, adoption.webhook_name(new.api_version)), "same"))
    old_url = site_url(base.settings.domain, old.path)
    new_url = site_url(head.settings.domain, new.path)
    kept = (token, adoption.webhook_name(new.api_version))
    if old_url != new_url:
        changes.append(Change("webhook", "warn", "endpoint", f"URL {old_url} -> {new_url}, in place (same "
                              "secret): Stripe delivers there from the moment `up` runs; deploy the app's "
                              "route first", kept, "update", fields=(moved("url", old_url, new_url),)))
    added = [e for e in new.events if e not in old.events]
    dropped = [e for e in old.events if e not in new.events]
    if added:
        changes.append(Change("webhook", "info", "events", f"now delivered: {', '.join(added)}; make sure "
                              "the handler answers 2xx to them", kept, "update",
                              fields=(moved("enabledEvents", old.events, new.events),)))
    if dropped:
        changes.append(Change("webhook", "warn", "events", f"no longer delivered: {', '.join(dropped)}; code "
                              "that waits for them stops hearing", kept, "update",
                              fields=(moved("enabledEvents", old.events, new.events),)))
    if old.description != new.description:
        changes.append(Change("webhook", "info", "endpoint", "description updated in place", kept, "update",
                              fields=(moved("description", old.description, new.description),)))
    return changes


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: value}


def portal(base: Deployment, head: Deployment) -> list[Change]:
    old_portal, new_portal = base.catalog.portal, head.catalog.portal
    resource = (PORTAL_CONFIGURATION.token, adoption.PORTAL_NAME)
    changes = []
    if old_portal.plan_switching is not None and new_portal.plan_switching is None:
        changes.append(Change("portal", "error", "plan_switching", (
            "removed: the provider sends nothing for an omitted block, so switching stays on in "
            "Stripe. "
            "Write `enabled: false` under plan_switching and keep its plans"), resource, "same",
            sources=(PORTAL_CONFIGURATION.cite("features.subscriptionUpdates"),)))
    for name in ("headline", "privacy_policy_url", "terms_of_service_url"):
        was, now = getattr(old_portal.business_profile, name), getattr(new_portal.business_profile, name)
        if was and not now:
            changes.append(Change("portal", "error", f"business_profile.{name}", (
                "removed: the provider drops an empty string, "
                f"so Stripe keeps {was!r} and every `up` "
                "shows a diff. Give it a new value instead"), resource, "not cleared",
                fields=(moved(f"business_profile.{name}", was, now),),
                sources=(PORTAL_CONFIGURATION.cite("businessProfile"),)))
    old = _flatten(old_portal.model_dump(mode="json"))
    new = _flatten(new_portal.model_dump(mode="json"))
    reported = {"plan_switching"} if new_portal.plan_switching is None else set()
    reported |= {f"business_profile.{c.subject.split('.')[-1]}" for c in changes if c.severity == "error"}
    changes += [Change("portal", "info", name, f"{old.get(name)!r} -> {new.get(name)!r} (in place; customers "
                       "see it in their next portal session)", resource, "update",
                       fields=(moved(name, old.get(name), new.get(name)),))
                for name in sorted(old.keys() | new.keys())
                if old.get(name) != new.get(name) and not any(name.startswith(r) for r in reported)]
    old_offer, new_offer = base.catalog.portal_offer(), head.catalog.portal_offer()
    if new_portal.plan_switching is not None and old_offer != new_offer:
        changes.append(Change("portal", "info", "plan_switching", (
            f"customers can switch between {_offer(old_offer)} -> {_offer(new_offer)} (in place)"),
            resource, "update"))
    if base.settings.domain != head.settings.domain:
        changes.append(Change("portal", "info", "default_return_url", f"returns to {head.settings.domain}",
                              resource, "update"))
    return changes


def _offer(offer: dict[str, list[str]]) -> str:
    return "; ".join(f"{plan}: {', '.join(keys) or '-'}" for plan, keys in offer.items()) or "nothing"


