"""The writer every file the project writes goes through (`reprice`, `pull`).

A path that leads somewhere else is refused before a byte is written: outside the
directory the command writes in, through a symlink at any step, onto a pipe, device
or directory, into a directory the command must never write (`stacks/` for `pull`), or
over an existing file the command did not create (unless the user said `--force`).
Files are staged beside their targets and renamed into place only by `commit()`, so a
result refused after staging (validation) leaves nothing behind.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


class WriteRefused(Exception):
    """A target the writer will not write; the message names it and says what to do."""


@dataclass(frozen=True)
class Target:
    path: Path
    data: bytes
    # True when an existing file at `path` is one this command wrote (or is the file it edits).
    replaceable: Callable[[Path], bool] = lambda _: False


def _refuse(path: Path, why: str) -> WriteRefused:
    return WriteRefused(f"{path}: {why}; nothing was written")


def check(target: Target, inside: Path, force: bool = False, forbidden: tuple[Path, ...] = ()) -> None:
    """Refuse a target that is not a plain file (or absent) reached without symlinks from `inside`."""
    path, root = Path(os.path.abspath(target.path)), Path(os.path.abspath(inside))
    if not path.is_relative_to(root) or path == root:
        raise _refuse(target.path, f"outside {inside}, where this command writes; pass a path inside it")
    for place in forbidden:
        where = Path(os.path.abspath(place))
        if path.is_relative_to(where) or Path(os.path.realpath(path.parent)).is_relative_to(
                os.path.realpath(where)):
            raise _refuse(target.path, f"inside {place}, which both stacks read; write elsewhere and move "
                                       "the file there after review")
    step = root
    for part in path.relative_to(root).parts:
        step = step / part
        try:
            mode = os.lstat(step).st_mode
        except FileNotFoundError:
            return  # the rest is created by stage(), as plain directories
        except OSError as error:
            raise _refuse(target.path, f"cannot inspect {step} ({error.__class__.__name__})") from None
        if stat.S_ISLNK(mode):
            raise _refuse(target.path, f"{step} is a symlink; the writer never follows one: remove it "
                                       "or pass another path")
        if step != path and not stat.S_ISDIR(mode):
            raise _refuse(target.path, f"{step} is not a directory; pass another path")
    if not stat.S_ISREG(mode):
        raise _refuse(target.path, "exists and is not a regular file (a pipe, device or directory); "
                                   "remove it or pass another path")
    if not force and not target.replaceable(path):
        raise _refuse(target.path, "exists and was not written by this command; move it away, or pass "
                                   "--force to replace it")


@dataclass
class Staged:
    """Files written beside their targets under temporary names, not yet in place."""

    moves: list[tuple[Path, Path]] = field(default_factory=list)

    def temporary(self, target: Path) -> Path:
        return next(temp for temp, final in self.moves if final == Path(os.path.abspath(target)))

    def commit(self) -> None:
        for temp, final in self.moves:
            os.replace(temp, final)
        self.moves.clear()


@contextmanager
def stage(targets: list[Target], inside: Path, force: bool = False,
          forbidden: tuple[Path, ...] = ()) -> Iterator[Staged]:
    """Check every target, then write each beside it; what is not committed is removed on exit."""
    for target in targets:
        check(target, inside, force, forbidden)
    staged = Staged()
    try:
        for target in targets:
            final = Path(os.path.abspath(target.path))
            try:
                final.parent.mkdir(parents=True, exist_ok=True)
                fd, name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp")
            except OSError as error:
                raise _refuse(target.path, f"cannot be created ({error.strerror or error.__class__.__name__})"
                                           "; check the directory and its permissions") from None
            staged.moves.append((Path(name), final))
            with os.fdopen(fd, "wb") as file:
                file.write(target.data)
                file.flush()
                os.fsync(file.fileno())
            # mkstemp makes 0600; an edited file keeps its mode, a new one gets the umask's.
            os.chmod(name, stat.S_IMODE(os.stat(final).st_mode) if final.exists() else 0o666 & ~_umask())
        yield staged
    finally:
        for temp, _ in staged.moves:
            temp.unlink(missing_ok=True)


def write(target: Target, inside: Path, force: bool = False, forbidden: tuple[Path, ...] = ()) -> None:
    with stage([target], inside, force, forbidden) as staged:
        staged.commit()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
