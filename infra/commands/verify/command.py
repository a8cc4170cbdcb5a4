"""`billing verify`: probe a deployment from outside; only the stack's verify record is written.

`verify webhook|stripe|hosting` runs one part; `verify --stack S` runs all
three. Each part's outcome is recorded on the stack for `billing status`
(`infra.probes.verify_record`) unless `--no-record`. Inputs are resolved
before anything is sent, so every missing key is reported at once (exit
REFUSED) with its fix, not a half-run table. A server that fails, stalls or
answers nonsense fails the affected check and the run goes on; exit FINDINGS
when any check failed, OK otherwise. Every request has `--timeout` as its
total deadline, and the run as a whole `TOTAL_SECONDS`: a server that answers
each page just inside the request deadline, with a new cursor each time,
cannot hold it longer.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

from infra import hosts
from infra.catalog import Deployment, site_url, stack_config
from infra.catalog.guards import APP_KEY, ConfigGetter, key_prefix
from infra.clients import credentials, http
from infra.clients.credentials import STRIPE_APP_KEY
from infra.clients.stripe_api import Account
from infra.clients.stripe_transport import BoundedTransport
from infra.commands.verify import payment as payment_command
from infra.core import checks, exits
from infra.core.checks import Check
from infra.core.problems import ConfigError
from infra.core.redact import mask, shown
from infra.probes import hosting as hosting_probes
from infra.probes import stripe as verify_stripe
from infra.probes import verify_record
from infra.probes import webhook as webhook_probe
from infra.stripe.events import PROBE_EVENT
from infra.stripe.reference import webhook_event_types

PARTS = ("webhook", "stripe", "hosting")
TOTAL_SECONDS = 300.0
"""Every Stripe and host request of one run ends by then (the webhook probe's fixed few each keep
`--timeout`): many pages cannot add up past it."""


@dataclass
class _Part:
    title: str
    run: Callable[[], list[Check]]
    record: str | None = None
    """The check's name in the stack's verify record; None when this run does not speak for the
    stack (a webhook probed at a `--url` of the user's choosing)."""


def main(args: argparse.Namespace, out: TextIO) -> int:
    part: str | None = args.part
    stack: str | None = getattr(args, "stack", None)
    project: Path = args.project
    as_json: bool = getattr(args, "json", False)
    if part == "payment":  # it writes, so `verify --stack S` never runs it
        return payment_command.main(args, out, project)
    if part is None and stack is None:
        print("verify: give --stack S to run every check, or name one: webhook, stripe, hosting",
              file=sys.stderr)
        return exits.REFUSED
    limits = http.Limits(getattr(args, "timeout", http.DEFAULT_SECONDS),
                         until=time.monotonic() + TOTAL_SECONDS)
    config = stack_config.from_stack(project, stack) if stack else None
    deployment = config.load() if config else None
    get: ConfigGetter = config.get if config else (lambda _: None)
    plan, missing = [], []
    for name in (part,) if part else PARTS:
        try:
            plan.append(_prepare(name, args, deployment, project, get, limits))
        except ConfigError as error:  # every part's missing input is reported, not just the first
            missing += [f"  {problem}" for problem in error.problems]
        except UsageError as error:
            missing += [f"  {line}" for line in str(error).splitlines()]
    if missing:
        count = len(missing)
        print(f"verify: {count} input{'s' if count != 1 else ''} missing or wrong; nothing was sent:",
              *(mask(line) for line in missing), sep="\n", file=sys.stderr)
        return exits.REFUSED
    results, outcomes = [], {}
    for step in plan:
        print(f"verifying {step.title}...", file=sys.stderr)
        started = datetime.now(UTC)
        found = step.run()
        results.append((step.title, found))
        if step.record is not None:
            outcomes[step.record] = verify_record.Record("fail" if checks.failed(found) else "pass", started)
    checks.write(results, out, as_json, stack)
    record(args, stack, project, outcomes)
    return exits.FINDINGS if any(checks.failed(found) for _, found in results) else exits.OK


def record(args: argparse.Namespace, stack: str | None, project: Path,
           outcomes: dict[str, verify_record.Record]) -> None:
    """Each check's outcome as a stack tag for `billing status`, unless --no-record; said on stderr,
    so `--json` stays one document. A run that could not record still stands."""
    if stack is None or not outcomes or getattr(args, "no_record", False):
        return
    print(verify_record.write(stack, project, outcomes), file=sys.stderr)


def _prepare(
    part: str, args: argparse.Namespace, deployment: Deployment | None, project: Path, get: ConfigGetter,
    limits: http.Limits,
) -> _Part:
    progress = _progress
    if part == "webhook":
        url, secret = _webhook_inputs(args, deployment, project)
        event_type = getattr(args, "event_type", PROBE_EVENT)
        # Only the stack's own endpoint speaks for the stack; a --url of the user's choosing does not.
        own = deployment is not None and getattr(args, "url", None) is None
        return _Part(f"webhook {url}", lambda: webhook_probe.run(url, secret, event_type, limits.seconds,
                                                                 progress=progress),
                     "webhook" if own else None)
    if deployment is None:
        raise _usage(f"--stack: `verify {part}` needs the stack whose declarations it compares")
    stack = deployment.stack
    if part == "stripe":
        mode = deployment.mode
        read_key = credentials.stripe_key("deployer", mode, stack, project)
        try:
            credentials.config_value(STRIPE_APP_KEY, APP_KEY, stack, project)
        except ConfigError:
            app_key: str | None = None  # unreadable is a warning below; a wrong key is refused here
        else:
            app_key = credentials.stripe_key("app", mode, stack, project, env_var=STRIPE_APP_KEY)

        # One transport for both keys: when the API is unreachable, the second key does not wait again.
        # Made here, not when the part runs: a base URL refused for a key is refused before any request.
        transport = BoundedTransport(limits)
        reader = Account(read_key, transport=transport)
        app = Account(app_key, transport=transport) if app_key else None

        def stripe_checks() -> list[Check]:
            found = verify_stripe.run(deployment, reader, read_key, app, app_key, progress)
            if app_key is None:
                found.append(Check(
                    "app key is restricted", "warn", "the app key was not probed: it could not be read",
                    f"export {STRIPE_APP_KEY}, or run where `pulumi config get {APP_KEY} --stack {stack}` "
                    "works"))
            return found

        return _Part(f"stripe ({deployment.mode} mode, stack {stack})", stripe_checks, "stripe")
    host = hosts.of(deployment.settings)
    token = credentials.config_value(host.token_env, host.token, stack, project)
    credentials.api_base(host.api_base_env, host.api_default, token)  # refused before any part sends
    return _Part(f"hosting ({host.location(deployment.settings)}, stack {stack})",
                 lambda: hosting_probes.run(deployment, token, get, progress, limits), "hosting")


def _webhook_inputs(
    args: argparse.Namespace, deployment: Deployment | None, project: Path,
) -> tuple[str, str]:
    url: str | None = getattr(args, "url", None)
    secret_env: str | None = getattr(args, "secret_env", None)
    stack = deployment.stack if deployment else None
    problems = []
    if url is None and deployment is not None:
        catalog = deployment.catalog
        url = (credentials.stack_output("webhookUrl", deployment.stack, project)
               or site_url(deployment.settings.domain, catalog.webhook.path))
    if url is None:
        problems.append("--url: give the endpoint, or --stack S to use the stack's webhookUrl")
    elif not url.startswith("https://") and not (getattr(args, "allow_http", False)
                                                  and url.startswith("http://")):
        problems.append(f"--url: {shown(url)} is not https; Stripe only delivers to https endpoints "
                        "(pass --allow-http to probe a local http:// endpoint)")
    else:
        problems += _endpoint_url_problems(url)
    fetch = f"`export WEBHOOK_SECRET=$(pulumi stack output webhookSigningSecret --show-secrets --stack " \
            f"{stack or 'S'})` and pass --secret-env WEBHOOK_SECRET"
    if secret_env is not None:
        secret = os.environ.get(secret_env, "")
        state = "is not set" if not secret else f"holds a value with {key_prefix(secret)}"
        where = f"--secret-env: {secret_env} {state}"
    else:
        secret = (credentials.stack_output("webhookSigningSecret", stack, project) if stack else None) or ""
        where = "--secret-env: the stack's webhookSigningSecret output could not be read (no pulumi CLI, " \
                "or no `up` yet)" if stack else "--secret-env: name the variable holding the secret"
    if not secret.startswith("whsec_"):
        problems.append(f"{where}; export the endpoint's signing secret (whsec_...): {fetch}")
    event_type = getattr(args, "event_type", PROBE_EVENT)
    if event_type not in webhook_event_types():
        problems.append(f"--event-type: {shown(event_type)} is not a Stripe event type")
    if problems or url is None:
        raise _usage(*problems)
    return url, secret


class UsageError(Exception):
    """Bad flags or missing inputs: each line names the flag and the fix."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))


def _usage(*lines: str) -> UsageError:
    return UsageError(list(lines))


def _progress(step: str) -> None:
    print(f"probing: {step}", file=sys.stderr)


def _endpoint_url_problems(url: str) -> list[str]:
    """A URL Stripe could deliver to: a host, and no credentials (never printed back)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        return ["--url: not a URL Stripe can deliver to; give https://host/path"]
    if "@" in parts.netloc:
        return ["--url: the URL carries a user name or password, which Stripe never sends and which "
                "would be printed: give https://host/path"]
    if not parts.hostname or any(c.isspace() or ord(c) < 32 for c in url):
        return ["--url: no host, or spaces or control characters in the URL; give https://host/path"]
    return []
