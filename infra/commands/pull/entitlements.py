"""`pull` for entitlements: adopt the account's features, and list what each adopted plan has.

Features (EntitlementsFeature) are adopted through the import file: the
provider's import reads them whole. Product features are not: the provider's
Read takes the product from state, so an import has none and fails
(provider_table, PRODUCT_FEATURE). The first `up` attaches each plan's
features instead; what Stripe does with an attachment that already exists is
not verified, so `pull` says so and how to clear it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infra.catalog import SUMMARY_EVENT, adoption, entitlements
from infra.catalog.values import check_feature_key
from infra.clients.errors import ApiError
from infra.clients.stripe_api import Account
from infra.commands.pull.findings import Kind

Note = tuple[Kind, str, str]
"""(kind, subject, message), as pull's Finding."""


def pull(
    account: Account, product_of_plan: Mapping[str, str], plans: dict[str, Any], webhook: dict[str, Any],
    adopted: dict[tuple[str, str], str],
) -> tuple[dict[str, Any], list[Note], int]:
    """The catalog's `entitlements:` section (plans and webhook events updated in place), what to
    report, and how many features were read."""
    notes: list[Note] = []
    try:
        features = account.features()
    except ApiError as error:
        return {}, [("note", "entitlements", f"features not read ({error}); the catalog declares none: "
                     "give the key Read on Entitlements and pull again to adopt them")], 0
    by_id = {f["id"]: f for f in features if f["active"]}
    used: dict[str, dict[str, Any]] = {}
    refused: set[str] = set()
    for product, plan_key in product_of_plan.items():
        try:
            attached = account.product_features(product)
        except ApiError as error:
            notes.append(("note", product, f"its features not read ({error}); plan {plan_key!r} lists none"))
            continue
        keys = []
        for item in attached:
            feature = by_id.get(item["entitlement_feature"]["id"])
            if feature is None:
                continue  # an archived feature grants nothing
            try:
                check_feature_key(feature["lookup_key"])
            except ValueError as error:
                if feature["id"] not in refused:
                    notes.append(("misfit", feature["id"], f"not adopted: {error}"))
                refused.add(feature["id"])
                continue
            keys.append(feature["lookup_key"])
            used[feature["lookup_key"]] = feature
        if keys:
            plans[plan_key]["entitlements"] = sorted(keys)
    section: dict[str, Any] = {}
    for key, feature in sorted(used.items()):
        section[key] = {"name": feature["name"]}
        adopted[(adoption.FEATURE, entitlements.feature_name(key))] = feature["id"]
    for feature in features:
        if feature["active"] and feature["lookup_key"] not in used and feature["id"] not in refused:
            notes.append(("note", feature["id"], f"feature {feature['lookup_key']!r} is on no adopted plan's "
                          "product; not in the catalog (Stripe keeps it)"))
    if section:
        attachments = sum(len(plan.get("entitlements", ())) for plan in plans.values())
        notes.append(("note", "entitlements", (
            f"{len(section)} features are adopted through the import file; the {attachments} product "
            "features are not (the provider cannot import them: its Read takes the product from state). The "
            "first up attaches each plan's features again; whether Stripe accepts an attachment that already "
            "exists is not verified: if `up` fails on one, remove that feature from the product in the "
            "Dashboard (Product catalog > the product > Features) and run `up` again at once (in between, "
            "that plan's subscribers may lose the feature: not verified)")))
        if SUMMARY_EVENT not in webhook["events"]:
            webhook["events"] = [*webhook["events"], SUMMARY_EVENT]
            notes.append(("in place", "webhook", f"the first up adds {SUMMARY_EVENT} to the endpoint's "
                          "events: the app lists a customer's active entitlements when it arrives"))
    return section, notes, len(features)
