"""`diff` compares every stack of both sides: a stack file the change deletes or renames is a change."""

from __future__ import annotations

import subprocess

import pytest

from infra.core import exits
from tests.support.project import Project, run_cli


def git(project: Project, *argv: str) -> None:
    subprocess.run(["git", "-C", str(project.root), "-c", "user.email=ci@example.com", "-c", "user.name=CI",
                    *argv], check=True, capture_output=True)


@pytest.fixture
def repo(project: Project) -> Project:
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "both stacks")
    return project


def diff(project: Project, *extra: str) -> tuple[int, str, str]:
    return run_cli("diff", "--base", "main", "--project", str(project.root), *extra)


def test_a_deleted_live_stack_is_an_error(repo: Project) -> None:
    git(repo, "rm", "-q", "Pulumi.live.yaml")
    code, out, err = diff(repo)
    assert code == exits.REFUSED, out + err
    assert "billing diff: stack 'live' (live mode) against main: 1 error" in out
    assert "ERROR Pulumi.live.yaml: removed: Pulumi.live.yaml is at main and not here" in out
    assert "git checkout main -- Pulumi.live.yaml" in out
    assert "no billing change" in out  # the test stack, unchanged, is still compared


def test_a_deleted_test_stack_is_a_warning(repo: Project) -> None:
    (repo.root / "Pulumi.test.yaml").unlink()
    code, out, _ = diff(repo)
    assert code == exits.FINDINGS
    assert "WARN  Pulumi.test.yaml: removed" in out


def test_a_renamed_live_stack_is_the_old_one_removed_and_a_new_one_created(repo: Project) -> None:
    git(repo, "mv", "Pulumi.live.yaml", "Pulumi.production.yaml")
    git(repo, "commit", "-q", "-m", "rename")
    code, out, _ = run_cli("diff", "--base", "main~1", "--project", str(repo.root), "--format", "markdown")
    assert code == exits.REFUSED
    assert "### Stack `live` (live mode): 1 error" in out and "### Stack `production`" in out


def test_a_stack_named_that_the_head_deleted_is_reported_not_refused_as_unknown(repo: Project) -> None:
    git(repo, "rm", "-q", "Pulumi.live.yaml")
    code, out, err = diff(repo, "--stack", "live")
    assert code == exits.REFUSED and "no stack 'live' here" not in err
    assert "ERROR Pulumi.live.yaml: removed" in out
