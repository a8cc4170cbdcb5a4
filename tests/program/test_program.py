"""The real Pulumi program, run whole under the SDK mock runtime for each stack."""

from __future__ import annotations

import pulumi
import pytest

from infra.commands.plan import offline
from infra.stripe.reference import webhook_event_types
from tests.support.mock_program import WEBHOOK, plain, run
from tests.support.project import DOMAINS, STACK_FILES, Project, key
from tests.support.repository import CATALOG

PRODUCT = "stripe:index/product:Product"
PRICE = "stripe:index/price:Price"
PORTAL = "stripe:index/portalConfiguration:PortalConfiguration"
COUPON = "stripe:index/coupon:Coupon"
PROMO = "stripe:index/promotionCode:PromotionCode"


@pytest.mark.parametrize("stack", ["test", "live"])
def test_products_prices_and_metadata(project: Project, stack: str) -> None:
    plan = run(project, stack)
    products = {r.name: plain(r.inputs) for r in plan.of_type(PRODUCT)}
    assert set(products) == {"pro", "enterprise"}  # free has no prices, so no product
    assert products["pro"]["metadata"] == {"plan": "pro"}
    assert products["pro"]["name"] == "Pro Plan"
    prices = {r.name: plain(r.inputs) for r in plan.of_type(PRICE)}
    assert set(prices) == {"pro-monthly", "pro-yearly", "enterprise-monthly"}
    yearly = prices["pro-yearly"]
    assert yearly["unitAmount"] == 29000 and yearly["currency"] == "usd"
    assert yearly["recurring"] == {"interval": "year", "intervalCount": 1}
    # A price moves its lookup key only when it takes one over from an archived price.
    assert yearly["lookupKey"] == "pro_yearly" and "transferLookupKey" not in yearly
    assert yearly["metadata"] == {"plan": "pro"} and yearly["active"] is True
    assert yearly["product"] == "<pro.id>"  # wired to the product's ID, not a copied string
    assert plan.outputs["priceIds"] == {
        "pro_monthly": "<pro-monthly.id>", "pro_yearly": "<pro-yearly.id>",
        "enterprise_monthly": "<enterprise-monthly.id>",
    }
    assert plan.outputs["planLimits"]["free"] == {"requests": 5}
    assert plan.outputs["planLimits"]["enterprise"] == {"requests": "unlimited"}


def test_archived_price_stays_declared_inactive(project: Project) -> None:
    catalog = (project.root / "stacks" / "catalog.yaml").read_text()
    project.catalog(catalog.replace(
        'yearly:  {amount: "290.00", currency: usd, interval: year}',
        'yearly:  {amount: "290.00", currency: usd, interval: year, archived: true}',
    ))
    plan = run(project, "test")
    assert plain(plan.named(PRICE, "pro-yearly").inputs)["active"] is False
    portal = plain(plan.named(PORTAL, "portal").inputs)
    products = portal["features"]["subscriptionUpdates"][0]["products"]
    assert products[0] == {"product": "<pro.id>", "prices": ["<pro-monthly.id>"]}


@pytest.mark.parametrize("stack", ["test", "live"])
def test_webhook_endpoint(project: Project, stack: str) -> None:
    domain = DOMAINS[stack]
    plan = run(project, stack)
    (endpoint,) = plan.of_type(WEBHOOK)
    inputs = plain(endpoint.inputs)
    assert inputs["url"] == f"https://{domain}/webhook/stripe"
    assert inputs["enabledEvents"] == [
        "checkout.session.completed", "customer.subscription.created",
        "customer.subscription.updated", "customer.subscription.deleted",
    ]
    assert set(inputs["enabledEvents"]) <= webhook_event_types()
    assert inputs["apiVersion"] == "2026-10-28.endive"
    assert plan.outputs["webhookUrl"] == inputs["url"]
    # The signing secret the provider returns stays a secret all the way to the export.
    assert plan.outputs["webhookSigningSecret"] == offline.SECRET


def test_portal_is_derived_from_the_catalog(project: Project) -> None:
    plan = run(project, "test")
    portal = plain(plan.named(PORTAL, "portal").inputs)
    assert portal["defaultReturnUrl"] == f"https://{DOMAINS['test']}/dashboard"
    assert portal["businessProfile"] == {"headline": "Manage your subscription"}
    update = portal["features"]["subscriptionUpdates"][0]
    assert update["products"] == [
        {"product": "<pro.id>", "prices": ["<pro-monthly.id>", "<pro-yearly.id>"]},
        {"product": "<enterprise.id>", "prices": ["<enterprise-monthly.id>"]},
    ]
    assert portal["features"]["subscriptionCancel"]["mode"] == "at_period_end"
    assert portal["features"]["invoiceHistory"] == {"enabled": True}


def test_coupons_are_per_stack(project: Project) -> None:
    live = run(project, "live")
    (coupon,) = live.of_type(COUPON)
    assert coupon.name == "smoke_test"
    inputs = plain(coupon.inputs)
    assert inputs["percentOff"] == 100 and inputs["maxRedemptions"] == 1 and inputs["duration"] == "once"
    (promo,) = live.of_type(PROMO)
    assert plain(promo.inputs) == {
        "code": "SMOKETEST", "coupon": "<smoke_test.id>", "active": True, "maxRedemptions": 1,
        "metadata": {"coupon": "smoke_test"},
        # Sent even when off: Stripe always returns it and the block is ForceNew.
        "restrictions": {"firstTimeTransaction": False},
    }
    test = run(project, "test")
    assert [c.name for c in test.of_type(COUPON)] == ["launch"]
    assert plain(test.named(COUPON, "launch").inputs)["appliesTos"] == ["<pro.id>"]


def test_live_resources_are_protected_and_test_ones_are_not(project: Project) -> None:
    live = run(project, "live")
    stripe_resources = [r for r in live.resources if r.type.startswith("stripe:")]
    assert len(stripe_resources) == 9  # 2 products, 3 prices, webhook, portal, coupon, code
    assert all(r.protect for r in stripe_resources)
    assert not any(r.protect for r in run(project, "test").resources)


def test_children_are_parented_to_the_component(project: Project) -> None:
    plan = run(project, "test")
    assert len(plan.of_type("billing:stripe:Billing")) == 1
    for resource in plan.resources:
        if resource.type.startswith(("stripe:", "pulumi:providers:stripe")):
            assert resource.parent.endswith("billing:stripe:Billing::billing"), resource
        if resource.type.startswith(("vercel:", "pulumi:providers:vercel")):
            assert resource.parent.endswith("billing:vercel:Environment::hosting"), resource


def test_deployer_key_reaches_the_provider_as_a_secret(project: Project) -> None:
    secret = key("rk", "test")
    plan = run(project, "test", api_key=secret)
    (provider,) = plan.of_type("pulumi:providers:stripe")
    assert plain(provider.inputs) == {"apiKey": offline.SECRET}
    raw = provider.inputs["apiKey"]
    assert raw["value"] == secret  # the real value, wrapped as a secret on the wire


def test_dashboard_links_follow_the_mode(project: Project) -> None:
    test_links = run(project, "test").outputs["dashboardLinks"]
    live_links = run(project, "live").outputs["dashboardLinks"]
    assert test_links["product:pro"] == "https://dashboard.stripe.com/test/products/<pro.id>"
    assert live_links["product:pro"] == "https://dashboard.stripe.com/products/<pro.id>"
    assert live_links["webhook"] == "https://dashboard.stripe.com/webhooks/<webhook-2026-10-28.endive.id>"


def test_mode_mismatch_stops_the_program_before_any_resource(project: Project) -> None:
    secret = key("sk", "test")
    with pytest.raises(pulumi.RunError) as caught:
        run(project, "live", api_key=secret)
    message = str(caught.value)
    assert "stripe:apiKey: the key is a test-mode key (sk_test_) but the stack is in live mode" in message
    assert secret not in message


def test_invalid_catalog_stops_the_program_with_every_problem(project: Project) -> None:
    catalog = (project.root / "stacks" / "catalog.yaml").read_text()
    project.catalog(catalog.replace("  pro:", "  Pro:").replace("checkout.session.completed", "checkout.done"))
    with pytest.raises(pulumi.RunError) as caught:
        run(project, "test")
    message = str(caught.value)
    assert "2 problems found; nothing was applied" in message
    assert "plans.Pro: 'Pro' is not a lowercase slug" in message and "use 'pro'" in message
    assert "'checkout.done' is not a Stripe event type" in message
    # The portal still names `pro`, what the bad key is told to become: that key's problem, not a second.
    assert "portal.plan_switching" not in message


def test_a_coupons_products_are_sent_in_one_order_and_stripes_reordering_is_ignored(project: Project) -> None:
    stack = STACK_FILES["test"].replace("applies_to: [pro]", "applies_to: [pro, enterprise]")
    project.stack("test", stack)
    first = run(project, "test").named(COUPON, "launch")
    project.stack("test", stack.replace("[pro, enterprise]", "[enterprise, pro]"))
    second = run(project, "test").named(COUPON, "launch")
    assert plain(first.inputs)["appliesTos"] == plain(second.inputs)["appliesTos"] == sorted(
        ["<pro.id>", "<enterprise.id>"])
    # ForceNew, and read back in Stripe's order: the engine must not replace the coupon for it.
    assert first.ignore_changes == ("appliesTos",)


def test_only_a_price_taking_a_key_over_sends_transfer_lookup_key(project: Project) -> None:
    project.catalog(CATALOG.replace(
        '      yearly:  {amount: "290.00", currency: usd, interval: year}\n',
        '      yearly:  {amount: "290.00", currency: usd, interval: year, archived: true}\n'
        '      yearly_v2: {amount: "300.00", currency: usd, interval: year, lookup_key: pro_yearly}\n'))
    prices = {r.name: r for r in run(project, "test").of_type(PRICE)}
    assert plain(prices["pro-yearly_v2"].inputs)["transferLookupKey"] is True
    assert prices["pro-yearly_v2"].ignore_changes == ()
    # The rest never hold it in state once imported (Read does not set it), so its absence is no change.
    others = [r for name, r in prices.items() if name != "pro-yearly_v2"]
    assert others and all(r.ignore_changes == ("transferLookupKey",) for r in others)
    assert all("transferLookupKey" not in r.inputs for r in others)
