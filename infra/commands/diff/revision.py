"""The base of `billing diff`: a stack as it was at a git revision, read from that one commit.

Its stack file and the catalog (and import file) it names, each bounded like any file the
project reads and validated like the working tree; a base that no longer validates still gives
its raw catalog and its problems.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any, cast

from infra.catalog import Deployment, stack_config, stack_files
from infra.core import sources
from infra.core.layout import DEFAULT_CATALOG
from infra.core.problems import ConfigError, Problem

_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # SHA-1 or SHA-256 object names


class RevisionError(Exception):
    pass


@dataclass(frozen=True)
class Revision:
    """The base: the commit `rev` names, resolved once, and where the project sits in its tree.

    Every file of the base is read from that one commit (a branch moved during the run cannot mix
    two revisions), one git process a file.
    """

    project: Path
    rev: str
    """As the person wrote it, for messages."""
    commit: str
    prefix: str
    """The project's folder from the top of the repository (`rev-parse --show-prefix`)."""

    @classmethod
    def of(cls, project: Path, rev: str) -> Revision:
        # One rev-parse answers both: the prefix, then the commit on the last line (or a failure for a bad
        # revision). The prefix is the folder's name as bytes (os.fsdecode keeps any that is not UTF-8).
        done = None if rev.startswith("-") else _git(
            project, "rev-parse", "--show-prefix", "--verify", "--quiet", f"{rev}^{{commit}}")
        said = os.fsdecode(done.stdout).removesuffix("\n") if done is not None else ""
        prefix, _, commit = said.rpartition("\n")
        if done is None or done.returncode or not _COMMIT.fullmatch(commit):
            raise RevisionError(f"{rev!r} is not a revision in this repository (fetch it first, e.g. "
                                "`git fetch origin main`)")
        return cls(project, rev, commit, prefix)

    def names(self) -> list[str]:
        """The file names beside Pulumi.yaml at the base (the stacks are among them)."""
        # --full-tree: from a project in a folder, ls-tree would list only what is under that folder
        # again, inside the tree of that folder: nothing, so a stack deleted there went unseen.
        listing = _git(self.project, "ls-tree", "--full-tree", "--name-only", "-z",
                       f"{self.commit}:{self.prefix}")
        return [name.decode(errors="replace") for name in listing.stdout.split(b"\0") if name]

    def read(self, path: str) -> bytes | None:
        """The file's bytes at the base, None when absent (or not a file); TooLarge past the size cap."""
        try:
            # `./stacks/catalog.yaml` as `stacks/catalog.yaml`: git finds no `app/./stacks/...` in a folder.
            spec = f"{self.commit}:{self.prefix}{PurePosixPath(path)}"
            git = subprocess.Popen(["git", "-C", str(self.project), "cat-file", "blob", spec],  # noqa: S603, S607
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL)
        except FileNotFoundError:
            raise RevisionError(_NO_GIT) from None
        with git, cast(IO[bytes], git.stdout) as stdout:
            content = stdout.read(sources.MAX_BYTES + 1)  # bounded whatever the blob's size
            if len(content) > sources.MAX_BYTES:
                git.kill()
                raise TooLarge
        return None if git.returncode else content


class TooLarge(Exception):
    pass


_NO_GIT = "git is not installed or not on PATH; diff reads the base revision with git: install git"


def _git(project: Path, *argv: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", str(project), *argv], capture_output=True,  # noqa: S603, S607
                              check=False)
    except FileNotFoundError:
        raise RevisionError(_NO_GIT) from None


@dataclass
class Base:
    """A stack at a git revision: deployed as a whole, or only the raw catalog and its problems."""

    existed: bool
    deployment: Deployment | None = None
    catalog: Any = None
    problems: list[Problem] = field(default_factory=list)
    mode: Any = None
    """`billing:mode` as the base's stack file writes it, read even when the base does not validate."""


def state_at(stack: str, revision: Revision) -> Base:
    """The stack as it was at the base: validated, or (when it does not validate) what can still be read."""
    base = Base(existed=True)

    def show(path: str) -> str | None:
        """A file at `rev`, bounded like any file the project reads; None when absent."""
        if sources.unfit_text(path):  # git would be handed it as an argument
            base.problems.append(Problem(path.encode("utf-8", "backslashreplace").decode(), None, "(file)",
                                         "not a file name (it holds a NUL or a lone surrogate)"))
            return None
        parts = PurePosixPath(path).parts
        if not parts or PurePosixPath(path).is_absolute() or ".." in parts:
            base.problems.append(Problem(path, None, "(file)", "is outside the project at this revision"))
            return None
        try:
            content = revision.read(path)
        except TooLarge:
            base.problems.append(Problem(path, None, "(file)",
                                         f"larger than {sources.MAX_BYTES // 1024} KiB"))
            return None
        if content is None:
            return None
        try:
            return content.decode("utf-8")
        except UnicodeDecodeError:
            base.problems.append(Problem(path, None, "(file)", "not UTF-8 text"))
            return None

    stack_name = f"Pulumi.{stack}.yaml"
    stack_text = show(stack_name)
    if stack_text is None:
        return Base(existed=False)
    stack_doc = sources.parse(stack_text, stack_name)
    config = stack_files.plain_config(stack_doc)
    base.mode = config.get("billing:mode")
    files = {stack_name: stack_text}
    for setting, default in (("billing:catalog", DEFAULT_CATALOG), ("billing:adopt", "")):
        path = config.get(setting) or default
        content = show(path) if isinstance(path, str) and path else None
        if content is not None:
            files[path] = content
    catalog_rel = str(config.get("billing:catalog") or DEFAULT_CATALOG)
    base.catalog = sources.parse(files[catalog_rel], catalog_rel).data if catalog_rel in files else None
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for path, content in files.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(content, encoding="utf-8")
        try:
            base.deployment = stack_config.from_stack(root, stack).load()
        except ConfigError as error:
            base.problems += error.problems
    return base
