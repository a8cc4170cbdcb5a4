"""`billing pull --stack S [--out DIR]`: write catalog.yaml and import.json for an account.

Read-only against Stripe. The written catalog is validated with the stack's
settings before the command says it is done; the import file uses the names
the program declares for that catalog.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

import yaml

from infra import adoption, credentials, exits, pull, pull_host, stack_config
from infra.clients import http
from infra.clients.errors import ApiError
from infra.clients.stripe_api import Account
from infra.clients.stripe_transport import BoundedTransport
from infra.credentials import STRIPE_API_BASE
from infra.guards import DEPLOYER_KEY, key_mode, key_prefix
from infra.loader import load_deployment
from infra.problems import ConfigError, Problem
from infra.rak_names import describe
from infra.stripe_reference import api_keys_page

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
    parser.add_argument("--stack", required=True, help="stack name, e.g. test or live")
    parser.add_argument("--out", type=Path, help="directory to write (default: adopt/<stack>)")
    parser.add_argument("--timeout", type=http.seconds_flag, default=http.DEFAULT_SECONDS,
                        help=f"total seconds for each request to Stripe (default: {http.DEFAULT_SECONDS:g}, "
                             f"at most {http.MAX_SECONDS:g})")
    parser.add_argument("--host", action="store_true",
                        help="read the host instead: add the variables already on the stack's Vercel "
                             "project to the import file (billing:adopt), so the first up adopts them")
    parser.add_argument("--project", type=Path, default=project_dir, help=argparse.SUPPRESS)


def main(args: argparse.Namespace, out: TextIO) -> int:
    if args.host:
        return pull_host.main(args, out)
    project: Path = args.project
    stack: str = args.stack
    try:
        config = stack_config.from_stack(project, stack)
        mode = config.get("billing:mode") or stack
        key = credentials.config_value("STRIPE_API_KEY", DEPLOYER_KEY, stack, project)
        if key_mode(key) != mode:
            raise ConfigError([Problem("STRIPE_API_KEY", None, DEPLOYER_KEY,
                                       f"the key is {key_prefix(key)}..., but stack {stack!r} is in {mode} "
                                       f"mode; use a {mode} key from {api_keys_page(mode)}")])
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
    return _validate(project, stack, catalog_path, import_path, pulled.domain, out)


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


def _validate(project: Path, stack: str, catalog: Path, imports: Path, domain: str | None,
              out: TextIO) -> int:
    """Load the stack with the pulled files, exactly as `validate` and the program would."""
    overrides = {"billing:catalog": _shown(catalog, project), "billing:adopt": _shown(imports, project)}
    if domain:
        overrides.setdefault("billing:domain", domain)
    config = stack_config.from_stack(project, stack, overrides=overrides, overrides_from="pull")
    values = dict(config.values)
    # Only the shape matters here; the real secret is given once with `pulumi config set`.
    values.setdefault("billing:webhookSecret", stack_config.placeholder("billing:webhookSecret", "test"))
    try:
        load_deployment(stack, project, values.get, config.origin)
    except ConfigError as error:
        print(error.render(), file=sys.stderr)
        return exits.REFUSED
    print(f"validate: ok (stack {stack!r} with the pulled catalog and import file)", file=out)
    return exits.OK


def _shown(path: Path, project: Path) -> str:
    try:
        return str(path.resolve().relative_to(project.resolve()))
    except ValueError:
        return str(path.resolve())
