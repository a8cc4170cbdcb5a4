"""`python -m infra verify`: probe a deployment from outside, read-only.

`verify webhook|stripe|hosting` runs one part; `verify --stack S` runs all
three. Inputs are resolved before anything is sent, so a missing key is
exit 2 with the fix, not a half-run table. Exit 1 when any check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from infra import checks, credentials, hosts, stack_config, verify_stripe, webhook_probe
from infra.checks import Check
from infra.guards import APP_KEY, DEPLOYER_KEY, ConfigGetter, key_prefix
from infra.loader import Deployment, load_deployment
from infra.problems import ConfigError
from infra.stripe_account import Account
from infra.stripe_reference import webhook_event_types

PARTS = ("webhook", "stripe", "hosting")
# The environment variables that take precedence over the stack's config.
STRIPE_API_KEY = "STRIPE_API_KEY"
STRIPE_APP_KEY = "STRIPE_APP_KEY"


def add_parser(sub: Any, project_dir: Path) -> None:
    verify = sub.add_parser(
        "verify", help="probe a deployment from outside (read-only)",
        description="Probe a deployment from outside: `verify --stack S` runs webhook, stripe and "
                    "hosting; exit 1 if any check fails, 2 on bad input.")
    # `verify --stack S` alone runs every part; flags may come before or after the part's name.
    _common(verify, project_dir, argparse.SUPPRESS)
    _webhook_flags(verify, None)
    parts = verify.add_subparsers(dest="part")
    webhook = parts.add_parser(
        "webhook", help="POST signed, forged and replayed events to the app's webhook endpoint",
        description="POST signed, forged and replayed Stripe-shaped events to the app's webhook endpoint.")
    _common(webhook, project_dir, argparse.SUPPRESS)
    _webhook_flags(webhook, argparse.SUPPRESS)
    for name, text in (("stripe", "compare the Stripe account with the stack, and probe the app key"),
                       ("hosting", "check that the stack's host (Vercel or a Cloudflare Worker) holds every "
                                   "value where it belongs")):
        _common(parts.add_parser(name, help=text, description=text), project_dir, argparse.SUPPRESS)


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
    parser.add_argument("--event-type", default=default(webhook_probe.DEFAULT_EVENT_TYPE),
                        help="a real event type the handler ignores (default: "
                             f"{webhook_probe.DEFAULT_EVENT_TYPE})")
    parser.add_argument("--timeout", type=float, default=default(10.0),
                        help="seconds before a probe counts as undelivered (default: 10)")


def _common(parser: argparse.ArgumentParser, project_dir: Path, default: Any) -> None:
    parser.add_argument("--stack", default=default, help="stack name, e.g. test or live")
    parser.add_argument("--json", action="store_true", default=default, help="print the result as JSON")
    parser.add_argument("--project", type=Path, default=default, help=argparse.SUPPRESS)


@dataclass
class _Part:
    title: str
    run: Callable[[], list[Check]]


def main(args: argparse.Namespace, out: TextIO, project_dir: Path) -> int:
    part: str | None = args.part
    stack: str | None = getattr(args, "stack", None)
    project: Path = getattr(args, "project", project_dir)
    as_json: bool = getattr(args, "json", False)
    if part is None and stack is None:
        print("verify: give --stack S to run every check, or name one: webhook, stripe, hosting",
              file=sys.stderr)
        return ConfigError.exit_code
    try:
        config = stack_config.from_stack(project, stack) if stack else None
        deployment = load_deployment(stack, project, config.get) if stack and config else None
        get: ConfigGetter = config.get if config else (lambda _: None)
        plan = [_prepare(p, args, deployment, project, get) for p in ((part,) if part else PARTS)]
    except ConfigError as error:
        print(error.render(), file=sys.stderr)
        return error.exit_code
    except UsageError as error:
        print(error, file=sys.stderr)
        return ConfigError.exit_code
    results = []
    for step in plan:
        print(f"verifying {step.title}...", file=sys.stderr)
        results.append((step.title, step.run()))
    failed = any(checks.failed(found) for _, found in results)
    if as_json:
        data: dict[str, Any] = checks.as_json(*results[0]) if len(results) == 1 else {
            "stack": stack, "ok": not failed, "results": [checks.as_json(t, c) for t, c in results]}
        json.dump(data, out, indent=2)
        out.write("\n")
    else:
        for index, (title, found) in enumerate(results):
            if index:
                print(file=out)
            checks.render(title, found, out)
    return 1 if failed else 0


def _prepare(
    part: str, args: argparse.Namespace, deployment: Deployment | None, project: Path, get: ConfigGetter,
) -> _Part:
    progress = _progress
    if part == "webhook":
        url, secret = _webhook_inputs(args, deployment, project)
        event_type = getattr(args, "event_type", webhook_probe.DEFAULT_EVENT_TYPE)
        timeout = getattr(args, "timeout", 10.0)
        return _Part(f"webhook {url}", lambda: webhook_probe.run(url, secret, event_type, timeout,
                                                                 progress=progress))
    if deployment is None:
        raise _usage(f"--stack: `verify {part}` needs the stack whose declarations it compares")
    stack = deployment.stack
    if part == "stripe":
        read_key = credentials.config_value(STRIPE_API_KEY, DEPLOYER_KEY, stack, project)
        try:
            app_key: str | None = credentials.config_value(STRIPE_APP_KEY, APP_KEY, stack, project)
        except ConfigError:
            app_key = None

        def stripe_checks() -> list[Check]:
            found = verify_stripe.run(deployment, Account(read_key), read_key,
                                      Account(app_key) if app_key else None, app_key, progress)
            if app_key is None:
                found.append(Check(
                    "app key is restricted", "warn", "the app key was not probed: it could not be read",
                    f"export {STRIPE_APP_KEY}, or run where `pulumi config get {APP_KEY} --stack {stack}` "
                    "works"))
            return found

        return _Part(f"stripe ({deployment.mode} mode, stack {stack})", stripe_checks)
    host = hosts.of(deployment.settings)
    token = credentials.config_value(host.token_env, host.token, stack, project)
    return _Part(f"hosting ({host.location(deployment.settings)}, stack {stack})",
                 lambda: host.verify(deployment, token, get, progress))


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
               or f"https://{deployment.settings.domain}{catalog.webhook.path}")
    if url is None:
        problems.append("--url: give the endpoint, or --stack S to use the stack's webhookUrl")
    elif not url.startswith("https://") and not (getattr(args, "allow_http", False)
                                                  and url.startswith("http://")):
        problems.append(f"--url: {url!r} is not https; Stripe only delivers to https endpoints "
                        "(pass --allow-http to probe a local http:// endpoint)")
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
    event_type = getattr(args, "event_type", webhook_probe.DEFAULT_EVENT_TYPE)
    if event_type not in webhook_event_types():
        problems.append(f"--event-type: {event_type!r} is not a Stripe event type")
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
