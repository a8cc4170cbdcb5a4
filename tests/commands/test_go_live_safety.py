"""go-live's own safety, each case seen in a review of it: a new stack never takes the passphrase
another stack exported, a stack readiness could not find is never made again, the policy build gets
no secret and leaves no process behind, and a value from outside cannot start a line of its own."""

from __future__ import annotations

import argparse
import io
import os
import time
from pathlib import Path

import pytest

from infra.clients import pulumi_cli
from infra.commands.golive import command, setup, steps
from infra.commands.golive.context import Context
from infra.commands.golive.terminal import Stop
from infra.core import exits
from infra.core.problems import ConfigError, Problem
from infra.probes import readiness
from infra.probes.facts import Item
from infra.probes.readiness import Readiness
from tests.support.go_live import at_terminal, context, key_items, with_facts
from tests.support.project import Project

STAMP = Path("policies/venv/.installed")
ABSENT = Item("stack", False, "stack 'live' does not exist in file:///state", field="absent")


class Engine:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def create(self) -> None:
        self.calls.append("create")


def test_a_new_stack_gets_its_own_passphrase_though_another_is_exported(
    project: Project, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # README step 6 exports the test stack's passphrase; a live stack made with it opens for whoever has it.
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "the test stack's passphrase")
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE_FILE", "/nonexistent/test-passphrase")
    with_facts(monkeypatch, Readiness("live", (Item("backend", True, "logged in to file:///state"), ABSENT), None))
    typed = "live " + "one"
    term, out, person = at_terminal("y", typed, typed)
    ctx = context(project, term, "live")
    engine = Engine()
    ctx._engine = engine  # type: ignore[assignment]
    setup.stack(ctx)
    assert engine.calls == ["create"]
    assert [p.split(" (")[0] for p in person.prompts[1:]] == ["New passphrase for stack 'live'",
                                                               "The same passphrase again"]
    assert "is not used for a new stack" in out.getvalue() and "the test stack's" not in out.getvalue()
    # What the engine's processes get from now on: the typed one, not the exported file.
    assert os.environ["PULUMI_CONFIG_PASSPHRASE"] == typed and "PULUMI_CONFIG_PASSPHRASE_FILE" not in os.environ


def test_in_ci_a_new_stack_without_a_passphrase_is_told_to_export_one(
    project: Project, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE_FILE", raising=False)
    with_facts(monkeypatch, Readiness("test", (Item("stack", False, "stack 'test' does not exist",
                                                    field="absent"),), None))
    term, _, _ = at_terminal(yes=True)
    term.interactive = False
    ctx = context(project, term)
    engine = Engine()
    ctx._engine = engine  # type: ignore[assignment]
    with pytest.raises(Stop) as stopped:
        setup.stack(ctx)
    assert stopped.value.status == exits.REFUSED and engine.calls == []
    assert "export PULUMI_CONFIG_PASSPHRASE" in str(stopped.value)
    assert "config set" not in str(stopped.value)


@pytest.mark.parametrize("said", [
    "stack 'live' does not exist in your default organization (only as acme/live: `--stack` with the bare "
    "name never reaches it) in https://api.pulumi.com",
    "the stacks in https://api.pulumi.com could not be listed: `pulumi stack ls --json` did not exit within 30s",
    "2 stacks are named 'live' in https://api.pulumi.com (a/billing/live, b/billing/live)",
], ids=["another-org", "not-listed", "ambiguous"])
def test_a_stack_readiness_could_not_find_is_never_made_again(
    project: Project, monkeypatch: pytest.MonkeyPatch, said: str,
) -> None:
    with_facts(monkeypatch, Readiness("live", (Item("backend", True, "logged in to https://api.pulumi.com"),
                                               Item("stack", False, said, "its fix")), None))
    term, out, person = at_terminal("y", "p", "p")
    ctx = context(project, term, "live")
    engine = Engine()
    ctx._engine = engine  # type: ignore[assignment]
    with pytest.raises(Stop) as stopped:
        setup.stack(ctx)
    assert stopped.value.status == exits.REFUSED and engine.calls == [] and person.prompts == []
    assert said in out.getvalue() and "fix: its fix" in out.getvalue()


def test_the_policy_build_gets_no_passphrase_key_or_token(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # make, and no pulumi
    secrets = {"PULUMI_CONFIG_PASSPHRASE": "typed passphrase", "STRIPE_API_KEY": "rk_" + "test_" + "d" * 24,
               "VERCEL_API_TOKEN": "vercel" + "T" * 20, "VERCEL_TOKEN": "vercel" + "U" * 20,
               "PULUMI_ACCESS_TOKEN": "pul-" + "a" * 40, "AWS_SECRET_ACCESS_KEY": "w" * 40,
               "CLERK_SECRET_KEY": "sk_" + "test_" + "c" * 24, "DATABASE_PASSWORD": "p" * 16}
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("BILLING_HARMLESS", "kept")
    (project.root / "Makefile").write_text(f"policy-venv:\n\tenv > envdump\n\tmkdir -p {STAMP.parent} && "
                                           f"touch {STAMP}\n")
    term, _, _ = at_terminal("y")
    setup.policy(context(project, term))
    dumped = (project.root / "envdump").read_text()
    assert "BILLING_HARMLESS=kept" in dumped  # the rest of the environment is the build's
    assert not [name for name, value in secrets.items() if value in dumped or f"{name}=" in dumped]


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")
def test_a_policy_build_past_its_deadline_is_ended_with_all_it_started(
    project: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    pid_file = tmp_path / "pid"
    # make starts a shell that starts a sleeper: killing make alone would leave the sleeper (pip, in life).
    (project.root / "Makefile").write_text(f"policy-venv:\n\tsh -c 'sleep 60 & echo $$! > {pid_file}; wait'\n")
    monkeypatch.setattr(setup, "POLICY_SECONDS", 1.0)
    term, _, _ = at_terminal("y")
    with pytest.raises(Stop) as stopped:
        setup.policy(context(project, term))
    assert stopped.value.status == exits.FINDINGS and "were stopped" in str(stopped.value)
    sleeper = int(pid_file.read_text())
    ends = time.monotonic() + 10
    while _running(sleeper) and time.monotonic() < ends:
        time.sleep(0.05)
    assert not _running(sleeper)


@pytest.mark.parametrize("separator", ["\r", "\u2028", "\x85", "\x0c", "\x0b", "\x1e"])
def test_a_quoted_value_cannot_start_a_line_of_its_own(separator: str) -> None:
    term, out, _ = at_terminal()
    term.say(f"Building dpl_123{separator}go-live of stack 'live' (live mode): verified...")
    lines = out.getvalue().split("\n")
    assert len(lines) == 2 and lines[1] == "" and not any(line.startswith("go-live") for line in lines)
    assert all(c not in lines[0] for c in "\r\u2028\x85\x0c\x0b\x1e")


def test_on_live_keys_that_cannot_be_read_stop_before_any_is_asked(
    project: Project, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Without them the check that the app key is not the deployer's would pass unseen.
    def unreadable(*_: object, **__: object) -> pulumi_cli.DecryptedConfig:
        raise pulumi_cli.CliError("`pulumi config --json --show-secrets` did not exit within 30s")

    monkeypatch.setattr(pulumi_cli, "decrypted_config", unreadable)
    term, _, person = at_terminal("rk_" + "live_" + "a" * 24)
    ctx = context(project, term, "live")
    with_facts(monkeypatch, Readiness("live", tuple(key_items("billing:appStripeKey")), None))
    with pytest.raises(Stop) as stopped:
        setup.keys(ctx)
    assert stopped.value.status == exits.FINDINGS and person.prompts == []
    assert "could not be read" in str(stopped.value)


def test_a_stop_after_this_run_s_update_is_never_nothing_was_done(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    # A refusal after this run's update (here a stack file broken meanwhile, read again after the
    # step; a "no" to the redeploy is the same): exit 2, "nothing was applied", would hide it.
    def broken(stack: str, root: Path) -> Readiness:
        raise ConfigError([Problem("Pulumi.test.yaml", 3, "billing:mode", "must be test or live")])

    def update(ctx: Context) -> None:
        ctx.updated = True  # as deploy sets it when `up` ended as planned
        monkeypatch.setattr(readiness, "read", broken)

    for applied in (False, True):
        with_facts(monkeypatch, Readiness("test", (Item("cli", True, "pulumi CLI v3.274.1"),), None))
        run = update if applied else (lambda _: monkeypatch.setattr(readiness, "read", broken))
        monkeypatch.setattr(steps, "STEPS", (steps.Step("update", "preview and update", lambda _: None, run),))
        out = io.StringIO()
        status = command.main(argparse.Namespace(stack="test", project=project.root, yes=True), out)
        assert status == (exits.FINDINGS if applied else exits.REFUSED), out.getvalue()
        assert "must be test or live" in out.getvalue()
        assert ("This run's update stays applied" in out.getvalue()) is applied
