"""`pull` against a Stripe-shaped API on 127.0.0.1: pull, validate, offline plan, round trip."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from infra.catalog import adoption
from infra.catalog.stack_config import from_stack
from infra.commands.plan import offline
from infra.core import exits
from tests.servers.stripe_api_server import StripeServer
from tests.support.hand_made_account import STACK, URL, WHSEC, HandMade, pulled
from tests.support.project import Project, key, run_cli


@pytest.fixture
def hand_made() -> HandMade:
    return HandMade()


@pytest.fixture
def server(hand_made: HandMade, monkeypatch: pytest.MonkeyPatch) -> Iterator[StripeServer]:
    with StripeServer(hand_made.account) as running:
        monkeypatch.setenv("STRIPE_API_BASE", running.base)
        monkeypatch.setenv("STRIPE_API_KEY", hand_made.key)
        # The adopted endpoint's signing secret, given once (README, Adopting, step 5).
        monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"billing:webhookSecret": WHSEC}))
        yield running


def test_pull_pages_through_everything_and_only_reads(
    project: Project, hand_made: HandMade, server: StripeServer,
) -> None:
    code, out, err, _ = pulled(project)
    assert code == 0, out + err
    assert "read 263 products, 5 prices, 2 webhook endpoints, 1 portal configurations" in out
    assert hand_made.account.requests.count(("GET", "/v1/products")) == 3  # 100 + 100 + 63
    assert {method for method, _ in hand_made.account.requests} == {"GET"}
    assert "reading prices (263 products read)..." in err
    assert hand_made.key not in out + err


def test_pull_reports_what_does_not_fit_and_what_changes_in_place(
    project: Project, hand_made: HandMade, server: StripeServer,
) -> None:
    code, out, _, _ = pulled(project)
    assert code == 0
    h = hand_made
    expected = [
        f"{h.pro_copy['id']}: a second active product for plan 'pro' (adopted: {h.pro['id']})",
        f"{h.twin['id']}: a second enabled endpoint for {URL}: every event is delivered twice",
        f"{h.team['id']}: product metadata key 'Plan' is in the wrong case; the first up sets plan='team' "
        "and clears 'Plan'",
        f"{h.team_monthly['id']}: price metadata plan='Team' becomes 'team'",
        f"{h.pro_yearly['id']}: no lookup key; proposed 'pro_yearly' (adding one is an in-place update",
        f"{h.pro_monthly['id']}: the default price of {h.pro['id']}; Stripe cannot archive a default price",
        "price_setupfee: a one-time price; the catalog holds licensed recurring per-unit prices",
        f"{h.pro_yearly['id']}: price has no `plan` metadata; the first up sets plan='pro'",
        "Stripe never returns an existing endpoint's signing secret",
    ]
    for line in expected:
        assert line in out, line
    assert "validate: ok" in out


def test_round_trip_pull_validate_plan(
    project: Project, hand_made: HandMade, server: StripeServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out, err, directory = pulled(project)
    assert code == 0, out + err
    catalog = yaml.safe_load((directory / "catalog.yaml").read_text())
    assert list(catalog["plans"]) == ["pro", "team"]
    assert catalog["plans"]["pro"]["prices"]["monthly"] == {
        "amount": "29.00", "currency": "usd", "interval": "month", "nickname": "Pro monthly"}
    assert catalog["plans"]["team"]["prices"]["monthly"]["lookup_key"] == "team-monthly-v2"
    imports = json.loads((directory / "import.json").read_text())["resources"]
    assert imports[0] == {"type": "billing:stripe:Billing", "name": "billing", "component": True}

    # The user's next steps: point the stack at the files, give the endpoint's secret once.
    project.stack("test", STACK + "  billing:catalog: adopt/test/catalog.yaml\n"
                                  "  billing:adopt: adopt/test/import.json\n")
    code, out, err = run_cli("validate", "--stack", "test", "--project", str(project.root))
    assert code == 0, err

    config = from_stack(project.root, "test")
    plan = offline.run_program(project.root / "__main__.py", "test", config.values, config.secret_keys)
    stripe_types = set(adoption.ID_PREFIXES)
    planned = {(r.type, r.name): r for r in plan.resources if r.type in stripe_types}
    adopted = {(e["type"], e["name"]): e["id"] for e in imports[1:]}
    assert set(planned) == set(adopted)
    assert all(planned[name].import_id == id_ for name, id_ in adopted.items())
    assert all(planned[name].parent.endswith("billing:stripe:Billing::billing") for name in adopted)

    objects: dict[str, dict[str, Any]] = {o["id"]: o for objs in hand_made.account.lists.values() for o in objs}
    for (type_, name), id_ in adopted.items():
        inputs, obj = planned[(type_, name)].inputs, objects[id_]
        if type_ == adoption.PRODUCT:
            assert inputs["name"] == obj["name"] and inputs["metadata"]["plan"] == name
            assert inputs.get("description") == obj["description"]
        elif type_ == adoption.PRICE:
            assert inputs["product"] == obj["product"]  # the adopted product's real ID
            assert (inputs["unitAmount"], inputs["currency"]) == (obj["unit_amount"], obj["currency"])
            assert inputs["recurring"]["interval"] == obj["recurring"]["interval"]
            assert inputs["lookupKey"] == (obj["lookup_key"] or name.replace("-", "_"))
            assert inputs.get("nickname") == obj["nickname"] and inputs["active"] is True
        elif type_ == adoption.WEBHOOK:
            assert inputs["url"] == obj["url"] and inputs["enabledEvents"] == obj["enabled_events"]
            assert inputs["apiVersion"] == obj["api_version"] and inputs["description"] == obj["description"]
        else:
            assert inputs["defaultReturnUrl"] == obj["default_return_url"]
            switch = inputs["features"]["subscriptionUpdates"][0]["products"]
            assert [p["product"] for p in switch] == [hand_made.pro["id"], hand_made.team["id"]]
    # The webhook secret the app gets is the one given, not the empty one import leaves.
    assert plan.outputs["webhookSigningSecret"] == offline.SECRET
    code, out, _ = run_cli("plan", "--stack", "test", "--project", str(project.root))
    assert f"= stripe:index/product:Product  pro  (adopts {hand_made.pro['id']})" in out


def test_an_adopted_endpoint_needs_its_secret_or_a_choice(
    project: Project, hand_made: HandMade, server: StripeServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PULUMI_CONFIG")  # no signing secret given yet
    code, out, pull_err, _ = pulled(project)
    # pull says what validate will say once billing:adopt points at its files: not "ok".
    assert code == exits.FINDINGS and "validate: ok" not in out
    assert "validate: not yet ok" in out
    project.stack("test", STACK + "  billing:catalog: adopt/test/catalog.yaml\n"
                                  "  billing:adopt: adopt/test/import.json\n")
    code, _, err = run_cli("validate", "--stack", "test", "--project", str(project.root))
    assert code == 2
    assert "billing:webhookSecret: is not set, and adopt/test/import.json adopts the existing webhook" in err
    assert "or remove the webhook entry from adopt/test/import.json" in err
    assert "billing:webhookSecret: is not set, and adopt/test/import.json adopts" in pull_err


def test_pull_refuses_a_key_of_the_other_mode_and_a_key_that_cannot_read(
    project: Project, hand_made: HandMade, server: StripeServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    live = key("rk", "live", "Pull")
    monkeypatch.setenv("STRIPE_API_KEY", live)
    code, _, err, directory = pulled(project)
    assert code == 2 and "the key is a live-mode key (rk_live_) but the stack is in test mode" in err
    assert "nothing was sent" in err and hand_made.account.requests == []
    assert not directory.exists() and live not in err
    publishable = key("pk", "test", "Pull")  # the right mode, the wrong kind: refused before any request
    monkeypatch.setenv("STRIPE_API_KEY", publishable)
    code, _, err, directory = pulled(project)
    assert code == 2 and "a publishable key (pk_test_) cannot call Stripe's API" in err
    assert hand_made.account.requests == [] and not directory.exists() and publishable not in err
    narrow = key("rk", "test", "Narw")
    hand_made.account.keys[narrow] = frozenset({"rak_product_read"})
    monkeypatch.setenv("STRIPE_API_KEY", narrow)
    code, _, err, directory = pulled(project)
    assert code == 2 and "the key lacks rak_plan_read (Prices: Read)" in err
    assert not directory.exists() and narrow[-4:] not in err


def test_an_import_file_that_names_what_the_program_does_not_declare_is_refused(
    project: Project, hand_made: HandMade, server: StripeServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, _, _, directory = pulled(project)
    assert code == 0
    path = directory / "import.json"
    data = json.loads(path.read_text())
    data["resources"][1]["name"] = "Pro"  # renamed by hand
    data["resources"][2]["id"] = "prod_x"  # a price given a product's ID
    path.write_text(json.dumps(data))
    project.stack("test", STACK + "  billing:catalog: adopt/test/catalog.yaml\n"
                                  "  billing:adopt: adopt/test/import.json\n")
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"billing:webhookSecret": "whsec_" + "b" * 32}))
    code, _, err = run_cli("validate", "--stack", "test", "--project", str(project.root))
    assert code == 2
    assert "resources[1].name: the program declares no stripe:index/product:Product named 'Pro'" in err
    assert "resources[2].id:" in err and "needs a Stripe ID starting with price_" in err


def test_an_interval_the_catalog_does_not_know_is_a_misfit_not_a_crash(
    project: Project, hand_made: HandMade, server: StripeServer,
) -> None:
    odd = hand_made.account.price(hand_made.pro, 7900, "quarter")  # an interval Stripe might add one day
    code, out, err, directory = pulled(project)
    assert code == exits.OK, out + err
    assert f"{odd['id']}: interval 'quarter', which the catalog does not know; the catalog holds" in out
    assert odd["id"] not in (directory / "import.json").read_text()


def test_an_object_without_an_id_or_of_the_wrong_type_refuses_the_pull(
    project: Project, hand_made: HandMade, server: StripeServer,
) -> None:
    del hand_made.pro["id"]
    code, out, err, directory = pulled(project)
    assert code == exits.REFUSED and out == ""
    assert "could not read the Stripe account; nothing was written: GET /v1/products: answer.data[" in err
    assert "].id is missing, expected a string" in err and "Traceback" not in err
    assert not directory.exists()
    hand_made.pro["id"], hand_made.pro_monthly["metadata"] = "prod_back", ["plan", "pro"]
    code, _, err, _ = pulled(project)
    assert code == exits.REFUSED and "].metadata is a list, expected an object of strings" in err


@pytest.mark.parametrize(("status", "said"), [(500, "server error (500)"), (404, "not found (404)"),
                                              (503, "server error (503)")])
def test_a_stripe_error_refuses_the_pull_with_its_reason_not_a_permission(
    project: Project, hand_made: HandMade, server: StripeServer, status: int, said: str,
) -> None:
    hand_made.account.failures["/v1/webhook_endpoints"] = status
    code, out, err, directory = pulled(project)
    assert code == exits.REFUSED and out == "" and not directory.exists()
    assert f"nothing was written: {said}" in err
    assert "lacks" not in err and "rak_" not in err


def test_an_endpoint_on_no_pinned_version_is_not_adopted_since_the_engine_would_refuse_it(
    project: Project, hand_made: HandMade, server: StripeServer,
) -> None:
    hand_made.webhook["api_version"] = None
    code, out, err, adopt = pulled(project)
    assert code == 0, err
    entries = json.loads((adopt / "import.json").read_text())["resources"]
    assert not [e for e in entries if e["type"] == "stripe:index/webhookEndpoint:WebhookEndpoint"]
    assert (f"{hand_made.webhook['id']}: no pinned API version Stripe's library knows (None), and Stripe cannot "
            "change an endpoint's version: not adopted (the engine refuses an import that would replace)") in out
    assert "redeploy the app, then delete this one" in out
    # Not adopted, so validate asks for no signing secret of it.
    assert "validate: ok" in out


@pytest.mark.parametrize("count", [0, -1, 37])
def test_an_interval_count_stripe_does_not_bill_by_is_a_misfit_never_read_as_one(
    project: Project, hand_made: HandMade, server: StripeServer, count: object,
) -> None:
    odd = hand_made.account.price(hand_made.pro, 7900, "month")
    odd["recurring"]["interval_count"] = count
    code, out, err, directory = pulled(project)
    assert code == exits.OK, out + err
    assert f"{odd['id']}: interval_count {count!r}, which Stripe does not bill by" in out
    assert odd["id"] not in (directory / "import.json").read_text()
