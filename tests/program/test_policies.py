"""The policy pack's real rules, fed the properties the real program registers.

Registrations come from the program under the SDK mock runtime: their inputs
are deserialized from the same RPC properties the engine hands a policy pack.
"""

from __future__ import annotations

import sys

import pytest

from infra.commands.plan import offline
from infra.hosts.vercel import VARIABLE
from tests.support.mock_program import run
from tests.support.policy_pack import billing_policies, engine_args, violations
from tests.support.project import Project
from tests.support.repository import REPO


@pytest.mark.parametrize("stack", ["test", "live"])
def test_the_program_passes_every_policy(project: Project, stack: str) -> None:
    plan = run(project, stack)
    checked = [r for r in plan.resources if not r.type.startswith(("billing:", "pulumi:"))]
    assert len(checked) > 10
    assert all(violations(stack, reg) == [] for reg in checked), [violations(stack, r) for r in checked]


def by_type(plan: offline.Plan, type_: str) -> offline.Registration:
    return plan.of_type(type_)[0]


def test_a_value_preview_cannot_know_yet_still_lets_the_rest_be_judged(project: Project) -> None:
    """Under the real engine, preview hands the pack unknown values behind pulumi-policy's own
    proxy; touching one raised and the whole rule was skipped."""
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

    variable = by_type(run(project, "test"), VARIABLE)
    args = engine_args("test", variable, props={"value": UNKNOWN_STRING_VALUE, "sensitive": False,
                                                "targets": ["preview", "development"]})
    args.props = unknown_checking_proxy(args.props)
    found: list[str] = []
    for policy in billing_policies.POLICIES:
        policy.validate(args, lambda message, urn=None: found.append(message))
    assert any("not sensitive on preview" in v for v in found), found


def test_live_values_never_reach_development_and_exposed_ones_are_sensitive(project: Project) -> None:
    live = run(project, "live")
    variable = by_type(live, VARIABLE)
    found = violations("live", variable, props={"targets": ["production", "development"]})
    assert any("a live stack writes to the development target" in v for v in found)
    found = violations("live", variable, props={"sensitive": False})
    assert found == [f"hosting-secrets-scoped: {variable.inputs['key']}: not sensitive on production; a "
                     "secret there must be sensitive so no one can read it back from Vercel"]
    test = run(project, "test")
    development = next(r for r in test.of_type(VARIABLE)
                       if r.inputs["targets"] == ["development"])
    assert violations("test", development) == []
    leaked = violations("test", development, props={"value": "rk_" + "live_" + "x" * 24})
    assert any("a live-mode key is sent to development" in v for v in leaked)


def test_webhooks_are_https_with_listed_events(project: Project) -> None:
    webhook = by_type(run(project, "test"), billing_policies.WEBHOOK)
    found = violations("test", webhook, props={"url": "http://app.example.com/hook", "enabledEvents": ["*"]})
    assert any("is not https" in v for v in found)
    assert any("subscribes to every event" in v for v in found)


def test_live_stripe_resources_are_protected(project: Project) -> None:
    product = by_type(run(project, "live"), "stripe:index/product:Product")
    assert product.protect is True
    found = violations("live", product, protect=False)
    assert found == [f"live-stripe-protected: stripe:index/product:Product {product.name} is not protected on a live "
                     "stack; a removed line or `pulumi destroy` would delete live billing objects"]
    test_product = by_type(run(project, "test"), "stripe:index/product:Product")
    assert violations("test", test_product, protect=False) == []


def test_plan_metadata_is_lowercase_and_names_a_catalog_plan(project: Project) -> None:
    price = by_type(run(project, "test"), "stripe:index/price:Price")
    assert any("is not lowercase; the app matches 'pro'" in v
               for v in violations("test", price, props={"metadata": {"plan": "Pro"}}))
    assert any("names no catalog plan" in v
               for v in violations("test", price, props={"metadata": {"plan": "gold"}}))
    assert any("no `plan` metadata" in v for v in violations("test", price, props={"metadata": {}}))


def test_the_pack_loads_in_its_own_virtualenv_without_the_program_dependencies() -> None:
    # policies/requirements.txt has pulumi-policy and PyYAML only; the hosts' rules must load there.
    blocked = ("pydantic", "pulumiverse_vercel", "pulumi_stripe", "cloudflare", "httpx", "stripe")
    code = (f"import sys\nfor name in {blocked!r}: sys.modules[name] = None\n"
            "sys.path.insert(0, 'policies')\nimport billing_policies\nprint(len(billing_policies.POLICIES))")
    import subprocess
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(len(billing_policies.POLICIES))


def test_entitlements_pass_and_feature_keys_are_lowercase(project: Project) -> None:
    from tests.support.catalogs import ENTITLED

    catalog = {"catalog": str(project.catalog(ENTITLED))}
    plan = run(project, "live")
    features = plan.of_type(billing_policies.FEATURE)
    attached = plan.of_type(billing_policies.PRODUCT_FEATURE)
    assert len(features) == 3 and len(attached) == 5
    assert all(violations("live", reg, config=catalog) == [] for reg in [*features, *attached])
    found = violations("live", features[0], config=catalog, props={"lookupKey": "Premium_Reports", "name": ""})
    assert any("feature lookup key 'Premium_Reports' is not lowercase" in v for v in found)
    assert any("no name; Pulumi would invent one" in v for v in found)


def test_each_products_features_are_the_catalogs(project: Project) -> None:
    from tests.support.catalogs import ENTITLED

    project.catalog(ENTITLED)
    plan = run(project, "test")
    sso = next(r for r in plan.of_type(billing_policies.PRODUCT_FEATURE) if r.name == "enterprise-feature-sso")
    # The same attachment against a catalog where enterprise no longer lists sso.
    narrowed = {"catalog": str(project.catalog(ENTITLED.replace(
        "entitlements: [premium_reports, api_access, sso]", "entitlements: [premium_reports, api_access]")))}
    found = violations("test", sso, config=narrowed)
    assert found == ["product-features-from-catalog: enterprise-feature-sso: attaches a feature the catalog does "
                     "not list for plan 'enterprise' (api_access, premium_reports); Stripe would entitle its "
                     "subscribers to it"]
