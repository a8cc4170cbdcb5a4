"""The two sequences of `verify payment`: automatic in test mode, guided in live mode.

Test mode: a tagged customer with Stripe's test card, a subscription to the
chosen price, its events delivered, (the app's own report), a portal
session, the cancellation and its event; then the customer is deleted.
Live mode never charges a card by itself: it opens a Checkout Session, a
person pays, and the same steps follow; refunds only with --refund.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from infra.catalog import Deployment, site_url
from infra.clients import errors, http
from infra.clients.errors import ApiError
from infra.clients.stripe_api import Account
from infra.core.checks import Check, Progress
from infra.probes.payment.steps import (
    TAG,
    TEST_CARD,
    Created,
    StepFailed,
    Steps,
    app_reports,
    delivered,
    fix_for,
    one,
    price_id,
    read_key_fix,
)
from infra.stripe.reference import dashboard_base

SUBSCRIBED = ("customer.subscription.created",)
PAID_AT_CHECKOUT = ("checkout.session.completed", "customer.subscription.created")
CANCELED = ("customer.subscription.deleted",)
PAY_POLL_SECONDS = 1.0  # a person is paying: once a second is enough


@dataclass(frozen=True)
class Options:
    lookup_key: str
    plan_key: str
    wait: float
    """Seconds to wait for each delivery, and for the app's report."""
    pay_wait: float
    """Live mode: seconds to wait for the person to pay."""
    check_url: str | None
    refund: bool
    limits: http.Limits


def run(deployment: Deployment, account: Account, options: Options, progress: Progress,
        show: Callable[[str], None], events: Account | None = None) -> list[Check]:
    """Every step, then cleanup, whatever happened: a failure, an API error or Ctrl-C. `events`
    reads the events the run caused (the read key), `account` makes and undoes the rest; one key
    may be both."""
    steps, created = Steps(progress), Created()
    run_id = "run_" + secrets.token_hex(6)
    accounts = (account, events or account)
    try:
        if deployment.mode == "test":
            _test_mode(deployment, accounts, options, steps, created, run_id)
        else:
            _live_mode(deployment, accounts, options, steps, created, run_id, show)
    except KeyboardInterrupt:
        steps.checks.append(Check("interrupted", "fail", "stopped by Ctrl-C; cleaning up what the run made"))
    finally:
        _cleanup(account, steps, created, deployment.mode)
    return steps.checks


def _test_mode(deployment: Deployment, accounts: tuple[Account, Account], options: Options, steps: Steps,
               created: Created, run_id: str) -> None:
    account = accounts[0]
    since = int(time.time()) - 5  # Stripe's clock and ours may differ by a little
    price = ""

    def find_price() -> str:
        nonlocal price
        price = price_id(account, options.lookup_key)
        return f"{options.lookup_key} is {price}"

    def customer() -> str:
        answer = account.send("post", "/v1/customers", name=f"billing verify {run_id}",
                              description="created by `billing verify payment`; deleted by it",
                              metadata={TAG: run_id}, payment_method=TEST_CARD,
                              invoice_settings={"default_payment_method": TEST_CARD})
        created.customer = one(answer, "id", "customer")
        return f"{created.customer} ({TAG}={run_id}) with Stripe's test card {TEST_CARD}"

    def subscribe() -> str:
        answer = account.send("post", "/v1/subscriptions", customer=created.customer,
                              items=[{"price": price}], metadata={TAG: run_id})
        created.subscription = one(answer, "id", "subscription")
        status = answer.get("status")
        if status not in ("active", "trialing"):
            raise StepFailed(f"{created.subscription} is {status!r}, not active: the test card's payment "
                             "did not complete", "check the price and the account's test-mode settings")
        return f"{created.subscription} is {status}"

    if steps.run("price", find_price) and steps.run("customer", customer) \
            and steps.run("subscription", subscribe):
        _after_payment(deployment, accounts, options, steps, created, since, SUBSCRIBED)


def _after_payment(deployment: Deployment, accounts: tuple[Account, Account], options: Options, steps: Steps,
                   created: Created, since: int, caused: tuple[str, ...]) -> None:
    """Delivery, the app's own report, the portal, the cancellation and its delivery."""
    mode, catalog = deployment.mode, deployment.catalog
    subscribed = set(catalog.webhook.events)
    customer = created.customer or ""
    account, events = accounts

    def wait_for(types: tuple[str, ...]) -> Callable[[], str]:
        expected = [t for t in types if t in subscribed]

        def wait() -> str:
            try:
                return delivered(events, mode, customer, subscribed, expected, since, options.wait)
            except ApiError as error:
                if error.kind != "permission":
                    raise
                raise StepFailed(str(error), read_key_fix(error)) from None

        return wait

    def check_url() -> str:
        return app_reports(options.check_url or "", customer, options.plan_key, options.wait, options.limits)

    def portal() -> str:
        return_url = site_url(deployment.settings.domain, catalog.portal.return_path)
        ours = [c for c in account.portal_configurations()
                if c.get("default_return_url") == return_url and c.get("active")]
        if not ours:
            raise StepFailed(f"no active portal configuration returns to {return_url}",
                             "run `pulumi up` for this stack")
        answer = account.send("post", "/v1/billing_portal/sessions", customer=customer,
                              configuration=ours[0]["id"], return_url=return_url)
        url = answer.get("url")
        if not isinstance(url, str) or not url.startswith("https://"):
            raise StepFailed("the portal session has no https URL", "check STRIPE_API_BASE")
        # The session URL logs the customer in: only its origin is shown.
        return f"a session with {ours[0]['id']} opens at {errors.origin(url)}"

    def cancel() -> str:
        subscription = created.subscription or ""
        answer = account.send("delete", f"/v1/subscriptions/{quote(subscription, safe='')}")
        if answer.get("status") != "canceled":
            raise StepFailed(f"{subscription} is {answer.get('status')!r} after the cancellation",
                             "cancel it in the Dashboard")
        created.canceled = True
        return f"{subscription} canceled"

    if not steps.run("delivery of the subscription's events", wait_for(caused)):
        return
    if options.check_url and not steps.run("the app reports the plan", check_url):
        return
    if steps.run("portal session", portal) and steps.run("cancellation", cancel):
        steps.run("delivery of the cancellation", wait_for(CANCELED))


def _live_mode(deployment: Deployment, accounts: tuple[Account, Account], options: Options, steps: Steps,
               created: Created, run_id: str, show: Callable[[str], None]) -> None:
    account = accounts[0]
    since = int(time.time()) - 5
    price = ""
    base = site_url(deployment.settings.domain, deployment.catalog.portal.return_path)

    def find_price() -> str:
        nonlocal price
        price = price_id(account, options.lookup_key)
        return f"{options.lookup_key} is {price}"

    def checkout() -> str:
        answer = account.send("post", "/v1/checkout/sessions", mode="subscription",
                              line_items=[{"price": price, "quantity": 1}], allow_promotion_codes="true",
                              success_url=base, cancel_url=base, metadata={TAG: run_id},
                              subscription_data={"metadata": {TAG: run_id}})
        created.checkout_session = one(answer, "id", "Checkout Session")
        url = one(answer, "url", "Checkout Session")
        show(f"Pay with a real card (the smoke-test promotion code makes it cheap), within "
             f"{options.pay_wait:g}s:\n  {url}")
        return f"{created.checkout_session} opened; its URL was printed"

    def paid() -> str:
        session = created.checkout_session or ""
        deadline = time.monotonic() + options.pay_wait
        while True:
            answer = account.send("get", f"/v1/checkout/sessions/{quote(session, safe='')}")
            if answer.get("status") == "complete":
                created.customer = one(answer, "customer", "completed Checkout Session")
                created.subscription = one(answer, "subscription", "completed Checkout Session")
                created.paid = True
                return f"{created.customer} subscribed: {created.subscription}"
            if answer.get("status") == "expired" or time.monotonic() >= deadline:
                raise StepFailed(f"{session} was not paid within {options.pay_wait:g}s "
                                 f"(status {answer.get('status')!r})", "run it again and pay within the time "
                                 "(--pay-wait sets it)")
            time.sleep(PAY_POLL_SECONDS)

    if steps.run("price", find_price) and steps.run("checkout session", checkout) \
            and steps.run("payment", paid):
        _after_payment(deployment, accounts, options, steps, created, since, PAID_AT_CHECKOUT)
        _refund(account, options, steps, created)


def _refund(account: Account, options: Options, steps: Steps, created: Created) -> None:
    how = (f"refund it in the Dashboard ({dashboard_base('live')}/payments, the payment of "
           f"{created.customer}), or run again with --refund")
    if not options.refund:
        steps.checks.append(Check("refund", "warn", "not refunded (no --refund)", how))
        return

    def refund() -> str:
        subscription = account.send("get", f"/v1/subscriptions/{quote(created.subscription or '', safe='')}")
        invoice = one(subscription, "latest_invoice", "subscription")
        # Since API 2025-03-31 an invoice's payment is an InvoicePayment, not invoice.payment_intent.
        payments = account.send("get", "/v1/invoice_payments", invoice=invoice, status="paid", limit=1)
        data = payments.get("data")
        payment = data[0].get("payment") if isinstance(data, list) and data and isinstance(data[0], dict) \
            else None
        intent = payment.get("payment_intent") if isinstance(payment, dict) else None
        if not isinstance(intent, str):
            raise StepFailed(f"{invoice} has no paid payment to refund", how)
        answer = account.send("post", "/v1/refunds", payment_intent=intent, metadata={TAG: "refund"})
        return f"{one(answer, 'id', 'refund')} for {intent} ({answer.get('status')})"

    steps.run("refund", refund)


def _cleanup(account: Account, steps: Steps, created: Created, mode: str) -> None:
    """Undo what the run made; a live customer who paid is kept (the payment and any refund need it)."""

    def undo() -> str:
        done = []
        if created.checkout_session and not created.paid:
            _quietly(lambda: account.send(
                "post", f"/v1/checkout/sessions/{quote(created.checkout_session or '', safe='')}/expire"))
            done.append(f"expired {created.checkout_session}")
        if created.customer and mode == "test":
            answer = account.send("delete", f"/v1/customers/{quote(created.customer, safe='')}")
            if answer.get("deleted") is not True:
                raise StepFailed(f"{created.customer} was not deleted",
                                 f"delete it in the Dashboard ({TAG} in its metadata)")
            done.append(f"deleted {created.customer} and with it its subscription")
        elif created.customer:
            if created.subscription and not created.canceled:  # a live subscription would renew: a charge
                sub = quote(created.subscription, safe="")
                if account.send("delete", f"/v1/subscriptions/{sub}").get("status") != "canceled":
                    raise StepFailed(f"{created.subscription} was not canceled", "cancel it in the Dashboard")
                done.append(f"canceled {created.subscription}")
            done.append(f"kept live customer {created.customer}: it paid, and the payment belongs to it")
        return "; ".join(done) or "nothing was created"

    try:
        steps.run("cleanup", undo)
    except KeyboardInterrupt:
        steps.checks.append(Check("cleanup", "fail", "interrupted during cleanup",
                                  f"delete what carries {TAG} in its metadata in the Dashboard"))


def _quietly(call: Callable[[], object]) -> None:
    """An expiry that fails because the session already completed or expired changes nothing."""
    try:
        call()
    except ApiError as error:
        if error.kind not in ("status", "not found"):
            raise StepFailed(f"could not expire the Checkout Session: {error}", fix_for(error)) from None
