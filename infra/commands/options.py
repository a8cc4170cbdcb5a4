"""The options several commands share, each defined once with one help text."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from infra.catalog.stack_config import EngineConfig, from_stack
from infra.commands import stack_default
from infra.core.layout import DEFAULT_CATALOG

CATALOG_HELP = f"catalog file (default: billing:catalog, else {DEFAULT_CATALOG})"


def stack(parser: argparse.ArgumentParser, default: Any = None, help: str = stack_default.HELP) -> None:
    parser.add_argument("--stack", default=default, help=help)


def catalog(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--catalog", help=CATALOG_HELP)


def project(parser: argparse.ArgumentParser, project_dir: Path | None, default: Any = None) -> None:
    """The project the command works on: the checkout (tests point it elsewhere); never shown."""
    parser.add_argument("--project", type=Path, default=project_dir if default is None else default,
                        help=argparse.SUPPRESS)


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
