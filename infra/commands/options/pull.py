"""`billing pull`'s options."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from infra.clients import http
from infra.commands import COMMANDS, options


def add_parser(sub: Any, project_dir: Path) -> None:
    text = COMMANDS["pull"].summary
    parser = sub.add_parser("pull", help=text, description=text + " (read-only)")
    options.stack(parser)
    parser.add_argument("--out", type=Path, help="directory to write (default: adopt/<stack>); never "
                                                 "inside stacks/")
    parser.add_argument("--force", action="store_true",
                        help="replace files at --out that this command did not write")
    parser.add_argument("--timeout", type=http.seconds_flag, default=http.DEFAULT_SECONDS,
                        help=f"total seconds for each request to Stripe (default: {http.DEFAULT_SECONDS:g}, "
                             f"at most {http.MAX_SECONDS:g})")
    parser.add_argument("--host", action="store_true",
                        help="read the host instead: add the variables already on the stack's Vercel "
                             "project to the import file (billing:adopt), so the first up adopts them")
    options.project(parser, project_dir)
