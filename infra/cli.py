"""The `billing` command (also `python -m infra`): check, plan, verify, adopt and review stacks.

Exit statuses are those of `infra.core.exits`: 0 all is well, 1 findings (a failed
check, diff warnings), 2 bad input or a refused change (each problem printed
as `file:line: field: fix`), 3 an internal error. No secret value is ever printed.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from infra.commands import COMMANDS, Command
from infra.core import exits
from infra.core.problems import ConfigError, Problem, did_you_mean


def _project_dir() -> Path:
    """The checkout this package runs from (`make` installs it editable), else the working directory."""
    checkout = Path(__file__).resolve().parent.parent
    return checkout if (checkout / "Pulumi.yaml").is_file() else Path.cwd()


PROJECT_DIR = _project_dir()
TRACE = "BILLING_TRACE"


def run(argv: Sequence[str] | None = None) -> int:
    """The process entry (`python -m infra`, the `billing` command): argv in, exit status out.

    A reader that goes away (`plan | head`) ends the process quietly, the way
    it ends any Unix tool: by SIGPIPE; a Ctrl-C no command handled, by SIGINT.
    Anything unexpected is one line naming the exception's type and where it
    was raised, never its message (it may quote a secret), and exit INTERNAL,
    so no gate mistakes a crash for success or for warnings. Usage errors and --help exit through argparse
    (2, REFUSED, and 0).
    """
    try:
        code = main(argv)
        sys.stdout.flush()
    except BrokenPipeError:
        _die_of_broken_pipe()
    except KeyboardInterrupt:  # Ctrl-C where no command caught it (an import, a read): no trace
        _die_of_interrupt()
    except Exception as error:  # the one place every failure ends
        print(internal_error(error), file=sys.stderr)
        if os.environ.get(TRACE) == "1":
            traceback.print_exc()
        return exits.INTERNAL
    return code


def internal_error(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if f"{os.sep}infra{os.sep}" in f.filename] or frames
    where = f" in {Path(ours[-1].filename).name}:{ours[-1].lineno} ({ours[-1].name})" if ours else ""
    return (f"internal error: {type(error).__name__}{where}; this is a bug, not your input "
            f"(set {TRACE}=1 for the trace)")


def _die_of_broken_pipe() -> None:
    # Point stdout at devnull so nothing flushes into the closed pipe again, then
    # end as a killed-by-SIGPIPE process: quiet, and never status 0 or 1.
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.stderr.flush()
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGPIPE)


def _die_of_interrupt() -> None:
    # One line, then end as a process killed by SIGINT (status 130 in a shell), as a Unix tool
    # does: a script's loop stops too, and no gate reads it as 0, 1 or 2.
    print("interrupted", file=sys.stderr)
    sys.stderr.flush()
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGINT)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Parse argv, run the one command it names, and map a refusal to its exit status."""
    out = out or sys.stdout
    argv = list(sys.argv[1:] if argv is None else argv)
    name = next((word for word in argv if not word.startswith("-")), None)
    if name is None or name not in COMMANDS:
        return _top_level(argv, name, out)
    command = COMMANDS[name]
    parser = _parser_for([command])
    args = parser.parse_args(argv)  # `--help` ends here, having loaded only the command's options
    module = importlib.import_module(command.module)  # what the command runs, only when it runs
    from infra.commands import stack_default  # noqa: PLC0415 (YAML and file reading, only for a command)

    if getattr(args, "project", None) is None:
        args.project = PROJECT_DIR
    if not _stack_chosen(command, args):
        print(ConfigError([Problem("--stack", None, "(stack)", stack_default.MISSING)]).render(),
              file=sys.stderr)
        return exits.REFUSED
    try:
        status: int = module.main(args, out)
    except ConfigError as error:  # the one place a refusal becomes output and an exit status
        print(error.render(), file=sys.stderr)
        return exits.REFUSED
    return status


def _top_level(argv: list[str], name: str | None, out: TextIO) -> int:
    """`billing`, `billing --help`, `billing --version`, or a command that does not exist."""
    parser = _top_parser()
    if name is not None:
        parser.error(f"unknown command {name!r}{did_you_mean(name, COMMANDS)} "
                     f"(commands: {', '.join(COMMANDS)})")
    if parser.parse_args(argv).version:  # --help exits here; anything else is a usage error
        print(_version(), file=out)
        return exits.OK
    parser.print_help(out)  # bare `billing`: what it can do, not a usage error (README)
    return exits.OK


def _stack_chosen(command: Command, args: argparse.Namespace) -> bool:
    """Fill in --stack from BILLING_STACK or Pulumi's selected stack; False when it is still missing."""
    if command.stack == "none" or getattr(args, "stack", None) is not None:
        return True
    if command.name == "verify" and getattr(args, "part", None) == "webhook":
        return True  # `verify webhook --url` needs no stack, and a default one would change its target
    from infra.commands import stack_default  # noqa: PLC0415 (as in main)

    args.stack = stack_default.default_stack(getattr(args, "project", PROJECT_DIR))
    return args.stack is not None or command.stack == "optional"


def _version() -> str:
    from importlib import metadata  # noqa: PLC0415 (only for --version: `billing --help` stays fast)

    try:
        return f"billing {metadata.version('billing')}"
    except metadata.PackageNotFoundError:
        return "billing (not installed: run `make` to install it into .venv)"


def _top_parser() -> argparse.ArgumentParser:
    width = max(len(name) for name in COMMANDS)
    listing = "\n".join(f"  {c.name:<{width}}  {c.summary}" for c in COMMANDS.values())
    parser = argparse.ArgumentParser(
        prog="billing", usage="billing [--version] COMMAND [options]",
        description="Stripe billing and hosting secrets as code.",
        epilog=f"commands:\n{listing}\n\n`billing COMMAND --help` shows a command's options. New here? "
               "`billing status --stack test` says where the stack is and the command for each step left.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    return parser


def _parser_for(commands: Sequence[Command]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="billing")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in commands:
        importlib.import_module(command.options).add_parser(sub, PROJECT_DIR)
    return parser


def _parser() -> argparse.ArgumentParser:
    """Every command's parser at once (the tests and README checks walk it); loads every command."""
    return _parser_for(list(COMMANDS.values()))
