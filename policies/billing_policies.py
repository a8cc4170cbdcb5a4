"""Mandatory rules for every billing stack, enforced by `pulumi preview --policy-pack policies`.

Each rule reads resource properties as the engine sends them to a policy
pack (the provider's camelCase input names), so it also catches a program
change or a hand edit that slipped past the catalog's own validation.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

PROJECT_DIR = Path(__file__).resolve().parent.parent
# The hosts' own rules and the provider table's type tokens: infra.hosts and
# infra.stripe.provider_table import only the standard library (a contract in pyproject.toml),
# so the pack's virtualenv (pulumi-policy, PyYAML) can load them from the project.
sys.path.insert(0, str(PROJECT_DIR))
from infra.core import layout  # noqa: E402
from infra.hosts import HOSTS  # noqa: E402
from infra.stripe import provider_table  # noqa: E402

WEBHOOK = provider_table.WEBHOOK_ENDPOINT.token
WITH_PLAN = (provider_table.PRODUCT.token, provider_table.PRICE.token)
FEATURE = provider_table.ENTITLEMENTS_FEATURE.token
PRODUCT_FEATURE = provider_table.PRODUCT_FEATURE.token
DEFAULT_CATALOG = PROJECT_DIR / layout.DEFAULT_CATALOG


def is_live(args: ResourceValidationArgs) -> bool:
    """The program names its providers by mode (stripe-live, vercel-live); the live stack is `live`."""
    stack = args.urn.split("::", 1)[0].removeprefix("urn:pulumi:")
    provider = args.provider.name if args.provider else ""
    return stack == "live" or provider.endswith("-live")


def known(value: Any) -> Any:
    """`value` with what preview cannot know yet as None.

    During preview a value the engine does not know yet (a webhook secret, a new price's
    ID) raises UnknownValueError on access, and the whole rule is skipped with a warning
    (seen under the real engine: "can't run policy 'hosting-secrets-scoped' ... during
    preview"). Read property by property instead, so targets and sensitivity are judged at
    preview and only the unknown value waits for `up`, where the pack runs again.
    """
    if isinstance(value, Mapping):
        found = {}
        for key in value:
            try:
                found[key] = known(value[key])
            except UnknownValueError:
                found[key] = None
        return found
    if isinstance(value, (list, tuple)):
        items = []
        for index in range(len(value)):
            try:
                items.append(known(value[index]))
            except UnknownValueError:
                items.append(None)
        return items
    return value


def _hosting_values_scoped(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Each host judges its own resources (Vercel variables, Worker secrets); the pack names none."""
    props = known(args.props)
    for host in HOSTS.values():
        for violation in host.violations(args.resource_type, props, is_live(args)):
            report(violation, args.urn)


def _webhook_https_no_wildcard(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != WEBHOOK:
        return
    url = str(args.props.get("url") or "")
    if not url.startswith("https://"):
        report(f"webhook URL {url!r} is not https; Stripe signs events but anyone on the path could read "
               "them, and live mode refuses http", args.urn)
    if "*" in (args.props.get("enabledEvents") or ()):
        report("the webhook subscribes to every event (`*`); list the events the handler processes",
               args.urn)


def _live_stripe_protected(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not args.resource_type.startswith("stripe:index/") or not is_live(args):
        return
    if not args.opts.protect:
        report(f"{args.resource_type} {args.name} is not protected on a live stack; a removed line or "
               "`pulumi destroy` would delete live billing objects", args.urn)


def _catalog(config: Mapping[str, Any]) -> dict[str, Any]:
    path = Path(str(config.get("catalog") or DEFAULT_CATALOG))
    data = yaml.safe_load(path.read_text()) or {}
    return data if isinstance(data, dict) else {}


def catalog_plans(config: Mapping[str, Any]) -> frozenset[str]:
    plans = _catalog(config).get("plans")
    return frozenset(plans) if isinstance(plans, dict) else frozenset()


def catalog_features(config: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """Each plan's entitlement keys, as the catalog lists them."""
    plans = _catalog(config).get("plans")
    if not isinstance(plans, dict):
        return {}
    return {str(key): frozenset(str(k) for k in (plan.get("entitlements") or ()))
            for key, plan in plans.items() if isinstance(plan, dict)}


def _plan_metadata(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in WITH_PLAN:
        return
    plan = (args.props.get("metadata") or {}).get("plan")
    if not isinstance(plan, str):
        report(f"{args.name}: no `plan` metadata; the app maps subscriptions to plans with it", args.urn)
        return
    if plan != plan.lower():
        report(f"{args.name}: plan metadata {plan!r} is not lowercase; the app matches {plan.lower()!r}",
               args.urn)
    plans = catalog_plans(args.get_config())
    if plans and plan.lower() not in plans:
        report(f"{args.name}: plan metadata {plan!r} names no catalog plan ({', '.join(sorted(plans))})",
               args.urn)


def _feature_keys_lowercase(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != FEATURE:
        return
    key = str(args.props.get("lookupKey") or "")
    if key != key.lower() or not key:
        report(f"{args.name}: feature lookup key {key!r} is not lowercase; the app checks "
               f"{key.lower()!r} exactly, and a lookup key never changes in place", args.urn)
    if not args.props.get("name"):
        report(f"{args.name}: no name; Pulumi would invent one that customers see", args.urn)


def _product_features_from_catalog(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """A product's features are the catalog's: the program names each `<plan>-feature-<key>`
    (product and feature IDs are unknown at preview)."""
    if args.resource_type != PRODUCT_FEATURE:
        return
    plan, sep, key = args.name.partition("-feature-")
    features = catalog_features(args.get_config())
    if not sep or key not in features.get(plan, frozenset()):
        report(f"{args.name}: attaches a feature the catalog does not list for plan {plan!r} "
               f"({', '.join(sorted(features.get(plan, ()))) or 'none'}); Stripe would entitle its "
               "subscribers to it", args.urn)


POLICIES = [
    ResourceValidationPolicy(
        name="hosting-secrets-scoped",
        description="Each host gets only its stack's mode's values, as secrets: live values never reach "
                    "Vercel's development target, Vercel production and preview variables are sensitive, "
                    "and every Worker value is a secret_text.",
        validate=_hosting_values_scoped, enforcement_level=EnforcementLevel.MANDATORY),
    ResourceValidationPolicy(
        name="webhook-https-no-wildcard",
        description="Webhook endpoints are https and list their events.",
        validate=_webhook_https_no_wildcard, enforcement_level=EnforcementLevel.MANDATORY),
    ResourceValidationPolicy(
        name="live-stripe-protected",
        description="Every Stripe resource of a live stack is protected from deletion.",
        validate=_live_stripe_protected, enforcement_level=EnforcementLevel.MANDATORY),
    ResourceValidationPolicy(
        name="plan-metadata",
        description="`plan` metadata on products and prices is lowercase and names a catalog plan.",
        validate=_plan_metadata, enforcement_level=EnforcementLevel.MANDATORY),
    ResourceValidationPolicy(
        name="feature-keys-lowercase",
        description="Entitlement feature lookup keys are lowercase and every feature has a name.",
        validate=_feature_keys_lowercase, enforcement_level=EnforcementLevel.MANDATORY),
    ResourceValidationPolicy(
        name="product-features-from-catalog",
        description="Each product's features are the ones the catalog lists for its plan.",
        validate=_product_features_from_catalog, enforcement_level=EnforcementLevel.MANDATORY),
]
