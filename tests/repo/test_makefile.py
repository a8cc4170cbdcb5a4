"""The Makefile's set-up: the Python version is checked first, and a broken .venv is rebuilt.

These run `make` itself: the real checks with a stand-in interpreter, and `make -n`
(print, do not run) for what it would build, so nothing is installed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.support.repository import REPO

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
MIN_PYTHON = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]


def make(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "--no-print-directory", "-C", str(REPO), *argv], capture_output=True,
                          text=True, timeout=60, check=False)


def old_python(path: Path, version: str = "3.10.12") -> Path:
    """An interpreter that reports an old version and fails any version check, as 3.10 would."""
    path.write_text(f'#!/bin/sh\n[ "$1" = --version ] && echo "Python {version}" && exit 0\nexit 1\n')
    path.chmod(0o755)
    return path


def test_the_declared_python_is_the_one_ci_and_the_type_checker_use() -> None:
    assert MIN_PYTHON == ">=3.11"
    tool = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]
    assert tool["mypy"]["python_version"] == "3.11" and tool["ruff"]["target-version"] == "py311"


def test_an_old_python_is_refused_before_a_virtualenv_exists(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    done = make("plan", f"PYTHON={old_python(tmp_path / 'python3')}", f"VENV={venv}")
    assert done.returncode != 0
    assert "this project needs Python 3.11 or newer" in done.stderr
    assert "is Python 3.10.12" in done.stderr
    assert "then run: make PYTHON=python3.11 plan" in done.stderr
    assert not venv.exists()  # nothing half-built to trip over later
    assert "pip" not in done.stdout + done.stderr


def test_a_missing_python_is_named(tmp_path: Path) -> None:
    done = make("venv", f"PYTHON={tmp_path / 'nope'}", f"VENV={tmp_path / 'venv'}")
    assert done.returncode != 0 and "is not installed" in done.stderr


def broken_venvs(tmp_path: Path) -> dict[str, Path]:
    dangling = tmp_path / "dangling"
    (dangling / "bin").mkdir(parents=True)
    (dangling / "bin" / "python").symlink_to(tmp_path / "gone")  # the interpreter was removed
    (dangling / ".installed").touch()  # and the stamp says all is well
    old = tmp_path / "old"
    (old / "bin").mkdir(parents=True)
    old_python(old / "bin" / "python")  # built by 3.10 before the check existed
    no_pip = tmp_path / "no-pip"  # what a `python -m venv` without ensurepip leaves
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(no_pip)], check=True, timeout=60)
    return {"dangling": dangling, "old": old, "no-pip": no_pip}


def test_a_broken_virtualenv_is_rebuilt_not_reused(tmp_path: Path) -> None:
    for name, venv in broken_venvs(tmp_path).items():
        done = make("-n", "venv", f"PYTHON={sys.executable}", f"VENV={venv}")
        assert done.returncode == 0, name + done.stderr
        assert f"rm -rf {venv}\n" in done.stdout, name
        assert f"-m venv {venv}" in done.stdout, name


def test_a_healthy_virtualenv_is_kept() -> None:
    venv = sys.prefix  # the one running these tests
    # -B: as if the requirements had changed; it installs into the venv it has.
    done = make("-n", "-B", "venv", f"PYTHON={sys.executable}", f"VENV={venv}")
    assert done.returncode == 0, done.stderr
    assert "rm -rf" not in done.stdout and "-m venv" not in done.stdout
    assert f"{venv}/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt" in done.stdout
    assert "--no-deps -e ." in done.stdout


def test_the_policy_pack_virtualenv_is_built_from_its_requirements() -> None:
    done = make("-n", "-B", "policy-venv")
    assert done.returncode == 0, done.stderr
    assert "-m venv policies/venv" in done.stdout
    assert "policies/venv/bin/python -m pip install" in done.stdout
    assert "-r policies/requirements.txt" in done.stdout


def test_make_plan_ends_by_naming_the_next_command() -> None:
    done = make("-n", "plan", "VENV=.venv-never-built")
    assert "billing plan --stack test" in done.stdout
    assert "billing status --stack test says where the stack is in going live" in done.stdout
    # Every command status and the other commands print is `billing ...`: the step that makes it one.
    assert "source .venv-never-built/bin/activate" in done.stdout
