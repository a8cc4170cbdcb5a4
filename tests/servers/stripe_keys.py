"""Restricted keys as Stripe checks them, for every local Stripe the tests run (the fast suite's
tests/servers/stripe_api_server.py and stripe_payments_server.py, and the engine's
tests/engine/stripe_server.py): which Dashboard resource a request touches, the `rak_`
permission it needs, and Stripe's answers to a key that is unknown (401) or lacks it (403).

Stripe checks the key's permission before it looks the object up: a write to an object that
does not exist is a 403 for a key without Write there and a 404 `resource_missing` for one
with it (`verify stripe`'s write probes rely on it). A Write grant includes Read.
"""

from __future__ import annotations

import re
from typing import Any

from infra.catalog import APP_MANIFEST, KeyManifest
from infra.clients.stripe_api import READ_PROBES
from infra.stripe.rak_names import Level, rak_name

# Stripe's permission name for each Dashboard row and level, from the one table (infra/stripe/rak_names.py).
# Rows whose name is not confirmed get a stand-in here, in Stripe's pattern; the product never relies on
# a stand-in (it only ever repeats the names a 403 message gives).
_STAND_INS = {
    "SetupIntents": "setup_intent", "Customer portal": "billing_portal_configuration",
    "Meters": "billing_meter", "Promotion codes": "promotion_code", "Tax rates": "tax_rate",
    "Webhook endpoints": "webhook", "Files": "file", "Disputes": "dispute", "Payouts": "payout",
    "Credit notes": "credit_note", "Balance": "balance", "Events": "event",
    # "Entitlements" at Write has no public name; this is the server's guess (not verified).
    "Entitlements": "entitlements_feature",
}
RESOURCE_AT: dict[str, str] = {
    **{path: resource for resource, path in READ_PROBES.items()},
    # Collections outside the probes: portal sessions are the Customer portal row (the app opens
    # them with it), an invoice's payments the Invoices row.
    "/v1/billing_portal/sessions": "Customer portal",
    "/v1/invoice_payments": "Invoices",
}
"""A collection's path -> the Dashboard row whose permission a request under it needs."""
# A product's features are the Products row (assumed: no source here says which row they need).
PRODUCT_FEATURES = re.compile(r"^/v1/products/[^/]+/features(?:/[^/]+)?$")

Keys = dict[str, "frozenset[str] | None"]
"""Key -> the `rak_` permissions it holds, or None for a full secret key."""


def permission(resource: str, level: Level) -> str:
    return rak_name(resource, level) or f"rak_{_STAND_INS[resource]}_{level}"


def grants(manifest: KeyManifest) -> frozenset[str]:
    """The names a key made exactly from `manifest` holds (Write includes Read)."""
    held = {permission(resource, "read") for resource in manifest.granted()}
    return frozenset(held | {permission(r, "write") for r, level in manifest.granted().items()
                             if level == "write"})


APP_PERMISSIONS = grants(APP_MANIFEST)
"""The app manifest's default grants, in Stripe's permission names."""


def resource_of(path: str) -> str | None:
    """The Dashboard row a request to `path` needs, or None for a path this table does not know."""
    if PRODUCT_FEATURES.match(path):
        return "Products"
    found = max((p for p in RESOURCE_AT if path == p or path.startswith(p + "/")), key=len, default=None)
    return RESOURCE_AT[found] if found else None


def level_of(method: str) -> Level:
    return "read" if method == "GET" else "write"


def unknown(key: str) -> tuple[int, dict[str, Any]]:
    """Stripe's 401 for a key it does not know, the key masked as Stripe masks it."""
    shown = key[:8] + "*" * 4 + key[-4:] if key else ""
    return 401, {"error": {"message": f"Invalid API Key provided: {shown}", "type": "invalid_request_error"}}


def refusal(keys: Keys, account: str, key: str, resource: str, level: Level) -> tuple[int, dict[str, Any]] | None:
    """Stripe's 403 when `key` lacks the permission for `resource` at `level`, else None."""
    held = keys[key]
    needed = permission(resource, level)
    if held is None or needed in held or permission(resource, "write") in held:
        return None
    return 403, {"error": {
        "message": f"The provided key '{key[:8]}*********{key[-4:]}' does not have the required "
                   f"permissions for this endpoint on account '{account}'. Having the '{needed}' "
                   "permission would allow this request to continue.",
        "type": "invalid_request_error"}}


def check(keys: Keys, account: str, key: str, method: str, path: str) -> tuple[int, dict[str, Any]] | None:
    """The answer Stripe gives before it routes the request: 401 for an unknown key, 403 for one
    that lacks the permission the path needs; None when the request goes on."""
    if key not in keys:
        return unknown(key)
    resource = resource_of(path)
    return refusal(keys, account, key, resource, level_of(method)) if resource else None
