"""The GitHub workflows: valid against GitHub's schema (offline), with the triggers and gates promised."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO

WORKFLOWS = REPO / ".github" / "workflows"


def load(name: str) -> dict[str, Any]:
    data: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads a bare `on` as true
    return data


def validate(*paths: Path) -> subprocess.CompletedProcess[str]:
    # check-jsonschema ships GitHub's workflow schema, so this needs no network.
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema",
                           "vendor.github-workflows", *map(str, paths)], capture_output=True, text=True,
                          check=False)


def test_every_workflow_passes_githubs_schema() -> None:
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {f.name for f in files} == {"pull-request.yml", "deploy.yml", "drift.yml"}
    done = validate(*files)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text((WORKFLOWS / "drift.yml").read_text().replace("runs-on: ubuntu-latest", "runs_on: x"))
    assert validate(broken).returncode != 0


def steps(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if str(s.get("uses", "")).startswith(action)]


def test_pull_requests_test_diff_and_preview_both_stacks_with_the_policy_pack() -> None:
    flow = load("pull-request.yml")
    assert set(flow["on"]) == {"pull_request"}
    assert flow["permissions"]["pull-requests"] == "write"
    jobs = flow["jobs"]
    assert any(s.get("run") == "make test" for s in jobs["test"]["steps"])
    diff = "\n".join(str(s.get("run", "")) for s in jobs["billing-diff"]["steps"])
    assert 'python -m infra diff --base "origin/${{ github.base_ref }}" --format markdown' in diff
    assert "$GITHUB_STEP_SUMMARY" in diff and "gh pr comment" in diff
    assert steps(jobs["billing-diff"], "actions/checkout")[0]["with"]["fetch-depth"] == 0
    preview = jobs["preview"]
    assert preview["strategy"]["matrix"]["stack"] == ["test", "live"]
    action = steps(preview, "pulumi/actions")[0]["with"]
    assert action["command"] == "preview" and action["comment-on-pr"] is True
    assert action["policyPacks"] == "policies"
    assert flow["env"] == {"PULUMI_CONFIG_PASSPHRASE": "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}",
                           "PULUMI_BACKEND_URL": "${{ secrets.PULUMI_BACKEND_URL }}"}


def test_main_updates_test_and_live_waits_for_test_or_a_person_and_the_live_environment() -> None:
    flow = load("deploy.yml")
    assert flow["on"]["push"]["branches"] == ["main"] and "workflow_dispatch" in flow["on"]
    test, live = flow["jobs"]["test"], flow["jobs"]["live"]
    assert steps(test, "pulumi/actions")[0]["with"]["command"] == "up"
    assert steps(test, "pulumi/actions")[0]["with"]["stack-name"] == "test"
    assert live["environment"] == "live" and live["needs"] == "test"
    assert "needs.test.result == 'success'" in live["if"] and "workflow_dispatch" in live["if"]
    up = steps(live, "pulumi/actions")[0]["with"]
    assert (up["command"], up["stack-name"]) == ("up", "live")
    assert flow["concurrency"]["cancel-in-progress"] is False


@pytest.mark.parametrize("key", ["refresh", "expect-no-changes"])
def test_nightly_drift_preview_of_live_fails_on_any_change(key: str) -> None:
    flow = load("drift.yml")
    assert flow["on"]["schedule"][0]["cron"] and "workflow_dispatch" in flow["on"]
    preview = steps(flow["jobs"]["live"], "pulumi/actions")[0]["with"]
    assert (preview["command"], preview["stack-name"]) == ("preview", "live")
    assert preview[key] is True
