"""`pull` for the customer portal: the default (else newest) active configuration, adopted."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from infra.catalog import adoption, site_url
from infra.commands.pull.findings import Finding
from infra.stripe.provider_table import CANCELLATION_REASONS


def read(
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
