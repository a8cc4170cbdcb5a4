"""The stack's config as a command that runs reads it: `--stack` and `--project`, with `--catalog` applied."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

from infra.catalog.stack_config import EngineConfig, from_stack


def engine_config(args: argparse.Namespace, decrypted: Mapping[str, str] | None = None) -> EngineConfig:
    """The stack's config as the engine hands it to the program, with `--catalog` applied."""
    return from_stack(args.project, args.stack, overrides=_catalog_override(args), overrides_from="--catalog",
                      decrypted=decrypted)


def _catalog_override(args: argparse.Namespace) -> dict[str, str]:
    if not getattr(args, "catalog", None):
        return {}
    path = Path(args.catalog).resolve()
    try:
        return {"billing:catalog": str(path.relative_to(args.project.resolve()))}
    except ValueError:
        return {"billing:catalog": str(path)}
