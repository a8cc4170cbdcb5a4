"""Every rejection the loader promises, each with the message a user would read."""

from __future__ import annotations

import textwrap
from decimal import Decimal

import pytest

from infra.catalog.loader import Deployment, load_deployment
from infra.catalog.models import Price, to_minor_units
from infra.core.problems import ConfigError
from tests.support.project import Project, run_cli, stack_config
from tests.support.repository import CATALOG

pytestmark = pytest.mark.pure

BASE = """\
plans:
  free:
    name: Free
    limits: {requests: 5}
  pro:
    name: Pro Plan
    prices:
      monthly: {amount: "29.00", currency: usd, interval: month}
webhook:
  path: /webhook/stripe
  api_version: "2026-10-28.endive"
  events: [checkout.session.completed]
"""


def load(project: Project, stack: str = "test") -> Deployment:
    return load_deployment(stack, project.root, stack_config(stack).get)


def problems(project: Project, catalog: str, stack: str = "test") -> list[str]:
    project.catalog(catalog)
    with pytest.raises(ConfigError) as caught:
        load(project, stack)
    return [str(p) for p in caught.value.problems]


def only(project: Project, catalog: str) -> str:
    found = problems(project, catalog)
    assert len(found) == 1, found
    return found[0]


def test_base_catalog_loads(project: Project) -> None:
    project.catalog(BASE)
    deployment = load(project)
    assert deployment.catalog.plans["pro"].prices["monthly"].unit_amount == 2900
    assert deployment.catalog.lookup_key("pro", "monthly") == "pro_monthly"
    assert not deployment.catalog.plans["free"].paid


def test_plan_key_must_be_lowercase_slug(project: Project) -> None:
    message = only(project, BASE.replace("  pro:", "  Pro:"))
    assert message.startswith("stacks/catalog.yaml:5: plans.Pro: ")
    assert "not a lowercase slug" in message and "use 'pro'" in message


def test_duplicate_mapping_key_is_reported_with_both_lines(project: Project) -> None:
    text = BASE.replace("  free:\n", "  pro:\n    name: Other\n  free:\n", 1)
    found = problems(project, text)
    assert any("duplicate key (first defined on line 2)" in p and ":7: plans.pro" in p for p in found)


def test_unknown_field_suggests_the_right_one(project: Project) -> None:
    message = only(project, BASE.replace("    name: Pro Plan", "    name: Pro Plan\n    descripton: x"))
    assert "stacks/catalog.yaml:7: plans.pro.descripton: unknown field; did you mean 'description'?" in message


def test_unknown_top_level_section(project: Project) -> None:
    message = only(project, BASE + "portl: {}\n")
    assert "portl: unknown section; did you mean 'portal'?" in message


def test_duplicate_lookup_keys(project: Project) -> None:
    text = BASE.replace(
        'monthly: {amount: "29.00", currency: usd, interval: month}',
        'monthly: {amount: "29.00", currency: usd, interval: month}\n'
        '      other: {amount: "9.00", currency: usd, interval: month, lookup_key: pro_monthly}',
    )
    message = only(project, text)
    assert "plans.pro.prices.other.lookup_key: lookup key 'pro_monthly' is already used by " \
           "plans.pro.prices.monthly" in message


@pytest.mark.parametrize(("amount", "currency", "expected"), [
    # A fix never proposes another amount: it says what is allowed.
    ('"29.999"', "usd", "29.999 has 3 decimals; usd allows at most 2: write the amount you mean"),
    ('"100.5"', "jpy", "100.5 has 1 decimal; jpy allows none: write the amount you mean in whole units"),
    ('"1.005"', "bhd", "whole hundredths, so the third decimal must be 0; write the amount you mean"),
    ('"-5.00"', "usd", "not a decimal amount"),
    ('"0"', "usd", "amount must be positive"),
    ('"abc"', "usd", "not a decimal amount"),
    ('"1e3"', "usd", "not a decimal amount"),
    ("true", "usd", "quoted decimal string"),
    ('"1000000.00"', "usd", "above Stripe's limit"),
])
def test_bad_amounts(project: Project, amount: str, currency: str, expected: str) -> None:
    text = BASE.replace('amount: "29.00", currency: usd', f"amount: {amount}, currency: {currency}")
    message = only(project, text)
    assert "stacks/catalog.yaml:8: plans.pro.prices.monthly.amount: " in message and expected in message
    assert not any(other in message for other in ("30.00", "use 100", "1.01", "1.00", "round"))


@pytest.mark.parametrize(("amount", "currency", "minor"), [
    ("29.00", "usd", 2900), ("0.29", "usd", 29), ("19.99", "usd", 1999), ("0.1", "eur", 10),
    ("1500", "jpy", 1500), ("1.10", "bhd", 1100), ("99999.99", "usd", 9999999),
])
def test_amounts_convert_exactly(amount: str, currency: str, minor: int) -> None:
    assert to_minor_units(Decimal(amount), currency) == minor


def test_unquoted_amount_is_read_exactly_not_as_float(project: Project) -> None:
    # 0.29 * 100 is 28.999999999999996 as a float; the reader keeps the decimal text.
    project.catalog(BASE.replace('amount: "29.00"', "amount: 0.29"))
    assert load(project).catalog.plans["pro"].prices["monthly"].unit_amount == 29


def test_unknown_currency_and_interval(project: Project) -> None:
    text = BASE.replace("currency: usd, interval: month", "currency: usdd, interval: monthly")
    found = problems(project, text)
    assert any("currency: 'usdd' is not a currency Stripe supports; did you mean 'usd'?" in p
               for p in found)
    assert any("interval: 'monthly' is not allowed; use one of 'day', 'week', 'month' or 'year'" in p
               for p in found)


def test_uppercase_currency_is_explained(project: Project) -> None:
    assert "write currency codes in lowercase" in only(project, BASE.replace("currency: usd", "currency: USD"))


def test_interval_count_over_three_years(project: Project) -> None:
    message = only(project, BASE.replace("interval: month}", "interval: month, interval_count: 37}"))
    assert "interval_count: 37 months is over Stripe's maximum of three years (36)" in message


def test_unknown_webhook_event(project: Project) -> None:
    message = only(project, BASE.replace("[checkout.session.completed]",
                                         "[customer.subscription.update]"))
    assert "webhook.events[0]: 'customer.subscription.update' is not a Stripe event type; " \
           "did you mean 'customer.subscription.updated'?" in message
    assert ":12:" in message


def test_wildcard_event_is_refused(project: Project) -> None:
    message = only(project, BASE.replace("[checkout.session.completed]", '["*"]'))
    assert "wildcard" in message


def test_webhook_path_must_start_with_slash(project: Project) -> None:
    message = only(project, BASE.replace("path: /webhook/stripe", "path: webhook/stripe"))
    assert "webhook.path: 'webhook/stripe' must start with '/'" in message


def test_unknown_api_version(project: Project) -> None:
    message = only(project, BASE.replace('"2026-10-28.endive"', '"2026-13-01"'))
    assert "webhook.api_version: '2026-13-01' is not a Stripe API version" in message


def test_portal_urls_must_be_https(project: Project) -> None:
    text = BASE + "portal:\n  business_profile:\n    privacy_policy_url: http://example.com/privacy\n"
    message = only(project, text)
    assert "stacks/catalog.yaml:15: portal.business_profile.privacy_policy_url: " \
           "'http://example.com/privacy' is not an https URL" in message


def test_portal_switching_names_unknown_plan(project: Project) -> None:
    text = BASE + "portal:\n  plan_switching:\n    plans: [pro, premium]\n"
    message = only(project, text)
    assert "portal.plan_switching.plans[1]: 'premium' is not a plan in this catalog" in message


def test_plan_metadata_cannot_override_plan(project: Project) -> None:
    message = only(project, BASE.replace("    name: Pro Plan", "    name: Pro Plan\n    metadata: {plan: Pro}"))
    assert "plans.pro.metadata: 'plan' is set from the plan's key" in message


def test_strict_types_refuse_yaml_coercions(project: Project) -> None:
    message = only(project, BASE.replace("limits: {requests: 5}", "limits: {requests: five}"))
    assert "plans.free.limits.requests: 'five' is not a limit" in message


def test_every_problem_is_collected_at_once(project: Project) -> None:
    text = (BASE.replace("  pro:", "  Pro:")
            .replace("[checkout.session.completed]", "[nope.event]")
            .replace("path: /webhook/stripe", "path: hook"))
    text += "portal:\n  return_path: dashboard\n"
    found = problems(project, text)
    assert len(found) == 4, found
    # Sorted by line, so a user fixes them top to bottom.
    lines = [int(p.split(":")[1]) for p in found]
    assert lines == sorted(lines)


@pytest.mark.parametrize(("text", "line", "what"), [
    ("plans:\n  pro: {name: [unclosed\n", 3, "fix the YAML syntax"),
    ("plans:\n\tpro: x\n", 2, "fix the YAML syntax"),
    ("- just\n- a list\n", 1, "must be a mapping"),
    ("plans: !!python/object:os.system {}\n", 1, "unsupported YAML tag"),
])
def test_malformed_yaml_is_a_problem_not_a_traceback(
    project: Project, text: str, line: int, what: str
) -> None:
    found = problems(project, text)
    assert any(p.startswith(f"stacks/catalog.yaml:{line}:") and what in p for p in found), found


def test_missing_catalog_file(project: Project) -> None:
    (project.root / "stacks" / "catalog.yaml").unlink()
    with pytest.raises(ConfigError, match=r"stacks/catalog.yaml: \(file\): file not found"):
        load(project)


def test_price_model_is_frozen() -> None:
    price = Price.model_validate({"amount": "1.00", "currency": "usd", "interval": "month"})
    with pytest.raises(ValueError, match="frozen"):
        price.archived = True  # type: ignore[misc]


# ---------------------------------------------------------------- hosting and keys


def test_hosting_names_are_environment_variable_names(project: Project) -> None:
    found = problems(project, BASE + "hosting:\n  names: {secret_key: stripe-key}\n  extra: {db_url: app:db}\n")
    assert any("hosting.names.secret_key: 'stripe-key' is not an environment variable name" in p
               and "'STRIPE_KEY'" in p for p in found)
    assert any("hosting.extra.db_url: 'db_url' is not an environment variable name" in p for p in found)


def test_extra_variables_cannot_reuse_the_program_s_own_config(project: Project) -> None:
    found = problems(project, BASE + "hosting:\n  extra: {LEAK: stripe:apiKey, ALSO: billing:mode, X: nocolon}\n")
    assert any("hosting.extra.LEAK: 'stripe:apiKey' is read by the program itself" in p for p in found)
    assert any("hosting.extra.ALSO: 'billing:mode' is read by the program itself" in p for p in found)
    assert any("hosting.extra.X: 'nocolon' is not a Pulumi config key" in p for p in found)


def test_price_names_must_name_an_active_lookup_key(project: Project) -> None:
    message = only(project, BASE + "hosting:\n  price_names: {pro_yearly: STRIPE_PRICE_ID_PRO}\n")
    assert "stacks/catalog.yaml:14: hosting.price_names.pro_yearly: 'pro_yearly' is not the lookup key of an active price; " \
           "use one of: pro_monthly" in message


def test_two_values_cannot_share_a_variable_name(project: Project) -> None:
    message = only(project, BASE + "hosting:\n  extra: {STRIPE_PRICE_PRO_MONTHLY: app:other}\n")
    assert "hosting.extra.STRIPE_PRICE_PRO_MONTHLY: STRIPE_PRICE_PRO_MONTHLY would hold both the ID of " \
           "price 'pro_monthly' and stack secret app:other" in message


def test_key_manifest_resources_are_dashboard_names(project: Project) -> None:
    catalog = BASE + textwrap.dedent("""\
        keys:
          app:
            purpose: the app
            permissions: {Checkout Sessions: write, checkout sessions: read, Subscription: write, Prices: admin}
        """)
    found = problems(project, catalog)
    assert any("keys.app.permissions.checkout sessions: write it as the Dashboard does: 'Checkout Sessions'"
               in p for p in found)
    assert any("keys.app.permissions.Subscription: 'Subscription' is not a resource on Stripe's restricted "
               "key form; did you mean 'Subscriptions'?" in p for p in found)
    assert any("keys.app.permissions.Prices: 'admin' is not allowed; use one of 'none', 'read' or 'write'"
               in p for p in found)


def test_deployer_manifest_must_cover_what_the_program_manages(project: Project) -> None:
    catalog = BASE + textwrap.dedent("""\
        keys:
          deployer:
            purpose: deploys
            permissions: {Products: write, Prices: read, Webhook endpoints: write}
        """)
    message = only(project, catalog)
    assert "keys.deployer.permissions: the program creates and updates these, so the deployer key needs " \
           "Write on: Prices, Customer portal; add `Prices: write`" in message


def test_declared_manifest_replaces_the_default_whole(project: Project) -> None:
    project.catalog(BASE + "keys:\n  app:\n    purpose: read only\n    permissions: {Prices: read}\n")
    keys = load(project).catalog.keys
    assert keys.app.granted() == {"Prices": "read"}
    assert keys.deployer.granted()["Webhook endpoints"] == "write"  # the other default stays


def test_deployer_manifest_must_cover_the_stack_s_coupons(project: Project) -> None:
    project.catalog(BASE + textwrap.dedent("""\
        keys:
          deployer:
            purpose: deploys
            permissions: {Products: write, Prices: write, Webhook endpoints: write, Customer portal: write}
        """))
    load(project)  # no coupons on this stack: nothing more is needed
    coupons = '{"launch": {"name": "Launch", "percent_off": 20, "promotion_codes": {"LAUNCH20": {}}}}'
    with pytest.raises(ConfigError) as caught:
        load_deployment("test", project.root, stack_config("test", **{"billing:coupons": coupons}).get)
    assert "keys.deployer.permissions: the program creates and updates these, so the deployer key needs " \
           "Write on: Coupons, Promotion codes; add `Coupons: write`" in caught.value.render()


def test_a_yaml_1_1_amount_is_one_problem_not_two(project: Project) -> None:
    project.catalog(CATALOG.replace('amount: "29.00"', "amount: 010", 1))
    code, _, err = run_cli("validate", "--stack", "test", "--project", str(project.root))
    assert code == 2 and "1 problem found" in err and "None" not in err
