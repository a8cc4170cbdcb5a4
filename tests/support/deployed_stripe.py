"""A Stripe account as `pulumi up` leaves it for a deployment, and `verify stripe` run against it."""

from __future__ import annotations

from typing import Any

from infra.catalog import Deployment, load_deployment
from infra.clients.stripe_api import Account
from infra.core.checks import Check
from infra.probes import stripe as verify_stripe
from tests.servers.stripe_api_server import StripeAccount, StripeServer
from tests.servers.stripe_keys import APP_PERMISSIONS
from tests.support.project import Project, key, stack_config


def deployed(account: StripeAccount, deployment: Deployment) -> dict[str, Any]:
    """What `pulumi up` leaves in the account for this deployment; returns the objects by name."""
    catalog, domain = deployment.catalog, deployment.settings.domain
    made: dict[str, Any] = {}
    for plan_key, plan in catalog.plans.items():
        if not plan.paid:
            continue
        product = made[plan_key] = account.product(plan.name, {"plan": plan_key})
        for price_key, price in plan.prices.items():
            lookup = catalog.lookup_key(plan_key, price_key)
            made[lookup] = account.price(product, price.unit_amount, price.interval, price.currency,
                                         {"plan": plan_key}, lookup_key=lookup, active=not price.archived)
    made["webhook"] = account.webhook_endpoint(f"https://{domain}{catalog.webhook.path}",
                                               list(catalog.webhook.events))
    made["portal"] = account.portal_configuration(f"https://{domain}{catalog.portal.return_path}")
    return made


class World:
    def __init__(self, project: Project, mode: str = "test") -> None:
        self.mode = mode
        self.config = stack_config(mode)
        self.deployment = load_deployment(mode, project.root, self.config.get)
        self.account = StripeAccount(livemode=mode == "live")
        self.read_key = key("rk", mode, "Read")
        self.app_key = key("rk", mode, "App2")
        self.account.keys = {self.read_key: None, self.app_key: APP_PERMISSIONS}
        self.made = deployed(self.account, self.deployment)

    def verify(self, server: StripeServer, app: bool = True) -> dict[str, Check]:
        found = verify_stripe.run(
            self.deployment, Account(self.read_key, server.base), self.read_key,
            Account(self.app_key, server.base) if app else None, self.app_key if app else None)
        names = [c.name for c in found]
        assert len(names) == len(set(names)), names
        return {c.name: c for c in found}


def fails(found: dict[str, Check]) -> dict[str, str]:
    return {name: c.meaning for name, c in found.items() if c.status == "fail"}
