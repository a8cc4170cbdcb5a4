"""`python -m infra validate|plan` as a user runs them."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest

from infra.cli import main
from tests.conftest import REPO, Project, key


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    stderr, sys.stderr = sys.stderr, err
    try:
        code = main(list(argv), out=out)
    finally:
        sys.stderr = stderr
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("stack", ["test", "live"])
def test_both_committed_stacks_validate(stack: str) -> None:
    code, out, _ = run_cli("validate", "--stack", stack)
    assert code == 0
    assert out.startswith(f"ok: stack '{stack}' ({stack} mode): 3 plans (2 paid), 3 prices")


def test_validate_reports_problems_with_exit_2(project: Project) -> None:
    bad = project.catalog("plans:\n  Pro: {name: x}\nwebhook: {path: hook, events: []}\n")
    code, out, err = run_cli("validate", "--stack", "test", "--project", str(project.root),
                             "--catalog", str(bad))
    assert code == 2 and out == ""
    assert "stacks/catalog.yaml:2: plans.Pro: 'Pro' is not a lowercase slug" in err
    assert "webhook.path: 'hook' must start with '/'" in err
    assert "webhook.api_version: required field is missing" in err


def test_plan_text_says_it_is_offline_and_lists_resources() -> None:
    code, out, _ = run_cli("plan", "--stack", "test")
    assert code == 0
    assert "OFFLINE PLAN, not a provider preview" in out
    assert "+ stripe:index/price:Price  pro-monthly" in out
    assert "    unitAmount: 2900" in out
    assert '    apiKey: "[secret]"' in out
    assert "11 resources would be registered." in out


def test_plan_json_shape() -> None:
    code, out, _ = run_cli("plan", "--stack", "live", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["stack"] == "live" and data["offline"] is True
    kinds = {(r["type"], r["name"]) for r in data["resources"]}
    assert ("stripe:index/webhookEndpoint:WebhookEndpoint", "webhook") in kinds
    assert all(set(r) == {"type", "name", "inputs"} for r in data["resources"])
    assert data["outputs"]["webhookSigningSecret"] == "[secret]"


def test_plan_with_supplied_secret_never_prints_it() -> None:
    # The engine's own channel for config: PULUMI_CONFIG with the secret keys named.
    sentinel = key("rk", "test")
    env = dict(os.environ, PULUMI_CONFIG=json.dumps({"stripe:apiKey": sentinel}),
               PULUMI_CONFIG_SECRET_KEYS=json.dumps(["stripe:apiKey"]))
    for fmt in ("text", "json"):
        result = subprocess.run(
            [sys.executable, "-m", "infra", "plan", "--stack", "test", "--format", fmt],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False,
        )
        assert result.returncode == 0, result.stderr
        assert sentinel not in result.stdout + result.stderr
        assert sentinel[8:] not in result.stdout + result.stderr
        assert "use placeholders: stripe:apiKey" not in result.stdout  # the supplied key was used
        if fmt == "json":
            assert "stripe:apiKey" not in json.loads(result.stdout)["placeholders"]
        assert result.stderr == ""  # and nothing noisy on exit


def test_plan_refuses_a_key_of_the_wrong_mode_without_showing_it() -> None:
    sentinel = key("sk", "live")
    env = dict(os.environ, PULUMI_CONFIG=json.dumps({"stripe:apiKey": sentinel}))
    result = subprocess.run(
        [sys.executable, "-m", "infra", "plan", "--stack", "test"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 2
    assert "stripe:apiKey: the key is a live-mode key (sk_live_)" in result.stderr
    assert sentinel not in result.stdout + result.stderr


def test_malformed_pulumi_config_env_is_a_clean_error() -> None:
    env = dict(os.environ, PULUMI_CONFIG="{not json")
    result = subprocess.run(
        [sys.executable, "-m", "infra", "validate", "--stack", "test"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 2
    assert "PULUMI_CONFIG: (environment): is set but is not valid JSON" in result.stderr
    assert "Traceback" not in result.stderr
