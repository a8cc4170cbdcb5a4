"""The one reader: strict forms, exact numbers, bounded size, depth and node count."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest

from infra.catalog.loader import load_deployment
from infra.core import sources, strict_yaml
from infra.core.problems import ConfigError
from tests.support.project import Project, stack_config
from tests.support.repository import CATALOG

pytestmark = pytest.mark.pure


def parsed(text: str) -> tuple[object, list[str]]:
    doc = sources.parse(text, "f.yaml")
    return doc.data, [str(p) for p in doc.problems]


@pytest.mark.parametrize(("text", "meaning"), [
    ("010", "the number 8"), ("0x1F", "the number 31"), ("1:30", "the number 90"), ("0b101", "the number 5"),
    ("1_000", "the number 1000"), ("1.5e+3", "the number 1500.0"), ("29.", "the number 29.0"),
    ("190:20:30.15", "the number 685230.15"),
])
def test_yaml_11_numbers_are_refused_with_the_fix(text: str, meaning: str) -> None:
    data, problems = parsed(f"a: {text}\n")
    assert data == {"a": None}
    assert problems == [f"f.yaml:1: a: YAML 1.1 reads {text} as {meaning}, not as written; write numbers as "
                        f"plain decimals (29, 29.00), or quote it ('{text}') for text"]


@pytest.mark.parametrize(("text", "meaning"), [("yes", "true"), ("On", "true"), ("no", "false"),
                                               ("OFF", "false")])
def test_yaml_11_booleans_are_refused(text: str, meaning: str) -> None:
    _, problems = parsed(f"a: {text}\n")
    assert problems == [f"f.yaml:1: a: YAML 1.1 reads {text} as {meaning}; write {meaning} for a yes/no "
                        f"setting, or quote it ('{text}') for text"]


def test_the_forms_yaml_versions_agree_on_are_read_exactly() -> None:
    data, problems = parsed("a: 29.00\nb: -3\nc: ~\nd: true\ne: '010'\nf: 2026-10-28\ng: 0\nh: False\n"
                            "i: \"yes\"\nj: !!str 010\nk: 1e3\n")
    assert problems == []
    assert data == {"a": Decimal("29.00"), "b": -3, "c": None, "d": True, "e": "010", "f": "2026-10-28",
                    "g": 0, "h": False, "i": "yes", "j": "010", "k": "1e3"}
    assert str(data["a"]) == "29.00"  # type: ignore[index]


@pytest.mark.parametrize(("text", "message"), [
    ("a: .inf\n", "f.yaml:1: a: .inf is not a finite number"),
    ("a: " + "9" * 30 + "\n", "f.yaml:1: a: a 30-digit number is not a billing value; quote it if it is text"),
    ("a: !!int 5\n", "f.yaml:1: a: unsupported YAML tag tag:yaml.org,2002:int; remove the tag"),
    ("a: !!python/object:os.system x\n", "f.yaml:1: a: unsupported YAML tag tag:yaml.org,2002:python/object"),
    ("a: !!set {x}\n", "f.yaml:1: a: unsupported YAML tag tag:yaml.org,2002:set; remove the tag"),
])
def test_other_forms_are_refused(text: str, message: str) -> None:
    _, problems = parsed(text)
    assert len(problems) == 1 and problems[0].startswith(message), problems


def test_merge_keys_are_built_here_with_yaml_precedence() -> None:
    data, problems = parsed("a: &a {x: 1, y: 1}\nb: &b {x: 2, z: 2}\nc:\n  <<: [*a, *b]\n  y: 3\n")
    assert problems == []
    assert data["c"] == {"x": 1, "y": 3, "z": 2}  # type: ignore[index]


def test_a_merge_of_something_not_a_mapping_is_a_problem() -> None:
    data, problems = parsed("a:\n  x: 1\n  <<: 5\n")
    assert data == {"a": {"x": 1}}
    assert problems == ["f.yaml:3: a.<<: a merge key (<<) takes a mapping or a list of mappings, like "
                        "`<<: *defaults`"]


@pytest.mark.parametrize("text", ["a: &x [*x]\n", "a: &a {<<: *a}\n", "a: &a\n  b: *a\n"])
def test_recursive_aliases_are_a_problem_not_a_recursion_error(text: str) -> None:
    data, problems = parsed(text)
    assert data is None
    assert len(problems) == 1 and "an alias refers to a node that contains it" in problems[0]


def _merge_bomb() -> str:
    """The 420-byte shape that took 3.7 GB: each level merges ten copies of the last."""
    text = "l0: &l0 {" + ", ".join(f"k{i}: {i}" for i in range(10)) + "}\n"
    for level in range(1, 9):
        text += f"l{level}: &l{level} {{<<: [{', '.join([f'*l{level - 1}'] * 10)}], y: 1}}\n"
    return text


def _alias_bomb() -> str:
    text = "a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
    return text + "".join(f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]\n" for n in range(1, 10))


@pytest.mark.parametrize("text", [_merge_bomb(), _alias_bomb()])
def test_expansion_counts_against_the_node_budget(text: str) -> None:
    data, problems = parsed(text)
    assert data is None
    assert len(problems) == 1
    assert f"more than {sources.MAX_NODES} values once aliases and merge keys are expanded" in problems[0]


@pytest.mark.parametrize(("text", "line"), [("- 1\n" * 1001, 1000), ("[" + "1, " * 1001 + "]", 1)])
def test_plain_documents_count_too(monkeypatch: pytest.MonkeyPatch, text: str, line: int) -> None:
    monkeypatch.setattr(strict_yaml, "MAX_NODES", 1000)  # the real budget costs a second to reach
    data, problems = parsed(text)
    assert data is None
    assert problems == [f"f.yaml:{line}: (document): more than 1000 values once aliases and merge keys are "
                        "expanded (an alias bomb?); write the values out or split the file"]


@pytest.mark.parametrize("text", ["a: " + "[" * 5000 + "]" * 5000, "a:\n" + "".join(
    "  " * depth + f"k{depth}:\n" for depth in range(1, 60)), "a: " + "{b: " * 40 + "1" + "}" * 40])
def test_deep_nesting_is_a_problem_not_a_recursion_error(text: str) -> None:
    data, problems = parsed(text)
    assert data is None
    assert len(problems) == 1 and f"nested more than {sources.MAX_DEPTH} levels deep" in problems[0]


def test_aliases_cannot_build_depth_the_composer_never_saw() -> None:
    text = "a0: &a0 {x: 1}\n" + "".join(f"a{n}: &a{n} {{x: *a{n - 1}}}\n" for n in range(1, 40))
    data, problems = parsed(text)
    assert data is None and f"nested more than {sources.MAX_DEPTH} levels deep" in problems[0]


def test_a_trailing_newline_in_a_key_or_value_passes_no_pattern(project: Project) -> None:
    catalog = CATALOG.replace("  enterprise:\n", '  "enterprise\\n":\n').replace(
        "path: /webhook/stripe", 'path: "/webhook/stripe\\n"').replace(
        "    headline: Manage your subscription\n",
        '    headline: Manage your subscription\n    privacy_policy_url: "https://example.com/p\\n"\n')
    project.catalog(catalog)
    with pytest.raises(ConfigError) as caught:
        load_deployment("test", project.root, stack_config("test", **{"billing:domain": "a.example.com\n"}).get)
    message = caught.value.render()
    assert r"plans.enterprise\n: 'enterprise\n' is not a lowercase slug" in message
    assert r"webhook.path: '/webhook/stripe\n' is not a plain URL path" in message
    assert r"privacy_policy_url: 'https://example.com/p\n' is not an https URL" in message
    assert r"billing:domain: 'a.example.com\n' is not a lowercase DNS host name" in message


# Arabic-Indic and fullwidth digits, which Decimal() reads, and whitespace around the number.
@pytest.mark.parametrize("amount", ['"\u0662\u0669.\u0660\u0660"', '"29.00\\n"', '" 29.00"', '"\uff12\uff19"'])
def test_amounts_are_ascii_digits_exactly(project: Project, amount: str) -> None:
    project.catalog(CATALOG.replace('amount: "29.00"', f"amount: {amount}"))
    with pytest.raises(ConfigError) as caught:
        load_deployment("test", project.root, stack_config("test").get)
    assert "plans.pro.prices.monthly.amount: " in caught.value.render()
    assert "is not a decimal amount; write it like \"29.00\"" in caught.value.render()


def test_files_are_refused_above_the_size_cap_before_they_are_read(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# " + b"x" * sources.MAX_BYTES)
    assert [p.message for p in sources.read(big).problems] == [
        "larger than 1024 KiB; no billing file is that big: check the path"]


@pytest.mark.parametrize("make", ["device", "fifo", "directory"])
def test_only_regular_files_are_read(tmp_path: Path, make: str) -> None:
    path = Path("/dev/zero")
    if make == "fifo":
        path = tmp_path / "pipe.yaml"
        os.mkfifo(path)  # opening it for reading would wait for a writer forever
    elif make == "directory":
        path = tmp_path
    problems = sources.read(path).problems
    assert [p.message for p in problems] == [
        "not a regular file (a device, pipe or directory); pass the path of the file itself"]


def test_text_that_is_not_utf8_is_a_problem_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"plans:\n  pro:\n    name: Caf\xe9\n")
    assert [str(p) for p in sources.read(path, "latin1.yaml").problems] == [
        "latin1.yaml:3: (file): not UTF-8 text; save the file as UTF-8"]


@pytest.mark.parametrize(("text", "error"), [
    ('{"a": 1, "a": 2}', "a JSON object has the same key twice; keep one"),
    ("[NaN]", "holds a number that is not finite or far too long"),
    ("1" * 5000, "holds a number that is not finite or far too long"),
    ("[" * 100_000 + "]" * 100_000, f"nested more than {sources.MAX_DEPTH} levels deep"),
    ("[" * 40 + "]" * 40, f"nested more than {sources.MAX_DEPTH} levels deep"),
    ("{not json", "not valid JSON (Expecting property name enclosed in double quotes at line 1, column 2)"),
])
def test_json_is_read_with_the_same_rules(text: str, error: str) -> None:
    value, found = sources.parse_json(text)
    assert value is None and found is not None and found.startswith(error)


def test_json_numbers_are_exact() -> None:
    assert sources.parse_json('{"a": 29.10, "b": [1, "x", null]}') == (
        {"a": Decimal("29.10"), "b": [1, "x", None]}, None)
