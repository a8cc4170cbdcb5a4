"""`billing pull --stack S [--out DIR]`: write catalog.yaml and import.json for an account.

Read-only against Stripe, and nothing is sent with a key of the wrong kind or
mode. The written catalog is validated with the stack's settings exactly as
`validate` will see it once billing:adopt points at it (exit FINDINGS when it
would refuse, with its problems); the import file uses the names the program
declares for that catalog.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

import yaml

from infra import adoption, credentials, exits, pull, stack_config, stack_default
from infra.clients import http
from infra.clients.errors import ApiError
from infra.clients.stripe_api import Account
from infra.clients.stripe_transport import BoundedTransport
from infra.credentials import STRIPE_API_BASE
from infra.guards import DEPLOYER_KEY
from infra.loader import load_deployment
from infra.problems import ConfigError, Problem
from infra.rak_names import describe

HEADER = """\
# Pulled from the Stripe account of stack {stack!r} ({mode} mode) by `billing pull`.
# Review it, then make it the catalog (stacks/catalog.yaml, or point billing:catalog
# here), and set billing:adopt to the import file beside it, so the first
# `pulumi up` adopts these objects instead of creating new ones. See README,
# "Adopting an existing account".
"""


def add_parser(sub: Any, project_dir: Path) -> None:
    text = "read an existing Stripe account; write a catalog and an import file for it"
    parser = sub.add_parser("pull", help=text, description=text + " (read-only)")
    parser.add_argument("--stack", help=stack_default.HELP)
    parser.add_argument("--out", type=Path, help="directory to write (default: adopt/<stack>)")
    parser.add_argument("--timeout", type=http.seconds_flag, default=http.DEFAULT_SECONDS,
                        help=f"total seconds for each request to Stripe (default: {http.DEFAULT_SECONDS:g}, "
                             f"at most {http.MAX_SECONDS:g})")
    parser.add_argument("--project", type=Path, default=project_dir, help=argparse.SUPPRESS)


def main(args: argparse.Namespace, out: TextIO) -> int:
    project: Path = args.project
    stack: str = args.stack
    try:
        config = stack_config.from_stack(project, stack)
        mode = config.get("billing:mode") or stack
        key = credentials.stripe_key("STRIPE_API_KEY", "deployer", mode, stack, project)
        account = Account(key, transport=BoundedTransport(http.Limits(args.timeout)))
        pulled = pull.pull(account, stack, config.get("billing:domain"),
                           progress=lambda step: print(f"reading {step}...", file=sys.stderr))
        if account.livemodes and account.livemodes != {mode == "live"}:
            raise ConfigError([Problem("STRIPE_API_KEY", None, DEPLOYER_KEY,
                                       f"Stripe answered with livemode={sorted(account.livemodes)} for a "
                                       f"{mode} stack; nothing was written")])
    except ConfigError as error:
        print(error.render(), file=sys.stderr)
        return exits.REFUSED
    except ApiError as error:
        print(f"could not read the Stripe account; nothing was written: {error}\n  fix: {refusal(error)}",
              file=sys.stderr)
        return exits.REFUSED
    directory: Path = args.out or project / "adopt" / stack
    directory.mkdir(parents=True, exist_ok=True)
    catalog_path, import_path = directory / "catalog.yaml", directory / "import.json"
    catalog_path.write_text(HEADER.format(stack=stack, mode=mode)
                            + yaml.safe_dump(pulled.catalog, sort_keys=False, allow_unicode=True, width=100))
    import_path.write_text(json.dumps(adoption.import_file(pulled.adopted), indent=2) + "\n")
    for line in pull.report(pulled):
        print(line, file=out)
    print(f"\nwrote {_shown(catalog_path, project)} and {_shown(import_path, project)}", file=out)
    return _validate(project, stack, catalog_path, import_path, out)


def refusal(error: ApiError) -> str:
    """What to do about a read that failed (its reason is already safe to print)."""
    key = "STRIPE_API_KEY (or stripe:apiKey)"
    if error.kind == "permission":
        names = describe(error.permissions) or "a permission"
        return (f"the key lacks {names}; give it Read on products, prices, webhook endpoints and the "
                "customer portal (the deployer manifest has these)")
    if error.kind == "auth":
        return f"the key is not valid for this account (401); check {key}"
    return error.fix(key, STRIPE_API_BASE)


def _validate(project: Path, stack: str, catalog: Path, imports: Path, out: TextIO) -> int:
    """Load the stack as `validate` will once its next step is done: billing:catalog and
    billing:adopt pointing at the pulled files, and nothing else assumed (no signing secret, no
    domain the stack does not set), so `validate: ok` here means `validate` says ok there."""
    overrides = {"billing:catalog": _shown(catalog, project), "billing:adopt": _shown(imports, project)}
    config = stack_config.from_stack(project, stack, overrides=overrides, overrides_from="pull")
    try:
        load_deployment(stack, project, config.get, config.origin)
    except ConfigError as error:
        print(f"validate: not yet ok; once billing:catalog and billing:adopt point at these files, "
              f"`billing validate --stack {stack}` reports the problems below: fix them, then run it",
              file=out)
        print(error.render(), file=sys.stderr)
        return exits.FINDINGS
    print(f"validate: ok (stack {stack!r} with the pulled catalog and import file)", file=out)
    return exits.OK


def _shown(path: Path, project: Path) -> str:
    try:
        return str(path.resolve().relative_to(project.resolve()))
    except ValueError:
        return str(path.resolve())
