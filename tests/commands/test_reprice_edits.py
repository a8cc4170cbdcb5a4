"""`reprice` edits exactly the price it was asked to, in the file's own bytes (issue 21)."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
import yaml

from infra.core import exits
from tests.support.project import Project, run_cli

pytestmark = pytest.mark.pure

WEBHOOK = "webhook: {path: /webhook/stripe, api_version: 2026-10-28.endive, events: [checkout.session.completed]}\n"
SHARED = {
    "alias": """\
        plans:
          pro:
            name: Pro
            prices:
              monthly: &std {amount: "29.00", currency: usd, interval: month}
          team:
            name: Team
            prices:
              monthly: *std
        """ + WEBHOOK,
    "merge base": """\
        plans:
          pro:
            name: Pro
            prices:
              monthly: &std {amount: "29.00", currency: usd, interval: month}
          team:
            name: Team
            prices:
              monthly: {<<: *std, lookup_key: team_monthly}
        """ + WEBHOOK,
    "merging price": """\
        plans:
          team:
            name: Team
            prices:
              monthly: &std {amount: "29.00", currency: usd, interval: month}
          pro:
            name: Pro
            prices:
              monthly: {<<: *std, lookup_key: pro_monthly}
        """ + WEBHOOK,
}
SIMPLE = """\
plans:
  pro:
    name: Pro
    prices:
      monthly: {amount: "29.00", currency: usd, interval: month}
""" + WEBHOOK


@pytest.mark.parametrize("text", SHARED.values(), ids=SHARED.keys())
def test_a_shared_node_is_refused_with_the_fix_and_the_file_is_untouched(project: Project, text: str) -> None:
    path = project.catalog(text)
    assert run_cli("validate", "--stack", "test", "--project", str(project.root))[0] == exits.OK
    before = path.read_bytes()
    code, _, err = run_cli("reprice", "pro.monthly", "39.00", "--project", str(project.root))
    assert code == exits.REFUSED, err
    assert "give the price its own mapping first" in err and "the catalog was not changed" in err
    assert path.read_bytes() == before


@pytest.mark.parametrize("bom", ["", "\ufeff"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_line_endings_and_byte_order_mark_are_kept(project: Project, bom: str, newline: str) -> None:
    path = project.root / "stacks" / "catalog.yaml"
    path.write_bytes((bom + SIMPLE.replace("\n", newline)).encode())
    code, _, err = run_cli("reprice", "pro.monthly", "39.00", "--project", str(project.root))
    assert code == exits.OK, err
    data = path.read_bytes().decode()
    assert data.startswith(bom) and not data[len(bom):].startswith("\ufeff")
    assert data.count(newline) == data.count("\n") > SIMPLE.count("\n")
    prices = yaml.safe_load(data.removeprefix("\ufeff"))["plans"]["pro"]["prices"]
    assert prices["monthly"]["archived"] is True and prices["monthly_v2"]["amount"] == "39.00"


def test_mixed_line_endings_are_refused(project: Project) -> None:
    path = project.root / "stacks" / "catalog.yaml"
    path.write_bytes(SIMPLE.replace("\n", "\r\n", 1).encode())
    code, _, err = run_cli("reprice", "pro.monthly", "39.00", "--project", str(project.root))
    assert code == exits.REFUSED and "mixes CRLF and LF" in err
    assert path.read_bytes() == SIMPLE.replace("\n", "\r\n", 1).encode()


def test_a_catalog_that_is_a_symlink_is_not_written_through(project: Project, tmp_path_factory: pytest.TempPathFactory) -> None:
    outside = tmp_path_factory.mktemp("outside") / "catalog.yaml"
    outside.write_text(textwrap.dedent(SIMPLE))
    path = project.root / "stacks" / "catalog.yaml"
    path.unlink()
    os.symlink(outside, path)
    code, _, err = run_cli("reprice", "pro.monthly", "39.00", "--project", str(project.root))
    assert code == exits.REFUSED and "is a symlink" in err and "nothing was written" in err
    assert outside.read_text() == SIMPLE and Path(path).is_symlink()
