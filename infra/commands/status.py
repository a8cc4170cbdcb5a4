"""`billing status --stack S`: where a stack is in going live, and the command that fixes each gap.

Read-only (the facts come from `infra.probes.readiness`). Exit OK only when the
stack is ready to go live: the CLI new enough, logged in, the stack created,
every setting and key set and of the right kind (checked with the real keys),
and no example value of this repository left. Otherwise FINDINGS, each gap
with its fix; REFUSED for bad input (no such stack).
"""

from __future__ import annotations

import argparse
from typing import TextIO

from infra.core import exits
from infra.core.problems import plural
from infra.probes import readiness


def main(args: argparse.Namespace, out: TextIO) -> int:
    stack: str = args.stack
    found = readiness.read(stack, args.project)
    print(f"status of stack {stack!r}", file=out)
    for item in found.items:
        print(f"  {'ok' if item.ok else 'TODO':<4}  {item.what}", file=out)
        if item.fix:
            print(f"        fix: {item.fix}", file=out)
    if found.missing:
        print(f"not ready to go live: {plural(len(found.missing), 'item')} to do, each with its fix above",
              file=out)
        return exits.FINDINGS
    print(f"ready to go live: next `pulumi preview --stack {stack} --policy-pack policies`", file=out)
    return exits.OK
