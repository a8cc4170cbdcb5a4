"""Each shared fact has one home: every caller agrees with it, whatever the catalog holds."""

from __future__ import annotations

import ast
import functools
import io
import json
import re
import textwrap
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from infra.catalog import (
    Catalog,
    Deployment,
    StackSettings,
    adoption,
    amount_text,
    check_catalog,
    from_minor_units,
    guards,
    load_deployment,
    lookup_key_for,
    parse_amount,
    site_url,
)
from infra.catalog import stack_config as stack_config_module
from infra.catalog.guards import ROLE_KEYS
from infra.catalog.stack_config import from_stack
from infra.clients import errors
from infra.clients.credentials import STRIPE_API_KEY, STRIPE_APP_KEY
from infra.commands import reprice
from infra.commands.diff import stripe as diff_stripe
from infra.commands.plan import offline
from infra.commands.pull import plans as pull_plans
from infra.commands.pull import portal as pull_portal
from infra.core import checks, redact, sources
from infra.core.layout import DEFAULT_CATALOG
from infra.core.problems import closest, did_you_mean
from infra.core.redact import KEY_KINDS, MODES, SECRET_KINDS, mode_prefixes, stripe_prefix, wrong_mode
from infra.hosts.cloudflare import CloudflareHost
from infra.hosts.host import LIVE_PREFIXES, TEST_PREFIXES, mixed_mode_value
from infra.hosts.vercel import VercelHost
from infra.probes import stripe as probe_stripe
from infra.stripe import provider_table
from infra.stripe.provider_table import CANCELLATION_REASONS
from tests.support import policy_pack
from tests.support.project import Project, credentials, run_cli, stack_config
from tests.support.repository import REPO

billing_policies = policy_pack.billing_policies
PORTAL = provider_table.PORTAL_CONFIGURATION.token
WEBHOOK = provider_table.WEBHOOK_ENDPOINT.token

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
    found, problems = check_catalog(sources.parse(textwrap.dedent(text), "catalog.yaml"))
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
    assert "lookup_key" not in pull_plans._price(
        "basic", "monthly", {**price, "lookup_key": lookup_key_for("basic", "monthly")}, {}, findings)
    pull_plans._price("basic", "monthly", price, {}, findings)
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


def _plan(project: Project) -> offline.Plan:
    """The test stack's offline plan: every registration the program makes."""
    engine = from_stack(project.root, "test", env={}, overrides=credentials("test"))
    return offline.run_program(project.root / "__main__.py", "test", engine.values, engine.secret_keys,
                               provider_state={WEBHOOK: {"secret": "whsec_" + "S1gn" * 8}})


def _registered_offer(project: Project) -> dict[str, list[str]]:
    """What the program sends as the portal's switchable products and prices, by resource name."""
    plan = _plan(project)
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
    plan = _plan(project)
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
    found, problems = check_catalog(sources.parse(text, "catalog.yaml"))
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
    """The guards, `verify stripe`'s mode check, `pull` and `verify payment` refuse the same keys, and
    STRIPE_API_KEY is named once (infra/clients/credentials.py), with one lookup order and one text."""
    for mode in MODES:
        other = next(m for m in MODES if m != mode)
        wrong, right = _key("rk", other), _key("rk", mode)
        assert wrong_mode(right, mode) is None
        assert guards.key_problem("deployer", mode, wrong) == wrong_mode(wrong, mode) == (
            f"the key is a {other}-mode key ({stripe_prefix('rk', other)}) but the stack is in {mode} mode")
        assert guards.key_problem("deployer", mode, right) is None
        assert probe_stripe._key_prefix("read key", wrong, mode).status == "fail"
        assert probe_stripe._key_prefix("read key", right, mode).status == "pass"
    where = _literals(re.compile(r".*STRIPE_(API|APP)_KEY.*", re.DOTALL))
    assert sorted({place.split(":")[0] for places in where.values() for place in places}) == [
        "infra/clients/credentials.py"]
    _deployment(project, CATALOG)
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:9")  # nothing listens: never reached
    monkeypatch.setenv(STRIPE_APP_KEY, _key("rk", "test"))
    monkeypatch.delenv("PULUMI_CONFIG", raising=False)
    # Every command that calls Stripe reads STRIPE_API_KEY (then its role's config key) and refuses
    # a wrong one in the same words, before anything is sent.
    # `verify payment` falls back to the app's key but takes any key the deployer's rules allow.
    calls = {("pull",): "deployer", ("verify", "stripe"): "deployer", ("verify", "payment", "--price", "nope"): "app"}
    for key in (_key("rk", "live"), _key("pk", "test"), "whsec_" + "w" * 32):
        monkeypatch.setenv(STRIPE_API_KEY, key)
        for argv, role in calls.items():
            config_key = ROLE_KEYS[role]
            said = (f"{STRIPE_API_KEY}: {config_key}: {guards.key_problem('deployer', 'test', key)}; nothing was sent: "
                    f"export {STRIPE_API_KEY} with a key of the right kind, or unset it to use {config_key}")
            code, _, err = run_cli(*argv, "--stack", "test", "--project", str(project.root))
            assert code == 2 and said in " ".join(err.split()), (argv, err)
    monkeypatch.setenv(STRIPE_API_KEY, _key("rk", "test"))
    code, _, err = run_cli("verify", "payment", "--price", "nope", "--stack", "test", "--project", str(project.root))
    assert code == 2 and "--price: 'nope'" in err and STRIPE_API_KEY not in err


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
    pulled = pull_portal.read([configuration], None, {}, {}, [], {})
    assert pulled is not None and pulled["cancellation"]["reasons"] == list(CANCELLATION_REASONS)
    _deployment(project, CATALOG)
    plan = _plan(project)
    sent = offline.display(plan.named(PORTAL, "portal").inputs)["features"]["subscriptionCancel"]
    assert sent["cancellationReason"]["options"] == list(CANCELLATION_REASONS)


# A Pulumi type token: `package:module:Type` (`stripe:index/price:Price`, `billing:stripe:Billing`).
TYPE_TOKEN = re.compile(r"[a-z][\w-]*:[\w/-]*:[A-Z]\w*", re.ASCII)


# The code that states facts: the package and the policy pack (not the pack's virtualenv).
CODE = ("infra/**/*.py", "policies/*.py")


@functools.cache
def _strings() -> tuple[tuple[str, str], ...]:
    """Every string literal in CODE with where it is written: parsed once for the tests below."""
    return tuple((node.value, f"{path.relative_to(REPO)}:{node.lineno}")
                 for files in CODE for path in sorted(REPO.glob(files))
                 for node in ast.walk(_tree(path))
                 if isinstance(node, ast.Constant) and isinstance(node.value, str))


@functools.cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), str(path))


def _literals(pattern: re.Pattern[str]) -> dict[str, list[str]]:
    """Every string literal in CODE that `pattern` matches whole, with where it is written."""
    found: dict[str, list[str]] = defaultdict(list)
    for value, where in _strings():
        if pattern.fullmatch(value):
            found[value].append(where)
    return found


def test_each_resource_type_token_is_written_once(project: Project) -> None:
    """Every type token is written once: Stripe's in the provider table, the host's in its descriptor,
    the billing component's in adoption; the program, the import file and the policy pack read them
    there. A second spelling anywhere in infra/ or policies/ fails here."""
    written = _literals(TYPE_TOKEN)
    assert {token: where for token, where in written.items() if len(where) > 1} == {}
    for resource in provider_table.RESOURCES.values():
        assert written[resource.token][0].startswith("infra/stripe/provider_table.py:"), resource.token
    assert tuple(
        r.token for r in (provider_table.PRODUCT, provider_table.PRICE, provider_table.WEBHOOK_ENDPOINT,
                          provider_table.PORTAL_CONFIGURATION, provider_table.ENTITLEMENTS_FEATURE)) == (adoption.PRODUCT, adoption.PRICE, adoption.WEBHOOK, adoption.PORTAL, adoption.FEATURE)
    assert (
        provider_table.WEBHOOK_ENDPOINT.token, provider_table.ENTITLEMENTS_FEATURE.token,
        provider_table.PRODUCT_FEATURE.token) == (billing_policies.WEBHOOK, billing_policies.FEATURE, billing_policies.PRODUCT_FEATURE)
    assert (provider_table.PRODUCT.token, provider_table.PRICE.token) == billing_policies.WITH_PLAN
    # What the program registers is what those places say: each type (providers aside) is one of them.
    _deployment(project, CATALOG)
    registered = {r.type for r in _plan(project).resources if not r.type.startswith("pulumi:providers:")}
    assert adoption.COMPONENT_TYPE in registered and VercelHost.component_type in registered
    assert CloudflareHost.component_type in written
    assert registered <= set(written), registered - set(written)


def test_the_default_catalog_path_is_stated_once(capsys: pytest.CaptureFixture[str]) -> None:
    """`stacks/catalog.yaml` is written once (infra/core/layout.py): the settings' default, the
    commands' help, the policy pack and Pulumi.yaml's declared default all agree with it."""
    where = _literals(re.compile(r".*stacks/catalog\.yaml.*", re.DOTALL))
    assert [place for places in where.values() for place in places if not place.startswith("infra/core/layout.py:")] == []
    assert StackSettings.model_fields["catalog"].default == DEFAULT_CATALOG
    assert billing_policies.DEFAULT_CATALOG == REPO / DEFAULT_CATALOG
    declared = sources.read(REPO / "Pulumi.yaml").data["config"]["billing:catalog"]
    assert declared["default"] == DEFAULT_CATALOG
    for command in ("validate", "reprice"):
        with pytest.raises(SystemExit):
            run_cli(command, "--help")
        shown = " ".join(capsys.readouterr().out.split())  # argparse wraps help text
        assert f"default: {DEFAULT_CATALOG})" in shown or f"else {DEFAULT_CATALOG})" in shown, shown


def test_amounts_are_read_and_written_one_way(tmp_path: Path) -> None:
    """The catalog and `reprice` read an amount with parse_amount, so they refuse the same text in
    the same words; `reprice` and `pull` write one with amount_text, which reads back exactly."""
    path = tmp_path / "catalog.yaml"
    for text in ("-5", "1e3", "29.", " 29.00", "\u0663\u0669"):
        with pytest.raises(ValueError, match="amount") as refused:
            parse_amount(text)
        said = str(refused.value)
        assert said in _messages(CATALOG.replace('amount: "9.00"', f'amount: "{text}"', 1)), text
        path.write_text(CATALOG)
        with pytest.raises(reprice.RepriceError) as repriced:
            reprice.reprice(path, "basic.monthly", text, None, tmp_path)
        assert str(repriced.value) == said
    path.write_text(CATALOG)
    reprice.reprice(path, "basic.monthly", "12.5", None, tmp_path)
    written = catalog(path.read_text()).plans["basic"].prices["monthly_v2"].amount
    assert f'amount: "{amount_text(written)}"' in path.read_text() and written == parse_amount("12.5")
    price = {"id": "price_1", "currency": "usd", "unit_amount": 1250, "recurring": {"interval": "month"}}
    pulled = pull_plans._price("basic", "monthly", price, {}, [])["amount"]
    assert pulled == amount_text(from_minor_units(1250, "usd")) == "12.50"
    assert parse_amount(pulled) == from_minor_units(1250, "usd")


def test_check_results_are_written_one_way() -> None:
    """`verify` (one part or all) and `verify payment` print their findings through checks.write,
    one table and one JSON; no module but infra/core/checks.py reaches into how either is made."""
    found = [checks.Check("a", "pass", "fine"), checks.Check("b", "fail", "broken", "fix it")]
    one, several, table = io.StringIO(), io.StringIO(), io.StringIO()
    checks.write([("x", found)], one, True)
    checks.write([("x", found), ("y", found[:1])], several, True, "test")
    checks.write([("x", found), ("y", found[:1])], table, False)
    assert json.loads(several.getvalue()) == {"stack": "test", "ok": False, "results": [
        json.loads(one.getvalue()), {"target": "y", "ok": True, "checks": [json.loads(one.getvalue())["checks"][0]]}]}
    assert table.getvalue().startswith("verify x\n") and "\n\nverify y\n" in table.getvalue()
    public = {"Check", "Progress", "Run", "Status", "failed", "write"}
    for path in sorted(REPO.glob("infra/**/*.py")):
        tree = _tree(path)
        if path.name == "checks.py" or not any(
                isinstance(node, ast.ImportFrom) and node.module == "infra.core"
                and "checks" in [alias.name for alias in node.names] for node in ast.walk(tree)):
            continue
        used = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name) and node.value.id == "checks"}
        assert used <= public, (path, used - public)


def test_every_command_loads_a_stack_one_way(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands load a deployment through EngineConfig.load, which passes where each value came
    from: a bad value from PULUMI_CONFIG is placed there, never at the stack file's line of the
    value it replaced (verify payment once dropped it)."""
    for path in sorted(REPO.glob("infra/commands/**/*.py")):
        assert "load_deployment" not in path.read_text(), path
    _deployment(project, CATALOG)
    monkeypatch.setenv("PULUMI_CONFIG", '{"billing:domain": "Not A Domain"}')
    monkeypatch.setenv("PATH", "/nonexistent")  # no pulumi CLI: status checks the files alone
    monkeypatch.setenv(STRIPE_API_KEY, _key("rk", "test"))
    for argv in (("validate",), ("keys",), ("export",), ("plan",), ("status",), ("verify", "stripe"),
                 ("verify", "payment")):
        code, out, err = run_cli(*argv, "--stack", "test", "--project", str(project.root))
        said = " ".join((out + err).split())
        assert code in (1, 2) and "PULUMI_CONFIG: billing:domain: 'Not A Domain' is not" in said, (argv, said)
        assert "Pulumi.test.yaml:4: billing:domain" not in said, argv
