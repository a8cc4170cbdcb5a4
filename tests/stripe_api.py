"""A Stripe-shaped API on 127.0.0.1 for `verify stripe` and `pull` tests.

It speaks the parts of Stripe's real protocol those commands use: Bearer
keys, list objects with `has_more` and `starting_after` pagination (limit at
most 100), 401 for an unknown key, and a restricted key's 403
`invalid_request_error` naming the `rak_` permission that would allow the
call. Objects are built with the fields Stripe's responses carry. Every
request is recorded so tests can prove the commands only read.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from tests.json_server import JsonServer

# Path -> the permission Stripe names in its 403 message for a read there.
PERMISSIONS = {
    "/v1/balance": "rak_balance_read",
    "/v1/charges": "rak_charge_read",
    "/v1/customers": "rak_customer_read",
    "/v1/disputes": "rak_dispute_read",
    "/v1/events": "rak_event_read",
    "/v1/files": "rak_file_read",
    "/v1/payment_intents": "rak_payment_intent_read",
    "/v1/payouts": "rak_payout_read",
    "/v1/products": "rak_product_read",
    "/v1/refunds": "rak_refund_read",
    "/v1/setup_intents": "rak_setup_intent_read",
    "/v1/checkout/sessions": "rak_checkout_session_read",
    "/v1/coupons": "rak_coupon_read",
    "/v1/credit_notes": "rak_credit_note_read",
    "/v1/billing_portal/configurations": "rak_billing_portal_configuration_read",
    "/v1/invoices": "rak_invoice_read",
    "/v1/billing/meters": "rak_billing_meter_read",
    "/v1/prices": "rak_price_read",
    "/v1/promotion_codes": "rak_promotion_code_read",
    "/v1/subscriptions": "rak_subscription_read",
    "/v1/tax_rates": "rak_tax_rate_read",
    "/v1/payment_links": "rak_payment_link_read",
    "/v1/webhook_endpoints": "rak_webhook_endpoint_read",
}
# The app manifest's default grants, in Stripe's permission names.
APP_PERMISSIONS = frozenset({
    "rak_checkout_session_read", "rak_customer_read", "rak_subscription_read",
    "rak_billing_portal_configuration_read", "rak_product_read", "rak_price_read",
})


def stripe_id(prefix: str) -> str:
    return f"{prefix}_" + secrets.token_hex(7)


@dataclass
class StripeAccount:
    livemode: bool = False
    account: str = "acct_1Local" + "0" * 6
    keys: dict[str, frozenset[str] | None] = field(default_factory=dict)
    """Key -> the rak_ permissions it holds, or None for a full secret key."""
    lists: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    """Path -> the status Stripe answers there instead (a 404 or 5xx), with Stripe's error body."""

    def add(self, path: str, obj: dict[str, Any]) -> dict[str, Any]:
        obj.setdefault("livemode", self.livemode)
        self.lists.setdefault(path, []).insert(0, obj)  # Stripe lists newest first
        return obj

    def product(self, name: str, metadata: dict[str, str] | None = None, **fields: Any) -> dict[str, Any]:
        return self.add("/v1/products", {
            "id": stripe_id("prod"), "object": "product", "active": True, "created": int(time.time()),
            "default_price": None, "description": None, "images": [], "marketing_features": [],
            "metadata": metadata or {}, "name": name, "package_dimensions": None, "shippable": None,
            "statement_descriptor": None, "tax_code": None, "type": "service", "unit_label": None,
            "updated": int(time.time()), "url": None, **fields})

    def price(self, product: dict[str, Any], unit_amount: int, interval: str = "month",
              currency: str = "usd", metadata: dict[str, str] | None = None, **fields: Any) -> dict[str, Any]:
        return self.add("/v1/prices", {
            "id": stripe_id("price"), "object": "price", "active": True, "billing_scheme": "per_unit",
            "created": int(time.time()), "currency": currency, "custom_unit_amount": None,
            "lookup_key": None, "metadata": metadata or {}, "nickname": None, "product": product["id"],
            "recurring": {"interval": interval, "interval_count": 1, "meter": None,
                          "usage_type": "licensed"},
            "tax_behavior": "unspecified", "tiers_mode": None, "transform_quantity": None,
            "type": "recurring", "unit_amount": unit_amount, "unit_amount_decimal": str(unit_amount),
            **fields})

    def webhook_endpoint(self, url: str, events: list[str], **fields: Any) -> dict[str, Any]:
        return self.add("/v1/webhook_endpoints", {
            "id": stripe_id("we"), "object": "webhook_endpoint", "api_version": None,
            "application": None, "created": int(time.time()), "description": None,
            "enabled_events": events, "metadata": {}, "status": "enabled", "url": url, **fields})

    def portal_configuration(self, return_url: str | None, **fields: Any) -> dict[str, Any]:
        return self.add("/v1/billing_portal/configurations", {
            "id": stripe_id("bpc"), "object": "billing_portal.configuration", "active": True,
            "application": None,
            "business_profile": {"headline": None, "privacy_policy_url": None,
                                 "terms_of_service_url": None},
            "created": int(time.time()), "default_return_url": return_url,
            "features": {
                "customer_update": {"allowed_updates": [], "enabled": False},
                "invoice_history": {"enabled": True},
                "payment_method_update": {"enabled": True},
                "subscription_cancel": {"cancellation_reason": {"enabled": False, "options": []},
                                        "enabled": False, "mode": "at_period_end",
                                        "proration_behavior": "none"},
                "subscription_update": {"default_allowed_updates": [], "enabled": False,
                                        "products": [], "proration_behavior": "none"},
            },
            "is_default": False, "login_page": {"enabled": False, "url": None}, "metadata": {},
            "updated": int(time.time()), **fields})

    def answer(self, method: str, path: str, query: dict[str, list[str]],
               auth: str | None) -> tuple[int, dict[str, Any]]:
        self.requests.append((method, path))
        key = (auth or "").removeprefix("Bearer ")
        if key not in self.keys:
            shown = key[:8] + "*" * 4 + key[-4:] if key else ""
            return 401, {"error": {"message": f"Invalid API Key provided: {shown}",
                                   "type": "invalid_request_error"}}
        if method != "GET":
            return 405, {"error": {"message": "this local server only reads",
                                   "type": "invalid_request_error"}}
        if path in self.failures:
            status = self.failures[path]
            message = (f"Unrecognized request URL (GET: {path})." if status == 404
                       else "An unknown error occurred while processing your request.")
            return status, {"error": {"message": message,
                                      "type": "invalid_request_error" if status == 404 else "api_error"}}
        grants = self.keys[key]
        needed = PERMISSIONS.get(path)
        if needed is None:
            return 404, {"error": {"message": f"Unrecognized request URL (GET: {path}).",
                                   "type": "invalid_request_error"}}
        if grants is not None and needed not in grants:
            return 403, {"error": {
                "message": f"The provided key '{key[:8]}*********{key[-4:]}' does not have the "
                           f"required permissions for this endpoint on account '{self.account}'. "
                           f"Having the '{needed}' permission would allow this request to continue.",
                "type": "invalid_request_error"}}
        if path == "/v1/balance":
            return 200, {"object": "balance", "available": [], "pending": [], "livemode": self.livemode}
        return 200, self._page(path, query)

    def _page(self, path: str, query: dict[str, list[str]]) -> dict[str, Any]:
        items = self.lists.get(path, [])
        limit = min(int(query.get("limit", ["10"])[0]), 100)
        start = 0
        if "starting_after" in query:
            after = query["starting_after"][0]
            start = next(i for i, o in enumerate(items) if o["id"] == after) + 1
        page = items[start:start + limit]
        return {"object": "list", "data": page, "has_more": start + limit < len(items), "url": path}


class StripeServer(JsonServer):
    def __init__(self, account: StripeAccount) -> None:
        self.account = account
        super().__init__(account.answer, lambda: {"Request-Id": "req_" + secrets.token_hex(7)})
