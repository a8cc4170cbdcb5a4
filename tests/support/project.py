"""A throwaway project (catalog + stack files + the real entry point), its keys, and the CLI run in it."""

from __future__ import annotations

import io
import shutil
import sys
import textwrap
from pathlib import Path

from infra.cli import main
from tests.support.repository import CATALOG, REPO

# A stack's own host names and Vercel project in the tests: not the repository's examples
# (which a live stack refuses), and not whatever a user's own stack files hold.
DOMAINS = {"test": "staging.shop.test", "live": "shop.test"}
VERCEL_PROJECT = "prj_Test123"
# The stack files every test project starts from, as the committed ones are laid out. They are
# written here rather than copied, so the suite runs the same on a repository whose stack files
# hold a team's real settings (README's steps write them there).
STACK_FILES = {
    "test": f"""\
config:
  billing:mode: test
  billing:vercelProject: {VERCEL_PROJECT}
  billing:domain: {DOMAINS["test"]}
  billing:coupons:
    launch:
      name: Launch week
      percent_off: 20
      duration: repeating
      duration_in_months: 3
      applies_to: [pro]
      promotion_codes:
        WELCOME20: {{max_redemptions: 100}}
""",
    "live": f"""\
config:
  billing:mode: live
  billing:vercelProject: {VERCEL_PROJECT}
  billing:domain: {DOMAINS["live"]}
  billing:coupons:
    smoke_test:
      name: Live smoke test
      percent_off: 100
      duration: once
      max_redemptions: 1
      promotion_codes:
        SMOKETEST: {{max_redemptions: 1}}
""",
}


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
    return {"billing:mode": mode, "billing:domain": DOMAINS.get(mode, DOMAINS["test"]),
            "billing:vercelProject": VERCEL_PROJECT, **credentials(mode), **overrides}


class Project:
    """A copy of the project layout in a temp dir, with files the test chooses."""

    def __init__(self, root: Path) -> None:
        self.root = root
        shutil.copy(REPO / "__main__.py", root / "__main__.py")
        (root / "stacks").mkdir()
        self.catalog(CATALOG)
        for stack, text in STACK_FILES.items():
            self.stack(stack, text)

    def catalog(self, text: str) -> Path:
        path = self.root / "stacks" / "catalog.yaml"
        path.write_text(textwrap.dedent(text))
        return path

    def stack(self, name: str, text: str) -> Path:
        path = self.root / f"Pulumi.{name}.yaml"
        path.write_text(textwrap.dedent(text))
        return path


def run_cli(*argv: str) -> tuple[int, str, str]:
    """`python -m infra ARGV` in-process: exit status, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    stderr, sys.stderr = sys.stderr, err
    try:
        code = main(list(argv), out=out)
    finally:
        sys.stderr = stderr
    return code, out.getvalue(), err.getvalue()
