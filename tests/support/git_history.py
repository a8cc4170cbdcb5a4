"""A project under git: commits of its catalog, and `diff` run against one of them."""

from __future__ import annotations

import subprocess

from tests.support.project import Project, run_cli


def git(project: Project, *argv: str) -> None:
    subprocess.run(["git", "-C", str(project.root), *argv], check=True, capture_output=True)


def diff(project: Project, *extra: str, base: str = "main") -> tuple[int, str, str]:
    return run_cli("diff", "--base", base, "--stack", "test", "--project", str(project.root), *extra)


def commit(project: Project, catalog: str, message: str) -> None:
    project.catalog(catalog)
    git(project, "commit", "-q", "-am", message)
