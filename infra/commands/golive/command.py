"""`billing go-live --stack S`: the go-live runbook as one guided command that can be run again.

It walks the steps in `steps.STEPS`, each checked before the next: it starts at
the first one not done (from the facts `billing status` prints), never repeats
a finished one, and says what it will change and asks before each change.
Stopped anywhere (Ctrl-C, a failed step, a closed terminal), a second run
resumes. Exit 0: verified; 1: a check or the engine failed; 2: refused, bad
input, or the person declined (or stopped it); 3: an internal error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from infra.catalog.stack_files import open_stack, plain_config
from infra.clients import pulumi_cli
from infra.commands.golive.context import Context
from infra.commands.golive.terminal import Stop, on_terminal
from infra.core import exits
from infra.core.problems import ConfigError, plural
from infra.core.redact import mask
from infra.core.snapshot import Snapshot

NOT_A_TERMINAL = (
    "go-live: stdin is not a terminal. It asks before every change and reads the passphrase and keys at "
    "hidden prompts, so run it in a terminal: `billing go-live --stack {stack}`. In CI, on a test stack "
    "only: export PULUMI_CONFIG_PASSPHRASE, store the keys first, and pass --yes.")


def main(args: argparse.Namespace, out: TextIO) -> int:
    stack: str = args.stack
    project: Path = args.project
    plain = plain_config(open_stack(stack, Snapshot(project), None))
    live = plain.get("billing:mode") == "live" or stack == "live"
    if args.yes and live:
        print(f"go-live: --yes is refused on a live stack ({stack!r}): every change to live is asked for "
              "and answered by a person at a terminal. Run it without --yes.", file=sys.stderr)
        return exits.REFUSED
    term = on_terminal(out, args.yes)
    if not term.interactive and not args.yes:
        print(NOT_A_TERMINAL.format(stack=stack), file=sys.stderr)
        return exits.REFUSED
    # Loaded here, not at the top: the steps bring the catalog, the clients and the probes, which a
    # refusal above never needs.
    from infra.commands.golive.engine import EngineFailed  # noqa: PLC0415
    from infra.commands.golive.steps import STEPS  # noqa: PLC0415

    ctx = Context(stack, project, term, live)
    number, title = 0, "reading the stack's facts"
    try:
        ctx.refresh()
        for number, step in enumerate(STEPS, start=1):
            title = step.title
            why = step.done(ctx)
            if why is not None:
                term.say(f"{number}. {step.title}: done ({why})")
                continue
            term.say(f"\n{number}. {step.title}")
            step.run(ctx)
            ctx.refresh()
    except Stop as stop:
        return _stopped(ctx, number, title, stop.status, str(stop))
    except ConfigError as error:
        term.say(error.render())
        return _stopped(ctx, number, title, exits.REFUSED, "")
    except pulumi_cli.CliError as error:
        return _stopped(ctx, number, title, exits.FINDINGS, str(error))
    except EngineFailed as error:
        return _stopped(ctx, number, title, exits.FINDINGS, f"the engine failed:\n{error}")
    except KeyboardInterrupt:
        term.say("")
        return _stopped(ctx, number, title, exits.REFUSED, "interrupted")
    _summary(ctx)
    return exits.OK


def _stopped(ctx: Context, number: int, title: str, status: int, why: str) -> int:
    if why:
        ctx.term.say(mask(why))  # the last guard: whatever raised it, no secret's shape is shown
    if status == exits.REFUSED and ctx.updated:
        # REFUSED says nothing was applied; this run's update was, whatever was refused after it.
        status = exits.FINDINGS
        ctx.term.say("This run's update stays applied (above); what follows it is not done yet.")
    acts = ctx.term.acts
    if acts.visits or acts.typed or acts.confirmations:
        ctx.term.say(acts_line(ctx, "Your acts so far"))
    ctx.term.say(f"stopped at step {number} ({title}); run `billing go-live --stack {ctx.stack}` again to "
                 "resume")
    return status


def _summary(ctx: Context) -> None:
    say = ctx.term.say
    say("")
    say(f"go-live of stack {ctx.stack!r} ({ctx.mode} mode): verified, in {ctx.elapsed()}")
    say("Created or changed in this run:" if ctx.created else "Created or changed in this run: nothing")
    for line in ctx.created:
        say(f"  {line}")
    say("Checked:" if ctx.checked else "Checked: nothing new (every step was done before)")
    for line in ctx.checked:
        say(f"  {line}")
    if not ctx.term.yes:  # with --yes nobody was asked anything
        say(acts_line(ctx, "Your acts"))


def acts_line(ctx: Context, label: str) -> str:
    """The acts the person performed: the command and each form, page or checkout outside the
    terminal, then what they typed at go-live's prompts."""
    acts = ctx.term.acts
    outside = 1 + len(acts.visits)
    return (f"{label}: {outside} outside go-live's prompts (this command"
            + "".join(f"; {visit}" for visit in acts.visits) + "), "
            f"{plural(acts.typed, 'value')} typed at hidden prompts, "
            f"{plural(acts.confirmations, 'question')} answered")
