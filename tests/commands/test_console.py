"""The `billing` console command: installed by `make`, it runs every subcommand from anywhere.

`python -m infra` stays the same entry, so both are checked.
"""

from __future__ import annotations

import argparse
import fnmatch
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from infra import cli
from infra.commands import COMMANDS
from tests.support.repository import REPO

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


def test_the_package_ships_every_subpackage() -> None:
    include = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {".".join(init.parent.relative_to(REPO).parts) for init in (REPO / "infra").rglob("__init__.py")}
    assert {"infra", "infra.hosts"} <= packages
    assert all(any(fnmatch.fnmatchcase(package, pattern) for pattern in include) for package in packages)
    assert not any(fnmatch.fnmatchcase(name, pattern) for name in ("tests", "policies", "benchmarks")
                   for pattern in include)


def installed_from_this_checkout() -> str | None:
    """Why the installed command cannot be tested here, or None when it can."""
    if not BILLING.is_file():
        return f"{BILLING} is not installed: run `make` (make test installs it, so CI runs this)"
    where = subprocess.run([sys.executable, "-c", "import infra; print(infra.__file__)"], cwd="/",
                           capture_output=True, text=True, timeout=60, check=False).stdout.strip()
    if Path(where).resolve() != (REPO / "infra" / "__init__.py").resolve():
        return f"{BILLING} runs another checkout's code ({where}): run `make` here"
    return None


def test_every_subcommand_answers_help_through_the_entry_the_script_calls(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    # The console script is `sys.exit(infra.cli.run())` with argv as typed; run() is called
    # the same way here, in-process, for each command (a process each would cost seconds).
    for command in commands():
        monkeypatch.setattr(sys, "argv", ["billing", *command, "--help"])
        with pytest.raises(SystemExit) as exit_:
            cli.run()
        assert exit_.value.code == 0, command
        assert capsys.readouterr().out.startswith(f"usage: {' '.join(['billing', *command])} "), command


def test_the_installed_billing_command_runs_from_any_directory(tmp_path: Path) -> None:
    reason = installed_from_this_checkout()
    if reason:
        pytest.skip(reason)
    started = [subprocess.Popen([str(BILLING), *argv], cwd=tmp_path, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
               for argv in (["--help"], ["validate", "--stack", "test"])]
    (help_out, help_err), (out, err) = (process.communicate(timeout=120) for process in started)
    assert [process.returncode for process in started] == [0, 0], help_err + err
    assert help_out.startswith("usage: billing ")
    # Real work outside the checkout: the command finds its project.
    assert out.startswith("ok: stack 'test'"), err


def test_python_dash_m_infra_is_the_same_command() -> None:
    done = subprocess.run([sys.executable, "-m", "infra", "--help"], cwd=REPO, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0 and done.stdout.startswith("usage: billing ")
    listed = done.stdout.split("commands:\n", 1)[1]  # the help lists every command with its summary
    for command in COMMANDS.values():
        assert f"  {command.name}  " in listed and command.summary in listed
