"""Named steps with progress and time, and the Stripe calls the payment proof is made of.

A step either passes with what it proved or fails with why and the fix; the
first failure ends the sequence, and cleanup runs whatever happened, Ctrl-C
included. A missing permission is reported with Stripe's `rak_` names and
the Dashboard row they stand for.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from infra.clients import errors, http
from infra.clients.credentials import STRIPE_API_BASE, STRIPE_API_KEY, key_sources
from infra.clients.errors import ApiError
from infra.clients.stripe_api import Account
from infra.core.checks import Check, Progress
from infra.stripe.rak_names import describe
from infra.stripe.reference import dashboard_base

POLL_SECONDS = 0.25
TAG = "billing_verification_run"
"""Metadata key on everything a run creates, so a leftover is recognisable."""
TEST_CARD = "pm_card_visa"  # Stripe's test PaymentMethod: a Visa that always succeeds
_MAX_EVENTS = 100  # one page of the newest events: a run's own events are among them


class StepFailed(Exception):
    def __init__(self, meaning: str, fix: str = "") -> None:
        super().__init__(meaning)
        self.meaning, self.fix = meaning, fix


@dataclass
class Created:
    """What the run made in Stripe, for cleanup."""

    customer: str | None = None
    subscription: str | None = None
    checkout_session: str | None = None
    paid: bool = False
    canceled: bool = False


@dataclass
class Steps:
    progress: Progress
    checks: list[Check] = field(default_factory=list)

    def run(self, name: str, work: Callable[[], str]) -> bool:
        self.progress(f"{name}...")
        start = time.monotonic()
        try:
            meaning = work()
        except StepFailed as failure:
            check = Check(name, "fail", failure.meaning, failure.fix, seconds=_since(start))
        except ApiError as error:
            check = Check(name, "fail", str(error), fix_for(error), seconds=_since(start))
        else:
            check = Check(name, "pass", meaning, seconds=_since(start))
        self.checks.append(check)
        self.progress(f"{name}: {check.status} ({check.seconds:.2f}s)")
        return check.status == "pass"


def _since(start: float) -> float:
    return round(time.monotonic() - start, 3)


def fix_for(error: ApiError) -> str:
    key = f"the key, {key_sources('app')}"
    if error.kind == "permission":
        names = describe(error.permissions) if error.permissions else "the permission Stripe names"
        return f"give {key} {names}, or run with a test-mode secret key"
    return error.fix(key, STRIPE_API_BASE)


def read_key_fix(error: ApiError) -> str:
    """The events are read with the read key: a refusal there names it, and Stripe's permission."""
    names = describe(error.permissions) if error.permissions else "Events: Read"
    return (f"give the read key, {key_sources('deployer')}, {names} (the deployer's default manifest has "
            f"it: `billing keys`), or run with a test-mode secret key in {STRIPE_API_KEY}")


def price_id(account: Account, lookup_key: str) -> str:
    found = account.send("get", "/v1/prices", lookup_keys=[lookup_key], active="true", limit=1)
    data = found.get("data")
    if not isinstance(data, list) or not data or not isinstance(data[0], dict) \
            or not isinstance(data[0].get("id"), str):
        raise StepFailed(f"no active price has lookup key {lookup_key!r}", "run `pulumi up` for this stack")
    return str(data[0]["id"])


def one(answer: dict[str, Any], name: str, what: str) -> str:
    value = answer.get(name)
    if not isinstance(value, str) or not value:
        raise StepFailed(f"Stripe's answer has no {name} for the {what}",
                         "the answer is not Stripe's: check STRIPE_API_BASE")
    return value


def delivered(
    account: Account, mode: str, customer: str, subscribed: set[str], expected: list[str], since: int,
    wait: float,
) -> str:
    """Wait until every event the run caused for `customer` (of a type the endpoint takes) has
    `pending_webhooks` 0, and each `expected` type has appeared; fail at the deadline."""
    deadline = time.monotonic() + wait
    pending: dict[str, dict[str, Any]] = {}
    done: dict[str, str] = {}
    while True:
        for event in _events(account, since):
            if event["id"] not in done and event["type"] in subscribed and _about(event, customer):
                pending.setdefault(event["id"], event)
        for event_id in list(pending):
            fresh = account.send("get", f"/v1/events/{quote(event_id, safe='')}")
            count = fresh.get("pending_webhooks")
            if not isinstance(count, int):
                raise StepFailed(f"event {event_id} has no pending_webhooks count",
                                 "the answer is not Stripe's: check STRIPE_API_BASE")
            if count == 0:
                done[event_id] = pending.pop(event_id)["type"]
        missing = [t for t in expected if t not in done.values()]
        if not missing and not pending:
            return f"{len(done)} events delivered ({', '.join(sorted(set(done.values())))})"
        if time.monotonic() >= deadline:
            break
        time.sleep(POLL_SECONDS)
    if pending:
        event_id, event = next(iter(pending.items()))
        raise StepFailed(
            f"{event_id} ({event['type']}) was not acknowledged within {wait:g}s ({len(pending)} event(s) "
            "still pending): the endpoint refused it, failed, or answered too slowly; Stripe's API does not "
            "say which",
            f"see the endpoint's deliveries at {dashboard_base(mode)}/webhooks, and run `billing "
            "verify webhook` to see the handler's answer (pending_webhooks counts every endpoint that "
            "takes the event, including other apps')")
    raise StepFailed(f"Stripe sent no {', '.join(missing)} for {customer} within {wait:g}s",
                     "the stack's endpoint must subscribe to it: check the catalog's webhook events and "
                     "`billing verify stripe`")


def _events(account: Account, since: int) -> list[dict[str, Any]]:
    page = account.send("get", "/v1/events", created={"gte": since}, limit=_MAX_EVENTS)
    data = page.get("data")
    if not isinstance(data, list):
        raise StepFailed("the events list has no data", "the answer is not Stripe's: check STRIPE_API_BASE")
    return [e for e in data if isinstance(e, dict) and isinstance(e.get("id"), str)
            and isinstance(e.get("type"), str)]


def _about(event: dict[str, Any], customer: str) -> bool:
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    return isinstance(obj, dict) and customer in (obj.get("id"), obj.get("customer"))


def app_reports(url: str, customer: str, plan_key: str, wait: float, limits: http.Limits) -> str:
    """The app's own endpoint, asked about the customer until it names the plan (or the deadline)."""
    target = f"{url}{'&' if '?' in url else '?'}customer={quote(customer, safe='')}"
    deadline = time.monotonic() + wait
    last = "no answer"
    while True:
        try:
            answer = http.request("GET", target, {"Accept": "application/json"}, None, limits)
        except http.NetworkError as error:
            last = str(error)
        else:
            if answer.redirect is not None:
                raise StepFailed(f"the app redirected ({answer.status} to {errors.origin(answer.redirect)})",
                                 "give --check-url the final URL")
            last = f"HTTP {answer.status}"
            if 200 <= answer.status < 300:
                try:
                    said = json.loads(answer.body)
                except ValueError:
                    said = None
                    last = f"HTTP {answer.status}, not JSON"
                if plan_key in _strings(said):
                    return f"the app reports plan {plan_key!r} for {customer} ({errors.origin(url)})"
                if said is not None:
                    last = f"HTTP {answer.status} without {plan_key!r}"
        if time.monotonic() >= deadline:
            raise StepFailed(f"the app never reported plan {plan_key!r} for {customer} within {wait:g}s "
                             f"(last: {last})", "the webhook handler must record the subscription, and the "
                             "endpoint must answer JSON naming the customer's plan or entitlements")
        time.sleep(POLL_SECONDS)


def _strings(value: Any, depth: int = 0) -> set[str]:
    if depth > 8:
        return set()
    if isinstance(value, str):
        return {value.lower()}
    if isinstance(value, dict):
        return set().union(*(_strings(v, depth + 1) | _strings(k, depth + 1) for k, v in value.items()))
    if isinstance(value, list):
        return set().union(*(_strings(v, depth + 1) for v in value[:1000]))
    return set()
