"""A stateful Stripe API for the real provider binary, behind `https://api.stripe.com`.

The bridged provider (stripe-go v78.12.0, API version 2024-04-10) creates, reads, updates
and deletes the objects the program declares. This server keeps them, answers each object
with every field Stripe documents for it, fills Stripe's defaults where the caller sends
nothing, and refuses what Stripe refuses: an unknown parameter (which is also how Stripe
refuses an immutable one: the update endpoint does not take it), a second active
promotion code with one code, a second price with one lookup key, a delete of an object
Stripe cannot delete, a product deleted while it has prices. Requests are form-encoded in
stripe-go's bracket notation. It opens no socket itself: `handle` answers one request, and
`app(state)` adapts it to tests/engine/network.py's TLS front (restricted keys and their
permissions when `state.keys` names them, tests/servers/stripe_keys.py's, as Stripe checks
them; else the one API key when `state.api_key` is set; Idempotency-Key replays; a non-UTF-8
body as 400).

What a payment makes (customers, subscriptions, Checkout and portal sessions, events and their
signed deliveries, invoice payments, refunds) is tests/servers/stripe_payments_server.py's
`Payments`, the one model the fast suite's Stripe uses too: this account hands it its
catalog (prices, portal configurations, each webhook endpoint with the signing secret it
answered at creation) and `deliver`, which the harness points at the app at the endpoint's
URL through the same TLS front.

Where the shapes come from, so that they can be checked again:
- the objects stripe-go v78.12.0 decodes (`product.go`, `price.go`, `coupon.go`,
  `promotioncode.go`, `webhookendpoint.go`, `billingportal_configuration.go`,
  `entitlements_feature.go`, `productfeature.go`) and the parameters it sends (the
  `...Params` structs in the same files);
- the example objects of Stripe's OpenAPI at v1083 (`openapi/fixtures3.json` in
  stripe/openapi, the spec stripe-go v78.12.0 was generated from, `OPENAPI_VERSION`), which
  show the defaults (`tax_code: null`, `shippable: null`, `recurring.aggregate_usage:
  null`, `tax_behavior: "unspecified"`, the portal's features tree, ...) and leave out
  the fields Stripe only answers when they are expanded;
- the typed classes of stripe-python 16.1.0 (requirements.txt), which also declare fields
  Stripe added after 2024-04-10. Stripe adds fields to every API version (only breaking
  changes are versioned), so the server answers those too (`Product.tax_details`, the
  portal's `name`, `PromotionCode.promotion`, ...), and keeps the 2024-04-10 fields that a
  later version removed (`Price.recurring.aggregate_usage`, `PromotionCode.coupon`),
  because the provider reads them. tests/servers/test_stripe_server_shapes.py holds every answer
  against those classes.
Behaviour no source here confirms is marked "not confirmed" where it is implemented.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs, parse_qsl

from tests.servers import stripe_keys
from tests.servers.stripe_keys import Keys
from tests.servers.stripe_payments_server import Payments, form_of

Obj = dict[str, Any]
ERROR = "invalid_request_error"
MAX_INDEX = 1000  # an array index in a form key above this is refused, not allocated


class StripeError(Exception):
    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.body = status, {"error": {
            "type": ERROR, "message": message, **({"param": param} if param else {}),
            **({"code": code} if code else {})}}


def parse_form(body: str) -> Obj:
    """stripe-go's form encoding (`a[b][0][c]=v`) as nested dicts and lists; `key=` is an empty list.

    A key that mixes list and object notation, or an index over MAX_INDEX, is a 400.
    """
    out: Obj = {}
    for raw_key, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", raw_key)
        if not parts:
            raise StripeError(400, f"Invalid parameter name: {raw_key!r}")
        node: Any = out
        for here, after in zip(parts, [*parts[1:], None], strict=False):
            container: Any = [] if after is not None and after.isdigit() else {}
            if after is None:
                _assign(node, here, value, raw_key)
            else:
                node = _child(node, here, container, raw_key)
    return out


def _slot(node: Any, key: str, raw_key: str) -> Any:
    if isinstance(node, list):
        if not key.isdigit() or int(key) > MAX_INDEX:
            raise StripeError(400, f"Invalid array index in {raw_key}", raw_key)
        index = int(key)
        while len(node) <= index:
            node.append(None)
        return index
    if not isinstance(node, dict):
        raise StripeError(400, f"Invalid parameter: {raw_key} mixes a value and an object", raw_key)
    return key


def _child(node: Any, key: str, container: Any, raw_key: str) -> Any:
    slot = _slot(node, key, raw_key)
    existing = node[slot] if isinstance(node, list) else node.get(slot)
    if existing is None:
        node[slot] = container
        return container
    if type(existing) is not type(container):
        raise StripeError(400, f"Invalid parameter: {raw_key} mixes an array and an object", raw_key)
    return existing


def _assign(node: Any, key: str, value: str, raw_key: str) -> None:
    slot = _slot(node, key, raw_key)
    existing = node[slot] if isinstance(node, list) else node.get(slot)
    if isinstance(existing, dict | list):
        raise StripeError(400, f"Invalid parameter: {raw_key} mixes a value and an object", raw_key)
    node[slot] = value


# --- parameter schemas -------------------------------------------------------------------
# What each endpoint takes: None is a value, a dict an object with those keys, a list of one
# element an array of it, {"*": spec} a map with free keys. The union of stripe-go v78.12.0's
# `...Params` structs (what the provider can send) and stripe-python 16.1.0's `...CreateParams`
# / `...ModifyParams` (where v78 shares one struct between create and update, stripe-python
# tells them apart). A key outside the schema is Stripe's "Received unknown parameter" 400.
V = None
MAP_OF_STRINGS: Obj = {"*": V}
TIER: Obj = {"flat_amount": V, "flat_amount_decimal": V, "unit_amount": V, "unit_amount_decimal": V,
             "up_to": V}
CUSTOM_UNIT_AMOUNT: Obj = {"enabled": V, "maximum": V, "minimum": V, "preset": V}
PRICE_CURRENCY_OPTIONS: Obj = {"*": {"custom_unit_amount": CUSTOM_UNIT_AMOUNT, "tax_behavior": V,
                                     "tiers": [TIER], "unit_amount": V, "unit_amount_decimal": V}}
TAX_DETAILS: Obj = {"performance_location": V, "tax_code": V}
PACKAGE_DIMENSIONS: Obj = {"height": V, "length": V, "weight": V, "width": V}
PRODUCT_UPDATE: Obj = {
    "active": V, "default_price": V, "description": V, "expand": [V], "images": [V],
    "marketing_features": [{"name": V}], "metadata": MAP_OF_STRINGS, "name": V,
    "package_dimensions": PACKAGE_DIMENSIONS, "shippable": V, "statement_descriptor": V, "tax_code": V,
    "tax_details": TAX_DETAILS, "unit_label": V, "url": V}
PRODUCT_CREATE: Obj = {
    **{k: v for k, v in PRODUCT_UPDATE.items() if k != "default_price"}, "id": V, "type": V,
    "default_price_data": {
        "currency": V, "currency_options": PRICE_CURRENCY_OPTIONS, "custom_unit_amount": CUSTOM_UNIT_AMOUNT,
        "metadata": MAP_OF_STRINGS, "recurring": {"interval": V, "interval_count": V}, "tax_behavior": V,
        "unit_amount": V, "unit_amount_decimal": V}}
PRICE_UPDATE: Obj = {
    "active": V, "currency_options": PRICE_CURRENCY_OPTIONS, "expand": [V], "lookup_key": V,
    "metadata": MAP_OF_STRINGS, "nickname": V, "tax_behavior": V, "transfer_lookup_key": V}
PRICE_CREATE: Obj = {
    **PRICE_UPDATE, "billing_scheme": V, "currency": V, "custom_unit_amount": CUSTOM_UNIT_AMOUNT,
    "product": V,
    "product_data": {"active": V, "id": V, "metadata": MAP_OF_STRINGS, "name": V, "statement_descriptor": V,
                     "tax_code": V, "tax_details": TAX_DETAILS, "unit_label": V},
    # aggregate_usage: stripe-go v78 (API 2024-04-10); stripe-python 16 no longer sends it.
    "recurring": {"aggregate_usage": V, "interval": V, "interval_count": V, "meter": V,
                  "trial_period_days": V, "usage_type": V},
    "tiers": [TIER], "tiers_mode": V, "transform_quantity": {"divide_by": V, "round": V},
    "unit_amount": V, "unit_amount_decimal": V}
COUPON_CURRENCY_OPTIONS: Obj = {"*": {"amount_off": V}}
# Only these change on a coupon (stripe-python CouponModifyParams): its terms are fixed.
COUPON_UPDATE: Obj = {"currency_options": COUPON_CURRENCY_OPTIONS, "expand": [V], "metadata": MAP_OF_STRINGS,
                      "name": V}
COUPON_CREATE: Obj = {
    **COUPON_UPDATE, "amount_off": V, "applies_to": {"products": [V]}, "currency": V, "duration": V,
    "duration_in_months": V, "id": V, "max_redemptions": V, "percent_off": V, "redeem_by": V}
PROMOTION_CODE_UPDATE: Obj = {"active": V, "expand": [V], "metadata": MAP_OF_STRINGS,
                              "restrictions": {"currency_options": {"*": {"minimum_amount": V}}}}
PROMOTION_CODE_CREATE: Obj = {
    **PROMOTION_CODE_UPDATE, "code": V, "customer": V, "expires_at": V, "max_redemptions": V,
    # `coupon` is 2024-04-10's (stripe-go v78); `promotion[coupon]` and `customer_account` are
    # what later versions send instead (stripe-python 16).
    "coupon": V, "promotion": {"coupon": V, "type": V}, "customer_account": V,
    "restrictions": {"currency_options": {"*": {"minimum_amount": V}}, "first_time_transaction": V,
                     "minimum_amount": V, "minimum_amount_currency": V}}
WEBHOOK_ENDPOINT_UPDATE: Obj = {"description": V, "disabled": V, "enabled_events": [V], "expand": [V],
                                "metadata": MAP_OF_STRINGS, "url": V}
WEBHOOK_ENDPOINT_CREATE: Obj = {
    **{k: v for k, v in WEBHOOK_ENDPOINT_UPDATE.items() if k != "disabled"}, "api_version": V, "connect": V}
PORTAL_FEATURES: Obj = {
    "customer_update": {"allowed_updates": [V], "enabled": V},
    "invoice_history": {"enabled": V},
    "payment_method_update": {"enabled": V, "payment_method_configuration": V},
    "subscription_cancel": {"cancellation_reason": {"enabled": V, "feedback_options": [V], "options": [V]},
                            "enabled": V, "mode": V, "proration_behavior": V},
    "subscription_pause": {"duration": {"interval_options": [{"interval": V, "interval_count": V}], "type": V},
                           "enabled": V},
    "subscription_update": {
        "billing_cycle_anchor": V, "default_allowed_updates": [V], "enabled": V,
        "products": [{"adjustable_quantity": {"enabled": V, "maximum": V, "minimum": V}, "prices": [V],
                      "product": V}],
        "proration_behavior": V, "schedule_at_period_end": {"conditions": [{"type": V}]},
        "trial_update_behavior": V}}
PORTAL_CREATE: Obj = {
    "business_profile": {"headline": V, "privacy_policy_url": V, "terms_of_service_url": V},
    "default_return_url": V, "expand": [V], "features": PORTAL_FEATURES, "login_page": {"enabled": V},
    "metadata": MAP_OF_STRINGS, "name": V}
PORTAL_UPDATE: Obj = {**PORTAL_CREATE, "active": V}
FEATURE_CREATE: Obj = {"expand": [V], "lookup_key": V, "metadata": MAP_OF_STRINGS, "name": V}
# A feature's lookup_key is fixed once created (stripe-python FeatureModifyParams has none).
FEATURE_UPDATE: Obj = {"active": V, "expand": [V], "metadata": MAP_OF_STRINGS, "name": V}
PRODUCT_FEATURE_CREATE: Obj = {"entitlement_feature": V, "expand": [V]}


def check_params(params: Obj, schema: Obj, prefix: str = "") -> None:
    """Stripe's 400 for a parameter the endpoint does not take, at any depth."""
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else key
        if "*" in schema:
            spec = schema["*"]
        elif key in schema:
            spec = schema[key]
        else:
            raise StripeError(400, f"Received unknown parameter: {name}", name, "parameter_unknown")
        _check_value(value, spec, name)


def _check_value(value: Any, spec: Any, name: str) -> None:
    if value == "" and spec is not None:
        return  # "" unsets an object or empties an array (stripe-go sends `key=` for an empty slice)
    if spec is None:
        if not isinstance(value, str):
            raise StripeError(400, f"Invalid string: {name} must be a value, not an object or array", name)
    elif isinstance(spec, list):
        if not isinstance(value, list):
            raise StripeError(400, f"Invalid array: {name}", name)
        for index, item in enumerate(value):
            if item is None:
                raise StripeError(400, f"Invalid array: {name} skips index {index}", name)
            _check_value(item, spec[0], f"{name}[{index}]")
    else:
        if not isinstance(value, dict):
            raise StripeError(400, f"Invalid object: {name}", name)
        check_params(value, spec, name)


# --- values ------------------------------------------------------------------------------
def _bool(value: Any, param: str | None = None) -> bool:
    if value in ("true", True):
        return True
    if value in ("false", False):
        return False
    raise StripeError(400, f"Invalid boolean: {value}", param)


def _int(value: Any, param: str | None = None) -> int:
    if isinstance(value, int) or (isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,18}", value)):
        return int(value)
    raise StripeError(400, f"Invalid integer: {value}", param)


def _opt_int(params: Obj, key: str, param: str | None = None) -> int | None:
    return _int(params[key], param or key) if params.get(key) not in (None, "") else None


def _num(value: Any, param: str | None = None) -> float:
    try:
        return float(_decimal(value, param))
    except (TypeError, ValueError):
        raise StripeError(400, f"Invalid decimal: {value}", param) from None


def _decimal(value: Any, param: str | None = None) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise StripeError(400, f"Invalid decimal: {value}", param) from None
    if not number.is_finite():
        raise StripeError(400, f"Invalid decimal: {value}", param)
    return number


def _decimal_string(number: Decimal) -> str:
    """Stripe's decimal strings: "2000", "12.5" (no exponent, no trailing zeros)."""
    text = format(number.normalize(), "f")
    return text if "." not in text else text.rstrip("0").rstrip(".")


def _strings(value: Any) -> list[str]:
    if value == "" or value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    raise StripeError(400, "Invalid array")


def _text(params: Obj, key: str) -> str | None:
    """A string parameter: "" and absent are both null, as Stripe answers them."""
    return params.get(key) or None


def _metadata(old: Obj | None, sent: Any) -> Obj:
    """Stripe merges metadata; a key sent as "" is removed; `metadata=` clears it."""
    if sent == "":
        return {}
    merged = dict(old or {})
    for key, value in (sent or {}).items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _new_id(prefix: str) -> str:
    return f"{prefix}_" + secrets.token_hex(7)


def _currency(value: Any, param: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{3}", value):
        raise StripeError(400, f"Invalid currency: {value}", param)
    return value.lower()  # Stripe answers currencies in lowercase whatever it is sent


def _choice(value: Any, allowed: tuple[str, ...], param: str) -> str:
    if value not in allowed:
        raise StripeError(400, f"Invalid {param}: must be one of {', '.join(allowed)}", param)
    return str(value)


def _now() -> int:
    return int(time.time())


# --- nested objects ----------------------------------------------------------------------
def _recurring(value: Obj) -> Obj:
    interval = _choice(value.get("interval"), ("day", "week", "month", "year"), "recurring[interval]")
    count = _int(value.get("interval_count") or 1, "recurring[interval_count]")
    if count < 1:
        raise StripeError(400, "Invalid recurring[interval_count]: must be at least 1",
                          "recurring[interval_count]")
    usage = _choice(value.get("usage_type") or "licensed", ("licensed", "metered"), "recurring[usage_type]")
    aggregate = value.get("aggregate_usage") or None
    if aggregate is not None:
        _choice(aggregate, ("last_during_period", "last_ever", "max", "sum"), "recurring[aggregate_usage]")
        if usage != "metered":
            raise StripeError(400, "aggregate_usage is only allowed for prices with usage_type=metered.",
                              "recurring[aggregate_usage]")
    elif usage == "metered":
        # stripe-go v78 price.go: "Specifies a usage aggregation strategy for prices of
        # `usage_type=metered`. Defaults to `sum`." A licensed price answers null (fixture v1083).
        aggregate = "sum"
    return {"aggregate_usage": aggregate, "interval": interval, "interval_count": count,
            "meter": value.get("meter") or None,
            "trial_period_days": _opt_int(value, "trial_period_days", "recurring[trial_period_days]"),
            "usage_type": usage}


def _tier(value: Obj, index: int) -> Obj:
    param = f"tiers[{index}]"
    up_to = value.get("up_to")
    if up_to in (None, ""):
        raise StripeError(400, f"Missing required param: {param}[up_to].", f"{param}[up_to]")
    out: Obj = {"up_to": None if up_to == "inf" else _int(up_to, f"{param}[up_to]")}
    for name in ("flat_amount", "unit_amount"):
        amount, exact = value.get(name), value.get(f"{name}_decimal")
        if amount not in (None, ""):
            number = Decimal(_int(amount, f"{param}[{name}]"))
        elif exact not in (None, ""):
            number = _decimal(exact, f"{param}[{name}_decimal]")
        else:
            out[name], out[f"{name}_decimal"] = None, None
            continue
        out[name] = int(number) if number == number.to_integral_value() else None
        out[f"{name}_decimal"] = _decimal_string(number)
    return out


def _custom_unit_amount(value: Any, param: str) -> Obj | None:
    if not value or not _bool(value.get("enabled", False), f"{param}[enabled]"):
        return None
    return {k: _opt_int(value, k, f"{param}[{k}]") for k in ("maximum", "minimum", "preset")}


def _restrictions(value: Obj) -> Obj:
    options = value.get("currency_options") or {}
    return {
        "currency_options": {_currency(c, "restrictions[currency_options]"):
                             {"minimum_amount": _int(o.get("minimum_amount"), "restrictions[currency_options]")}
                             for c, o in options.items()},
        "first_time_transaction": _bool(value.get("first_time_transaction", False),
                                        "restrictions[first_time_transaction]"),
        "minimum_amount": _opt_int(value, "minimum_amount", "restrictions[minimum_amount]"),
        "minimum_amount_currency": _currency(value["minimum_amount_currency"],
                                             "restrictions[minimum_amount_currency]")
        if value.get("minimum_amount_currency") else None}


def _business_profile(old: Obj | None, value: Any) -> Obj:
    merged = dict(old or {"headline": None, "privacy_policy_url": None, "terms_of_service_url": None})
    for key in ("headline", "privacy_policy_url", "terms_of_service_url"):
        if key in (value or {}):
            merged[key] = value[key] or None
    return merged


# The portal's features tree when nothing is sent, every sub-feature present. From the
# example object of OpenAPI v1083 (the 2024-04-10 spec): customer_update, invoice_history,
# payment_method_update, subscription_cancel {cancellation_reason {enabled false, options []},
# mode at_period_end, proration_behavior none}, subscription_update {default_allowed_updates
# [], proration_behavior none}. Fields Stripe added later, with their defaults from stripe/openapi's
# current fixtures3.json: payment_method_update.payment_method_configuration null,
# subscription_update.billing_cycle_anchor null, schedule_at_period_end {conditions: []} (the
# fixture's example holds one condition; empty is the default not confirmed),
# trial_update_behavior end_trial; cancellation_reason.feedback_options null (private-preview
# fixture). subscription_pause: in no 2024-04-10 answer (fixture v1083 has none); stripe-python
# 16 declares it, and its create parameter documents "Defaults to `interval_options` with a
# single one-month option"; `enabled: false` is the pre-2024-04-10 fixture's.
# subscription_update.products is answered only when expanded (see EXPANDABLE).
PORTAL_FEATURES_DEFAULT: Obj = {
    "customer_update": {"allowed_updates": [], "enabled": False},
    "invoice_history": {"enabled": False},
    "payment_method_update": {"enabled": False, "payment_method_configuration": None},
    "subscription_cancel": {
        "cancellation_reason": {"enabled": False, "feedback_options": None, "options": []},
        "enabled": False, "mode": "at_period_end", "proration_behavior": "none"},
    "subscription_pause": {
        "duration": {"interval_options": [{"interval": "month", "interval_count": 1}],
                     "type": "interval_options"},
        "enabled": False},
    "subscription_update": {
        "billing_cycle_anchor": None, "default_allowed_updates": [], "enabled": False, "products": [],
        "proration_behavior": "none", "schedule_at_period_end": {"conditions": []},
        "trial_update_behavior": "end_trial"},
}


def _portal_product(value: Obj, index: int) -> Obj:
    param = f"features[subscription_update][products][{index}]"
    if not value.get("product"):
        raise StripeError(400, f"Missing required param: {param}[product].", f"{param}[product]")
    quantity = value.get("adjustable_quantity") or {}
    return {
        # adjustable_quantity when not sent: {enabled false, maximum null, minimum 1} is not
        # confirmed (stripe-python 16 declares the object, no source here shows its default).
        "adjustable_quantity": {
            "enabled": _bool(quantity.get("enabled", False), f"{param}[adjustable_quantity][enabled]"),
            "maximum": _opt_int(quantity, "maximum", f"{param}[adjustable_quantity][maximum]"),
            "minimum": _opt_int(quantity, "minimum", f"{param}[adjustable_quantity][minimum]") or 1},
        "prices": _strings(value.get("prices")), "product": value["product"]}


def _features(old: Obj | None, value: Any) -> Obj:
    """Stripe merges the features tree it is sent into the one it has."""
    tree = _deep_copy(old or PORTAL_FEATURES_DEFAULT)
    for name, sent in (value or {}).items():
        here = tree[name]  # the schema has refused any other name
        for key, sent_item in (sent or {}).items():
            param = f"features[{name}][{key}]"
            item = sent_item or ({} if isinstance(here[key], dict) else sent_item)
            if key == "enabled":
                here[key] = _bool(item, param)
            elif key in ("allowed_updates", "default_allowed_updates"):
                here[key] = _strings(item)
            elif key == "cancellation_reason":
                reason = here[key]
                here[key] = {
                    "enabled": _bool(item.get("enabled", reason["enabled"]), f"{param}[enabled]"),
                    "feedback_options": _strings(item["feedback_options"]) if "feedback_options" in item
                    else reason["feedback_options"],
                    "options": _strings(item.get("options", reason["options"]))}
            elif key == "products":
                here[key] = [_portal_product(p, i) for i, p in enumerate(item or [])]
            elif key == "schedule_at_period_end":
                here[key] = {"conditions": [{"type": c.get("type")} for c in item.get("conditions") or []]}
            elif key == "duration":
                here[key] = {"interval_options": [
                    {"interval": o.get("interval"), "interval_count": _int(o.get("interval_count", 1), param)}
                    for o in item.get("interval_options") or []], "type": item.get("type", "interval_options")}
            else:
                here[key] = item or None
    return tree


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


# --- the account -------------------------------------------------------------------------
def _nowhere(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int | None:
    return None  # until the harness says how to reach an endpoint, no delivery is answered


@dataclass
class StripeState:
    """The account: objects by ID, in creation order, and every request seen.

    `keys`, when it names any, are the only keys `app` accepts, each with its `rak_` permissions
    (None: a full secret key); else `api_key`, when set, is the only one (Stripe's 401 for any other).
    """

    livemode: bool = False
    objects: dict[str, dict[str, Obj]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    api_key: str | None = None
    keys: Keys = field(default_factory=dict)
    account: str = "acct_1Engine" + "0" * 5
    # Idempotency-Key -> (method, path, body, status, answer): what `app` replays
    idempotent: dict[str, tuple[str, str, str, int, Any]] = field(default_factory=dict)
    payments: Payments = field(init=False)

    def __post_init__(self) -> None:
        self.payments = Payments(self, _nowhere)

    # --- the catalog the payments read (called with `lock` held, or from `complete_checkout`) --
    def find_price(self, price_id: str) -> Obj | None:
        found = self.objects.get("price", {}).get(price_id)
        return _answer(self, "price", found, []) if found else None

    def find_portal_configuration(self, configuration_id: str) -> Obj | None:
        found = self.objects.get("billing_portal.configuration", {}).get(configuration_id)
        return _answer(self, "billing_portal.configuration", found, []) if found else None

    def signing_endpoints(self) -> list[tuple[Obj, str]]:
        return [(_public(e), e["_secret"]) for e in self.all("webhook_endpoint")]

    def complete_checkout(self, session_id: str) -> None:
        """The person pays the Checkout Session (what a browser does on Stripe's page)."""
        with self.lock:
            self.payments.complete_checkout(session_id)

    def all(self, kind: str) -> list[Obj]:
        return list(self.objects.get(kind, {}).values())

    def put(self, kind: str, obj: Obj) -> Obj:
        self.objects.setdefault(kind, {})[obj["id"]] = obj
        return obj

    def get(self, kind: str, ident: str) -> Obj:
        found = self.objects.get(kind, {}).get(ident)
        if found is None:
            raise StripeError(404, f"No such {_NOUNS.get(kind, kind)}: '{ident}'", "id", "resource_missing")
        return found

    # --- products -------------------------------------------------------------------------
    def create_product(self, p: Obj) -> Obj:
        check_params(p, PRODUCT_CREATE)
        if not p.get("name"):
            raise StripeError(400, "Missing required param: name.", "name")
        ident = p.get("id") or _new_id("prod")
        if ident in self.objects.get("product", {}):
            raise StripeError(400, f"Product already exists with ID {ident}", "id", "resource_already_exists")
        now = _now()
        obj = self.put("product", {
            "id": ident, "object": "product", "active": _bool(p.get("active", True), "active"),
            "created": now, "default_price": None, "description": _text(p, "description"),
            "images": _strings(p.get("images")), "livemode": self.livemode,
            "marketing_features": _marketing_features(p.get("marketing_features")),
            "metadata": _metadata({}, p.get("metadata")), "name": p["name"],
            "package_dimensions": _package_dimensions(p.get("package_dimensions")),
            # fixture v1083: shippable null when not sent
            "shippable": _bool(p["shippable"], "shippable") if p.get("shippable") not in (None, "") else None,
            "statement_descriptor": _text(p, "statement_descriptor"), "tax_code": _text(p, "tax_code"),
            # tax_details: added after 2024-04-10 (stripe-python 16); null when not sent is not confirmed
            "tax_details": _tax_details(p.get("tax_details")),
            # stripe-go v78 ProductParams.Type: "Defaults to `service` if not explicitly specified"
            "type": _choice(p.get("type") or "service", ("good", "service"), "type"),
            "unit_label": _text(p, "unit_label"), "updated": now, "url": _text(p, "url")})
        if p.get("default_price_data"):
            try:
                price = self.create_price({**p["default_price_data"], "product": ident})
            except StripeError:
                del self.objects["product"][ident]  # Stripe creates neither
                raise
            obj["default_price"] = price["id"]
        return obj

    def update_product(self, obj: Obj, p: Obj) -> Obj:
        check_params(p, PRODUCT_UPDATE)
        if "name" in p and not p["name"]:
            raise StripeError(400, "You passed an empty string for 'name'. We assume empty values are an "
                                   "attempt to unset a parameter; however 'name' cannot be unset.", "name")
        for key in ("name", "description", "statement_descriptor", "tax_code", "unit_label", "url"):
            if key in p:
                obj[key] = p[key] or None
        if "active" in p:
            obj["active"] = _bool(p["active"], "active")
        if "shippable" in p:
            obj["shippable"] = _bool(p["shippable"], "shippable") if p["shippable"] != "" else None
        if "images" in p:
            obj["images"] = _strings(p["images"])
        if "marketing_features" in p:
            obj["marketing_features"] = _marketing_features(p["marketing_features"])
        if "package_dimensions" in p:
            obj["package_dimensions"] = _package_dimensions(p["package_dimensions"])
        if "tax_details" in p:
            obj["tax_details"] = _tax_details(p["tax_details"])
        if "default_price" in p:
            if p["default_price"]:
                price = self.get("price", p["default_price"])
                if price["product"] != obj["id"]:
                    raise StripeError(400, "The default price must belong to this product.", "default_price")
            obj["default_price"] = p["default_price"] or None
        if "metadata" in p:
            obj["metadata"] = _metadata(obj["metadata"], p["metadata"])
        obj["updated"] = _now()
        return obj

    def delete_product(self, obj: Obj) -> Obj:
        if any(price["product"] == obj["id"] for price in self.all("price")):
            # The refusal is Stripe's (a product with prices cannot be deleted); the exact message
            # and code are not confirmed.
            raise StripeError(400, "This product cannot be deleted because it has one or more "
                                   "user-created prices.", code="product_has_prices")
        del self.objects["product"][obj["id"]]
        return {"id": obj["id"], "object": "product", "deleted": True}

    # --- prices ---------------------------------------------------------------------------
    def create_price(self, p: Obj) -> Obj:
        check_params(p, PRICE_CREATE)
        if not p.get("currency"):
            raise StripeError(400, "Missing required param: currency.", "currency")
        currency = _currency(p["currency"], "currency")
        if p.get("product_data") and p.get("product"):
            raise StripeError(400, "You may only specify one of these parameters: product, product_data.",
                              "product")
        if not p.get("product_data"):
            self.get("product", p.get("product") or "")
        scheme = _choice(p.get("billing_scheme") or "per_unit", ("per_unit", "tiered"), "billing_scheme")
        amount, exact = self._unit_amount(p, scheme)
        tiers, tiers_mode = self._tiers(p, scheme)
        recurring = _recurring(p["recurring"]) if p.get("recurring") else None
        options = self._currency_options(currency, p.get("currency_options"))
        custom = _custom_unit_amount(p.get("custom_unit_amount"), "custom_unit_amount")
        transform = _transform_quantity(p.get("transform_quantity"))
        tax_behavior = _choice(p.get("tax_behavior") or "unspecified", ("exclusive", "inclusive", "unspecified"),
                               "tax_behavior")
        transfer = _bool(p.get("transfer_lookup_key", False), "transfer_lookup_key")
        key = p.get("lookup_key") or None
        if key and not transfer:
            self._take_lookup_key(key, transfer=False)  # refuses before anything is written
        product = self.create_product(dict(p["product_data"]))["id"] if p.get("product_data") else p["product"]
        if key:
            self._take_lookup_key(key, transfer)
        return self.put("price", {
            "id": _new_id("price"), "object": "price", "active": _bool(p.get("active", True), "active"),
            "billing_scheme": scheme, "created": _now(), "currency": currency,
            "currency_options": options, "custom_unit_amount": custom,
            "livemode": self.livemode, "lookup_key": key, "metadata": _metadata({}, p.get("metadata")),
            "nickname": _text(p, "nickname"), "product": product, "recurring": recurring,
            "tax_behavior": tax_behavior, "tiers": tiers, "tiers_mode": tiers_mode,
            "transform_quantity": transform,
            "type": "recurring" if recurring else "one_time", "unit_amount": amount,
            "unit_amount_decimal": exact})

    @staticmethod
    def _unit_amount(p: Obj, scheme: str) -> tuple[int | None, str | None]:
        """(unit_amount, unit_amount_decimal): the integer when it is whole, the decimal string always."""
        if scheme == "tiered":
            for key in ("unit_amount", "unit_amount_decimal"):
                if p.get(key) not in (None, ""):
                    raise StripeError(400, f"{key} cannot be set when billing_scheme=tiered.", key)
            return None, None
        if p.get("unit_amount") not in (None, "") and p.get("unit_amount_decimal") not in (None, ""):
            raise StripeError(400, "You may only specify one of these parameters: unit_amount, "
                                   "unit_amount_decimal.", "unit_amount")
        if p.get("unit_amount") not in (None, ""):
            number = Decimal(_int(p["unit_amount"], "unit_amount"))
        elif p.get("unit_amount_decimal") not in (None, ""):
            number = _decimal(p["unit_amount_decimal"], "unit_amount_decimal")
        elif p.get("custom_unit_amount"):
            return None, None
        else:
            raise StripeError(400, "Missing required param: unit_amount.", "unit_amount")
        if number < 0:
            raise StripeError(400, "Invalid non-negative integer", "unit_amount")
        whole = int(number) if number == number.to_integral_value() else None
        return whole, _decimal_string(number)

    @staticmethod
    def _tiers(p: Obj, scheme: str) -> tuple[list[Obj] | None, str | None]:
        mode = p.get("tiers_mode") or None
        if scheme != "tiered":
            if mode or p.get("tiers"):
                raise StripeError(400, "tiers and tiers_mode require billing_scheme=tiered.", "tiers_mode")
            return None, None
        _choice(mode, ("graduated", "volume"), "tiers_mode")
        tiers = [_tier(t, i) for i, t in enumerate(p.get("tiers") or [])]
        if not tiers:
            raise StripeError(400, "Missing required param: tiers.", "tiers")
        if tiers[-1]["up_to"] is not None:
            raise StripeError(400, "The last tier must have up_to=inf.", f"tiers[{len(tiers) - 1}][up_to]")
        return tiers, mode

    @staticmethod
    def _currency_options(currency: str, sent: Any) -> Obj | None:
        """Stored whole; answered only when `currency_options` is expanded.

        Whether Stripe lists the price's own currency in it is not confirmed: the server
        lists only what was sent.
        """
        if not sent:
            return None
        out: Obj = {}
        for sent_code, option in sent.items():
            code = _currency(sent_code, "currency_options")
            if code == currency:
                continue
            amount, exact = StripeState._unit_amount(option, "per_unit") if not option.get("tiers") \
                else (None, None)
            out[code] = {
                "custom_unit_amount": _custom_unit_amount(option.get("custom_unit_amount"),
                                                          f"currency_options[{code}][custom_unit_amount]"),
                "tax_behavior": option.get("tax_behavior") or "unspecified",
                "tiers": [_tier(t, i) for i, t in enumerate(option.get("tiers") or [])] or None,
                "unit_amount": amount, "unit_amount_decimal": exact}
        return out

    def _take_lookup_key(self, key: str, transfer: bool, keep: str | None = None) -> None:
        for price in self.all("price"):
            if price["lookup_key"] == key and price["id"] != keep:
                if not transfer:
                    # The refusal is Stripe's (lookup keys are unique unless transfer_lookup_key);
                    # the exact message is not confirmed.
                    raise StripeError(400, f"A price (`{price['id']}`) already uses that lookup key.",
                                      "lookup_key")
                price["lookup_key"] = None

    def update_price(self, obj: Obj, p: Obj) -> Obj:
        check_params(p, PRICE_UPDATE)  # currency, unit_amount, recurring, ... are fixed: unknown here
        if "active" in p:
            obj["active"] = _bool(p["active"], "active")
        if "nickname" in p:
            obj["nickname"] = p["nickname"] or None
        if "lookup_key" in p:
            key = p["lookup_key"] or None
            if key and key != obj["lookup_key"]:
                self._take_lookup_key(key, _bool(p.get("transfer_lookup_key", False), "transfer_lookup_key"),
                                      keep=obj["id"])
            obj["lookup_key"] = key
        if "tax_behavior" in p and p["tax_behavior"] != obj["tax_behavior"]:
            # stripe-python Price.tax_behavior: "Once specified as either `inclusive` or
            # `exclusive`, it cannot be changed." (the message here is not Stripe's verbatim)
            if obj["tax_behavior"] in ("inclusive", "exclusive"):
                raise StripeError(400, "tax_behavior cannot be changed once it is inclusive or exclusive.",
                                  "tax_behavior")
            obj["tax_behavior"] = _choice(p["tax_behavior"], ("exclusive", "inclusive", "unspecified"),
                                          "tax_behavior")
        if "currency_options" in p:
            # Sent options are merged into the stored ones; whether Stripe replaces the whole map
            # instead is not confirmed (the provider always sends the whole map).
            merged = {**(obj["currency_options"] or {}),
                      **(self._currency_options(obj["currency"], p["currency_options"]) or {})}
            obj["currency_options"] = merged or None
        if "metadata" in p:
            obj["metadata"] = _metadata(obj["metadata"], p["metadata"])
        return obj

    # --- coupons and promotion codes ------------------------------------------------------
    def create_coupon(self, p: Obj) -> Obj:
        check_params(p, COUPON_CREATE)
        has_amount, has_percent = p.get("amount_off") not in (None, ""), p.get("percent_off") not in (None, "")
        if has_amount == has_percent:
            raise StripeError(400, "You must pass exactly one of amount_off or percent_off.", "amount_off")
        if has_amount and not p.get("currency"):
            raise StripeError(400, "You must pass currency when passing amount_off.", "currency")
        duration = _choice(p.get("duration") or "once", ("forever", "once", "repeating"), "duration")
        months = _opt_int(p, "duration_in_months")
        if (duration == "repeating") != (months is not None):
            raise StripeError(400, "duration_in_months is required when duration is repeating, and only "
                                   "then.", "duration_in_months")
        percent = _num(p["percent_off"], "percent_off") if has_percent else None
        if percent is not None and not 0 < percent <= 100:
            raise StripeError(400, "percent_off must be greater than 0 and at most 100.", "percent_off")
        # Stripe makes an 8-character ID when none is sent (fixture v1083: "Z4OV52SU").
        ident = p.get("id") or "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(8))
        if ident in self.objects.get("coupon", {}):
            raise StripeError(400, "Coupon already exists.", "id", "resource_already_exists")
        products = _strings((p.get("applies_to") or {}).get("products"))
        for product in products:
            self.get("product", product)
        return self.put("coupon", {
            "id": ident, "object": "coupon", "amount_off": _opt_int(p, "amount_off"),
            # answered only when expanded (EXPANDABLE); the products in the order they were sent
            "applies_to": {"products": products} if products else None,
            "created": _now(), "currency": _currency(p["currency"], "currency") if p.get("currency") else None,
            "currency_options": {_currency(c, "currency_options"): {"amount_off": _int(o.get("amount_off"),
                                                                                       "currency_options")}
                                 for c, o in (p.get("currency_options") or {}).items()} or None,
            "duration": duration, "duration_in_months": months, "livemode": self.livemode,
            "max_redemptions": _opt_int(p, "max_redemptions"), "metadata": _metadata({}, p.get("metadata")),
            "name": _text(p, "name"), "percent_off": percent, "redeem_by": _opt_int(p, "redeem_by"),
            "times_redeemed": 0, "valid": True})

    def update_coupon(self, obj: Obj, p: Obj) -> Obj:
        check_params(p, COUPON_UPDATE)  # amount_off, percent_off, duration, ... are fixed: unknown here
        if "name" in p:
            obj["name"] = p["name"] or None
        if "currency_options" in p:
            added = {_currency(c, "currency_options"): {"amount_off": _int(o.get("amount_off"), "currency_options")}
                     for c, o in (p["currency_options"] or {}).items()}
            obj["currency_options"] = {**(obj["currency_options"] or {}), **added} or None
        if "metadata" in p:
            obj["metadata"] = _metadata(obj["metadata"], p["metadata"])
        return obj

    def delete_coupon(self, obj: Obj) -> Obj:
        del self.objects["coupon"][obj["id"]]
        return {"id": obj["id"], "object": "coupon", "deleted": True}

    def _code_taken(self, code: str, customer: str | None, keep: str | None = None) -> bool:
        """stripe-python PromotionCode.code: "Regardless of case, this code must be unique across
        all active promotion codes for each customer"."""
        return any(c["code"].lower() == code.lower() and c["active"] and c["customer"] == customer
                   and c["id"] != keep for c in self.all("promotion_code"))

    def create_promotion_code(self, p: Obj) -> Obj:
        check_params(p, PROMOTION_CODE_CREATE)
        coupon_id = p.get("coupon") or (p.get("promotion") or {}).get("coupon")
        if not coupon_id:
            raise StripeError(400, "Missing required param: coupon.", "coupon")
        coupon = self.get("coupon", coupon_id)
        code = p.get("code") or "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(8))
        if not re.fullmatch(r"[A-Za-z0-9-]{1,500}", code):
            # stripe-python PromotionCode.code: "Valid characters are lower case letters (a-z),
            # upper case letters (A-Z), digits (0-9), and dashes (-)."
            raise StripeError(400, "Invalid code: only letters, digits and dashes are allowed.", "code")
        # stripe-go v78 PromotionCodeParams: max_redemptions "cannot be greater than the coupon's
        # `max_redemptions`", expires_at "cannot be after the coupon's `redeems_by`" (the messages
        # here are not Stripe's verbatim).
        max_redemptions, expires_at = _opt_int(p, "max_redemptions"), _opt_int(p, "expires_at")
        if max_redemptions is not None and coupon["max_redemptions"] is not None \
                and max_redemptions > coupon["max_redemptions"]:
            raise StripeError(400, "max_redemptions cannot be greater than the coupon's max_redemptions.",
                              "max_redemptions")
        if expires_at is not None and coupon["redeem_by"] is not None and expires_at > coupon["redeem_by"]:
            raise StripeError(400, "expires_at cannot be after the coupon's redeem_by.", "expires_at")
        active = _bool(p.get("active", True), "active")
        customer = _text(p, "customer")
        if active and self._code_taken(code, customer):
            # The refusal is Stripe's; the exact message is not confirmed.
            raise StripeError(400, f"An active promotion code with `code: {code}` already exists.", "code")
        return self.put("promotion_code", {
            "id": _new_id("promo"), "object": "promotion_code", "active": active, "code": code,
            # API 2024-04-10 (stripe-go v78 PromotionCode.Coupon, fixture v1083) answers the
            # coupon object here, and the provider reads `coupon.id`; later versions (stripe-python
            # 16) moved it to `promotion: {type: coupon, coupon: <id>}` and added
            # `customer_account`. Both are answered so that either client finds its field.
            "coupon": coupon,
            "promotion": {"coupon": coupon["id"], "type": "coupon"},
            "created": _now(), "customer": customer, "customer_account": _text(p, "customer_account"),
            "expires_at": expires_at, "livemode": self.livemode,
            "max_redemptions": max_redemptions, "metadata": _metadata({}, p.get("metadata")),
            # fixture v1083: restrictions is always an object, whether or not it was sent
            "restrictions": _restrictions(p.get("restrictions") or {}), "times_redeemed": 0})

    def update_promotion_code(self, obj: Obj, p: Obj) -> Obj:
        check_params(p, PROMOTION_CODE_UPDATE)  # code, coupon, restrictions' terms are fixed
        if "active" in p:
            active = _bool(p["active"], "active")
            if active and not obj["active"] and self._code_taken(obj["code"], obj["customer"], obj["id"]):
                raise StripeError(400, f"An active promotion code with `code: {obj['code']}` already exists.",
                                  "active")
            obj["active"] = active
        if p.get("restrictions"):
            added = _restrictions({"currency_options": p["restrictions"].get("currency_options")})
            obj["restrictions"]["currency_options"].update(added["currency_options"])
        if "metadata" in p:
            obj["metadata"] = _metadata(obj["metadata"], p["metadata"])
        return obj

    # --- webhook endpoints ----------------------------------------------------------------
    def create_webhook_endpoint(self, p: Obj) -> Obj:
        check_params(p, WEBHOOK_ENDPOINT_CREATE)
        if not str(p.get("url") or "").startswith("https://"):
            raise StripeError(400, "Invalid URL: must be an https URL.", "url")
        events = _strings(p.get("enabled_events"))
        if not events:
            raise StripeError(400, "Missing required param: enabled_events.", "enabled_events")
        connect = _bool(p.get("connect", False), "connect")
        obj = self.put("webhook_endpoint", {
            "id": _new_id("we"), "object": "webhook_endpoint", "api_version": _text(p, "api_version"),
            # The ID of the Connect application. Whether Stripe fills it for an endpoint created
            # with connect=true on a platform's own key is not confirmed (fixture: null).
            "application": "ca_local" if connect else None,
            "created": _now(), "description": _text(p, "description"), "enabled_events": events,
            "livemode": self.livemode, "metadata": _metadata({}, p.get("metadata")), "status": "enabled",
            "url": p["url"], "_secret": "whsec_" + secrets.token_hex(16)})
        # stripe-go v78 WebhookEndpoint.Secret: "Only returned at creation." Kept (`_secret`, never
        # answered) to sign what is delivered there.
        return {**obj, "secret": obj["_secret"]}

    def update_webhook_endpoint(self, obj: Obj, p: Obj) -> Obj:
        check_params(p, WEBHOOK_ENDPOINT_UPDATE)  # api_version and connect are fixed: unknown here
        if "url" in p:
            if not str(p["url"]).startswith("https://"):
                raise StripeError(400, "Invalid URL: must be an https URL.", "url")
            obj["url"] = p["url"]
        if "enabled_events" in p:
            events = _strings(p["enabled_events"])
            if not events:
                raise StripeError(400, "enabled_events cannot be empty.", "enabled_events")
            obj["enabled_events"] = events
        if "description" in p:
            obj["description"] = p["description"] or None
        if "disabled" in p:
            obj["status"] = "disabled" if _bool(p["disabled"], "disabled") else "enabled"
        if "metadata" in p:
            obj["metadata"] = _metadata(obj["metadata"], p["metadata"])
        return obj

    def delete_webhook_endpoint(self, obj: Obj) -> Obj:
        del self.objects["webhook_endpoint"][obj["id"]]
        return {"id": obj["id"], "object": "webhook_endpoint", "deleted": True}

    # --- portal configurations ------------------------------------------------------------
    def create_portal(self, p: Obj) -> Obj:
        check_params(p, PORTAL_CREATE)
        if not p.get("features"):
            raise StripeError(400, "Missing required param: features.", "features")
        now = _now()
        return self.put("billing_portal.configuration", {
            "id": _new_id("bpc"), "object": "billing_portal.configuration", "active": True,
            "application": None, "business_profile": _business_profile(None, p.get("business_profile")),
            "created": now, "default_return_url": _text(p, "default_return_url"),
            "features": _features(None, p["features"]),
            # The default configuration is the Dashboard's; one created through the API is not the
            # default (not confirmed; the provider only reads the field). seed_default_portal()
            # adds a default one for adoption scenarios.
            "is_default": False, "livemode": self.livemode,
            "login_page": self._login_page(p.get("login_page")),
            "metadata": _metadata({}, p.get("metadata")), "name": _text(p, "name"), "updated": now})

    def _login_page(self, sent: Any) -> Obj:
        enabled = _bool((sent or {}).get("enabled", False), "login_page[enabled]")
        # The shareable login URL's form is not confirmed; only that it is null when disabled.
        return {"enabled": enabled,
                "url": f"https://billing.stripe.com/p/login/{'live' if self.livemode else 'test'}_"
                       + secrets.token_hex(6) if enabled else None}

    def update_portal(self, obj: Obj, p: Obj) -> Obj:
        check_params(p, PORTAL_UPDATE)
        if "active" in p:
            obj["active"] = _bool(p["active"], "active")
        if "business_profile" in p:
            obj["business_profile"] = _business_profile(obj["business_profile"], p["business_profile"])
        if "features" in p:
            obj["features"] = _features(obj["features"], p["features"])
        if "default_return_url" in p:
            obj["default_return_url"] = p["default_return_url"] or None
        if "login_page" in p:
            enabled = _bool((p["login_page"] or {}).get("enabled", False), "login_page[enabled]")
            if enabled != obj["login_page"]["enabled"]:
                obj["login_page"] = self._login_page({"enabled": enabled})
        if "name" in p:
            obj["name"] = p["name"] or None
        if "metadata" in p:
            obj["metadata"] = _metadata(obj["metadata"], p["metadata"])
        obj["updated"] = _now()
        return obj

    def seed_default_portal(self, features: Obj | None = None) -> Obj:
        """The account's Dashboard-made default configuration (`is_default: true`)."""
        obj = self.create_portal({"features": features or {"invoice_history": {"enabled": "true"}}})
        obj["is_default"] = True
        return obj

    # --- entitlements ---------------------------------------------------------------------
    def create_feature(self, p: Obj) -> Obj:
        check_params(p, FEATURE_CREATE)
        for key in ("lookup_key", "name"):
            if not p.get(key):
                raise StripeError(400, f"Missing required param: {key}.", key)
        key = p["lookup_key"]
        if any(f["lookup_key"] == key for f in self.all("entitlements.feature")):
            # stripe-python Feature.lookup_key: "A unique key you provide"; the refusal's message
            # is not confirmed, nor whether an inactive feature still holds its key (here it does).
            raise StripeError(400, f"A feature with lookup_key {key} already exists.", "lookup_key")
        return self.put("entitlements.feature", {
            "id": _new_id("feat"), "object": "entitlements.feature", "active": True,
            "livemode": self.livemode, "lookup_key": key, "metadata": _metadata({}, p.get("metadata")),
            "name": p["name"]})

    def update_feature(self, obj: Obj, p: Obj) -> Obj:
        check_params(p, FEATURE_UPDATE)  # lookup_key is fixed: unknown here
        if "name" in p:
            if not p["name"]:
                raise StripeError(400, "You passed an empty string for 'name'.", "name")
            obj["name"] = p["name"]
        if "active" in p:
            obj["active"] = _bool(p["active"], "active")
        if "metadata" in p:
            obj["metadata"] = _metadata(obj["metadata"], p["metadata"])
        return obj

    def create_product_feature(self, product: str, p: Obj) -> Obj:
        check_params(p, PRODUCT_FEATURE_CREATE)
        self.get("product", product)
        feature = self.get("entitlements.feature", p.get("entitlement_feature") or "")
        if not feature["active"]:
            # stripe-python Feature.active: "Inactive features cannot be attached to new products"
            # (the message is not confirmed).
            raise StripeError(400, "This feature is archived and cannot be attached to a product.",
                              "entitlement_feature")
        if any(o["_product"] == product and o["entitlement_feature"]["id"] == feature["id"]
               for o in self.all("product_feature")):
            # Not confirmed that Stripe refuses attaching one feature twice to one product.
            raise StripeError(400, "This feature is already attached to this product.", "entitlement_feature")
        return self.put("product_feature", {
            "id": _new_id("prodft"), "object": "product_feature", "entitlement_feature": feature,
            "livemode": self.livemode, "_product": product})


_NOUNS = {"billing_portal.configuration": "configuration", "entitlements.feature": "feature",
          "promotion_code": "promotion code", "webhook_endpoint": "webhook endpoint",
          "product_feature": "product feature"}


def _marketing_features(sent: Any) -> list[Obj]:
    return [{"name": f.get("name")} for f in _objects(sent)]


def _objects(sent: Any) -> list[Obj]:
    if sent in (None, ""):
        return []
    return list(sent)


def _package_dimensions(sent: Any) -> Obj | None:
    if not sent:
        return None
    missing = [k for k in ("height", "length", "weight", "width") if sent.get(k) in (None, "")]
    if missing:
        raise StripeError(400, f"Missing required param: package_dimensions[{missing[0]}].",
                          f"package_dimensions[{missing[0]}]")
    return {k: _num(sent[k], f"package_dimensions[{k}]") for k in ("height", "length", "weight", "width")}


def _tax_details(sent: Any) -> Obj | None:
    if not sent:
        return None
    return {"performance_location": sent.get("performance_location") or None,
            "tax_code": sent.get("tax_code") or None}


def _transform_quantity(sent: Any) -> Obj | None:
    if not sent:
        return None
    divide_by = _int(sent.get("divide_by"), "transform_quantity[divide_by]")
    if divide_by < 1:
        raise StripeError(400, "transform_quantity[divide_by] must be at least 1.", "transform_quantity[divide_by]")
    return {"divide_by": divide_by,
            "round": _choice(sent.get("round"), ("down", "up"), "transform_quantity[round]")}


def _public(obj: Obj) -> Obj:
    return {k: v for k, v in obj.items() if not k.startswith("_")}


# --- answering ---------------------------------------------------------------------------
# Fields Stripe answers only when the request expands them (fixture v1083 leaves each out of
# its example object; the provider asks for three of them: price `tiers`, coupon
# `applies_to`, portal `features.subscription_update.products`). Expanding any other path of
# these objects is refused below, except the ID references Stripe expands into objects.
INCLUDABLE: dict[str, tuple[str, ...]] = {
    "price": ("currency_options", "tiers"),
    "coupon": ("applies_to", "currency_options"),
    "promotion_code": ("restrictions.currency_options",),
    "billing_portal.configuration": ("features.subscription_update.products",),
}
REFERENCES: dict[str, dict[str, str]] = {  # field -> the kind its ID names, expanded on request
    "product": {"default_price": "price"},
    "price": {"product": "product"},
    "promotion_code": {"promotion.coupon": "coupon"},
}


def _answer(state: StripeState, kind: str, obj: Obj, expand: list[str]) -> Obj:
    out = _deep_copy(_public(obj))
    includable, references = INCLUDABLE.get(kind, ()), REFERENCES.get(kind, {})
    for path in expand:
        if path not in includable and path not in references:
            raise StripeError(400, f"This property cannot be expanded ({path}).", "expand")
    for path in includable:
        head, _, rest = path.partition(".")
        if path in expand:
            # A coupon for every product answers applies_to null even when expanded (not
            # confirmed; the provider reads null and an empty list alike).
            continue
        if rest:
            node = out[head]
            *parents, last = rest.split(".")
            for name in parents:
                node = node[name]
            node.pop(last, None)
        else:
            out.pop(head, None)
    for path, target in references.items():
        head, _, rest = path.partition(".")
        holder = out[head] if rest else out
        key = rest or head
        if path in expand and holder.get(key):
            holder[key] = _answer(state, target, state.get(target, holder[key]), [])
    if kind == "promotion_code":  # the coupon as it is now, answered as a coupon is
        out["coupon"] = _answer(state, "coupon", obj["coupon"], [])
    if kind == "product_feature":
        out["entitlement_feature"] = _answer(state, "entitlements.feature", obj["entitlement_feature"], [])
    return out


ROUTES: list[tuple[str, str, str]] = [
    # (pattern, kind, creator/updater suffix)
    (r"/v1/products", "product", "product"),
    (r"/v1/prices", "price", "price"),
    (r"/v1/coupons", "coupon", "coupon"),
    (r"/v1/promotion_codes", "promotion_code", "promotion_code"),
    (r"/v1/webhook_endpoints", "webhook_endpoint", "webhook_endpoint"),
    (r"/v1/billing_portal/configurations", "billing_portal.configuration", "portal"),
    (r"/v1/entitlements/features", "entitlements.feature", "feature"),
]


def handle(state: StripeState, method: str, path: str, query: str, body: str) -> tuple[int, Obj]:
    """One request: (status, JSON body), Stripe's error shape on refusal."""
    with state.lock:
        state.requests.append((method, path))
        if state.payments.handles(path):
            return state.payments.answer(method, path, parse_qs(query), form_of(body.encode()))
        try:
            return 200, _route(state, method, path, query, body)
        except StripeError as error:
            return error.status, error.body
        except (AttributeError, KeyError, TypeError, ValueError, IndexError) as error:
            # A parameter of the wrong shape that a check above missed: Stripe answers 400 for
            # what it cannot read, never a dropped connection.
            return 400, {"error": {"type": ERROR, "message": f"Invalid request: {type(error).__name__}"}}


def _unrecognized(method: str, path: str) -> StripeError:
    # Stripe's answer to a route it does not have (a DELETE of a price, promotion code, portal
    # configuration or feature: stripe-go v78's clients for them have no Del, and stripe-python
    # 16's classes no delete). The 404 and this message are as Stripe is widely reported to
    # answer; not confirmed against a recorded answer here.
    return StripeError(404, f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
                            "or we can help at https://support.stripe.com/.")


def _route(state: StripeState, method: str, path: str, query: str, body: str) -> Obj:
    if method not in ("GET", "POST", "DELETE"):
        raise _unrecognized(method, path)
    params = parse_form(query)
    if method == "POST":
        params.update(parse_form(body))
    if not isinstance(params.get("expand", []), list | str):
        raise StripeError(400, "Invalid array", "expand")
    expand = _strings(params.get("expand"))
    feature_path = re.fullmatch(r"/v1/products/([^/]+)/features(?:/([^/]+))?", path)
    if feature_path:
        return _route_product_features(state, method, path, feature_path.groups(), params, expand)
    for base, kind, verb in ROUTES:
        if path == base:
            if method == "POST":
                created = getattr(state, f"create_{verb}")(params)
                answer = _answer(state, kind, created, expand)
                return {**answer, "secret": created["secret"]} if "secret" in created else answer
            if method == "GET":
                return _list(path, state, kind, params, expand)
            raise _unrecognized(method, path)
        found = re.fullmatch(re.escape(base) + r"/([^/]+)", path)
        if found:
            if method == "DELETE":
                deleter = getattr(state, f"delete_{verb}", None)
                if deleter is None:
                    raise _unrecognized(method, path)
                return dict(deleter(state.get(kind, found.group(1))))
            obj = state.get(kind, found.group(1))
            if method == "POST":
                return _answer(state, kind, getattr(state, f"update_{verb}")(obj, params), expand)
            check_params(params, {"expand": [V]})
            return _answer(state, kind, obj, expand)
    raise _unrecognized(method, path)


def _route_product_features(state: StripeState, method: str, path: str, ids: tuple[str, str | None],
                            params: Obj, expand: list[str]) -> Obj:
    product, ident = ids
    if ident is None:
        if method == "POST":
            return _answer(state, "product_feature", state.create_product_feature(product, params), expand)
        if method == "GET":
            state.get("product", product)
            items = [o for o in state.all("product_feature") if o["_product"] == product]
            return _page(path, [_answer(state, "product_feature", o, []) for o in reversed(items)], params)
        raise _unrecognized(method, path)
    obj = state.get("product_feature", ident)
    if obj["_product"] != product:
        raise StripeError(404, f"No such product feature: '{ident}'", "id", "resource_missing")
    if method == "DELETE":
        del state.objects["product_feature"][ident]
        return {"id": ident, "object": "product_feature", "deleted": True}
    if method == "GET":
        return _answer(state, "product_feature", obj, expand)
    raise _unrecognized(method, path)


# List filters each list endpoint takes (stripe-go v78 `...ListParams`), on the answered field.
LIST_FILTERS: dict[str, tuple[str, ...]] = {
    "product": ("active", "ids", "shippable", "type", "url"),
    "price": ("active", "currency", "lookup_keys", "product", "type"),
    "coupon": (),
    "promotion_code": ("active", "code", "coupon", "customer"),
    "webhook_endpoint": (),
    "billing_portal.configuration": ("active", "is_default"),
    "entitlements.feature": ("archived", "lookup_key"),
}
PAGING = ("limit", "starting_after", "ending_before", "expand", "created")


def _list(path: str, state: StripeState, kind: str, params: Obj, expand: list[str]) -> Obj:
    """Newest first, `limit` at most 100, `starting_after` paging, as Stripe lists."""
    for key in params:
        if key not in LIST_FILTERS[kind] and key not in PAGING and not (kind == "price" and key == "recurring"):
            raise StripeError(400, f"Received unknown parameter: {key}", key, "parameter_unknown")
    inner = [p.removeprefix("data.") for p in expand]
    if any(not p.startswith("data.") for p in expand):
        raise StripeError(400, "Expand the list's objects with `data.` in front of the field.", "expand")
    items = list(reversed(state.all(kind)))
    if kind == "entitlements.feature":
        # stripe-python Feature.active: inactive features "will not be returned from the features
        # list endpoint"; `archived=true` lists only them.
        archived = _bool(params.get("archived", False), "archived")
        items = [o for o in items if o["active"] != archived]
    for key in LIST_FILTERS[kind]:
        if key in params and key != "archived":
            items = [o for o in items if _matches(o, key, params[key])]
    return _page(path, [_answer(state, kind, o, inner) for o in items], params)


def _matches(obj: Obj, key: str, wanted: Any) -> bool:
    if key == "ids":
        return obj["id"] in set(_strings(wanted))
    if key == "lookup_keys":
        return obj.get("lookup_key") in set(_strings(wanted))
    if key in ("active", "shippable", "is_default"):
        return obj.get(key) == _bool(wanted, key)
    if key == "code":  # stripe-go v78: "Only return promotion codes that have this case-insensitive code."
        return str(obj.get("code", "")).lower() == str(wanted).lower()
    if key == "currency":
        return obj.get("currency") == str(wanted).lower()
    return obj.get(key) == wanted


def _page(path: str, items: list[Obj], params: Obj) -> Obj:
    after = params.get("starting_after")
    if after:
        ids = [o["id"] for o in items]
        items = items[ids.index(after) + 1:] if after in ids else []
    limit = _int(params.get("limit", 10), "limit")
    if not 1 <= limit <= 100:
        raise StripeError(400, "Invalid limit: must be between 1 and 100.", "limit")
    return {"object": "list", "url": path, "has_more": len(items) > limit, "data": items[:limit]}


def app(state: StripeState) -> Callable[[str, str, str, Any, bytes], tuple[int, Any]]:
    """`handle` as tests/engine/network.py's App: (method, path, query, headers, body bytes).

    The key is checked when `state.api_key` is set (Stripe's 401 otherwise); a body that is
    not UTF-8 is a 400. A POST with an `Idempotency-Key` (stripe-go v78 sends one with every
    POST and retries with the same key) is answered once: the same key again replays the
    first answer, and the same key with other parameters is Stripe's `idempotency_error`
    (stripe.com/docs/api/idempotent_requests; the message text is not Stripe's verbatim).
    """

    def answer(method: str, path: str, query: str, headers: Any, body: bytes) -> tuple[int, Any]:
        if state.keys:
            refused = stripe_keys.check(state.keys, state.account, str(headers.get("Authorization") or "")
                                        .removeprefix("Bearer "), method, path)
            if refused:
                return refused
        elif state.api_key is not None:
            sent = str(headers.get("Authorization") or "")
            if sent != f"Bearer {state.api_key}":
                return 401, {"error": {"type": ERROR, "message": "Invalid API Key provided."}}
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return 400, {"error": {"type": ERROR, "message": "Invalid request body: not UTF-8."}}
        key = str(headers.get("Idempotency-Key") or "") if method == "POST" else ""
        if not key:
            return handle(state, method, path, query, text)
        with state.lock:
            seen = state.idempotent.get(key)
        if seen is not None:
            if seen[:3] != (method, path, text):
                return 400, {"error": {"type": "idempotency_error", "message": (
                    "Keys for idempotent requests can only be used with the same parameters they were "
                    f"first used with. Try using a key other than '{key}' if you meant to execute a "
                    "different request.")}}
            return seen[3], _deep_copy(seen[4])
        status, result = handle(state, method, path, query, text)
        if status == 200:  # Stripe saves no result for a request that failed validation (same page)
            with state.lock:
                state.idempotent[key] = (method, path, text, status, _deep_copy(result))
        return status, result

    return answer
