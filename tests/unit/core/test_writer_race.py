"""The writer puts a file where its check looked, even when a directory on the way is swapped for a
symlink between the check and the write (a race no check alone can close)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from infra.core import writer

pytestmark = pytest.mark.pure


def test_a_directory_swapped_for_a_symlink_after_staging_does_not_redirect_the_write(tmp_path: Path) -> None:
    inside, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    (inside / "adopt").mkdir(parents=True)
    elsewhere.mkdir()
    target = writer.Target(inside / "adopt" / "catalog.yaml", b"plans: {}\n")
    with writer.stage([target], inside) as staged:
        # After the check and the staging: the directory moved away and a symlink put in its place.
        os.rename(inside / "adopt", inside / "moved")
        os.symlink(elsewhere, inside / "adopt")
        staged.commit()
    assert list(elsewhere.iterdir()) == []  # nothing went through the symlink
    assert (inside / "moved" / "catalog.yaml").read_bytes() == b"plans: {}\n"  # where the check looked
    assert [p.name for p in (inside / "moved").iterdir()] == ["catalog.yaml"]  # no temporary left


def test_a_symlink_put_on_the_way_before_staging_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    inside, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    inside.mkdir()
    elsewhere.mkdir()
    os.symlink(elsewhere, inside / "adopt")
    with pytest.raises(writer.WriteRefused, match="symlink"):
        writer.write(writer.Target(inside / "adopt" / "catalog.yaml", b"x"), inside)
    assert list(elsewhere.iterdir()) == []


def test_a_result_not_committed_leaves_no_temporary_and_an_edit_keeps_its_mode(tmp_path: Path) -> None:
    inside = tmp_path / "project"
    inside.mkdir()
    edited = inside / "catalog.yaml"
    edited.write_bytes(b"old\n")
    edited.chmod(0o640)
    target = writer.Target(edited, b"new\n", replaceable=lambda _: True)
    with writer.stage([target], inside):
        pass  # refused after staging: never committed
    assert [p.name for p in inside.iterdir()] == ["catalog.yaml"] and edited.read_bytes() == b"old\n"
    writer.write(target, inside)
    assert edited.read_bytes() == b"new\n" and edited.stat().st_mode & 0o777 == 0o640


def test_a_second_file_that_cannot_be_put_in_place_says_the_first_was(tmp_path: Path) -> None:
    # Renames are one at a time: once one is in place, "nothing was written" would be false.
    inside = tmp_path / "project"
    inside.mkdir()
    first, second = writer.Target(inside / "catalog.yaml", b"a\n"), writer.Target(inside / "import.json", b"{}\n")
    with pytest.raises(writer.WrittenInPart) as partly, writer.stage([first, second], inside) as staged:
        (inside / "import.json").mkdir()  # after the check: a directory where the file goes
        staged.commit()
    assert str(inside / "catalog.yaml") in str(partly.value) and "nothing was written" not in str(partly.value)
    assert (inside / "catalog.yaml").read_bytes() == b"a\n"
    assert sorted(p.name for p in inside.iterdir()) == ["catalog.yaml", "import.json"]  # no temporary left


def test_a_symlink_put_at_the_target_after_the_check_does_not_lend_its_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    inside, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    inside.mkdir()
    elsewhere.mkdir()
    checked = writer.check

    def then_a_symlink(target: writer.Target, *args: object) -> None:
        checked(target, *args)  # type: ignore[arg-type]
        target.path.symlink_to(elsewhere / "x")  # between the check and the staging; 0777, as every symlink

    monkeypatch.setattr(writer, "check", then_a_symlink)
    writer.write(writer.Target(inside / "catalog.yaml", b"new\n"), inside)
    written = inside / "catalog.yaml"
    assert not written.is_symlink() and written.read_bytes() == b"new\n"
    assert written.stat().st_mode & 0o777 == 0o666 & ~_umask() and list(elsewhere.iterdir()) == []


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
