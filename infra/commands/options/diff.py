"""`billing diff`'s options."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from infra.commands import COMMANDS, options


def add_parser(sub: Any, project_dir: Path) -> None:
    text = COMMANDS["diff"].summary
    parser = sub.add_parser("diff", help=text, description=text + "; exit 1 on warnings, 2 on errors")
    parser.add_argument("--base", required=True, metavar="REV", help="git revision to compare with, e.g. "
                        "origin/main")
    parser.add_argument("--stack", help="stack name (default: every stack with a Pulumi.<stack>.yaml)")
    parser.add_argument("--format", choices=("text", "markdown", "json"), default="text",
                        help="json: every change with the resource it lands on and the step predicted")
    parser.add_argument("--explain", action="store_true",
                        help="text: after each advice, cite where the terraform provider does it "
                        "(file and lines)")
    options.project(parser, project_dir)
