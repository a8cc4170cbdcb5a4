"""`billing verify payment --stack S`: flags, the key (never argv), and the printed result."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from infra.catalog import stack_config
from infra.catalog.guards import APP_KEY, key_prefix
from infra.catalog.loader import Deployment, load_deployment
from infra.clients import credentials, http
from infra.clients.stripe_api import Account
from infra.clients.stripe_transport import BoundedTransport
from infra.core import checks, exits
from infra.core.problems import ConfigError
from infra.core.redact import key_kind, wrong_mode
from infra.probes import verify_record
from infra.probes.payment import flows

STRIPE_API_KEY = "STRIPE_API_KEY"
DEFAULT_WAIT = 60.0
DEFAULT_PAY_WAIT = 900.0


def add_flags(parser: argparse.ArgumentParser) -> None:
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


def main(args: argparse.Namespace, out: TextIO, project_dir: Path) -> int:
    stack: str | None = getattr(args, "stack", None)
    project: Path = getattr(args, "project", project_dir)
    if stack is None:
        print("verify payment: --stack S is needed (the stack whose prices and endpoint it proves)",
              file=sys.stderr)
        return exits.REFUSED
    try:
        config = stack_config.from_stack(project, stack)
        deployment = load_deployment(stack, project, config.get)
        api_key = credentials.config_value(STRIPE_API_KEY, APP_KEY, stack, project)
    except ConfigError as error:
        print(error.render(), file=sys.stderr)
        return exits.REFUSED
    problems = _problems(args, deployment, api_key)
    if problems:
        print(f"verify payment: nothing was sent; {len(problems)} input(s) to fix:",
              *(f"  {p}" for p in problems), sep="\n", file=sys.stderr)
        return exits.REFUSED
    limits = http.Limits(getattr(args, "timeout", http.DEFAULT_SECONDS))
    options = flows.Options(_lookup_key(args, deployment), _plan_of(args, deployment), args.wait,
                            args.pay_wait, args.check_url, args.refund, limits)
    try:
        account = Account(api_key, transport=BoundedTransport(limits))
    except ConfigError as error:  # an API root the key may not travel to
        print(error.render(), file=sys.stderr)
        return exits.REFUSED
    title = f"payment ({deployment.mode} mode, stack {stack}, price {options.lookup_key})"
    started = datetime.now(UTC)
    found = flows.run(deployment, account, options, _progress, _show)
    if getattr(args, "json", False):
        json.dump(checks.as_json(title, found), out, indent=2)
        out.write("\n")
    else:
        checks.render(title, found, out)
    if not getattr(args, "no_record", False):  # on stderr, as `verify` says it: --json stays one document
        outcome = verify_record.Record("fail" if checks.failed(found) else "pass", started)
        print(verify_record.write(stack, project, {"payment": outcome}), file=sys.stderr)
    return exits.FINDINGS if checks.failed(found) else exits.OK


def _problems(args: argparse.Namespace, deployment: Deployment, api_key: str) -> list[str]:
    problems = []
    mode = deployment.mode
    if wrong_mode(api_key, mode) or key_kind(api_key) == "pk":
        problems.append(f"{STRIPE_API_KEY}: the key has {key_prefix(api_key)}; give a {mode}-mode secret or "
                        f"restricted key (sk_{mode}_/rk_{mode}_) that may write Customers, Subscriptions and "
                        "Checkout Sessions")
    if args.price is not None and args.price not in _paid_lookup_keys(deployment):
        known = ", ".join(_paid_lookup_keys(deployment))
        problems.append(f"--price: {args.price!r} is not a paid price of this stack; one of: {known}")
    if not _paid_lookup_keys(deployment):
        problems.append("the catalog has no paid price to subscribe to")
    url = args.check_url
    if url is not None and not (url.startswith("https://") or url.startswith("http://127.0.0.1")
                                or url.startswith("http://localhost")):
        problems.append(f"--check-url: {url!r} is not https (http is allowed for localhost only)")
    if mode == "test" and args.refund:
        problems.append("--refund: test mode deletes the customer instead; refunds are for live mode")
    return problems


def _paid_lookup_keys(deployment: Deployment) -> dict[str, str]:
    """Lookup key -> plan key, for every active price the stack holds, in catalog order."""
    catalog = deployment.catalog
    found = {}
    for plan_key, plan in catalog.plans.items():
        for price_key, price in plan.prices.items():
            lookup = catalog.held_lookup_key(plan_key, price_key)
            if lookup is not None and not price.archived:
                found[lookup] = plan_key
    return found


def _lookup_key(args: argparse.Namespace, deployment: Deployment) -> str:
    return str(args.price) if args.price else next(iter(_paid_lookup_keys(deployment)))


def _plan_of(args: argparse.Namespace, deployment: Deployment) -> str:
    return _paid_lookup_keys(deployment)[_lookup_key(args, deployment)]


def _progress(step: str) -> None:
    print(f"payment: {step}", file=sys.stderr)


def _show(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def parser_help() -> dict[str, Any]:
    text = ("prove one subscription end to end: test mode creates, checks and deletes it by itself; "
            "live mode opens a Checkout Session for a person to pay")
    return {"help": text, "description": text}
