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

# A pipe holds 64 KiB on Linux; a reader that goes away after one line must leave a writer with more
# to write. `plan --verbose` prints every input: five plans with 40 metadata values of 480 characters
# print ~110 KB, where the same size from plans alone takes ~120 plans and twice the run time.
OVERFLOWS_A_PIPE = CATALOG.replace("plans:\n", "plans:\n" + "".join(
    f"  p{n}:\n    name: Plan {n}\n    metadata:\n"
    + "".join(f"      k{key:02d}: {'v' * 480}\n" for key in range(40))
    + f"    prices:\n      monthly: {{amount: \"{n}.00\", currency: usd, interval: month}}\n"
    for n in range(1, 6)), 1)
