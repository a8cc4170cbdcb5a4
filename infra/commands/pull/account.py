"""`pull`: read an existing Stripe account and write a catalog plus an import file for it.

Read-only. Products, prices, webhook endpoints and portal configurations are
paged through whole; what fits our schema becomes the catalog, each adopted
object's ID goes into the import file under the name the program gives it,
and everything else is reported: what does not fit, and what the first `up`
will change in place.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from infra.catalog import adoption, from_minor_units, lookup_key_for, site_url
from infra.catalog.values import is_lookup_key, slug_for
from infra.clients.stripe_api import Account
from infra.commands.pull import entitlements as pull_entitlements
from infra.commands.pull.entitlements import Kind
from infra.core.checks import Progress
from infra.core.redact import url_shown
from infra.stripe.provider_table import CANCELLATION_REASONS
from infra.stripe.reference import (
    CURRENCIES,
    MAX_INTERVAL_COUNT,
    api_versions,
    minor_unit_digits,
    webhook_event_types,
)

INTERVAL_KEYS = {"day": "daily", "week": "weekly", "month": "monthly", "year": "yearly"}
DEFAULT_EVENTS = ["checkout.session.completed", "customer.subscription.created",
                  "customer.subscription.updated", "customer.subscription.deleted"]
DEFAULT_WEBHOOK_PATH = "/webhook/stripe"


@dataclass(frozen=True)
class Finding:
    kind: Kind
    subject: str
    message: str


@dataclass
class Pulled:
    catalog: dict[str, Any]
    adopted: dict[tuple[str, str], str]
    domain: str | None
    findings: list[Finding] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def pull(account: Account, stack: str, domain: str | None, progress: Progress | None = None) -> Pulled:
    say = progress or (lambda _: None)
    say("products")
    products = account.products()
    say(f"prices ({len(products)} products read)")
    prices = account.prices()
    say("webhook endpoints")
    endpoints = account.webhook_endpoints()
    say("customer portal configurations")
    portals = account.portal_configurations()
    findings: list[Finding] = []
    adopted: dict[tuple[str, str], str] = {}

    plans, product_of_plan = _plans(products, prices, findings, adopted)
    webhook, domain = _webhook(endpoints, domain, stack, findings, adopted)
    portal = _portal(portals, domain, product_of_plan, plans, findings, adopted)
    say("entitlement features")
    features, notes, feature_count = pull_entitlements.pull(account, product_of_plan, plans, webhook, adopted)
    findings += [Finding(kind, subject, message) for kind, subject, message in notes]
    catalog: dict[str, Any] = {"plans": plans, "webhook": webhook}
    if features:
        catalog["entitlements"] = features
    if portal is not None:
        catalog["portal"] = portal
    counts = {"products": len(products), "prices": len(prices), "webhook endpoints": len(endpoints),
              "portal configurations": len(portals), "features": feature_count}
    return Pulled(catalog, adopted, domain, findings, counts)


# ---------------------------------------------------------------- plans and prices


def _plans(
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
    digits = minor_unit_digits(currency)
    amount = from_minor_units(int(price["unit_amount"]), currency)
    recurring = price["recurring"]
    out: dict[str, Any] = {"amount": f"{amount:.{digits}f}", "currency": currency,
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


# ---------------------------------------------------------------- webhook and portal


def _webhook(
    endpoints: list[dict[str, Any]], domain: str | None, stack: str, findings: list[Finding],
    adopted: dict[tuple[str, str], str],
) -> tuple[dict[str, Any], str | None]:
    enabled = [e for e in endpoints if e.get("status") == "enabled" and str(e.get("url", "")).startswith("https://")]
    if domain:
        enabled = [e for e in enabled if urlparse(e["url"]).hostname == domain] or enabled
    by_url: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for endpoint in enabled:
        by_url[endpoint["url"]].append(endpoint)
    if not by_url:
        findings.append(Finding("note", "webhook", "no enabled https endpoint; the first up creates one "
                                f"at {DEFAULT_WEBHOOK_PATH} with a new secret"))
        created = {"path": DEFAULT_WEBHOOK_PATH, "api_version": _newest_version(), "events": DEFAULT_EVENTS}
        return created, domain
    # The URL with the most events is the app's; ties go to the oldest endpoint.
    url = max(by_url, key=lambda u: (len(by_url[u][0].get("enabled_events") or ()), -min(
        e.get("created") or 0 for e in by_url[u])))
    same = sorted(by_url[url], key=lambda e: ((e.get("metadata") or {}).get("managed_by") != "pulumi",
                                              e.get("created") or 0))
    endpoint = same[0]
    for twin in same[1:]:
        findings.append(Finding("misfit", twin["id"], f"a second enabled endpoint for {url_shown(url)}: "
                                f"every event is delivered twice; not adopted (adopted: {endpoint['id']}): "
                                "delete it"))
    for other in (u for u in by_url if u != url):
        findings.append(Finding("misfit", by_url[other][0]["id"], "an endpoint for another URL "
                                f"({url_shown(other)}); not adopted: delete it if nothing listens there"))
    parsed = urlparse(url)
    host = parsed.hostname or ""
    if domain and host != domain:
        findings.append(Finding("in place", endpoint["id"], f"URL host {host} differs from billing:domain "
                                f"{domain}; the first up points the endpoint at {domain}"))
    domain = domain or host
    known = webhook_event_types()
    events = [e for e in endpoint.get("enabled_events") or () if e in known]
    if "*" in (endpoint.get("enabled_events") or ()):
        findings.append(Finding("in place", endpoint["id"], "subscribes to every event (`*`); the catalog "
                                "lists events, so the first up narrows it to the subscription events"))
        events = DEFAULT_EVENTS
    elif not events:
        events = DEFAULT_EVENTS
    found = endpoint.get("api_version")
    pinned = isinstance(found, str) and found in api_versions()
    version: str = found if isinstance(found, str) and pinned else _newest_version()
    if not pinned:
        # Adopting it would need a replace (api_version is ForceNew), and the engine refuses to
        # replace a resource it is importing: the first `up` would stop. So it is not adopted.
        findings.append(Finding("misfit", endpoint["id"], f"no pinned API version Stripe's library knows "
                                f"({endpoint.get('api_version')!r}), and Stripe cannot change an endpoint's "
                                f"version: not adopted (the engine refuses an import that would replace). "
                                f"The first up creates a new endpoint on {version} with a new signing "
                                "secret and writes it to the host; redeploy the app, then delete this one "
                                "(until then both receive every event, so the handler must dedupe)"))
    webhook: dict[str, Any] = {"path": parsed.path or "/", "api_version": version, "events": events}
    if endpoint.get("description"):
        webhook["description"] = endpoint["description"]
    if not pinned:
        return webhook, domain
    if not endpoint.get("description"):
        findings.append(Finding("in place", endpoint["id"], f"the first up sets the description "
                                f"'billing stack {stack}'"))
    findings.append(Finding("in place", endpoint["id"], "the first up adds metadata managed_by=pulumi and "
                            f"stack={stack}"))
    findings.append(Finding(
        "note", endpoint["id"], "Stripe never returns an existing endpoint's signing secret. Give it once: "
        f"`pulumi config set --secret billing:webhookSecret whsec_... --stack {stack}` (Dashboard > "
        "Webhooks > Reveal). Or remove the webhook entry from the import file: the first up then creates "
        "a new endpoint with a new secret, the app is redeployed with it, and you delete this one"))
    adopted[(adoption.WEBHOOK, adoption.webhook_name(version))] = endpoint["id"]
    return webhook, domain


def _newest_version() -> str:
    return max(api_versions())


def _portal(
    configurations: list[dict[str, Any]], domain: str | None, product_of_plan: dict[str, str],
    plans: dict[str, Any], findings: list[Finding], adopted: dict[tuple[str, str], str],
) -> dict[str, Any] | None:
    active = sorted((c for c in configurations if c.get("active")),
                    key=lambda c: (not c.get("is_default"), -(c.get("created") or 0)))
    if not active:
        findings.append(Finding("note", "portal", "no active portal configuration; the first up creates one"))
        return None
    config = active[0]
    features = config.get("features") or {}
    portal: dict[str, Any] = {}
    profile = {k: v for k, v in (config.get("business_profile") or {}).items()
               if k in ("headline", "privacy_policy_url", "terms_of_service_url") and v}
    for key in ("privacy_policy_url", "terms_of_service_url"):
        if key in profile and not str(profile[key]).startswith("https://"):
            findings.append(Finding("in place", config["id"], f"{key} is not https; the first up clears it"))
            del profile[key]
    if profile:
        portal["business_profile"] = profile
    return_url = config.get("default_return_url")
    if return_url:
        parsed = urlparse(return_url)
        portal["return_path"] = parsed.path or "/"
        if domain and parsed.hostname != domain:
            findings.append(Finding("in place", config["id"], f"returns to {parsed.hostname}; the first up "
                                    f"returns to {domain}"))
    else:
        findings.append(Finding("in place", config["id"], "has no default return URL; the first up sets "
                                f"{site_url(domain or '<billing:domain>', '/')}"))
    portal["invoice_history"] = bool((features.get("invoice_history") or {}).get("enabled"))
    portal["payment_method_update"] = bool((features.get("payment_method_update") or {}).get("enabled"))
    customer_update = features.get("customer_update") or {}
    portal["customer_update"] = list(customer_update.get("allowed_updates") or ()) \
        if customer_update.get("enabled") else []
    cancel = features.get("subscription_cancel") or {}
    reasons = cancel.get("cancellation_reason") or {}
    portal["cancellation"] = {
        "enabled": bool(cancel.get("enabled")), "mode": cancel.get("mode") or "at_period_end",
        "proration_behavior": cancel.get("proration_behavior") or "none",
        "reasons": [r for r in reasons.get("options") or () if r in CANCELLATION_REASONS]
        if reasons.get("enabled") else [],
    }
    switching = _plan_switching(features.get("subscription_update") or {}, product_of_plan, plans)
    if switching:
        portal["plan_switching"] = switching
    adopted[(adoption.PORTAL, adoption.PORTAL_NAME)] = config["id"]
    for other in active[1:]:
        findings.append(Finding("note", other["id"], "another active portal configuration; not adopted"))
    return portal


def _plan_switching(
    update: dict[str, Any], product_of_plan: dict[str, str], plans: dict[str, Any],
) -> dict[str, Any] | None:
    if not update.get("enabled"):
        return None
    switchable = [product_of_plan[p["product"]] for p in update.get("products") or ()
                  if p.get("product") in product_of_plan]
    if not switchable:
        return None
    return {"plans": sorted(set(switchable), key=list(plans).index),
            "allowed_updates": list(update.get("default_allowed_updates") or ["price"]),
            "proration_behavior": update.get("proration_behavior") or "create_prorations"}


def report(pulled: Pulled) -> Iterable[str]:
    counts = ", ".join(f"{n} {what}" for what, n in pulled.counts.items())
    yield f"read {counts}"
    yield f"adopting {len(pulled.adopted)} objects"
    for kind, title in (("misfit", "Does not fit (not adopted, or replaced)"),
                        ("in place", "The first `up` changes in place"), ("note", "Notes")):
        found = [f for f in pulled.findings if f.kind == kind]
        if found:
            yield f"\n{title}:"
            yield from (f"  - {f.subject}: {f.message}" for f in found)
