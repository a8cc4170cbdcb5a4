"""`verify webhook` against real HTTP receivers on 127.0.0.1, a correct one and broken ones."""

from __future__ import annotations

import json
import secrets
import socket
import time
from collections.abc import Callable

import pytest
import stripe

from infra.probes import webhook as webhook_probe
from tests.servers.hostile_server import HostileServer, drip, redirect_to
from tests.servers.webhook_receiver import Receiver, crashes_on_unhandled_type, reference
from tests.support.project import run_cli

# Mostly waiting on slow handlers and deadlines: started early, as tests/unit/probes/test_verify_payment.py.
pytestmark = pytest.mark.early


def no_signature_check(body: bytes, header: str | None, secret: str) -> int:
    json.loads(body)
    return 200


def ignores_timestamp(body: bytes, header: str | None, secret: str) -> int:
    try:
        # No tolerance: stripe-python then checks no time at all.
        stripe.WebhookSignature.verify_header(body.decode(), header or "", secret, tolerance=None)
    except stripe.SignatureVerificationError:
        return 400
    return 200


def any_v1(body: bytes, header: str | None, secret: str) -> int:
    return 200 if header and "v1=" in header else 400


def ok_on_errors(body: bytes, header: str | None, secret: str) -> int:
    try:
        stripe.Webhook.construct_event(body, header, secret, tolerance=300)
    except Exception:  # the bug under test: swallow the error and acknowledge
        return 200
    return 200


def slow(body: bytes, header: str | None, secret: str) -> int:
    status = reference(body, header, secret)
    if status == 200:  # does its work before answering, and only for real events
        time.sleep(1.2)
    return status


def by_name(checks: list[webhook_probe.Check]) -> dict[str, webhook_probe.Check]:
    return {check.name: check for check in checks}


def test_reference_receiver_passes_every_check(serve: Callable[[Receiver], str], secret: str) -> None:
    checks = webhook_probe.run(serve(reference), secret)
    # What README tells users to write gets no warning and no failure: nothing is probed that
    # construct_event(..., tolerance=300) accepts (it accepts a timestamp in the future).
    assert [c for c in checks if c.status != "pass"] == []
    found = by_name(checks)
    assert found["signed event"].http_status == 200
    assert "dedupe on event.id" in found["same event again"].meaning
    for name in ("no signature", "body changed after signing", "signed with another secret",
                 "only a v0 signature", "v1 that is not a signature", "signed 1 hour ago"):
        assert found[name].http_status == 400, name
    assert all(secret not in json.dumps(c.__dict__) for c in checks)


def test_a_receiver_that_checks_no_signature_fails(serve: Callable[[Receiver], str], secret: str) -> None:
    found = by_name(webhook_probe.run(serve(no_signature_check), secret))
    assert found["no signature"].status == "fail"
    assert "does not check signatures: anyone can forge" in found["no signature"].meaning
    assert found["answers 2xx to everything"].status == "fail"


def test_a_receiver_that_ignores_the_timestamp_fails_on_replay(
    serve: Callable[[Receiver], str], secret: str,
) -> None:
    found = by_name(webhook_probe.run(serve(ignores_timestamp), secret))
    assert found["signed 1 hour ago"].status == "fail"
    assert "captured event can be replayed forever" in found["signed 1 hour ago"].meaning
    # Everything else is verified properly, so those checks still pass.
    assert found["no signature"].status == "pass" and found["signed with another secret"].status == "pass"
    assert "answers 2xx to everything" not in found


def test_a_receiver_that_accepts_any_v1_fails(serve: Callable[[Receiver], str], secret: str) -> None:
    found = by_name(webhook_probe.run(serve(any_v1), secret))
    assert found["v1 that is not a signature"].status == "fail"
    assert "any v1 value is accepted" in found["v1 that is not a signature"].meaning
    assert found["body changed after signing"].status == "fail"
    assert found["only a v0 signature"].status == "pass" and found["no signature"].status == "pass"


def test_a_receiver_that_acknowledges_errors_fails(serve: Callable[[Receiver], str], secret: str) -> None:
    found = by_name(webhook_probe.run(serve(ok_on_errors), secret))
    assert found["answers 2xx to everything"].status == "fail"
    assert all(found[name].status == "fail" for name in (
        "no signature", "body changed after signing", "signed with another secret",
        "only a v0 signature", "v1 that is not a signature", "signed 1 hour ago"))


def test_a_handler_that_fails_on_a_valid_event_fails(serve: Callable[[Receiver], str], secret: str) -> None:
    found = by_name(webhook_probe.run(serve(crashes_on_unhandled_type), secret))
    assert found["signed event"].status == "fail"
    assert "made the handler fail (500)" in found["signed event"].meaning


def test_the_wrong_secret_in_the_app_is_named(serve: Callable[[Receiver], str]) -> None:
    stale = "whsec_" + secrets.token_hex(16)  # e.g. the old endpoint's secret
    found = by_name(webhook_probe.run(serve(reference), stale))
    assert found["signed event"].status == "fail"
    assert "STRIPE_WEBHOOK_SECRET does not match" in found["signed event"].fix


def test_a_slow_handler_is_a_warning(serve: Callable[[Receiver], str], secret: str,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # Over the line for "slow" and well inside the timeout; the line itself (1 s) scaled down.
    monkeypatch.setattr(webhook_probe, "SLOW_SECONDS", 0.2)

    def slowish(body: bytes, header: str | None, secret: str) -> int:
        status = reference(body, header, secret)
        if status == 200:
            time.sleep(0.4)
        return status

    found = by_name(webhook_probe.run(serve(slowish), secret, timeout=5))
    assert found["response time"].status == "warn"
    assert "(over 0.2s)" in found["response time"].meaning
    assert found["signed event"].status == "pass"


def test_a_handler_past_the_timeout_fails(serve: Callable[[Receiver], str], secret: str) -> None:
    found = by_name(webhook_probe.run(serve(slow), secret, timeout=0.3))
    assert found["response time"].status == "fail"
    assert found["signed event"].status == "fail"
    assert "not delivered: no complete answer within 0.3s" in found["signed event"].meaning


def closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening: bound once, then released."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_nothing_listening_is_a_fail_not_a_crash(secret: str) -> None:
    found = by_name(webhook_probe.run(f"http://127.0.0.1:{closed_port()}/webhook", secret, timeout=2))
    assert found["signed event"].status == "fail"
    assert "connection refused by 127.0.0.1:" in found["signed event"].meaning
    # No answer, so no response time to judge: never a "pass" for an endpoint that is down.
    assert "response time" not in found
    assert {c.status for c in found.values()} == {"fail"}


def test_a_dead_endpoint_fails_each_probe_once_with_one_fix(
    secret: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PROBE_SECRET", secret)
    code, out, _ = run_cli("verify", "webhook", "--url", f"http://127.0.0.1:{closed_port()}/webhook",
                           "--secret-env", "PROBE_SECRET", "--allow-http", "--timeout", "2")
    assert code == 1
    assert out.count("fix:") == 1 and "fix: check the URL, DNS and that the app is deployed" in out
    assert "PASS" not in out and "response time" not in out
    names = [line.split()[1:3] for line in out.splitlines() if line.startswith("  FAIL")]
    assert len(names) == 8 and len({tuple(n) for n in names}) == 8  # every probe, each once
    assert out.rstrip().endswith("0 passed, 0 warnings, 8 failed")


def test_a_hung_endpoint_costs_two_deadlines_not_nine(secret: str) -> None:
    with HostileServer(drip()) as hung:  # a byte every 0.05 s: a per-read timeout never fires
        started = time.monotonic()
        found = by_name(webhook_probe.run(hung.base + "/webhook/stripe", secret, timeout=0.2))
        seconds = time.monotonic() - started
    assert len(hung.requests) == 2 and 0.4 <= seconds < 1.2
    assert "not delivered: no complete answer within 0.2s" in found["same event again"].meaning
    assert found["no signature"].meaning == "not sent: the endpoint answered none of the 2 probes before it"
    assert found["response time"].status == "fail"


def test_a_redirect_is_the_endpoints_answer_and_is_not_followed(
    serve: Callable[[Receiver], str], secret: str,
) -> None:
    delivered: list[bytes] = []

    def counting(body: bytes, header: str | None, secret: str) -> int:
        delivered.append(body)
        return reference(body, header, secret)  # would accept the signed events, if they came

    target = serve(counting)
    origin = target.rsplit("/webhook", 1)[0]
    with HostileServer(redirect_to(origin, 308)) as redirecting:
        found = by_name(webhook_probe.run(redirecting.base + "/webhook/stripe", secret, timeout=2))
    assert found["signed event"].status == "fail" and found["signed event"].http_status == 308
    assert f"redirected (308 to {origin}): Stripe does not follow redirects" in found["signed event"].meaning
    assert found["no signature"].status == "warn" and "instead of refused" in found["no signature"].meaning
    assert len(redirecting.requests) == 8 and delivered == []


def test_cli_reads_the_secret_from_the_environment_only(
    serve: Callable[[Receiver], str], secret: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = serve(reference)
    monkeypatch.setenv("PROBE_SECRET", secret)
    code, out, err = run_cli("verify", "webhook", "--url", url, "--secret-env", "PROBE_SECRET", "--allow-http")
    assert code == 0, out
    assert "PASS signed event" in out and "9 passed, 0 warnings, 0 failed" in out
    assert "WARN" not in out and "fix:" not in out
    assert "probing: signed 1 hour ago" in err  # progress goes to stderr
    assert secret not in out + err
    code, out, _ = run_cli("verify", "webhook", "--url", url, "--secret-env", "PROBE_SECRET", "--allow-http",
                           "--json")
    data = json.loads(out)
    assert data["ok"] is True and len(data["checks"]) == 9


def test_cli_fails_with_exit_1_on_a_hole(
    serve: Callable[[Receiver], str], secret: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PROBE_SECRET", secret)
    code, out, _ = run_cli("verify", "webhook", "--url", serve(any_v1), "--secret-env", "PROBE_SECRET",
                           "--allow-http")
    assert code == 1
    assert "FAIL v1 that is not a signature" in out
    assert "fix: verify with stripe.Webhook.construct_event" in out


def test_cli_refuses_http_and_a_missing_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROBE_SECRET", raising=False)
    code, out, err = run_cli("verify", "webhook", "--url", "http://app.example.com/hook", "--secret-env",
                             "PROBE_SECRET")
    assert code == 2 and out == ""
    assert "--url: 'http://app.example.com/hook' is not https" in err
    assert "--secret-env: PROBE_SECRET is not set" in err
    not_a_secret = "sk_" + "live_" + "x" * 24
    monkeypatch.setenv("PROBE_SECRET", not_a_secret)
    code, _, err = run_cli("verify", "webhook", "--url", "https://app.example.com/hook", "--secret-env",
                           "PROBE_SECRET")
    assert code == 2 and "PROBE_SECRET holds a value with sk_live_" in err
    assert not_a_secret not in err
