"""Shared fixtures: a throwaway project (catalog + stack files + the real entry point)."""

from __future__ import annotations

import io
import shutil
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.cli import main
from tests.cloudflare_api import cloudflare  # noqa: F401 (the Cloudflare tests' server fixture)

REPO = Path(__file__).resolve().parent.parent
CATALOG = (REPO / "stacks" / "catalog.yaml").read_text()


def key(kind: str, mode: str, tag: str = "T3st") -> str:
    """A key-shaped value built at run time; nothing key-shaped is committed."""
    return f"{kind}_{mode}_" + tag * 6


def credentials(mode: str) -> dict[str, str]:
    """Every credential a stack needs, each of the right kind for `mode` and distinct."""
    return {
        "stripe:apiKey": key("rk", mode, "Dep1"),
        "billing:appStripeKey": key("rk", mode, "App1"),
        "billing:publishableKey": key("pk", mode, "Pub1"),
        "vercel:apiToken": "vercel" + "T0ken" * 5,
    }


def stack_config(mode: str, **overrides: str) -> dict[str, str]:
    """Engine-style config of a valid stack in `mode`; keys as `billing:domain`, passed via **{}."""
    return {"billing:mode": mode, "billing:domain": "app.example.com",
            "billing:vercelProject": "prj_Test123", **credentials(mode), **overrides}


class Project:
    """A copy of the project layout in a temp dir, with files the test chooses."""

    def __init__(self, root: Path) -> None:
        self.root = root
        shutil.copy(REPO / "__main__.py", root / "__main__.py")
        (root / "stacks").mkdir()
        self.catalog(CATALOG)
        for stack in ("test", "live"):
            shutil.copy(REPO / f"Pulumi.{stack}.yaml", root / f"Pulumi.{stack}.yaml")

    def catalog(self, text: str) -> Path:
        path = self.root / "stacks" / "catalog.yaml"
        path.write_text(textwrap.dedent(text))
        return path

    def stack(self, name: str, text: str) -> Path:
        path = self.root / f"Pulumi.{name}.yaml"
        path.write_text(textwrap.dedent(text))
        return path


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    yield Project(tmp_path)


def run_cli(*argv: str) -> tuple[int, str, str]:
    """`python -m infra ARGV` in-process: exit status, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    stderr, sys.stderr = sys.stderr, err
    try:
        code = main(list(argv), out=out)
    finally:
        sys.stderr = stderr
    return code, out.getvalue(), err.getvalue()
