"""go-live's engine (infra/commands/golive/engine.py) against a stand-in `pulumi` on PATH that writes
the engine's events to `--event-log` and records every argv (tests/support/engine_stand_in.py).

What the real CLI does with the same commands (a preview and an up of the whole catalog, a stack
made and left unselected) is tests/engine/test_go_live.py's; this file holds what go-live asks of
the CLI and how it stops it: no stack selected, no secret read, a total deadline with the CLI's
whole process group ended, Ctrl-C passed on, and the events counted, masked and escaped.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from infra.commands.golive import engine
from infra.commands.golive.engine import Engine, EngineFailed, EngineStopped
from tests.support.engine_stand_in import CANCEL, Behaviour, EnginePulumi, alive, on_path
from tests.support.project import Project

PRODUCT, PRICE = "stripe:index/product:Product", "stripe:index/price:Price"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> EnginePulumi:
    stand_in = EnginePulumi(tmp_path / "bin")
    monkeypatch.setenv("PATH", on_path(tmp_path / "bin"))
    return stand_in


def resource(kind: str, op: str, type_: str, name: str, logical: bool = True) -> dict[str, Any]:
    """A resource event as the CLI logs it (pkg/v3 apitype/events.go: StepEventMetadata; `logical`
    omitted when false)."""
    meta = {"op": op, "urn": f"urn:pulumi:test::billing::{type_}::{name}", "type": type_, "provider": ""}
    return {"sequence": 1, "timestamp": 0, kind: {"metadata": {**meta, "logical": True} if logical else meta}}


def diagnostic(severity: str, message: str) -> dict[str, Any]:
    return {"sequence": 2, "timestamp": 0, "diagnosticEvent": {"message": message, "color": "never",
                                                               "severity": severity}}


def test_no_command_selects_a_stack_and_each_names_its_own(project: Project, cli: EnginePulumi) -> None:
    """`pulumi stack select` is global state (the default `--stack` of every `billing` command,
    infra/commands/stack_default.py): go-live never runs it, and `stack init` gets --no-select."""
    live = Engine(project.root, "live")
    live.create()
    live.preview()
    live.up(lambda line: None)
    argv = cli.argv()
    assert [args for args in argv if "select" in args] == [], argv
    init, preview, up = argv
    assert init == ["stack", "init", "live", "--secrets-provider", "passphrase", "--no-select", "--non-interactive"]
    for args in (preview, up):
        assert args[args.index("--stack") + 1] == "live" and args[0] == "--non-interactive"


def test_up_reads_no_output_and_no_secret(project: Project, cli: EnginePulumi) -> None:
    """engine.py: no command runs with --show-secrets. `up` is one command: nothing reads the stack's
    outputs (the Automation API's `up` read them all with --show-secrets) or its history after it."""
    Engine(project.root, "test").up(lambda line: None)
    [up] = cli.argv()
    assert up[:4] == ["--non-interactive", "up", "--yes", "--skip-preview"]
    assert "--show-secrets" not in up and "--suppress-outputs" in up
    assert up[up.index("--policy-pack") + 1] == "policies"


def test_steps_are_counted_from_the_event_log_each_said_escaped(project: Project, cli: EnginePulumi) -> None:
    forged = "pro\ngo-live of stack 'test' (test mode): verified, in 3 s"
    events: list[dict[str, Any] | str] = []
    for op, type_, name in (("create", PRODUCT, forged), ("same", PRICE, "pro-monthly"),
                            ("create", "pulumi:pulumi:Stack", "billing-test"), ("replace", PRICE, "pro-yearly")):
        events += [resource("resourcePreEvent", op, type_, name), resource("resOutputsEvent", op, type_, name)]
    cli.preview = cli.up = Behaviour(events=[*events, diagnostic("warning", "said, not repeated\n"), CANCEL])
    cli.save()
    run = Engine(project.root, "test").preview()
    assert run.steps == [("create", PRODUCT, forged), ("replace", PRICE, "pro-yearly")]
    assert run.total_line() == "1 to create, 0 to update, 1 to replace, 0 to delete"
    assert (run.errors, run.unread, run.ended) == ([], 0, True)
    said: list[str] = []
    Engine(project.root, "test").up(said.append)
    assert said == [f"  create   {PRODUCT}  pro\\ngo-live of stack 'test' (test mode): verified, in 3 s",
                    f"  replace  {PRICE}  pro-yearly"]


def test_a_replacement_is_one_step_as_the_engine_counts_it(project: Project, cli: EnginePulumi) -> None:
    # The engine logs three steps for one replacement; only `replace` is logical (step.go).
    events: list[dict[str, Any] | str] = []
    for op, logical in (("create-replacement", False), ("replace", True), ("delete-replaced", False)):
        events += [resource("resourcePreEvent", op, PRICE, "pro-yearly", logical),
                   resource("resOutputsEvent", op, PRICE, "pro-yearly", logical)]
    cli.preview = Behaviour(events=[*events, CANCEL])
    cli.save()
    run = Engine(project.root, "test").preview()
    assert run.steps == [("replace", PRICE, "pro-yearly")]
    assert run.total_line() == "0 to create, 0 to update, 1 to replace, 0 to delete"


def test_a_policy_violation_is_a_refusal_and_an_engine_error_is_not_both_masked(
    project: Project, cli: EnginePulumi,
) -> None:
    leaked = "rk_" + "test_" + "Q" * 24
    violation = {"sequence": 3, "timestamp": 0, "policyEvent": {
        "message": "a live key reaches development", "color": "never", "policyName": "hosting-secrets-scoped",
        "policyPackName": "billing", "policyPackVersion": "1", "enforcementLevel": "mandatory"}}
    cli.preview = Behaviour(events=[violation, CANCEL], status=255)
    cli.up = Behaviour(events=[diagnostic("info#err", "ModuleNotFoundError: No module named 'pulumi'\n"),
                               diagnostic("error", f"error: Stripe refused the key {leaked}\rforged\n"),
                               CANCEL], status=255)
    cli.save()
    with pytest.raises(EngineFailed) as refused:
        Engine(project.root, "test").preview()
    assert refused.value.refused
    assert str(refused.value) == "policy hosting-secrets-scoped: a live key reaches development"
    with pytest.raises(EngineFailed) as failed:
        Engine(project.root, "test").up(lambda line: None)
    assert not failed.value.refused
    why = str(failed.value)
    assert leaked not in why and "rk_test_... (32 characters)" in why
    assert "No module named 'pulumi'" in why and "\\rforged" in why and "\rforged" not in why


def test_without_events_the_end_of_what_the_cli_printed_is_shown_masked(
    project: Project, cli: EnginePulumi,
) -> None:
    leaked = "sk_" + "live_" + "Z" * 24
    cli.preview = Behaviour(events=[], status=255, stderr="".join(f"line {n}\n" for n in range(100))
                            + f"error: no language plugin for {leaked}\n")
    cli.save()
    with pytest.raises(EngineFailed) as failed:
        Engine(project.root, "test").preview()
    lines = str(failed.value).splitlines()
    assert len(lines) == engine._MAX_SHOWN and lines[-1].startswith("error: no language plugin for sk_live_")
    assert leaked not in str(failed.value)


def test_an_unreadable_event_log_is_counted_not_a_crash(project: Project, cli: EnginePulumi) -> None:
    cli.up = Behaviour(events=[resource("resourcePreEvent", "create", PRODUCT, "pro"), "{not json", "[1, 2]",
                               CANCEL], partial='{"sequence": 9')
    cli.preview = Behaviour(events=[resource("resourcePreEvent", "create", PRODUCT, "pro")])  # no cancel event
    cli.save()
    done = Engine(project.root, "test").up(lambda line: None)
    assert (done.steps, done.unread, done.ended) == ([("create", PRODUCT, "pro")], 3, True)
    previewed = Engine(project.root, "test").preview()
    assert (previewed.unread, previewed.ended) == (0, False)


@pytest.mark.parametrize("command", ["preview", "up"])
def test_a_cli_past_its_deadline_is_stopped_with_its_whole_group(
    project: Project, cli: EnginePulumi, monkeypatch: pytest.MonkeyPatch, command: str,
) -> None:
    """A preview stuck loading the policy pack, an up waiting on a provider: go-live ends them. The
    CLI gets SIGINT first (Pulumi's cancel); one that ignores it is killed, with all it started."""
    monkeypatch.setattr(engine, "PREVIEW_SECONDS" if command == "preview" else "UP_SECONDS", 0.5)
    monkeypatch.setattr(engine, "STOP_GRACE", 0.5)
    setattr(cli, command, Behaviour(sleep=60, ignore_int=True, child=True))
    cli.save()
    started = time.monotonic()
    with pytest.raises(EngineStopped) as stopped:
        if command == "preview":
            Engine(project.root, "test").preview()
        else:
            Engine(project.root, "test").up(lambda line: None)
    assert time.monotonic() - started < 20
    assert f"`pulumi {command} --stack test` did not end within 0.5 s: go-live stopped it" in str(stopped.value)
    pids = cli.pids()
    assert len(pids) == 2
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in pids), "a process of the CLI's group outlived go-live's stop"


def test_a_cli_that_honours_sigint_ends_by_its_own_cancel(
    project: Project, cli: EnginePulumi, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(engine, "UP_SECONDS", 0.5)
    monkeypatch.setattr(engine, "STOP_GRACE", 30.0)
    cli.up = Behaviour(sleep=60)
    cli.save()
    started = time.monotonic()
    with pytest.raises(EngineStopped):
        Engine(project.root, "test").up(lambda line: None)
    assert cli.interrupted() and time.monotonic() - started < 20  # SIGINT, not the grace's SIGKILL


def test_ctrl_c_during_up_stops_the_cli_and_goes_on(project: Project, cli: EnginePulumi) -> None:
    """The CLI runs in its own process group, so the terminal's SIGINT reaches go-live only: go-live
    passes it on (here the Ctrl-C lands while it says a step, as it may anywhere in its wait)."""
    cli.up = Behaviour(events=[resource("resOutputsEvent", "create", PRODUCT, "pro")], sleep=60)
    cli.save()

    def ctrl_c(line: str) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Engine(project.root, "test").up(ctrl_c)
    assert cli.interrupted()
    assert not any(alive(pid) for pid in cli.pids())
