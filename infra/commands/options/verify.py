"""`billing verify`'s options: every part's, and `verify payment`'s own."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from infra.clients import http
from infra.commands import COMMANDS, options
from infra.stripe.events import PROBE_EVENT

PAYMENT = ("prove one subscription end to end: test mode creates, checks and deletes it by itself; "
           "live mode opens a Checkout Session for a person to pay")
_LIMITS = f"(default: {http.DEFAULT_SECONDS:g}, at most {http.MAX_SECONDS:g})"
API_TIMEOUT = f"total seconds for each request to the API, its whole answer included {_LIMITS}"
WEBHOOK_TIMEOUT = (f"total seconds for each request, its whole answer included; a webhook probe with no "
                   f"answer by then counts as undelivered {_LIMITS}")
DEFAULT_WAIT = 60.0
DEFAULT_PAY_WAIT = 900.0


def add_parser(sub: Any, project_dir: Path) -> None:
    verify = sub.add_parser(
        "verify", help=COMMANDS["verify"].summary,
        description="Probe a deployment from outside: `verify --stack S` runs webhook, stripe and "
                    "hosting, which only read (and POST probe events to the app's own endpoint); "
                    "`verify payment` creates a customer and a subscription, so it runs only when named. "
                    "Each check's outcome is recorded on the stack as a tag for `billing status` "
                    "(`--no-record`: not). Exit 1 if any check fails, 2 on bad input, 3 on an internal "
                    "error.")
    # `verify --stack S` alone runs every part; flags may come before or after the part's name.
    _common(verify, project_dir, argparse.SUPPRESS, WEBHOOK_TIMEOUT)
    _webhook_flags(verify, None)
    parts = verify.add_subparsers(dest="part")
    webhook = parts.add_parser(
        "webhook", help="POST signed, forged and replayed events to the app's webhook endpoint",
        description="POST signed, forged and replayed Stripe-shaped events to the app's webhook endpoint.")
    _common(webhook, project_dir, argparse.SUPPRESS, WEBHOOK_TIMEOUT)
    _webhook_flags(webhook, argparse.SUPPRESS)
    payment = parts.add_parser("payment", help=PAYMENT, description=PAYMENT)
    _common(payment, project_dir, argparse.SUPPRESS, API_TIMEOUT)
    _payment_flags(payment)
    for name, text in (("stripe", "compare the Stripe account with the stack, and probe the app key"),
                       ("hosting", "check that the stack's host (Vercel or a Cloudflare Worker) holds every "
                                   "value where it belongs")):
        _common(parts.add_parser(name, help=text, description=text), project_dir, argparse.SUPPRESS,
                API_TIMEOUT)


def _webhook_flags(parser: argparse.ArgumentParser, suppress: Any) -> None:
    def default(value: Any) -> Any:
        return suppress if suppress is not None else value

    parser.add_argument("--url", default=default(None),
                        help="the webhook endpoint (default: the stack's webhookUrl)")
    parser.add_argument("--secret-env", metavar="VAR", default=default(None),
                        help="environment variable holding the endpoint's whsec_ secret, never argv "
                             "(default: the stack's webhookSigningSecret output, through the pulumi CLI)")
    parser.add_argument("--allow-http", action="store_true", default=default(False),
                        help="allow http:// for a local endpoint")
    parser.add_argument("--event-type", default=default(PROBE_EVENT),
                        help=f"a real event type the handler ignores (default: {PROBE_EVENT})")


def _common(parser: argparse.ArgumentParser, project_dir: Path, default: Any, timeout_help: str) -> None:
    options.stack(parser, default)
    parser.add_argument("--timeout", type=http.seconds_flag, default=default, help=timeout_help)
    parser.add_argument("--json", action="store_true", default=default, help="print the result as JSON")
    parser.add_argument("--no-record", action="store_true", default=default,
                        help="do not record each check's outcome on the stack (by default a stack tag "
                             "`billing:verify:<check>`, set with the pulumi CLI, that `billing status` "
                             "reads)")
    options.project(parser, None, default)


def _payment_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--price", metavar="LOOKUP_KEY", default=None,
                        help="the paid price to subscribe to, by lookup key (default: the catalog's first)")
    parser.add_argument("--check-url", metavar="URL", default=None,
                        help="the app's endpoint that answers JSON naming a customer's plan "
                             "(called with ?customer=cus_...)")
    parser.add_argument("--wait", type=_seconds, default=DEFAULT_WAIT,
                        help=f"seconds to wait for each delivery and for the app (default {DEFAULT_WAIT:g})")
    parser.add_argument("--pay-wait", type=_seconds, default=DEFAULT_PAY_WAIT,
                        help=f"live mode: seconds to wait for the payment (default {DEFAULT_PAY_WAIT:g})")
    parser.add_argument("--refund", action="store_true", help="live mode: refund the payment at the end")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError("give between 0 and 3600 seconds")
    return value
