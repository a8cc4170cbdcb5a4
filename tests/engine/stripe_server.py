"""A stateful Stripe API for the real provider binary, behind `https://api.stripe.com`.

The bridged provider (stripe-go v78, API version 2024-04-10) creates, reads, updates and
deletes the objects the program declares. This server keeps them, answers each object
with every field Stripe documents for it (`tests/engine/test_server_shapes.py` holds the
objects against stripe-python's typed classes), fills Stripe's defaults where the caller
sends nothing, and refuses what Stripe refuses: an unknown or immutable parameter, a
second active promotion code or price with one code or lookup key, a product deleted
while it has prices. Requests are form-encoded with stripe-go's bracket notation.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

Obj = dict[str, Any]
ERROR = "invalid_request_error"


class StripeError(Exception):
    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.body = status, {"error": {
            "type": ERROR, "message": message, **({"param": param} if param else {}),
            **({"code": code} if code else {})}}


def parse_form(body: str) -> Obj:
    """stripe-go's form encoding (`a[b][0][c]=v`) as nested dicts and lists; `key=` is an empty list."""
    out: Obj = {}
    for raw_key, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", raw_key)
        node: Any = out
        for here, after in zip(parts, [*parts[1:], None], strict=True):
            if after is None:
                break
            container: Any = [] if after.isdigit() else {}
            if isinstance(node, list):
                index = int(here)
                while len(node) <= index:
                    node.append(None)
                if node[index] is None:
                    node[index] = container
                node = node[index]
            else:
                node = node.setdefault(here, container)
        last = parts[-1]
        if isinstance(node, list):
            index = int(last)
            while len(node) <= index:
                node.append(None)
            node[index] = value
        else:
            node[last] = value
    return out


def _bool(value: Any) -> bool:
    if value in ("true", True):
        return True
    if value in ("false", False):
        return False
    raise StripeError(400, f"Invalid boolean: {value}")


def _int(value: Any) -> int:
    if isinstance(value, int) or (isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value)):
        return int(value)
    raise StripeError(400, f"Invalid integer: {value}")


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise StripeError(400, f"Invalid decimal: {value}") from None


def _strings(value: Any) -> list[str]:
    if value == "" or value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    raise StripeError(400, "Invalid array")


def _metadata(old: Obj, sent: Any) -> Obj:
    """Stripe merges metadata; a key sent as "" is removed."""
    if sent == "":
        return {}
    merged = dict(old)
    for key, value in (sent or {}).items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _new_id(prefix: str) -> str:
    return f"{prefix}_" + secrets.token_hex(7)


def _recurring(value: Any) -> Obj:
    interval = value.get("interval")
    if interval not in ("day", "week", "month", "year"):
        raise StripeError(400, f"Invalid recurring[interval]: {interval}", "recurring[interval]")
    count = _int(value.get("interval_count", 1))
    if count < 1:
        raise StripeError(400, "Invalid recurring[interval_count]: must be at least 1",
                          "recurring[interval_count]")
    return {"aggregate_usage": value.get("aggregate_usage"), "interval": interval, "interval_count": count,
            "meter": value.get("meter"), "trial_period_days": None,
            "usage_type": value.get("usage_type") or "licensed"}


def _restrictions(value: Any) -> Obj:
    amount = value.get("minimum_amount")
    return {"currency_options": {}, "first_time_transaction": _bool(value.get("first_time_transaction", False)),
            "minimum_amount": _int(amount) if amount not in (None, "") else None,
            "minimum_amount_currency": value.get("minimum_amount_currency")}


def _business_profile(old: Obj | None, value: Any) -> Obj:
    merged = dict(old or {"headline": None, "privacy_policy_url": None, "terms_of_service_url": None})
    for key in ("headline", "privacy_policy_url", "terms_of_service_url"):
        if key in value:
            merged[key] = value[key] or None
    return merged


PORTAL_FEATURES_DEFAULT: Obj = {
    "customer_update": {"allowed_updates": [], "enabled": False},
    "invoice_history": {"enabled": False},
    "payment_method_update": {"enabled": False},
    "subscription_cancel": {
        "cancellation_reason": {"enabled": False, "options": []},
        "enabled": False, "mode": "at_period_end", "proration_behavior": "none"},
    "subscription_update": {
        "billing_cycle_anchor": None, "default_allowed_updates": [], "enabled": False, "products": [],
        "proration_behavior": "none", "schedule_at_period_end": {"conditions": []},
        "trial_update_behavior": "end_trial"},
}


def _features(old: Obj | None, value: Any) -> Obj:
    """Stripe merges the features tree it is sent into the one it has."""
    tree = _deep_copy(old or PORTAL_FEATURES_DEFAULT)
    for name, sent in (value or {}).items():
        if name not in tree:
            raise StripeError(400, f"Received unknown parameter: features[{name}]", f"features[{name}]")
        here = tree[name]
        for key, item in sent.items():
            if key not in here:
                raise StripeError(400, f"Received unknown parameter: features[{name}][{key}]")
            if key == "enabled":
                here[key] = _bool(item)
            elif key in ("allowed_updates", "default_allowed_updates"):
                here[key] = _strings(item)
            elif key == "cancellation_reason":
                here[key] = {"enabled": _bool(item.get("enabled", here[key]["enabled"])),
                             "options": _strings(item.get("options", here[key]["options"]))}
            elif key == "products":
                here[key] = [{"prices": _strings(p.get("prices")), "product": p["product"]}
                             for p in (item or [])]
            else:
                here[key] = item
    return tree


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


@dataclass
class StripeState:
    """The account: objects by ID, in creation order, and every request seen."""

    livemode: bool = False
    objects: dict[str, dict[str, Obj]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def all(self, kind: str) -> list[Obj]:
        return list(self.objects.get(kind, {}).values())

    def put(self, kind: str, obj: Obj) -> Obj:
        self.objects.setdefault(kind, {})[obj["id"]] = obj
        return obj

    def get(self, kind: str, ident: str) -> Obj:
        found = self.objects.get(kind, {}).get(ident)
        if found is None:
            raise StripeError(404, f"No such {kind.replace('_', ' ')}: '{ident}'", "id", "resource_missing")
        return found

    # --- products -------------------------------------------------------------------------
    def create_product(self, p: Obj) -> Obj:
        _allowed(p, {"id", "name", "active", "description", "marketing_features", "images", "metadata",
                     "package_dimensions", "shippable", "statement_descriptor", "tax_code", "unit_label",
                     "url", "default_price_data", "expand"})
        if not p.get("name"):
            raise StripeError(400, "Missing required param: name.", "name")
        now = int(time.time())
        ident = p.get("id") or _new_id("prod")
        if ident in self.objects.get("product", {}):
            raise StripeError(400, f"Product already exists with ID {ident}", "id", "resource_already_exists")
        return self.put("product", {
            "id": ident, "object": "product", "active": _bool(p.get("active", True)), "created": now,
            "default_price": None, "description": p.get("description") or None,
            "images": _strings(p.get("images")),
            "livemode": self.livemode,
            "marketing_features": [{"name": f.get("name")} for f in p.get("marketing_features") or []],
            "metadata": _metadata({}, p.get("metadata")), "name": p["name"], "package_dimensions": None,
            "shippable": _bool(p["shippable"]) if "shippable" in p else None,
            "statement_descriptor": p.get("statement_descriptor") or None,
            "tax_code": p.get("tax_code") or None, "tax_details": None, "type": "service",
            "unit_label": p.get("unit_label") or None, "updated": now, "url": p.get("url") or None})

    def update_product(self, obj: Obj, p: Obj) -> Obj:
        _allowed(p, {"name", "active", "description", "marketing_features", "images", "metadata",
                     "package_dimensions", "shippable", "statement_descriptor", "tax_code", "unit_label",
                     "url", "default_price", "expand"})
        for key in ("name", "description", "statement_descriptor", "tax_code", "unit_label", "url"):
            if key in p:
                if key == "name" and not p[key]:
                    raise StripeError(400, "You passed an empty string for 'name'.", "name")
                obj[key] = p[key] or None
        if "active" in p:
            obj["active"] = _bool(p["active"])
        if "images" in p:
            obj["images"] = _strings(p["images"])
        if "marketing_features" in p:
            sent = p["marketing_features"]
            obj["marketing_features"] = [] if sent == "" else [{"name": f.get("name")} for f in sent]
        if "metadata" in p:
            obj["metadata"] = _metadata(obj["metadata"], p["metadata"])
        obj["updated"] = int(time.time())
        return obj

    def delete_product(self, obj: Obj) -> Obj:
        if any(price["product"] == obj["id"] for price in self.all("price")):
            raise StripeError(400, "This product cannot be deleted because it has one or more "
                                   "user-created prices.", code="product_has_prices")
        del self.objects["product"][obj["id"]]
        return {"id": obj["id"], "object": "product", "deleted": True}

    # --- prices ---------------------------------------------------------------------------
    def create_price(self, p: Obj) -> Obj:
        _allowed(p, {"currency", "product", "unit_amount", "unit_amount_decimal", "active", "nickname",
                     "recurring", "tiers", "tiers_mode", "billing_scheme", "currency_options",
                     "custom_unit_amount", "lookup_key", "transfer_lookup_key", "tax_behavior",
                     "transform_quantity", "metadata", "product_data", "expand"})
        currency = p.get("currency")
        if not currency:
            raise StripeError(400, "Missing required param: currency.", "currency")
        currency = currency.lower()  # Stripe answers in lowercase whatever it is sent
        self.get("product", p.get("product", ""))
        scheme = p.get("billing_scheme") or "per_unit"
        if scheme == "per_unit" and "unit_amount" not in p and "unit_amount_decimal" not in p \
                and "custom_unit_amount" not in p:
            raise StripeError(400, "Missing required param: unit_amount.", "unit_amount")
        amount = _int(p["unit_amount"]) if "unit_amount" in p else None
        if amount is not None and amount < 0:
            raise StripeError(400, "Invalid non-negative integer", "unit_amount")
        key = p.get("lookup_key") or None
        if key:
            self._take_lookup_key(key, _bool(p.get("transfer_lookup_key", False)))
        recurring = _recurring(p["recurring"]) if "recurring" in p else None
        return self.put("price", {
            "id": _new_id("price"), "object": "price", "active": _bool(p.get("active", True)),
            "billing_scheme": scheme, "created": int(time.time()), "currency": currency,
            "currency_options": None, "custom_unit_amount": None, "livemode": self.livemode,
            "lookup_key": key, "metadata": _metadata({}, p.get("metadata")),
            "nickname": p.get("nickname") or None, "product": p["product"], "recurring": recurring,
            "tax_behavior": p.get("tax_behavior") or "unspecified", "tiers_mode": p.get("tiers_mode") or None,
            "transform_quantity": None, "type": "recurring" if recurring else "one_time",
            "unit_amount": amount,
            "unit_amount_decimal": str(amount) if amount is not None else p.get("unit_amount_decimal")})

    def _take_lookup_key(self, key: str, transfer: bool, keep: str | None = None) -> None:
        for price in self.all("price"):
            if price["lookup_key"] == key and price["id"] != keep:
                if not transfer:
                    raise StripeError(400, f"A price (`{price['id']}`) already uses that lookup key.",
                                      "lookup_key")
                price["lookup_key"] = None

    def update_price(self, obj: Obj, p: Obj) -> Obj:
        _allowed(p, {"active", "nickname", "lookup_key", "transfer_lookup_key", "tax_behavior",
                     "metadata", "currency_options", "expand"})
        if "active" in p:
            obj["active"] = _bool(p["active"])
        if "nickname" in p:
            obj["nickname"] = p["nickname"] or None
        if "lookup_key" in p:
            key = p["lookup_key"] or None
            if key and key != obj["lookup_key"]:
                self._take_lookup_key(key, _bool(p.get("transfer_lookup_key", False)), keep=obj["id"])
            obj["lookup_key"] = key
        if "tax_behavior" in p and p["tax_behavior"] != obj["tax_behavior"]:
            if obj["tax_behavior"] in ("inclusive", "exclusive"):
                raise StripeError(400, "tax_behavior cannot be changed once it is inclusive or exclusive.",
                                  "tax_behavior")
            obj["tax_behavior"] = p["tax_behavior"]
        if "metadata" in p:
            obj["metadata"] = _metadata(obj["metadata"], p["metadata"])
        return obj

    # --- coupons and promotion codes ------------------------------------------------------
    def create_coupon(self, p: Obj) -> Obj:
        _allowed(p, {"id", "name", "amount_off", "currency", "percent_off", "duration", "duration_in_months",
                     "max_redemptions", "redeem_by", "applies_to", "metadata", "currency_options", "expand"})
        if ("amount_off" in p) == ("percent_off" in p):
            raise StripeError(400, "You must pass exactly one of amount_off or percent_off.")
        duration = p.get("duration", "once")
        if duration == "repeating" and "duration_in_months" not in p:
            raise StripeError(400, "duration_in_months is required when duration is repeating.",
                              "duration_in_months")
        ident = p.get("id") or secrets.token_hex(4)
        if ident in self.objects.get("coupon", {}):
            raise StripeError(400, "Coupon already exists.", "id", "resource_already_exists")
        products = _strings((p.get("applies_to") or {}).get("products"))
        for product in products:
            self.get("product", product)
        return self.put("coupon", {
            "id": ident, "object": "coupon",
            "amount_off": _int(p["amount_off"]) if "amount_off" in p else None,
            # Stripe answers the products in the order they were sent.
            "applies_to": {"products": products} if products else None,
            "created": int(time.time()), "currency": (p.get("currency") or "").lower() or None,
            "currency_options": None, "duration": duration,
            "duration_in_months": _int(p["duration_in_months"]) if "duration_in_months" in p else None,
            "livemode": self.livemode,
            "max_redemptions": _int(p["max_redemptions"]) if "max_redemptions" in p else None,
            "metadata": _metadata({}, p.get("metadata")), "name": p.get("name") or None,
            "percent_off": _num(p["percent_off"]) if "percent_off" in p else None,
            "redeem_by": _int(p["redeem_by"]) if "redeem_by" in p else None,
            "times_redeemed": 0, "valid": True})

    def update_coupon(self, obj: Obj, p: Obj) -> Obj:
        _allowed(p, {"name", "metadata", "currency_options", "expand"})
        if "name" in p:
            obj["name"] = p["name"] or None
        if "metadata" in p:
            obj["metadata"] = _metadata(obj["metadata"], p["metadata"])
        return obj

    def delete_coupon(self, obj: Obj) -> Obj:
        del self.objects["coupon"][obj["id"]]
        return {"id": obj["id"], "object": "coupon", "deleted": True}

    def create_promotion_code(self, p: Obj) -> Obj:
        _allowed(p, {"coupon", "code", "active", "customer", "expires_at", "max_redemptions",
                     "restrictions", "metadata", "promotion", "expand"})
        coupon = self.get("coupon", p.get("coupon", ""))
        code = p.get("code") or secrets.token_hex(4).upper()
        active = _bool(p.get("active", True))
        if active and any(c["code"] == code and c["active"] for c in self.all("promotion_code")):
            raise StripeError(400, "An active promotion code with `code` already exists.", "code")
        return self.put("promotion_code", {
            "id": _new_id("promo"), "object": "promotion_code", "active": active, "code": code,
            # 2024-04-10 answers the coupon object; newer versions a `promotion` reference.
            "coupon": coupon, "promotion": {"coupon": coupon["id"], "type": "coupon"},
            "created": int(time.time()), "customer": p.get("customer") or None, "customer_account": None,
            "expires_at": _int(p["expires_at"]) if "expires_at" in p else None, "livemode": self.livemode,
            "max_redemptions": _int(p["max_redemptions"]) if "max_redemptions" in p else None,
            "metadata": _metadata({}, p.get("metadata")),
            "restrictions": _restrictions(p.get("restrictions") or {}), "times_redeemed": 0})

    def update_promotion_code(self, obj: Obj, p: Obj) -> Obj:
        _allowed(p, {"active", "metadata", "restrictions", "expand"})
        if "active" in p:
            obj["active"] = _bool(p["active"])
        if "metadata" in p:
            obj["metadata"] = _metadata(obj["metadata"], p["metadata"])
        return obj

    # --- webhook endpoints ----------------------------------------------------------------
    def create_webhook_endpoint(self, p: Obj) -> Obj:
        _allowed(p, {"url", "enabled_events", "description", "api_version", "connect", "metadata", "expand"})
        if not p.get("url", "").startswith("https://"):
            raise StripeError(400, "Invalid URL: must be an https URL.", "url")
        events = _strings(p.get("enabled_events"))
        if not events:
            raise StripeError(400, "Missing required param: enabled_events.", "enabled_events")
        obj = self.put("webhook_endpoint", {
            "id": _new_id("we"), "object": "webhook_endpoint", "api_version": p.get("api_version") or None,
            "application": None, "created": int(time.time()), "description": p.get("description") or None,
            "enabled_events": events, "livemode": self.livemode, "metadata": _metadata({}, p.get("metadata")),
            "status": "enabled", "url": p["url"]})
        return {**obj, "secret": "whsec_" + secrets.token_hex(16)}  # the secret is answered on create only

    def update_webhook_endpoint(self, obj: Obj, p: Obj) -> Obj:
        _allowed(p, {"url", "enabled_events", "description", "disabled", "metadata", "expand"})
        if "url" in p:
            obj["url"] = p["url"]
        if "enabled_events" in p:
            obj["enabled_events"] = _strings(p["enabled_events"])
        if "description" in p:
            obj["description"] = p["description"] or None
        if "disabled" in p:
            obj["status"] = "disabled" if _bool(p["disabled"]) else "enabled"
        if "metadata" in p:
            obj["metadata"] = _metadata(obj["metadata"], p["metadata"])
        return obj

    def delete_webhook_endpoint(self, obj: Obj) -> Obj:
        del self.objects["webhook_endpoint"][obj["id"]]
        return {"id": obj["id"], "object": "webhook_endpoint", "deleted": True}

    # --- portal configurations ------------------------------------------------------------
    def create_portal(self, p: Obj) -> Obj:
        _allowed(p, {"business_profile", "features", "default_return_url", "login_page", "metadata",
                     "name", "expand"})
        if "features" not in p:
            raise StripeError(400, "Missing required param: features.", "features")
        now = int(time.time())
        first = not self.all("billing_portal.configuration")
        return self.put("billing_portal.configuration", {
            "id": _new_id("bpc"), "object": "billing_portal.configuration", "active": True,
            "application": None, "business_profile": _business_profile(None, p.get("business_profile") or {}),
            "created": now, "default_return_url": p.get("default_return_url") or None,
            "features": _features(None, p["features"]), "is_default": first, "livemode": self.livemode,
            "login_page": {"enabled": _bool((p.get("login_page") or {}).get("enabled", False)), "url": None},
            "metadata": _metadata({}, p.get("metadata")), "name": p.get("name") or None, "updated": now})

    def update_portal(self, obj: Obj, p: Obj) -> Obj:
        _allowed(p, {"active", "business_profile", "features", "default_return_url", "login_page",
                     "metadata", "name", "expand"})
        if "active" in p:
            obj["active"] = _bool(p["active"])
        if "business_profile" in p:
            obj["business_profile"] = _business_profile(obj["business_profile"], p["business_profile"])
        if "features" in p:
            obj["features"] = _features(obj["features"], p["features"])
        if "default_return_url" in p:
            obj["default_return_url"] = p["default_return_url"] or None
        if "login_page" in p:
            obj["login_page"] = {"enabled": _bool(p["login_page"].get("enabled", False)), "url": None}
        if "metadata" in p:
            obj["metadata"] = _metadata(obj["metadata"], p["metadata"])
        obj["updated"] = int(time.time())
        return obj

    # --- entitlements ---------------------------------------------------------------------
    def create_feature(self, p: Obj) -> Obj:
        _allowed(p, {"name", "lookup_key", "metadata", "expand"})
        key = p.get("lookup_key")
        if not key or not p.get("name"):
            raise StripeError(400, "Missing required param: lookup_key and name.", "lookup_key")
        if any(f["lookup_key"] == key for f in self.all("entitlements.feature")):
            raise StripeError(400, f"A feature with lookup_key {key} already exists.", "lookup_key")
        return self.put("entitlements.feature", {
            "id": "feat_" + secrets.token_hex(7), "object": "entitlements.feature", "active": True,
            "livemode": self.livemode, "lookup_key": key, "metadata": _metadata({}, p.get("metadata")),
            "name": p["name"]})

    def update_feature(self, obj: Obj, p: Obj) -> Obj:
        _allowed(p, {"name", "active", "metadata", "expand"})
        if "name" in p:
            obj["name"] = p["name"]
        if "active" in p:
            obj["active"] = _bool(p["active"])
        if "metadata" in p:
            obj["metadata"] = _metadata(obj["metadata"], p["metadata"])
        return obj

    def create_product_feature(self, product: str, p: Obj) -> Obj:
        _allowed(p, {"entitlement_feature", "expand"})
        self.get("product", product)
        feature = self.get("entitlements.feature", p.get("entitlement_feature", ""))
        return self.put("product_feature", {
            "id": "prodft_" + secrets.token_hex(7), "object": "product_feature",
            "entitlement_feature": feature, "livemode": self.livemode, "_product": product})


def _allowed(params: Obj, names: set[str]) -> None:
    for key in params:
        if key not in names:
            raise StripeError(400, f"Received unknown parameter: {key}", key, "parameter_unknown")


def _public(obj: Obj) -> Obj:
    return {k: v for k, v in obj.items() if not k.startswith("_")}


def _expand(state: StripeState, kind: str, obj: Obj, expand: list[str]) -> Obj:
    out = _deep_copy(_public(obj))
    if kind == "coupon" and "applies_to" in expand and out["applies_to"] is None:
        out["applies_to"] = {"products": []}
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
        try:
            return 200, _route(state, method, path, query, body)
        except StripeError as error:
            return error.status, error.body


def _route(state: StripeState, method: str, path: str, query: str, body: str) -> Obj:
    params = parse_form(body if method == "POST" else query)
    expand = _strings(params.pop("expand", []))
    feature_path = re.fullmatch(r"/v1/products/([^/]+)/features(?:/([^/]+))?", path)
    if feature_path:
        product, ident = feature_path.groups()
        if method == "POST" and ident is None:
            return _public(state.create_product_feature(product, params))
        if ident is None:
            return _list(path, [o for o in state.all("product_feature") if o["_product"] == product], params)
        obj = state.get("product_feature", ident)
        if obj["_product"] != product:
            raise StripeError(404, f"No such product feature: '{ident}'", "id", "resource_missing")
        if method == "DELETE":
            del state.objects["product_feature"][ident]
            return {"id": ident, "object": "product_feature", "deleted": True}
        return _public(obj)
    for base, kind, verb in ROUTES:
        if path == base:
            if method == "POST":
                return _expand(state, kind, getattr(state, f"create_{verb}")(params), expand)
            return _list(path, [_expand(state, kind, o, expand) for o in state.all(kind)], params)
        found = re.fullmatch(re.escape(base) + r"/([^/]+)", path)
        if found:
            obj = state.get(kind, found.group(1))
            if method == "POST":
                return _expand(state, kind, getattr(state, f"update_{verb}")(obj, params), expand)
            if method == "DELETE":
                deleter = getattr(state, f"delete_{verb}", None)
                if deleter is None:
                    raise StripeError(400, f"{kind} objects cannot be deleted.")
                return dict(deleter(obj))
            return _expand(state, kind, obj, expand)
    raise StripeError(404, f"Unrecognized request URL ({method}: {path}).")


def _list(path: str, items: list[Obj], params: Obj) -> Obj:
    """Newest first, `limit` at most 100, `starting_after` paging, as Stripe lists."""
    items = [_public(o) for o in reversed(items)]
    if "active" in params:
        items = [o for o in items if o.get("active") == _bool(params["active"])]
    if "lookup_keys" in params:
        keys = set(_strings(params["lookup_keys"]))
        items = [o for o in items if o.get("lookup_key") in keys]
    if "product" in params:
        items = [o for o in items if o.get("product") == params["product"]]
    after = params.get("starting_after")
    if after:
        ids = [o["id"] for o in items]
        items = items[ids.index(after) + 1:] if after in ids else []
    limit = min(_int(params.get("limit", 10)), 100)
    return {"object": "list", "url": path, "has_more": len(items) > limit, "data": items[:limit]}
