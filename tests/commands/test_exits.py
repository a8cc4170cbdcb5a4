"""`infra.cli.run`: every outcome has its own exit status, and a crash is one line."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest

from infra import cli
from infra.catalog import stack_files
from infra.core import exits
from tests.support.catalogs import OVERFLOWS_A_PIPE
from tests.support.project import Project, key, run_cli
from tests.support.repository import CATALOG, REPO

SENTINEL = key("sk", "live", "Cr4sh")


def crash(*_args: object, **_kwargs: object) -> None:
    raise KeyError(SENTINEL)


@pytest.mark.on_the_repository
def test_an_unexpected_exception_is_one_line_without_its_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv(cli.TRACE, raising=False)
    monkeypatch.setattr(stack_files, "open_stack", crash)
    assert cli.run(["validate", "--stack", "test"]) == exits.INTERNAL
    captured = capsys.readouterr()
    assert captured.out == ""
    assert re.fullmatch(r"internal error: KeyError in loader\.py:\d+ \(load_deployment\); this is a bug, not "
                        r"your input \(set BILLING_TRACE=1 for the trace\)\n", captured.err)


@pytest.mark.on_the_repository
def test_the_trace_is_shown_only_on_request(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(cli.TRACE, "1")
    monkeypatch.setattr(stack_files, "open_stack", crash)
    assert cli.run(["validate", "--stack", "test"]) == exits.INTERNAL
    err = capsys.readouterr().err
    assert err.startswith("internal error: KeyError")
    assert "Traceback (most recent call last):" in err and "in crash" in err


@pytest.mark.on_the_repository
@pytest.mark.parametrize(("argv", "status"), [
    (["validate", "--stack", "test"], exits.OK),
    (["keys", "--stack", "live"], exits.OK),
    (["validate", "--stack", "nope"], exits.REFUSED),
    (["plan", "--stack", "nope"], exits.REFUSED),
    (["keys", "--stack", "nope"], exits.REFUSED),
    (["diff", "--base=--output=/tmp/x"], exits.REFUSED),
    (["verify"], exits.REFUSED),
])
def test_each_command_returns_a_named_status(argv: list[str], status: int) -> None:
    assert cli.run(argv) == status


def test_a_usage_error_is_refused_input(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.run(["validate", "--no-such-flag"])
    assert caught.value.code == exits.REFUSED
    assert "unrecognized arguments: --no-such-flag" in capsys.readouterr().err
    # No stack from anywhere (no --stack, BILLING_STACK or `pulumi stack select`): refused, with the ways.
    assert cli.run(["validate"]) == exits.REFUSED
    assert "--stack: (stack): no stack given: pass --stack S (test or live), export BILLING_STACK=S" \
        in capsys.readouterr().err


def test_diff_statuses(project: Project) -> None:
    for argv in (["init", "-q"], ["add", "-A"], ["-c", "user.email=a@b.c", "-c", "user.name=A", "commit", "-qm", "x"]):
        subprocess.run(["git", "-C", str(project.root), *argv], check=True, capture_output=True)
    base = ["diff", "--base", "HEAD", "--stack", "test", "--project", str(project.root)]
    assert run_cli(*base)[0] == exits.OK
    project.catalog(CATALOG.replace("    - customer.subscription.deleted\n", ""))  # an event no longer sent
    assert run_cli(*base)[0] == exits.FINDINGS
    project.catalog(CATALOG.replace('      yearly:  {amount: "290.00", currency: usd, interval: year}\n', ""))
    assert run_cli(*base)[0] == exits.REFUSED


def test_a_reader_that_goes_away_ends_the_process_like_any_unix_tool(project: Project) -> None:
    project.catalog(OVERFLOWS_A_PIPE)  # more than the pipe holds: the plan is still writing when it closes
    process = subprocess.Popen([sys.executable, "-m", "infra", "plan", "--verbose", "--stack", "test", "--project",
                                str(project.root)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline().startswith(b"Offline plan of stack 'test'")
    process.stdout.close()
    process.wait(timeout=120)
    # Killed by SIGPIPE (141 in a shell): never 0, never 1 ("findings", which gates accept).
    assert process.returncode == -signal.SIGPIPE
    assert process.stderr.read() == b""


def test_a_ctrl_c_no_command_handles_ends_the_process_by_sigint_without_a_trace(project: Project) -> None:
    # Before go-live's own handler is reached (its imports, opening the stack): the interrupt
    # reaches the entry point, which ends as Ctrl-C ends a Unix tool, never as a traceback or 0-2.
    script = ("import sys\nfrom infra import cli\nfrom infra.commands.golive import command\n"
              "def interrupted(out, yes):\n    raise KeyboardInterrupt\n"
              "command.on_terminal = interrupted\n"
              f"sys.exit(cli.run(['go-live', '--stack', 'test', '--project', {str(project.root)!r}]))\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", script], cwd=project.root, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == -signal.SIGINT, done.stderr
    assert done.stderr == "interrupted\n"
