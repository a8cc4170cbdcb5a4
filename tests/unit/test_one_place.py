"""Each shared fact has one home: every caller agrees with it, whatever the catalog holds."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from infra.catalog import guards, loader
from infra.catalog import stack_config as stack_config_module
from infra.catalog.guards import ROLE_KEYS
from infra.catalog.loader import Deployment, load_deployment
from infra.catalog.models import Catalog, lookup_key_for, site_url
from infra.catalog.stack_config import from_stack
from infra.clients import errors
from infra.commands import reprice
from infra.commands.diff import stripe as diff_stripe
from infra.commands.plan import offline
from infra.commands.pull import account as pull_account
from infra.core import redact, sources
from infra.core.problems import closest, did_you_mean
from infra.core.redact import KEY_KINDS, MODES, SECRET_KINDS, mode_prefixes, stripe_prefix, wrong_mode
from infra.hosts.host import LIVE_PREFIXES, TEST_PREFIXES, mixed_mode_value
from infra.probes import stripe as probe_stripe
from infra.stripe.provider_table import CANCELLATION_REASONS
from tests.support.project import Project, credentials, run_cli, stack_config

PORTAL = "stripe:index/portalConfiguration:PortalConfiguration"
WEBHOOK = "stripe:index/webhookEndpoint:WebhookEndpoint"

CATALOG = """\
plans:
  free:
    name: Free
  basic:
    name: Basic
    prices:
      monthly: {amount: "9.00", currency: usd, interval: month}
      yearly: {amount: "90.00", currency: usd, interval: year, lookup_key: basic_annual}
  retired:
    name: Retired
    archived: true
    prices:
      monthly: {amount: "5.00", currency: usd, interval: month, archived: true}
webhook:
  path: /hooks/pay
  api_version: "2026-10-28.endive"
  events: [checkout.session.completed]
portal:
  business_profile: {headline: Manage}
  return_path: /account
  plan_switching:
    enabled: false
    plans: [basic, retired]
    allowed_updates: [price]
    proration_behavior: none
"""


def catalog(text: str = CATALOG) -> Catalog:
    found, problems = loader.check_catalog(sources.parse(textwrap.dedent(text), "catalog.yaml"))
    assert found is not None, problems
    return found


def test_default_lookup_key_is_one_rule() -> None:
    assert lookup_key_for("basic", "monthly") == "basic_monthly"
    assert lookup_key_for("basic", "yearly", "basic_annual") == "basic_annual"
    found = catalog()
    assert found.lookup_key("basic", "monthly") == lookup_key_for("basic", "monthly")
    assert found.lookup_key("basic", "yearly") == "basic_annual"
    # `pull` writes no lookup_key where the price holds the default one, and proposes it when missing.
    price = {"id": "price_1", "currency": "usd", "unit_amount": 900, "recurring": {"interval": "month"}}
    findings: list[Any] = []
    assert "lookup_key" not in pull_account._price(
        "basic", "monthly", {**price, "lookup_key": lookup_key_for("basic", "monthly")}, {}, findings)
    pull_account._price("basic", "monthly", price, {}, findings)
    assert any(repr(lookup_key_for("basic", "monthly")) in f.message for f in findings)


def test_reprice_moves_the_default_lookup_key(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(CATALOG)
    reprice.reprice(path, "basic.monthly", "12.00", None, tmp_path)
    moved = catalog(path.read_text())
    assert moved.lookup_key("basic", "monthly_v2") == lookup_key_for("basic", "monthly")
    assert moved.held_lookup_key("basic", "monthly") is None


STACK = """\
config:
  billing:mode: test
  billing:vercelProject: prj_Test123
  billing:domain: staging.shop.test
"""


def _deployment(project: Project, text: str) -> Deployment:
    project.catalog(text)
    project.stack("test", STACK)
    return load_deployment("test", project.root, stack_config("test").get)


def _registered_offer(project: Project) -> dict[str, list[str]]:
    """What the program sends as the portal's switchable products and prices, by resource name."""
    engine = from_stack(project.root, "test", env={}, overrides=credentials("test"))
    plan = offline.run_program(project.root / "__main__.py", "test", engine.values, engine.secret_keys,
                               provider_state={WEBHOOK: {"secret": "whsec_" + "S1gn" * 8}})
    portal = offline.display(plan.named(PORTAL, "portal").inputs)
    products = portal["features"]["subscriptionUpdates"][0]["products"]
    return {entry["product"].removeprefix("<").removesuffix(".id>"):
            [price.removeprefix("<").removesuffix(".id>") for price in entry["prices"]] for entry in products}


def test_diff_predicts_the_portal_the_program_registers(project: Project) -> None:
    """An archived plan kept in a switching list that is off: the program still lists its prices
    (the provider refuses an empty list), and diff predicts exactly that: no change to show."""
    base = _deployment(project, CATALOG.replace(
        "    archived: true\n    prices:\n      monthly: {amount: \"5.00\", currency: usd, interval: month, "
        "archived: true}", "    prices:\n      monthly: {amount: \"5.00\", currency: usd, interval: month}"))
    head = _deployment(project, CATALOG)
    registered = _registered_offer(project)
    predicted = {plan: [f"{plan}-{key}" for key in keys] for plan, keys in head.catalog.portal_offer().items()}
    assert registered == predicted == {"basic": ["basic-monthly", "basic-yearly"], "retired": ["retired-monthly"]}
    assert head.catalog.plans["basic"].active_prices() == ["monthly", "yearly"]
    assert head.catalog.plans["retired"].active_prices() == []
    assert base.catalog.portal_offer() == head.catalog.portal_offer()
    assert not [c for c in diff_stripe.portal(base, head) if c.subject == "plan_switching"]


def test_app_urls_are_built_one_way(project: Project) -> None:
    """The program's webhook URL and portal return URL, and diff's account of a moved endpoint,
    all come from site_url: a domain and a path, never a second spelling."""
    head = _deployment(project, CATALOG)
    engine = from_stack(project.root, "test", env={}, overrides=credentials("test"))
    plan = offline.run_program(project.root / "__main__.py", "test", engine.values, engine.secret_keys,
                               provider_state={WEBHOOK: {"secret": "whsec_" + "S1gn" * 8}})
    domain = head.settings.domain
    assert site_url(domain, "/x") == f"https://{domain}/x"
    portal = offline.display(plan.named(PORTAL, "portal").inputs)
    assert portal["defaultReturnUrl"] == site_url(domain, "/account")
    endpoints = [offline.display(r.inputs) for r in plan.resources if r.type == WEBHOOK]
    assert [e["url"] for e in endpoints] == [site_url(domain, "/hooks/pay")]
    base = _deployment(project, CATALOG.replace("path: /hooks/pay", "path: /hooks/old"))
    moved = [c.message for c in diff_stripe.webhook(base, head) if c.message.startswith("URL ")]
    assert moved and moved[0].startswith(f"URL {site_url(domain, '/hooks/old')} -> {site_url(domain, '/hooks/pay')},")


def _messages(text: str) -> list[str]:
    found, problems = loader.check_catalog(sources.parse(text, "catalog.yaml"))
    assert found is None
    return [problem.message for problem in problems]


FEATURES = CATALOG.replace("webhook:\n", "entitlements:\n  reports: {name: Reports}\nwebhook:\n").replace(
    "    name: Basic\n", "    name: Basic\n    entitlements: [FEATURE]\n").replace(
    "events: [checkout.session.completed]",
    "events: [checkout.session.completed, entitlements.active_entitlement_summary.updated]")


def test_one_cutoff_for_every_did_you_mean() -> None:
    """A field, a currency and a feature, each mistyped a little (offered) and a lot (not): the
    three places judge alike, and offer only a name that is valid where the typo stands."""
    assert did_you_mean("usdd", ["usd"]) == "; did you mean 'usd'?"
    assert closest("usx", ["usd"]) is None and did_you_mean("usx", ["usd"]) == ""
    assert catalog(FEATURES.replace("FEATURE", "reports")).plans["basic"].entitlements == ["reports"]
    near = {
        CATALOG.replace("    name: Basic\n", "    name: Basic\n    descriptn: x\n"): "'description'",
        CATALOG.replace("currency: usd, interval: month}", "currency: usdd, interval: month}", 1): "'usd'",
        FEATURES.replace("FEATURE", "reportz"): "'reports'",
    }
    far = [
        CATALOG.replace("    name: Basic\n", "    name: Basic\n    descr: x\n"),
        CATALOG.replace("currency: usd, interval: month}", "currency: usx, interval: month}", 1),
        FEATURES.replace("FEATURE", "repo"),
    ]
    for text, offered in near.items():
        assert [m for m in _messages(text) if f"did you mean {offered}?" in m], text
    for text in far:
        messages = _messages(text)
        assert messages and not [m for m in messages if "did you mean" in m], messages


def _key(kind: str, mode: str) -> str:
    return stripe_prefix(kind, mode) + "x" * 24  # built at run time, never committed key-shaped


def test_stripe_key_shapes_have_one_statement() -> None:
    """Every reader of a key's shape (the redactor, the hosts' mixed-mode check, the API error
    masking, the offline placeholders) knows the same kinds and modes."""
    assert mode_prefixes("live") == LIVE_PREFIXES and mode_prefixes("test") == TEST_PREFIXES
    for mode in MODES:
        other = next(m for m in MODES if m != mode)
        for kind in KEY_KINDS:
            key = _key(kind, mode)
            assert (redact.key_kind(key), redact.key_mode(key), redact.key_prefix(key)) == (
                kind, mode, stripe_prefix(kind, mode))
            assert mixed_mode_value(key, live=other == "live") == stripe_prefix(kind, mode)
            assert mixed_mode_value(key, live=mode == "live") is None
            assert key not in errors.redact(f"Invalid API Key provided: {key}")
            assert redact.has_secret(key) == (kind in SECRET_KINDS)
        for role, config_key in ROLE_KEYS.items():
            assert guards.key_problem(role, mode, stack_config_module.placeholder(config_key, mode)) is None


def test_wrong_mode_keys_are_refused_by_one_rule(project: Project, monkeypatch: Any) -> None:
    """The guards, `verify stripe`'s mode check and `verify payment` refuse the same keys."""
    for mode in MODES:
        other = next(m for m in MODES if m != mode)
        wrong, right = _key("rk", other), _key("rk", mode)
        assert wrong_mode(right, mode) is None
        assert guards.key_problem("deployer", mode, wrong) == wrong_mode(wrong, mode) == (
            f"the key is a {other}-mode key ({stripe_prefix('rk', other)}) but the stack is in {mode} mode")
        assert guards.key_problem("deployer", mode, right) is None
        assert probe_stripe._key_prefix("read key", wrong, mode).status == "fail"
        assert probe_stripe._key_prefix("read key", right, mode).status == "pass"
    _deployment(project, CATALOG)
    for key, refused in ((_key("rk", "live"), True), (_key("pk", "test"), True), (_key("rk", "test"), False)):
        monkeypatch.setenv("STRIPE_API_KEY", key)
        monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:9")  # nothing listens: never reached
        code, _, err = run_cli("verify", "payment", "--stack", "test", "--project", str(project.root),
                               "--price", "nope")
        assert code == 2
        assert ("STRIPE_API_KEY: the key has" in err) == refused, err


def test_cancellation_reasons_are_one_list(project: Project) -> None:
    """The catalog accepts exactly Stripe's reasons, pull keeps exactly those, and the program
    offers them all when the catalog lists none."""
    for reason in CANCELLATION_REASONS:
        portal = catalog(CATALOG.replace("  return_path: /account\n",
                                         f"  return_path: /account\n  cancellation: {{reasons: [{reason}]}}\n"))
        assert portal.portal.cancellation.reasons == [reason]
    assert _messages(CATALOG.replace("  return_path: /account\n",
                                     "  return_path: /account\n  cancellation: {reasons: [bored]}\n"))
    configuration = {"id": "bpc_1", "active": True, "features": {"subscription_cancel": {
        "enabled": True, "cancellation_reason": {"enabled": True, "options": [*CANCELLATION_REASONS, "bored"]}}}}
    pulled = pull_account._portal([configuration], None, {}, {}, [], {})
    assert pulled is not None and pulled["cancellation"]["reasons"] == list(CANCELLATION_REASONS)
    _deployment(project, CATALOG)
    engine = from_stack(project.root, "test", env={}, overrides=credentials("test"))
    plan = offline.run_program(project.root / "__main__.py", "test", engine.values, engine.secret_keys,
                               provider_state={WEBHOOK: {"secret": "whsec_" + "S1gn" * 8}})
    sent = offline.display(plan.named(PORTAL, "portal").inputs)["features"]["subscriptionCancel"]
    assert sent["cancellationReason"]["options"] == list(CANCELLATION_REASONS)
