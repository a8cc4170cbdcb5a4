"""`billing status`'s options."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from infra.commands import COMMANDS, options


def add_parser(sub: Any, project_dir: Path) -> None:
    text = COMMANDS["status"].summary
    parser = sub.add_parser("status", help=text + " (read-only)", description=text + ". Read-only; exit 0 "
                            "only when the stack is ready to go live, 1 when something is missing.")
    options.stack(parser)
    options.project(parser, project_dir)
