"""Steps 5 and 6 of go-live: the checked keys, a real preview, the money diff, `up` when the person
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
from infra.clients import credentials
from infra.clients.errors import ApiError
from infra.clients.vercel_api import Vercel
from infra.commands import validate
from infra.commands.diff import stripe as diff_stripe
from infra.commands.diff.command import StackDiff
from infra.commands.diff.command import text as diff_text
from infra.commands.diff.coupons import coupons
from infra.commands.golive.context import Context
from infra.commands.golive.engine import EngineFailed, Run
from infra.commands.golive.setup import say_items
from infra.commands.golive.terminal import Stop
from infra.core import exits
from infra.core.checks import Check
from infra.hosts.vercel import TEAM
from infra.probes import vercel as vercel_probe

MARKS = {"create": "+", "update": "~", "replace": "+-", "delete": "-", "import": "="}
REDEPLOY_WAIT = 20 * 60.0  # seconds a production build may take before go-live stops waiting
REDEPLOY_POLL = 5.0
_SETTLED = ("READY", "ERROR", "CANCELED")


def update_done(ctx: Context) -> str | None:
    """Done when the stack's last update succeeded and readiness asks for no other."""
    facts = ctx.facts or ctx.refresh()
    if ctx.open("update") or facts.last_update is None:
        return None
    last = ctx.engine().last_update()
    if last is None or last[0] != "succeeded":
        return None
    return f"the last update ({last[1]}) succeeded"


def update(ctx: Context) -> None:
    facts = ctx.facts or ctx.refresh()
    engine = ctx.engine()
    # The update history, not the stack's `lastUpdate`: a file backend sets that at `stack init`.
    last = engine.last_update()
    if last is not None and last[0] != "succeeded":
        ctx.term.say(f"The last update of stack {ctx.stack!r} ({last[1]}) {last[0]}; it is not retried "
                     "blindly. What `billing status` sees now:")
        say_items(ctx, facts.missing)
        if ctx.term.yes:
            raise Stop(exits.FINDINGS, "the last update did not succeed: run go-live in a terminal to "
                                       "preview again and decide")
    ctx.term.say("Checking the catalog, the settings and the stored keys (decrypted in memory only), as "
                 f"`billing validate --stack {ctx.stack} --from-pulumi` does:")
    validate.main(argparse.Namespace(stack=ctx.stack, project=ctx.project, catalog=None, from_pulumi=True),
                  ctx.term.out)
    ctx.term.say(f"Previewing stack {ctx.stack!r} with the policy pack (`pulumi preview --policy-pack "
                 "policies`)...")
    try:
        preview = engine.preview()
    except EngineFailed as error:
        ctx.term.say(f"The preview failed; the engine said:\n{error}")
        raise Stop(exits.REFUSED, "the preview failed; nothing was changed") from None
    for op, kind, name in preview.steps:
        ctx.term.say(f"  {MARKS[op]:<2} {kind}  {name}")
    if last is None:
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
    ctx.term.say(f"Updating stack {ctx.stack!r} (`pulumi up --policy-pack policies`)...")
    try:
        done = engine.up(ctx.term.say)
    except EngineFailed as error:
        ctx.term.say(f"The update failed; the engine said:\n{error}")
        ctx.term.say("What `billing status` sees now:")
        say_items(ctx, ctx.refresh().missing)
        raise Stop(exits.FINDINGS, "the update failed and is not retried: fix the cause above, then run "
                                   "go-live again (it previews again and asks first)") from None
    ctx.outputs = done.outputs
    ctx.created.append(f"update of stack {ctx.stack!r}: {_done_line(done)}")
    ctx.term.say(f"Updated: {_done_line(done)}.")


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


def _target(ctx: Context) -> str:
    return "production" if ctx.live else "preview"


def host_done(ctx: Context) -> str | None:
    if ctx.open("redeploy"):
        return None
    deployment = ctx.deployment()
    host = hosts.of(deployment.settings)
    if host.applies_at_once:
        return f"{host.title} applies each value at once; nothing to redeploy"
    check = _stale(ctx, deployment)
    if check is None:
        return f"no {_target(ctx)} deployment yet: its first build reads the values"
    return check.meaning if check.status == "pass" else None


def _vercel(ctx: Context, deployment: Deployment) -> Vercel:
    host = hosts.of(deployment.settings)
    token = credentials.config_value(host.token_env, host.token, ctx.stack, ctx.project)
    return Vercel(token, stack_config.from_stack(ctx.project, ctx.stack).get(TEAM))


def _stale(ctx: Context, deployment: Deployment) -> Check | None:
    """`verify hosting`'s own check of the target: pass when no value changed after its latest
    deployment; None when the target has no deployment."""
    found = vercel_probe.run(deployment, _vercel(ctx, deployment))
    return next((c for c in found if c.name == f"redeploy {_target(ctx)}"), None)


def host(ctx: Context) -> None:
    deployment = ctx.deployment()
    check = _stale(ctx, deployment)
    changed = [slot.split(":", 1)[1] for slot in (ctx.outputs or {}).get("redeployNeeded") or []
               if isinstance(slot, str) and slot.startswith(f"{_target(ctx)}:")]
    why = f"changed: {', '.join(changed)}" if changed else (check.meaning if check else "")
    if check is not None and check.status == "fail":
        raise Stop(exits.FINDINGS, f"{check.meaning}; {check.fix}")
    if not ctx.live:
        ctx.term.say(f"The previews in use keep the old values until they are built again ({why}): push to "
                     "their branches, or Redeploy them in the Vercel dashboard. go-live redeploys production "
                     "only.")
        ctx.checked.append("previews: not redeployed by go-live (push to their branches)")
        return
    vercel = _vercel(ctx, deployment)
    ctx.term.say(f"Production keeps the old values until it is built again ({why}).")
    if not ctx.term.confirm("Redeploy production now (a new build of the latest production deployment, "
                            "through Vercel's API)?"):
        raise Stop(exits.REFUSED, "declined: production keeps the old values until it is redeployed")
    project = str(deployment.settings.vercel_project)
    try:
        made = vercel.redeploy(project, "production")
    except ApiError as error:
        if error.kind not in ("auth", "permission"):
            raise Stop(exits.FINDINGS, f"the redeploy failed: {error}") from None
        _by_hand(ctx, deployment, str(error))
        return
    if made is None:
        return
    _wait(ctx, vercel, str(made[1]["id"]))
    ctx.created.append(f"production redeployed from {made[0].get('uid')}: {made[1]['id']}")


def _by_hand(ctx: Context, deployment: Deployment, error: str) -> None:
    """The token may not deploy: the exact command, then the person does it and go-live checks."""
    ctx.term.say(f"Vercel refused the redeploy ({error}): the stack's token may not deploy. Redeploy "
                 "production yourself: `vercel deploy --prod` in the app's directory, or Redeploy on the "
                 "latest production deployment in the Vercel dashboard.")
    ctx.term.pause("Redeploy production")
    ctx.term.acts.visited("a production redeploy by hand")
    check = _stale(ctx, deployment)
    if check is not None and check.status != "pass":
        raise Stop(exits.FINDINGS, f"production still has the old values: {check.meaning}")
    ctx.created.append("production redeployed by hand")


def _wait(ctx: Context, vercel: Vercel, deployment_id: str) -> None:
    ctx.term.say(f"Building {deployment_id}...")
    deadline = time.monotonic() + REDEPLOY_WAIT
    state = ""
    while True:
        try:
            state = vercel.deployment_state(deployment_id)
        except ApiError as error:
            raise Stop(exits.FINDINGS, f"could not follow {deployment_id}: {error}") from None
        if state in _SETTLED or time.monotonic() >= deadline:
            break
        time.sleep(REDEPLOY_POLL)
    if state != "READY":
        raise Stop(exits.FINDINGS, f"the new production deployment {deployment_id} is {state or 'unknown'}: "
                                   "see its build log in the Vercel dashboard, then run go-live again")
    ctx.term.say(f"{deployment_id} is READY: production reads the new values.")
