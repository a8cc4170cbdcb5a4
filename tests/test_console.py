"""The `billing` console command: installed by `make`, it runs every subcommand from anywhere.

`python -m infra` stays the same entry, so both are checked.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from infra import cli
from tests.conftest import REPO

BILLING = Path(sys.executable).parent / "billing"  # `make` installs it into the venv running the tests


def commands() -> list[list[str]]:
    """Every command and subcommand the parser knows, read from the parser itself."""
    found: list[list[str]] = [[]]

    def walk(parser: argparse.ArgumentParser, prefix: list[str]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    found.append([*prefix, name])
                    walk(child, [*prefix, name])

    walk(cli._parser(), [])
    return found


def test_the_console_script_is_the_cli_entry() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["scripts"] == {"billing": "infra.cli:run"}
    assert callable(cli.run)
    assert {"validate", "plan", "keys", "verify", "pull", "diff"} <= {c[0] for c in commands() if c}


def installed_from_this_checkout() -> str | None:
    """Why the installed command cannot be tested here, or None when it can."""
    if not BILLING.is_file():
        return f"{BILLING} is not installed: run `make` (make test installs it, so CI runs this)"
    where = subprocess.run([sys.executable, "-c", "import infra; print(infra.__file__)"], cwd="/",
                           capture_output=True, text=True, timeout=60, check=False).stdout.strip()
    if Path(where).resolve() != (REPO / "infra" / "__init__.py").resolve():
        return f"{BILLING} runs another checkout's code ({where}): run `make` here"
    return None


def run_all(argvs: list[list[str]], cwd: Path) -> list[subprocess.CompletedProcess[str]]:
    # Started together: each start pays the imports, and they do not depend on one another.
    started = [(argv, subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       text=True)) for argv in argvs]
    done = []
    for argv, process in started:
        out, err = process.communicate(timeout=120)
        done.append(subprocess.CompletedProcess(argv, process.returncode, out, err))
    return done


def test_billing_runs_every_subcommand_from_any_directory(tmp_path: Path) -> None:
    reason = installed_from_this_checkout()
    if reason:
        pytest.skip(reason)
    helps = run_all([[str(BILLING), *command, "--help"] for command in commands()], tmp_path)
    for done in helps:
        assert done.returncode == 0, f"{done.args}: {done.stderr}"
        assert done.stdout.startswith(f"usage: billing {' '.join(done.args[1:-1])}".rstrip()), done.args
        assert "Traceback" not in done.stderr
    # Real work, outside the checkout: the command finds its project.
    [validate] = run_all([[str(BILLING), "validate", "--stack", "test"]], tmp_path)
    assert validate.returncode == 0 and validate.stdout.startswith("ok: stack 'test'"), validate.stderr


def test_python_dash_m_infra_is_the_same_command() -> None:
    done = subprocess.run([sys.executable, "-m", "infra", "--help"], cwd=REPO, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0 and done.stdout.startswith("usage: billing ")
    for name in ("validate", "plan", "keys", "verify", "pull", "diff"):
        assert name in done.stdout.split("\n\n")[1]  # the description names every command
