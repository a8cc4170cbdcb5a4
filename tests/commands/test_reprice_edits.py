"""`reprice` edits exactly the price it was asked to, in the file's own bytes (issue 21)."""

from __future__ import annotations

import difflib
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


# Issue 22: README promises reprice keeps the file's layout; a whole ruamel dump reflowed every
# line (`yearly:  {...}` lost its alignment). Only the edited price's lines may change.
ALIGNED = """\
plans:
  pro:
    name:  Pro          # aligned by hand
    prices:
      monthly: {amount: "29.00", currency: usd, interval: month}
      yearly:  {amount: "290.00", currency: usd, interval: year}    # two months free
  team:
    name:  Team
    prices:
      monthly:
        amount:   "99.00"     # per seat
        currency: usd
        interval: month
      # quarterly is next
  yen:
    name: Yen
    prices:
      monthly: {amount: "3000", currency: jpy, interval: month}
""" + WEBHOOK


def reprice(project: Project, *argv: str) -> tuple[int, str, str]:
    return run_cli("reprice", *argv, "--project", str(project.root))


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    diff = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    return [d[2:] for d in diff if d.startswith("- ")], [d[2:] for d in diff if d.startswith("+ ")]


def test_only_the_edited_flow_price_changes_and_aligned_lines_keep_their_bytes(project: Project) -> None:
    path = project.catalog(ALIGNED)
    code, out, err = reprice(project, "pro.monthly", "39")
    assert code == exits.OK, err
    removed, added = changed_lines(ALIGNED, path.read_text())
    assert removed == ['      monthly: {amount: "29.00", currency: usd, interval: month}']
    assert added == ['      monthly: {amount: "29.00", currency: usd, interval: month, archived: true}',
                     '      monthly_v2: {amount: "39.00", currency: usd, interval: month, lookup_key: pro_monthly}']
    assert "pro.monthly_v2 sells at 39.00 USD" in out  # the currency's decimals, as the catalog writes them


def test_a_block_price_is_edited_in_place_and_the_comment_after_it_stays_put(project: Project) -> None:
    path = project.catalog(ALIGNED)
    assert reprice(project, "team.monthly", "109.5")[0] == exits.OK
    after = path.read_text()
    removed, added = changed_lines(ALIGNED, after)
    assert removed == []  # the old lines are all kept; `archived: true` and the new price are added
    assert added[0].strip() == "archived: true" and "monthly_v2:" in added[1]
    assert after.count("# quarterly is next") == 1 and after.count("# per seat") == 1
    prices = yaml.safe_load(after)["plans"]["team"]["prices"]
    assert prices["monthly"]["archived"] is True
    assert prices["monthly_v2"] == {"amount": "109.50", "currency": "usd", "interval": "month",
                                    "lookup_key": "team_monthly"}
    assert after.index("archived: true") < after.index("monthly_v2:") < after.index("# quarterly is next")


def test_a_zero_decimal_currency_keeps_its_whole_amount(project: Project) -> None:
    path = project.catalog(ALIGNED)
    assert reprice(project, "yen.monthly", "3500")[0] == exits.OK
    assert yaml.safe_load(path.read_text())["plans"]["yen"]["prices"]["monthly_v2"]["amount"] == "3500"


def test_a_mistyped_price_gets_a_did_you_mean_of_an_active_price_only(project: Project) -> None:
    path = project.catalog(ALIGNED)
    code, _, err = reprice(project, "pro.montly", "39.00")
    assert code == exits.REFUSED and "has no price pro.montly; did you mean 'pro.monthly'?" in err
    assert reprice(project, "pro.monthly", "39.00")[0] == exits.OK
    code, _, err = reprice(project, "pro.monthlx", "45.00")  # the archived monthly is never offered
    assert code == exits.REFUSED and "did you mean 'pro.monthly_v2'?" in err
    assert path.read_text().count("archived: true") == 1


def test_repricing_an_archived_price_names_the_price_that_took_its_lookup_key(project: Project) -> None:
    project.catalog(ALIGNED)
    assert reprice(project, "pro.monthly", "39.00")[0] == exits.OK
    code, _, err = reprice(project, "pro.monthly", "45.00")
    assert code == exits.REFUSED
    assert ("pro.monthly is already archived; pro.monthly_v2 holds its lookup key 'pro_monthly' now: reprice "
            "that one (`billing reprice pro.monthly_v2 AMOUNT`)") in err


def test_a_refusal_is_escaped_for_the_terminal_and_offers_no_secret(project: Project) -> None:
    # A catalog from a pull request: a plan key with a terminal's escape sequences, a price key shaped
    # like a live secret key (pasted by mistake); and a PLAN.PRICE argument with control characters.
    secret = "sk_" + "live_" + "Q" * 30
    path = project.catalog(SIMPLE.replace("  pro:\n", f'  "pro\\e]0;owned\\a\\u202e":\n    name: X\n    prices:\n'
                                                     f'      {secret}: {{amount: "1.00", currency: usd, '
                                                     'interval: month}\n  pro:\n', 1))
    before = path.read_bytes()
    code, _, err = reprice(project, "pro\x1b]0;owned\x07.sk_live_" + "Q" * 29, "3")
    assert code == exits.REFUSED and "the catalog was not changed" in err
    assert "has no price pro\\x1b]0;owned\\x07.sk_live_" in err and "did you mean" in err
    assert not any(c in err for c in "\x1b\x07\u202e") and secret not in err
    assert path.read_bytes() == before


@pytest.mark.parametrize("style", ["block", "flow"])
def test_a_price_with_nested_terms_is_written_whole_not_as_an_alias_to_a_line_left_behind(
    project: Project, style: str,
) -> None:
    # The new price copied the old one's metadata mapping by reference; ruamel dumped it as `&id001`
    # on the old price and `*id001` on the new, and only the new price's lines were spliced in.
    terms = ('\n        amount: "29.00"\n        currency: usd\n        interval: month\n'
             '        metadata:\n          tier: gold\n' if style == "block" else
             ' {amount: "29.00", currency: usd, interval: month, metadata: {tier: gold}}\n')
    path = project.catalog(f"plans:\n  pro:\n    name: Pro\n    prices:\n      monthly:{terms}" + WEBHOOK)
    code, _, err = reprice(project, "pro.monthly", "39.00")
    assert code == exits.OK, err
    text = path.read_text()
    assert "*id" not in text and "&id" not in text
    prices = yaml.safe_load(text)["plans"]["pro"]["prices"]
    assert prices["monthly_v2"]["metadata"] == {"tier": "gold"} == prices["monthly"]["metadata"]
    assert run_cli("validate", "--stack", "test", "--project", str(project.root))[0] == exits.OK


def test_a_comment_after_a_nested_mapping_stays_where_it_was_and_is_not_copied(project: Project) -> None:
    # ruamel keeps the comment that follows `metadata:`'s last line on that mapping: a copy carried it
    # into the middle of the new price.
    before = ("plans:\n  pro:\n    name: Pro\n    prices:\n      monthly:\n        amount: \"29.00\"\n"
              "        currency: usd\n        interval: month\n        metadata:\n          tier: gold\n\n"
              "      # yearly is cheaper\n      yearly: {amount: \"290.00\", currency: usd, interval: year}\n"
              + WEBHOOK)
    path = project.catalog(before)
    assert reprice(project, "pro.monthly", "39.00")[0] == exits.OK
    removed, added = changed_lines(before, path.read_text())
    assert removed == []
    assert added == ["        archived: true", "      monthly_v2:", '        amount: "39.00"', "        currency: usd",
                     "        interval: month", "        metadata:", "          tier: gold",
                     "        lookup_key: pro_monthly"]
    assert path.read_text().count("# yearly is cheaper") == 1
