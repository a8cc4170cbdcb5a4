"""`verify stripe` for entitlements: the account's features and each product's, against the catalog.

Read with GET /v1/entitlements/features and GET /v1/products/{id}/features
(through infra/clients, bounded). A feature is matched by lookup key, which
the program never changes in place; a product by its `plan` metadata, as the
app matches it.
"""

from __future__ import annotations

from typing import Any

from infra.catalog import Catalog
from infra.clients.credentials import STRIPE_API_BASE, key_sources
from infra.clients.errors import ApiError
from infra.clients.stripe_api import Account
from infra.core.checks import Check

UP = "run `pulumi up` for this stack"


def run(catalog: Catalog, read: Account) -> list[Check]:
    if not catalog.entitlements:
        return []
    try:
        features = read.features()
    except ApiError as error:
        return [Check("entitlement features", "fail", f"could not read entitlement features: {error}",
                      _fix(error))]
    checks = _features(catalog, features)
    try:
        products = read.products()
    except ApiError as error:
        return [*checks, Check("product features", "fail", f"could not read products: {error}", _fix(error))]
    for plan_key, plan in catalog.plans.items():
        if not plan.paid:
            continue
        ours = [p for p in products if p.get("active") and (p.get("metadata") or {}).get("plan") == plan_key]
        if len(ours) != 1:
            continue  # the product check of `verify stripe` reports a missing or doubled product
        checks.append(_attached(plan_key, list(plan.entitlements), ours[0]["id"], read))
    return checks


def _fix(error: ApiError) -> str:
    if error.kind == "permission":
        names = ", ".join(error.permissions) or "the permission Stripe names"
        return f"give the read key {names}: Read on Entitlements (features) and Products"
    return error.fix(f"the read key, {key_sources('deployer')}", STRIPE_API_BASE)


def _features(catalog: Catalog, found: list[dict[str, Any]]) -> list[Check]:
    by_key: dict[str, list[dict[str, Any]]] = {}
    for feature in found:
        by_key.setdefault(feature["lookup_key"], []).append(feature)
    checks = []
    for key, declared in catalog.entitlements.items():
        name = f"feature {key}"
        matches = by_key.get(key, [])
        active = [f for f in matches if f["active"]]
        wrong_case = [f for f in found if f["lookup_key"] != key and f["lookup_key"].lower() == key]
        if not active and wrong_case:
            checks.append(Check(name, "fail", f"{wrong_case[0]['id']} has lookup key "
                                f"{wrong_case[0]['lookup_key']!r}; the app checks {key!r} exactly",
                                "a lookup key never changes in place: let `pulumi up` create the catalog's "
                                "feature, and archive the other in the Dashboard"))
        elif not active:
            state = f" ({matches[0]['id']} is archived)" if matches else ""
            checks.append(Check(name, "fail", f"no active feature has lookup key {key!r}{state}: no "
                                "subscriber is entitled to it", UP))
        elif active[0]["name"] != declared.name:
            checks.append(Check(name, "fail", f"{active[0]['id']} is named {active[0]['name']!r}, the "
                                f"catalog says {declared.name!r}", "`pulumi up` renames it in place"))
        else:
            checks.append(Check(name, "pass", f"{active[0]['id']} is active"))
    return checks


def _attached(plan_key: str, expected: list[str], product: str, read: Account) -> Check:
    name = f"features of {plan_key}"
    try:
        attached = read.product_features(product)
    except ApiError as error:
        return Check(name, "fail", f"could not read the features of {product}: {error}", _fix(error))
    got = {a["entitlement_feature"]["lookup_key"] for a in attached}
    missing, extra = sorted(set(expected) - got), sorted(got - set(expected))
    if missing or extra:
        detail = "; ".join(part for part in (
            f"missing {', '.join(missing)} (its subscribers are not entitled)" if missing else "",
            f"not in the catalog {', '.join(extra)} (its subscribers get them)" if extra else "") if part)
        fix = UP if not extra else ("remove the extra ones from the product in the Dashboard (Product "
                                    "catalog > the product > Features): the stack does not manage them")
        return Check(name, "fail", f"{product}: {detail}", fix + ("; then `pulumi up`" if missing and extra
                                                                  else ""))
    return Check(name, "pass", f"{product} has the catalog's {len(expected)} features")
