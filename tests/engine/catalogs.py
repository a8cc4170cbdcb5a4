"""Catalogs the engine scenarios deploy: the repository's own, and one using every feature."""

from __future__ import annotations

from tests.engine.harness import REPO


def reference_catalog() -> str:
    """The catalog the repository ships (a user's own, on their clone): assertions never
    depend on what it holds, only on the engine agreeing with `billing plan` about it."""
    return (REPO / "stacks" / "catalog.yaml").read_text(encoding="utf-8")


# Every feature the catalog has: archived prices and plans come in the LATER edits of the
# diff scenario; here, prices with every option, entitlements, a pinned lookup key, portal
# switching with reasons, hosting names and an extra secret.
EVERY_FEATURE = """\
plans:
  free: {name: Free, limits: {requests: 5}}
  pro:
    name: Pro
    description: For teams
    features: [Unlimited projects, Priority support]
    metadata: {tier: "2"}
    limits: {requests: unlimited}
    entitlements: [premium_reports, api_access]
    prices:
      monthly: {amount: "29.00", currency: usd, interval: month, nickname: Pro monthly,
                tax_behavior: exclusive, metadata: {channel: web}}
      quarterly: {amount: "79.00", currency: usd, interval: month, interval_count: 3}
      yearly: {amount: "290.00", currency: usd, interval: year}
      legacy: {amount: "19.00", currency: usd, interval: month, archived: true}
  team:
    name: Team
    prices:
      monthly: {amount: "49.00", currency: usd, interval: month}
  enterprise:
    name: Enterprise
    entitlements: [premium_reports, sso]
    prices:
      monthly: {amount: "990.00", currency: eur, interval: month, lookup_key: ent-eur}
entitlements:
  premium_reports: {name: Premium reports, metadata: {area: reports}}
  api_access: {name: API access}
  sso: {name: Single sign-on}
webhook:
  path: /api/stripe
  api_version: "2026-10-28.endive"
  description: the app's handler
  events: [checkout.session.completed, customer.subscription.updated,
           entitlements.active_entitlement_summary.updated]
portal:
  business_profile: {headline: Billing, privacy_policy_url: "https://shop.test/privacy",
                     terms_of_service_url: "https://shop.test/terms"}
  return_path: /account
  customer_update: [email]
  cancellation: {mode: at_period_end, reasons: [too_expensive, other]}
  plan_switching: {plans: [pro, enterprise], allowed_updates: [price, promotion_code]}
hosting:
  names: {publishable_key: PUBLIC_STRIPE_KEY}
  price_names: {ent-eur: STRIPE_PRICE_ENTERPRISE}
  extra: {CLERK_SECRET_KEY: "app:clerkSecretKey"}
"""
# Coupons are per stack (Pulumi.<stack>.yaml), appended under `config:`.
TEST_COUPONS = """\
  billing:coupons:
    launch:
      name: Launch
      amount_off: "5.00"
      currency: usd
      duration: forever
      applies_to: [pro, team]
      promotion_codes:
        FIRST5: {first_time_transaction: true}
        OLD5: {active: false}
"""
LIVE_COUPONS = """\
  billing:coupons:
    smoke_test:
      name: Live smoke test
      percent_off: 100
      duration: once
      max_redemptions: 1
      promotion_codes:
        SMOKETEST: {max_redemptions: 1}
"""
