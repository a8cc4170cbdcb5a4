"""`billing validate`'s options."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from infra.commands import COMMANDS, options


def add_parser(sub: Any, project_dir: Path) -> None:
    text = COMMANDS["validate"].summary
    parser = sub.add_parser("validate", help=text, description=text)
    options.stack(parser)
    options.catalog(parser)
    options.project(parser, project_dir)
    parser.add_argument("--from-pulumi", action="store_true",
                        help="check the real keys too: read the stack's decrypted config from "
                             "`pulumi config --json --show-secrets` into memory only (never "
                             "printed or written; needs the pulumi CLI and the stack's passphrase)")
