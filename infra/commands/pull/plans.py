"""`pull` for products and prices: each plan the account sells, with its recurring per-unit prices.

A product becomes a plan named by its `plan` metadata (else its name); only
active, licensed, recurring per-unit prices fit the catalog, and each one
that does is adopted under the name the program gives it.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from infra.catalog import adoption, amount_text, from_minor_units, lookup_key_for
from infra.catalog.values import is_lookup_key, slug_for
from infra.commands.pull.findings import Finding
from infra.stripe.reference import CURRENCIES, MAX_INTERVAL_COUNT

INTERVAL_KEYS = {"day": "daily", "week": "weekly", "month": "monthly", "year": "yearly"}


def read(
    products: list[dict[str, Any]], prices: list[dict[str, Any]], findings: list[Finding],
    adopted: dict[tuple[str, str], str],
) -> tuple[dict[str, Any], dict[str, str]]:
    prices_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for price in prices:
        prices_of[str(price.get("product"))].append(price)
    candidates: dict[str, list[tuple[dict[str, Any], list[dict[str, Any]]]]] = defaultdict(list)
    for product in products:
        if not product.get("active"):
            continue
        fitting = [p for p in prices_of[product["id"]] if p.get("active") and _fits(p, findings)]
        if not fitting:
            findings.append(Finding("misfit", product["id"], f"product {product.get('name')!r} has no "
                                    "active recurring per-unit price; not adopted"))
            continue
        candidates[_plan_key(product)].append((product, fitting))

    plans: dict[str, Any] = {}
    product_of_plan: dict[str, str] = {}
    for key, found in sorted(candidates.items()):
        # More active prices first, then the oldest: the product the app most likely uses.
        found.sort(key=lambda pair: (-len(pair[1]), pair[0].get("created") or 0))
        product, fitting = found[0]
        for other, _ in found[1:]:
            findings.append(Finding("misfit", other["id"], f"a second active product for plan {key!r} "
                                    f"(adopted: {product['id']}); not adopted: archive it in the Dashboard "
                                    "or customers can still buy it"))
        adopted[(adoption.PRODUCT, key)] = product["id"]  # the product, then its prices
        plans[key] = _plan(key, product, fitting, findings, adopted)
        product_of_plan[product["id"]] = key
    if not plans:
        findings.append(Finding("note", "plans", "no product fits; the catalog starts with a free plan"))
        plans["free"] = {"name": "Free"}
    return plans, product_of_plan


def _fits(price: dict[str, Any], findings: list[Finding]) -> bool:
    recurring = price.get("recurring") or {}
    reason = None
    if price.get("type") != "recurring" or not recurring:
        reason = "a one-time price"
    elif price.get("billing_scheme") != "per_unit" or price.get("unit_amount") is None:
        reason = "tiered or custom-amount"
    elif recurring.get("usage_type") == "metered":
        reason = "metered usage"
    elif recurring.get("interval") not in INTERVAL_KEYS:
        reason = f"interval {recurring.get('interval')!r}, which the catalog does not know"
    elif not _billable_count(recurring):
        # Never defaulted: an interval_count of 0 read as 1 would change what the price charges.
        reason = f"interval_count {recurring.get('interval_count')!r}, which Stripe does not bill by"
    elif price.get("currency") not in CURRENCIES:
        reason = f"currency {price.get('currency')!r}"
    if reason:
        findings.append(Finding("misfit", price["id"], f"{reason}; the catalog holds licensed recurring "
                                "per-unit prices, so it is not adopted"))
    return reason is None


def _billable_count(recurring: dict[str, Any]) -> bool:
    count = recurring.get("interval_count", 1)
    limit = MAX_INTERVAL_COUNT.get(recurring.get("interval") or "", 0)
    return type(count) is int and 1 <= count <= limit  # bool is not a count


def _plan_key(product: dict[str, Any]) -> str:
    metadata = product.get("metadata") or {}
    raw = next((v for k, v in metadata.items() if k.lower() == "plan" and v), None) or product.get("name")
    return slug_for(str(raw or "plan").lower(), fallback="plan")


def _plan(
    key: str, product: dict[str, Any], prices: list[dict[str, Any]], findings: list[Finding],
    adopted: dict[tuple[str, str], str],
) -> dict[str, Any]:
    plan: dict[str, Any] = {"name": product.get("name") or key}
    if product.get("description"):
        plan["description"] = product["description"]
    features = [f.get("name") for f in product.get("marketing_features") or () if f.get("name")]
    if features:
        plan["features"] = features
    metadata = _metadata(product.get("metadata") or {}, key, product["id"], "product", findings)
    if metadata:
        plan["metadata"] = metadata
    plan["prices"] = {}
    taken: set[str] = set()
    rank = list(INTERVAL_KEYS)

    def order(price: dict[str, Any]) -> tuple[int, int, int]:
        recurring = price["recurring"]
        count = recurring.get("interval_count") or 1
        return rank.index(recurring["interval"]), count, price.get("created") or 0

    for price in sorted(prices, key=order):
        price_key = _price_key(price, prices, taken)
        taken.add(price_key)
        plan["prices"][price_key] = _price(key, price_key, price, product, findings)
        adopted[(adoption.PRICE, adoption.price_name(key, price_key))] = price["id"]
    return plan


def _metadata(
    metadata: dict[str, str], plan: str, object_id: str, what: str, findings: list[Finding],
) -> dict[str, str]:
    kept = {}
    for name, value in metadata.items():
        if name == "plan":
            if value != plan:
                findings.append(Finding("in place", object_id, f"{what} metadata plan={value!r} becomes "
                                        f"{plan!r}, the value the app matches"))
        elif name.lower() == "plan":
            # Stripe removes a metadata key only when it is sent empty: keep it, as "".
            kept[name] = ""
            findings.append(Finding("in place", object_id, f"{what} metadata key {name!r} is in the wrong "
                                    f"case; the first up sets plan={plan!r} and clears {name!r}"))
        else:
            kept[name] = value
    if not any(name.lower() == "plan" for name in metadata):
        findings.append(Finding("in place", object_id, f"{what} has no `plan` metadata; the first up "
                                f"sets plan={plan!r}"))
    return kept


def _price_key(price: dict[str, Any], siblings: list[dict[str, Any]], taken: set[str]) -> str:
    recurring = price["recurring"]
    interval, count = recurring["interval"], recurring.get("interval_count") or 1
    base = INTERVAL_KEYS[interval] if count == 1 else f"every_{count}_{interval}s"
    same = [p for p in siblings if p["recurring"]["interval"] == interval
            and (p["recurring"].get("interval_count") or 1) == count]
    if len({p["currency"] for p in same}) > 1:
        base = f"{base}_{price['currency']}"
    key, n = base, 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    return key


def _price(
    plan: str, price_key: str, price: dict[str, Any], product: dict[str, Any], findings: list[Finding],
) -> dict[str, Any]:
    currency = price["currency"]
    amount = from_minor_units(int(price["unit_amount"]), currency)  # with every digit the currency has
    recurring = price["recurring"]
    out: dict[str, Any] = {"amount": amount_text(amount), "currency": currency,
                           "interval": recurring["interval"]}
    if recurring.get("interval_count", 1) != 1:
        out["interval_count"] = recurring["interval_count"]
    default_lookup = lookup_key_for(plan, price_key)
    lookup_key = price.get("lookup_key")
    if lookup_key and is_lookup_key(lookup_key):
        if lookup_key != default_lookup:
            out["lookup_key"] = lookup_key
    else:
        findings.append(Finding("in place", price["id"], f"no lookup key; proposed {default_lookup!r} "
                                "(adding one is an in-place update, the price ID stays)"))
    if price.get("tax_behavior") not in (None, "unspecified"):
        out["tax_behavior"] = price["tax_behavior"]
    if price.get("nickname"):
        out["nickname"] = price["nickname"]
    metadata = _metadata(price.get("metadata") or {}, plan, price["id"], "price", findings)
    if metadata:
        out["metadata"] = metadata
    if product.get("default_price") == price["id"]:
        findings.append(Finding("note", price["id"], f"the default price of {product['id']}; Stripe "
                                "cannot archive a default price, so unset it in the Dashboard before "
                                "marking this price `archived: true`"))
    return out
