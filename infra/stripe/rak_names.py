"""Stripe's internal permission names (`rak_...`) for the restricted-key form, with where each was seen.

Stripe publishes no list. A name is here only when it was seen in a 403
message or in a public integration's prefilled "Create restricted key" link;
a Dashboard resource and level with no confirmed name is absent, stays out of
the link, and is set by hand from the checklist (`billing keys`).
The Dashboard's "Prices" row is `rak_plan_*`: Stripe kept the old name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

from infra.stripe.reference import dashboard_base

Level = Literal["read", "write"]


@dataclass(frozen=True)
class Seen:
    name: str
    where: str


# Where the names were seen (public code, found by searching for `apikeys/create?name=`).
_POSTHOG = "PostHog/posthog, posthog/temporal/data_imports/sources/stripe/source.py (its prefilled link)"
_ONE_CLICK = "a public integration's \"Create Stripe Key (1-click)\" prefilled link (code search)"
_INSIGHTLY = "Insightly's prefilled link (code search)"
_SWETRIX = "Swetrix's revenue settings, STRIPE_REQUIRED_PERMISSIONS in its prefilled link (code search)"
_SERE = "Sere's stripeCreateRestrictedKeyUrl, which also opens /test/apikeys/create (code search)"
_FIELD_NOTES = "Stripe's 403 message to a restricted key that lacks it (it names the permission)"
_POSTHOG_ENTITLEMENTS = ("PostHog/posthog, products/warehouse_sources/backend/temporal/data_imports/sources/"
                         "stripe/settings.py, ENDPOINT_REQUIRED_PERMISSIONS (features and active "
                         "entitlements both need it)")

RAK_NAMES: dict[tuple[str, Level], Seen] = {
    ("Balance", "read"): Seen("rak_balance_read", _ONE_CLICK),
    ("Charges", "read"): Seen("rak_charge_read", _POSTHOG),
    ("Charges", "write"): Seen("rak_charge_write", "Inbound VIP's prefilled link (code search)"),
    ("Customers", "read"): Seen("rak_customer_read", _POSTHOG),
    ("Customers", "write"): Seen("rak_customer_write", _ONE_CLICK),
    ("Disputes", "read"): Seen("rak_dispute_read", _POSTHOG),
    ("Events", "read"): Seen("rak_event_read", _FIELD_NOTES),
    ("Files", "read"): Seen("rak_file_read", "TrustMRR's prefilled link (code search)"),
    ("PaymentIntents", "read"): Seen("rak_payment_intent_read", _INSIGHTLY),
    ("PaymentIntents", "write"): Seen("rak_payment_intent_write", _ONE_CLICK),
    ("PaymentMethods", "read"): Seen("rak_payment_method_read", _POSTHOG),
    ("Payouts", "read"): Seen("rak_payout_read", _POSTHOG),
    ("Products", "read"): Seen("rak_product_read", _POSTHOG),
    ("Products", "write"): Seen("rak_product_write", _ONE_CLICK),
    ("Refunds", "read"): Seen("rak_refund_read", _ONE_CLICK),
    ("Refunds", "write"): Seen("rak_refund_write", _ONE_CLICK),
    ("Checkout Sessions", "read"): Seen("rak_checkout_session_read", _INSIGHTLY),
    ("Checkout Sessions", "write"): Seen("rak_checkout_session_write", _ONE_CLICK),
    ("Coupons", "read"): Seen("rak_coupon_read", _ONE_CLICK),
    ("Coupons", "write"): Seen("rak_coupon_write", _ONE_CLICK),
    ("Credit notes", "read"): Seen("rak_credit_note_read", _POSTHOG),
    ("Entitlements", "read"): Seen("rak_entitlement_read", _POSTHOG_ENTITLEMENTS),
    ("Invoices", "read"): Seen("rak_invoice_read", _POSTHOG),
    ("Invoices", "write"): Seen("rak_invoice_write", _SERE),
    # PostHog: "This is `price` in the UI, but `plan` in their API".
    ("Prices", "read"): Seen("rak_plan_read", _POSTHOG),
    ("Prices", "write"): Seen("rak_plan_write", _ONE_CLICK),
    ("Subscriptions", "read"): Seen("rak_subscription_read", _POSTHOG),
    ("Subscriptions", "write"): Seen("rak_subscription_write", _ONE_CLICK),
    ("Payment Links", "read"): Seen("rak_payment_link_read", _ONE_CLICK),
    ("Payment Links", "write"): Seen("rak_payment_link_write", _ONE_CLICK),
    ("Webhook endpoints", "write"): Seen("rak_webhook_write", _SWETRIX),
}
# Not confirmed, so absent: Customer portal, Promotion codes, Tax rates, Meters, SetupIntents,
# Mandates, Tokens, Test clocks, Webhook endpoints at Read, Entitlements at Write (no public
# `rak_entitlement_write` found), and the write level of read-only rows.

TEST_MODE_LINK = ("test mode opens under /test/ as one public integration does (Sere's link); not verified "
                  "against the Dashboard: check the form shows test mode")


def rak_name(resource: str, level: Level) -> str | None:
    seen = RAK_NAMES.get((resource, level))
    return seen.name if seen else None


def resource_of(name: str) -> tuple[str, Level] | None:
    """The Dashboard row and level a `rak_` name stands for, when the name is known."""
    return next((where for where, seen in RAK_NAMES.items() if seen.name == name), None)


def describe(names: tuple[str, ...]) -> str:
    """`rak_` names as the Dashboard shows them: 'rak_plan_read (Prices: Read)'."""
    shown = []
    for name in names:
        where = resource_of(name)
        shown.append(f"{name} ({where[0]}: {where[1].title()})" if where else name)
    return ", ".join(shown)


@dataclass(frozen=True)
class CreateLink:
    url: str
    named: tuple[str, ...]
    """The Dashboard rows the link sets."""
    by_hand: tuple[tuple[str, str], ...]
    """(resource, level) granted by the manifest with no confirmed name: set from the checklist."""


def create_link(mode: str, key_name: str, granted: Mapping[str, str]) -> CreateLink:
    """The Dashboard's "Create restricted key" form, prefilled with the name and every confirmed grant."""
    permissions, named, by_hand = [], [], []
    for resource, level in granted.items():
        name = rak_name(resource, "write" if level == "write" else "read")
        if name is None:
            by_hand.append((resource, level))
        else:
            permissions.append(name)
            named.append(resource)
    query = "&".join([f"name={quote(key_name, safe='')}"]
                     + [f"permissions%5B%5D={quote(name, safe='')}" for name in permissions])
    return CreateLink(f"{dashboard_base(mode)}/apikeys/create?{query}", tuple(named), tuple(by_hand))
