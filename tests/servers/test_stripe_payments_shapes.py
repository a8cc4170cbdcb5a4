"""What a payment makes, as the local Stripes answer it (tests/servers/stripe_payments_server.py's
`Payments`, behind the engine's local Stripe here), held to stripe-python's typed classes; and
restricted keys as Stripe checks them, on every request to that server.

The server runs on 127.0.0.1 in a thread. A catalog is made through its API (a product, a
price, a webhook endpoint, a portal configuration), then what `verify payment` does: a
customer with the test card, a subscription, a portal session, a Checkout Session a person
pays, the events with their deliveries, an invoice's payment, a refund, the cancellation.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import stripe
import stripe.billing_portal
import stripe.checkout

from infra.catalog import APP_MANIFEST, DEPLOYER_MANIFEST
from infra.clients.stripe_api import READ_PROBES, WRITE_PROBES
from tests.engine.stripe_server import StripeState, app
from tests.servers.stripe_keys import grants, permission
from tests.servers.stripe_shapes import API_KEY, LocalStripe, hold, nested

APP = "rk_" + "test_" + "A" * 24
DEPLOYER = "rk_" + "test_" + "D" * 24
# Fields Stripe answers only when the request expands them ("includable"), by class.
INCLUDABLE_ONLY = {
    "customer": ("cash_balance", "invoice_credit_balance", "sources", "subscriptions", "tax", "tax_ids"),
    "checkout.session": ("line_items", "total_details.breakdown"),
    "plan": ("tiers",),
    "price": ("currency_options", "tiers"),
}


class Deliveries:
    """The app at the endpoint's URL: each delivery, checked against the endpoint's secret."""

    def __init__(self) -> None:
        self.secret = ""
        self.seen: list[tuple[str, str]] = []  # (URL, event type)
        self.lock = threading.Lock()

    def __call__(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> int | None:
        event = stripe.Webhook.construct_event(body, headers["Stripe-Signature"], self.secret, tolerance=300)
        with self.lock:
            self.seen.append((url, event["type"]))
        return 200


@pytest.fixture
def state() -> StripeState:
    return StripeState(keys={API_KEY: None, APP: grants(APP_MANIFEST), DEPLOYER: grants(DEPLOYER_MANIFEST)})


@pytest.fixture
def api(state: StripeState) -> Iterator[LocalStripe]:
    with LocalStripe(app(state)) as server:
        yield server
    state.payments.stopping.set()


def catalog(api: LocalStripe, deliveries: Deliveries) -> dict[str, Any]:
    product = api.ok("POST", "/v1/products", {"name": "Pro", "metadata": {"plan": "pro"}})
    price = api.ok("POST", "/v1/prices", {"product": product["id"], "currency": "usd", "unit_amount": 2900,
                                          "lookup_key": "pro_monthly", "recurring": {"interval": "month"},
                                          "metadata": {"plan": "pro"}})
    endpoint = api.ok("POST", "/v1/webhook_endpoints", {
        "url": "https://shop.test/api/webhooks/stripe",
        "enabled_events": ["customer.subscription.created", "customer.subscription.deleted",
                           "checkout.session.completed", "invoice.paid"]})
    deliveries.secret = endpoint["secret"]
    portal = api.ok("POST", "/v1/billing_portal/configurations", {
        "default_return_url": "https://shop.test/account", "features": {"invoice_history": {"enabled": True}}})
    return {"product": product, "price": price, "endpoint": endpoint, "portal": portal}


def until(done: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, "the deliveries did not happen in time"
        time.sleep(0.01)


def skip(where: str, kind: str) -> frozenset[str]:
    return frozenset(f"{where}.{path}" for path in INCLUDABLE_ONLY[kind])


def test_what_a_payment_makes_has_stripe_s_shapes(state: StripeState, api: LocalStripe) -> None:
    deliveries = Deliveries()
    state.payments.deliver = deliveries
    made = catalog(api, deliveries)
    seen: set[str] = set()
    customer = api.ok("POST", "/v1/customers", {"name": "billing verify", "payment_method": "pm_card_visa",
                                                "invoice_settings": {"default_payment_method": "pm_card_visa"},
                                                "metadata": {"run": "1"}})
    hold(customer, stripe.Customer, "customer", seen, skip("customer", "customer"))
    assert customer["invoice_settings"]["default_payment_method"].startswith("pm_")
    subscription = api.ok("POST", "/v1/subscriptions", {"customer": customer["id"],
                                                        "items": [{"price": made["price"]["id"]}]})
    assert subscription["status"] == "active" and subscription["customer"] == customer["id"]
    item = subscription["items"]["data"][0]
    for answer in (subscription, api.ok("GET", f"/v1/subscriptions/{subscription['id']}")):
        hold(answer, stripe.Subscription, "subscription", seen)
    hold(item, stripe.SubscriptionItem, "item", seen, skip("item.plan", "plan") | skip("item.price", "price"))
    assert item["price"]["metadata"] == {"plan": "pro"} and item["plan"]["id"] == made["price"]["id"]
    portal = api.ok("POST", "/v1/billing_portal/sessions", {"customer": customer["id"],
                                                            "configuration": made["portal"]["id"]})
    hold(portal, stripe.billing_portal.Session, "portal session", seen)
    assert portal["url"].startswith("https://billing.stripe.com/p/session/test_")
    session = api.ok("POST", "/v1/checkout/sessions", {
        "mode": "subscription", "line_items": [{"price": made["price"]["id"], "quantity": 1}],
        "allow_promotion_codes": True, "success_url": "https://shop.test/account",
        "cancel_url": "https://shop.test/account", "subscription_data": {"metadata": {"run": "2"}}})
    hold(session, stripe.checkout.Session, "session", seen, skip("session", "checkout.session"))
    assert (session["status"], session["url"]) == ("open", f"https://checkout.stripe.com/c/pay/{session['id']}")
    state.complete_checkout(session["id"])  # the person pays
    paid = api.ok("GET", f"/v1/checkout/sessions/{session['id']}")
    hold(paid, stripe.checkout.Session, "paid session", seen, skip("paid session", "checkout.session"))
    assert (paid["status"], paid["payment_status"]) == ("complete", "paid") and paid["subscription"]
    assert api.ok("GET", f"/v1/subscriptions/{paid['subscription']}")["metadata"] == {"run": "2"}
    payments = api.ok("GET", "/v1/invoice_payments", {"invoice": paid["invoice"], "status": "paid"})
    hold(payments["data"][0], stripe.InvoicePayment, "invoice payment", seen)
    refund = api.ok("POST", "/v1/refunds", {"payment_intent": payments["data"][0]["payment"]["payment_intent"]})
    hold(refund, stripe.Refund, "refund", seen)
    canceled = api.ok("DELETE", f"/v1/subscriptions/{subscription['id']}")
    assert canceled["status"] == "canceled"
    events = api.ok("GET", "/v1/events", {"limit": 100})["data"]
    for event in events:
        hold(event, stripe.Event, f"event {event['type']}", seen)
        one = api.ok("GET", f"/v1/events/{event['id']}")
        assert (one["id"], one["type"], one["data"]) == (event["id"], event["type"], event["data"])
    types = [e["type"] for e in events]
    assert {"customer.created", "customer.subscription.created", "invoice.paid", "checkout.session.completed",
            "customer.subscription.deleted"} <= set(types)
    assert api.ok("DELETE", f"/v1/customers/{customer['id']}") == {"id": customer["id"], "object": "customer",
                                                                    "deleted": True}
    for cls in (stripe.Customer, stripe.Subscription, stripe.checkout.Session, stripe.billing_portal.Session,
                stripe.Event, stripe.InvoicePayment, stripe.Refund):
        assert cls.__qualname__ in seen
    reached = nested(stripe.Subscription) & seen
    assert {"Subscription.AutomaticTax", "Subscription.InvoiceSettings", "Subscription.TrialSettings"} <= reached


def test_each_event_an_endpoint_takes_is_delivered_signed_and_counted(state: StripeState, api: LocalStripe) -> None:
    deliveries = Deliveries()
    state.payments.deliver = deliveries
    made = catalog(api, deliveries)
    customer = api.ok("POST", "/v1/customers", {"payment_method": "pm_card_visa"})
    api.ok("POST", "/v1/subscriptions", {"customer": customer["id"], "items": [{"price": made["price"]["id"]}]})

    def pending() -> dict[str, int]:
        return {e["type"]: e["pending_webhooks"] for e in api.ok("GET", "/v1/events")["data"]}

    # Delivered, answered 2xx, and so no longer pending; one the endpoint does not take was never pending.
    until(lambda: pending()["customer.subscription.created"] == pending()["invoice.paid"] == 0)
    assert pending()["customer.created"] == 0
    assert ("https://shop.test/api/webhooks/stripe", "customer.subscription.created") in deliveries.seen
    assert all(kind != "customer.created" for _, kind in deliveries.seen)


def test_an_endpoint_that_does_not_answer_leaves_its_events_pending(state: StripeState, api: LocalStripe) -> None:
    state.payments.retry_seconds = 0.01
    made = catalog(api, Deliveries())  # the default `deliver` reaches nothing
    customer = api.ok("POST", "/v1/customers", {"payment_method": "pm_card_visa"})
    api.ok("POST", "/v1/subscriptions", {"customer": customer["id"], "items": [{"price": made["price"]["id"]}]})
    until(lambda: state.payments.deliveries.count(("customer.subscription.created", None)) == 4)
    created = next(e for e in api.ok("GET", "/v1/events")["data"] if e["type"] == "customer.subscription.created")
    assert created["pending_webhooks"] == 1
    assert state.payments.deliveries.count(("customer.subscription.created", None)) == state.payments.max_attempts


def test_a_restricted_key_may_do_what_its_manifest_grants_and_nothing_else(api: LocalStripe) -> None:
    # Inside the app's manifest, reads answer; outside, Stripe's 403 names the permission.
    for resource, path in READ_PROBES.items():
        status, body = api.call("GET", path, {"limit": 1}, key=APP)
        if resource in APP_MANIFEST.granted():
            assert status == 200 and body["object"] == "list", (resource, body)
        else:
            assert status == 403, (resource, body)
            assert f"Having the '{permission(resource, 'read')}' permission" in body["error"]["message"]
            assert APP not in body["error"]["message"] and APP[:8] in body["error"]["message"]
    # A write to an object that does not exist: 404 resource_missing where the key may write, 403 where not.
    for resource, path in WRITE_PROBES.items():
        status, body = api.call("POST", path, key=APP)
        may = APP_MANIFEST.granted().get(resource) == "write"
        assert status == (404 if may else 403), (resource, body)
        if may:
            assert body["error"]["code"] == "resource_missing"
    # The deployer's key reads the events (its manifest), and makes what the program declares.
    assert api.call("GET", "/v1/events", {"limit": 1}, key=DEPLOYER)[0] == 200
    assert api.call("POST", "/v1/products", {"name": "x"}, key=DEPLOYER)[0] == 200
    assert api.call("POST", "/v1/customers", {}, key=DEPLOYER)[0] == 403
    status, body = api.call("GET", "/v1/products", key="rk_" + "test_" + "U" * 24)
    assert status == 401 and body["error"]["message"].startswith("Invalid API Key provided: rk_test_")
