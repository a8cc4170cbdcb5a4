"""What others wrote never reaches a terminal, a workflow log or a PR comment as code."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.core import exits
from infra.core.escape import fenced, markdown_code, markdown_text, terminal
from tests.servers.stripe_api_server import StripeAccount, StripeServer
from tests.support.project import Project, run_cli

# What a terminal, a reviewer's eyes or a workflow runner would act on.
FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]")
HOSTILE = "\x1b]0;owned\x07\x1b[2J\x9b31m\u202eevil\u2028::error::boom\n::warning::x\r"
# Characters that make the hostile cases: controls, bidi, separators, markdown's own.
NASTY = st.sampled_from([*"\x00\x07\x1b\n\r\t\x7f\x85\x9b\u061c\u200e\u202e\u2066\u2028\u2029\ud800\udfff",
                         *"`*_[]()!<>#|@:~&\\-+.=$\"'", "::", "```", "www.", "https://", "<img src=x>"])
TEXT = st.lists(st.one_of(NASTY, st.text(max_size=5)), max_size=30).map("".join)


@given(TEXT)
@settings(max_examples=300, deadline=None)
def test_terminal_output_never_holds_a_control_sequence_or_a_workflow_command(text: str) -> None:
    shown = terminal(text)
    assert not FORBIDDEN.search(shown)
    assert not shown.lstrip().startswith("::")
    shown.encode("utf-8")  # printable by any UTF-8 stream, lone surrogates included


# Every character markdown gives a meaning to, which must arrive escaped.
_SPECIAL = set("\\`*_{}[]()#+-.!|<>~&$^:")


@given(TEXT)
@settings(max_examples=300, deadline=None)
def test_markdown_text_renders_nothing_but_the_text(text: str) -> None:
    shown = markdown_text(text)
    assert "\n" not in shown and not FORBIDDEN.search(shown)
    index = 0
    while index < len(shown):  # each special character is the second of a backslash pair
        if shown[index] == "\\":
            assert index + 1 < len(shown) and shown[index + 1] in _SPECIAL, shown
            index += 2
            continue
        if shown[index] == ":":  # a bare colon only where no :emoji: or scheme:// can start
            assert not re.match(r"[\w+\-/]", shown[index + 1:index + 2]), shown
        else:
            assert shown[index] not in _SPECIAL, shown
        index += 1
    assert not re.search(r"@[A-Za-z0-9]", shown)  # no @mention
    assert not re.search(r"(?i)www\\\.|\\:\\?/", shown.replace("\u2060", "|"))  # no autolink


@given(TEXT)
@settings(max_examples=300, deadline=None)
def test_a_code_span_or_block_is_longer_than_any_run_inside(text: str) -> None:
    span = markdown_code(text)
    fence = re.match("`+", span)
    assert fence is not None
    inner = span[len(fence.group(0)):-len(fence.group(0))]
    assert span.endswith(fence.group(0)) and "`" * len(fence.group(0)) not in inner
    assert "\n" not in span and not re.search(r"(?<!\\)\|", span)
    block = fenced(text.split("\n")).split("\n")
    opening = block[0]
    assert set(opening) == {"`"} and len(opening) >= 3 and block[-1] == opening
    assert all(opening not in line for line in block[1:-1])


def catalog(metadata_key: str = "tier", purpose: str | None = None, name: str = "Pro") -> str:
    keys = ("keys:\n  app:\n    purpose: " + json.dumps(purpose) + "\n    permissions: {Products: read}\n"
            if purpose else "")
    return f"""\
plans:
  pro:
    name: {json.dumps(name)}
    metadata: {{{json.dumps(metadata_key)}: gold}}
    prices:
      monthly: {{amount: "29.00", currency: usd, interval: month}}
webhook:
  path: /webhook/stripe
  api_version: "2026-10-28.endive"
  events: [checkout.session.completed]
{keys}"""


def assert_clean(text: str) -> None:
    assert not FORBIDDEN.search(text.replace("\n", ""))
    assert not any(line.lstrip().startswith("::") for line in text.splitlines())


def test_plan_escapes_a_nested_metadata_key(project: Project) -> None:
    project.catalog(catalog(metadata_key="\x1b]0;owned\x07\u202eevil\u2028::e"))
    code, out, err = run_cli("plan", "--stack", "test", "--project", str(project.root))
    assert code == exits.OK, err
    assert "\\u202eevil\\u2028::e" in out
    assert_clean(out + err)


def test_the_plan_in_the_job_summary_cannot_close_its_fence(project: Project) -> None:
    project.catalog(catalog(metadata_key="x\n```\n</details><img src=x>`````"))
    code, out, err = run_cli("plan", "--stack", "test", "--format", "markdown", "--project", str(project.root))
    assert code == exits.OK, err
    lines = out.rstrip("\n").split("\n")
    assert lines[0] == lines[-1] and set(lines[0]) == {"`"} and len(lines[0]) >= 6
    assert not any(line.lstrip().startswith("`" * 3) for line in lines[1:-1])
    assert_clean(out)


def test_keys_escapes_a_manifests_purpose(project: Project) -> None:
    project.catalog(catalog(purpose="Reads prices." + HOSTILE))
    code, out, err = run_cli("keys", "--stack", "test", "--project", str(project.root))
    assert code == exits.OK, err
    assert "Purpose: Reads prices.\\x1b]0;owned\\x07\\x1b[2J\\x9b31m\\u202eevil\\u2028::error::boom\\n::warning" in out
    assert_clean(out + err)


def test_a_problem_line_escapes_c1_bidi_and_line_separators(project: Project) -> None:
    project.catalog(catalog().replace("  pro:", "  " + json.dumps("pro\x9b2J\u202eevil\u2028x") + ":"))
    code, _, err = run_cli("validate", "--stack", "test", "--project", str(project.root))
    assert code == exits.REFUSED
    assert "pro\\x9b2J\\u202eevil\\u2028x" in err
    assert_clean(err)


def git(project: Project, *argv: str) -> None:
    subprocess.run(["git", "-C", str(project.root), *argv], check=True, capture_output=True)


def test_diff_markdown_renders_no_image_link_html_or_mention(project: Project) -> None:
    project.catalog(catalog())
    git(project, "init", "-q", "-b", "main")
    git(project, "-c", "user.email=ci@example.com", "-c", "user.name=CI", "add", "-A")
    git(project, "-c", "user.email=ci@example.com", "-c", "user.name=CI", "commit", "-q", "-m", "base")
    hostile = "Pro ![x](https://evil.example/p.png) [click](https://evil.example) <b>hi</b> @team # H **b**"
    project.catalog(catalog().replace("webhook:", f"""\
  team:
    name: {json.dumps(hostile)}
    prices:
      monthly: {{amount: "9.00", currency: usd, interval: month}}
webhook:"""))
    code, out, err = run_cli("diff", "--base", "main", "--stack", "test", "--format", "markdown",
                             "--project", str(project.root))
    assert code in (exits.OK, exits.FINDINGS), err
    assert "a new product" in out and "evil" in out
    for raw in ("![x]", "[click](", "<b>", "@team", "**b**", "https://evil"):
        assert raw not in out, raw
    assert_clean(out)


def test_pull_escapes_ids_the_server_chose(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    account = StripeAccount()
    reader = "rk_" + "test_" + "Pull" * 6
    account.keys = {reader: None}
    product = account.product("Pro", {"plan": "pro"})
    product["id"] = "prod_\x1b]0;owned\x07\x9b2J"
    account.price(product, 2900, "month")
    with StripeServer(account) as server:
        monkeypatch.setenv("STRIPE_API_BASE", server.base)
        monkeypatch.setenv("STRIPE_API_KEY", reader)
        monkeypatch.delenv("PULUMI_CONFIG", raising=False)
        code, out, err = run_cli("pull", "--stack", "test", "--project", str(project.root))
    assert code in (exits.OK, exits.REFUSED), err
    assert "prod_\\x1b]0;owned\\x07\\x9b2J" in out + err
    assert_clean(out + err)
