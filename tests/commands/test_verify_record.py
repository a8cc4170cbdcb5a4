"""`verify` records each check's outcome as a stack tag for `billing status`, through the pulumi CLI.

The stand-in `pulumi` (tests/support/pulumi_stand_in.py) keeps the tags as the CLI does and logs every
argv, so the exact commands are asserted, and no secret is ever among them (argv is visible to
every process on the machine). Hosting is checked against the local Vercel-shaped server.
"""

from __future__ import annotations

import json
import os
import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from infra.catalog import hosting
from infra.catalog.loader import load_deployment
from infra.clients import pulumi_cli
from infra.core import exits
from infra.hosts.vercel import TARGETS
from tests.servers.vercel_api_server import VercelProject, VercelServer, now_ms
from tests.support.project import VERCEL_PROJECT, Project, credentials, run_cli, stack_config
from tests.support.pulumi_stand_in import Pulumi

TOKEN = "vercel" + "T0ken" * 5
RECORD = re.compile(r"(pass|fail) (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")


@pytest.fixture
def vercel(project: Project, monkeypatch: pytest.MonkeyPatch) -> Iterator[VercelProject]:
    """The test stack's variables on their targets, as an `up` left them."""
    found = VercelProject(VERCEL_PROJECT, TOKEN)
    deployment = load_deployment("test", project.root, stack_config("test").get)
    for target in TARGETS["test"]:
        for variable in hosting.variables(deployment.catalog):
            found.env(variable.name, [target.name], target.sensitive, now_ms() - 60_000)
    with VercelServer(found) as server:
        monkeypatch.setenv("VERCEL_API_BASE", server.base)
        monkeypatch.setenv("VERCEL_TOKEN", TOKEN)
        yield found


@pytest.fixture
def pulumi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Pulumi:
    stand_in = Pulumi(tmp_path / "bin", stacks={"test": {"lastUpdate": "2026-11-30T10:00:00.000Z",
                                                                 "resourceCount": 27}},
                      config={name: (value, True) for name, value in credentials("test").items()})
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    return stand_in


def verify(project: Project, *argv: str) -> tuple[int, str, str]:
    return run_cli("verify", *argv, "--project", str(project.root))


def tag_sets(pulumi: Pulumi) -> list[list[str]]:
    return [argv for argv in pulumi.argv() if argv[:3] == ["stack", "tag", "set"]]


def test_a_passing_check_is_recorded_with_the_exact_cli_command(
    project: Project, vercel: VercelProject, pulumi: Pulumi,
) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    code, out, err = verify(project, "hosting", "--stack", "test")
    assert code == exits.OK, out + err
    (argv,) = tag_sets(pulumi)
    assert argv[:4] == ["stack", "tag", "set", "billing:verify:hosting"] and argv[5:] == ["--stack", "test"]
    found = RECORD.fullmatch(argv[4])
    assert found and found.group(1) == "pass"
    assert before <= datetime.fromisoformat(found.group(2)) <= datetime.now(UTC)
    assert pulumi.stored_tags() == {"billing:verify:hosting": argv[4]}
    assert "recorded on stack 'test' for `billing status`: billing:verify:hosting=pass" in err
    for secret in credentials("test").values():
        assert not any(secret in part for argv in pulumi.argv() for part in argv)


def test_a_failing_check_is_recorded_as_fail_and_still_exits_1(
    project: Project, vercel: VercelProject, pulumi: Pulumi,
) -> None:
    vercel.envs.clear()  # nothing on the host
    code, _, err = verify(project, "hosting", "--stack", "test")
    assert code == exits.FINDINGS
    (argv,) = tag_sets(pulumi)
    assert argv[4].startswith("fail ")
    assert "billing:verify:hosting=fail" in err


def test_no_record_sets_no_tag(project: Project, vercel: VercelProject, pulumi: Pulumi) -> None:
    code, _, err = verify(project, "hosting", "--stack", "test", "--no-record")
    assert code == exits.OK and tag_sets(pulumi) == [] and "record" not in err


def test_json_stays_one_document_and_the_record_is_said_on_stderr(
    project: Project, vercel: VercelProject, pulumi: Pulumi,
) -> None:
    code, out, err = verify(project, "hosting", "--stack", "test", "--json")
    assert code == exits.OK and json.loads(out)["ok"] is True
    assert "billing:verify:hosting=pass" in err and len(tag_sets(pulumi)) == 1


def test_without_the_cli_the_checks_stand_and_it_says_nothing_was_recorded(
    project: Project, vercel: VercelProject, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    code, out, err = verify(project, "hosting", "--stack", "test")
    assert code == exits.OK, out + err
    assert "not recorded for `billing status`: the pulumi CLI is not on PATH" in err
    assert "the checks above stand (`--no-record` skips recording)" in err


def test_a_stack_the_backend_does_not_have_is_not_recorded_and_the_exit_is_the_checks(
    project: Project, vercel: VercelProject, pulumi: Pulumi,
) -> None:
    pulumi.stacks = {"live": {}}
    pulumi.save()
    code, _, err = verify(project, "hosting", "--stack", "test")
    assert code == exits.OK
    assert "not recorded for `billing status`: `pulumi stack tag set billing:verify:hosting pass " in err
    assert "failed (exit 6): error: no stack named 'test' found" in err


def test_a_webhook_probed_at_a_url_of_ones_choosing_does_not_speak_for_the_stack(
    project: Project, pulumi: Pulumi, monkeypatch: pytest.MonkeyPatch,
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once the block ends: nothing listens there
    monkeypatch.setenv("HOOK", "whsec_" + "a" * 32)
    code, _, err = verify(project, "webhook", "--stack", "test", "--url", f"http://127.0.0.1:{port}/hook",
                          "--allow-http", "--secret-env", "HOOK", "--timeout", "2")
    assert code == exits.FINDINGS
    assert tag_sets(pulumi) == [] and "recorded" not in err


def test_status_reads_back_what_verify_recorded(project: Project, vercel: VercelProject, pulumi: Pulumi) -> None:
    assert verify(project, "hosting", "--stack", "test")[0] == exits.OK
    _, out, _ = run_cli("status", "--stack", "test", "--project", str(project.root))
    (line,) = [line for line in out.splitlines() if "verify hosting" in line]
    assert re.fullmatch(r"  ok    verify hosting: passed at \S+Z, after the last update", line), line


@pytest.mark.parametrize(("name", "value"), [
    ("billing:verify:" + "x" * 30, "pass"),  # 45 characters: Pulumi Cloud refuses a name over 40
    ("billing verify", "pass"),  # a space
    ("billing:verify:hosting", "p" * 257),  # a value over 256
])
def test_a_tag_the_cli_would_refuse_is_never_sent(project: Project, pulumi: Pulumi, name: str, value: str) -> None:
    with pytest.raises(ValueError, match="not a stack tag the CLI accepts"):
        pulumi_cli.set_stack_tag("test", project.root, name, value)
    assert pulumi.argv() == []


def test_the_clis_error_is_escaped_before_it_reaches_the_terminal(
    project: Project, vercel: VercelProject, pulumi: Pulumi,
) -> None:
    # A backend plugin, a wrapper script or a hostile `pulumi` on PATH writes its error line.
    pulumi.failures = {"stack tag set": (1, "error: \x1b]0;owned\x07\x1b[2J\u202e denied\n")}
    pulumi.save()
    code, _, err = verify(project, "hosting", "--stack", "test")
    assert code == exits.OK
    assert "failed (exit 1): error: \\x1b]0;owned\\x07\\x1b[2J\\u202e denied; the checks above stand" in err
    assert not any(c in err for c in "\x1b\x07\u202e")
