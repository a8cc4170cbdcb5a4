"""README and docs/ are what a newcomer follows: the stack file they show validates, and they agree with the
code on what is secret and which commands exist.

The stack-file snippet (docs/getting-started.md, step 7) is written into a fresh project exactly as shown.
"""

from __future__ import annotations

import re
import tomllib

import pytest
import yaml

from infra import cli
from infra.catalog.guards import APP_KEY, DEPLOYER_KEY, PUBLISHABLE_KEY, SECRET_KEYS, WEBHOOK_SECRET
from tests.support.project import Project, run_cli
from tests.support.repository import DOCS, KEY_SHAPES, REPO, doc, stack_file_snippet

pytestmark = pytest.mark.pure

README = doc("README.md")


def test_the_stack_file_readme_shows_validates_in_a_fresh_project(project: Project) -> None:
    text = stack_file_snippet()
    project.stack("test", text)
    code, out, err = run_cli("validate", "--stack", "test", "--project", str(project.root))
    assert code == 0, err
    assert out.startswith("ok: stack 'test' (test mode): 3 plans (2 paid), 3 prices")
    # The publishable key is used as written; the sealed secrets get placeholders.
    assert "billing:publishableKey" not in out and "stripe:apiKey" in out
    config = yaml.safe_load(text)["config"]
    assert isinstance(config[PUBLISHABLE_KEY], str) and config[PUBLISHABLE_KEY].startswith("pk_test_")
    assert {key for key in SECRET_KEYS if key in config} == {DEPLOYER_KEY, APP_KEY, "vercel:apiToken"}
    assert all(set(config[key]) == {"secure"} for key in SECRET_KEYS if key in config)
    assert not KEY_SHAPES.search(text)  # committing it would pass the hygiene scan


def secret_table(text: str) -> dict[str, str]:
    section = text[text.index("## What is secret"):]
    section = section[: section.index("\n## ")]
    kinds: dict[str, str] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if line.startswith("| `") and len(cells) == 3:
            for name in re.findall(r"`([^`]+)`", cells[0]):
                kinds[name] = cells[1]
    return kinds


# README's table and the full page's: both must say what the code does.
@pytest.mark.on_the_repository
@pytest.mark.parametrize("name", ["README.md", "docs/keys-and-guards.md"])
def test_readme_keys_and_the_code_agree_on_what_is_secret(name: str) -> None:
    kinds = secret_table(doc(name))
    assert {name for name, kind in kinds.items() if kind == "secret"} == {*SECRET_KEYS, WEBHOOK_SECRET}
    assert kinds[PUBLISHABLE_KEY] == "public"
    code, out, _ = run_cli("keys", "--stack", "test")
    assert code == 0
    stores = re.findall(r"`pulumi config set( --secret)? (\S+) ", out)
    # The test stack writes to Vercel: its host token is vercel:apiToken.
    assert {key for flag, key in stores if flag} == {DEPLOYER_KEY, APP_KEY, "vercel:apiToken"}
    assert {key for flag, key in stores if not flag} == {PUBLISHABLE_KEY}


def commands_used(text: str) -> set[str]:
    # As typed: at the start of a line in a code block, or after a backtick.
    return set(re.findall(r"(?:^|`)billing ([a-z][a-z-]*)\b", text, re.MULTILINE))


@pytest.mark.parametrize("name", DOCS)
def test_every_billing_command_in_readme_exists(name: str) -> None:
    known = set(cli._parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    text = doc(name)
    used = commands_used(text)
    assert used <= known, used - known
    assert "python -m infra plan" not in text and ".venv/bin/python -m infra" not in text


def test_readme_s_table_of_commands_names_every_command() -> None:
    known = set(cli._parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    assert {"validate", "plan", "keys", "verify", "pull", "diff"} <= commands_used(README)
    table = README[README.index("## Commands"):]
    table = table[: table.index("\n## ")]
    assert commands_used(table) == known


def test_readme_asks_for_the_python_the_project_declares() -> None:
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    assert declared == ">=3.11" and "Python 3.11 or newer" in README
