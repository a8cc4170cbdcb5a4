"""Catalogs the tests share, each built from the repository's own so a team's edits carry through."""

from __future__ import annotations

from tests.support.repository import CATALOG

SUMMARY = "entitlements.active_entitlement_summary.updated"
# The reference catalog with three features: pro has two, enterprise all three.
ENTITLED = (CATALOG
            .replace("    limits: {requests: 50}\n", "    limits: {requests: 50}\n"
                     "    entitlements: [premium_reports, api_access]\n")
            .replace("    limits: {requests: unlimited}\n", "    limits: {requests: unlimited}\n"
                     "    entitlements: [premium_reports, api_access, sso]\n")
            .replace("webhook:\n", "entitlements:\n  premium_reports: {name: Premium reports}\n"
                     "  api_access: {name: API access}\n  sso: {name: Single sign-on}\n\nwebhook:\n")
            .replace("    - customer.subscription.deleted\n",
                     f"    - customer.subscription.deleted\n    - {SUMMARY}\n"))
