"""`billing go-live` driven through a pseudo-terminal against the real Pulumi CLI (standard `pty`).

A person is played by a script that reads what go-live printed and types an answer when a
prompt shows, as at a terminal: the passphrase and the keys at hidden prompts, y/N at each
question, Ctrl-C to stop it. While it runs, every process's command line is sampled from
/proc; after it, every file it could have written is read. No secret may appear in the
terminal's transcript, in any process's arguments, or in any file but the stack's encrypted
config (and the publishable key, public, in plain text there).

The steps that need only the CLI (stack init with a passphrase, the keys stored as secrets,
a wrong-mode key refused at its prompt, resuming after the keys, live asking before each
change) run wherever `make engine` built the CLI, CI included. The scenarios that run the
program (preview, up, the host, verify, the payment proof) also need the language host and
both providers, and skip with tools/engine.py's reason without them. In those, the local
Stripe knows the stack's two keys as the restricted keys `billing keys` has the person create
(`Project.restrict`: each with its manifest's permissions, Stripe's 403 outside them), and
delivers each event it emits, signed, to the app at the stack's domain.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.commands.stack_default import selected_stack
from tests.engine.catalogs import LIVE_COUPONS
from tests.engine.go_live_session import (
    ENGINE_SECONDS,
    ArgvWatch,
    Session,
    files_holding,
    keys_for,
    stack_file,
    stacks,
    stored,
    the_app,
    the_person_pays,
    type_the_keys,
)
from tests.engine.harness import DOMAINS, PASSPHRASES, Project, key, stripe_keys


@pytest.fixture
def project(new_project: Any) -> Iterator[Project]:
    found: Project = new_project()
    yield found


# ---------------------------------------------------------------- the CLI alone (CI runs these)


def test_a_fresh_test_stack_gets_its_passphrase_and_keys_at_hidden_prompts_and_resumes_after_them(
    project: Project, tmp_path: Path,
) -> None:
    stack_file(project, "test")
    keys = keys_for("test")
    wrong = key("rk", "live", "GoWrong")
    passphrase = PASSPHRASES["test"]
    secret = [passphrase, wrong, *(v for k, v in keys.items() if k != "billing:publishableKey")]
    home = tmp_path / "home"
    with ArgvWatch([*secret, keys["billing:publishableKey"]]) as watch:
        term = watch.watch(Session(project, "--stack", "test", home=home))
        term.expect(r"1\. the Pulumi CLI and a state backend: done")
        term.answer(r"Create stack 'test' \(`pulumi stack init test --secrets-provider passphrase`\)\? \[y/N\] ", "y")
        term.answer(r"New passphrase for stack 'test' \(hidden\): ", passphrase)
        term.answer(r"The same passphrase again \(hidden\): ", passphrase)
        term.expect(r"Created stack 'test'\.")
        # The app key first (as `billing keys` numbers them), then the deployer's: a live one, refused.
        term.expect(r"https://dashboard\.stripe\.com/test/apikeys/create\?name=billing-test-app")
        term.answer(r"billing:appStripeKey \(rk_test_\.\.\., hidden\): ", keys["billing:appStripeKey"])
        # The publishable key next, from the API keys page the app key's form was opened from.
        term.expect(r"The publishable key, on the same page \(https://dashboard\.stripe\.com/test/apikeys\)")
        term.answer(r"billing:publishableKey \(pk_test_\.\.\., hidden\): ", keys["billing:publishableKey"])
        term.answer(r"stripe:apiKey \(rk_test_\.\.\., hidden\): ", wrong)
        term.expect(r"Refused, nothing stored: stripe:apiKey: the key is a live-mode key \(rk_live_\) but the "
                    r"stack is in test mode\. Enter the right one\.")
        term.answer(r"stripe:apiKey \(rk_test_\.\.\., hidden\): ", keys["stripe:apiKey"])
        term.answer(r"vercel:apiToken \(the value, hidden\): ", keys["vercel:apiToken"])
        term.expect(r"Stored vercel:apiToken as a secret\.")
        # Stopped by Ctrl-C once the keys are in: it says where, and how to go on.
        term.expect(r"6\. preview and update")
        term.interrupt()
        term.expect(r"stopped at step 6 \(preview and update\); run `billing go-live --stack test` again to "
                    r"resume")
        assert term.finish() == 2
        first = term.transcript

        # The second run asks for the passphrase once (never kept), then starts at step 6.
        again = watch.watch(Session(project, "--stack", "test", home=home))
        again.answer(r"Passphrase for stack 'test' \(hidden\): ", passphrase)
        again.expect(r"4\. the keys: done")
        again.expect(r"5\. the policy pack's virtualenv: done \(built\)")
        again.expect(r"6\. preview and update")
        _after_the_keys(project, again)
    assert "Create stack" not in again.transcript and "hidden): " not in again.transcript.split("4. the keys")[1]
    assert "The same passphrase again" not in again.transcript  # confirmed only when the stack was made

    # Stored as the CLI stores `config set --secret`: sealed in the stack file, the typed value inside.
    written = yaml.safe_load((project.root / "Pulumi.test.yaml").read_text())
    assert written["encryptionsalt"].startswith("v1:")
    for name in ("stripe:apiKey", "billing:appStripeKey", "vercel:apiToken"):
        assert set(written["config"][name]) == {"secure"}
        assert stored(project, "test", name) == keys[name]
    assert written["config"]["billing:publishableKey"] == keys["billing:publishableKey"]  # public: plain
    # No secret in the transcript, in any process's arguments, or in any file but that stack file's ciphertext.
    for value in [*secret, keys["billing:publishableKey"]]:
        assert value not in first + again.transcript
    assert watch.leaks == []
    assert any(seen.startswith("config set --secret") for seen in watch.pulumi), watch.pulumi
    roots = [project.root, project.state, project.engine.home, home]
    assert files_holding(roots, secret) == []


def _after_the_keys(project: Project, term: Session) -> None:
    """Step 6 with the CLI alone stops at the preview (no language host); with the whole engine it
    previews and asks, and a no changes nothing. Either way nothing is applied."""
    if project.engine.status.get("language-python", {}).get("state") == "built":
        term.answer(r"Apply these \d+ changes to stack '\w+' \(\w+ mode\)\? \[y/N\] ", "n", ENGINE_SECONDS)
        term.expect(r"declined: nothing was changed")
        status = 2  # declined
    else:
        term.expect(r"The preview failed; the engine said:\n.*language plugin", ENGINE_SECONDS)
        status = 1  # the engine failed (not a refusal: that is the policy pack's)
    term.expect(r"stopped at step 6 \(preview and update\)")
    assert term.finish() == status
    # go-live made the stack and previewed it, and never changed which stack `pulumi stack select`
    # chose: that is the default `--stack` of every billing command.
    assert selected_stack(project.root, project.env(None)) is None


def test_live_asks_before_each_change_and_a_no_changes_nothing(project: Project, tmp_path: Path) -> None:
    stack_file(project, "live", LIVE_COUPONS)
    home = tmp_path / "home"
    term = Session(project, "--stack", "live", home=home)
    term.answer(r"Create stack 'live' .*\? \[y/N\] ", "n")
    term.expect(r"declined: no stack was created")
    assert term.finish() == 2
    assert "live" not in stacks(project)

    keys = keys_for("live")
    # The person's shell exports the Vercel provider's token variable: go-live offers it, no form.
    with ArgvWatch([keys["vercel:apiToken"]]) as watch:
        term = watch.watch(Session(project, "--stack", "live", home=home,
                                   exported={"VERCEL_API_TOKEN": keys["vercel:apiToken"]}))
        term.answer(r"Create stack 'live' .*\? \[y/N\] ", "y")
        term.answer(r"New passphrase for stack 'live' \(hidden\): ", PASSPHRASES["live"])
        term.answer(r"The same passphrase again \(hidden\): ", PASSPHRASES["live"])
        term.expect(r"https://dashboard\.stripe\.com/apikeys/create\?name=billing-live-app")
        term.answer(r"billing:appStripeKey \(rk_live_\.\.\., hidden\): ", key("rk", "test", "GoTest1"))
        term.expect(r"Refused, nothing stored: billing:appStripeKey: the key is a test-mode key \(rk_test_\)")
        term.answer(r"billing:appStripeKey \(rk_live_\.\.\., hidden\): ", keys["billing:appStripeKey"])
        term.answer(r"billing:publishableKey \(pk_live_\.\.\., hidden\): ", keys["billing:publishableKey"])
        # The deployer's key again for the app: refused on live, where the app gets its own.
        term.answer(r"stripe:apiKey \(rk_live_\.\.\., hidden\): ", keys["billing:appStripeKey"])
        term.expect(r"(?s)Refused, nothing stored: stripe:apiKey")
        term.answer(r"stripe:apiKey \(rk_live_\.\.\., hidden\): ", keys["stripe:apiKey"])
        term.answer(r"Use the Vercel token in VERCEL_API_TOKEN \(this shell's environment; it is not shown\)\? "
                    r"\[y/N\] ", "y")
        term.expect(r"Stored vercel:apiToken as a secret, from VERCEL_API_TOKEN\.")
        term.expect(r"6\. preview and update")
        _after_the_keys(project, term)
    assert "live" in stacks(project)
    history = project.pulumi("stack", "history", "--json", stack="live")
    assert json.loads(history.stdout or "[]") == []  # no update ran
    assert stored(project, "live", "stripe:apiKey") == keys["stripe:apiKey"]
    # The exported token, stored by the real CLI from its stdin: sealed, never in a command line or shown.
    assert stored(project, "live", "vercel:apiToken") == keys["vercel:apiToken"]
    assert set(yaml.safe_load((project.root / "Pulumi.live.yaml").read_text())["config"]["vercel:apiToken"]) == {
        "secure"}
    assert watch.leaks == [] and any(seen.startswith("config set --secret") for seen in watch.pulumi), watch.pulumi
    assert keys["vercel:apiToken"] not in term.transcript and "vercel.com/account/tokens" not in term.transcript


def test_without_a_terminal_it_refuses_and_changes_nothing(project: Project) -> None:
    stack_file(project, "test")
    stack_file(project, "live", LIVE_COUPONS)
    done = project.billing("go-live", "--stack", "test")  # stdin is not a terminal here
    assert done.returncode == 2 and "stdin is not a terminal" in done.stderr
    done = project.billing("go-live", "--stack", "live", "--yes")
    assert done.returncode == 2 and "--yes is refused on a live stack" in done.stderr
    assert stacks(project) == []


# ------------------------------------------------- the whole run: the language host and providers


def verified(term: Session, stack: str, project: Project) -> re.Match[str]:
    """go-live verifies the webhook (the app at the stack's domain), the Stripe account with both
    restricted keys, the host; runs the payment proof after a yes (on live, the person pays the
    checkout it opens); and ends verified with its summary."""
    live = stack == "live"
    term.expect(r"8\. verify the deployment")
    term.expect(r"verify webhook https://\S+\n(?:.*\n)*?\d+ passed, \d+ warnings?, 0 failed")
    found = term.expect(rf"verify stripe \({'live' if live else 'test'} mode, stack {stack}\)\n((?:.*\n)*?)"
                        r"\d+ passed, \d+ warnings?, 0 failed")
    # The app key's probes ran and passed: restricted, exactly its manifest.
    assert re.search(r"  PASS +app key is restricted .*\d+ calls outside the manifest were refused", found.group(1))
    assert re.search(r"  PASS +app key writes Customers ", found.group(1)), found.group(0)
    term.expect(r"verify hosting \(.*\)\n(?:.*\n)*?\d+ passed, \d+ warnings?, 0 failed")
    term.expect(r"9\. the payment proof")
    if live:
        term.expect(r"Use the promotion code SMOKETEST \(100% off\) at the checkout\.")
        assert project.world.stripe.payments.objects("/v1/checkout/sessions") == []  # nothing before the yes
        term.answer(r"Open the live Checkout Session now\? \[y/N\] ", "y")
        the_person_pays(term, project)
    else:
        term.answer(r"Run it now \(it creates, then deletes, a test customer\)\? \[y/N\] ", "y")
    return term.expect(rf"go-live of stack '{stack}' \({'live' if live else 'test'} mode\): verified, in "
                       r"(?:\d+ min )?\d+ s", ENGINE_SECONDS)


def planned_steps(project: Project, stack: str) -> set[tuple[str, str]]:
    done = project.billing("plan", "--stack", stack, "--format", "json")
    assert done.returncode == 0, done.stderr
    return {(r["type"], r["name"]) for r in json.loads(done.stdout)["resources"]}


def previewed(transcript: str) -> set[tuple[str, str]]:
    """The steps go-live listed from the engine's events, the default providers left out (the
    engine's own, not the program's)."""
    steps = set(re.findall(r"^  \+  (\S+)  (\S+)$", transcript, re.MULTILINE))
    return {(kind, name) for kind, name in steps
            if not (kind.startswith("pulumi:providers:") and name.startswith("default"))}


def the_world(project: Project, stack: str, keys: dict[str, str]) -> None:
    """The app at the stack's domain, already serving its host target (a push built it), and the
    keys the person created on the Dashboard, known to the local Stripe with their manifests."""
    project.world.sites[DOMAINS[stack]] = the_app(project, stack)
    project.world.vercel.deploy("production" if stack == "live" else "preview")
    project.restrict(stack, keys)


def recorded(project: Project, stack: str) -> dict[str, str]:
    done = project.pulumi("stack", "tag", "ls", "--json", stack=stack)
    return {name.removeprefix("billing:verify:"): value.split()[0] for name, value in json.loads(done.stdout).items()
            if name.startswith("billing:verify:")}


@pytest.mark.usefixtures("providers")
def test_a_fresh_test_stack_from_nothing_to_verified_in_one_run(project: Project, tmp_path: Path) -> None:
    stack_file(project, "test")
    keys = keys_for("test")
    the_world(project, "test", keys)
    running = project.world.vercel.deployments[0]
    term = Session(project, "--stack", "test", home=tmp_path / "home")
    term.answer(r"Create stack 'test' .*\? \[y/N\] ", "y")
    term.answer(r"New passphrase for stack 'test' \(hidden\): ", PASSPHRASES["test"])
    term.answer(r"The same passphrase again \(hidden\): ", PASSPHRASES["test"])
    type_the_keys(term, keys)
    term.expect(r"keys: checked, decrypted by the pulumi CLI in memory only")
    term.expect(r"billing diff: stack 'test' \(test mode\) against nothing deployed yet", ENGINE_SECONDS)
    term.expect(r"INFO  pro_monthly: added: ")
    total = term.expect(r"Preview: (\d+) to create, 0 to update, 0 to replace, 0 to delete \(the policy pack "
                        r"ran and passed\)")
    # The real preview, counted from the engine's events, plans what `billing plan` lists.
    assert previewed(term.transcript) == planned_steps(project, "test")
    term.answer(rf"Apply these {total.group(1)} changes to stack 'test' \(test mode\)\? \[y/N\] ", "y")
    term.expect(rf"Updated: {total.group(1)} created\.", ENGINE_SECONDS)
    # The preview the app runs predates the values: its latest deployment is built again, after a yes.
    term.expect(r"7\. the host\nThe app's preview runs without what the update wrote: preview deployment is older "
                r"than the variables written at")
    term.answer(r"Redeploy preview now .*\? \[y/N\] ", "y")
    term.expect(r"dpl_\w+ is READY: preview reads the new values\.")
    verified(term, "test", project)
    assert term.finish() == 0
    assert project.world.vercel.deployments[0]["uid"] != running["uid"]
    assert re.search(r"  payment proof: passed", term.transcript)
    stripe_made = sum(len(objects) for kind, objects in project.world.stripe.objects.items())
    assert stripe_made == sum(kind.startswith("stripe:") for kind, _ in planned_steps(project, "test"))
    assert len(project.world.vercel.envs) == sum(kind.startswith("vercel:") for kind, _ in
                                                 planned_steps(project, "test"))
    # The proof's customer and subscription, made with the app's key, left nothing behind.
    assert project.world.stripe.payments.objects("/v1/customers") == []
    assert ("customer.subscription.created", 200) in project.world.stripe.payments.deliveries
    for value in [*keys.values(), PASSPHRASES["test"]]:
        assert value not in term.transcript
    assert recorded(project, "test") == dict.fromkeys(("webhook", "stripe", "hosting", "payment"), "pass")
    # And `billing status` agrees: nothing left to do.
    status = project.billing("status", "--stack", "test")
    assert status.returncode == 0, status.stdout + status.stderr
    assert selected_stack(project.root, project.env(None)) is None  # `up` selected no stack either


@pytest.mark.usefixtures("providers")
def test_stopped_after_up_a_second_run_resumes_without_a_second_update(project: Project, tmp_path: Path) -> None:
    stack_file(project, "test")
    the_world(project, "test", keys_for("test"))
    home = tmp_path / "home"
    term = Session(project, "--stack", "test", home=home)
    term.answer(r"Create stack 'test' .*\? \[y/N\] ", "y")
    term.answer(r"New passphrase for stack 'test' \(hidden\): ", PASSPHRASES["test"])
    term.answer(r"The same passphrase again \(hidden\): ", PASSPHRASES["test"])
    type_the_keys(term, keys_for("test"))
    term.answer(r"Apply these \d+ changes to stack 'test' \(test mode\)\? \[y/N\] ", "y", ENGINE_SECONDS)
    term.expect(r"Updated: \d+ created\.", ENGINE_SECONDS)
    term.interrupt()
    # Stopped in the update step's last read of the facts, or in the host step after it.
    term.expect(r"stopped at step [678] \([^)]*\); run `billing go-live --stack test` again to resume")
    assert term.finish() == 1  # the update is applied: never 2, "nothing was applied"
    made = {kind: set(objects) for kind, objects in project.world.stripe.objects.items()}
    history = json.loads(project.pulumi("stack", "history", "--json", stack="test").stdout)
    assert [entry["result"] for entry in history] == ["succeeded"]

    again = Session(project, "--stack", "test", home=home)
    again.answer(r"Passphrase for stack 'test' \(hidden\): ", PASSPHRASES["test"])
    again.expect(r"4\. the keys: done")
    again.expect(r"6\. preview and update: done \(last update \S+ succeeded\)")
    again.answer(r"Redeploy preview now .*\? \[y/N\] ", "y")
    verified(again, "test", project)
    assert again.finish() == 0
    assert "Previewing" not in again.transcript and "Apply these" not in again.transcript
    assert {kind: set(objects) for kind, objects in project.world.stripe.objects.items()} == made
    history = json.loads(project.pulumi("stack", "history", "--json", stack="test").stdout)
    assert len(history) == 1

    # A third run finds every step done, and repeats none: no redeploy, no verify, no payment.
    third = Session(project, "--stack", "test", home=home)
    third.answer(r"Passphrase for stack 'test' \(hidden\): ", PASSPHRASES["test"])
    for step in (r"7\. the host: done", r"8\. verify the deployment: done \(verify webhook: passed at",
                 r"9\. the payment proof: done \(verify payment: passed at"):
        third.expect(step, ENGINE_SECONDS)
    third.expect(r"Checked: nothing new \(every step was done before\)")
    assert third.finish() == 0
    assert "[y/N]" not in third.transcript and "verifying " not in third.transcript


@pytest.mark.usefixtures("providers")
def test_a_fresh_live_stack_asks_before_each_change_and_ends_verified_with_the_checkout_paid(
    project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    stack_file(project, "live", LIVE_COUPONS)
    project.world.stripe.livemode = True
    keys = keys_for("live")
    the_world(project, "live", keys)
    running = project.world.vercel.deployments[0]  # the app already serves production
    term = Session(project, "--stack", "live", home=tmp_path / "home")
    term.answer(r"Create stack 'live' .*\? \[y/N\] ", "y")
    term.answer(r"New passphrase for stack 'live' \(hidden\): ", PASSPHRASES["live"])
    term.answer(r"The same passphrase again \(hidden\): ", PASSPHRASES["live"])
    type_the_keys(term, keys)
    term.expect(r"INFO  coupon smoke_test: added", ENGINE_SECONDS)
    assert project.world.stripe.objects == {}  # nothing made before the yes
    term.answer(r"Apply these \d+ changes to stack 'live' \(live mode\)\? \[y/N\] ", "y")
    term.expect(r"Updated: \d+ created\.", ENGINE_SECONDS)
    term.expect(r"The app's production runs without what the update wrote: production deployment is older than "
                r"the variables written at \S+ \([A-Z_, ]+\)")
    posted = [r for r in project.world.vercel.requests if r == ("POST", "/v13/deployments")]
    assert posted == []  # nothing redeployed before the yes
    term.answer(r"Redeploy production now .*\? \[y/N\] ", "y")
    term.expect(r"dpl_\w+ is READY: production reads the new values\.")
    summary = verified(term, "live", project)
    assert term.finish() == 0
    assert [r for r in project.world.vercel.requests if r == ("POST", "/v13/deployments")] == [
        ("POST", "/v13/deployments")]
    assert project.world.vercel.deployments[0]["uid"] != running["uid"]
    [session] = project.world.stripe.payments.objects("/v1/checkout/sessions")
    assert (session["status"], session["mode"], session["allow_promotion_codes"]) == ("complete", "subscription",
                                                                                     True)
    [subscription] = project.world.stripe.payments.objects("/v1/subscriptions")
    assert subscription["status"] == "canceled"  # a live subscription would renew: the proof cancels it
    assert ("checkout.session.completed", 200) in project.world.stripe.payments.deliveries
    questions = re.findall(r"^(.*\? \[y/N\] )", term.transcript, re.MULTILINE)
    assert len(questions) == 4 and all(question.startswith(asked) for question, asked in zip(
        questions, ("Create stack 'live'", "Apply these", "Redeploy production now",
                    "Open the live Checkout Session now"), strict=True)), questions
    after = term.transcript[summary.end():]
    acts = re.search(r"Your acts: (\d+) outside go-live's prompts \((.*)\), (\d+) values typed at hidden prompts, "
                     r"(\d+) questions answered", after)
    assert acts, term.transcript[-3000:]
    assert re.search(r"Created or changed in this run:\n  stack 'live'", after)
    assert re.search(r"  payment proof: passed", after)
    with capsys.disabled():
        print(f"\ngo-live, a fresh live stack to verified (local servers): {acts.group(0)}")
    # No token exported and no other stack here: the Vercel token form is still an act. The
    # publishable key is typed on the API keys page the first form was opened from: not one.
    assert (int(acts.group(1)), int(acts.group(3)), int(acts.group(4))) == (5, 6, 4)
    assert acts.group(2) == ("this command; Stripe Dashboard form: Create restricted key (app); Stripe Dashboard "
                             "form: Create restricted key (deployer); Vercel token form; the live checkout, paid "
                             "in a browser")
    assert recorded(project, "live") == dict.fromkeys(("webhook", "stripe", "hosting", "payment"), "pass")


@pytest.mark.usefixtures("providers")
def test_yes_runs_a_test_stack_in_ci_without_a_terminal(project: Project) -> None:
    """CI: the stack made and its keys stored beforehand (README steps 6 and 7), the passphrase
    exported, no terminal: --yes answers each question and says so, and nothing is typed."""
    project.init_stack("test")
    project.world.sites[DOMAINS["test"]] = the_app(project, "test")
    project.world.vercel.deploy("preview")
    project.restrict("test", stripe_keys("test"))
    done = project.billing("go-live", "--stack", "test", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"Apply these \d+ changes to stack 'test' \(test mode\)\? \[y/N\] yes \(--yes\)", done.stdout)
    assert re.search(r"Updated: \d+ created\.", done.stdout)
    assert re.search(r"Run it now \(it creates, then deletes, a test customer\)\? \[y/N\] yes \(--yes\)",
                     done.stdout)
    assert "go-live of stack 'test' (test mode): verified" in done.stdout
    assert "Your acts" not in done.stdout  # nothing was asked of a person
