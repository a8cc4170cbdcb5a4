"""Payments as Stripe makes them, for every local Stripe the tests run: `Payments` is the one model
of what `verify payment` writes and reads, used by the fast suite's `BillingAccount` (below, on
tests/servers/stripe_api_server.py's account) and by the engine's local Stripe
(tests/engine/stripe_server.py), each handing it its own catalog (prices, portal
configurations, webhook endpoints and their signing secrets) and its own way to reach an endpoint.

It creates and deletes customers and subscriptions, opens portal and Checkout Sessions,
completes a Checkout Session when the person pays (`complete_checkout`), refunds, and emits
the events Stripe emits for those calls. Each event counts `pending_webhooks` (the enabled
endpoints that take its type) and is delivered, signed with the endpoint's secret by
stripe-python's WebhookSignature, to the endpoint's URL; a 2xx within the delivery timeout
lowers the count, anything else is retried a bounded number of times. Every write and every
delivery is recorded. The objects are tests/servers/stripe_objects.py's, Stripe's shapes. The
caller checks the key's permission first (tests/servers/stripe_keys.py), as Stripe does
before it looks anything up.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qs

from stripe import WebhookSignature

from infra.clients.stripe_api import MISSING_ID
from tests.servers import stripe_keys
from tests.servers import stripe_objects as made
from tests.servers.json_server import JsonServer
from tests.servers.stripe_api_server import StripeAccount

Obj = dict[str, Any]
Answer = tuple[int, Obj]
Deliver = Callable[[str, bytes, dict[str, str], float], "int | None"]
"""(URL, body, headers, timeout) -> the endpoint's HTTP status, or None for no answer in time."""
COLLECTIONS = ("/v1/customers", "/v1/subscriptions", "/v1/checkout/sessions", "/v1/events",
               "/v1/invoice_payments", "/v1/refunds", "/v1/billing_portal/sessions")
_NOUNS = {"/v1/customers": "customer", "/v1/subscriptions": "subscription",
          "/v1/checkout/sessions": "checkout.session", "/v1/events": "event", "/v1/refunds": "refund"}


class Catalog(Protocol):
    """What the payments read from the account's catalog, however the server keeps it."""

    livemode: bool

    def find_price(self, price_id: str) -> Obj | None: ...

    def find_portal_configuration(self, configuration_id: str) -> Obj | None: ...

    def signing_endpoints(self) -> list[tuple[Obj, str]]:
        """Every webhook endpoint, with its signing secret."""
        ...


def form_of(body: bytes) -> dict[str, str]:
    """stripe-python's form body, flat: `items[0][price]` stays one key."""
    return {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}


def _metadata(form: dict[str, str], prefix: str = "metadata") -> dict[str, str]:
    return {k[len(prefix) + 1:-1]: v for k, v in form.items() if k.startswith(prefix + "[") and "][" not in
            k[len(prefix) + 1:]}


@dataclass
class Payments:
    catalog: Catalog
    deliver: Deliver
    store: dict[str, list[Obj]] = field(default_factory=dict)
    """Collection path -> its objects, newest first (the fast suite shares its account's lists)."""
    delivery_timeout: float = 0.3
    retry_seconds: float = 0.1
    max_attempts: int = 4
    writes: list[tuple[str, str]] = field(default_factory=list)
    deliveries: list[tuple[str, int | None]] = field(default_factory=list)
    """(event type, the endpoint's status or None for no answer in time), in order."""
    lock: threading.RLock = field(default_factory=threading.RLock)
    stopping: threading.Event = field(default_factory=threading.Event)

    def objects(self, path: str) -> list[Obj]:
        return self.store.setdefault(path, [])

    def find(self, path: str, object_id: str) -> Obj | None:
        return next((o for o in self.objects(path) if o["id"] == object_id), None)

    def _add(self, path: str, obj: Obj) -> Obj:
        self.objects(path).insert(0, obj)
        return obj

    def handles(self, path: str) -> bool:
        return any(path == c or path.startswith(c + "/") for c in COLLECTIONS)

    def answer(self, method: str, path: str, query: dict[str, list[str]], form: dict[str, str]) -> Answer:
        """One request to a payments collection (`handles`), its key already allowed."""
        with self.lock:
            if method == "GET":
                return self._read(path, query)
            self.writes.append((method, path))
            return self._change(method, path, form)

    # --- reads ---------------------------------------------------------------------------
    def _read(self, path: str, query: dict[str, list[str]]) -> Answer:
        limit = int(query.get("limit", ["10"])[0])
        if not 1 <= limit <= 100:
            return 400, _error("Invalid limit: must be between 1 and 100.", "limit")
        if path in COLLECTIONS:
            found = [made.public(o) for o in self.objects(path)]
            if path == "/v1/events" and "created[gte]" in query:
                since = int(query["created[gte]"][0])
                found = [e for e in found if e["created"] >= since]
            if path == "/v1/invoice_payments":
                wanted = query.get("invoice", [None])[0]
                found = [p for p in found if wanted in (None, p["invoice"])
                         and query.get("status", [p["status"]])[0] == p["status"]]
            return 200, {"object": "list", "data": found[:limit], "has_more": len(found) > limit, "url": path}
        collection, object_id = path.rsplit("/", 1)
        obj = self.find(collection, object_id)
        return (200, made.public(obj)) if obj else made.missing(_NOUNS.get(collection, "object"), object_id)

    # --- writes --------------------------------------------------------------------------
    def _change(self, method: str, path: str, form: dict[str, str]) -> Answer:
        livemode = self.catalog.livemode
        if (method, path) == ("POST", "/v1/customers"):
            payment_method = made.new_id("pm") if form.get("payment_method") == "pm_card_visa" else None
            customer = self._add(path, made.customer(
                livemode, name=form.get("name"), description=form.get("description"), email=form.get("email"),
                metadata=_metadata(form), payment_method=payment_method))  # Stripe's test Visa, attached
            self.emit("customer.created", customer)
            return 200, made.public(customer)
        if (method, path) == ("POST", "/v1/subscriptions"):
            customer = self.find("/v1/customers", form.get("customer", ""))
            price = self.catalog.find_price(form.get("items[0][price]", ""))
            if customer is None:
                return made.missing("customer", form.get("customer", ""))
            if price is None:
                return made.missing("price", form.get("items[0][price]", ""))
            paid = customer["invoice_settings"]["default_payment_method"] is not None
            return 200, made.public(self._subscribe(customer["id"], price, _metadata(form), paid))
        if (method, path) == ("POST", "/v1/billing_portal/sessions"):
            configuration = form.get("configuration", "")
            if self.catalog.find_portal_configuration(configuration) is None:
                return made.missing("configuration", configuration)
            if self.find("/v1/customers", form.get("customer", "")) is None:
                return made.missing("customer", form.get("customer", ""))
            return 200, self._add(path, made.portal_session(livemode, form["customer"], configuration,
                                                            form.get("return_url")))
        if (method, path) == ("POST", "/v1/checkout/sessions"):
            price = self.catalog.find_price(form.get("line_items[0][price]", ""))
            if price is None:
                return made.missing("price", form.get("line_items[0][price]", ""))
            promotion = form.get("allow_promotion_codes")
            session = self._add(path, made.checkout_session(
                livemode, form.get("mode"), price,
                allow_promotion_codes=None if promotion is None else promotion == "true",
                success_url=form.get("success_url"), cancel_url=form.get("cancel_url"),
                metadata=_metadata(form), subscription_metadata=_metadata(form, "subscription_data[metadata]")))
            return 200, made.public(session)
        if (method, path) == ("POST", "/v1/refunds"):
            return self._refund(form)
        expire = re.fullmatch(r"/v1/checkout/sessions/([^/]+)/expire", path)
        if method == "POST" and expire:
            session = self.find("/v1/checkout/sessions", expire.group(1))
            if session is None:
                return made.missing("checkout.session", expire.group(1))
            if session["status"] != "open":
                return 400, _error("Only Checkout Sessions with a status of `open` can be expired.")
            session["status"] = "expired"
            self.emit("checkout.session.expired", session)
            return 200, made.public(session)
        collection, object_id = path.rsplit("/", 1)
        obj = self.find(collection, object_id)
        if obj is None:
            return made.missing(_NOUNS.get(collection, "object"), object_id)
        if method == "DELETE" and collection == "/v1/subscriptions":
            self._cancel(obj)
            return 200, made.public(obj)
        if method == "DELETE" and collection == "/v1/customers":
            for sub in self.objects("/v1/subscriptions"):
                if sub["customer"] == object_id and sub["status"] != "canceled":
                    self._cancel(sub)
            self.objects(collection).remove(obj)
            self.emit("customer.deleted", obj)
            return 200, made.deleted(object_id, "customer")
        if method == "POST" and collection in ("/v1/customers", "/v1/subscriptions"):
            obj["metadata"] = {**obj["metadata"], **_metadata(form)}
            return 200, made.public(obj)
        return 404, _error(f"Unrecognized request URL ({method}: {path}).")

    def _cancel(self, subscription: Obj) -> None:
        subscription.update(status="canceled", canceled_at=made.now(), ended_at=made.now())
        subscription["cancellation_details"]["reason"] = "cancellation_requested"
        self.emit("customer.subscription.deleted", subscription)

    def _refund(self, form: dict[str, str]) -> Answer:
        intent = form.get("payment_intent", "")
        paid = [p for p in self.objects("/v1/invoice_payments") if p["payment"]["payment_intent"] == intent]
        if not paid:
            return made.missing("payment_intent", intent)
        return 200, made.public(self._add("/v1/refunds", made.refund(
            self.catalog.livemode, intent, paid[0]["amount_paid"], paid[0]["currency"], _metadata(form))))

    def _subscribe(self, customer: str, price: Obj, metadata: dict[str, str], paid: bool) -> Obj:
        livemode = self.catalog.livemode
        subscription = self._add("/v1/subscriptions", made.subscription(livemode, customer, price, metadata, paid))
        if paid:
            self._add("/v1/invoice_payments", made.invoice_payment(
                livemode, subscription["latest_invoice"], price.get("unit_amount") or 0, price["currency"]))
        self.emit("customer.subscription.created", subscription)
        self.emit("invoice.paid", made.invoice(livemode, subscription["latest_invoice"], subscription))
        return subscription

    def complete_checkout(self, session_id: str, email: str = "person@example.com") -> None:
        """What Stripe does when the person pays: a customer, a subscription, and the session complete."""
        with self.lock:
            session = self.find("/v1/checkout/sessions", session_id)
            assert session is not None and session["status"] == "open", session
            price = self.catalog.find_price(session["_price"])
            assert price is not None
            customer = self._add("/v1/customers", made.customer(self.catalog.livemode, email=email))
            self.emit("customer.created", customer)
            subscription = self._subscribe(customer["id"], price, session["_subscription_metadata"], paid=True)
            made.paid(session, customer, subscription, email)
            self.emit("checkout.session.completed", session)

    # --- events --------------------------------------------------------------------------
    def emit(self, event_type: str, obj: Obj) -> None:
        """An event as Stripe makes it, counted for and delivered to every enabled endpoint taking it."""
        with self.lock:
            endpoints = [(e, secret) for e, secret in self.catalog.signing_endpoints() if e["status"] == "enabled"
                         and (event_type in e["enabled_events"] or "*" in e["enabled_events"])]
            event = self._add("/v1/events", made.event(self.catalog.livemode, event_type,
                                                        json.loads(json.dumps(made.public(obj))), len(endpoints)))
            payload = json.dumps(event)
        for endpoint, secret in endpoints:
            threading.Thread(target=self._deliver, args=(event, payload, endpoint["url"], secret), daemon=True).start()

    def _deliver(self, event: Obj, payload: str, url: str, secret: str) -> None:
        for _ in range(self.max_attempts):
            if self.stopping.is_set():
                return
            header = WebhookSignature.generate_signature_header(payload, secret)
            status = self.deliver(url, payload.encode(), {"Content-Type": "application/json; charset=utf-8",
                                                          "Stripe-Signature": str(header)}, self.delivery_timeout)
            with self.lock:
                self.deliveries.append((event["type"], status))
                if status is not None and 200 <= status < 300:
                    event["pending_webhooks"] -= 1
                    return
            self.stopping.wait(self.retry_seconds)


def _error(message: str, param: str | None = None) -> Obj:
    return {"error": {"message": message, "type": "invalid_request_error", **({"param": param} if param else {})}}


def post(url: str, body: bytes, headers: dict[str, str], timeout: float,
         opener: urllib.request.OpenerDirector | None = None) -> int | None:
    """One delivery attempt: the status the endpoint answered, or None for no answer in time."""
    request = urllib.request.Request(url, body, method="POST", headers=headers)  # noqa: S310 (a test's endpoint)
    try:
        with (opener or urllib.request.build_opener(urllib.request.ProxyHandler({}))).open(
                request, timeout=timeout) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None  # no answer within the timeout: Stripe counts it as failed


# --- the fast suite's account ----------------------------------------------------------------
@dataclass
class BillingAccount(StripeAccount):
    """tests/servers/stripe_api_server.py's account, written to: its catalog is the account's lists,
    and an endpoint is reached at the local receiver `deliver_to` names for its URL."""

    deliver_to: dict[str, str] = field(default_factory=dict)
    """Endpoint URL (as registered) -> the local receiver that stands in for it."""
    endpoint_secrets: dict[str, str] = field(default_factory=dict)
    payments: Payments = field(init=False)

    def __post_init__(self) -> None:
        self.payments = Payments(self, self._post, self.lists)

    def _post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> int | None:
        target = self.deliver_to.get(url)
        return post(target, body, headers, timeout) if target else None

    # The Catalog the payments read.
    def find_price(self, price_id: str) -> Obj | None:
        return next((p for p in self.lists.get("/v1/prices", []) if p["id"] == price_id), None)

    def find_portal_configuration(self, configuration_id: str) -> Obj | None:
        return next((c for c in self.lists.get("/v1/billing_portal/configurations", [])
                     if c["id"] == configuration_id), None)

    def signing_endpoints(self) -> list[tuple[Obj, str]]:
        return [(e, self.endpoint_secrets.get(e["id"], "")) for e in self.lists.get("/v1/webhook_endpoints", [])]

    # What the tests look at.
    def objects(self, path: str) -> list[Obj]:
        return self.payments.objects(path)

    @property
    def writes(self) -> list[tuple[str, str]]:
        return self.payments.writes

    @property
    def deliveries(self) -> list[tuple[str, int | None]]:
        return self.payments.deliveries

    def complete_checkout(self, session_id: str) -> None:
        self.payments.complete_checkout(session_id)

    def answer_body(self, method: str, path: str, query: dict[str, list[str]], auth: str | None,
                    body: bytes) -> Answer:
        key = (auth or "").removeprefix("Bearer ")
        if key not in self.keys or MISSING_ID in path or not (self.payments.handles(path) or path == "/v1/prices"):
            return self.answer(method, path, query, auth)  # the catalog's reads, and the write probes
        self.requests.append((method, path))
        refused = stripe_keys.check(self.keys, self.account, key, method, path)
        if refused:
            return refused
        if path == "/v1/prices":
            # stripe-python sends lookup_keys[0]=...; Stripe also takes lookup_keys[]=...
            wanted = {v for k, values in query.items() if re.fullmatch(r"lookup_keys\[\d*\]", k) for v in values}
            found = [p for p in self.lists.get(path, []) if p.get("lookup_key") in wanted and p["active"]]
            return 200, {"object": "list", "data": found[:1], "has_more": False, "url": path}
        return self.payments.answer(method, path, query, form_of(body))


class BillingServer(JsonServer):
    def __init__(self, account: BillingAccount) -> None:
        self.account = account
        super().__init__(None, lambda: {"Request-Id": "req_" + secrets.token_hex(7)}, account.answer_body)

    def __exit__(self, *exc: object) -> None:
        self.account.payments.stopping.set()
        super().__exit__(*exc)
