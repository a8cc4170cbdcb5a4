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

from infra.stripe.rak_names import Level
from tests.servers import stripe_keys
from tests.servers.json_server import JsonServer
from tests.servers.stripe_keys import PRODUCT_FEATURES, RESOURCE_AT


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

    def feature(self, lookup_key: str, name: str, **fields: Any) -> dict[str, Any]:
        return self.add("/v1/entitlements/features", {
            "id": stripe_id("feat"), "object": "entitlements.feature", "active": True,
            "lookup_key": lookup_key, "metadata": {}, "name": name, **fields})

    def attach(self, product: dict[str, Any], feature: dict[str, Any]) -> dict[str, Any]:
        """A product feature, as GET /v1/products/{id}/features lists it: the feature embedded."""
        return self.add(f"/v1/products/{product['id']}/features", {
            "id": stripe_id("prodft"), "object": "product_feature", "entitlement_feature": feature})

    def answer(self, method: str, path: str, query: dict[str, list[str]],
               auth: str | None) -> tuple[int, dict[str, Any]]:
        self.requests.append((method, path))
        key = (auth or "").removeprefix("Bearer ")
        if key not in self.keys:
            return stripe_keys.unknown(key)
        if path in self.failures:
            status = self.failures[path]
            message = (f"Unrecognized request URL ({method}: {path})." if status == 404
                       else "An unknown error occurred while processing your request.")
            return status, {"error": {"message": message,
                                      "type": "invalid_request_error" if status == 404 else "api_error"}}
        if method == "POST":
            return self._write(key, path)
        if method != "GET":
            return 405, {"error": {"message": "this local server does not delete",
                                   "type": "invalid_request_error"}}
        resource = RESOURCE_AT.get(path) or ("Products" if path.endswith("/features")
                                             and PRODUCT_FEATURES.match(path) else None)
        if resource is None:
            return 404, {"error": {"message": f"Unrecognized request URL (GET: {path}).",
                                   "type": "invalid_request_error"}}
        refused = self._refusal(key, resource, "read")
        if refused:
            return refused
        if path == "/v1/balance":
            return 200, {"object": "balance", "available": [], "pending": [], "livemode": self.livemode}
        return 200, self._page(path, query)

    def _refusal(self, key: str, resource: str, level: Level) -> tuple[int, dict[str, Any]] | None:
        """Stripe's 403 when the key lacks the permission (a Write grant includes Read), else None."""
        return stripe_keys.refusal(self.keys, self.account, key, resource, level)

    def _write(self, key: str, path: str) -> tuple[int, dict[str, Any]]:
        """A write on one object: the permission is checked before the object is looked up, as Stripe does."""
        collection = max((p for p in RESOURCE_AT if path.startswith(p + "/")), key=len, default=None)
        if collection is None:
            return 404, {"error": {"message": f"Unrecognized request URL (POST: {path}).",
                                   "type": "invalid_request_error"}}
        refused = self._refusal(key, RESOURCE_AT[collection], "write")
        if refused:
            return refused
        object_id = path.removeprefix(collection + "/").split("/")[0]
        if not any(o["id"] == object_id for o in self.lists.get(collection, [])):
            noun = collection.rsplit("/", 1)[1].removesuffix("s").replace("_", " ")
            return 404, {"error": {"code": "resource_missing", "doc_url": "https://stripe.com/docs/error-codes/"
                                   "resource-missing", "message": f"No such {noun}: '{object_id}'",
                                   "param": "id", "type": "invalid_request_error"}}
        return 405, {"error": {"message": "this local server does not change objects",
                               "type": "invalid_request_error"}}

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
