"""`billing reprice`'s options."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from infra.commands import COMMANDS, options
from infra.core.layout import DEFAULT_CATALOG


def add_parser(sub: Any, project_dir: Path) -> None:
    text = COMMANDS["reprice"].summary
    parser = sub.add_parser("reprice", help=text, description=text)
    parser.add_argument("price", metavar="PLAN.PRICE", help="e.g. pro.monthly")
    parser.add_argument("amount", metavar="AMOUNT", help='the new amount in the major unit, e.g. 39.00')
    parser.add_argument("--key", help="the new price key (default: the first free <price>_v2, _v3, ...)")
    parser.add_argument("--catalog", type=Path, help=f"catalog file (default: {DEFAULT_CATALOG})")
    options.project(parser, project_dir)
