"""The project's stack files: which stacks exist, each one's file, and what they share.

A stack is a `Pulumi.<stack>.yaml` beside `Pulumi.yaml`. Its name is checked
(Pulumi's own rule, which also keeps the file inside the project), and an
unknown one is answered with the stacks that exist. No two stacks may write
the same value to the same place on their host.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from infra import hosts
from infra.catalog import hosting
from infra.catalog.guards import MODES
from infra.catalog.models import Catalog
from infra.catalog.settings import StackSettings
from infra.core.problems import ConfigError, Problem
from infra.core.snapshot import Snapshot
from infra.core.sources import Document

_STACK_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}", re.ASCII)

Origin = Callable[[str], str | None]
"""Where a config key's value came from when not from the stack file (`PULUMI_CONFIG`), else None."""


def stack_file(project_dir: Path, stack: str) -> Path:
    return project_dir / f"Pulumi.{stack}.yaml"


def stacks(project_dir: Path) -> list[str]:
    """The stacks with a Pulumi.<stack>.yaml here: test and live first, then the others by name."""
    return stacks_named(path.name for path in project_dir.glob("Pulumi.*.yaml"))


def stacks_named(file_names: Iterable[str]) -> list[str]:
    """The stacks whose files are among `file_names`, in the order `stacks` gives."""
    found = {name[len("Pulumi."):-len(".yaml")] for name in file_names
             if name.startswith("Pulumi.") and name.endswith(".yaml")}
    found = {name for name in found if _STACK_NAME.fullmatch(name)}
    return [name for name in MODES if name in found] + sorted(found - set(MODES))


def open_stack(stack: str, files: Snapshot, origin: Origin | None) -> Document:
    """The stack file, or the one problem that says there is no such stack."""
    project_dir = files.root
    name = f"Pulumi.{stack}.yaml"
    if not _STACK_NAME.fullmatch(stack):
        raise ConfigError([Problem("--stack", None, "(stack name)", "a stack name is letters, digits, "
                                   "'_', '-' and '.'; pick one of: " + _listing(project_dir))])
    if not stack_file(project_dir, stack).exists():
        raise ConfigError([Problem(name, None, "(stack)", (
            f"no stack {stack!r} here: {name} does not exist; stacks in this project: "
            f"{_listing(project_dir)}. "
            f"Pick one with --stack, or give a new stack its settings: `pulumi stack init {stack}`, then "
            f"`pulumi config set billing:mode test --stack {stack}` and the other settings README lists"))])
    # The snapshot's document is shared: this one adds the origin and the stack file's own problems.
    doc = dataclasses.replace(files.document(name), origin=origin)
    doc.problems = list(doc.problems)
    shaped = isinstance(doc.data, dict) and isinstance(doc.data.get("config", {}), dict)
    if doc.data is not None and not shaped:
        doc.problems.append(doc.in_file(("config",), "a stack file is a mapping with the settings under "
                                        "`config:` (one `billing:name: value` per line)"))
    elif isinstance(doc.data, dict):
        # Pulumi reads only these (sdk/go/common/workspace/project.go, ProjectStack) and ignores
        # the rest without a word: a setting outside `config:` would silently not exist.
        for key in doc.data:
            if key not in STACK_FILE_KEYS:
                doc.problems.append(doc.in_file((key,), "is outside `config:`, where Pulumi never reads "
                                                "it; indent it under `config:`", str(key)))
    return doc


STACK_FILE_KEYS = frozenset({"secretsprovider", "encryptedkey", "encryptionsalt", "config", "environment"})


def _listing(project_dir: Path) -> str:
    return ", ".join(stacks(project_dir)) or "none (no Pulumi.<stack>.yaml)"


def plain_config(doc: Document) -> Mapping[str, Any]:
    config = doc.data.get("config") if isinstance(doc.data, dict) else None
    return config if isinstance(config, dict) else {}


def shared_slots(
    stack: str, files: Snapshot, settings: StackSettings, catalog: Catalog, stack_doc: Document,
    read_catalog: Callable[[str], Catalog | None],
) -> list[Problem]:
    """No two stacks own the same value on the same host target: the later `up` would win."""
    mine = hosting.slots(catalog, settings)
    host = hosts.of(settings)
    problems = []
    for other in stacks(files.root):
        if other == stack:
            continue
        theirs = _file_settings(files.document(f"Pulumi.{other}.yaml"))
        if theirs is None:
            continue  # that stack's own validation reports it
        their_catalog = catalog if theirs.catalog == settings.catalog else read_catalog(theirs.catalog)
        shared = sorted(mine & hosting.slots(their_catalog, theirs)) if their_catalog else []
        if shared:
            names = sorted({name for _, _, name in shared})
            targets = sorted({target for _, target, _ in shared})
            listing = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
            setting = next(iter(host.settings), hosts.HOST_SETTING)
            problems.append(stack_doc.problem(("config", setting), (
                f"stack {other!r} (Pulumi.{other}.yaml) writes the same values ({listing}) to the same "
                f"targets ({', '.join(targets)}) of {host.location(settings)}, so each `up` would overwrite "
                f"the other's values; give one of the stacks its own {setting}"), setting))
    return problems


def _file_settings(doc: Document) -> StackSettings | None:
    """Another stack's settings as its file holds them (its secrets are not needed here)."""
    config = plain_config(doc)
    aliases = [str(field.alias) for field in StackSettings.model_fields.values()]
    try:
        return StackSettings.model_validate({key: config[key] for key in aliases if key in config})
    except ValidationError:
        return None
