"""The repository under test: where it is, its catalog, its documentation, what a committed key looks like."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CATALOG = (REPO / "stacks" / "catalog.yaml").read_text()
# README is the front door; the rest of the documentation is in docs/, one page per reader.
DOCS = ["README.md", *sorted(f"docs/{page.name}" for page in (REPO / "docs").glob("*.md"))]


def doc(name: str) -> str:
    """The text of README.md or of a page under docs/."""
    return (REPO / name).read_text()


def stack_file_snippet() -> str:
    """The stack file docs/getting-started.md shows after step 7, exactly as shown."""
    getting_started = doc("docs/getting-started.md")
    marker = "<!-- stack file after step 7: Pulumi.test.yaml"
    after = getting_started[getting_started.index(marker):]
    match = re.search(r"```yaml\n(.*?)```", after, re.DOTALL)
    assert match, "the yaml block after the marker"
    return match.group(1)


# gitleaks' Stripe rule plus webhook secrets. Built from parts so that this file does
# not match itself.
KEY_SHAPES = re.compile(
    "(" + "|".join(("sk", "rk")) + ")_(test|live|prod)_[0-9a-zA-Z]{10,99}"
    + "|" + "wh" + "sec_[0-9a-zA-Z]{20,}"
)
