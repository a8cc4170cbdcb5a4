"""README is what a newcomer follows: its stack file validates, and it agrees with the code on what is secret.

The stack-file snippet is written into a fresh project exactly as README shows it.
"""

from __future__ import annotations

import re
import tomllib

import yaml

from infra import cli
from infra.catalog.guards import APP_KEY, DEPLOYER_KEY, PUBLISHABLE_KEY, SECRET_KEYS, WEBHOOK_SECRET
from tests.conftest import REPO, Project, run_cli
from tests.test_repository_hygiene import KEY_SHAPES

README = (REPO / "README.md").read_text()


def stack_file_snippet() -> str:
    marker = "<!-- stack file after step 7: Pulumi.test.yaml"
    after = README[README.index(marker):]
    match = re.search(r"```yaml\n(.*?)```", after, re.DOTALL)
    assert match, "the yaml block after the marker"
    return match.group(1)


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


def secret_table() -> dict[str, str]:
    section = README[README.index("## What is secret"):]
    section = section[: section.index("\n## ")]
    kinds: dict[str, str] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if line.startswith("| `") and len(cells) == 3:
            for name in re.findall(r"`([^`]+)`", cells[0]):
                kinds[name] = cells[1]
    return kinds


def test_readme_keys_and_the_code_agree_on_what_is_secret() -> None:
    kinds = secret_table()
    assert {name for name, kind in kinds.items() if kind == "secret"} == {*SECRET_KEYS, WEBHOOK_SECRET}
    assert kinds[PUBLISHABLE_KEY] == "public"
    code, out, _ = run_cli("keys", "--stack", "test")
    assert code == 0
    stores = re.findall(r"`pulumi config set( --secret)? (\S+) ", out)
    # The test stack writes to Vercel: its host token is vercel:apiToken.
    assert {key for flag, key in stores if flag} == {DEPLOYER_KEY, APP_KEY, "vercel:apiToken"}
    assert {key for flag, key in stores if not flag} == {PUBLISHABLE_KEY}


def test_every_billing_command_in_readme_exists() -> None:
    known = set(cli._parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    # As typed: at the start of a line in a code block, or after a backtick.
    used = set(re.findall(r"(?:^|`)billing ([a-z]+)\b", README, re.MULTILINE))
    assert used <= known, used - known
    assert {"validate", "plan", "keys", "verify", "pull", "diff"} <= used
    assert "python -m infra plan" not in README and ".venv/bin/python -m infra" not in README


def test_readme_asks_for_the_python_the_project_declares() -> None:
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    assert declared == ">=3.11" and "Python 3.11 or newer" in README
