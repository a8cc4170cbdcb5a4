"""`billing plan --stack S`: the program run offline, every resource it registers, for a reviewer."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from infra.commands import COMMANDS, options
from infra.core import exits
from infra.core.escape import colour_wanted

SUMMARY = COMMANDS["plan"].summary


def add_parser(sub: Any, project_dir: Path) -> None:
    parser = sub.add_parser("plan", help=SUMMARY, description=SUMMARY)
    options.stack(parser)
    options.catalog(parser)
    options.project(parser, project_dir)
    parser.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                        help="markdown: the whole text plan as a fenced block (the PR job summary)")
    parser.add_argument("--verbose", action="store_true",
                        help="text: every input of every registration, nested (the default summarises "
                             "long ones)")


def main(args: argparse.Namespace, out: TextIO) -> int:
    config = options.engine_config(args)
    config.load()  # every problem before the run
    # The mock runtime and the SDK load only when a plan is made, never for `billing plan --help`.
    import pulumi  # noqa: PLC0415

    from infra.commands.plan import offline, view  # noqa: PLC0415

    try:
        plan = offline.run_program(args.project / "__main__.py", args.stack, config.values,
                                   config.secret_keys)
    except pulumi.RunError as error:
        print(str(error), file=sys.stderr)
        return exits.REFUSED
    if args.format == "json":
        view.to_json(plan, config.placeholders, out)
    elif args.format == "markdown":
        view.to_markdown(plan, config.placeholders, out)
    else:
        view.to_text(plan, config.placeholders, out, verbose=args.verbose,
                     colour=colour_wanted(out, os.environ))
    return exits.OK
