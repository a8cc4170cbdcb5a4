"""`billing status`'s options."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from infra.commands import COMMANDS, options


def add_parser(sub: Any, project_dir: Path) -> None:
    text = COMMANDS["status"].summary
    parser = sub.add_parser(
        "status", help=text + " (read-only)",
        description=text + ". Read-only. Exit 0 only when the stack is ready to go live: before its first "
                    "update, every setting and key set and the policy pack's virtualenv built (the first "
                    "`pulumi up` is going live); after it, also the host's app redeployed with the values "
                    "written and every `billing verify` check passed since the last update. Exit 1 when "
                    "something is still to do.")
    options.stack(parser)
    options.project(parser, project_dir)
