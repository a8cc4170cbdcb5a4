"""`diff` against a base revision that does not validate: what can still be compared.

A broken base cannot be loaded into models, but its raw catalog still shows
which plans and prices existed, and which were archived. A price that
disappeared is never "new and fine": the provider cannot delete prices, so a
price removed without being archived stays purchasable.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from infra.catalog import Deployment, Price, lookup_key_for
from infra.commands.diff import stripe
from infra.commands.diff.change import Change
from infra.core.problems import Problem


def compare_broken(
    base_catalog: Any, problems: Iterable[Problem], head: Deployment, rev: str,
) -> list[Change]:
    changes = [Change("stack", "info", f"at {rev}", f"the base's own problem: {problem}")
               for problem in problems]
    changes.append(Change("stack", "info", f"at {rev}", (
        "the base does not validate, so only its plans and prices (removed ones, and the terms of kept "
        "ones) are compared; nothing else is")))
    if not isinstance(base_catalog, dict):
        changes.append(Change("prices", "warn", f"at {rev}", (
            "the base's catalog could not be read, so prices removed since then cannot be found: review "
            "the price changes by hand")))
    old_plans = _mapping(_mapping(base_catalog).get("plans"))
    for plan, raw_plan in sorted(old_plans.items()):
        prices = _mapping(_mapping(raw_plan).get("prices"))
        if plan not in head.catalog.plans and prices:
            changes.append(Change("plans", "warn", plan, "removed since the base: the product stays in "
                                  "Stripe; archive it in the Dashboard"))
        elif plan not in head.catalog.plans:
            changes.append(Change("plans", "info", plan, "removed since the base (a free plan: nothing in "
                                  "Stripe)"))
        for price, raw_price in sorted(prices.items()):
            if plan in head.catalog.plans and price in head.catalog.plans[plan].prices:
                changes += _terms(plan, price, raw_price, head)
                continue
            fields = _mapping(raw_price)
            declared = fields.get("lookup_key")
            lookup = lookup_key_for(plan, price, declared if isinstance(declared, str) else None)
            if fields.get("archived") is True:
                changes.append(Change("prices", "warn", str(lookup), (
                    "removed; the base marks it archived, but the base does not validate, so check in the "
                    "Dashboard that it is archived in Stripe")))
            else:
                changes.append(Change("prices", "error", str(lookup), (
                    "removed without being archived first: the provider cannot delete prices, so it would "
                    "stay purchasable. Restore it with `archived: true` and deploy that; remove it later")))
    return changes


def _terms(plan: str, key: str, raw_price: Any, head: Deployment) -> list[Change]:
    """A price kept since the base must keep its terms, even when the rest of the base is broken."""
    new = head.catalog.plans[plan].prices[key]
    try:
        old = Price.model_validate(raw_price)
    except ValidationError:
        return [Change("prices", "warn", head.catalog.lookup_key(plan, key), (
            "the base's entry for this price does not validate, so its terms cannot be compared: check "
            "by hand that amount, currency, interval and interval_count did not change"))]
    return stripe.terms_changed(plan, key, old, new, head.catalog.lookup_key(plan, key))


def _mapping(value: Any) -> dict[str, Any]:
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}
