"""`billing go-live`'s options."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from infra.commands import COMMANDS, options


def add_parser(sub: Any, project_dir: Path) -> None:
    text = COMMANDS["go-live"].summary
    parser = sub.add_parser("go-live", help=text, description=text + ". It asks before every change; run it "
                            "again to resume where it stopped. Exit 0 verified, 1 a check failed, 2 refused "
                            "or declined, 3 internal error.")
    options.stack(parser)
    options.project(parser, project_dir)
    parser.add_argument("--yes", action="store_true",
                        help="answer yes to every question, for CI on a test stack (refused on live); "
                             "the passphrase comes from PULUMI_CONFIG_PASSPHRASE and the keys must be stored")
