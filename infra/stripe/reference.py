"""What Stripe accepts, taken from stripe-python where it ships it.

Event names and API versions come from the typed params of the pinned
stripe-python release, so a typo like `customer.subscription.update` is
caught before Stripe rejects it (or, worse, before nothing ever arrives).
They are read from that module's source, not imported: importing it imports the
whole stripe package and its HTTP stack (~0.17 s), which `billing validate` has
no other use for. tests/unit/stripe/test_reference.py holds the two readings equal.
"""

from __future__ import annotations

import ast
import importlib.util
from functools import cache
from pathlib import Path

PARAMS = ("params", "_webhook_endpoint_create_params.py")
"""Where stripe-python declares WebhookEndpointCreateParams, below its package."""


@cache
def _params_class() -> ast.ClassDef:
    spec = importlib.util.find_spec("stripe")  # a top-level package: found, not imported
    if spec is None or spec.origin is None:
        raise RuntimeError("stripe-python is not installed: `make venv` installs it")
    source = Path(spec.origin).parent.joinpath(*PARAMS)
    tree = ast.parse(source.read_text(encoding="utf-8"), str(source))
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "WebhookEndpointCreateParams":
            return node
    raise RuntimeError(f"{source} no longer declares WebhookEndpointCreateParams: this stripe-python "
                       "release lays its params out differently; update infra/stripe/reference.py")


def _literal_values(field: str) -> frozenset[str]:
    # List[Literal[...]] for events, NotRequired[Literal[...]] for the API version.
    for statement in _params_class().body:
        if (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)
                and statement.target.id == field):
            for node in ast.walk(statement.annotation):
                if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name)
                        and node.value.id == "Literal"):
                    values = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
                    return frozenset(value.value for value in values
                                     if isinstance(value, ast.Constant) and isinstance(value.value, str))
    raise RuntimeError(f"stripe-python's WebhookEndpointCreateParams has no Literal {field}; update "
                       "infra/stripe/reference.py for this release")


@cache
def webhook_event_types() -> frozenset[str]:
    """Every event type a webhook endpoint can subscribe to, without the `*` wildcard."""
    return _literal_values("enabled_events") - {"*"}


@cache
def api_versions() -> frozenset[str]:
    """Every API version a webhook endpoint can be pinned to."""
    return _literal_values("api_version")


# Stripe's presentment currencies (docs.stripe.com/currencies), lowercase as the
# API wants them, with the number of decimal digits an amount may carry.
ZERO_DECIMAL = frozenset(
    "bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split()
)
# Three-decimal currencies: sent in thousandths, but the last digit must be 0.
THREE_DECIMAL = frozenset("bhd jod kwd omr tnd".split())
_TWO_DECIMAL = frozenset("""
usd aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bmd bnd bob brl bsd
bwp byn bzd cad cdf chf cny cop crc cve czk dkk dop dzd egp etb eur fjd fkp gbp
gel gip gmd gtq gyd hkd hnl htg huf idr ils inr isk jmd kes kgs khr kyd kzt lak
lbp lkr lrd lsl mad mdl mkd mmk mnt mop mur mvr mwk mxn myr mzn nad ngn nio nok
npr nzd pab pen pgk php pkr pln qar ron rsd rub sar sbd scr sek sgd shp sle sos
srd std szl thb tjs top try ttd twd tzs uah uyu uzs wst xcd yer zar zmw
""".split())
CURRENCIES = ZERO_DECIMAL | THREE_DECIMAL | _TWO_DECIMAL

# Stripe refuses a unit_amount above eight digits in minor units.
MAX_UNIT_AMOUNT = 99_999_999

# Stripe allows at most three years between charges.
MAX_INTERVAL_COUNT = {"day": 1095, "week": 156, "month": 36, "year": 3}


def minor_unit_digits(currency: str) -> int:
    if currency in ZERO_DECIMAL:
        return 0
    if currency in THREE_DECIMAL:
        return 3
    return 2


def dashboard_base(mode: str) -> str:
    """Root of the Stripe Dashboard for a mode: test data lives under /test."""
    return "https://dashboard.stripe.com" + ("/test" if mode == "test" else "")


# The resources on the Dashboard's "Create restricted key" form that a
# subscription app and this program deal with, named and grouped as the form
# shows them. Each is set to None, Read or Write; anything not granted in a
# manifest stays None. (Stripe has no API to create restricted keys.)
DASHBOARD_RESOURCES: dict[str, tuple[str, ...]] = {
    "Core resources": (
        "Balance", "Charges", "Customers", "Disputes", "Events", "Files", "Mandates",
        "PaymentIntents", "PaymentMethods", "Payouts", "Products", "Refunds", "SetupIntents",
        "Tokens",
    ),
    "Checkout resources": ("Checkout Sessions",),
    "Billing resources": (
        "Coupons", "Credit notes", "Customer portal", "Entitlements", "Invoices", "Meters", "Prices",
        "Promotion codes", "Subscriptions", "Tax rates", "Test clocks",
    ),
    "Payment Links resources": ("Payment Links",),
    "Webhook resources": ("Webhook endpoints",),
}
DASHBOARD_RESOURCE_NAMES = frozenset(name for names in DASHBOARD_RESOURCES.values() for name in names)


def api_keys_page(mode: str) -> str:
    return f"{dashboard_base(mode)}/apikeys"
