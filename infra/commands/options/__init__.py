"""How each command's options are defined: light, so `billing COMMAND --help` loads none of what it runs.

pip's `cmdoptions` and `base_command` split the same way. This package holds the
options several commands share, each defined once with one help text, and one
module per command (`options/<command>.py`, found by `Command.options`) with its
`add_parser(subparsers, project_dir)`. Those modules import only the standard
library, `infra.core` and each other; what a command runs (`Command.module`) is
imported by `infra.cli` only once the arguments are parsed, and
tests/repo/test_architecture.py checks no `--help` loads it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from infra.core.layout import DEFAULT_CATALOG

BILLING_STACK = "BILLING_STACK"
"""The environment variable that names the stack when `--stack` is not given (`stack_default`)."""
STACK_HELP = (f"stack name, e.g. test or live (default: ${BILLING_STACK}, else the stack "
              "`pulumi stack select` chose for this checkout)")
CATALOG_HELP = f"catalog file (default: billing:catalog, else {DEFAULT_CATALOG})"


def stack(parser: argparse.ArgumentParser, default: Any = None, help: str = STACK_HELP) -> None:
    parser.add_argument("--stack", default=default, help=help)


def catalog(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--catalog", help=CATALOG_HELP)


def project(parser: argparse.ArgumentParser, project_dir: Path | None, default: Any = None) -> None:
    """The project the command works on: the checkout (tests point it elsewhere); never shown."""
    parser.add_argument("--project", type=Path, default=project_dir if default is None else default,
                        help=argparse.SUPPRESS)
