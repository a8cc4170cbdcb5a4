"""Access to a Stripe account through stripe-python, for `verify` and `pull`.

Every call is a GET, except the write probes (a POST with no fields to an
object that cannot exist: nothing is written) and `send`, which only `verify
payment` uses; all go through `BoundedTransport` (a total deadline, a body
cap, no redirect). Lists page with Stripe's `has_more` / `starting_after`,
100 objects a page, under `paging.follow`'s page cap and repeated-cursor
check, and every object is checked against the shape the commands read
before it is returned. Any failure is an ApiError whose message
is safe to print. STRIPE_API_BASE points the client at another API root (a
gateway, or the local Stripe-shaped server the tests run).
"""

from __future__ import annotations

import re
from typing import Any

import stripe

from infra.clients import errors, paging, shapes
from infra.clients.credentials import STRIPE_API_BASE, api_base
from infra.clients.errors import ApiError
from infra.clients.shapes import STRINGS, URL, Opt
from infra.clients.stripe_transport import BoundedTransport

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
    "Entitlements": "/v1/entitlements/features",
    "Invoices": "/v1/invoices",
    "Meters": "/v1/billing/meters",
    "Prices": "/v1/prices",
    "Promotion codes": "/v1/promotion_codes",
    "Subscriptions": "/v1/subscriptions",
    "Tax rates": "/v1/tax_rates",
    "Payment Links": "/v1/payment_links",
    "Webhook endpoints": "/v1/webhook_endpoints",
}
# A write per Dashboard resource on an object that cannot exist. Stripe checks the key's permission
# before it looks the ID up, so the answer is 404 "No such ..." (resource_missing) when the key may
# write there and 403 when it may not; nothing is written either way.
MISSING_ID = "verify_missing_object"
WRITE_PROBES: dict[str, str] = {
    "Charges": f"/v1/charges/ch_{MISSING_ID}",
    "Customers": f"/v1/customers/cus_{MISSING_ID}",
    "Disputes": f"/v1/disputes/dp_{MISSING_ID}",
    "PaymentIntents": f"/v1/payment_intents/pi_{MISSING_ID}",
    "Payouts": f"/v1/payouts/po_{MISSING_ID}",
    "Products": f"/v1/products/prod_{MISSING_ID}",
    "Refunds": f"/v1/refunds/re_{MISSING_ID}",
    "SetupIntents": f"/v1/setup_intents/seti_{MISSING_ID}",
    "Checkout Sessions": f"/v1/checkout/sessions/cs_{MISSING_ID}/expire",
    "Coupons": f"/v1/coupons/{MISSING_ID}",
    "Credit notes": f"/v1/credit_notes/cn_{MISSING_ID}",
    "Customer portal": f"/v1/billing_portal/configurations/bpc_{MISSING_ID}",
    "Entitlements": f"/v1/entitlements/features/feat_{MISSING_ID}",
    "Invoices": f"/v1/invoices/in_{MISSING_ID}",
    "Meters": f"/v1/billing/meters/mtr_{MISSING_ID}",
    "Prices": f"/v1/prices/price_{MISSING_ID}",
    "Promotion codes": f"/v1/promotion_codes/promo_{MISSING_ID}",
    "Subscriptions": f"/v1/subscriptions/sub_{MISSING_ID}",
    "Tax rates": f"/v1/tax_rates/txr_{MISSING_ID}",
    "Payment Links": f"/v1/payment_links/plink_{MISSING_ID}",
    "Webhook endpoints": f"/v1/webhook_endpoints/we_{MISSING_ID}",
}
_PERMISSION = re.compile(r"'(rak_[a-z0-9_]+)'")

# The fields `verify` and `pull` read, with the types Stripe documents; null and absent are the same.
_ENABLED = {"enabled": Opt(bool)}
PRODUCT: shapes.Spec = {
    "id": str, "active": bool, "livemode": Opt(bool), "name": Opt(str), "description": Opt(str),
    "created": Opt(int), "default_price": Opt(str), "metadata": Opt(STRINGS),
    "marketing_features": Opt([{"name": Opt(str)}]),
}
PRICE: shapes.Spec = {
    "id": str, "product": str, "active": bool, "livemode": Opt(bool), "currency": str,
    "type": Opt(str), "billing_scheme": Opt(str), "unit_amount": Opt(int), "created": Opt(int),
    "recurring": Opt({"interval": str, "interval_count": Opt(int), "usage_type": Opt(str)}),
    "lookup_key": Opt(str), "tax_behavior": Opt(str), "nickname": Opt(str), "metadata": Opt(STRINGS),
}
WEBHOOK_ENDPOINT: shapes.Spec = {
    "id": str, "url": URL, "status": str, "livemode": Opt(bool), "enabled_events": [str],
    "api_version": Opt(str), "description": Opt(str), "metadata": Opt(STRINGS), "created": Opt(int),
}
PORTAL_CONFIGURATION: shapes.Spec = {
    "id": str, "active": bool, "livemode": Opt(bool), "is_default": Opt(bool), "created": Opt(int),
    "default_return_url": Opt(URL),
    "business_profile": Opt({"headline": Opt(str), "privacy_policy_url": Opt(str),
                             "terms_of_service_url": Opt(str)}),
    "features": Opt({
        "invoice_history": Opt(_ENABLED), "payment_method_update": Opt(_ENABLED),
        "customer_update": Opt({**_ENABLED, "allowed_updates": Opt([str])}),
        "subscription_cancel": Opt({**_ENABLED, "mode": Opt(str), "proration_behavior": Opt(str),
                                    "cancellation_reason": Opt({**_ENABLED, "options": Opt([str])})}),
        "subscription_update": Opt({**_ENABLED, "default_allowed_updates": Opt([str]),
                                    "proration_behavior": Opt(str),
                                    "products": Opt([{"product": str, "prices": Opt([str])}])}),
    }),
}
FEATURE: shapes.Spec = {
    "id": str, "active": bool, "livemode": Opt(bool), "lookup_key": str, "name": str,
    "metadata": Opt(STRINGS),
}
PRODUCT_FEATURE: shapes.Spec = {"id": str, "livemode": Opt(bool), "entitlement_feature": FEATURE}
# A product ID goes into a URL path: nothing but Stripe's ID characters.
_PRODUCT_ID = re.compile(r"prod_[A-Za-z0-9]{1,250}", re.ASCII)
_ERRORS_FROM_HOSTILE_BODIES = (AttributeError, TypeError, KeyError, ValueError, RecursionError)
"""What stripe-python itself raises when an error answer is JSON of the wrong shape."""


def permissions_named(text: str) -> tuple[str, ...]:
    """The permission names Stripe's 403 message says would allow the call."""
    return tuple(_PERMISSION.findall(text))


class Account:
    """One key's view of one Stripe account."""

    def __init__(self, api_key: str, base: str | None = None, transport: BoundedTransport | None = None,
                 max_pages: int = paging.MAX_PAGES) -> None:
        root = base or api_base(STRIPE_API_BASE, DEFAULT_API_BASE, api_key)
        # No retries: a verify or pull run should report a refusal, not hammer the API.
        self.client = stripe.StripeClient(api_key, base_addresses={"api": root}, max_network_retries=0,
                                          http_client=transport or BoundedTransport())
        self._key = api_key
        self.max_pages = max_pages
        self.livemodes: set[bool] = set()
        """`livemode` of every object read so far: the account's answer to which mode the key is in."""

    def products(self) -> list[dict[str, Any]]:
        return self._list("/v1/products", PRODUCT)

    def prices(self) -> list[dict[str, Any]]:
        return self._list("/v1/prices", PRICE)

    def webhook_endpoints(self) -> list[dict[str, Any]]:
        return self._list("/v1/webhook_endpoints", WEBHOOK_ENDPOINT)

    def portal_configurations(self) -> list[dict[str, Any]]:
        # Stripe leaves a configuration's switchable products out of its answer unless they
        # are expanded (an "includable" field), so without this plan switching reads as off.
        return self._list("/v1/billing_portal/configurations", PORTAL_CONFIGURATION,
                          {"expand": ["data.features.subscription_update.products"]})

    def features(self) -> list[dict[str, Any]]:
        """Entitlements features, active and archived (GET /v1/entitlements/features): Stripe
        lists only one archive status at a time (`archived`, default false), so both are asked."""
        found = {f["id"]: f for archived in ("false", "true")
                 for f in self._list("/v1/entitlements/features", FEATURE, {"archived": archived})}
        return list(found.values())

    def product_features(self, product: str) -> list[dict[str, Any]]:
        """The features attached to one product (GET /v1/products/{id}/features)."""
        if not _PRODUCT_ID.fullmatch(product):
            raise ApiError("malformed", "a product ID that is not Stripe's shape (prod_ and letters/digits)")
        return self._list(f"/v1/products/{product}/features", PRODUCT_FEATURE)

    def probe(self, path: str) -> ApiError | None:
        """GET one object from a list endpoint; None when the key may read it."""
        try:
            self._seen(self._get(path, {"limit": 1}))
        except ApiError as error:
            return error
        return None

    def write_probe(self, path: str) -> ApiError | None:
        """POST no fields to an object that cannot exist; None when Stripe says "No such ..." (may write)."""
        try:
            self.client.raw_request("post", path)
        except stripe.StripeError as error:
            if error.http_status == 404 and error.code == "resource_missing":
                return None
            return self._failure(path, error, "POST")
        except _ERRORS_FROM_HOSTILE_BODIES:
            return ApiError("malformed", f"POST {path}: an error answer that is not Stripe's shape")
        return ApiError("malformed", f"POST {path}: a write to an object that cannot exist succeeded")

    def send(self, method: str, path: str, **params: Any) -> dict[str, Any]:
        """One call that may write (`verify payment`); a JSON object back, or ApiError."""
        try:
            answer = self.client.raw_request(method, path, **params).data
        except stripe.StripeError as error:
            raise self._failure(path, error, method.upper()) from None
        except _ERRORS_FROM_HOSTILE_BODIES:
            raise ApiError("malformed", f"{method.upper()} {path}: an error answer that is not Stripe's "
                           "shape") from None
        if not isinstance(answer, dict):
            raise ApiError("malformed", f"{method.upper()} {path}: the answer is not a JSON object")
        self._seen(answer)
        return answer

    def _list(self, path: str, shape: shapes.Spec,
              extra: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        def page(cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
            params: dict[str, Any] = {"limit": PAGE_SIZE, **(extra or {}),
                                      **({"starting_after": cursor} if cursor else {})}
            answer = self._get(path, params)
            wrong = shapes.problem(answer, {"data": [shape], "has_more": bool})
            if wrong:
                raise ApiError("malformed", f"GET {path}: {errors.redact(wrong, [self._key])}")
            items: list[dict[str, Any]] = answer["data"]
            if answer["has_more"] and not items:
                raise ApiError("paging", f"GET {path}: an empty page that says there is more")
            return items, items[-1]["id"] if answer["has_more"] else None

        found = list(paging.follow(page, f"GET {path}", self.max_pages))
        for item in found:
            self._seen(item)
        return found

    def _get(self, path: str, params: dict[str, Any]) -> Any:
        try:
            return self.client.raw_request("get", path, **params).data
        except stripe.StripeError as error:
            raise self._failure(path, error) from None
        except _ERRORS_FROM_HOSTILE_BODIES:
            raise ApiError("malformed", f"GET {path}: an error answer that is not Stripe's shape") from None

    def _failure(self, path: str, error: stripe.StripeError, method: str = "GET") -> ApiError:
        if isinstance(error, stripe.APIConnectionError):
            cause = error.__cause__
            return cause if isinstance(cause, ApiError) else ApiError("connection",
                                                                      f"{method} {path}: no answer")
        status = error.http_status or 0
        body = error.json_body
        detail = body.get("error") if isinstance(body, dict) else None
        text = detail.get("message") if isinstance(detail, dict) else None
        if not isinstance(text, str):
            if 200 <= status < 300:
                return ApiError("malformed",
                                f"{method} {path}: answered {status} with a body that is not JSON")
            text = None
        failure = errors.from_status(status, text, [self._key])
        if failure.kind == "permission":
            failure.permissions = permissions_named(text or "")
        return failure

    def _seen(self, item: Any) -> None:
        if not isinstance(item, dict):
            return
        if isinstance(item.get("livemode"), bool):
            self.livemodes.add(item["livemode"])
        data = item.get("data")
        for child in data if isinstance(data, list) else ():
            self._seen(child)
