"""Steps 6 and 7 of go-live: the checked keys, a real preview, the money diff, `up` when the person
says yes; then the host, redeployed when the app would otherwise keep the old values.

A failed `up` is never retried blindly: the engine's error is shown (masked),
then what `billing status` sees; the next run previews again and asks again.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

from infra import hosts
from infra.catalog import Deployment, stack_config
from infra.clients import credentials, pulumi_cli
from infra.clients.errors import ApiError
from infra.clients.vercel_api import Vercel
from infra.commands import validate
from infra.commands.diff import stripe as diff_stripe
from infra.commands.diff.command import StackDiff
from infra.commands.diff.command import text as diff_text
from infra.commands.diff.coupons import coupons
from infra.commands.golive import inputs
from infra.commands.golive.context import Context
from infra.commands.golive.engine import Engine, EngineFailed, EngineStopped, Run
from infra.commands.golive.setup import say_items
from infra.commands.golive.terminal import Stop
from infra.core import exits
from infra.core.escape import terminal
from infra.core.problems import ConfigError
from infra.hosts.vercel import DEPLOYED_TARGETS, FIRST_DEPLOY, REDEPLOY, TEAM
from infra.probes.facts import Item

MARKS = {"create": "+", "update": "~", "replace": "+-", "delete": "-", "import": "="}
REDEPLOY_WAIT = 20 * 60.0  # seconds a production build may take before go-live stops waiting
REDEPLOY_POLL = 5.0
_SETTLED = ("READY", "ERROR", "CANCELED")


def update_done(ctx: Context) -> str | None:
    """Done when the stack has had an update and readiness has no open `update` item (one that
    failed, or one still running): its item then says when it ended."""
    facts = ctx.facts or ctx.refresh()
    if facts.last_update is None or ctx.open("update"):
        return None
    return next(item.what for item in facts.items if item.step == "update")


def update(ctx: Context) -> None:
    facts = ctx.facts or ctx.refresh()
    engine = ctx.engine()
    pending = ctx.open("update")
    if pending:
        ctx.term.say(f"Stack {ctx.stack!r} is not where its last update should have left it. What "
                     "`billing status` sees now:")
        say_items(ctx, facts.missing)
        unsettled = [item for item in pending if item.field != "failed"]
        if unsettled:
            raise Stop(exits.FINDINGS, _unsettled(unsettled))
        if ctx.term.yes:
            raise Stop(exits.FINDINGS, "the last update did not succeed and is not retried blindly: run "
                                       "go-live in a terminal to preview again and decide")
        ctx.term.say("It is not retried blindly: the preview below shows what is left, and nothing is "
                     "applied without a yes.")
    ctx.term.say("Checking the catalog, the settings and the stored keys (decrypted in memory only), as "
                 f"`billing validate --stack {ctx.stack} --from-pulumi` does:")
    validate.main(argparse.Namespace(stack=ctx.stack, project=ctx.project, catalog=None, from_pulumi=True),
                  ctx.term.out)
    previewed = inputs.digests(ctx.project)
    preview = _preview(ctx, engine)
    if facts.last_update is None:
        _money(ctx, ctx.deployment())
    ctx.term.say(f"Preview: {preview.total_line()} (the policy pack ran and passed)")
    ctx.checked.append(f"preview with the policy pack: {preview.total_line()}")
    if not preview.steps:
        ctx.term.say("Nothing to change.")
        return
    count = len(preview.steps)
    if not ctx.term.confirm(f"Apply these {count} change{'s' if count != 1 else ''} to stack {ctx.stack!r} "
                            f"({ctx.mode} mode)?"):
        raise Stop(exits.REFUSED, "declined: nothing was changed")
    edited = inputs.changed(previewed, inputs.digests(ctx.project))
    if edited:
        raise Stop(exits.REFUSED, f"{', '.join(edited)} changed since the preview, so the yes was for "
                                  "another plan: nothing was applied. Run go-live again: it previews what "
                                  "is there now and asks again")
    _up(ctx, engine)


def _preview(ctx: Context, engine: Engine) -> Run:
    """The preview, each step it plans said; a policy violation is a refusal (exit 2), any other
    failure the engine's (exit 1). Either way nothing was changed."""
    ctx.term.say(f"Previewing stack {ctx.stack!r} with the policy pack (`pulumi preview --policy-pack "
                 "policies`)...")
    try:
        preview = engine.preview()
    except EngineFailed as error:
        if error.refused:
            ctx.term.say(f"The policy pack refused the change; it said:\n{_quoted(error)}")
            raise Stop(exits.REFUSED, "refused by the policy pack: nothing was changed; fix what it names, "
                                      "then run go-live again") from None
        ctx.term.say(f"The preview failed; the engine said:\n{_quoted(error)}")
        raise Stop(exits.FINDINGS, "the preview failed; nothing was changed") from None
    except EngineStopped as error:
        raise Stop(exits.FINDINGS, f"{error}; a preview changes nothing") from None
    if preview.unread or not preview.ended:
        raise Stop(exits.FINDINGS, f"the preview ended, but {_unread(preview)}: go-live cannot show all it "
                                   "plans, so nothing was asked and nothing was changed")
    for op, kind, name in preview.steps:
        ctx.term.say(f"  {MARKS[op]:<2} {terminal(kind)}  {terminal(name)}")
    return preview


def _up(ctx: Context, engine: Engine) -> None:
    """`up`, after the yes. However it ends, once it started the exit is 0 or 1, never 2 (which says
    nothing was applied), and what `billing status` sees is shown when it did not end as planned."""
    ctx.term.say(f"Updating stack {ctx.stack!r} (`pulumi up --policy-pack policies`)...")
    try:
        done = engine.up(ctx.term.say)
    except EngineFailed as error:
        ctx.term.say(f"The update failed; the engine said:\n{_quoted(error)}")
        _say_status(ctx)
        raise Stop(exits.FINDINGS, "the update failed and is not retried: fix the cause above, then run "
                                   "go-live again (it previews again and asks first)") from None
    except EngineStopped as error:
        ctx.term.say(f"{error}. Part of the update may have been applied.")
        _say_status(ctx)
        raise Stop(exits.FINDINGS, "the update was stopped at its deadline: run go-live again (it previews "
                                   "what is left and asks first)") from None
    except KeyboardInterrupt:
        ctx.term.say("")
        ctx.term.say("The update was interrupted (Ctrl-C): go-live stopped the pulumi CLI as Ctrl-C does. "
                     "Part of it may have been applied.")
        _say_status(ctx)
        raise Stop(exits.FINDINGS, "the update was interrupted: run go-live again (it previews what is left "
                                   "and asks first)") from None
    ctx.created.append(f"update of stack {ctx.stack!r}: {_done_line(done)}")
    ctx.updated = True
    if done.unread or not done.ended:
        # The CLI says the update succeeded; what go-live counted of it is incomplete.
        ctx.term.say(f"The update ended (the pulumi CLI exited 0), but {_unread(done)}: what it changed is "
                     f"not all counted here ({_done_line(done)} seen).")
        _say_status(ctx)
        raise Stop(exits.FINDINGS, "the update ended, but go-live could not read all it did: `pulumi stack "
                                   f"history --stack {ctx.stack}` shows it; run go-live again to go on")
    ctx.term.say(f"Updated: {_done_line(done)}.")


def _unread(run: Run) -> str:
    if run.unread:
        return f"{run.unread} line{'s' if run.unread != 1 else ''} of its event log could not be read"
    return "its event log ended before the engine's last event"


def _unsettled(items: list[Item]) -> str:
    """Why the update step cannot go on: the fix of each open item (above, with it), which says to
    wait only when an update is running."""
    if len(items) == 1 and items[0].fix:
        return f"the last update's state is open: {items[0].fix}; then run go-live again"
    return "the last update's state is open: do what each item above says, then run go-live again"


def _quoted(error: Exception) -> str:
    """The engine's words (masked and escaped by the engine), indented: none of its lines can pass
    for one of go-live's."""
    return "\n".join(f"  {terminal(line)}" for line in str(error).split("\n"))


def _say_status(ctx: Context) -> None:
    """What `billing status` sees after an update that did not end as planned; never a crash or a
    refusal: whatever `up` did is done, and the exit status says so."""
    ctx.term.say("What `billing status` sees now:")
    try:
        facts = ctx.refresh()
    except (ConfigError, pulumi_cli.CliError, KeyboardInterrupt) as error:
        said = "interrupted" if isinstance(error, KeyboardInterrupt) else str(error).split("\n", 1)[0]
        ctx.term.say(f"  (could not be read: {terminal(said[:300])}; run `billing status --stack "
                     f"{ctx.stack}`)")
        return
    say_items(ctx, facts.missing)


def _done_line(run: Run) -> str:
    counts = run.totals()
    past = {"create": "created", "update": "updated", "replace": "replaced", "delete": "deleted",
            "import": "imported"}
    return ", ".join(f"{counts[op]} {word}" for op, word in past.items() if counts[op]) or "no change"


def _money(ctx: Context, head: Deployment) -> None:
    """What the first update does to money, as `billing diff` says it: every plan, price and coupon
    against a stack with none (the base is the catalog with nothing in it)."""
    empty = dataclasses.replace(
        head, catalog=head.catalog.model_copy(update={"plans": {}, "entitlements": {}}),
        settings=head.settings.model_copy(update={"coupons": {}}))
    changes = diff_stripe.plans(empty, head) + diff_stripe.prices(empty, head) + coupons(empty, head)
    ctx.term.say("")
    diff_text([StackDiff(ctx.stack, head.mode, changes)], "nothing deployed yet", ctx.term.out)
    ctx.term.say("")


# ---------------------------------------------------------------------------------------- the host


def host_done(ctx: Context) -> str | None:
    """Done when readiness has no open `redeploy` item: each deployed target's running app has every
    value the update wrote (Vercel), or the host applies each value at once (a Worker)."""
    facts = ctx.facts or ctx.refresh()
    if facts.last_update is None or ctx.open("redeploy"):
        return None
    said = [item.what.removeprefix("host: ") for item in facts.items if item.step == "redeploy"]
    return "; ".join(said) or "nothing to redeploy"


def host(ctx: Context) -> None:
    """Each deployed target whose running app lacks a value the update wrote: a new build of its
    latest deployment through Vercel's API after a yes, followed until READY; by hand when the
    token may not deploy, or when the target has no deployment to build again."""
    pending = ctx.open("redeploy")
    unknown = [item for item in pending if item.field not in DEPLOYED_TARGETS]
    if unknown:
        say_items(ctx, unknown)
        raise Stop(exits.FINDINGS, "go-live cannot tell what the host's app runs with: fix the above, then "
                                   "run go-live again")
    deployment = ctx.deployment()
    vercel = _vercel(ctx, deployment)
    project = str(deployment.settings.vercel_project)
    for item in pending:
        target = str(item.field)
        said = item.what.removeprefix("host: ")
        ctx.term.say(f"The app's {target} runs without what the update wrote: {said}.")
        try:
            latest = vercel.latest_deployment(project, target)
        except ApiError as error:
            raise Stop(exits.FINDINGS, f"could not read the latest {target} deployment: {error}") from None
        if latest is None:
            _by_hand(ctx, f"there is no {target} deployment to build again: {FIRST_DEPLOY[target]}",
                     f"Deploy {target}", f"a {target} deployment by hand", f"{target} deployed by hand")
            continue
        if target == "preview":
            ctx.term.say("A new build of the latest preview gives it the test values; previews of other "
                         "branches get them when they are built again (a push).")
        if not ctx.term.confirm(f"Redeploy {target} now (a new build of the latest {target} deployment, "
                                "through Vercel's API)?"):
            raise Stop(exits.REFUSED, f"declined: {target} keeps the old values until it is redeployed")
        try:
            made = vercel.redeploy(project, target)
        except ApiError as error:
            if error.kind not in ("auth", "permission"):
                raise Stop(exits.FINDINGS, f"the redeploy failed: {error}") from None
            _by_hand(ctx, f"Vercel refused the redeploy ({error}): the stack's token may not deploy. "
                          f"{REDEPLOY[target][0].upper()}{REDEPLOY[target][1:]}.",
                     f"Redeploy {target}", f"a {target} redeploy by hand", f"{target} redeployed by hand")
            continue
        if made is None:  # gone between the two reads
            raise Stop(exits.FINDINGS, f"the latest {target} deployment is gone; run go-live again")
        new = _outside(made[1]["id"])
        _wait(ctx, vercel, target, str(made[1]["id"]), new)
        ctx.created.append(f"{target} redeployed from {_outside(made[0].get('uid'))}: {new}")
    still = [item for item in ctx.refresh().missing if item.step == "redeploy"]
    if still:
        say_items(ctx, still)
        raise Stop(exits.FINDINGS, "the host's app still lacks values the update wrote")


def _vercel(ctx: Context, deployment: Deployment) -> Vercel:
    host = hosts.of(deployment.settings)
    token = credentials.config_value(host.token_env, host.token, ctx.stack, ctx.project)
    return Vercel(token, stack_config.from_stack(ctx.project, ctx.stack).get(TEAM))


def _by_hand(ctx: Context, what: str, act: str, visit: str, done: str) -> None:
    """What go-live cannot do through the API: the person does it, then readiness says whether it
    took (the step's end reads the facts again)."""
    ctx.term.say(what)
    ctx.term.pause(act)
    ctx.term.acts.visited(visit)
    ctx.created.append(done)


def _outside(value: object) -> str:
    """A value Vercel answered, as one line of at most 100 characters (a "\n" in it is escaped too)."""
    return terminal(str(value)[:100])


def _wait(ctx: Context, vercel: Vercel, target: str, deployment_id: str, shown: str) -> None:
    """Follow `deployment_id` (shown as `shown`) until it settles or REDEPLOY_WAIT passes."""
    ctx.term.say(f"Building {shown}...")
    deadline = time.monotonic() + REDEPLOY_WAIT
    state = ""
    while True:
        try:
            state = vercel.deployment_state(deployment_id)
        except ApiError as error:
            raise Stop(exits.FINDINGS, f"could not follow {shown}: {error}") from None
        if state in _SETTLED or time.monotonic() >= deadline:
            break
        time.sleep(REDEPLOY_POLL)
    if state != "READY":
        raise Stop(exits.FINDINGS, f"the new deployment {shown} is {_outside(state or 'unknown')}: see its "
                                   "build log in the Vercel dashboard, then run go-live again")
    ctx.term.say(f"{shown} is READY: {target} reads the new values.")
