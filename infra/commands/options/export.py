"""`billing export`'s options."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from infra.commands import COMMANDS, options


def add_parser(sub: Any, project_dir: Path) -> None:
    text = COMMANDS["export"].summary
    command = sub.add_parser("export", help=text, description=text)
    options.stack(command)
    options.catalog(command)
    command.add_argument("--format", choices=("json", "ts"), default="json",
                         help="json for any app; ts for a typed module (Next.js, Workers)")
    command.add_argument("--outputs", type=Path, metavar="FILE",
                         help="the stack's outputs as `pulumi stack output --json --stack S > FILE` wrote "
                              "them, for price IDs (default: ask the pulumi CLI, if it can read the stack)")
    options.project(command, project_dir)
