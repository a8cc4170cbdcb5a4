"""`billing plan`'s options."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from infra.commands import COMMANDS, options


def add_parser(sub: Any, project_dir: Path) -> None:
    text = COMMANDS["plan"].summary
    parser = sub.add_parser("plan", help=text, description=text)
    options.stack(parser)
    options.catalog(parser)
    options.project(parser, project_dir)
    parser.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                        help="markdown: the whole text plan as a fenced block (the PR job summary)")
    parser.add_argument("--verbose", action="store_true",
                        help="text: every input of every registration, nested (the default summarises "
                             "long ones)")
