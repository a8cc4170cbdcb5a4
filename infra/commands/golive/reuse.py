"""The host's token a person already has, offered before the token form: exported in their shell,
or stored on another stack of this project (typically `test`).

Going live, a person is not starting from nothing: their test stack's config holds the host's
token, and their shell may export the variable the host's provider or `billing verify` reads.
Either is offered at a y/N question; after a yes it is stored in this stack as a typed token is
(encrypted, given to the CLI on its stdin), and the person never goes to the token form. A no, or
nothing to offer, is the form as before.

Nothing is offered without a person to answer (`--yes` in CI stores its keys beforehand). Each
value is checked with the rule a typed one meets before it is offered, and none is ever printed:
another stack's config is decrypted in memory only, by the call that reads this stack's
(`pulumi config --json --show-secrets`, within its deadline), with the passphrase this run already
has: a stack with a passphrase of its own is named and skipped.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from infra.catalog.stack_files import open_stack, plain_config, stacks
from infra.clients import pulumi_cli
from infra.commands.golive.context import Context
from infra.core.problems import ConfigError
from infra.core.snapshot import Snapshot
from infra.hosts import Host

MAX_STACKS = 3
"""Other stacks tried at most: each is one CLI call, with its own deadline."""


@dataclass(frozen=True)
class Offer:
    value: str
    source: str
    """Where it came from, as the run's summary lists it: a variable's name, or `stack 'test'`."""


def host_token(ctx: Context, host: Host, check: Callable[[str], str | None]) -> Offer | None:
    """The token the person agreed to store, or None (then the token form)."""
    if ctx.term.yes or not ctx.term.interactive:
        return None
    for variable in dict.fromkeys(v for v in (host.provider_token_env, host.token_env) if v):
        value = os.environ.get(variable, "").strip()
        if not value:
            continue
        problem = check(value)
        if problem is not None:
            ctx.term.say(f"{variable} is set in this shell but is not used: {problem}.")
            continue
        asked = f"Use the {host.title} token in {variable} (this shell's environment; it is not shown)?"
        return Offer(value, variable) if ctx.term.confirm(asked) else None
    for other in holding(ctx, host)[:MAX_STACKS]:
        try:
            value = pulumi_cli.decrypted_config(other, ctx.project).values.get(host.token, "")
        except pulumi_cli.CliError as error:
            ctx.term.say(f"Stack {other!r} holds a {host.title} token, but it could not be read ({error}); "
                         "a stack with a passphrase of its own is not opened here.")
            continue
        problem = check(value) if value else "it is empty"
        if problem is not None:
            ctx.term.say(f"The {host.title} token stored on stack {other!r} is not used: {problem}.")
            continue
        where = f"stack {other!r}"
        asked = f"Use the {host.title} token stored on {where}?"
        return Offer(value, where) if ctx.term.confirm(asked) else None
    return None


def holding(ctx: Context, host: Host) -> list[str]:
    """The project's other stacks whose file sets the host's token (sealed or not), test first."""
    files = Snapshot(ctx.project)
    found = []
    for other in stacks(ctx.project):
        if other == ctx.stack:
            continue
        try:
            config = plain_config(open_stack(other, files, None))
        except ConfigError:
            continue  # an unreadable stack file: its own validation says why
        if config.get(host.token) is not None:
            found.append(other)
    return found
