"""Which stack a command works on when `--stack` is not given, read offline.

Order: `--stack`, then the BILLING_STACK environment variable, then the stack
`pulumi stack select` chose for this checkout. Pulumi keeps that choice in
`$PULUMI_HOME/workspaces/<project>-<sha1 of Pulumi.yaml's path>-workspace.json`
(`{"stack": "..."}`; pulumi/pulumi, sdk/go/common/workspace/workspace.go),
which is read here without the CLI. With none of them, `--stack` is required.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

from infra.commands.options import BILLING_STACK
from infra.core import sources

MISSING = (f"no stack given: pass --stack S (test or live), export {BILLING_STACK}=S, or run "
           "`pulumi stack select S` in this checkout")


def default_stack(project_dir: Path, env: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if env is None else env
    if env.get(BILLING_STACK):
        return env[BILLING_STACK]
    return selected_stack(project_dir, env)


def selected_stack(project_dir: Path, env: Mapping[str, str]) -> str | None:
    """The stack `pulumi stack select` recorded for this project, or None (never an error)."""
    project_file = (project_dir / "Pulumi.yaml").resolve()
    project = sources.read(project_file, "Pulumi.yaml").data if project_file.is_file() else None
    name = project.get("name") if isinstance(project, dict) else None
    if not isinstance(name, str):
        return None
    home = Path(env["PULUMI_HOME"]) if env.get("PULUMI_HOME") else Path.home() / ".pulumi"
    digest = hashlib.sha1(str(project_file).encode(), usedforsecurity=False).hexdigest()
    settings = home / "workspaces" / f"{name}-{digest}-workspace.json"
    # Through the bounded reader: a pipe, a device or a huge file there is no choice, never a hang.
    text, _ = sources.read_text(settings)
    data, error = sources.parse_json(text) if text is not None else (None, "unreadable")
    stack = data.get("stack") if error is None and isinstance(data, dict) else None
    # Pulumi Cloud records `org/project/stack`; the stack file is named by the last part.
    return stack.rsplit("/", 1)[-1] or None if isinstance(stack, str) else None
