"""A Stripe-shaped API on 127.0.0.1 that is written to, for `verify payment` tests.

On top of tests/servers/stripe_api_server.py's reads it creates and deletes customers and
subscriptions, opens portal and Checkout Sessions, and emits the events
Stripe emits for those calls. Each event counts `pending_webhooks` (the
enabled endpoints that take its type) and is delivered, signed with the
endpoint's secret by stripe-python's WebhookSignature, to a receiver on
127.0.0.1 standing in for the endpoint's URL; a 2xx within the delivery
timeout lowers the count, anything else is retried a bounded number of
times. Every write is recorded. The key's permission is checked before the
object is looked up, as Stripe does.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from stripe import WebhookSignature

from infra.clients.stripe_api import MISSING_ID
from tests.servers.json_server import JsonServer
from tests.servers.stripe_api_server import RESOURCE_AT, StripeAccount, stripe_id

_RESOURCE = {**RESOURCE_AT, "/v1/billing_portal/sessions": "Customer portal", "/v1/invoice_payments": "Invoices"}
_READ = ("/v1/events", "/v1/checkout/sessions/", "/v1/prices", "/v1/subscriptions/", "/v1/invoice_payments")


@dataclass
class BillingAccount(StripeAccount):
    deliver_to: dict[str, str] = field(default_factory=dict)
    """Endpoint URL (as registered) -> the local receiver that stands in for it."""
    endpoint_secrets: dict[str, str] = field(default_factory=dict)
    delivery_timeout: float = 0.3
    retry_seconds: float = 0.1
    max_attempts: int = 4
    writes: list[tuple[str, str]] = field(default_factory=list)
    deliveries: list[tuple[str, int | None]] = field(default_factory=list)
    """(event type, the receiver's status or None for no answer in time), in order."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)

    def objects(self, path: str) -> list[dict[str, Any]]:
        return self.lists.setdefault(path, [])

    def find(self, path: str, object_id: str) -> dict[str, Any] | None:
        return next((o for o in self.objects(path) if o["id"] == object_id), None)

    def answer_body(self, method: str, path: str, query: dict[str, list[str]], auth: str | None,
                    body: bytes) -> tuple[int, dict[str, Any]]:
        key = (auth or "").removeprefix("Bearer ")
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        if method == "GET" and key in self.keys and path.startswith(_READ):
            return self._read(key, path, query)
        if method in ("POST", "DELETE") and key in self.keys and MISSING_ID not in path:
            with self.lock:
                self.requests.append((method, path))
                return self._change(key, method, path, form)
        return self.answer(method, path, query, auth)

    def _allowed(self, key: str, path: str, level: str) -> tuple[int, dict[str, Any]] | None:
        collection = max((p for p in _RESOURCE if path == p or path.startswith(p + "/")), key=len)
        return self._refusal(key, _RESOURCE[collection], level)  # type: ignore[arg-type]

    def _read(self, key: str, path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        self.requests.append(("GET", path))
        refused = self._allowed(key, path, "read")
        if refused:
            return refused
        if path == "/v1/prices":
            # stripe-python sends lookup_keys[0]=...; Stripe also takes lookup_keys[]=...
            wanted = {v for k, values in query.items() if re.fullmatch(r"lookup_keys\[\d*\]", k) for v in values}
            found = [p for p in self.objects(path) if p.get("lookup_key") in wanted and p["active"]]
            return 200, {"object": "list", "data": found[:1], "has_more": False, "url": path}
        if path == "/v1/events":
            since = int(query.get("created[gte]", ["0"])[0])
            with self.lock:
                found = [dict(e) for e in self.objects(path) if e["created"] >= since][:100]
            return 200, {"object": "list", "data": found, "has_more": False, "url": path}
        if path == "/v1/invoice_payments":
            invoice = query.get("invoice", [""])[0]
            found = [p for p in self.objects(path) if p["invoice"] == invoice and p["status"] == "paid"]
            return 200, {"object": "list", "data": found[:1], "has_more": False, "url": path}
        collection, object_id = path.rsplit("/", 1)
        with self.lock:
            obj = self.find(collection, object_id)
            return (200, dict(obj)) if obj else _missing(collection, object_id)

    def _change(self, key: str, method: str, path: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        refused = self._allowed(key, path, "write")
        if refused:
            return refused
        self.writes.append((method, path))
        if (method, path) == ("POST", "/v1/customers"):
            customer = self.add("/v1/customers", {
                "id": stripe_id("cus"), "object": "customer", "created": int(time.time()),
                "name": form.get("name"), "metadata": _metadata(form),
                "invoice_settings": {"default_payment_method": None}})
            if form.get("payment_method") == "pm_card_visa":  # Stripe's test Visa, attached
                customer["invoice_settings"]["default_payment_method"] = stripe_id("pm")
            self.emit("customer.created", customer)
            return 200, customer
        if (method, path) == ("POST", "/v1/subscriptions"):
            customer = self.find("/v1/customers", form.get("customer", ""))
            price = self.find("/v1/prices", form.get("items[0][price]", ""))
            if customer is None or price is None:
                return _missing("/v1/customers" if customer is None else "/v1/prices",
                                form.get("customer" if customer is None else "items[0][price]", ""))
            paid = customer["invoice_settings"]["default_payment_method"] is not None
            return 200, self.subscribe(customer["id"], price, _metadata(form), paid)
        if (method, path) == ("POST", "/v1/billing_portal/sessions"):
            if self.find("/v1/billing_portal/configurations", form.get("configuration", "")) is None:
                return _missing("/v1/billing_portal/configurations", form.get("configuration", ""))
            return 200, {"id": stripe_id("bps"), "object": "billing_portal.session",
                         "customer": form.get("customer"), "configuration": form.get("configuration"),
                         "url": "https://billing.stripe.com/p/session/test_" + secrets.token_hex(12)}
        if (method, path) == ("POST", "/v1/checkout/sessions"):
            session_id = "cs_" + ("live_" if self.livemode else "test_") + secrets.token_hex(12)
            return 200, self.add("/v1/checkout/sessions", {
                "id": session_id, "object": "checkout.session", "status": "open", "mode": form.get("mode"),
                "allow_promotion_codes": form.get("allow_promotion_codes") == "true",
                "price": form.get("line_items[0][price]"), "customer": None, "subscription": None,
                "metadata": _metadata(form), "url": f"https://checkout.stripe.com/c/pay/{session_id}"})
        if (method, path) == ("POST", "/v1/refunds"):
            paid = [p for p in self.objects("/v1/invoice_payments")
                    if p["payment"]["payment_intent"] == form.get("payment_intent")]
            if not paid:
                return _missing("/v1/payment_intents", form.get("payment_intent", ""))
            return 200, self.add("/v1/refunds", {"id": stripe_id("re"), "object": "refund", "status": "succeeded",
                                                 "payment_intent": form.get("payment_intent"),
                                                 "metadata": _metadata(form)})
        collection, object_id = path.rsplit("/", 1)
        if method == "POST" and object_id == "expire":
            session = self.find("/v1/checkout/sessions", collection.rsplit("/", 1)[1])
            if session is None or session["status"] != "open":
                return 400, {"error": {"message": "Only open sessions can be expired.",
                                       "type": "invalid_request_error"}}
            session["status"] = "expired"
            return 200, session
        obj = self.find(collection, object_id)
        if obj is None:
            return _missing(collection, object_id)
        if method == "DELETE" and collection == "/v1/subscriptions":
            obj["status"] = "canceled"
            self.emit("customer.subscription.deleted", obj)
            return 200, obj
        if method == "DELETE" and collection == "/v1/customers":
            for sub in self.objects("/v1/subscriptions"):
                if sub["customer"] == object_id and sub["status"] != "canceled":
                    sub["status"] = "canceled"
                    self.emit("customer.subscription.deleted", sub)
            self.objects(collection).remove(obj)
            self.emit("customer.deleted", obj)
            return 200, {"id": object_id, "object": "customer", "deleted": True}
        return 405, {"error": {"message": "this local server does not change that",
                               "type": "invalid_request_error"}}

    def subscribe(self, customer: str, price: dict[str, Any], metadata: dict[str, str],
                  paid: bool) -> dict[str, Any]:
        subscription = self.add("/v1/subscriptions", {
            "id": stripe_id("sub"), "object": "subscription", "customer": customer,
            "status": "active" if paid else "incomplete", "created": int(time.time()), "metadata": metadata,
            "items": {"object": "list", "data": [{"id": stripe_id("si"), "price": price}]},
            "latest_invoice": stripe_id("in")})
        if paid:
            self.add("/v1/invoice_payments", {
                "id": stripe_id("inpay"), "object": "invoice_payment", "invoice": subscription["latest_invoice"],
                "status": "paid", "payment": {"type": "payment_intent", "payment_intent": stripe_id("pi")}})
        self.emit("customer.subscription.created", subscription)
        self.emit("invoice.paid", {"id": subscription["latest_invoice"], "object": "invoice",
                                   "customer": customer, "subscription": subscription["id"]})
        return subscription

    def complete_checkout(self, session_id: str) -> None:
        """What Stripe does when the person pays: a customer, a subscription, and the session complete."""
        with self.lock:
            session = self.find("/v1/checkout/sessions", session_id)
            assert session is not None and session["status"] == "open"
            price = self.find("/v1/prices", session["price"])
            assert price is not None
            customer = self.add("/v1/customers", {"id": stripe_id("cus"), "object": "customer",
                                                  "created": int(time.time()), "metadata": {}})
            subscription = self.subscribe(customer["id"], price, session["metadata"], paid=True)
            session.update(status="complete", customer=customer["id"], subscription=subscription["id"])
            self.emit("checkout.session.completed", session)

    def emit(self, event_type: str, obj: dict[str, Any]) -> None:
        """An event as Stripe makes it, counted for and delivered to every enabled endpoint taking it."""
        endpoints = [e for e in self.objects("/v1/webhook_endpoints") if e["status"] == "enabled"
                     and (event_type in e["enabled_events"] or "*" in e["enabled_events"])]
        event = self.add("/v1/events", {
            "id": stripe_id("evt"), "object": "event", "api_version": None, "created": int(time.time()),
            "data": {"object": json.loads(json.dumps(obj))}, "pending_webhooks": len(endpoints),
            "request": {"id": None, "idempotency_key": None}, "type": event_type})
        for endpoint in endpoints:
            threading.Thread(target=self._deliver, args=(event, endpoint), daemon=True).start()

    def _deliver(self, event: dict[str, Any], endpoint: dict[str, Any]) -> None:
        target = self.deliver_to.get(endpoint["url"])
        if target is None:
            return  # nothing answers at that URL: the event stays pending
        with self.lock:
            payload = json.dumps(event)
        for _ in range(self.max_attempts):
            if self.stopping.is_set():
                return
            secret = self.endpoint_secrets[endpoint["id"]]
            header = WebhookSignature.generate_signature_header(payload, secret)
            request = urllib.request.Request(  # noqa: S310 (always http://127.0.0.1, a test receiver)
                target, payload.encode(), method="POST",
                headers={"Content-Type": "application/json; charset=utf-8", "Stripe-Signature": str(header)})
            status: int | None
            try:
                with urllib.request.urlopen(request, timeout=self.delivery_timeout) as answer:  # noqa: S310
                    status = answer.status
            except urllib.error.HTTPError as error:
                status = error.code
            except OSError:
                status = None  # no answer within the timeout: Stripe counts it as failed
            with self.lock:
                self.deliveries.append((event["type"], status))
                if status is not None and 200 <= status < 300:
                    event["pending_webhooks"] -= 1
                    return
            self.stopping.wait(self.retry_seconds)


def _metadata(form: dict[str, str]) -> dict[str, str]:
    return {k[len("metadata["):-1]: v for k, v in form.items() if k.startswith("metadata[")}


def _missing(collection: str, object_id: str) -> tuple[int, dict[str, Any]]:
    noun = collection.rsplit("/", 1)[1].removesuffix("s").replace("_", " ")
    return 404, {"error": {"code": "resource_missing", "message": f"No such {noun}: '{object_id}'",
                           "param": "id", "type": "invalid_request_error"}}


class BillingServer(JsonServer):
    def __init__(self, account: BillingAccount) -> None:
        self.account = account
        super().__init__(None, lambda: {"Request-Id": "req_" + secrets.token_hex(7)}, account.answer_body)

    def __exit__(self, *exc: object) -> None:
        self.account.stopping.set()
        super().__exit__(*exc)
