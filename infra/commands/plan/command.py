"""`billing plan --stack S`: the program run offline, every resource it registers, for a reviewer."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TextIO

import pulumi

from infra.commands.config import engine_config
from infra.commands.plan import offline, view
from infra.core import exits
from infra.core.escape import colour_wanted


def main(args: argparse.Namespace, out: TextIO) -> int:
    config = engine_config(args)
    config.load()  # every problem before the run
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
