"""`plan` and `diff` as people scan them (issue 22): marks, old -> new, one totals line, colour
only for a terminal. The catalog is built here, not read from the repository's stacks/, so the
goldens hold on a repository whose catalog a team has made its own.

The goldens are tests/commands/snapshots/*.txt; after a deliberate change of the output, rewrite them
with BILLING_UPDATE_SNAPSHOTS=1 and review the diff.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from infra.cli import main
from tests.support.project import Project, run_cli
from tests.support.repository import REPO

SNAPSHOTS = REPO / "tests" / "commands" / "snapshots"
BASE = """\
plans:
  free:
    name: Free
    limits: {requests: 5}
  pro:
    name: Pro
    limits: {requests: 50}
    prices:
      monthly: {amount: "29.00", currency: usd, interval: month}
      weekly: {amount: "9.00", currency: usd, interval: week, archived: true}
webhook:
  path: /webhook/stripe
  api_version: "2026-10-28.endive"
  events: [checkout.session.completed, customer.subscription.updated]
portal:
  business_profile: {headline: Manage your subscription}
  return_path: /dashboard
"""
# A rename (~), a new price (+), an archived price dropped (-), a new amount (+-, refused).
HEAD = (BASE.replace("name: Pro\n", "name: Professional\n")
        .replace('      weekly: {amount: "9.00", currency: usd, interval: week, archived: true}\n',
                 '      yearly: {amount: "290.00", currency: usd, interval: year}\n')
        .replace('"29.00"', '"39.00"'))
ESC = re.compile("\x1b")
OUR_COLOUR = re.compile(r"\x1b\[[0-9;]+m")


class Terminal(io.StringIO):
    """stdout as a terminal would be."""

    def isatty(self) -> bool:
        return True


def git(project: Project, *argv: str) -> None:
    subprocess.run(["git", "-C", str(project.root), "-c", "user.email=ci@example.com", "-c", "user.name=CI",
                    *argv], check=True, capture_output=True)


@pytest.fixture
def changed(project: Project) -> Project:
    project.catalog(BASE)
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "base")
    project.catalog(HEAD)
    return project


@pytest.fixture
def terminal_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A terminal outside CI that has not asked for no colour."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("CI", raising=False)


def golden(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("BILLING_UPDATE_SNAPSHOTS") == "1":
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"differs from {path}"


def in_terminal(*argv: str) -> tuple[int, str]:
    out = Terminal()
    code = main(list(argv), out=out)
    return code, out.getvalue()


# ---------------------------------------------------------------- plan


def test_plan_text_golden(changed: Project) -> None:
    code, out, err = run_cli("plan", "--stack", "test", "--project", str(changed.root))
    assert code == 0, err
    golden("plan_test.txt", out)
    lines = out.splitlines()
    assert lines[-1] == "23 to create, 0 to change, 0 to replace, 0 to delete"
    assert all(len(line) <= 106 for line in lines)  # the host table's widest row; everything else <= 100
    assert sum(len(line) > 100 for line in lines) <= 2
    # Variable names once: in the host table, not again in the outputs or the first-update notice.
    assert sum("STRIPE_PRICE_PRO_YEARLY" in line for line in lines) == 1
    assert "  redeployNeeded: [12 items]" in lines and "  hostingVariables: {development, preview}" in lines
    assert '    name: "Professional"' in lines and "+ stripe:index/product:Product  pro" in lines


def test_plan_verbose_is_every_input_nested(changed: Project) -> None:
    code, out, _ = run_cli("plan", "--stack", "test", "--verbose", "--project", str(changed.root))
    assert code == 0
    assert "      subscriptionCancel:" in out.splitlines()  # nested, as before
    assert "STRIPE_PRICE_PRO_YEARLY" in out.split("Outputs:")[1]  # the outputs whole
    assert out.splitlines()[-1] == "23 to create, 0 to change, 0 to replace, 0 to delete"


def test_plan_markdown_and_json_keep_their_content(changed: Project) -> None:
    code, out, _ = run_cli("plan", "--stack", "test", "--format", "markdown", "--project", str(changed.root))
    assert code == 0 and out.startswith("```\nOffline plan of stack 'test'") and "\x1b" not in out
    assert "      subscriptionCancel:" in out.splitlines()  # the job summary has every input
    assert "23 to create, 0 to change, 0 to replace, 0 to delete" in out
    code, out, _ = run_cli("plan", "--stack", "test", "--format", "json", "--project", str(changed.root))
    data = json.loads(out)
    assert set(data) == {"stack", "offline", "note", "placeholders", "summary", "resources", "outputs", "notices"}
    assert "OFFLINE PLAN" in data["note"] and data["summary"]["resources"] == 23


def test_plan_in_a_terminal_is_coloured_after_escaping(changed: Project, terminal_env: None) -> None:
    # A metadata key (catalog text that reaches the plan) that would retitle the terminal and recolour it.
    key = json.dumps("\x1b]0;owned\x07\x1b[31m")
    changed.catalog(HEAD.replace("name: Professional\n", f"name: Professional\n    metadata: {{{key}: gold}}\n"))
    code, out = in_terminal("plan", "--stack", "test", "--project", str(changed.root))
    assert code == 0
    assert "\x1b[32m+\x1b[0m stripe:index/product:Product  pro" in out
    assert "\x1b[1m23 to create, 0 to change, 0 to replace, 0 to delete\x1b[0m" in out
    assert '"\\u001b]0;owned\\u0007\\u001b[31m": "gold"' in OUR_COLOUR.sub("", out)  # shown, escaped
    # Every escape sequence left is one of ours: a colour, never the catalog's.
    assert not ESC.search(OUR_COLOUR.sub("", out))


@pytest.mark.parametrize("env", [{"NO_COLOR": "1"}, {"NO_COLOR": ""}, {"CI": "true"}])
def test_plan_has_no_colour_under_no_color_or_ci(changed: Project, terminal_env: None,
                                                 monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code, out = in_terminal("plan", "--stack", "test", "--project", str(changed.root))
    assert code == 0 and "\x1b" not in out


def test_plan_has_no_colour_when_not_a_terminal(changed: Project, terminal_env: None) -> None:
    code, out, _ = run_cli("plan", "--stack", "test", "--project", str(changed.root))
    assert code == 0 and "\x1b" not in out
    for fmt in ("json", "markdown"):
        code, out = in_terminal("plan", "--stack", "test", "--format", fmt, "--project", str(changed.root))
        assert code == 0 and "\x1b" not in out


# ---------------------------------------------------------------- diff


def diff(project: Project, *extra: str) -> tuple[int, str, str]:
    return run_cli("diff", "--base", "main", "--project", str(project.root), *extra)


def test_diff_text_golden(changed: Project) -> None:
    code, out, _ = diff(changed)
    assert code == 2
    golden("diff_both_stacks.txt", out)
    lines = out.splitlines()
    assert lines[-1] == "2 to create, 2 to change, 2 to replace, 2 to delete"
    # Each mark, each resource once across both stacks, and the rename old -> new.
    assert "~ stripe:index/product:Product  pro  [test, live]" in lines
    assert "+ stripe:index/price:Price  pro-yearly  [test, live]" in lines
    assert "- stripe:index/price:Price  pro-weekly  [test, live]" in lines
    assert "+- stripe:index/price:Price  pro-monthly  [test, live]" in lines
    assert '    name: "Pro" → "Professional"' in lines
    assert "    unitAmount: 2900 → 3900" in lines
    # A catalog change said once: the same advice on both stacks is one line, with no stack label.
    assert out.count("INFO  pro: name updated in place on the product") == 1
    assert out.count("ERROR pro_monthly: 29.00 USD every month -> 39.00 USD every month") == 1
    # Where the stacks differ, each says its own, labelled.
    assert any(line.startswith("  ERROR pro_weekly: removed: the archived price is protected on live")
               and line.endswith("  [live]") for line in lines)


def test_diff_cites_the_provider_only_with_explain(changed: Project) -> None:
    _, out, _ = diff(changed)
    assert ".go L" not in out and "resource_stripe" not in out
    _, explained, _ = diff(changed, "--explain")
    assert "(resource_stripe_price.go L40" in explained
    assert "only dropped from the stack: it stays in Stripe as it is (resource_stripe_price.go Delete" in explained


def test_diff_markdown_is_the_same_comment_with_fields_and_totals(changed: Project) -> None:
    code, out, _ = diff(changed, "--format", "markdown")
    assert code == 2 and out.startswith("<!-- billing-diff -->\n## Billing diff against `main`")
    assert "### Stack `test` (test mode): 1 error, 1 warning, 3 in place / info" in out
    assert ("| in place / info | `pro` | name updated in place on the product"
            '<br>`name`: `"Pro"` → `"Professional"` |') in out
    assert "resource\\_stripe\\_price" in out  # the comment keeps its citations
    assert "\n**2 to create, 2 to change, 2 to replace, 2 to delete**\n" in out
    assert "\x1b" not in out


def test_diff_json_keeps_its_shape_and_adds_fields(changed: Project) -> None:
    code, out, _ = diff(changed, "--format", "json")
    assert code == 2
    data = json.loads(out)
    assert set(data) == {"base", "stacks", "totals"}
    assert data["totals"] == "2 to create, 2 to change, 2 to replace, 2 to delete"
    test = next(s for s in data["stacks"] if s["stack"] == "test")
    assert set(test) == {"stack", "mode", "exit", "changes"}
    rename = next(c for c in test["changes"] if c["subject"] == "pro")
    assert set(rename) == {"group", "severity", "subject", "message", "resource", "step", "fields", "sources"}
    assert rename["fields"] == [{"path": "name", "old": '"Pro"', "new": '"Professional"'}]
    terms = next(c for c in test["changes"] if c["subject"] == "pro_monthly")
    assert terms["sources"] and terms["sources"][0] in terms["message"]  # the message as before


def test_diff_in_a_terminal_is_coloured_and_never_otherwise(changed: Project, terminal_env: None,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = in_terminal("diff", "--base", "main", "--project", str(changed.root))
    assert code == 2
    assert "\x1b[33m~\x1b[0m stripe:index/product:Product  pro" in out
    assert "\x1b[35m+-\x1b[0m stripe:index/price:Price  pro-monthly" in out
    assert "  \x1b[1;31mERROR\x1b[0m pro_monthly: " in out
    assert OUR_COLOUR.sub("", out) == diff(changed)[1]  # the same text, coloured
    for fmt in ("json", "markdown"):
        assert "\x1b" not in in_terminal("diff", "--base", "main", "--format", fmt,
                                         "--project", str(changed.root))[1]
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b" not in in_terminal("diff", "--base", "main", "--project", str(changed.root))[1]
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("CI", "1")
    assert "\x1b" not in in_terminal("diff", "--base", "main", "--project", str(changed.root))[1]


def test_snapshots_are_plain_text() -> None:
    for path in (SNAPSHOTS / "plan_test.txt", SNAPSHOTS / "diff_both_stacks.txt"):
        assert "\x1b" not in Path(path).read_text(encoding="utf-8")
