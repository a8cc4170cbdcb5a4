"""`billing keys`'s options."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from infra.commands import COMMANDS, options


def add_parser(sub: Any, project_dir: Path) -> None:
    text = COMMANDS["keys"].summary
    parser = sub.add_parser("keys", help=text, description=text)
    options.stack(parser)
    options.catalog(parser)
    options.project(parser, project_dir)
