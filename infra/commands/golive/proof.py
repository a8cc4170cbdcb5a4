"""Steps 8 and 9 of go-live: `billing verify` (webhook, Stripe, host) stopping at the first part that
fails, with its fix; then the payment proof, as `billing verify payment` runs it.

Both run the `verify` command's own code, so what go-live checks, prints and
records is what `billing verify` does. A part that `verify` recorded as passed
(the readiness facts) is not run again.
"""

from __future__ import annotations

import argparse
from decimal import Decimal

from infra.clients import http
from infra.commands.golive.context import Context
from infra.commands.golive.terminal import Stop
from infra.commands.options.verify import DEFAULT_PAY_WAIT, DEFAULT_WAIT
from infra.commands.verify import command as verify_command
from infra.commands.verify import payment as payment_command
from infra.core import exits
from infra.probes import verify_record
from infra.stripe.events import PROBE_EVENT


def recorded(ctx: Context, check: str) -> str | None:
    """What readiness says of `check` when `verify` recorded it as passed since the last update (its
    `verify` item, by the stack tag it names), else None."""
    facts = ctx.facts or ctx.refresh()
    found = next((item for item in facts.items
                  if item.step == "verify" and item.field == verify_record.tag(check)), None)
    return found.what if found is not None and found.ok else None


def verify_done(ctx: Context) -> str | None:
    passed = [recorded(ctx, part) for part in verify_command.PARTS]
    return "; ".join(p for p in passed if p) if all(passed) else None


def verify(ctx: Context) -> None:
    for part in verify_command.PARTS:
        if recorded(ctx, part):
            ctx.term.say(f"verify {part}: passed since the last update; not run again")
            continue
        args = argparse.Namespace(part=part, stack=ctx.stack, project=ctx.project, json=False,
                                  timeout=http.DEFAULT_SECONDS, url=None, secret_env=None, allow_http=False,
                                  event_type=PROBE_EVENT)
        status = verify_command.main(args, ctx.term.out)
        ctx.checked.append(f"verify {part}: {'passed' if status == exits.OK else 'did not pass'}")
        if status != exits.OK:
            raise Stop(status, f"verify {part} did not pass: its fix is above; run go-live again after it")


def payment_done(ctx: Context) -> str | None:
    return recorded(ctx, "payment")


def smoke_codes(ctx: Context) -> list[str]:
    """The promotion codes of the stack's 100%-off coupons: what the live checkout is paid with."""
    return [code for coupon in ctx.deployment().settings.coupons.values()
            if coupon.percent_off == Decimal(100) for code in coupon.promotion_codes]


def payment(ctx: Context) -> None:
    if ctx.live:
        codes = smoke_codes(ctx)
        ctx.term.say("The payment proof on live: go-live opens a Checkout Session for the catalog's first "
                     "paid price; you pay it in a browser, then it waits for the events, checks the portal, "
                     "and cancels the subscription. "
                     + (f"Use the promotion code {' or '.join(codes)} (100% off) at the checkout."
                        if codes else "No 100%-off promotion code is in billing:coupons: the checkout "
                        "charges the full price (refund it in the Dashboard)."))
        question = "Open the live Checkout Session now?"
    else:
        ctx.term.say("The payment proof on test: a customer with Stripe's test card subscribes to the "
                     "catalog's first paid price; go-live waits for the events, opens a portal session, "
                     "cancels, and deletes the customer.")
        question = "Run it now (it creates, then deletes, a test customer)?"
    if not ctx.term.confirm(question):
        raise Stop(exits.REFUSED, "declined: the payment proof did not run")
    args = argparse.Namespace(stack=ctx.stack, project=ctx.project, price=None, check_url=None,
                              wait=DEFAULT_WAIT, pay_wait=DEFAULT_PAY_WAIT,
                              refund=False, timeout=http.DEFAULT_SECONDS, json=False)
    if ctx.live:
        ctx.term.acts.visited("the live checkout, paid in a browser")
    status = payment_command.main(args, ctx.term.out, ctx.project)
    ctx.checked.append(f"payment proof: {'passed' if status == exits.OK else 'did not pass'}")
    if status != exits.OK:
        raise Stop(status, "the payment proof did not pass: its fix is above")
