"""`verify payment` against a Stripe-shaped server that delivers signed events to a receiver on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from infra.catalog import load_deployment
from infra.commands.verify import payment as command
from infra.probes.payment import flows
from tests.servers.json_server import POLL_SECONDS, loopback_certificate
from tests.servers.local_server import LocalServer
from tests.servers.stripe_keys import APP_PERMISSIONS, grants
from tests.servers.stripe_payments_server import BillingAccount, BillingServer
from tests.servers.webhook_receiver import Receiver, crashes_on_unhandled_type, reference
from tests.support.deployed_stripe import deployed
from tests.support.project import DOMAINS, Project, key, run_cli, stack_config
from tests.support.pulumi_stand_in import Pulumi

# ~7 s, most of it waiting on deliveries and deadlines: started early, its waiting overlaps the
# other workers' computing instead of being the run's last seconds (tests/conftest.py).
pytestmark = pytest.mark.early

CHECK_PATH = "/billing/plan"


def rejecting(body: bytes, header: str | None, secret: str) -> int:
    return 400  # a handler holding the wrong secret refuses every real event


def too_slow(body: bytes, header: str | None, secret: str) -> int:
    time.sleep(0.5)  # over the server's delivery timeout: Stripe counts it as failed
    return reference(body, header, secret)


class App:
    """The user's app: a webhook handler that records plans, and the endpoint that reports them."""

    def __init__(self, receiver: Receiver, secret: str, records: bool = True) -> None:
        self.plans: dict[str, str] = {}
        app = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = receiver(body, self.headers.get("Stripe-Signature"), secret)
                if status == 200 and records:
                    app.record(json.loads(body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                customer = parse_qs(urlsplit(self.path).query).get("customer", [""])[0]
                data = json.dumps({"customer": customer, "plan": app.plans.get(customer, "free")}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = LocalServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(POLL_SECONDS,), daemon=True).start()

    def record(self, event: dict[str, object]) -> None:
        obj = event["data"]["object"]  # type: ignore[index]
        if event["type"] == "customer.subscription.created" and obj["status"] == "active":  # type: ignore[index]
            self.plans[obj["customer"]] = obj["items"]["data"][0]["price"]["metadata"]["plan"]  # type: ignore[index]
        elif event["type"] == "customer.subscription.deleted":
            self.plans.pop(obj["customer"], None)  # type: ignore[index]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Stack:
    def __init__(self, project: Project, mode: str) -> None:
        self.mode = mode
        project.stack(mode, f"config:\n  billing:mode: {mode}\n  billing:domain: {DOMAINS[mode]}\n"
                            "  billing:vercelProject: prj_Test123\n")
        self.project = project
        self.deployment = load_deployment(mode, project.root, stack_config(mode).get)
        self.account = BillingAccount(livemode=mode == "live")
        self.key = key("sk", mode, "Pay1")
        self.account.keys = {self.key: None}
        self.made = deployed(self.account, self.deployment)
        endpoint = self.made["webhook"]
        self.secret = "whsec_" + secrets.token_hex(16)
        self.account.endpoint_secrets[endpoint["id"]] = self.secret
        self.apps: list[App] = []

    def app(self, receiver: Receiver = reference, records: bool = True) -> App:
        app = App(receiver, self.secret, records)
        self.account.deliver_to[self.made["webhook"]["url"]] = app.base + "/webhook/stripe"
        self.apps.append(app)
        return app

    def verify(self, server: BillingServer, monkeypatch: pytest.MonkeyPatch, *flags: str) -> tuple[int, str, str]:
        monkeypatch.setenv("STRIPE_API_BASE", server.base)
        monkeypatch.setenv("STRIPE_API_KEY", self.key)
        return run_cli("verify", "payment", "--stack", self.mode, "--project", str(self.project.root),
                       "--wait", "0.6", *flags)

    def left_behind(self) -> list[str]:
        customers = [c["id"] for c in self.account.objects("/v1/customers")]
        live = [s["id"] for s in self.account.objects("/v1/subscriptions") if s["status"] != "canceled"]
        return customers + live


@pytest.fixture
def stack(project: Project) -> Iterator[Stack]:
    made = Stack(project, "test")
    yield made
    for app in made.apps:
        app.close()


@pytest.fixture
def server(stack: Stack) -> Iterator[BillingServer]:
    with BillingServer(stack.account) as running:
        yield running


def steps_of(out: str) -> dict[str, dict[str, object]]:
    return {c["name"]: c for c in json.loads(out)["checks"]}


def test_the_reference_receiver_passes_every_step_and_nothing_is_left(
    stack: Stack, server: BillingServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = stack.app()
    code, out, err = stack.verify(server, monkeypatch, "--check-url", app.base + CHECK_PATH, "--json")
    found = steps_of(out)
    assert code == 0, out + err
    assert list(found) == ["price", "customer", "subscription", "delivery of the subscription's events",
                           "the app reports the plan", "portal session", "cancellation",
                           "delivery of the cancellation", "cleanup"]
    assert {c["status"] for c in found.values()} == {"pass"}
    assert all(isinstance(c["seconds"], float) for c in found.values())
    assert "the app reports plan 'pro'" in str(found["the app reports the plan"]["meaning"])
    assert "billing.stripe.com" in str(found["portal session"]["meaning"])
    assert "test_" not in str(found["portal session"]["meaning"])  # the session URL logs in: origin only
    assert stack.left_behind() == []
    assert ("customer.subscription.created", 200) in stack.account.deliveries
    assert ("customer.subscription.deleted", 200) in stack.account.deliveries
    # Writes only where a step needs one.
    writes = [(m, re.sub(r"_[0-9a-f]{14}$", "_ID", p)) for m, p in stack.account.writes]
    assert writes == [("POST", "/v1/customers"), ("POST", "/v1/subscriptions"),
                      ("POST", "/v1/billing_portal/sessions"), ("DELETE", "/v1/subscriptions/sub_ID"),
                      ("DELETE", "/v1/customers/cus_ID")]
    assert "payment: delivery of the subscription's events: pass (" in err
    assert stack.key not in out + err and stack.secret not in out + err


@pytest.mark.parametrize(("receiver", "answered"), [(rejecting, 400), (crashes_on_unhandled_type, 500),
                                                      (too_slow, None)])
def test_a_broken_receiver_fails_the_delivery_step_and_the_run_still_cleans_up(
    stack: Stack, server: BillingServer, monkeypatch: pytest.MonkeyPatch, receiver: Receiver,
    answered: int | None,
) -> None:
    stack.app(receiver)
    started = time.monotonic()
    code, out, _ = stack.verify(server, monkeypatch, "--json")
    found = steps_of(out)
    assert code == 1
    assert list(found) == ["price", "customer", "subscription", "delivery of the subscription's events", "cleanup"]
    delivery = found["delivery of the subscription's events"]
    assert delivery["status"] == "fail"
    assert re.match(r"evt_\w+ \(customer\.subscription\.created\) was not acknowledged within 0\.6s",
                    str(delivery["meaning"]))
    assert "verify webhook" in str(delivery["fix"])
    assert ("customer.subscription.created", answered) in stack.account.deliveries  # what Stripe saw
    assert found["cleanup"]["status"] == "pass" and stack.left_behind() == []
    assert time.monotonic() - started < 4


def test_an_app_that_never_records_the_plan_fails_at_its_own_step(
    stack: Stack, server: BillingServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = stack.app(records=False)
    code, out, _ = stack.verify(server, monkeypatch, "--check-url", app.base + CHECK_PATH, "--json")
    found = steps_of(out)
    assert code == 1
    check = found["the app reports the plan"]
    assert check["status"] == "fail" and "never reported plan 'pro'" in str(check["meaning"])
    assert "last: HTTP 200 without 'pro'" in str(check["meaning"])
    assert "portal session" not in found and stack.left_behind() == []


def test_a_key_without_a_permission_gets_the_rak_names_and_cleanup_still_runs(
    stack: Stack, server: BillingServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack.app()
    stack.key = key("rk", "test", "Pay2")
    stack.account.keys = {stack.key: APP_PERMISSIONS}  # the app's manifest: no Events read
    code, out, _ = stack.verify(server, monkeypatch, "--json")
    found = steps_of(out)
    assert code == 1
    delivery = found["delivery of the subscription's events"]
    assert delivery["status"] == "fail" and "permission denied (403)" in str(delivery["meaning"])
    assert "rak_event_read (Events: Read)" in str(delivery["fix"])
    assert stack.key not in out and stack.left_behind() == []


def test_ctrl_c_mid_run_still_deletes_what_was_made(
    stack: Stack, server: BillingServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack.app()

    def interrupted(*args: object) -> str:
        assert [c["id"] for c in stack.account.objects("/v1/customers")]  # something to clean up
        raise KeyboardInterrupt

    monkeypatch.setattr(flows, "delivered", interrupted)
    code, out, _ = stack.verify(server, monkeypatch, "--json")
    found = steps_of(out)
    assert code == 1
    assert found["interrupted"]["status"] == "fail" and found["cleanup"]["status"] == "pass"
    assert stack.left_behind() == []


def test_bad_input_is_refused_before_anything_is_sent(
    stack: Stack, server: BillingServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack.key = key("sk", "live", "Pay3")
    code, _, err = stack.verify(server, monkeypatch, "--price", "nope", "--check-url", "http://app.example.com/x")
    assert code == 2
    assert "STRIPE_API_KEY: billing:appStripeKey: the key is a live-mode key (sk_live_) but the stack is in test" in err
    assert "--price: 'nope' is not a paid price" in err
    assert "--check-url:" in err and stack.key not in err
    assert stack.account.requests == []


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return loopback_certificate(tmp_path_factory.mktemp("tls"))


def live_run(project: Project, monkeypatch: pytest.MonkeyPatch, certificate: Path, *flags: str,
             pays: bool = True) -> tuple[Stack, list[str], int, dict[str, dict[str, object]], str]:
    """A live-mode run where a person pays (after a moment) for the Checkout Session whose URL is printed."""
    stack = Stack(project, "live")
    app = stack.app()
    shown: list[str] = []

    def person(text: str) -> None:
        shown.append(text)
        session = re.search(r"https://checkout\.stripe\.com/c/pay/(cs_live_\w+)", text)
        assert session is not None
        if pays:
            threading.Timer(0.2, stack.account.complete_checkout, [session.group(1)]).start()

    monkeypatch.setattr(command, "_show", person)
    monkeypatch.setattr(flows, "PAY_POLL_SECONDS", 0.05)
    try:
        # A live key goes only over https: the local server has a certificate the run trusts.
        monkeypatch.setenv("SSL_CERT_FILE", str(certificate))
        with BillingServer(stack.account).over_tls(certificate) as server:
            code, out, err = stack.verify(server, monkeypatch, *[f.replace("APP", app.base) for f in flags],
                                          "--json")
    finally:
        app.close()
    return stack, shown, code, steps_of(out), out + err


def test_live_mode_prints_the_checkout_url_and_continues_once_the_person_paid(
    project: Project, monkeypatch: pytest.MonkeyPatch, certificate: Path,
) -> None:
    stack, shown, code, found, output = live_run(project, monkeypatch, certificate, "--check-url", "APP" + CHECK_PATH)
    assert code == 0, output
    assert list(found) == ["price", "checkout session", "payment", "delivery of the subscription's events",
                           "the app reports the plan", "portal session", "cancellation",
                           "delivery of the cancellation", "refund", "cleanup"]
    assert found["refund"]["status"] == "warn" and "--refund" in str(found["refund"]["fix"])
    assert "kept live customer" in str(found["cleanup"]["meaning"])
    session = stack.account.objects("/v1/checkout/sessions")[0]
    assert session["allow_promotion_codes"] is True and session["mode"] == "subscription"
    assert len(shown) == 1
    assert stack.account.objects("/v1/refunds") == []  # never without --refund
    assert ("checkout.session.completed", 200) in stack.account.deliveries
    assert not any(p == "/v1/customers" for _, p in stack.account.writes)  # the person's payment made it


def test_live_mode_refunds_only_when_asked(
    project: Project, monkeypatch: pytest.MonkeyPatch, certificate: Path,
) -> None:
    stack, _, code, found, output = live_run(project, monkeypatch, certificate, "--refund")
    assert code == 0, output
    assert found["refund"]["status"] == "pass"
    refunded = stack.account.objects("/v1/refunds")
    paid = stack.account.objects("/v1/invoice_payments")
    assert len(refunded) == 1 and refunded[0]["payment_intent"] == paid[0]["payment"]["payment_intent"]
    assert f"for {paid[0]['payment']['payment_intent']} (succeeded)" in str(found["refund"]["meaning"])


def test_live_mode_cancels_the_subscription_when_a_later_step_fails(
    project: Project, monkeypatch: pytest.MonkeyPatch, certificate: Path,
) -> None:
    stack, _, code, found, _ = live_run(project, monkeypatch, certificate, "--check-url", "http://127.0.0.1:9/nothing")
    assert code == 1 and found["the app reports the plan"]["status"] == "fail"
    assert "cancellation" not in found
    subscription = stack.account.objects("/v1/subscriptions")[0]
    assert subscription["status"] == "canceled"  # it would renew, which is a charge the run never makes
    assert f"canceled {subscription['id']}" in str(found["cleanup"]["meaning"])


def test_live_mode_expires_the_session_when_nobody_pays(
    project: Project, monkeypatch: pytest.MonkeyPatch, certificate: Path,
) -> None:
    stack, shown, code, found, _ = live_run(project, monkeypatch, certificate, "--pay-wait", "0.5", pays=False)
    assert code == 1 and found["payment"]["status"] == "fail" and len(shown) == 1
    assert "was not paid within 0.5s" in str(found["payment"]["meaning"])
    assert stack.account.objects("/v1/checkout/sessions")[0]["status"] == "expired"
    assert "expired cs_live_" in str(found["cleanup"]["meaning"])


def test_the_outcome_is_recorded_for_status_and_the_key_never_reaches_argv(
    stack: Stack, server: BillingServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    pulumi = Pulumi(tmp_path / "bin", stacks={"test": {"lastUpdate": "2026-11-30T10:00:00.000Z", "resourceCount": 27}})
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    stack.app()
    code, out, err = stack.verify(server, monkeypatch, "--json")
    assert code == 0, out + err
    json.loads(out)  # the record is said on stderr: stdout stays one JSON document
    (argv,) = pulumi.argv()
    assert argv[:4] == ["stack", "tag", "set", "billing:verify:payment"] and argv[5:] == ["--stack", "test"]
    assert re.fullmatch(r"pass \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", argv[4])
    assert "recorded on stack 'test' for `billing status`: billing:verify:payment=pass" in err
    assert stack.key not in " ".join(argv) and stack.secret not in " ".join(argv)
    stack.verify(server, monkeypatch, "--no-record")
    assert len(pulumi.argv()) == 1


def test_with_the_stack_s_own_restricted_keys_the_app_s_writes_and_the_read_key_s_events_prove_it(
    stack: Stack, server: BillingServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No STRIPE_API_KEY: the app's key (its manifest: no Events) makes the subscription, and the read
    key (stripe:apiKey, the deployer's manifest: Events read) sees each event delivered."""
    app_key, read_key = key("rk", "test", "App7"), key("rk", "test", "Dep7")
    stack.account.keys = {app_key: APP_PERMISSIONS, read_key: grants(stack.deployment.catalog.keys.deployer)}
    stack.app()
    monkeypatch.setenv("STRIPE_API_BASE", server.base)
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"billing:appStripeKey": app_key, "stripe:apiKey": read_key}))
    code, out, err = run_cli("verify", "payment", "--stack", "test", "--project", str(stack.project.root),
                             "--wait", "0.6", "--json", "--no-record")
    assert code == 0, out + err
    assert {c["status"] for c in steps_of(out).values()} == {"pass"}
    assert stack.left_behind() == []
    assert app_key not in out + err and read_key not in out + err
    # A read key made before the deployer's manifest read events: the delivery step says which key lacks what.
    stack.account.keys[read_key] = grants(stack.deployment.catalog.keys.deployer) - {"rak_event_read"}
    code, out, _ = run_cli("verify", "payment", "--stack", "test", "--project", str(stack.project.root),
                           "--wait", "0.6", "--json", "--no-record")
    delivery = steps_of(out)["delivery of the subscription's events"]
    assert code == 1 and "permission denied (403)" in str(delivery["meaning"])
    assert "give the read key, STRIPE_API_KEY (or stripe:apiKey), rak_event_read (Events: Read)" in str(delivery["fix"])
    assert stack.left_behind() == []
