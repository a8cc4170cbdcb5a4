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
program (preview, up, the host, verify) also need the language host and both providers, and
skip with tools/engine.py's reason without them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.engine.go_live_session import (
    ENGINE_SECONDS,
    LIVE_SMOKE_TEST,
    ArgvWatch,
    Session,
    files_holding,
    keys_for,
    stack_file,
    stacks,
    stored,
    the_app,
    type_the_keys,
)
from tests.engine.harness import DOMAINS, PASSPHRASES, Project, key


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
        term.answer(r"stripe:apiKey \(rk_test_\.\.\., hidden\): ", wrong)
        term.expect(r"Refused, nothing stored: stripe:apiKey: the key is a live-mode key \(rk_live_\) but the "
                    r"stack is in test mode\. Enter the right one\.")
        term.answer(r"stripe:apiKey \(rk_test_\.\.\., hidden\): ", keys["stripe:apiKey"])
        term.answer(r"billing:publishableKey \(pk_test_\.\.\., hidden\): ", keys["billing:publishableKey"])
        term.answer(r"vercel:apiToken \(the value, hidden\): ", keys["vercel:apiToken"])
        term.expect(r"Stored vercel:apiToken as a secret\.")
        # Stopped by Ctrl-C once the keys are in: it says where, and how to go on.
        term.expect(r"5\. preview and update")
        term.interrupt()
        term.expect(r"stopped at step 5 \(preview and update\); run `billing go-live --stack test` again to "
                    r"resume")
        assert term.finish() == 2
        first = term.transcript

        # The second run asks for the passphrase (never kept), then starts at step 5.
        again = watch.watch(Session(project, "--stack", "test", home=home))
        again.answer(r"Passphrase for stack 'test' \(hidden\): ", passphrase)
        again.expect(r"4\. the keys: done")
        again.expect(r"5\. preview and update")
        _after_the_keys(project, again)
    assert "Create stack" not in again.transcript and "hidden): " not in again.transcript.split("4. the keys")[1]

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
    """Step 5 with the CLI alone stops at the preview (no language host); with the whole engine it
    previews and asks, and a no changes nothing. Either way nothing is applied."""
    if project.engine.status.get("language-python", {}).get("state") == "built":
        term.answer(r"Apply these \d+ changes to stack '\w+' \(\w+ mode\)\? \[y/N\] ", "n", ENGINE_SECONDS)
        term.expect(r"declined: nothing was changed")
    else:
        term.expect(r"The preview failed; the engine said:\n.*language plugin", ENGINE_SECONDS)
    term.expect(r"stopped at step 5 \(preview and update\)")
    assert term.finish() == 2


def test_live_asks_before_each_change_and_a_no_changes_nothing(project: Project, tmp_path: Path) -> None:
    stack_file(project, "live", LIVE_SMOKE_TEST)
    home = tmp_path / "home"
    term = Session(project, "--stack", "live", home=home)
    term.answer(r"Create stack 'live' .*\? \[y/N\] ", "n")
    term.expect(r"declined: no stack was created")
    assert term.finish() == 2
    assert "live" not in stacks(project)

    keys = keys_for("live")
    term = Session(project, "--stack", "live", home=home)
    term.answer(r"Create stack 'live' .*\? \[y/N\] ", "y")
    term.answer(r"New passphrase for stack 'live' \(hidden\): ", PASSPHRASES["live"])
    term.answer(r"The same passphrase again \(hidden\): ", PASSPHRASES["live"])
    term.expect(r"https://dashboard\.stripe\.com/apikeys/create\?name=billing-live-app")
    term.answer(r"billing:appStripeKey \(rk_live_\.\.\., hidden\): ", key("rk", "test", "GoTest1"))
    term.expect(r"Refused, nothing stored: billing:appStripeKey: the key is a test-mode key \(rk_test_\)")
    term.answer(r"billing:appStripeKey \(rk_live_\.\.\., hidden\): ", keys["billing:appStripeKey"])
    # The deployer's key again for the app: refused on live, where the app gets its own.
    term.answer(r"stripe:apiKey \(rk_live_\.\.\., hidden\): ", keys["billing:appStripeKey"])
    term.expect(r"(?s)Refused, nothing stored: stripe:apiKey")
    term.answer(r"stripe:apiKey \(rk_live_\.\.\., hidden\): ", keys["stripe:apiKey"])
    term.answer(r"billing:publishableKey \(pk_live_\.\.\., hidden\): ", keys["billing:publishableKey"])
    term.answer(r"vercel:apiToken \(the value, hidden\): ", keys["vercel:apiToken"])
    term.expect(r"5\. preview and update")
    _after_the_keys(project, term)
    assert "live" in stacks(project)
    history = project.pulumi("stack", "history", "--json", stack="live")
    assert json.loads(history.stdout or "[]") == []  # no update ran
    assert stored(project, "live", "stripe:apiKey") == keys["stripe:apiKey"]


def test_without_a_terminal_it_refuses_and_changes_nothing(project: Project) -> None:
    stack_file(project, "test")
    stack_file(project, "live", LIVE_SMOKE_TEST)
    done = project.billing("go-live", "--stack", "test")  # stdin is not a terminal here
    assert done.returncode == 2 and "stdin is not a terminal" in done.stderr
    done = project.billing("go-live", "--stack", "live", "--yes")
    assert done.returncode == 2 and "--yes is refused on a live stack" in done.stderr
    assert stacks(project) == []


# ------------------------------------------------- the whole run: the language host and providers


# The local Stripe models every object the stack makes, but not restricted keys (any key may do
# anything) nor customers, sessions or subscriptions (tests/unit/probes/test_verify_stripe.py and
# tests/unit/probes/test_verify_payment.py run those against servers that do). So `verify stripe`'s probes of
# what the app key may do cannot pass here, and go-live stops there, after every check of what
# the stack deployed has passed.
KEY_PROBES = ("app key ",)


def verify_reached(term: Session, stack: str) -> None:
    """go-live verified the webhook (the app at the stack's domain), then stopped at `verify stripe`
    on the local Stripe's limits only: each failing check is a probe of the app key."""
    term.expect(r"7\. verify the deployment")
    term.expect(r"verify webhook https://\S+\n(?:.*\n)*?\d+ passed, \d+ warnings?, 0 failed")
    found = term.expect(r"verify stripe \(\w+ mode, stack \w+\)\n((?:.*\n)*?)\d+ passed, \d+ warnings?, "
                        r"(\d+) failed")
    failing = [line.split()[1:4] for line in found.group(1).splitlines() if line.startswith("  FAIL ")]
    assert failing and all(" ".join(words).startswith(KEY_PROBES) for words in failing), found.group(0)
    term.expect(rf"stopped at step 7 \(verify the deployment\); run `billing go-live --stack {stack}`")
    assert term.finish() == 1


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


@pytest.mark.usefixtures("providers")
def test_a_fresh_test_stack_from_nothing_to_verified_in_one_run(project: Project, tmp_path: Path) -> None:
    stack_file(project, "test")
    project.world.sites[DOMAINS["test"]] = the_app(project, "test")
    keys = keys_for("test")
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
    # The local Vercel has no preview deployment: nothing runs with old values, so nothing to rebuild.
    term.expect(r"6\. the host: done \(no preview deployment yet: its first build reads the values\)")
    verify_reached(term, "test")
    stripe_made = sum(len(objects) for objects in project.world.stripe.objects.values())
    assert stripe_made == sum(kind.startswith("stripe:") for kind, _ in planned_steps(project, "test"))
    assert len(project.world.vercel.envs) == sum(kind.startswith("vercel:") for kind, _ in
                                                 planned_steps(project, "test"))
    for value in [*keys.values(), PASSPHRASES["test"]]:
        assert value not in term.transcript
    # What go-live did not reach on the local servers, `verify hosting` shows passes.
    hosting = project.billing("verify", "hosting", "--stack", "test")
    assert hosting.returncode == 0, hosting.stdout + hosting.stderr


@pytest.mark.usefixtures("providers")
def test_stopped_after_up_a_second_run_resumes_without_a_second_update(project: Project, tmp_path: Path) -> None:
    stack_file(project, "test")
    project.world.sites[DOMAINS["test"]] = the_app(project, "test")
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
    term.expect(r"stopped at step [567] \([^)]*\); run `billing go-live --stack test` again to resume")
    assert term.finish() == 2
    made = {kind: set(objects) for kind, objects in project.world.stripe.objects.items()}
    history = json.loads(project.pulumi("stack", "history", "--json", stack="test").stdout)
    assert [entry["result"] for entry in history] == ["succeeded"]

    again = Session(project, "--stack", "test", home=home)
    again.answer(r"Passphrase for stack 'test' \(hidden\): ", PASSPHRASES["test"])
    again.expect(r"4\. the keys: done")
    again.expect(r"5\. preview and update: done \(the last update \([^)]+\) succeeded\)")
    verify_reached(again, "test")
    assert "Previewing" not in again.transcript and "Apply these" not in again.transcript
    assert {kind: set(objects) for kind, objects in project.world.stripe.objects.items()} == made
    history = json.loads(project.pulumi("stack", "history", "--json", stack="test").stdout)
    assert len(history) == 1


@pytest.mark.usefixtures("providers")
def test_a_fresh_live_stack_asks_before_each_change_and_redeploys_production(
    project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    stack_file(project, "live", LIVE_SMOKE_TEST)
    project.world.stripe.livemode = True
    project.world.sites[DOMAINS["live"]] = the_app(project, "live")
    running = project.world.vercel.deploy("production")  # the app already serves production
    keys = keys_for("live")
    term = Session(project, "--stack", "live", home=tmp_path / "home")
    term.answer(r"Create stack 'live' .*\? \[y/N\] ", "y")
    term.answer(r"New passphrase for stack 'live' \(hidden\): ", PASSPHRASES["live"])
    term.answer(r"The same passphrase again \(hidden\): ", PASSPHRASES["live"])
    type_the_keys(term, keys)
    term.expect(r"INFO  coupon smoke_test: added", ENGINE_SECONDS)
    assert project.world.stripe.objects == {}  # nothing made before the yes
    term.answer(r"Apply these \d+ changes to stack 'live' \(live mode\)\? \[y/N\] ", "y")
    term.expect(r"Updated: \d+ created\.", ENGINE_SECONDS)
    term.expect(r"Production keeps the old values until it is built again \(changed: [A-Z_, ]+\)")
    posted = [r for r in project.world.vercel.requests if r == ("POST", "/v13/deployments")]
    assert posted == []  # nothing redeployed before the yes
    term.answer(r"Redeploy production now .*\? \[y/N\] ", "y")
    term.expect(r"dpl_\w+ is READY: production reads the new values\.")
    verify_reached(term, "live")
    assert [r for r in project.world.vercel.requests if r == ("POST", "/v13/deployments")] == [
        ("POST", "/v13/deployments")]
    assert project.world.vercel.deployments[0]["uid"] != running["uid"]
    questions = re.findall(r"^(.*\? \[y/N\] )", term.transcript, re.MULTILINE)
    assert len(questions) == 3 and all(question.startswith(asked) for question, asked in zip(
        questions, ("Create stack 'live'", "Apply these", "Redeploy production now"), strict=True)), questions
    acts = re.search(r"Your acts so far: (\d+) outside go-live's prompts \((.*)\), (\d+) values typed at "
                     r"hidden prompts, (\d+) questions answered", term.transcript)
    assert acts, term.transcript[-3000:]
    with capsys.disabled():
        print(f"\ngo-live, a fresh live stack to verify (local servers): {acts.group(0)}")
    assert (int(acts.group(1)), int(acts.group(3)), int(acts.group(4))) == (5, 6, 3)


@pytest.mark.usefixtures("providers")
def test_yes_runs_a_test_stack_in_ci_without_a_terminal(project: Project) -> None:
    """CI: the stack made and its keys stored beforehand (README steps 6 and 7), the passphrase
    exported, no terminal: --yes answers each question and says so, and nothing is typed."""
    project.init_stack("test")
    project.world.sites[DOMAINS["test"]] = the_app(project, "test")
    done = project.billing("go-live", "--stack", "test", "--yes")
    assert done.returncode == 1, done.stdout + done.stderr
    assert re.search(r"Apply these \d+ changes to stack 'test' \(test mode\)\? \[y/N\] yes \(--yes\)", done.stdout)
    assert re.search(r"Updated: \d+ created\.", done.stdout)
    assert "stopped at step 7 (verify the deployment)" in done.stdout
    assert "Your acts" not in done.stdout  # nothing was asked of a person
