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
    assert "| `live` | live | 1 error, 0 warnings, 0 in place / info |" in out and "| `production` | live |" in out


def test_a_stack_named_that_the_head_deleted_is_reported_not_refused_as_unknown(repo: Project) -> None:
    git(repo, "rm", "-q", "Pulumi.live.yaml")
    code, out, err = diff(repo, "--stack", "live")
    assert code == exits.REFUSED and "no stack 'live' here" not in err
    assert "ERROR Pulumi.live.yaml: removed" in out


def test_a_resource_each_stack_changes_its_own_way_says_which_stack_gets_what(project: Project) -> None:
    # Both stacks declare a coupon `launch` (one name, two Stripe objects): test renames it one way,
    # live another. One row for both, with both moves listed, reads as if each stack got both.
    coupon = ("  billing:coupons:\n    launch:\n      name: Launch week\n      percent_off: 20\n"
              "      duration: once\n")
    for stack in ("test", "live"):
        path = project.root / f"Pulumi.{stack}.yaml"
        path.write_text(path.read_text().split("  billing:coupons:\n")[0] + coupon)
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "both stacks with a coupon launch")
    for stack, name in (("test", "Launch A"), ("live", "Launch B")):
        path = project.root / f"Pulumi.{stack}.yaml"
        path.write_text(path.read_text().replace("Launch week", name))
    _, out, _ = diff(project)
    lines = out.splitlines()
    assert "~ stripe:index/coupon:Coupon  launch  [test]" in lines
    assert "~ stripe:index/coupon:Coupon  launch  [live]" in lines
    test_row, live_row = (lines.index(f"~ stripe:index/coupon:Coupon  launch  [{s}]") for s in ("test", "live"))
    assert lines[test_row + 1] == '    name: "Launch week" → "Launch A"'
    assert lines[live_row + 1] == '    name: "Launch week" → "Launch B"'
    _, markdown, _ = diff(project, "--format", "markdown")
    rows = [line for line in markdown.splitlines() if "`launch`" in line and line.startswith("| in place")]
    assert len(rows) == 2
    assert any("| `test` |" in row and "Launch A" in row and "Launch B" not in row for row in rows)
    assert any("| `live` |" in row and "Launch B" in row and "Launch A" not in row for row in rows)
