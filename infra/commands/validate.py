"""`billing validate --stack S`: the catalog, the stack's config and the guards, checked as a whole."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from infra.catalog import Deployment, adoption
from infra.catalog.stack_config import EngineConfig
from infra.clients import pulumi_cli
from infra.commands.config import engine_config
from infra.core import exits
from infra.core.escape import terminal
from infra.core.problems import ConfigError, Problem, plural


def main(args: argparse.Namespace, out: TextIO) -> int:
    decrypted = _decrypted(args) if args.from_pulumi else None
    config = engine_config(args, decrypted.values if decrypted else None)
    deployment = config.load()
    _summary(args, deployment, config, out)
    warn(deployment)
    return exits.OK


def _decrypted(args: argparse.Namespace) -> pulumi_cli.DecryptedConfig:
    try:
        return pulumi_cli.decrypted_config(args.stack, args.project)
    except pulumi_cli.CliError as error:
        raise ConfigError([Problem("--from-pulumi", None, "(pulumi CLI)", f"{error}; nothing was checked")]) \
            from None


def _summary(args: argparse.Namespace, deployment: Deployment, config: EngineConfig, out: TextIO) -> None:
    catalog = deployment.catalog
    paid = sum(plan.paid for plan in catalog.plans.values())
    print(
        f"ok: stack {args.stack!r} ({deployment.mode} mode): {plural(len(catalog.plans), 'plan')} "
        f"({paid} paid), {plural(len(catalog.prices()), 'price')}, "
        f"{plural(len(catalog.webhook.events), 'webhook event')}, "
        f"{plural(len(catalog.entitlements), 'feature')}, "
        f"{plural(len(deployment.settings.coupons), 'coupon')}",
        file=out,
    )
    for line in adoption.summary(deployment.adopted):
        print(line, file=out)
    if args.from_pulumi:
        print("keys: checked, decrypted by the pulumi CLI in memory only (never printed)", file=out)
    elif config.placeholders:
        print(f"keys: NOT checked: {', '.join(config.placeholders)} are sealed (`secure:`) or unset here, "
              "so placeholders stood in; check the real ones with "
              f"`billing validate --stack {args.stack} --from-pulumi`", file=out)


def warn(deployment: Deployment) -> None:
    """The deployment's notices (examples left in a test stack...), on stderr."""
    for notice in deployment.notices:
        print(terminal(f"warning: {notice}"), file=sys.stderr)
