"""The `billing` command (also `python -m infra`): check, plan, verify, adopt and review stacks.

Exit statuses are those of `infra.exits`: 0 all is well, 1 findings (a failed
check, diff warnings), 2 bad input or a refused change (each problem printed
as `file:line: field: fix`), 3 an internal error. No secret value is ever printed.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import traceback
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import TextIO

import pulumi

from infra import (
    adoption,
    exits,
    export_command,
    key_manifests,
    offline,
    plan_view,
    pull_command,
    pulumi_cli,
    reprice_command,
    stack_config,
    stack_default,
    status_command,
    verify,
)
from infra.diff import command as diff_command
from infra.escape import colour_wanted, terminal
from infra.loader import Deployment, load_deployment
from infra.problems import ConfigError, Problem, plural


def _project_dir() -> Path:
    """The checkout this package runs from (`make` installs it editable), else the working directory."""
    checkout = Path(__file__).resolve().parent.parent
    return checkout if (checkout / "Pulumi.yaml").is_file() else Path.cwd()


PROJECT_DIR = _project_dir()
TRACE = "BILLING_TRACE"


def run(argv: Sequence[str] | None = None) -> int:
    """The process entry (`python -m infra`, the `billing` command): argv in, exit status out.

    A reader that goes away (`plan | head`) ends the process quietly, the way
    it ends any Unix tool: by SIGPIPE. Anything unexpected is one line naming
    the exception's type and where it was raised, never its message (it may
    quote a secret), and exit INTERNAL, so no gate mistakes a crash for
    success or for warnings. Usage errors and --help exit through argparse
    (2, REFUSED, and 0).
    """
    try:
        code = main(argv)
        sys.stdout.flush()
    except BrokenPipeError:
        _die_of_broken_pipe()
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


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:  # bare `billing`: what it can do, not a usage error (README)
        parser.print_help(out)
        return exits.OK
    if not _stack_chosen(args):
        print(ConfigError([Problem("--stack", None, "(stack)", stack_default.MISSING)]).render(),
              file=sys.stderr)
        return exits.REFUSED
    if args.command == "verify":
        return verify.main(args, out, PROJECT_DIR)
    if args.command == "pull":
        return pull_command.main(args, out)
    if args.command == "diff":
        return diff_command.main(args, out)
    if args.command == "reprice":
        return reprice_command.main(args, out)
    if args.command == "status":
        return status_command.main(args, out)
    try:
        decrypted = _decrypted(args) if getattr(args, "from_pulumi", False) else None
        config = stack_config.from_stack(args.project, args.stack, overrides=_overrides(args),
                                         overrides_from="--catalog",
                                         decrypted=decrypted.values if decrypted else None)
        # `keys` is step 7, before a live stack's own settings need be filled in (README).
        deployment = load_deployment(args.stack, args.project, config.get, config.origin,
                                     examples_refused=args.command != "keys")
        if args.command == "validate":
            return _validate(args, deployment, config, out)
        if args.command == "export":
            return export_command.main(args, config, out)
        if args.command == "keys":
            print(key_manifests.render(deployment), file=out)
            _warn(deployment)
            return exits.OK
        return _plan(args, config, out)
    except ConfigError as error:
        print(error.render(), file=sys.stderr)
        return exits.REFUSED


# Commands whose --stack may default (stack_default); `verify webhook --url` needs no stack, and
# `diff` without --stack compares every stack.
_STACK_DEFAULTS = ("validate", "plan", "keys", "export", "pull", "verify", "status")


def _stack_chosen(args: argparse.Namespace) -> bool:
    """Fill in --stack from BILLING_STACK or Pulumi's selected stack; False when it is still missing."""
    if args.command not in _STACK_DEFAULTS or getattr(args, "stack", None) is not None:
        return True
    if args.command == "verify" and getattr(args, "part", None) == "webhook":
        return True
    args.stack = stack_default.default_stack(getattr(args, "project", PROJECT_DIR))
    # `verify` with neither a stack nor a part says what it needs itself.
    return args.stack is not None or args.command == "verify"


def _version() -> str:
    try:
        return f"billing {metadata.version('billing')}"
    except metadata.PackageNotFoundError:
        return "billing (not installed: run `make` to install it into .venv)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="billing")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, text in (("validate", "check the catalog, the stack's config and the guards"),
                       ("plan", "run the program offline and list every resource it registers"),
                       ("keys", "print a prefilled Dashboard link and checklist for each restricted key")):
        command = sub.add_parser(name, help=text, description=text)
        command.add_argument("--stack", help=stack_default.HELP)
        command.add_argument("--catalog", help="catalog file (default: billing:catalog or "
                                               "stacks/catalog.yaml)")
        command.add_argument("--project", type=Path, default=PROJECT_DIR, help=argparse.SUPPRESS)
        if name == "plan":
            command.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                                 help="markdown: the whole text plan as a fenced block (the PR job summary)")
            command.add_argument("--verbose", action="store_true",
                                 help="text: every input of every registration, nested (the default "
                                      "summarises long ones)")
        if name == "validate":
            command.add_argument("--from-pulumi", action="store_true",
                                 help="check the real keys too: read the stack's decrypted config from "
                                      "`pulumi config --json --show-secrets` into memory only (never "
                                      "printed or written; needs the pulumi CLI and the stack's passphrase)")
    verify.add_parser(sub, PROJECT_DIR)
    pull_command.add_parser(sub, PROJECT_DIR)
    diff_command.add_parser(sub, PROJECT_DIR)
    reprice_command.add_parser(sub, PROJECT_DIR)
    export_command.add_parser(sub, PROJECT_DIR)
    status_command.add_parser(sub, PROJECT_DIR)
    # Listed from the parsers themselves, so a new command cannot be missing here.
    parser.description = ("Stripe billing and hosting secrets as code. Commands: "
                          + ", ".join(sub.choices) + ".")
    return parser


def _overrides(args: argparse.Namespace) -> dict[str, str]:
    if not args.catalog:
        return {}
    path = Path(args.catalog).resolve()
    try:
        return {"billing:catalog": str(path.relative_to(args.project.resolve()))}
    except ValueError:
        return {"billing:catalog": str(path)}


def _decrypted(args: argparse.Namespace) -> pulumi_cli.DecryptedConfig:
    try:
        return pulumi_cli.decrypted_config(args.stack, args.project)
    except pulumi_cli.CliError as error:
        raise ConfigError([Problem("--from-pulumi", None, "(pulumi CLI)", f"{error}; nothing was checked")]) \
            from None


def _validate(
    args: argparse.Namespace, deployment: Deployment, config: stack_config.EngineConfig, out: TextIO,
) -> int:
    catalog = deployment.catalog
    paid = sum(plan.paid for plan in catalog.plans.values())
    print(
        f"ok: stack {args.stack!r} ({deployment.mode} mode): {plural(len(catalog.plans), 'plan')} "
        f"({paid} paid), {plural(len(catalog.prices()), 'price')}, "
        f"{plural(len(catalog.webhook.events), 'webhook event')}, "
        f"{plural(len(catalog.entitlements), 'feature')}, "
        f"{plural(len(deployment.settings.coupons), 'coupon')}",
        file=out,
    )
    for line in adoption.summary(deployment.adopted):
        print(line, file=out)
    if args.from_pulumi:
        print("keys: checked, decrypted by the pulumi CLI in memory only (never printed)", file=out)
    elif config.placeholders:
        print(f"keys: NOT checked: {', '.join(config.placeholders)} are sealed (`secure:`) or unset here, "
              "so placeholders stood in; check the real ones with "
              f"`billing validate --stack {args.stack} --from-pulumi`", file=out)
    _warn(deployment)
    return exits.OK


def _warn(deployment: Deployment) -> None:
    for notice in deployment.notices:
        print(terminal(f"warning: {notice}"), file=sys.stderr)


def _plan(args: argparse.Namespace, config: stack_config.EngineConfig, out: TextIO) -> int:
    try:
        plan = offline.run_program(
            args.project / "__main__.py", args.stack, config.values, config.secret_keys
        )
    except pulumi.RunError as error:
        print(str(error), file=sys.stderr)
        return exits.REFUSED
    if args.format == "json":
        plan_view.to_json(plan, config.placeholders, out)
    elif args.format == "markdown":
        plan_view.to_markdown(plan, config.placeholders, out)
    else:
        plan_view.to_text(plan, config.placeholders, out, verbose=args.verbose,
                          colour=colour_wanted(out, os.environ))
    return exits.OK
