"""Probe a webhook endpoint from outside: signed events in, forged and replayed ones out.

Each probe POSTs one Stripe-shaped event. A correctly signed event of a type
the handler ignores must be accepted (2xx); events with no signature, a
changed body, another secret, only a `v0` scheme, a bogus `v1`, or a
timestamp past Stripe's 5-minute tolerance must be refused (4xx). Signatures
come from stripe-python's own `WebhookSignature`, the scheme Stripe uses.
Only what a correct receiver (`construct_event(..., tolerance=300)`) refuses
is probed: a timestamp in the future is not, since stripe-python accepts it
and only the secret's holder can sign one. An endpoint that answers nothing
fails once, with one fix, not once per probe. The secret is only ever used
to sign; it never appears in a result.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from stripe import WebhookSignature

from infra.clients import errors, http
from infra.core.checks import Check
from infra.stripe.events import PROBE_EVENT

Expect = Literal["accept", "refuse"]
# Stripe's tolerance for a signature's age: construct_event's default.
TOLERANCE_SECONDS = 300
SLOW_SECONDS = 1.0
GIVE_UP = 2
# A handler's answer is a status and a short body; more than this is not read (Stripe stores only a
# snippet of it either way).
MAX_ANSWER_BYTES = 64 * 1024
SLOW_FIX = "answer 2xx first, then do the work in the background"


@dataclass(frozen=True)
class Response:
    status: int | None
    """HTTP status, or None when no answer came (refused connection, timeout)."""
    seconds: float
    error: str | None = None
    redirect: str | None = None
    """Where a 3xx pointed (origin only); Stripe does not follow it, and neither does the probe."""


# (url, body, headers, timeout) -> Response; tests and the command both use `post`.
Sender = Callable[[str, bytes, dict[str, str], float], Response]


@dataclass(frozen=True)
class _Probe:
    name: str
    expect: Expect
    body: bytes
    headers: dict[str, str]
    hole: str
    """What accepting this probe means, for a probe that must be refused."""


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Response:
    """One delivery as Stripe makes it: a total deadline for the whole answer, redirects not followed."""
    try:
        answer = http.request("POST", url, headers, body, http.Limits(timeout, MAX_ANSWER_BYTES))
    except http.NetworkError as error:
        return Response(None, error.seconds, str(error))
    redirect = errors.origin(answer.redirect) if answer.redirect is not None else None
    return Response(answer.status, answer.seconds, redirect=redirect)


def event_body(event_type: str, created: int) -> bytes:
    """A Stripe-shaped event with a fresh ID, so a handler's dedupe never masks a probe."""
    event_id = "evt_verify_" + secrets.token_hex(12)
    event = {
        "id": event_id, "object": "event", "api_version": None, "created": created,
        "data": {"object": {"object": "balance", "available": [], "pending": [], "livemode": False}},
        "livemode": False, "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None}, "type": event_type,
    }
    return json.dumps(event, separators=(",", ":")).encode()


def _sign(body: bytes, secret: str, timestamp: int) -> str:
    return str(WebhookSignature.generate_signature_header(body.decode(), secret, timestamp=timestamp))


def _probes(secret: str, event_type: str, now: int) -> list[_Probe]:
    json_type = {"Content-Type": "application/json", "User-Agent": "billing-verify (Stripe-shaped probe)"}

    def signed(body: bytes, key: str = secret, timestamp: int = now) -> dict[str, str]:
        return {**json_type, "Stripe-Signature": _sign(body, key, timestamp)}

    def fresh(created: int = now) -> bytes:
        return event_body(event_type, created)

    valid, unsigned, tampered, other, v0_only, bogus = (fresh() for _ in range(6))
    old = fresh(now - 3600)
    # Signed as sent, then one field flipped: what a man in the middle would do.
    changed_body = tampered.replace(b'"livemode":false}', b'"livemode":true}', 1)
    v0_header = signed(v0_only)["Stripe-Signature"].replace("v1=", "v0=")
    forge = "anyone can forge a subscription event and grant themselves a plan"
    return [
        _Probe("signed event", "accept", valid, signed(valid), ""),
        _Probe("same event again", "accept", valid, signed(valid), ""),
        _Probe("no signature", "refuse", unsigned, json_type,
               f"the handler does not check signatures: {forge}"),
        _Probe("body changed after signing", "refuse", changed_body, signed(tampered),
               f"the signature is not checked against the raw body: {forge}"),
        _Probe("signed with another secret", "refuse", other,
               signed(other, key="whsec_" + secrets.token_hex(16)), f"any secret is accepted: {forge}"),
        _Probe("only a v0 signature", "refuse", v0_only, {**json_type, "Stripe-Signature": v0_header},
               f"a v0 signature is trusted, and only v1 is Stripe's: {forge}"),
        _Probe("v1 that is not a signature", "refuse", bogus,
               {**json_type, "Stripe-Signature": f"t={now},v1={secrets.token_hex(32)}"},
               f"any v1 value is accepted: {forge}"),
        _Probe("signed 1 hour ago", "refuse", old, signed(old, timestamp=now - 3600),
               "the timestamp is not checked: a captured event can be replayed forever"),
    ]


def run(
    url: str, secret: str, event_type: str = PROBE_EVENT, timeout: float = 10.0,
    send: Sender = post, progress: Callable[[str], None] | None = None,
) -> list[Check]:
    """Send every probe to `url` and judge each answer.

    After GIVE_UP probes in a row got no answer at all, the rest are not sent: a dead or hung
    endpoint costs two deadlines, not nine, and the forged probes could show nothing anyway.
    """
    checks: list[Check] = []
    answers: list[tuple[_Probe, Response]] = []
    for probe in _probes(secret, event_type, int(time.time())):
        if len(answers) >= GIVE_UP and all(r.status is None for _, r in answers):
            checks.append(Check(probe.name, "fail", f"not sent: the endpoint answered none of the "
                                f"{len(answers)} probes before it"))
            continue
        if progress:
            progress(probe.name)
        response = send(url, probe.body, probe.headers, timeout)
        answers.append((probe, response))
        checks.append(_judge(probe, response, event_type, timeout))
    checks += _overall(answers, timeout)
    return checks


def _judge(probe: _Probe, response: Response, event_type: str, timeout: float) -> Check:
    code, seconds = response.status, round(response.seconds, 3)
    if code is None:
        fix = SLOW_FIX if response.seconds >= timeout else "check the URL, DNS and that the app is deployed"
        return Check(probe.name, "fail", f"not delivered: {response.error}", fix, None, seconds)
    if response.redirect is not None:
        return _redirected(probe, code, response.redirect, seconds)
    ok = 200 <= code < 300
    if probe.expect == "accept":
        if ok:
            meaning = "accepted" if probe.name == "signed event" else (
                "accepted again; Stripe redelivers events, so the handler must dedupe on event.id "
                "(from outside only acceptance can be seen)")
            return Check(probe.name, "pass", meaning, http_status=code, seconds=seconds)
        if code >= 500:
            return Check(probe.name, "fail", f"a valid {event_type} event made the handler fail ({code})",
                         "answer 2xx for event types the handler ignores; Stripe retries failed "
                         "deliveries for 3 days and may disable the endpoint", code, seconds)
        return Check(probe.name, "fail", f"a correctly signed event was refused ({code})",
                     "the app's STRIPE_WEBHOOK_SECRET does not match this endpoint's secret (a replaced "
                     "endpoint has a new one), or the handler reads a parsed body instead of the raw "
                     "bytes: redeploy with the stack's secret", code, seconds)
    if ok:
        return Check(probe.name, "fail", f"accepted ({code}): {probe.hole}",
                     "verify with stripe.Webhook.construct_event(raw_body, header, secret, "
                     f"tolerance={TOLERANCE_SECONDS}) and answer 400 when it raises", code, seconds)
    if code >= 500:
        return Check(probe.name, "warn", f"refused, but with a server error ({code})",
                     "answer 400 to a bad signature: a 5xx looks like an outage and is retried",
                     code, seconds)
    return Check(probe.name, "pass", f"refused ({code})", http_status=code, seconds=seconds)


def _redirected(probe: _Probe, code: int, where: str, seconds: float) -> Check:
    fix = ("give Stripe the final URL (the one the redirect points to, often the www. or https:// form) "
           "and make it answer directly")
    if probe.expect == "accept":
        return Check(probe.name, "fail", f"redirected ({code} to {where}): Stripe does not follow "
                     "redirects, so every delivery to this URL fails", fix, code, seconds)
    return Check(probe.name, "warn", f"redirected ({code} to {where}) instead of refused; Stripe does not "
                 "follow redirects, so the redirect itself is the endpoint's answer", fix, code, seconds)


def _overall(answers: Sequence[tuple[_Probe, Response]], timeout: float) -> list[Check]:
    checks = []
    forged = [r for p, r in answers if p.expect == "refuse"]
    if forged and all(r.status is not None and 200 <= r.status < 300 for r in forged):
        checks.append(Check("answers 2xx to everything", "fail",
                            "every forged, tampered and replayed event was accepted: the handler "
                            "acknowledges before (or instead of) verifying",
                            "verify the signature first and answer 400 when it fails"))
    answered = [r for _, r in answers if r.status is not None]
    slowest = max((r.seconds for r in answered), default=0.0)
    if any(r.status is None and r.seconds >= timeout for _, r in answers):
        checks.append(Check("response time", "fail", f"no complete answer within {timeout:g}s; Stripe "
                            "counts a slow answer as a failed delivery", SLOW_FIX, seconds=timeout))
    elif not answered:
        pass  # nothing answered in time or otherwise: there is no response time to judge
    elif slowest > SLOW_SECONDS:
        checks.append(Check("response time", "warn", f"slowest answer took {slowest:.2f}s (over "
                            f"{SLOW_SECONDS:g}s)", SLOW_FIX, seconds=round(slowest, 3)))
    else:
        checks.append(Check("response time", "pass", f"slowest answer took {slowest:.2f}s",
                            seconds=round(slowest, 3)))
    return checks
