"""README is the front door and docs/ the rest: every page is linked, every link lands, nothing points
outside the repository, and the layout map in docs/architecture.md names paths that exist."""

from __future__ import annotations

import re

import pytest

from tests.support.repository import DOCS, REPO, doc

pytestmark = pytest.mark.pure

LINK = re.compile(r"\]\(([^)\s]+)\)")
# Pointers at files beside the repository, or at documents only its first authors had.
OUTSIDE = re.compile(r"\.\./shared|shared/docs|second runbook|the seeds", re.IGNORECASE)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(text: str) -> set[str]:
    without_code = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    return {slug(line.lstrip("#")) for line in without_code.splitlines() if line.startswith("#")}


def layout_paths() -> list[str]:
    text = doc("docs/architecture.md")
    block = text[text.index("<!-- layout map"):]
    block = block[block.index("```\n") + 4:]
    block = block[: block.index("```")]
    return [line.split()[0] for line in block.splitlines() if line and not line[0].isspace()]


def test_readme_links_every_page_under_docs() -> None:
    linked = set(LINK.findall(doc("README.md")))
    assert len(DOCS) > 1
    assert {name for name in DOCS if name != "README.md"} <= linked


@pytest.mark.parametrize("name", DOCS)
def test_every_link_between_the_pages_lands(name: str) -> None:
    here = (REPO / name).parent
    for target in LINK.findall(doc(name)):
        if re.match(r"[a-z]+:", target):
            continue  # a public address, not a file of this repository
        path, _, anchor = target.partition("#")
        page = (here / path).resolve() if path else REPO / name
        assert page.is_file() and page.is_relative_to(REPO), f"{name}: {target}"
        if anchor:
            assert anchor in anchors(page.read_text()), f"{name}: {target}"


@pytest.mark.parametrize("name", [*DOCS, "Makefile", ".ci/run",
                                  *(str(path.relative_to(REPO)) for path in sorted((REPO / ".github").rglob("*.yml")))])
def test_nothing_points_outside_the_repository(name: str) -> None:
    found = [line for line in doc(name).splitlines() if OUTSIDE.search(line)]
    assert not found, found


# Fails until the module layout being rewritten on main lands (infra/core/, infra/stripe/, ...).
@pytest.mark.parametrize("path", layout_paths())
def test_the_layout_map_names_paths_that_exist(path: str) -> None:
    assert (REPO / path).exists(), f"docs/architecture.md's layout map lists {path}, which does not exist"
