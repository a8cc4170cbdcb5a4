"""What a preview was a preview of: the project's files the program reads, each one's digest.

go-live takes them before the preview and again after the yes, and runs `up` only
when none changed, so the yes applies the plan that was shown (Pulumi's own update
plans, `--save-plan`/`--plan`, are experimental and not used). The program reads
Pulumi.yaml, its stack's file (the config the engine hands it), every other stack's
file (no two stacks may write one host value: `stack_files.shared_slots`) and the
catalog and import file each of those names (`billing:catalog`, by default
`layout.DEFAULT_CATALOG`; `billing:adopt`). Each is read with the bounded reader: a file
that is missing or cannot be read is part of the digest as such, never a hang.
A file changed after the second look, while `up` starts, is not caught.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from infra.catalog.stack_files import plain_config, stacks
from infra.core.layout import DEFAULT_CATALOG
from infra.core.snapshot import Snapshot

Digests = dict[str, str]
"""What a file is called when it changed -> its content's SHA-256, or why it could not be read."""


def digests(project: Path) -> Digests:
    files = Snapshot(project)
    named: dict[str, str] = {"Pulumi.yaml": "Pulumi.yaml"}
    for stack in stacks(project):
        stack_file = f"Pulumi.{stack}.yaml"
        named[stack_file] = stack_file
        plain = plain_config(files.document(stack_file))
        catalog = plain.get("billing:catalog")
        # A path set in a stack file may be anything pasted there: it is named by its setting.
        named[f"the catalog billing:catalog names in {stack_file}" if catalog else DEFAULT_CATALOG] = (
            str(catalog or DEFAULT_CATALOG))
        if plain.get("billing:adopt"):
            named[f"the import file billing:adopt names in {stack_file}"] = str(plain["billing:adopt"])
    return {said: _digest(files, path) for said, path in named.items()}


def _digest(files: Snapshot, path: str) -> str:
    text, problems = files.text(path)
    if text is None:
        return "unreadable: " + "; ".join(problem.message for problem in problems)
    return hashlib.sha256(text.encode()).hexdigest()


def changed(before: Digests, after: Digests) -> list[str]:
    """The files whose content (or presence) differs between two looks."""
    return sorted(said for said in before.keys() | after.keys() if before.get(said) != after.get(said))
