"""Entitlements: the catalog's features, checked against its plans and its webhook.

A feature (`entitlements:` in the catalog) becomes one Stripe EntitlementsFeature
named `feature-<key>`; each plan that lists it gets one ProductFeature named
`<plan>-feature-<key>` attaching it to the plan's product. Stripe creates an
active entitlement for each subscriber of that product, and tells the app with
the `entitlements.active_entitlement_summary.updated` event.
"""

from __future__ import annotations

from collections.abc import Mapping

from infra.catalog.models import SUMMARY_EVENT, Entitlement, Plan, Webhook
from infra.core.problems import Problem, closest
from infra.core.sources import Document, Path_


def feature_name(key: str) -> str:
    """The EntitlementsFeature's resource name: from the lookup key, which never changes."""
    return f"feature-{key}"


def product_feature_name(plan: str, key: str) -> str:
    return f"{plan}-feature-{key}"


def attachments(plans: Mapping[str, Plan]) -> list[tuple[str, str]]:
    """Every (plan key, feature key) the program attaches, in catalog order."""
    return [(plan_key, key) for plan_key, plan in plans.items() if plan.paid for key in plan.entitlements]


def check(
    features: Mapping[str, Entitlement], plans: Mapping[str, Plan], webhook: Webhook | None,
    doc: Document,
) -> list[Problem]:
    """References between `entitlements:`, the plans and the webhook events."""
    problems = []
    used: set[str] = set()
    for plan_key, plan in plans.items():
        for index, key in enumerate(plan.entitlements):
            path: Path_ = ("plans", plan_key, "entitlements", index)
            used.add(key)
            if key not in features:
                close = closest(key, features)
                hint = f"did you mean {close!r}? " if close is not None else ""
                known = f" or use one of: {', '.join(features)}" if features else ""
                problems.append(doc.problem(path, (
                    f"{key!r} is not a feature of this catalog; {hint}declare it under `entitlements:` "
                    f"as `{key}: {{name: ...}}`{known}")))
        if plan.entitlements and not plan.paid:
            problems.append(doc.problem(("plans", plan_key, "entitlements"), (
                f"plan {plan_key!r} is free: it has no Stripe product, so Stripe grants its customers no "
                "entitlements. Remove the list (the app treats a customer without a subscription as free), "
                "or give the plan a price")))
    for key in features:
        if key not in used:
            problems.append(doc.problem(("entitlements", key), (
                f"no plan lists {key!r}; add it to a paid plan's `entitlements:`, or remove it (Stripe "
                "keeps the feature either way: the provider cannot delete features)")))
    if features and webhook is not None and SUMMARY_EVENT not in webhook.events:
        problems.append(doc.problem(("webhook", "events"), (
            f"the catalog declares entitlements, so the app must hear when a customer's features change: "
            f"add `- {SUMMARY_EVENT}` under webhook.events (the handler then lists the customer's active "
            "entitlements; see the README's Entitlements section)")))
    return problems
