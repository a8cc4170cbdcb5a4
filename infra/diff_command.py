"""`python -m infra diff --base REV [--stack S] [--format text|markdown]`.

Loads the stack at git revision REV (its stack file and the catalog it names,
read with `git show`, validated like the working tree) and the working tree,
and prints billing_diff's change list. Exit 0: nothing risky; 1: warnings;
2: an error (or input that does not validate).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import yaml

from infra import billing_diff, stack_config
from infra.billing_diff import Change
from infra.catalog import StackSettings
from infra.loader import Deployment, load_deployment
from infra.problems import ConfigError

MARKER = "<!-- billing-diff -->"  # lets a workflow find and update its own comment
ICONS = {"error": ":x: error", "warn": ":warning: warning", "info": "in place / info"}


class RevisionError(Exception):
    pass


def add_parser(sub: Any, project_dir: Path) -> None:
    text = "what a change to the catalog or a stack does to money, against a git revision"
    parser = sub.add_parser("diff", help=text, description=text + "; exit 1 on warnings, 2 on errors")
    parser.add_argument("--base", required=True, metavar="REV", help="git revision to compare with, e.g. "
                        "origin/main")
    parser.add_argument("--stack", help="stack name (default: every stack with a Pulumi.<stack>.yaml)")
    parser.add_argument("--format", choices=("text", "markdown"), default="text")
    parser.add_argument("--project", type=Path, default=project_dir, help=argparse.SUPPRESS)


def main(args: argparse.Namespace, out: TextIO) -> int:
    project: Path = args.project
    stacks = [args.stack] if args.stack else [s for s in ("test", "live")
                                               if (project / f"Pulumi.{s}.yaml").is_file()]
    results: list[tuple[Deployment, list[Change]]] = []
    try:
        for stack in stacks:
            head = load_deployment(stack, project, stack_config.from_stack(project, stack).get)
            base = deployment_at(project, stack, args.base)
            results.append((head, billing_diff.compare(base, head)))
    except ConfigError as error:
        print(error.render(), file=sys.stderr)
        return error.exit_code
    except RevisionError as error:
        print(f"--base: {error}", file=sys.stderr)
        return ConfigError.exit_code
    render = markdown if args.format == "markdown" else text
    render(results, args.base, out)
    return max((billing_diff.exit_status(changes) for _, changes in results), default=0)


def _git(project: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(project), *argv], capture_output=True, text=True,  # noqa: S603, S607
                          check=False)


def deployment_at(project: Path, stack: str, rev: str) -> Deployment | None:
    """The stack as it was at `rev`, or None if it did not exist or did not validate there."""
    if _git(project, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").returncode != 0:
        raise RevisionError(f"{rev!r} is not a revision in this repository (fetch it first, e.g. "
                            "`git fetch origin main`)")
    prefix = _git(project, "rev-parse", "--show-prefix").stdout.strip()

    def show(path: str) -> str | None:
        done = _git(project, "show", f"{rev}:{prefix}{path}")
        return done.stdout if done.returncode == 0 else None

    stack_text = show(f"Pulumi.{stack}.yaml")
    if stack_text is None:
        return None
    config = (yaml.safe_load(stack_text) or {}).get("config") or {}
    catalog_rel = str(config.get("billing:catalog") or StackSettings.model_fields["catalog"].default)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for path, text_ in ((f"Pulumi.{stack}.yaml", stack_text), (catalog_rel, show(catalog_rel)),
                            (str(config.get("billing:adopt") or ""), None)):
            content = text_ if text_ is not None else (show(path) if path else None)
            if content is None:
                continue
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(content)
        if not (root / catalog_rel).is_file():
            return None
        try:
            return load_deployment(stack, root, stack_config.from_stack(root, stack).get)
        except ConfigError:
            return None  # the base never deployed: everything in the working tree is new


def _counts(changes: Sequence[Change]) -> str:
    n = {s: sum(c.severity == s for c in changes) for s in ("error", "warn", "info")}

    def plural(count: int, word: str) -> str:
        return f"{count} {word}{'' if count == 1 else 's'}"

    return f"{plural(n['error'], 'error')}, {plural(n['warn'], 'warning')}, {n['info']} in place / info"


def text(results: Sequence[tuple[Deployment, list[Change]]], rev: str, out: TextIO) -> None:
    for index, (head, changes) in enumerate(results):
        if index:
            print(file=out)
        print(f"billing diff: stack {head.stack!r} ({head.mode} mode) against {rev}: {_counts(changes)}",
              file=out)
        if not changes:
            print("  no billing change", file=out)
        for group in billing_diff.GROUPS:
            found = [c for c in changes if c.group == group]
            if found:
                print(f"{group}:", file=out)
            for change in found:
                print(f"  {change.severity.upper():<5} {change.subject}: {change.message}", file=out)


def markdown(results: Sequence[tuple[Deployment, list[Change]]], rev: str, out: TextIO) -> None:
    print(MARKER, file=out)
    print(f"## Billing diff against `{rev}`", file=out)
    for head, changes in results:
        print(f"\n### Stack `{head.stack}` ({head.mode} mode): {_counts(changes)}", file=out)
        if not changes:
            print("\nNo billing change.", file=out)
        for group in billing_diff.GROUPS:
            found = sorted((c for c in changes if c.group == group),
                           key=lambda c: ("error", "warn", "info").index(c.severity))
            if not found:
                continue
            print(f"\n#### {group.title()}\n\n| | | What it means |\n|---|---|---|", file=out)
            for change in found:
                message = change.message.replace("|", "\\|").replace("\n", " ")
                print(f"| {ICONS[change.severity]} | `{change.subject}` | {message} |", file=out)
    print("\nExit status: 0 nothing risky, 1 warnings, 2 errors. Generated by `python -m infra diff`.",
          file=out)
