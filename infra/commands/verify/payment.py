"""`billing verify payment --stack S`: the inputs, the key (never argv), and the printed result.

Its flags are defined with the other parts' in `infra/commands/options/verify.py`.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from infra.catalog import Deployment, stack_config
from infra.clients import credentials, http
from infra.clients.stripe_api import Account
from infra.clients.stripe_transport import BoundedTransport
from infra.core import checks, exits
from infra.core.problems import ConfigError
from infra.probes import verify_record
from infra.probes.payment import flows


def main(args: argparse.Namespace, out: TextIO, project_dir: Path) -> int:
    stack: str | None = getattr(args, "stack", None)
    project: Path = getattr(args, "project", project_dir)
    if stack is None:
        print("verify payment: --stack S is needed (the stack whose prices and endpoint it proves)",
              file=sys.stderr)
        return exits.REFUSED
    try:
        config = stack_config.from_stack(project, stack)
        deployment = config.load()
    except ConfigError as error:
        print(error.render(), file=sys.stderr)
        return exits.REFUSED
    try:
        # The app's key by default, but any key of the stack's mode that calls the API from a server
        # will do (the deployer's rules): live mode's --refund needs more than the app's manifest.
        api_key = credentials.stripe_key("app", deployment.mode, stack, project, rules="deployer")
        problems = []
    except ConfigError as error:  # reported with every other input, nothing sent
        api_key, problems = "", [str(problem) for problem in error.problems]
    # The events are read with the read key (stripe:apiKey, whose manifest reads them; the app's
    # does not): with STRIPE_API_KEY given, that one key does both.
    read_key = api_key
    if not os.environ.get(credentials.STRIPE_API_KEY):
        try:
            read_key = credentials.stripe_key("deployer", deployment.mode, stack, project)
        except ConfigError as error:
            problems += [str(problem) for problem in error.problems]
    problems += _problems(args, deployment)
    if problems:
        print(f"verify payment: nothing was sent; {len(problems)} input(s) to fix:",
              *(f"  {p}" for p in problems), sep="\n", file=sys.stderr)
        return exits.REFUSED
    limits = http.Limits(getattr(args, "timeout", http.DEFAULT_SECONDS))
    options = flows.Options(_lookup_key(args, deployment), _plan_of(args, deployment), args.wait,
                            args.pay_wait, args.check_url, args.refund, limits)
    try:
        transport = BoundedTransport(limits)
        account = Account(api_key, transport=transport)
        events = account if read_key == api_key else Account(read_key, transport=transport)
    except ConfigError as error:  # an API root the key may not travel to
        print(error.render(), file=sys.stderr)
        return exits.REFUSED
    title = f"payment ({deployment.mode} mode, stack {stack}, price {options.lookup_key})"
    started = datetime.now(UTC)
    found = flows.run(deployment, account, options, _progress, _show, events)
    checks.write([(title, found)], out, getattr(args, "json", False))
    if not getattr(args, "no_record", False):  # on stderr, as `verify` says it: --json stays one document
        outcome = verify_record.Record("fail" if checks.failed(found) else "pass", started)
        print(verify_record.write(stack, project, {"payment": outcome}), file=sys.stderr)
    return exits.FINDINGS if checks.failed(found) else exits.OK


def _problems(args: argparse.Namespace, deployment: Deployment) -> list[str]:
    problems = []
    mode = deployment.mode
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
