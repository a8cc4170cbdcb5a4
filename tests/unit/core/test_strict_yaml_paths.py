"""libyaml reads a document only where it reads it exactly as PyYAML's own scanner does.

`strict_yaml.parse` hands a document to libyaml (seven times cheaper) when it holds
none of the characters the forms the two scanners read apart need, and reads it again
with PyYAML's scanner on any failure. Whatever the path, the data, the lines and the
problems must be PyYAML's (`strict_yaml._parse`, the scanner in Python).
"""

from __future__ import annotations

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.core import strict_yaml

pytestmark = [
    pytest.mark.pure,
    pytest.mark.skipif(not strict_yaml._LIBYAML, reason="this PyYAML has no libyaml: one path only"),
]


def outcome(text: str, read: object = strict_yaml.parse) -> tuple[object, object, list[str]]:
    doc = read(text, "f.yaml")  # type: ignore[operator]
    return doc.data, doc.lines, [str(p) for p in doc.problems]


def python_scanner(text: str) -> tuple[object, object, list[str]]:
    return outcome(text, strict_yaml._parse)


WORDS = ["pro", "free", "name", "Plan A", "29.00", "usd", "month", "a b", "x:y", "#no", "it's",
         'say "hi"', "", " lead", "trail ", "1", "010", "yes", "null", "~", "é", "日本", "😀", "-",
         "- x", "a,b", "[x]", "{y}", "<<", "=", "2026-10-28", "what?", "100%", "a|b", "x > y"]
trees = st.recursive(
    st.one_of(st.sampled_from(WORDS), st.integers(-3, 3), st.booleans(), st.none()),
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.sampled_from(WORDS[:12]), children, max_size=4)),
    max_leaves=20,
)
# Edits that break a document in the ways people do: indentation, a lost colon or quote,
# a comment (holding indicators libyaml is kept from), a second document.
EDITS = ["", " ", "  ", "\n", "\n  ", ":", ": ", "- ", "#", " # why? 100%!", "'", '"', "{", "}", "[",
         "]", ",", "-", "a", "\n- ", "---\n", "...", "\t", "\\", "?", "&a ", "*a", "|\n  x"]


@st.composite
def documents(draw: st.DrawFn) -> str:
    text = yaml.safe_dump(draw(trees), allow_unicode=True,
                          default_flow_style=draw(st.sampled_from([None, False, True])),
                          width=draw(st.sampled_from([20, 80, 1000])), indent=draw(st.sampled_from([2, 4])))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(EDITS)) + text[at + draw(st.integers(0, 2)):]
    return text


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_every_document_reads_as_pythons_scanner_reads_it(text: str) -> None:
    assert outcome(text) == python_scanner(text)


@pytest.mark.parametrize("text", [
    'a: "bar"\t\n',           # libyaml takes the tab after a quoted scalar; PyYAML refuses it
    "a: [\\?]\n",             # libyaml reads `\?` as a flow entry; PyYAML refuses it
    "key: |\n  \tvalue\n",    # PyYAML reads the tab in a block scalar; libyaml refuses it
    "a: 1\n\ufeffb: 2\n",     # PyYAML keeps a byte-order mark inside; libyaml refuses it
    "a: \ud800\n",            # libyaml cannot even encode a lone surrogate
    "a: 1\r\nb: 2\n",         # read alike, as far as seen: kept from libyaml all the same
    "a: &x 1\nb: *x\n",       # likewise: anchors and aliases
])
def test_the_forms_the_scanners_read_apart_are_read_by_pythons(text: str) -> None:
    assert not strict_yaml._libyaml_reads_alike(text)
    assert outcome(text) == python_scanner(text)


def test_an_empty_document_is_read_by_pythons() -> None:
    # libyaml places the empty document's node a line lower than PyYAML does.
    assert strict_yaml._by_libyaml("---\n\n", "f.yaml") is None
    assert outcome("---\n\n") == python_scanner("---\n\n")


def test_a_catalog_with_comments_is_read_by_libyaml() -> None:
    # The gain is real only if an ordinary catalog takes the path: indicators in comments,
    # quotes, flow mappings, a document marker.
    text = ("---\n# Plans: see `billing validate` (free -> no product); 100% off? no!\nplans:\n"
            "  pro:  # the paid one\n    name: \"Pro # 1\"\n    prices:\n"
            "      monthly: {amount: \"29.00\", currency: usd, interval: month}\n"
            "webhook: {path: /webhook/stripe, events: [checkout.session.completed]}\n")
    assert strict_yaml._libyaml_reads_alike(text)
    assert strict_yaml._by_libyaml(text, "f.yaml") is not None
    assert outcome(text) == python_scanner(text)


def test_a_failure_on_the_libyaml_path_is_reported_in_pythons_words() -> None:
    text = "plans:\n  pro: {name: x\n"  # an unclosed flow mapping; passes the screen
    assert strict_yaml._libyaml_reads_alike(text)
    assert strict_yaml._by_libyaml(text, "f.yaml") is None
    data, _, problems = outcome(text)
    assert data is None and problems == python_scanner(text)[2] and problems[0].startswith("f.yaml:")


def test_the_depth_cap_and_node_budget_hold_on_the_libyaml_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(strict_yaml, "MAX_NODES", 200)  # the budget met sooner, the same way
    deep = "a: " + "[" * (strict_yaml.MAX_DEPTH + 5) + "]" * (strict_yaml.MAX_DEPTH + 5) + "\n"
    assert strict_yaml._libyaml_reads_alike(deep)
    assert outcome(deep) == python_scanner(deep)
    assert "levels deep" in outcome(deep)[2][0]
    wide = "a: [" + ", ".join(["1"] * (strict_yaml.MAX_NODES + 1)) + "]\n"
    assert strict_yaml._libyaml_reads_alike(wide)
    assert outcome(wide) == python_scanner(wide)
    assert "more than" in outcome(wide)[2][0]
