"""`billing go-live`'s steps without the Pulumi CLI: the facts are readiness items made here, the
person is a script of answers, and the engine a stand-in that records what it was asked to do.

What the real CLI does with the same steps (stack init, keys stored as secrets, resume) is
tests/engine/test_go_live.py's; this file holds the step logic: where a run starts, what stops
it and with which status, what is asked before each change, and what is never printed.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

import pytest

from infra.clients import pulumi_cli
from infra.commands.golive import command, deploy, proof, setup
from infra.commands.golive import steps as steps_module
from infra.commands.golive.context import Context, askable, stage
from infra.commands.golive.engine import EngineFailed, EngineStopped, Run
from infra.commands.golive.steps import Step
from infra.commands.golive.terminal import Stop, Terminal
from infra.core import exits
from infra.probes.facts import Item
from infra.probes.readiness import Readiness
from tests.support.go_live import (
    at_terminal,
    context,
    facts,
    key_items,
    no_token_exported,
    stored_keys,
    with_facts,
)
from tests.support.project import Project, credentials, key

pytestmark = pytest.mark.pure  # no process, socket or mock runtime: the CLI and the engine are stand-ins

PASSPHRASE_ITEM = Item("config", False, "the stack's secrets could not be read: incorrect passphrase",
                       "export PULUMI_CONFIG_PASSPHRASE with this stack's passphrase (README step 6)")


# ------------------------------------------------------------------------------ the terminal


def test_yes_answers_every_question_and_says_so_but_never_a_secret() -> None:
    term, out, person = at_terminal(yes=True)
    assert term.confirm("Apply these 3 changes?") is True
    assert "Apply these 3 changes? [y/N] yes (--yes)" in out.getvalue()
    assert person.prompts == [] and term.acts.confirmations == 0
    term.interactive = False
    with pytest.raises(Stop) as stopped:
        term.secret("stripe:apiKey (rk_test_..., hidden): ")
    assert stopped.value.status == exits.REFUSED and "pulumi config set --secret" in str(stopped.value)


def test_no_is_the_default_and_a_closed_terminal_stops() -> None:
    term, _, _ = at_terminal("", "Y")
    assert term.confirm("Create stack 'test'?") is False
    assert term.confirm("Create stack 'test'?") is True
    assert term.acts.confirmations == 2
    with pytest.raises(Stop) as stopped:  # nothing left to read: the terminal closed
        term.confirm("Apply?")
    assert stopped.value.status == exits.REFUSED


def test_without_a_terminal_nothing_is_asked() -> None:
    term, _, person = at_terminal("y")
    term.interactive = False
    with pytest.raises(Stop):
        term.confirm("Apply?")
    assert person.prompts == []


# ------------------------------------------------------------------- which step an item is for


def test_each_open_item_belongs_to_the_step_that_closes_it(project: Project) -> None:
    keys = askable(project.root, "test")
    assert {"stripe:apiKey", "billing:appStripeKey", "billing:publishableKey", "vercel:apiToken"} <= set(keys)
    cases = {
        "engine": [Item("cli", False, "pulumi CLI: not on PATH"), Item("backend", False, "not logged in")],
        "settings": [Item("config", False, "Pulumi.test.yaml:3: billing:domain: ...", field="billing:domain"),
                     Item("examples", False, "still the repository's example", field="billing:vercelProject")],
        "stack": [Item("stack", False, "stack 'test' does not exist", field="absent"), PASSPHRASE_ITEM],
        "keys": [Item("config", False, "Pulumi.test.yaml:1: stripe:apiKey: is not set", field="stripe:apiKey")],
        # Facts readiness learns later belong to the steps of the same name.
        "update": [Item("update", False, "the catalog changed since the last update")],  # type: ignore[arg-type]
    }
    for expected, items in cases.items():
        assert [stage(item, keys) for item in items] == [expected] * len(items), expected


def test_a_hosting_extra_secret_is_asked_for_too(project: Project) -> None:
    project.catalog(project.root.joinpath("stacks/catalog.yaml").read_text()
                    + "hosting:\n  extra:\n    DATABASE_URL: app:databaseUrl\n")
    assert askable(project.root, "test")["app:databaseUrl"] == "extra"


# ------------------------------------------------------------------------------ the run itself


def run_main(project: Project, term: Terminal, monkeypatch: pytest.MonkeyPatch, stack: str = "test",
             yes: bool = False) -> int:
    monkeypatch.setattr(command, "on_terminal", lambda out, yes: term)
    args = argparse.Namespace(stack=stack, project=project.root, yes=yes)
    return command.main(args, term.out)


def fake_steps(monkeypatch: pytest.MonkeyPatch, *plan: tuple[str, str | None, Callable[[Context], None]]
               ) -> list[str]:
    ran: list[str] = []

    def runner(name: str, body: Callable[[Context], None]) -> Callable[[Context], None]:
        def run(ctx: Context) -> None:
            ran.append(name)
            body(ctx)
        return run

    monkeypatch.setattr(steps_module, "STEPS", tuple(
        Step(name, f"step {name}", lambda ctx, why=why: why, runner(name, body)) for name, why, body in plan))
    return ran


def nothing(ctx: Context) -> None:
    pass


def test_a_run_starts_at_the_first_step_not_done_and_never_repeats_a_finished_one(
    project: Project, monkeypatch: pytest.MonkeyPatch,
) -> None:
    with_facts(monkeypatch, facts("test"))
    ran = fake_steps(monkeypatch, ("a", "it was done before", nothing), ("b", None, nothing),
                     ("c", "done too", nothing), ("d", None, nothing))
    term, out, _ = at_terminal()
    assert run_main(project, term, monkeypatch) == exits.OK
    assert ran == ["b", "d"]
    text = out.getvalue()
    assert "1. step a: done (it was done before)" in text and "3. step c: done (done too)" in text
    assert "go-live of stack 'test' (test mode): verified, in " in text
    assert "Your acts: 1 outside go-live's prompts (this command), 0 values typed at hidden prompts" in text


@pytest.mark.parametrize(("raised", "status", "said"), [
    (Stop(exits.FINDINGS, "verify stripe did not pass"), exits.FINDINGS, "verify stripe did not pass"),
    (Stop(exits.REFUSED, "declined: nothing was changed"), exits.REFUSED, "declined: nothing was changed"),
    (KeyboardInterrupt(), exits.REFUSED, "interrupted"),
    (EngineFailed("error: " + "sk_" + "live_" + "Z" * 24 + " refused"), exits.FINDINGS, "the engine failed"),
    (pulumi_cli.CliError("`pulumi config set` failed (exit 255): incorrect passphrase"), exits.FINDINGS,
     "incorrect passphrase"),
])
def test_a_stop_anywhere_says_where_and_how_to_resume(
    project: Project, monkeypatch: pytest.MonkeyPatch, raised: BaseException, status: int, said: str,
) -> None:
    with_facts(monkeypatch, facts("test"))

    def fail(ctx: Context) -> None:
        raise raised

    ran = fake_steps(monkeypatch, ("a", "done", nothing), ("b", None, fail), ("c", None, nothing))
    term, out, _ = at_terminal()
    assert run_main(project, term, monkeypatch) == status
    assert ran == ["b"]
    text = out.getvalue()
    assert said in text
    assert text.rstrip().endswith("stopped at step 2 (step b); run `billing go-live --stack test` again to resume")
    assert "Z" * 24 not in text  # the engine's words are masked before they are shown


def test_live_refuses_yes_and_a_missing_terminal_refuses_without_it(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    ran = fake_steps(monkeypatch, ("a", None, nothing))
    term, _, _ = at_terminal()
    assert run_main(project, term, monkeypatch, stack="live", yes=True) == exits.REFUSED
    assert "--yes is refused on a live stack" in capsys.readouterr().err
    term.interactive = False
    assert run_main(project, term, monkeypatch, stack="test") == exits.REFUSED
    assert "stdin is not a terminal" in capsys.readouterr().err
    assert ran == []


# ------------------------------------------------------------------------------------ the keys


def test_each_key_is_checked_at_its_prompt_and_a_wrong_mode_one_is_refused_unstored(
    project: Project, monkeypatch: pytest.MonkeyPatch,
) -> None:
    good = credentials("test")
    wrong = key("rk", "live", "Wr0ng")
    with_facts(monkeypatch, facts("test", *key_items(*good)))
    no_token_exported(monkeypatch)
    stored = stored_keys(monkeypatch)
    term, out, person = at_terminal(good["billing:appStripeKey"], good["billing:publishableKey"], wrong,
                                    good["stripe:apiKey"], good["vercel:apiToken"])
    setup.keys(context(project, term))
    assert stored == [("billing:appStripeKey", good["billing:appStripeKey"], True),
                      ("billing:publishableKey", good["billing:publishableKey"], False),
                      ("stripe:apiKey", good["stripe:apiKey"], True),
                      ("vercel:apiToken", good["vercel:apiToken"], True)]
    text = out.getvalue()
    assert ("Refused, nothing stored: stripe:apiKey: the key is a live-mode key (rk_live_) but the stack is "
            "in test mode. Enter the right one.") in text
    # The publishable key right after the first form, on the API keys page that form was opened from.
    assert [p.split(" (")[0] for p in person.prompts] == ["billing:appStripeKey", "billing:publishableKey",
                                                          "stripe:apiKey", "stripe:apiKey", "vercel:apiToken"]
    assert "https://dashboard.stripe.com/test/apikeys/create?name=billing-test-app" in text
    assert "https://dashboard.stripe.com/test/apikeys/create?name=billing-test-deployer" in text
    assert "pulumi config set" not in text  # the value is asked for here, not pasted into a shell
    for value in (*good.values(), wrong):
        assert value not in text and value not in "".join(person.prompts)
    assert term.acts.typed == 5
    assert term.acts.visits == ["Stripe Dashboard form: Create restricted key (app)",
                                "Stripe Dashboard form: Create restricted key (deployer)", "Vercel token form"]
    same_page = ("The publishable key, on the same page (https://dashboard.stripe.com/test/apikeys): close the new "
                 "key's dialog, and under Standard keys copy the Publishable key (pk_test_...).")
    assert text.index("billing-test-app") < text.index(same_page) < text.index("billing-test-deployer")
    assert "Stripe Dashboard page: the publishable key" not in text


@pytest.mark.parametrize(("field", "typed", "refusal"), [
    ("billing:publishableKey", key("rk", "test", "Sec1"), "this is a secret key (rk_test_)"),
    ("vercel:apiToken", key("sk", "test", "Tok1"), "this is a Stripe value (sk_test_), not a Vercel token"),
    ("billing:appStripeKey", "sk_" + "test_" + "with space" + "x" * 20, "spaces or control characters"),
])
def test_a_value_of_the_wrong_kind_is_refused_at_its_prompt(
    project: Project, monkeypatch: pytest.MonkeyPatch, field: str, typed: str, refusal: str,
) -> None:
    with_facts(monkeypatch, facts("test", *key_items(field)))
    no_token_exported(monkeypatch)
    stored = stored_keys(monkeypatch)
    term, out, _ = at_terminal(typed, "")
    with pytest.raises(Stop) as stopped:
        setup.keys(context(project, term))
    assert stopped.value.status == exits.REFUSED
    assert "the keys stored so far are kept" in str(stopped.value)
    assert stored == [] and refusal in out.getvalue() and typed not in out.getvalue()


def test_the_publishable_key_alone_is_a_trip_to_the_api_keys_page(
    project: Project, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With both restricted keys stored already, no form has the person on the API keys page: going
    there for the publishable key is an act of its own, and counted as one."""
    with_facts(monkeypatch, facts("live", *key_items("billing:publishableKey")))
    stored = stored_keys(monkeypatch)
    publishable = key("pk", "live", "Pub2")
    term, out, _ = at_terminal(publishable)
    setup.keys(context(project, term, "live"))
    assert stored == [("billing:publishableKey", publishable, False)]
    assert term.acts.visits == ["Stripe Dashboard page: the publishable key"]
    assert ("Stripe Dashboard page: the publishable key: https://dashboard.stripe.com/apikeys (Developers > API "
            "keys), under Standard keys, the Publishable key.") in out.getvalue()
    assert "on the same page" not in out.getvalue()


def test_on_live_the_app_may_not_have_the_deployer_s_key(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    deployer, app = key("rk", "live", "Dep1"), key("rk", "live", "App1")
    with_facts(monkeypatch, facts("live", *key_items("billing:appStripeKey")))
    stored = stored_keys(monkeypatch, {"stripe:apiKey": deployer})
    term, out, _ = at_terminal(deployer, app)
    setup.keys(context(project, term, "live"))
    assert "the app would run with the deployer's key and its write access" in out.getvalue()
    assert stored == [("billing:appStripeKey", app, True)]


def test_a_live_clerk_key_in_hosting_extra_passes_and_a_stripe_live_secret_does_not(
    project: Project, monkeypatch: pytest.MonkeyPatch,
) -> None:
    project.catalog(project.root.joinpath("stacks/catalog.yaml").read_text() + "hosting:\n  extra:\n"
                    "    CLERK_SECRET_KEY: {key: app:clerkSecretKey, kind: clerk}\n"
                    "    OTHER_KEY: app:other\n")
    clerk, stripe_live = "sk_" + "live_" + "C" * 24, "sk_" + "live_" + "S" * 24
    with_facts(monkeypatch, facts("live", *key_items("app:clerkSecretKey", "app:other")))
    stored = stored_keys(monkeypatch)
    term, out, _ = at_terminal(clerk, stripe_live, "postgres-" + "x" * 10)
    setup.keys(context(project, term, "live"))
    assert "holds a full live secret key (sk_live_)" in out.getvalue()
    assert stored == [("app:clerkSecretKey", clerk, True), ("app:other", "postgres-" + "x" * 10, True)]


# ------------------------------------------------------------------------- the passphrase


def test_a_wrong_passphrase_is_asked_again_and_never_shown(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    with_facts(monkeypatch, facts("test", PASSPHRASE_ITEM), facts("test", PASSPHRASE_ITEM), facts("test"))
    right = "the right one"
    term, out, _ = at_terminal("not it", right)
    setup.stack(context(project, term))
    assert os.environ["PULUMI_CONFIG_PASSPHRASE"] == right  # in this process only, for the CLI
    assert "That passphrase does not open the stack's secrets." in out.getvalue()
    assert right not in out.getvalue() and "not it" not in out.getvalue()


def test_an_exported_passphrase_that_does_not_open_the_stack_is_refused(
    project: Project, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "another stack's")
    with_facts(monkeypatch, facts("test", PASSPHRASE_ITEM))
    term, _, person = at_terminal("typed")
    with pytest.raises(Stop) as stopped:
        setup.stack(context(project, term))
    assert stopped.value.status == exits.REFUSED and person.prompts == []


def test_a_new_stack_is_created_only_after_a_yes(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    with_facts(monkeypatch, Readiness("live", (Item("backend", True, "logged in to file:///state"),
                                               Item("stack", False, "stack 'live' does not exist", field="absent")), None))
    made: list[str] = []
    term, _, person = at_terminal("n")
    ctx = context(project, term, "live")
    ctx._engine = StandIn(made)  # type: ignore[assignment]
    with pytest.raises(Stop) as stopped:
        setup.stack(ctx)
    assert stopped.value.status == exits.REFUSED and made == []
    assert person.prompts == ["Create stack 'live' (`pulumi stack init live --secrets-provider passphrase`)? "
                              "[y/N] "]
    term, _, person = at_terminal("y", "live passphrase", "live passphrase")
    ctx = context(project, term, "live")
    ctx._engine = StandIn(made)  # type: ignore[assignment]
    setup.stack(ctx)
    assert made == ["create"] and len(person.prompts) == 3  # the question, then the passphrase twice


class StandIn:
    """The engine's interface, recording each call; `up` and `preview` answer what the test says."""

    def __init__(self, calls: list[str], preview: Run | None = None, up: Run | Exception | None = None) -> None:
        self.calls, self._preview, self._up = calls, preview or Run(), up or Run()

    def create(self) -> None:
        self.calls.append("create")

    def preview(self) -> Run:
        self.calls.append("preview")
        return self._preview

    def up(self, progress: Callable[[str], None]) -> Run:
        self.calls.append("up")
        if isinstance(self._up, Exception):
            raise self._up
        return self._up


# ---------------------------------------------------------------------- preview and update


CREATES = [("create", "stripe:index/product:Product", "pro"), ("create", "stripe:index/price:Price", "pro-monthly"),
           ("create", "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable", "preview-X")]


SEALED = "\n    secure: v1:ZXhhbXBsZQ==:v1:ExampleCiphertextOnly"


def update_context(project: Project, monkeypatch: pytest.MonkeyPatch, term: Terminal, engine: StandIn,
                   last_update: str | None = None, stack: str = "test", *update: Item) -> Context:
    """A stack whose keys are stored (sealed in its file); the CLI decrypts them to `credentials`.
    `update`: readiness's update items (by default the one a stack with `last_update` has)."""
    good = credentials(stack)
    path = project.root / f"Pulumi.{stack}.yaml"
    path.write_text(path.read_text() + "".join(f"  {name}:{SEALED}\n" for name in good))
    monkeypatch.setattr(pulumi_cli, "decrypted_config", lambda s, p, deadline=60.0: pulumi_cli.DecryptedConfig(
        good, frozenset(good)))
    said = (f"last update {last_update} succeeded" if last_update else
            "nothing deployed yet: going live is `pulumi up --stack test --policy-pack policies`")
    with_facts(monkeypatch, facts(stack, *(update or [Item("update", True, said)]), last_update=last_update))
    ctx = context(project, term, stack)
    ctx._engine = engine  # type: ignore[assignment]
    return ctx


def test_the_update_is_previewed_and_its_money_shown_and_nothing_applied_without_a_yes(
    project: Project, monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    term, out, _ = at_terminal("n")
    ctx = update_context(project, monkeypatch, term, StandIn(calls, preview=Run(steps=list(CREATES))))
    with pytest.raises(Stop) as stopped:
        deploy.update(ctx)
    assert stopped.value.status == exits.REFUSED and "nothing was changed" in str(stopped.value)
    assert calls == ["preview"]
    text = out.getvalue()
    assert "ok: stack 'test' (test mode)" in text and "keys: checked" in text  # validate --from-pulumi
    assert "  +  stripe:index/price:Price  pro-monthly" in text
    assert "added: 29.00 USD every month" in text  # the money diff of a first update
    assert "Preview: 3 to create, 0 to update, 0 to replace, 0 to delete" in text
    assert "Apply these 3 changes to stack 'test' (test mode)?" in "".join(term.read_line.prompts)  # type: ignore[attr-defined]


def test_a_yes_applies_and_the_summary_lists_what_was_created(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    term, _, _ = at_terminal("y")
    up = Run(steps=list(CREATES))
    ctx = update_context(project, monkeypatch, term, StandIn(calls, preview=Run(steps=list(CREATES)), up=up))
    deploy.update(ctx)
    assert calls == ["preview", "up"]
    assert ctx.created == ["update of stack 'test': 3 created"]


def test_a_failed_up_shows_the_engine_s_error_and_what_status_sees(
    project: Project, monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    term, out, _ = at_terminal("y")
    ctx = update_context(project, monkeypatch, term, StandIn(
        calls, preview=Run(steps=list(CREATES)), up=EngineFailed("error: 401 Unauthorized from Stripe")))
    with pytest.raises(Stop) as stopped:
        deploy.update(ctx)
    assert stopped.value.status == exits.FINDINGS and "not retried" in str(stopped.value)
    assert calls == ["preview", "up"]
    text = out.getvalue()
    assert "The update failed; the engine said:\n  error: 401 Unauthorized from Stripe" in text
    assert "What `billing status` sees now:" in text


@pytest.mark.parametrize(("refused", "status", "said"), [
    (False, exits.FINDINGS, "The preview failed; the engine said:\n  error: no language plugin"),
    (True, exits.REFUSED, "The policy pack refused the change; it said:\n  error: no language plugin"),
])
def test_a_failed_preview_is_the_engine_s_failure_and_a_policy_violation_a_refusal(
    project: Project, monkeypatch: pytest.MonkeyPatch, refused: bool, status: int, said: str,
) -> None:
    """docs/commands.md: exit 1 when the engine failed, 2 when refused. Either way nothing ran after."""
    calls: list[str] = []
    term, out, _ = at_terminal("y")

    class Failing(StandIn):
        def preview(self) -> Run:
            self.calls.append("preview")
            raise EngineFailed("error: no language plugin\ngo-live of stack 'test': verified", refused=refused)

    ctx = update_context(project, monkeypatch, term, Failing(calls))
    with pytest.raises(Stop) as stopped:
        deploy.update(ctx)
    assert stopped.value.status == status and calls == ["preview"]
    assert said in out.getvalue() and "nothing was changed" in str(stopped.value)
    assert not any(line.startswith("go-live of stack") for line in out.getvalue().splitlines())


@pytest.mark.parametrize(("edited", "added"), [
    ("stacks/catalog.yaml", "# edited while the question was open\n"),
    ("Pulumi.live.yaml", "\n"),  # another stack's file: it names a catalog the program may read
])
def test_a_file_edited_between_the_preview_and_the_yes_is_not_applied(
    project: Project, monkeypatch: pytest.MonkeyPatch, edited: str, added: str,
) -> None:
    """The yes is for the plan that was shown: a file the program reads that changed since is
    refused before `up`, with what changed."""
    calls: list[str] = []
    path = project.root / edited

    def edit_then_yes() -> str:
        path.write_text(path.read_text() + added)
        return "y"

    term, _, _ = at_terminal(edit_then_yes)
    ctx = update_context(project, monkeypatch, term, StandIn(calls, preview=Run(steps=list(CREATES))))
    with pytest.raises(Stop) as stopped:
        deploy.update(ctx)
    assert stopped.value.status == exits.REFUSED and calls == ["preview"]
    assert f"{edited} changed since the preview" in str(stopped.value)
    assert "nothing was applied" in str(stopped.value)


@pytest.mark.parametrize(("raised", "said"), [
    (KeyboardInterrupt(), "The update was interrupted (Ctrl-C)"),
    (EngineStopped("`pulumi up --stack test` did not end within 60 min: go-live stopped it"),
     "`pulumi up --stack test` did not end within 60 min: go-live stopped it. Part of the update may have"),
])
def test_an_update_cut_short_is_exit_1_with_what_status_sees_never_nothing_was_done(
    project: Project, monkeypatch: pytest.MonkeyPatch, raised: BaseException, said: str,
) -> None:
    """Changes may have been applied: exit 2 ("nothing was applied") would be a lie."""
    calls: list[str] = []
    term, out, _ = at_terminal("y")

    class CutShort(StandIn):
        def up(self, progress: Callable[[str], None]) -> Run:
            self.calls.append("up")
            raise raised

    ctx = update_context(project, monkeypatch, term, CutShort(calls, preview=Run(steps=list(CREATES))))
    with pytest.raises(Stop) as stopped:
        deploy.update(ctx)
    assert stopped.value.status == exits.FINDINGS and calls == ["preview", "up"]
    text = out.getvalue()
    assert said in text and "What `billing status` sees now:" in text
    assert "nothing was" not in str(stopped.value)


def test_an_update_whose_events_could_not_all_be_read_ended_and_did_not_fail(
    project: Project, monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    term, out, _ = at_terminal("y")
    ctx = update_context(project, monkeypatch, term, StandIn(
        calls, preview=Run(steps=list(CREATES)), up=Run(steps=list(CREATES[:1]), unread=2)))
    with pytest.raises(Stop) as stopped:
        deploy.update(ctx)
    assert stopped.value.status == exits.FINDINGS and "the update ended" in str(stopped.value)
    text = out.getvalue()
    assert "The update ended (the pulumi CLI exited 0), but 2 lines of its event log could not be read" in text
    assert "failed" not in text + str(stopped.value)
    assert ctx.created == ["update of stack 'test': 1 created"]


def test_a_preview_whose_events_were_cut_short_asks_nothing(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    term, _, person = at_terminal("y")
    ctx = update_context(project, monkeypatch, term, StandIn(calls, preview=Run(steps=list(CREATES), ended=False)))
    with pytest.raises(Stop) as stopped:
        deploy.update(ctx)
    assert stopped.value.status == exits.FINDINGS and calls == ["preview"] and person.prompts == []


def test_a_previewed_step_s_name_cannot_start_a_line_of_its_own(
    project: Project, monkeypatch: pytest.MonkeyPatch,
) -> None:
    forged = [("create", "stripe:index/product:Product", "pro\rPreview: 0 to create\ngo-live of stack 'test'")]
    term, out, _ = at_terminal("n")
    ctx = update_context(project, monkeypatch, term, StandIn([], preview=Run(steps=forged)))
    with pytest.raises(Stop):
        deploy.update(ctx)
    lines = out.getvalue().splitlines()
    assert "  +  stripe:index/product:Product  pro\\rPreview: 0 to create\\ngo-live of stack 'test'" in lines
    assert not any(line.startswith(("go-live of stack", "Preview: 0")) for line in lines)


FAILED = Item("update", False, "the last update of the stack (ended 2026-12-06T08:00:00.000Z) failed: the stack "  # type: ignore[arg-type]
              "may be part-way through it", "`pulumi preview --stack test --policy-pack policies` shows what is "
              "left, then `pulumi up --stack test --policy-pack policies`", field="failed")


def test_after_a_failed_update_yes_does_not_retry(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    term, out, _ = at_terminal(yes=True)
    ctx = update_context(project, monkeypatch, term, StandIn(calls), "2026-12-06T08:00:00.000Z", "test", FAILED)
    with pytest.raises(Stop) as stopped:
        deploy.update(ctx)
    assert stopped.value.status == exits.FINDINGS and "not retried blindly" in str(stopped.value)
    assert calls == []  # neither a preview nor an up
    assert "TODO  the last update of the stack (ended 2026-12-06T08:00:00.000Z) failed" in out.getvalue()


def test_after_a_failed_update_a_person_sees_the_preview_again_and_decides(
    project: Project, monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    term, out, _ = at_terminal("n")
    ctx = update_context(project, monkeypatch, term, StandIn(calls, preview=Run(steps=list(CREATES[1:]))),
                         "2026-12-06T08:00:00.000Z", "test", FAILED)
    with pytest.raises(Stop) as stopped:
        deploy.update(ctx)
    assert stopped.value.status == exits.REFUSED and calls == ["preview"]
    text = out.getvalue()
    assert "It is not retried blindly: the preview below shows what is left" in text
    assert "billing diff" not in text  # the money of a first update is not shown again


@pytest.mark.parametrize(("item", "waits"), [
    (Item("update", False, "an update of the stack is running now", "wait for it to end (`pulumi stack "
          "--stack test` shows it)"), True),
    (Item("update", False, "the backend gave no readable time for the stack's last update", "`pulumi stack "
          "--stack test` shows the last update; then `billing status --stack test` again"), False),
    (Item("update", False, "the last update's result could not be read: `pulumi stack history` did not exit",
          "`pulumi stack history --stack test` shows why"), False),
])
def test_an_open_update_item_stops_with_its_own_fix_and_only_a_running_one_is_waited_for(
    project: Project, monkeypatch: pytest.MonkeyPatch, item: Item, waits: bool,
) -> None:
    calls: list[str] = []
    term, _, _ = at_terminal("y")
    ctx = update_context(project, monkeypatch, term, StandIn(calls), None, "test", item)
    assert deploy.update_done(ctx) is None
    with pytest.raises(Stop) as stopped:
        deploy.update(ctx)
    assert stopped.value.status == exits.FINDINGS and calls == []
    assert item.fix in str(stopped.value)
    assert ("wait for" in str(stopped.value)) is waits


def test_the_update_is_done_only_when_readiness_says_the_last_one_succeeded(
    project: Project, monkeypatch: pytest.MonkeyPatch,
) -> None:
    term, _, _ = at_terminal()
    ctx = update_context(project, monkeypatch, term, StandIn([]), last_update="2026-12-06T08:00:00.000Z")
    assert deploy.update_done(ctx) == "last update 2026-12-06T08:00:00.000Z succeeded"
    ctx = update_context(project, monkeypatch, term, StandIn([]), "2026-12-06T08:00:00.000Z", "test", FAILED)
    assert deploy.update_done(ctx) is None
    ctx = update_context(project, monkeypatch, term, StandIn([]), last_update=None)
    assert deploy.update_done(ctx) is None


# ------------------------------------------------------------------------ verify and payment


def test_verify_stops_at_the_first_part_that_fails(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def verify_main(args: argparse.Namespace, out: Any) -> int:
        asked.append(args.part)
        return exits.FINDINGS if args.part == "stripe" else exits.OK

    monkeypatch.setattr(proof.verify_command, "main", verify_main)
    with_facts(monkeypatch, facts("test"))
    term, _, _ = at_terminal()
    ctx = context(project, term)
    with pytest.raises(Stop) as stopped:
        proof.verify(ctx)
    assert stopped.value.status == exits.FINDINGS and asked == ["webhook", "stripe"]
    assert ctx.checked == ["verify webhook: passed", "verify stripe: did not pass"]


def test_a_part_verify_recorded_as_passed_is_not_run_again(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    monkeypatch.setattr(proof.verify_command, "main", lambda args, out: asked.append(args.part) or exits.OK)
    recorded = [Item("verify", True, f"verify {part}: pass 2026-12-06T08:00:00Z",  # type: ignore[arg-type]
                     field=f"billing:verify:{part}") for part in ("webhook", "stripe")]
    with_facts(monkeypatch, facts("test", *recorded))
    term, _, _ = at_terminal()
    ctx = context(project, term)
    assert proof.verify_done(ctx) is None
    proof.verify(ctx)
    assert asked == ["hosting"]


def test_the_live_payment_proof_names_the_smoke_test_code_and_asks_first(
    project: Project, monkeypatch: pytest.MonkeyPatch,
) -> None:
    ran: list[str] = []
    monkeypatch.setattr(proof.payment_command, "main", lambda args, out, project: ran.append(args.stack) or 0)
    with_facts(monkeypatch, facts("live"))
    term, out, _ = at_terminal("n", "y")
    ctx = context(project, term, "live")
    with pytest.raises(Stop):
        proof.payment(ctx)
    assert ran == [] and "Use the promotion code SMOKETEST (100% off) at the checkout." in out.getvalue()
    proof.payment(ctx)
    assert ran == ["live"] and term.acts.visits == ["the live checkout, paid in a browser"]
