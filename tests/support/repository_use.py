"""Which tests use the repository itself, seen as they run rather than listed by hand.

A test uses the repository when it opens one of the repository's own stack files
(Pulumi.<stack>.yaml), or starts this project's code (`python -m infra`, `billing`,
`python -c` code that imports infra) with the repository as its working directory and
no `--project` elsewhere, which reads those files too. Such a test is marked
`on_the_repository`, and tests/repo/test_filled_in_repository.py runs the marked tests
again on a copy whose stack files hold a team's own settings (README's steps). An audit
hook (sys.addaudithook) sees every file a test opens and every process it starts;
tests/conftest.py fails a test that uses the repository without the mark, so a test that
depends on the shipped stack files cannot be left out of the filled-in run.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

MARK = "on_the_repository"
# `-m infra`, `from infra import cli` in -c code, or the installed `billing` script.
OUR_CODE = re.compile(r"\binfra\b|(?:^|[\s/])billing(?:\s|$)")
PROJECT_FLAG = re.compile(r"--project(?:=|\s+)(\S+)")


def stack_files(repo: Path) -> frozenset[str]:
    """The repository's stack files, resolved: Pulumi.<stack>.yaml, not the project file Pulumi.yaml."""
    return frozenset(os.path.realpath(path) for path in repo.glob("Pulumi.*.yaml"))


def _path(value: Any) -> str | None:
    if isinstance(value, (str, bytes, os.PathLike)):
        return os.fsdecode(value)
    return None


def use(event: str, args: Sequence[Any], repo: str, stacks: Collection[str], cwd: str | None = None) -> str | None:
    """What an audit event does with the repository `repo` (resolved), or None when it leaves it alone."""
    if event == "open":
        name = _path(args[0]) if args else None
        if name is None or "Pulumi." not in name:  # the common case, decided without a system call
            return None
        full = os.path.realpath(os.path.join(cwd or os.getcwd(), name))
        return f"opens the repository's {os.path.relpath(full, repo)}" if full in stacks else None
    if event == "subprocess.Popen" and len(args) >= 3:
        cwd = cwd or os.getcwd()
        where = _path(args[2])
        where = os.path.realpath(cwd if where is None else os.path.join(cwd, where))
        if where != repo:
            return None
        argv = args[1]
        words = [argv] if isinstance(argv, (str, bytes, os.PathLike)) else list(argv)
        text = " ".join(filter(None, map(_path, words)))
        if not OUR_CODE.search(text):
            return None
        project = PROJECT_FLAG.search(text)
        if project and os.path.realpath(os.path.join(where, project.group(1))) != repo:
            return None
        return f"runs `{' '.join(text.split())[:120]}` in the repository"
    return None


class Watch:
    """The audit hook: what the running test did with the repository."""

    def __init__(self, repo: Path) -> None:
        self.repo = os.path.realpath(repo)
        self.stacks = stack_files(repo)
        self.running = False
        self.seen: list[str] = []

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.running or event not in ("open", "subprocess.Popen"):
            return
        try:
            found = use(event, args, self.repo, self.stacks)
        except Exception:  # an audit hook that raises breaks the call it watches; never do
            return
        if found and found not in self.seen:
            self.seen.append(found)

    def install(self) -> Watch:
        sys.addaudithook(self)
        return self
