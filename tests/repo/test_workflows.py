"""The GitHub workflows, read as GitHub would run them: schema-valid, and per job the property promised.

Properties asserted from the parsed files: which GitHub environment each job runs
in (live secrets only inside `live`, which no pull-request job enters), the policy
pack's virtualenv built before every Pulumi step that uses it, state-backend
credentials (Pulumi Cloud token, or AWS through OIDC), the billing-diff comment
found by its own marker, and a diff gate that passes only on OK and FINDINGS. The
comment and gate scripts are run with bash against a stand-in `gh`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.commands.diff.command import MARKER
from infra.core import exits
from tests.support.repository import REPO

WORKFLOWS = REPO / ".github" / "workflows"
SETUP = REPO / ".github" / "actions" / "stack-setup" / "action.yml"
SETUP_USES = "./.github/actions/stack-setup"
STACK_ENV = {"PULUMI_BACKEND_URL": "${{ vars.PULUMI_BACKEND_URL }}",
             "PULUMI_ACCESS_TOKEN": "${{ secrets.PULUMI_ACCESS_TOKEN }}",
             "PULUMI_CONFIG_PASSPHRASE": "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"}
SAME_REPO = "github.event.pull_request.head.repo.full_name == github.repository"
BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"]  # how a `run:` step runs on Linux


def load(path: Path) -> dict[str, Any]:
    data: dict[Any, Any] = yaml.safe_load(path.read_text())
    if True in data:
        data["on"] = data.pop(True)  # YAML 1.1 reads a bare `on` as true
    return data


def workflows() -> dict[str, dict[str, Any]]:
    return {path.name: load(path) for path in sorted(WORKFLOWS.glob("*.yml"))}


def jobs() -> list[tuple[str, str, dict[str, Any]]]:
    return [(name, job_name, job) for name, flow in workflows().items() for job_name, job in flow["jobs"].items()]


def steps(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if str(s.get("uses", "")).startswith(action)]


def secrets_used(node: Any) -> set[str]:
    """Every `secrets.X` a job reads, other than the job's own GITHUB_TOKEN."""
    return set(re.findall(r"secrets\.([A-Za-z0-9_]+)", json.dumps(node))) - {"GITHUB_TOKEN"}


def validate(schema: str, *paths: Path) -> subprocess.CompletedProcess[str]:
    # check-jsonschema ships GitHub's schemas, so this needs no network.
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema,
                           *map(str, paths)], capture_output=True, text=True, check=False)


def test_every_workflow_and_the_setup_action_pass_githubs_schema() -> None:
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {f.name for f in files} == {"pull-request.yml", "deploy.yml", "drift.yml"}
    done = validate("vendor.github-workflows", *files)
    assert done.returncode == 0, done.stdout + done.stderr
    done = validate("vendor.github-actions", SETUP)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text((WORKFLOWS / "drift.yml").read_text().replace("runs-on: ubuntu-latest", "runs_on: x"))
    assert validate("vendor.github-workflows", broken).returncode != 0


# -- live secrets stay in `live` ------------------------------------------------------------------

def test_no_workflow_hands_secrets_to_every_job_or_runs_pull_request_target() -> None:
    for name, flow in workflows().items():
        assert not secrets_used(flow.get("env", {})), name
        assert "pull_request_target" not in flow["on"], name  # base-repo secrets with a PR's code


def test_a_job_reads_secrets_only_inside_a_github_environment() -> None:
    for name, job_name, job in jobs():
        if secrets_used(job):
            assert job.get("environment") in ("test", "live"), f"{name}:{job_name}"


def test_no_pull_request_job_can_reach_a_live_secret() -> None:
    flow = workflows()["pull-request.yml"]
    assert set(flow["on"]) == {"pull_request"}
    for job_name, job in flow["jobs"].items():
        environment = job.get("environment")
        assert environment in (None, "test"), job_name
        if environment is None:
            assert not secrets_used(job), job_name
        else:
            assert job["if"] == SAME_REPO  # a fork gets no environment secrets: skip, do not fail
    assert not any(s.get("with", {}).get("stack-name") == "live" for _, job in flow["jobs"].items()
                   for s in job["steps"])


def test_the_live_stack_is_touched_only_by_jobs_in_the_live_environment() -> None:
    for name, job_name, job in jobs():
        for step in steps(job, "pulumi/actions"):
            assert job.get("environment") == step["with"]["stack-name"], f"{name}:{job_name}"


# -- every Pulumi step: policy venv first, backend credentials ---------------------------------------

def pulumi_jobs() -> list[tuple[str, dict[str, Any]]]:
    return [(f"{name}:{job_name}", job) for name, job_name, job in jobs() if steps(job, "pulumi/actions")]


def test_there_are_four_pulumi_jobs() -> None:
    assert sorted(name for name, _ in pulumi_jobs()) == [
        "deploy.yml:live", "deploy.yml:test", "drift.yml:live", "pull-request.yml:preview-test"]


@pytest.mark.parametrize("where", [name for name, _ in pulumi_jobs()])
def test_each_pulumi_job_builds_the_policy_venv_first_and_has_backend_credentials(where: str) -> None:
    job = dict(pulumi_jobs())[where]
    uses = [str(s.get("uses", "")) for s in job["steps"]]
    pulumi_at = next(i for i, u in enumerate(uses) if u.startswith("pulumi/actions"))
    assert SETUP_USES in uses[:pulumi_at]  # builds policies/venv, see the next test
    action = steps(job, "pulumi/actions")[0]["with"]
    assert action["policyPacks"] == "policies"
    # Pulumi Cloud (token) or a state bucket (its URL, AWS through OIDC): the environment decides.
    assert job["env"] == STACK_ENV
    assert action["cloud-url"] == "${{ vars.PULUMI_BACKEND_URL }}"
    assert job["permissions"]["id-token"] == "write"
    setup = steps(job, SETUP_USES)[0]["with"]
    assert setup == {"backend-url": "${{ vars.PULUMI_BACKEND_URL }}", "aws-role-arn": "${{ vars.AWS_ROLE_ARN }}",
                     "aws-region": "${{ vars.AWS_REGION }}"}


def test_the_setup_action_builds_the_policy_venv_and_assumes_the_role_only_for_s3() -> None:
    setup = load(SETUP)["runs"]["steps"]
    runs = [str(s.get("run", "")) for s in setup]
    assert "make venv policy-venv" in runs
    aws = next(s for s in setup if str(s.get("uses", "")).startswith("aws-actions/configure-aws-credentials"))
    assert aws["if"] == "startsWith(inputs.backend-url, 's3://')"
    assert aws["with"] == {"role-to-assume": "${{ inputs.aws-role-arn }}", "aws-region": "${{ inputs.aws-region }}"}
    # The Makefile target builds policies/venv from policies/requirements.txt (tests/repo/test_makefile.py).
    assert "policy-venv: $(POLICY_VENV)/.installed" in (REPO / "Makefile").read_text()


def check_script() -> str:
    return next(s["run"] for s in load(SETUP)["runs"]["steps"] if s.get("name", "").startswith("Check"))


@pytest.mark.parametrize(("env", "missing"), [
    ({"BACKEND": "", "PULUMI_ACCESS_TOKEN": "t", "PULUMI_CONFIG_PASSPHRASE": "p"}, []),
    ({"BACKEND": "s3://state?region=eu-west-1", "ROLE": "arn:aws:iam::1:role/r", "REGION": "eu-west-1",
      "PULUMI_CONFIG_PASSPHRASE": "p"}, []),
    ({"BACKEND": "", "PULUMI_CONFIG_PASSPHRASE": "p"}, ["secret PULUMI_ACCESS_TOKEN"]),
    ({"BACKEND": "s3://state", "PULUMI_ACCESS_TOKEN": "t"},
     ["secret PULUMI_CONFIG_PASSPHRASE", "variable AWS_ROLE_ARN", "variable AWS_REGION"]),
])
def test_the_setup_names_what_the_environment_lacks(env: dict[str, str], missing: list[str]) -> None:
    done = subprocess.run([*BASH, check_script()], env={"PATH": os.environ["PATH"], **env},
                          capture_output=True, text=True, timeout=30, check=False)
    errors = [line for line in done.stdout.splitlines() if line.startswith("::error::")]
    assert (done.returncode == 0) == (not missing)
    assert [e.split("has no ")[1].split(" (")[0] for e in errors] == missing
    assert all("Settings > Environments" in e for e in errors)
    assert "t" not in {word for e in errors for word in e.split()}  # names, never values


def test_ci_runs_the_lowest_python_the_project_declares() -> None:
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    setups = [s for _, _, job in jobs() for s in steps(job, "actions/setup-python")]
    setups += [s for s in load(SETUP)["runs"]["steps"] if str(s.get("uses", "")).startswith("actions/setup-python")]
    assert setups and {f">={s['with']['python-version']}" for s in setups} == {declared}


# -- what each workflow does -----------------------------------------------------------------------

def test_pull_requests_run_the_checks_the_diff_an_offline_live_plan_and_a_test_preview() -> None:
    flow = workflows()["pull-request.yml"]
    jobs_ = flow["jobs"]
    assert flow["permissions"] == {"contents": "read"}
    assert any(s.get("run") == "make test" for s in jobs_["test"]["steps"])
    runs = "\n".join(str(s.get("run", "")) for s in jobs_["billing-diff"]["steps"])
    assert '.venv/bin/billing diff --base "$BASE" --format markdown > billing-diff.md' in runs
    assert ".venv/bin/billing plan --stack live" in runs  # the live preview: offline, no secret
    assert steps(jobs_["billing-diff"], "actions/checkout")[0]["with"]["fetch-depth"] == 0
    assert jobs_["billing-diff"]["permissions"]["pull-requests"] == "write"
    preview = steps(jobs_["preview-test"], "pulumi/actions")[0]["with"]
    assert (preview["command"], preview["stack-name"], preview["comment-on-pr"]) == ("preview", "test", True)


def test_main_updates_test_then_live_after_an_approval_in_its_own_environment() -> None:
    flow = workflows()["deploy.yml"]
    assert flow["on"]["push"]["branches"] == ["main"] and "workflow_dispatch" in flow["on"]
    test, approve, live = (flow["jobs"][name] for name in ("test", "approve-live", "live"))
    assert (test["environment"], approve["environment"], live["environment"]) == ("test", "live-approval", "live")
    assert any(s.get("run") == "make test" for s in test["steps"])
    assert steps(test, "pulumi/actions")[0]["with"]["command"] == "up"
    assert approve["needs"] == "test" and "needs.test.result == 'success'" in approve["if"]
    assert "workflow_dispatch' && inputs.live" in approve["if"]
    assert not secrets_used(approve)  # the gate holds nothing
    assert live["needs"] == "approve-live" and "needs.approve-live.result == 'success'" in live["if"]
    assert (steps(live, "pulumi/actions")[0]["with"]["command"]) == "up"
    assert flow["concurrency"]["cancel-in-progress"] is False
    assert live["concurrency"] == {"group": "live-stack", "cancel-in-progress": False}


@pytest.mark.parametrize("key", ["refresh", "expect-no-changes"])
def test_nightly_drift_previews_live_in_the_live_environment_and_fails_on_any_change(key: str) -> None:
    flow = workflows()["drift.yml"]
    assert flow["on"]["schedule"][0]["cron"] and "workflow_dispatch" in flow["on"]
    job = flow["jobs"]["live"]
    assert job["environment"] == "live"
    assert job["concurrency"] == {"group": "live-stack", "cancel-in-progress": False}
    preview = steps(job, "pulumi/actions")[0]["with"]
    assert (preview["command"], preview["stack-name"]) == ("preview", "live")
    assert preview[key] is True


# -- the billing diff: its own comment, and a gate a crash cannot pass --------------------------------

def diff_step(prefix: str) -> dict[str, Any]:
    job = workflows()["pull-request.yml"]["jobs"]["billing-diff"]
    return next(s for s in job["steps"] if s.get("name", "").startswith(prefix))


@pytest.mark.parametrize("status", ["0", "1", "2", "3", "127", ""])
def test_the_gate_passes_only_ok_and_findings(status: str) -> None:
    step = diff_step("Gate")
    assert step["env"] == {"STATUS": "${{ steps.diff.outputs.status }}"}
    done = subprocess.run([*BASH, step["run"]], env={"PATH": os.environ["PATH"], "STATUS": status},
                          capture_output=True, text=True, timeout=30, check=False)
    passes = status in (str(exits.OK), str(exits.FINDINGS))
    assert (done.returncode == 0) == passes, done.stdout
    if status == str(exits.INTERNAL):
        assert "::error::billing diff crashed (exit 3)" in done.stdout


FAKE_GH = """#!/usr/bin/env python3
import json, os, sys
log = os.environ["GH_LOG"]
with open(log, "a") as f:
    f.write(json.dumps({"argv": sys.argv[1:], "stdin": "" if sys.stdin.isatty() else sys.stdin.read()}) + "\\n")
if sys.argv[1:3] == ["api", "--paginate"]:
    comments = json.loads(os.environ["GH_COMMENTS"])
    # Two pages, as --paginate prints them: one JSON array after another.
    print(json.dumps(comments[:1]) + json.dumps(comments[1:]))
"""


def post_comment(tmp_path: Path, comments: list[dict[str, Any]], report: str) -> list[dict[str, Any]]:
    if shutil.which("jq") is None:
        pytest.skip("jq is not installed (GitHub's runners have it)")
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    (bin_ / "gh").write_text(FAKE_GH)
    (bin_ / "gh").chmod(0o755)
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    (tmp_path / "billing-diff.md").write_text(report)
    log = tmp_path / "gh.log"
    env = {"PATH": f"{bin_}:{os.environ['PATH']}", "GH_LOG": str(log), "GH_COMMENTS": json.dumps(comments),
           "GITHUB_REPOSITORY": "acme/app", "PR": "7", "STATUS": "2", "PYTHONPATH": str(REPO)}
    done = subprocess.run([*BASH, diff_step("Post")["run"]], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_the_diff_updates_its_own_comment_not_the_bots_last_one(tmp_path: Path) -> None:
    report = f"{MARKER}\n## Billing diff against `origin/main`\n"
    comments = [  # the bot's first and last comments are Pulumi previews; ours is between
        {"id": 10, "user": {"login": "github-actions[bot]"}, "body": "#### :tropical_drink: `preview` on test"},
        {"id": 11, "user": {"login": "github-actions[bot]"}, "body": f"{MARKER}\nold diff"},
        {"id": 12, "user": {"login": "someone"}, "body": f"{MARKER}\na person quoting it"},
        {"id": 13, "user": {"login": "github-actions[bot]"}, "body": "#### :tropical_drink: `preview` on test"},
    ]
    calls = post_comment(tmp_path, comments, report)
    assert calls[0]["argv"] == ["api", "--paginate", "repos/acme/app/issues/7/comments"]
    assert calls[1]["argv"] == ["api", "--method", "PATCH", "repos/acme/app/issues/comments/11", "--input", "-"]
    assert json.loads(calls[1]["stdin"]) == {"body": report}
    assert len(calls) == 2


def test_the_first_diff_creates_its_comment_and_a_failed_run_still_says_so(tmp_path: Path) -> None:
    preview = {"id": 13, "user": {"login": "github-actions[bot]"}, "body": "a Pulumi preview"}
    calls = post_comment(tmp_path, [preview], report="")  # the command wrote nothing: it failed
    assert calls[-1]["argv"] == ["pr", "comment", "7", "--body-file", "billing-diff.md"]
    body = (tmp_path / "billing-diff.md").read_text()
    assert body.startswith(MARKER + "\n") and "exited with 2 and wrote no report" in body


def test_every_pulumi_step_runs_the_one_tested_cli_and_readme_states_the_minimum() -> None:
    pinned = {step["with"].get("pulumi-version") for _, job in pulumi_jobs()
              for step in steps(job, "pulumi/actions")}
    assert len(pinned) == 1, pinned  # one version everywhere, never the action's floating ^3
    (version,) = pinned
    assert tuple(map(int, str(version).split("."))) >= (3, 174)  # imports then updates in place from 3.174
    readme = (REPO / "docs" / "getting-started.md").read_text()  # step 5
    assert f"Pulumi CLI {version}" in readme and "3.174 or newer" in readme
    assert f"Pulumi CLI ({version}" in (REPO / "README.md").read_text()  # and the front door says which ran
