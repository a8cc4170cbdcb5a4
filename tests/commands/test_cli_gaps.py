"""The command line's small promises: --version, bare `billing`, where --stack comes from, honest help."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from infra.core import exits
from tests.support.project import Project, run_cli
from tests.support.repository import REPO


def test_version_is_the_packages() -> None:
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    done = subprocess.run([sys.executable, "-m", "infra", "--version"], cwd=REPO, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == exits.OK and done.stdout.strip() == f"billing {declared}"


def test_bare_billing_prints_the_help_and_exits_0() -> None:
    code, out, err = run_cli()
    assert code == exits.OK and err == ""
    assert out.startswith("usage: billing") and "validate" in out and "verify" in out
    # A newcomer is told where to start: the one command that names every step left.
    assert "New here? `billing status --stack test` says where the stack is" in " ".join(out.split())


def select(pulumi_home: Path, project: Project, stack: str) -> None:
    """What `pulumi stack select STACK` leaves behind for this checkout."""
    project_file = (project.root / "Pulumi.yaml").resolve()
    digest = hashlib.sha1(str(project_file).encode()).hexdigest()  # noqa: S324 (Pulumi's own naming)
    workspaces = pulumi_home / "workspaces"
    workspaces.mkdir(parents=True, exist_ok=True)
    (workspaces / f"billing-{digest}-workspace.json").write_text(json.dumps({"stack": stack}, indent=4))


def test_the_stack_comes_from_the_flag_then_billing_stack_then_pulumi_select(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    (project.root / "Pulumi.yaml").write_text((REPO / "Pulumi.yaml").read_text())
    home = tmp_path / "pulumi-home-for-select"
    monkeypatch.setenv("PULUMI_HOME", str(home))
    root = ("--project", str(project.root))
    code, _, err = run_cli("validate", *root)
    assert code == exits.REFUSED and "no stack given" in err and "pulumi stack select S" in err
    select(home, project, "acme/billing/live")  # Pulumi Cloud records org/project/stack
    code, out, _ = run_cli("keys", *root)
    assert code == exits.OK and "live mode" in out
    monkeypatch.setenv("BILLING_STACK", "test")
    code, out, _ = run_cli("keys", *root)
    assert code == exits.OK and "test mode" in out and "live mode" not in out
    code, out, _ = run_cli("keys", "--stack", "live", *root)
    assert code == exits.OK and "live mode" in out


def test_help_never_calls_verify_read_only_since_payment_writes(capsys: pytest.CaptureFixture[str]) -> None:
    _, top, _ = run_cli()
    (line,) = [line for line in top.splitlines() if line.strip().startswith("verify ")]
    assert "read-only" not in line and "payment writes" in top
    with pytest.raises(SystemExit):
        run_cli("verify", "--help")
    text = " ".join(capsys.readouterr().out.split())
    assert "read-only" not in text and "`verify payment` creates a customer and a subscription" in text


def test_the_timeout_of_verify_stripe_is_about_the_api_not_a_webhook(capsys: pytest.CaptureFixture[str]) -> None:
    for part, webhook in (("stripe", False), ("hosting", False), ("webhook", True)):
        with pytest.raises(SystemExit):
            run_cli("verify", part, "--help")
        text = capsys.readouterr().out
        assert ("webhook probe" in text) == webhook, part


def test_counts_have_their_plurals(project: Project) -> None:
    code, out, _ = run_cli("validate", "--stack", "test", "--project", str(project.root))
    assert code == exits.OK
    assert ", 1 coupon\n" in out and "1 coupons" not in out


def test_pytest_says_why_a_test_was_skipped() -> None:
    addopts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["addopts"]
    assert "-rs" in addopts.split()


def test_a_selected_stack_record_that_is_a_pipe_is_no_choice_not_a_hang(
    project: Project, tmp_path: Path,
) -> None:
    # Read offline from $PULUMI_HOME: a named pipe there (or a device) must not hold every command.
    (project.root / "Pulumi.yaml").write_text((REPO / "Pulumi.yaml").read_text())
    home = tmp_path / "pulumi-home-with-a-pipe"
    select(home, project, "test")
    (record,) = (home / "workspaces").iterdir()
    record.unlink()
    os.mkfifo(record)
    env = {**os.environ, "PULUMI_HOME": str(home), "PATH": "/nonexistent"}
    env.pop("BILLING_STACK", None)
    done = subprocess.run([sys.executable, "-m", "infra", "validate", "--project", str(project.root)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == exits.REFUSED and "no stack given" in done.stderr
