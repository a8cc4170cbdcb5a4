"""`pull`: read an existing Stripe account and write a catalog plus an import file for it.

Read-only. Products, prices, webhook endpoints and portal configurations are
paged through whole; what fits our schema becomes the catalog, each adopted
object's ID goes into the import file under the name the program gives it,
and everything else is reported: what does not fit, and what the first `up`
will change in place. Each part of the account is read by its own module:
`plans` (products and prices), `webhook`, `portal` and `entitlements`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from infra.clients.stripe_api import Account
from infra.commands.pull import entitlements as pull_entitlements
from infra.commands.pull import plans as pull_plans
from infra.commands.pull import portal as pull_portal
from infra.commands.pull import webhook as pull_webhook
from infra.commands.pull.findings import Finding
from infra.core.checks import Progress


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

    plans, product_of_plan = pull_plans.read(products, prices, findings, adopted)
    webhook, domain = pull_webhook.read(endpoints, domain, stack, findings, adopted)
    portal = pull_portal.read(portals, domain, product_of_plan, plans, findings, adopted)
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
