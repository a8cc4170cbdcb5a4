"""`billing export --stack S --format json|ts`: print the app's tier contract.

Price IDs come from the deployed stack's `priceIds` output: `--outputs FILE`
(what `pulumi stack output --json` wrote), else the Pulumi CLI when it can read
the stack; without either the contract still carries every lookup key, which
the app resolves with `prices.list(lookup_keys=[...])`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from infra.catalog import tier_contract
from infra.clients import credentials
from infra.commands.config import engine_config
from infra.core import exits, sources
from infra.core.problems import ConfigError, Problem


def main(args: argparse.Namespace, out: TextIO) -> int:
    config = engine_config(args)
    deployment = config.load()
    outputs = _outputs(args.outputs) if args.outputs else credentials.stack_outputs(args.stack, args.project)
    ids = tier_contract.price_ids(outputs.get("priceIds") if isinstance(outputs, dict) else None)
    if not ids:
        print(f"export: no price IDs (no `up` yet, or the stack's outputs are not at hand: pass --outputs "
              f"FILE from `pulumi stack output --json --stack {args.stack}`); the contract has lookup keys",
              file=sys.stderr)
    contract = tier_contract.build(deployment.catalog, deployment.stack, deployment.mode, ids)
    if args.format == "ts":
        command = f"billing export --stack {args.stack} --format ts"
        out.write(tier_contract.to_typescript(contract, command))
    else:
        out.write(tier_contract.to_json(contract))
    return exits.OK


def _outputs(path: Path) -> Any:
    # The one bounded reader: a pipe or device is refused, never waited on; nesting and size are capped.
    parsed, problems = sources.read_json(path)
    if problems:
        raise ConfigError([Problem(problem.file, problem.line, "--outputs", f"{problem.message}; write it "
                                   "with `pulumi stack output --json --stack S > FILE`")
                           for problem in problems])
    if not isinstance(parsed, dict):
        raise ConfigError([Problem(str(path), None, "--outputs", "expected a JSON object of outputs, as "
                                   "`pulumi stack output --json` writes")])
    return parsed
