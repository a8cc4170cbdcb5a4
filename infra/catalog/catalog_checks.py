"""The shared catalog checked as a whole: each plan and section on its own, then across them.

Each plan, feature and section is validated on its own, so one mistake hides no
other; then what spans sections (lookup keys, the portal's plans, the hosting
names, the entitlements, the keys' manifests). Every problem names the file,
the line, the field and the fix; the catalog is returned only when there is none.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infra.catalog import entitlements, hosting, tier_contract
from infra.catalog.keys import ENTITLEMENTS, Keys
from infra.catalog.models import (
    Catalog,
    Entitlement,
    Hosting,
    Plan,
    Portal,
    Webhook,
    lookup_key_for,
)
from infra.catalog.settings import Coupon
from infra.catalog.validation import unknown_keys, validate, validate_keyed
from infra.catalog.values import check_feature_key, check_slug, slug_for
from infra.core.problems import Problem
from infra.core.redact import shown
from infra.core.sources import Document, Path_


def check_catalog(doc: Document) -> tuple[Catalog | None, list[Problem]]:
    """The catalog alone, checked as a whole (commands that edit it validate before writing)."""
    catalog, problems = _catalog_models(doc)
    # A value the reader refused (`amount: 010`) is None to the models: its own problem says it all.
    refused = {problem.field for problem in doc.problems}
    return catalog, [problem for problem in problems if problem.field not in refused]


def _catalog_models(doc: Document) -> tuple[Catalog | None, list[Problem]]:
    """Each plan and section is checked on its own, so one mistake hides no other."""
    raw = doc.data
    if not isinstance(raw, dict):
        return None, [doc.problem((), "the catalog must be a mapping with `plans:` and `webhook:`")]
    problems = unknown_keys(doc, (), raw, Catalog)
    raw_plans = raw.get("plans")
    if not isinstance(raw_plans, dict) or not raw_plans:
        problems.append(doc.problem(("plans",), "declare at least one plan under `plans:`"))
        raw_plans = {}
    plans, found = validate_keyed(Plan, raw_plans, check_slug, doc, ("plans",))
    problems += found
    webhook, found = validate(Webhook, raw.get("webhook"), doc, ("webhook",), required=True)
    problems += found
    portal, found = validate(Portal, raw.get("portal", {}), doc, ("portal",))
    problems += found
    hosting_section, found = validate(Hosting, raw.get("hosting", {}), doc, ("hosting",))
    problems += found
    keys, found = validate(Keys, raw.get("keys", {}), doc, ("keys",))
    problems += found
    features, found = _features(doc, raw.get("entitlements"))
    problems += found
    problems += _lookup_key_clashes(plans, doc)
    if portal is not None:
        problems += _portal_against_plans(portal, raw_plans, plans, doc)
    if features is not None and len(plans) == len(raw_plans):
        problems += entitlements.check(features, plans, webhook, doc)
    if problems or webhook is None or portal is None or hosting_section is None or keys is None \
            or features is None:
        return None, problems
    catalog = Catalog(plans=plans, webhook=webhook, entitlements=features, portal=portal,
                      hosting=hosting_section, keys=keys)
    problems = _hosting_against_catalog(catalog, doc)
    return (None, problems) if problems else (catalog, [])


def _features(doc: Document, raw: Any) -> tuple[dict[str, Entitlement] | None, list[Problem]]:
    """`entitlements:`, each feature checked on its own like plans."""
    if raw is None:
        return {}, []
    if not isinstance(raw, dict):
        return None, [doc.problem(("entitlements",), "expected a mapping of lookup key -> {name: ...}, "
                                  "like `premium_reports: {name: Premium reports}`")]
    features, problems = validate_keyed(Entitlement, raw, check_feature_key, doc, ("entitlements",),
                                        required=True)
    return (None, problems) if problems else (features, [])


# A host caps one variable's size (Cloudflare documents 5 KB for a Worker's; not verified live).
TIERS_MAX_BYTES = 5000


def _hosting_against_catalog(catalog: Catalog, doc: Document) -> list[Problem]:
    problems = []
    if catalog.hosting.names.tiers:
        # Sized as written: with a price ID of Stripe's usual length for every price.
        ids = {catalog.price_id_key(p, k): "price_" + "x" * 24 for p, k, _ in catalog.prices()}
        size = len(tier_contract.to_json(tier_contract.build(catalog, "live", "live", ids), compact=True))
        if size > TIERS_MAX_BYTES:
            problems.append(doc.problem(("hosting", "names", "tiers"), (
                f"the tier contract is {size} bytes, over the {TIERS_MAX_BYTES} a host variable can hold; "
                "remove `tiers:` and ship `billing export --format ts` with the app instead")))
    active = {catalog.lookup_key(p, k) for p, k, price in catalog.prices() if not price.archived}
    for lookup_key in catalog.hosting.price_names:
        if lookup_key not in active:
            problems.append(doc.problem(
                ("hosting", "price_names", lookup_key),
                f"{shown(lookup_key)} is not the lookup key of an active price; use one of: "
                f"{', '.join(sorted(active))}",
            ))
    for first, second in hosting.clashes(catalog):
        problems.append(doc.problem(
            _named_at(second, catalog),
            f"{second.name} would hold both {first.describe()} and {second.describe()}; "
            "give one of them another name under `hosting:`",
        ))
    for variable in hosting.variables(catalog):
        prefix = hosting.browser_prefix(variable.name)
        if variable.secret and prefix:
            public = " (hosting.extra holds secrets only)" if variable.source == "config" else ""
            problems.append(doc.problem(_named_at(variable, catalog), (
                f"{variable.name} would hold {variable.describe()}, a secret{public}, but frameworks build "
                f"variables named {prefix}... into the JavaScript every visitor downloads; give it a name "
                f"without {prefix}")))
    return problems


def _named_at(variable: hosting.Variable, catalog: Catalog) -> Path_:
    """Where the catalog names `variable` (or would, under `hosting.names`)."""
    if variable.source == "config":
        return ("hosting", "extra", variable.name)
    if variable.source == "price":
        return ("hosting", "price_names", variable.ref) if variable.ref in catalog.hosting.price_names \
            else ("hosting", "names", "price_prefix")
    field = {"app_key": "secret_key"}.get(variable.source, variable.source)
    return ("hosting", "names", field)


def deployer_manifest(catalog: Catalog, coupons: Mapping[str, Coupon], doc: Document) -> list[Problem]:
    """The deployer key must be able to write what this stack manages, or `up` stops halfway."""
    granted = catalog.keys.deployer.permissions
    needed = ["Products", "Prices", "Webhook endpoints", "Customer portal"]
    if coupons:
        needed.append("Coupons")
    if any(coupon.promotion_codes for coupon in coupons.values()):
        needed.append("Promotion codes")
    if catalog.entitlements:
        needed.append(ENTITLEMENTS)
    missing = [name for name in needed if granted.get(name) != "write"]
    problems = [] if not missing else [doc.problem(
        ("keys", "deployer", "permissions"),
        f"the program creates and updates these, so the deployer key needs Write on: "
        f"{', '.join(missing)}; add `{missing[0]}: write`",
    )]
    if catalog.entitlements and catalog.keys.app.permissions.get(ENTITLEMENTS) not in ("read", "write"):
        problems.append(doc.problem(
            ("keys", "app", "permissions"),
            "the catalog declares entitlements, and the app lists a customer's active entitlements to "
            "gate on them (GET /v1/entitlements/active_entitlements), so the app key needs Read on "
            f"{ENTITLEMENTS}; add `{ENTITLEMENTS}: read`"))
    return problems


def _lookup_key_clashes(plans: Mapping[str, Plan], doc: Document) -> list[Problem]:
    """One price holds a lookup key: archived prices may share the key of the one active price
    that took it over (they give it up), but two active prices, or two holders, may not."""
    holders: dict[str, list[tuple[str, str, bool]]] = {}
    for plan_key, plan in plans.items():
        for price_key, price in plan.prices.items():
            key = lookup_key_for(plan_key, price_key, price.lookup_key)
            holders.setdefault(key, []).append((plan_key, price_key, price.archived))
    problems = []
    for key, prices in holders.items():
        active = [(p, k) for p, k, archived in prices if not archived]
        if len(prices) == 1 or len(active) == 1:
            continue
        first = f"plans.{prices[0][0]}.prices.{prices[0][1]}"
        for plan_key, price_key, _ in prices[1:]:
            why = ("two active prices" if len(active) > 1 else
                   "archived prices only give a key up to the active price that takes it over")
            problems.append(doc.problem(
                ("plans", plan_key, "prices", price_key, "lookup_key"),
                f"lookup key {shown(key)} is already used by {first}: {why}; the app finds prices "
                "by lookup key, so one price holds each: set a different lookup_key",
            ))
    return problems


def _portal_against_plans(
    portal: Portal, raw_plans: Mapping[str, Any], plans: Mapping[str, Plan], doc: Document
) -> list[Problem]:
    if portal.plan_switching is None:
        return []
    problems = []
    sound = [key for key in raw_plans if _sound(key)]
    # A reference to what a bad plan key is told to become (`Pro` -> 'pro') is that key's problem.
    renamed = {slug_for(key) for key in raw_plans if not _sound(key)}
    for index, key in enumerate(portal.plan_switching.plans):
        path: Path_ = ("portal", "plan_switching", "plans", index)
        if key not in raw_plans and key not in renamed:
            problems.append(doc.problem(path, f"{shown(key)} is not a plan in this catalog; "
                                        f"use one of: {', '.join(sound) or '(no valid plan key yet)'}"))
        elif key in plans and not plans[key].paid:
            problems.append(doc.problem(path, f"plan {key!r} is free and has no Stripe product to switch "
                                        "to: remove it from the list"))
        elif key in plans and not plans[key].active_prices() \
                and portal.plan_switching.enabled:
            problems.append(doc.problem(path, f"plan {key!r} has no active price, so customers "
                                        "cannot switch to it: remove it from the list"))
    return problems


def _sound(plan_key: Any) -> bool:
    try:
        check_slug(plan_key)
    except (ValueError, TypeError):
        return False
    return True
