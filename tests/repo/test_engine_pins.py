"""tools/engine.py, the real-engine build: its pins agree with the rest of the repository,
and it repeats a module's remote `replace` directives and nothing else."""

from __future__ import annotations

from types import ModuleType

import pytest
import yaml

from tests.engine.harness import _tools
from tests.support.repository import REPO

pytestmark = pytest.mark.pure


def _engine() -> ModuleType:
    return _tools()  # a fresh load each call: a test may change its constants


def test_the_engine_tests_run_the_cli_the_workflows_pin() -> None:
    engine = _engine()
    pinned = set()
    for path in (REPO / ".github" / "workflows").glob("*.yml"):
        for job in (yaml.safe_load(path.read_text()) or {}).get("jobs", {}).values():
            for step in job.get("steps", []):
                version = (step.get("with") or {}).get("pulumi-version")
                if version:
                    pinned.add(str(version))
    assert pinned == {engine.CLI_VERSION}
    engine.check_pins()  # at least 3.174 and no older than the SDK in requirements.txt


def test_plugin_versions_come_from_requirements() -> None:
    engine = _engine()
    text = (REPO / "requirements.txt").read_text()
    versions = engine.versions()
    assert f"pulumi-stripe=={versions['stripe']}\n" in text
    assert f"pulumiverse-vercel=={versions['vercel']}\n" in text
    assert f"pulumi=={versions['pulumi-sdk']}\n" in text


def test_a_cli_older_than_3_174_is_refused() -> None:
    engine = _engine()
    engine.CLI_VERSION = "3.173.0"
    try:
        engine.check_pins()
    except engine.EngineError as error:
        assert "3.174" in str(error)
    else:
        raise AssertionError("an old CLI was accepted")


def test_only_remote_replaces_are_repeated() -> None:
    go_mod = """module github.com/pulumi/pulumi/pkg/v3

go 1.25

replace github.com/pulumi/pulumi/sdk/v3 => ../sdk

replace (
\tgithub.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e // fork
\tgithub.com/xanzy/ssh-agent v0.3.0 => github.com/pulumi/ssh-agent v0.5.1
\tgithub.com/local/thing => ./thing
)

require github.com/spf13/cobra v1.10.2
"""
    assert _engine().remote_replaces(go_mod) == [
        "github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e",
        "github.com/xanzy/ssh-agent => github.com/pulumi/ssh-agent v0.5.1",
    ]
