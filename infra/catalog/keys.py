"""Restricted keys as manifests: what each key may do, as the Dashboard's Create-restricted-key form
asks for it (a purpose and a level per resource), with the defaults for the app and the deployer.

`guards` names the config keys that hold the keys themselves; these are what the keys may do.
"""

from __future__ import annotations

from typing import Literal

from infra.catalog.base import Model
from infra.catalog.values import DashboardResource, Text

Level = Literal["none", "read", "write"]


class KeyManifest(Model):
    """A restricted key as the Dashboard form asks for it: a purpose and a level per resource."""

    purpose: Text
    permissions: dict[DashboardResource, Level]

    def granted(self) -> dict[str, str]:
        return {name: level for name, level in self.permissions.items() if level != "none"}


# What a subscription app does with its key: start Checkout, keep customers and
# subscriptions in step, open the portal, and look prices up. Nothing else.
APP_MANIFEST = KeyManifest(
    purpose="The app's server-side key: creates Checkout Sessions and portal sessions, "
            "reads and updates customers and subscriptions, looks up prices.",
    permissions={"Checkout Sessions": "write", "Customers": "write", "Subscriptions": "write",
                 "Customer portal": "write", "Products": "read", "Prices": "read"},
)
# What this program manages, and what `verify` reads to prove it: nothing more. It is also
# verify's read key, and the payment proof sees each event delivered to the stack's endpoint
# through the events API (`pending_webhooks`), which the app's key has no reason to read.
DEPLOYER_MANIFEST = KeyManifest(
    purpose="Pulumi's key (stripe:apiKey): manages products, prices, coupons, promotion codes, "
            "the webhook endpoint and the customer portal configuration; reads events, for "
            "`verify payment`'s proof that each one reached the endpoint.",
    permissions={"Products": "write", "Prices": "write", "Coupons": "write", "Promotion codes": "write",
                 "Webhook endpoints": "write", "Customer portal": "write", "Events": "read"},
)


# With `entitlements:` declared, what each default key needs on top: the program creates and
# updates Features, and the app lists a customer's active entitlements to gate on them.
ENTITLEMENTS_NEED: dict[str, Level] = {"deployer": "write", "app": "read"}
ENTITLEMENTS = "Entitlements"
"""The restricted-key form's row for Features and active entitlements (rak_names.py)."""


class Keys(Model):
    # A declared manifest replaces its default whole: what is written is what the key gets.
    app: KeyManifest = APP_MANIFEST
    deployer: KeyManifest = DEPLOYER_MANIFEST

    def following(self, entitlements: bool) -> Keys:
        """The keys with each default manifest given what the catalog's entitlements need."""
        if not entitlements:
            return self
        update = {role: KeyManifest(purpose=getattr(self, role).purpose, permissions={
                      **getattr(self, role).permissions, ENTITLEMENTS: level})
                  for role, level in ENTITLEMENTS_NEED.items() if role not in self.model_fields_set}
        return self.model_copy(update=update)
