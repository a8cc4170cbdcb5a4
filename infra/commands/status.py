"""`billing status --stack S`: where a stack is in going live, and the command that fixes each gap.

Read-only (the facts come from `infra.probes.readiness`). Exit OK only when the
stack is ready to go live: the CLI new enough, logged in, the stack created,
every setting and key set and of the right kind (checked with the real keys),
no example value of this repository left, the policy pack's virtualenv built;
and, once the stack has had an update, the host's running app has every value it wrote and every `verify`
check passed since. Before the first update nothing after the settings is a
gap: going live is that first `up`. Otherwise FINDINGS, each gap with its fix;
REFUSED for bad input (no such stack, or a stack file that is not a readable file).
"""

from __future__ import annotations

import argparse
from typing import TextIO

from infra.core import exits
from infra.core.escape import terminal
from infra.core.problems import plural
from infra.core.redact import mask
from infra.probes import readiness


def main(args: argparse.Namespace, out: TextIO) -> int:
    stack: str = args.stack
    found = readiness.read(stack, args.project)

    def say(line: str) -> None:
        # Items quote the CLI's errors and answers, the backend's URL and the host's answers: escaped,
        # and anything shaped like a secret masked.
        print(mask(terminal(line)), file=out)

    say(f"status of stack {stack!r}")
    for item in found.items:
        say(f"  {'ok' if item.ok else 'TODO':<4}  {item.what}")
        if item.fix:
            say(f"        fix: {item.fix}")
    if found.missing:
        say(f"not ready to go live: {plural(len(found.missing), 'item')} to do, each with its fix above")
        return exits.FINDINGS
    if found.last_update is None:
        say(f"ready to go live: next `pulumi preview --stack {stack} --policy-pack policies`, then "
            f"`pulumi up --stack {stack} --policy-pack policies`")
    else:
        say(f"ready to go live: the last update ({found.last_update}) is on the host and every verify check "
            f"passed since; a change goes `pulumi preview --stack {stack} --policy-pack policies` first")
    return exits.OK
