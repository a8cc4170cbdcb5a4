"""Read-only access to a Stripe account through stripe-python, for `verify` and `pull`.

Every call here is a GET. Lists page through everything with stripe-python's
own auto-pagination (`has_more` / `starting_after`), 100 objects a page.
STRIPE_API_BASE points the client at another API root (a gateway, or the
local Stripe-shaped server the tests run).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import stripe

from infra.credentials import STRIPE_API_BASE, api_base

DEFAULT_API_BASE = "https://api.stripe.com"
PAGE_SIZE = 100  # Stripe's maximum `limit`

# A read-only call per Dashboard resource: the list endpoint, one object.
# Resources with no list endpoint a restricted key can call alone (Tokens,
# Mandates, PaymentMethods need a parent) are absent and not probed.
READ_PROBES: dict[str, str] = {
    "Balance": "/v1/balance",
    "Charges": "/v1/charges",
    "Customers": "/v1/customers",
    "Disputes": "/v1/disputes",
    "Events": "/v1/events",
    "Files": "/v1/files",
    "PaymentIntents": "/v1/payment_intents",
    "Payouts": "/v1/payouts",
    "Products": "/v1/products",
    "Refunds": "/v1/refunds",
    "SetupIntents": "/v1/setup_intents",
    "Checkout Sessions": "/v1/checkout/sessions",
    "Coupons": "/v1/coupons",
    "Credit notes": "/v1/credit_notes",
    "Customer portal": "/v1/billing_portal/configurations",
    "Invoices": "/v1/invoices",
    "Meters": "/v1/billing/meters",
    "Prices": "/v1/prices",
    "Promotion codes": "/v1/promotion_codes",
    "Subscriptions": "/v1/subscriptions",
    "Tax rates": "/v1/tax_rates",
    "Payment Links": "/v1/payment_links",
    "Webhook endpoints": "/v1/webhook_endpoints",
}
_PERMISSION = re.compile(r"'(rak_[a-z0-9_]+)'")


def permissions_named(error: stripe.StripeError) -> tuple[str, ...]:
    """The permission names Stripe's 403 message says would allow the call."""
    return tuple(_PERMISSION.findall(str(error)))


@dataclass(frozen=True)
class Refusal:
    status: int | None
    kind: str
    """`permission` (403 from a restricted key), `auth` (401), or `error`."""
    permissions: tuple[str, ...] = ()
    """The permission names Stripe's 403 message says would allow the call."""


class Account:
    """One key's view of one Stripe account."""

    def __init__(self, api_key: str, base: str | None = None) -> None:
        root = base or api_base(STRIPE_API_BASE, DEFAULT_API_BASE)
        # No retries: a verify or pull run should report a refusal, not hammer the API.
        self.client = stripe.StripeClient(api_key, base_addresses={"api": root}, max_network_retries=0)
        self.livemodes: set[bool] = set()
        """`livemode` of every object read so far: the account's answer to which mode the key is in."""

    def products(self) -> Iterator[dict[str, Any]]:
        return self._all(self.client.v1.products.list)

    def prices(self) -> Iterator[dict[str, Any]]:
        return self._all(self.client.v1.prices.list)

    def webhook_endpoints(self) -> Iterator[dict[str, Any]]:
        return self._all(self.client.v1.webhook_endpoints.list)

    def portal_configurations(self) -> Iterator[dict[str, Any]]:
        return self._all(self.client.v1.billing_portal.configurations.list)

    def probe(self, path: str) -> Refusal | None:
        """GET one object from a list endpoint; None when the key may read it."""
        try:
            answer = self.client.raw_request("get", path, limit=1)
            self._seen(self.client.deserialize(answer, api_mode="V1").to_dict())
        except stripe.PermissionError as error:
            return Refusal(error.http_status, "permission", permissions_named(error))
        except stripe.AuthenticationError as error:
            return Refusal(error.http_status, "auth")
        except stripe.StripeError as error:
            return Refusal(error.http_status, "error")
        return None

    def _all(self, lister: Callable[..., Any]) -> Iterator[dict[str, Any]]:
        for obj in lister(params={"limit": PAGE_SIZE}).auto_paging_iter():
            item: dict[str, Any] = obj.to_dict()
            self._seen(item)
            yield item

    def _seen(self, item: dict[str, Any]) -> None:
        if isinstance(item.get("livemode"), bool):
            self.livemodes.add(item["livemode"])
        for child in item.get("data") or ():
            if isinstance(child, dict):
                self._seen(child)
