"""`verify stripe` against a Stripe-shaped API on 127.0.0.1, through stripe-python."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from infra.clients.stripe_api import MISSING_ID, WRITE_PROBES, Account
from infra.probes import stripe as verify_stripe
from tests.servers.stripe_api_server import StripeServer
from tests.servers.stripe_keys import APP_PERMISSIONS
from tests.support.deployed_stripe import World, fails
from tests.support.project import Project, key, run_cli
from tests.support.repository import CATALOG


@pytest.fixture
def world(project: Project) -> World:
    return World(project)


@pytest.fixture
def server(world: World) -> Iterator[StripeServer]:
    with StripeServer(world.account) as running:
        yield running


def test_a_correct_deployment_passes_every_check_and_only_reads(world: World, server: StripeServer) -> None:
    found = world.verify(server)
    assert fails(found) == {}
    assert {c.status for c in found.values()} == {"pass"}
    for name in ("webhook endpoint", "one endpoint per URL", "webhook events", "product pro",
                 "product enterprise", "price pro_monthly", "price pro_yearly", "price enterprise_monthly",
                 "portal configuration", "read key mode", "read key livemode", "app key mode",
                 "app key livemode", "app key reads Products", "app key is restricted"):
        assert found[name].status == "pass", name
    assert "rak_balance_read" in found["app key is restricted"].meaning
    # Writes are probed on objects that cannot exist, and only for the app key's granted resources.
    posts = [path for method, path in world.account.requests if method == "POST"]
    assert {method for method, _ in world.account.requests} == {"GET", "POST"}
    assert all(MISSING_ID in path for path in posts)
    assert sorted(posts) == sorted(WRITE_PROBES[r] for r in world.deployment.catalog.keys.app.granted())
    for resource in ("Checkout Sessions", "Customers", "Subscriptions", "Customer portal"):
        assert found[f"app key writes {resource}"].status == "pass", resource
    for resource in ("Products", "Prices"):
        assert found[f"app key cannot write {resource}"].status == "pass", resource


def test_pagination_finds_objects_past_the_first_pages(world: World, server: StripeServer) -> None:
    for n in range(230):  # newer than ours, so ours sit on the third page
        world.account.product(f"Other {n}", {"plan": f"legacy{n}"})
    found = world.verify(server)
    assert fails(found) == {}
    assert world.account.requests.count(("GET", "/v1/products")) >= 3


def test_metadata_in_the_wrong_case_fails(world: World, server: StripeServer) -> None:
    world.made["pro"]["metadata"]["plan"] = "Pro"
    found = fails(world.verify(server))
    assert "plan='Pro'; the app matches 'pro'" in found["product pro"]
    assert "product metadata plan='Pro'" in found["price pro_monthly"]


def test_a_missing_or_different_price_fails(world: World, server: StripeServer) -> None:
    world.made["pro_yearly"]["lookup_key"] = None
    world.made["pro_monthly"]["unit_amount"] = 1900
    found = fails(world.verify(server))
    assert "no price has lookup key 'pro_yearly'" in found["price pro_yearly"]
    assert "charges 1900 USD" in found["price pro_monthly"] and "catalog says 2900 USD" in found["price pro_monthly"]


def test_an_archived_price_left_active_fails(project: Project) -> None:
    project.catalog(CATALOG.replace('yearly:  {amount: "290.00", currency: usd, interval: year}',
                                    'yearly:  {amount: "290.00", currency: usd, interval: year, archived: true}'))
    world = World(project)
    world.made["pro_yearly"]["active"] = True
    with StripeServer(world.account) as server:
        found = fails(world.verify(server))
    assert "still active though the catalog archives it" in found["price pro_yearly"]


def test_duplicate_disabled_and_drifted_endpoints_fail(world: World, server: StripeServer) -> None:
    url = world.made["webhook"]["url"]
    world.account.webhook_endpoint(url, ["*"])
    found = fails(world.verify(server))
    assert "2 enabled endpoints" in found["one endpoint per URL"] and "twice" in found["one endpoint per URL"]
    world.account.lists["/v1/webhook_endpoints"].pop(0)
    world.made["webhook"]["enabled_events"] = ["checkout.session.completed", "invoice.paid"]
    found = fails(world.verify(server))
    assert "missing customer.subscription.created" in found["webhook events"]
    assert "not in the catalog invoice.paid" in found["webhook events"]
    world.made["webhook"]["status"] = "disabled"
    assert "is disabled" in fails(world.verify(server))["webhook endpoint"]
    world.made["webhook"]["url"] = "https://old.example.com/webhook/stripe"
    assert "no endpoint for https://staging.shop.test/webhook/stripe" in fails(world.verify(server))["webhook endpoint"]


def test_an_inactive_portal_fails(world: World, server: StripeServer) -> None:
    world.made["portal"]["active"] = False
    assert "is inactive" in fails(world.verify(server))["portal configuration"]


def test_a_key_of_the_other_mode_fails_by_prefix_and_by_livemode(world: World, server: StripeServer) -> None:
    for objects in world.account.lists.values():
        for obj in objects:
            obj["livemode"] = True
    found = fails(world.verify(server))
    assert "livemode=[True] for a test stack" in found["read key livemode"]
    live_key = key("rk", "live", "Read")
    world.account.keys[live_key] = None
    checks = verify_stripe.run(world.deployment, Account(live_key, server.base), live_key)
    assert "is rk_live_..., not a test-mode key" in fails({c.name: c for c in checks})["read key mode"]


def test_a_full_secret_app_key_fails_on_live_and_warns_on_test(project: Project) -> None:
    for mode, status in (("live", "fail"), ("test", "warn")):
        world = World(project, mode)
        world.account.keys[world.app_key] = None  # a full sk_ key: every call succeeds
        with StripeServer(world.account) as server:
            found = world.verify(server)
        restricted = found["app key is restricted"]
        assert restricted.status == status and "this is a full secret key" in restricted.meaning, mode
        assert "Balance" in restricted.meaning
        # Its writes are allowed everywhere; the Read-only rows are not reported twice.
        assert found["app key writes Customers"].status == "pass"
        assert "app key cannot write Prices" not in found
        assert [c for c in found.values() if c.status == "fail"] == ([restricted] if mode == "live" else [])


def test_write_permissions_are_checked_both_ways_without_writing(world: World, server: StripeServer) -> None:
    names = world.account.keys[world.app_key]
    assert names is not None
    world.account.keys[world.app_key] = names - {"rak_subscription_write"} | {"rak_plan_write"}
    found = world.verify(server)
    assert fails(found) == {
        "app key writes Subscriptions": "refused with 403 (Stripe asks for rak_subscription_write "
                                        "(Subscriptions: Write)): the app will fail where it writes "
                                        "Subscriptions",
        "app key cannot write Prices": "the key may write Prices, which its manifest leaves at Read: "
                                       "over-privileged",
    }
    assert found["app key reads Subscriptions"].status == "pass"  # Read still holds
    assert "set Subscriptions to Write" in found["app key writes Subscriptions"].fix
    assert all(o.get("id", "").find(MISSING_ID) < 0 for objs in world.account.lists.values() for o in objs)


def test_a_write_probe_that_is_not_stripes_answer_is_not_judged_as_allowed(
    world: World, server: StripeServer,
) -> None:
    world.account.failures[WRITE_PROBES["Customers"]] = 404  # "Unrecognized request URL": a wrong API base
    found = world.verify(server)
    assert fails(found) == {"app key writes Customers": "could not be checked: not found (404): Unrecognized "
                                                        f"request URL (POST: {WRITE_PROBES['Customers']})."}


def test_an_over_privileged_app_key_names_the_extra_resources(world: World, server: StripeServer) -> None:
    world.account.keys[world.app_key] = APP_PERMISSIONS | {"rak_payout_read", "rak_charge_read"}
    found = fails(world.verify(server))
    assert "can read Charges, Payouts, which its manifest leaves at None" in found["app key is restricted"]


def test_a_missing_permission_is_reported_with_stripes_name_for_it(world: World, server: StripeServer) -> None:
    world.account.keys[world.app_key] = APP_PERMISSIONS - {"rak_plan_read"}
    found = world.verify(server)
    assert found["app key reads Prices"].status == "fail"
    assert "(Stripe asks for rak_plan_read (Prices: Read))" in found["app key reads Prices"].meaning
    assert found["app key reads Products"].status == "pass"


def test_a_failed_read_fails_its_own_checks_and_the_others_still_run(
    world: World, server: StripeServer,
) -> None:
    world.account.failures["/v1/prices"] = 500
    found = world.verify(server)
    assert fails(found) == {
        "products and prices": "could not read products and prices: server error (500): An unknown error "
                               "occurred while processing your request.",
        "app key reads Prices": "could not be checked: server error (500): An unknown error occurred while "
                                "processing your request.",
    }
    assert "run it again later" in found["products and prices"].fix
    for name in ("webhook endpoint", "webhook events", "portal configuration", "read key livemode",
                 "app key reads Products", "app key is restricted"):
        assert found[name].status == "pass", name


def test_a_404_or_5xx_is_not_a_missing_permission_and_leaves_restriction_unproven(
    world: World, server: StripeServer,
) -> None:
    world.account.failures.update({"/v1/checkout/sessions": 503, "/v1/balance": 404})
    found = world.verify(server)
    sessions = found["app key reads Checkout Sessions"]
    assert sessions.status == "fail" and sessions.meaning.startswith("could not be checked: server error (503)")
    assert "rak_" not in sessions.meaning + sessions.fix and "set Checkout Sessions to" not in sessions.fix
    restricted = found["app key is restricted"]
    assert restricted.status == "fail"
    assert restricted.meaning.startswith("restriction is unproven: 17 of 18 calls outside the manifest were "
                                         "refused with Stripe's permission error; 1 could not be judged "
                                         "(Balance: not found (404)")
    assert "a 404 is not a missing permission" in restricted.fix


def test_every_call_outside_the_manifest_succeeded_is_said_only_when_true(
    world: World, server: StripeServer,
) -> None:
    world.account.keys[world.app_key] = None  # a full secret key
    world.account.failures["/v1/payouts"] = 500
    restricted = world.verify(server)["app key is restricted"]
    assert restricted.status == "fail" and "every call" not in restricted.meaning
    assert "over-privileged; 1 could not be judged (Payouts: server error (500)" in restricted.meaning
    world.account.failures.clear()
    assert "every call outside the manifest succeeded" in world.verify(server)["app key is restricted"].meaning


def test_an_app_key_stripe_refuses_is_one_fail_not_seventeen(world: World, server: StripeServer) -> None:
    del world.account.keys[world.app_key]
    found = fails(world.verify(server))
    app = {name: meaning for name, meaning in found.items() if name.startswith("app key")}
    assert list(app) == ["app key reads Checkout Sessions"]
    assert app["app key reads Checkout Sessions"].startswith("could not be checked: the credential was "
                                                             "refused (401): Invalid API Key provided: [redacted]")
    assert world.app_key[-4:] not in str(found)


def test_cli_verify_stripe_reads_keys_from_env_and_config(
    world: World, server: StripeServer, project: Project, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STRIPE_API_BASE", server.base)
    monkeypatch.setenv("STRIPE_API_KEY", world.read_key)
    monkeypatch.delenv("STRIPE_APP_KEY", raising=False)
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"billing:appStripeKey": world.app_key}))
    project.stack("test", "config:\n  billing:mode: test\n  billing:domain: staging.shop.test\n"
                          "  billing:vercelProject: prj_Test123\n")
    code, out, err = run_cli("verify", "stripe", "--stack", "test", "--project", str(project.root))
    assert code == 0, out + err
    assert "PASS app key is restricted" in out and "0 failed" in out
    assert "probing: app key: read Balance (outside the manifest)" in err
    assert world.read_key not in out + err and world.app_key not in out + err
    world.account.keys[world.app_key] = APP_PERMISSIONS | {"rak_payout_read"}
    code, out, _ = run_cli("verify", "stripe", "--stack", "test", "--project", str(project.root), "--json")
    data = json.loads(out)
    assert code == 1 and data["ok"] is False
    assert any(c["name"] == "app key is restricted" and c["status"] == "fail" for c in data["checks"])


def test_cli_without_a_read_key_says_which_variable_to_export(
    project: Project, monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("STRIPE_API_KEY", "PULUMI_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")  # no pulumi CLI to ask
    project.stack("test", "config:\n  billing:mode: test\n  billing:domain: staging.shop.test\n"
                          "  billing:vercelProject: prj_Test123\n")
    code, out, err = run_cli("verify", "stripe", "--stack", "test", "--project", str(project.root))
    assert code == 2 and out == ""
    assert "stripe:apiKey: is needed and could not be read; export STRIPE_API_KEY" in err


def test_an_upgrade_runs_two_endpoints_on_purpose_and_a_taken_over_key_is_checked_once(project: Project) -> None:
    catalog = CATALOG.replace('api_version: "2026-10-28.endive"',
                              'api_version: "2026-10-28.endive"\n  next_api_version: "2025-03-31.basil"')
    catalog = catalog.replace('monthly: {amount: "29.00", currency: usd, interval: month}',
                              'monthly: {amount: "29.00", currency: usd, interval: month, archived: true}\n'
                              '      monthly_v2: {amount: "39.00", currency: usd, interval: month, '
                              "lookup_key: pro_monthly}", 1)
    project.catalog(catalog)
    world = World(project)
    endpoint = world.made["webhook"]
    endpoint["api_version"] = "2026-10-28.endive"
    twin = world.account.webhook_endpoint(endpoint["url"], list(endpoint["enabled_events"]),
                                          api_version="2025-03-31.basil")
    # What `up` leaves: the archived price gave its lookup key up to monthly_v2.
    prices = world.account.lists["/v1/prices"]
    (old,) = [p for p in prices if p.get("lookup_key") == "pro_monthly" and p["unit_amount"] == 2900]
    old["lookup_key"] = None
    with StripeServer(world.account) as server:
        found = world.verify(server)
        assert fails(found) == {}
        assert "during the upgrade to 2025-03-31.basil" in found["one endpoint per URL"].meaning
        assert found["price pro_monthly"].meaning.endswith("active, 3900 USD (minor units) every month")
        twin["api_version"] = "2024-06-20"  # a stray endpoint is still a twin
        assert "2 enabled endpoints" in fails(world.verify(server))["one endpoint per URL"]


@pytest.mark.parametrize(("variable", "wrong", "said"), [
    ("STRIPE_API_KEY", key("rk", "live", "Read"), "the key is a live-mode key (rk_live_) but the stack is in "
                                                  "test mode"),
    ("STRIPE_API_KEY", key("pk", "test", "Read"), "a publishable key (pk_test_) cannot call Stripe's API"),
    ("STRIPE_APP_KEY", key("sk", "live", "App2"), "the key is a live-mode key (sk_live_)"),
    ("STRIPE_APP_KEY", "whsec_" + "w" * 32, "expected a Stripe restricted or secret"),
])
def test_cli_a_key_of_the_wrong_mode_or_kind_sends_nothing_and_exits_2(
    world: World, server: StripeServer, project: Project, monkeypatch: pytest.MonkeyPatch,
    variable: str, wrong: str, said: str,
) -> None:
    monkeypatch.setenv("STRIPE_API_BASE", server.base)
    monkeypatch.setenv("STRIPE_API_KEY", world.read_key)
    monkeypatch.setenv("STRIPE_APP_KEY", world.app_key)
    monkeypatch.delenv("PULUMI_CONFIG", raising=False)
    monkeypatch.setenv(variable, wrong)
    world.account.keys[wrong] = None  # Stripe would answer it: only the command's own refusal stops it
    for argv in (("verify", "stripe", "--stack", "test"), ("verify", "--stack", "test")):
        code, out, err = run_cli(*argv, "--project", str(project.root))
        assert code == 2 and out == "", err
        assert said in err
        assert "nothing was sent" in err and wrong not in err
        assert world.account.requests == []
