"""The writer every file the project writes goes through (`reprice`, `pull`).

A path that leads somewhere else is refused before a byte is written: outside the
directory the command writes in, through a symlink at any step, onto a pipe, device
or directory, into a directory the command must never write (`stacks/` for `pull`), or
over an existing file the command did not create (unless the user said `--force`).
Files are staged beside their targets and renamed into place only by `commit()`, so a
result refused after staging (validation) leaves nothing behind.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path


class WriteRefused(Exception):
    """A target the writer will not write; the message names it and says what to do."""


class WrittenInPart(Exception):
    """Some files were put in place and then one could not be: the message names both."""


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


_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW


@dataclass
class Staged:
    """Files written beside their targets under temporary names, not yet in place.

    Each is held by its directory's descriptor, opened one step at a time from `inside` without
    following a symlink: what `check` saw is where the file lands, even if a directory on the way
    is swapped for a symlink after the check (the rename happens in the directory that was opened)."""

    moves: list[tuple[int, str, str, Path]] = field(default_factory=list)
    """(directory descriptor, temporary name, final name, the target as the user named it)."""

    def commit(self) -> None:
        done: list[Path] = []
        for directory, temporary, final, shown in self.moves:
            try:
                os.replace(temporary, final, src_dir_fd=directory, dst_dir_fd=directory)
            except OSError as error:  # e.g. a directory put at the target after the check
                why = error.strerror or error.__class__.__name__
                if not done:
                    raise _refuse(shown, f"could not be put in place ({why}); check what is there now and "
                                         "run again") from None
                raise WrittenInPart(f"{shown}: could not be put in place ({why}), but "
                                    f"{', '.join(map(str, done))} already was: check what is there now and "
                                    "run again") from None
            done.append(shown)
        self.close(remove=False)

    def close(self, remove: bool = True) -> None:
        for directory, temporary, _, _ in self.moves:
            if remove:
                with suppress(FileNotFoundError):
                    os.unlink(temporary, dir_fd=directory)
            os.close(directory)
        self.moves.clear()


def _directory(root: Path, parts: tuple[str, ...], shown: Path) -> int:
    """The directory `root/parts...`, each step opened without following a symlink and created
    (a plain directory) where missing."""
    try:  # `inside` is the user's own choice (the project, or where --out asked): made if missing
        os.makedirs(root, exist_ok=True)
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as error:
        raise _refuse(shown, f"cannot be created ({error.strerror or error.__class__.__name__}); check "
                             "the directory and its permissions") from None
    try:
        for part in parts:
            with suppress(FileExistsError):
                os.mkdir(part, 0o777, dir_fd=fd)
            step = os.open(part, _DIR, dir_fd=fd)
            os.close(fd)
            fd = step
    except OSError as error:
        os.close(fd)
        swapped = error.errno in (errno.ELOOP, errno.ENOTDIR)
        why = ("a directory on the way is now a symlink or a file" if swapped
               else error.strerror or error.__class__.__name__)
        raise _refuse(shown, f"cannot be created ({why}); check the directory and its permissions") from None
    return fd


@contextmanager
def stage(targets: list[Target], inside: Path, force: bool = False,
          forbidden: tuple[Path, ...] = ()) -> Iterator[Staged]:
    """Check every target, then write each beside it; what is not committed is removed on exit."""
    for target in targets:
        check(target, inside, force, forbidden)
    root = Path(os.path.abspath(inside))
    staged = Staged()
    try:
        for target in targets:
            final = Path(os.path.abspath(target.path))
            directory = _directory(root, final.parent.relative_to(root).parts, target.path)
            temporary = f".{final.name}.{secrets.token_hex(8)}.tmp"
            try:
                fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600,
                             dir_fd=directory)
            except OSError as error:
                os.close(directory)
                raise _refuse(target.path, f"cannot be created ({error.strerror or error.__class__.__name__})"
                                           "; check the directory and its permissions") from None
            staged.moves.append((directory, temporary, final.name, target.path))
            with os.fdopen(fd, "wb") as file:
                file.write(target.data)
                file.flush()
                os.fsync(file.fileno())
                # An edited file keeps its mode, a new one gets the umask's (not the 0600 it was made with).
                try:
                    found = os.stat(final.name, dir_fd=directory, follow_symlinks=False).st_mode
                except FileNotFoundError:
                    found = 0
                # Only a regular file's mode is kept: a symlink put there since the check has 0777.
                mode = stat.S_IMODE(found) if stat.S_ISREG(found) else 0o666 & ~_umask()
                os.fchmod(file.fileno(), mode)
        yield staged
    finally:
        staged.close()


def write(target: Target, inside: Path, force: bool = False, forbidden: tuple[Path, ...] = ()) -> None:
    with stage([target], inside, force, forbidden) as staged:
        staged.commit()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
