"""The second `up` changes nothing, and `diff` says what the provider will really do.

Each test runs the real program under the harness (tests/support/second_up.py): every
Stripe registration is answered with what the bridged provider's Read would
store, and the next run is diffed against it with the provider's rules.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.stripe import provider_table
from tests.support.project import Project
from tests.support.repository import CATALOG
from tests.support.second_up import (
    EXTRA,
    PRICE,
    PRODUCT,
    Account,
    agree,
    changed,
    read_back,
    use,
)

PROMO = provider_table.PROMOTION_CODE.token
MONTHLY = 'monthly: {amount: "29.00", currency: usd, interval: month}'


@pytest.mark.parametrize("stack", ["test", "live"])
def test_the_reference_catalog_is_a_no_op_the_second_time(project: Project, stack: str) -> None:
    account = Account(project.root, stack)
    first = account.up()
    assert {o.kind for o in first.values()} == {"create"}
    assert len(first) == 9  # 2 products, 3 prices, endpoint, portal, coupon, promotion code
    assert changed(account.up()) == {}


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
  business_profile: {headline: Billing, privacy_policy_url: "https://example.com/p",
                     terms_of_service_url: "https://example.com/t"}
  return_path: /account
  customer_update: [email]
  cancellation: {mode: immediately, proration_behavior: create_prorations}
  plan_switching: {plans: [pro, enterprise], allowed_updates: [price, promotion_code]}
hosting:
  price_names: {ent-eur: STRIPE_PRICE_ENTERPRISE}
  extra: {CLERK_SECRET_KEY: "app:clerkSecretKey"}
"""
STACK_COUPONS = """\
config:
  billing:mode: test
  billing:vercelProject: prj_Test123
  billing:domain: staging.example.com
  billing:coupons:
    launch:
      name: Launch
      amount_off: "5.00"
      currency: usd
      duration: forever
      applies_to: [pro]
      promotion_codes:
        FIRST5: {first_time_transaction: true}
        OLD5: {active: false}
"""
# The same account a few months later: a plan retired, a price raised the safe way, switching
# off, reasons on, a webhook upgrade under way and a code retired.
LATER = (EVERY_FEATURE
         .replace("  team:\n    name: Team\n", "  team:\n    name: Team\n    archived: true\n")
         .replace('monthly: {amount: "49.00", currency: usd, interval: month}',
                  'monthly: {amount: "49.00", currency: usd, interval: month, archived: true}')
         .replace("tax_behavior: exclusive, metadata: {channel: web}}",
                  "tax_behavior: exclusive, metadata: {channel: web}, archived: true}\n"
                  '      monthly_v2: {amount: "39.00", currency: usd, interval: month, lookup_key: pro_monthly}')
         .replace("allowed_updates: [price, promotion_code]}", "allowed_updates: [price, promotion_code], "
                  "enabled: false}")
         .replace("proration_behavior: create_prorations}", "proration_behavior: create_prorations, "
                  "reasons: [too_expensive, other]}")
         .replace('  api_version: "2026-10-28.endive"\n',
                  '  api_version: "2026-10-28.endive"\n  next_api_version: "2025-03-31.basil"\n'))


def test_every_catalog_feature_through_a_lifecycle_never_replaces_and_settles(project: Project) -> None:
    use(project, EVERY_FEATURE, STACK_COUPONS)
    account = Account(project.root, "test", config=dict(EXTRA))
    assert {o.kind for o in account.up().values()} == {"create"}
    assert changed(account.up()) == {}
    use(project, LATER, STACK_COUPONS.replace("FIRST5: {first_time_transaction: true}",
                                              "FIRST5: {first_time_transaction: true, active: false}"))
    later = changed(account.up())
    assert {(key[1], o.kind) for key, o in later.items()} == {
        ("team", "update"), ("team-monthly", "update"), ("pro-monthly", "update"),
        ("pro-monthly_v2", "create"), ("portal", "update"), ("webhook-2025-03-31.basil", "create"),
        ("launch-FIRST5", "update"),
    }
    # The archived price gives its lookup key up, and the new one takes it over.
    assert later[(PRICE, "pro-monthly")].fields() == {"active": "update", "lookupKey": "update"}
    assert account.state[(PRICE, "pro-monthly_v2")]["lookupKey"] == "pro_monthly"
    assert account.state[(PRICE, "pro-monthly_v2")]["transferLookupKey"] is True
    assert all(change.effect == "update" for o in later.values() for change in o.changes)
    assert changed(account.up()) == {}


def test_a_plan_created_already_archived_takes_two_runs_as_diff_warns(project: Project) -> None:
    archived = EVERY_FEATURE.replace("  team:\n    name: Team\n", "  team:\n    name: Team\n    archived: true\n")
    archived = archived.replace('monthly: {amount: "49.00", currency: usd, interval: month}',
                                'monthly: {amount: "49.00", currency: usd, interval: month, archived: true}')
    use(project, archived)
    account = Account(project.root, "test", config=dict(EXTRA))
    account.up()
    # The provider's Create sends active only when true: the product is created active.
    assert {key[1]: o.fields() for key, o in changed(account.up()).items()} == {"team": {"active": "update"}}
    assert changed(account.up()) == {}


# ---------------------------------------------------------------- diff and the harness agree


def _price(amount: str = "29.00", extra: str = "", interval: str = "month") -> str:
    return f'monthly: {{amount: "{amount}", currency: usd, interval: {interval}{extra}}}'


CATALOG_EDITS = {
    "amount": (MONTHLY, _price("39.00"), "replace", "error"),
    "currency": (MONTHLY, 'monthly: {amount: "29.00", currency: eur, interval: month}', "replace", "error"),
    "interval": (MONTHLY, _price(interval="week"), "no-op", "error"),
    "interval count": (MONTHLY, _price(extra=", interval_count: 2"), "no-op", "error"),
    "nickname and metadata": (MONTHLY, _price(extra=", nickname: Pro, metadata: {a: b}"), "update", "info"),
    "lookup key": (MONTHLY, _price(extra=", lookup_key: pro_m"), "update", "warn"),
    "archived": (MONTHLY, _price(extra=", archived: true"), "update", "warn"),
    "tax behavior first set": (MONTHLY, _price(extra=", tax_behavior: inclusive"), "update", "info"),
    "product name": ("name: Pro Plan", "name: Pro Plan 2", "update", "info"),
    "events": ("    - checkout.session.completed\n", "", "update", "warn"),
    "return path": ("return_path: /dashboard", "return_path: /account", "update", "info"),
    "switching off": ("proration_behavior: create_prorations\n",
                      "proration_behavior: create_prorations\n    enabled: false\n", "update", "info"),
    # The block is Optional+Computed: the provider plans nothing, and switching stays on in Stripe.
    "switching block removed": ("  plan_switching:\n    plans: [pro, enterprise]\n    allowed_updates: [price]\n"
                                "    proration_behavior: create_prorations\n", "", "same", "error"),
    "headline removed": ("  business_profile:\n    headline: Manage your subscription\n", "  business_profile: {}\n", "not cleared", "error"),
    "reasons removed": ("    reasons: [too_expensive, missing_features, switched_service, unused, other]\n", "",
                        "update", "info"),
    "upgrade started": ('api_version: "2026-10-28.endive"',
                        'api_version: "2026-10-28.endive"\n  next_api_version: "2025-03-31.basil"',
                        "create", "info"),
}


@pytest.mark.parametrize("kind", list(CATALOG_EDITS))
def test_diff_claims_the_step_the_provider_takes_for_each_catalog_change(project: Project, kind: str) -> None:
    old, new, step, severity = CATALOG_EDITS[kind]
    assert old in CATALOG
    changes, _ = agree(project, "test", CATALOG, CATALOG.replace(old, new))
    claims = [c for c in changes if c.resource is not None and c.step == step]
    assert claims, changes
    assert max(("info", "warn", "error").index(c.severity) for c in claims) == ("info", "warn", "error").index(
        severity), claims


def test_a_tax_behavior_change_once_set_is_refused_by_stripe(project: Project) -> None:
    exclusive = CATALOG.replace(MONTHLY, _price(extra=", tax_behavior: exclusive"))
    changes, outcomes = agree(project, "test", exclusive, CATALOG.replace(
        MONTHLY, _price(extra=", tax_behavior: inclusive")))
    (claim,) = [c for c in changes if c.step == "refused by Stripe"]
    assert claim.severity == "error" and "add a new price key instead" in claim.message
    assert outcomes[(PRICE, "pro-monthly")].lasting()


STACK_EDITS = {
    "coupon terms": ("percent_off: 20", "percent_off: 25", "replace", "error"),
    "coupon name": ("name: Launch week", "name: Launch month", "update", "info"),
    "code redemptions": ("WELCOME20: {max_redemptions: 100}", "WELCOME20: {max_redemptions: 50}", "replace",
                         "error"),
    "code first time only": ("WELCOME20: {max_redemptions: 100}",
                             "WELCOME20: {max_redemptions: 100, first_time_transaction: true}", "no-op", "error"),
    "code deactivated": ("WELCOME20: {max_redemptions: 100}", "WELCOME20: {max_redemptions: 100, active: false}",
                         "update", "warn"),
    "code removed while active": ("      promotion_codes:\n        WELCOME20: {max_redemptions: 100}\n", "",
                                  "delete", "error"),
}


@pytest.mark.parametrize("kind", list(STACK_EDITS))
def test_diff_claims_the_step_the_provider_takes_for_each_coupon_change(project: Project, kind: str) -> None:
    old, new, step, severity = STACK_EDITS[kind]
    stack_file = (project.root / "Pulumi.test.yaml").read_text()
    assert old in stack_file
    changes, _ = agree(project, "test", CATALOG, CATALOG, stack_file, stack_file.replace(old, new))
    claims = [c for c in changes if c.resource is not None and c.step == step]
    assert claims and max(("info", "warn", "error").index(c.severity) for c in claims) == (
        "info", "warn", "error").index(severity), changes


def test_on_live_a_removed_archived_price_is_refused_by_protect(project: Project) -> None:
    archived = CATALOG.replace(MONTHLY, _price(extra=", archived: true"))
    changes, outcomes = agree(project, "live", archived, archived.replace("      " + _price(
        extra=", archived: true") + "\n", ""))
    assert outcomes[(PRICE, "pro-monthly")].refused
    (claim,) = [c for c in changes if c.resource == (PRICE, "pro-monthly")]
    assert claim.severity == "error" and "pulumi state unprotect" in claim.message


# ---------------------------------------------------------------- random catalogs


def _catalog(plans: list[tuple[str, list[tuple[str, int, str, int, bool]]]], reasons: bool, switching: bool,
             next_version: bool, features: list[list[str]]) -> str:
    lines = ["plans:", "  free: {name: Free}"]
    declared: list[str] = []
    for (plan, prices), keys in zip(plans, features + [[]] * len(plans), strict=False):
        lines += [f"  {plan}:", f"    name: {plan.title()} plan", f"    entitlements: [{', '.join(keys)}]",
                  "    prices:"]
        declared += [key for key in keys if key not in declared]
        lines += [f'      {key}: {{amount: "{amount}.00", currency: {currency}, interval: month, '
                  f"interval_count: {count}, archived: {str(archived).lower()}}}"
                  for key, amount, currency, count, archived in prices]
    active = [plan for plan, prices in plans if any(not p[4] for p in prices)]
    lines += ["webhook:", "  path: /hook", '  api_version: "2026-10-28.endive"',
              *(['  next_api_version: "2025-03-31.basil"'] if next_version else []),
              "  events: [checkout.session.completed, entitlements.active_entitlement_summary.updated]",
              "entitlements:", *(f"  {key}: {{name: {key.title()}}}" for key in declared),
              "portal:", "  cancellation:",
              f"    reasons: [{'other' if reasons else ''}]"]
    if switching and active:
        lines += ["  plan_switching:", f"    plans: [{', '.join(active)}]"]
    return "\n".join(lines) + "\n"


prices_of_a_plan = st.lists(st.tuples(
    st.sampled_from(["monthly", "yearly", "eu"]), st.integers(1, 500), st.sampled_from(["usd", "eur"]),
    st.integers(1, 3), st.booleans()), min_size=1, max_size=3, unique_by=lambda p: p[0])
# `pro` is always there: the test stack's coupon applies to it.
catalogs = st.builds(_catalog, st.lists(st.tuples(st.sampled_from(["team", "max"]), prices_of_a_plan),
                                        max_size=1).map(lambda more: [("pro", [("monthly", 29, "usd", 1, False)]),
                                                                      *more]),
                     st.booleans(), st.booleans(), st.booleans(),
                     st.lists(st.lists(st.sampled_from(["reports", "sso", "api_access"]), unique=True),
                              max_size=2))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(catalog=catalogs)
def test_random_valid_catalogs_are_idempotent(tmp_path_factory: pytest.TempPathFactory, catalog: str) -> None:
    project = Project(tmp_path_factory.mktemp("random"))
    use(project, catalog)
    account = Account(project.root, "test")
    account.up()
    assert changed(account.up()) == {}, catalog


# ---------------------------------------------------------------- an adopted account


def test_a_pulled_and_adopted_account_settles_after_its_first_up(tmp_path: Path) -> None:
    """`pull` writes a catalog and an import file; the first up imports (and updates in place),
    the second changes nothing."""
    from tests.servers.stripe_api_server import StripeServer
    from tests.support.hand_made_account import STACK, HandMade, pulled

    hand_made = HandMade()
    project = Project(tmp_path)
    with StripeServer(hand_made.account) as server, pytest.MonkeyPatch.context() as env:
        env.setenv("STRIPE_API_BASE", server.base)
        env.setenv("STRIPE_API_KEY", hand_made.key)
        # The adopted endpoint's signing secret, given before the pull checks what it wrote.
        env.setenv("PULUMI_CONFIG", json.dumps({"billing:webhookSecret": "whsec_" + "Ad0p" * 6}))
        code, _, _, folder = pulled(project)
    assert code == 0
    project.stack("test", STACK + "  billing:catalog: adopt/test/catalog.yaml\n"
                                  "  billing:adopt: adopt/test/import.json\n")
    account = Account(project.root, "test", config={"billing:webhookSecret": "whsec_" + "Ad0p" * 6})
    account.existing = {obj["id"]: read_back(obj) for path, objects in hand_made.account.lists.items()
                        for obj in objects}
    first = account.up()
    assert "replace" not in {o.kind for o in first.values()}, first
    kinds = {o.kind for key, o in first.items() if key[0] in (PRODUCT, PRICE)}
    assert "import" in kinds and kinds <= {"import", "create"}, first
    assert changed(account.up()) == {}
    assert folder.is_dir()


