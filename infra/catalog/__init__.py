"""The catalog and one stack's settings, loaded and checked as a whole: what the rest of infra uses.

Everything outside this package imports these names from `infra.catalog`, never from
the modules that hold them (a contract in pyproject.toml, checked by `make lint`), so
those modules can be split or moved without any caller noticing. The modules named
for a role are used as modules (`from infra.catalog import hosting`): adoption,
entitlements, guards, hosting, placeholders, stack_config, stack_files,
tier_contract, values.
"""

from __future__ import annotations

# Loading: a stack's deployment, or the catalog alone.
from infra.catalog.catalog_checks import check_catalog
from infra.catalog.deployment import Deployment

# The catalog's models and the rules they carry.
from infra.catalog.keys import APP_MANIFEST, DEPLOYER_MANIFEST, KeyManifest
from infra.catalog.loader import load_deployment
from infra.catalog.models import (
    SUMMARY_EVENT,
    Catalog,
    Entitlement,
    Plan,
    Portal,
    Price,
    Webhook,
    lookup_key_for,
    site_url,
)

# Money: a catalog amount in minor units, exactly, and back.
from infra.catalog.money import amount_text, from_minor_units, parse_amount, to_minor_units

# One stack's own settings.
from infra.catalog.settings import Coupon, StackSettings, coupon_amount_off

__all__ = [
    "APP_MANIFEST",
    "DEPLOYER_MANIFEST",
    "SUMMARY_EVENT",
    "Catalog",
    "Coupon",
    "Deployment",
    "Entitlement",
    "KeyManifest",
    "Plan",
    "Portal",
    "Price",
    "StackSettings",
    "Webhook",
    "amount_text",
    "check_catalog",
    "coupon_amount_off",
    "from_minor_units",
    "load_deployment",
    "lookup_key_for",
    "parse_amount",
    "site_url",
    "to_minor_units",
]
