"""`python -m infra validate|plan` as a user runs them."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import pytest

from tests.support.catalogs import OVERFLOWS_A_PIPE
from tests.support.project import Project, credentials, key, run_cli
from tests.support.repository import REPO

# What infra/catalog/placeholders.py says of each kind of shipped example.
EXAMPLE_MESSAGE = re.compile(r": is (an example domain|the repository's example ID|an example URL|"
                             r"the repository's sample coupon)")


@pytest.mark.on_the_repository
@pytest.mark.parametrize("stack", ["test", "live"])
def test_both_committed_stacks_validate(stack: str) -> None:
    code, out, err = run_cli("validate", "--stack", stack)
    if code == 0:
        assert out.startswith(f"ok: stack '{stack}' ({stack} mode): 3 plans (")
    else:
        # As shipped, live holds the repository's examples, and only those are refused; once a team
        # has filled in its own settings (README's live step) it validates.
        assert stack == "live" and code == 2, err
        problems = err.splitlines()[1:]
        assert problems and all(EXAMPLE_MESSAGE.search(line) for line in problems), err


def test_validate_reports_problems_with_exit_2(project: Project) -> None:
    bad = project.catalog("plans:\n  Pro: {name: x}\nwebhook: {path: hook, events: []}\n")
    code, out, err = run_cli("validate", "--stack", "test", "--project", str(project.root),
                             "--catalog", str(bad))
    assert code == 2 and out == ""
    assert "stacks/catalog.yaml:2: plans.Pro: 'Pro' is not a lowercase slug" in err
    assert "webhook.path: 'hook' must start with '/'" in err
    assert "webhook.api_version: required field is missing" in err


@pytest.mark.on_the_repository
def test_plan_text_says_it_is_offline_and_lists_resources() -> None:
    code, out, _ = run_cli("plan", "--stack", "test")
    assert code == 0
    assert "OFFLINE PLAN, not a provider preview" in out
    assert "+ stripe:index/price:Price  pro-monthly" in out
    assert "    unitAmount: 2900" in out
    assert '    apiKey: "[secret]"' in out
    # 9 Stripe resources, 2 providers, 2 components, 7 variables x (preview, development)
    assert "Summary: 27 resources would be registered" in out


def test_plan_json_shape(project: Project) -> None:
    code, out, _ = run_cli("plan", "--stack", "live", "--format", "json", "--project", str(project.root))
    assert code == 0
    data = json.loads(out)
    assert data["stack"] == "live" and data["offline"] is True
    kinds = {(r["type"], r["name"]) for r in data["resources"]}
    assert ("stripe:index/webhookEndpoint:WebhookEndpoint", "webhook-2026-10-28.endive") in kinds
    # Every Stripe resource of live is protected; nothing is adopted here.
    assert all(set(r) == {"type", "name", "inputs", "protect"} for r in data["resources"]
               if r["type"].startswith("stripe:"))
    assert all("adopts" not in r for r in data["resources"])
    assert data["outputs"]["webhookSigningSecret"] == "[secret]"
    variables = [r["inputs"] for r in data["resources"] if r["type"].startswith("vercel:index/")]
    assert len(variables) == 7
    assert all(v["targets"] == ["production"] and v["sensitive"] is True for v in variables)
    assert list(data["outputs"]["hostingVariables"]) == ["production"]


@pytest.mark.parametrize("stack", ["test", "live"])
def test_plan_with_supplied_secrets_never_prints_them(project: Project, stack: str) -> None:
    catalog = (REPO / "stacks" / "catalog.yaml").read_text()
    project.catalog(catalog + "hosting:\n  extra:\n    CLERK_SECRET_KEY: app:clerkSecretKey\n")
    # The engine's own channel for config: PULUMI_CONFIG with the secret keys named.
    sentinels = credentials(stack) | {"app:clerkSecretKey": "sk_" + "clerk" + "S3nt1nel" * 4}
    env = dict(os.environ, PULUMI_CONFIG=json.dumps(sentinels),
               PULUMI_CONFIG_SECRET_KEYS=json.dumps([k for k in sentinels if k != "billing:publishableKey"]))
    for fmt in ("text", "json"):
        result = subprocess.run(
            [sys.executable, "-m", "infra", "plan", "--stack", stack, "--format", fmt,
             "--project", str(project.root)],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False,
        )
        assert result.returncode == 0, result.stderr
        shown = result.stdout + result.stderr
        for name, sentinel in sentinels.items():
            assert sentinel not in shown, name
            assert sentinel[8:] not in shown, name
        assert "CLERK_SECRET_KEY" in shown  # the extra variable is planned, by name only
        assert "use placeholders" not in result.stdout  # every supplied value was used
        if fmt == "json":
            assert json.loads(result.stdout)["placeholders"] == []
        assert result.stderr == ""  # and nothing noisy on exit


@pytest.mark.on_the_repository
def test_keys_prints_both_checklists_for_the_stack_mode() -> None:
    code, out, _ = run_cli("keys", "--stack", "live")
    assert code == 0
    assert "1. The app key" in out and "2. The deployer key" in out
    assert out.count("Open https://dashboard.stripe.com/apikeys and click \"Create restricted key\"") == 2
    assert "Key name: billing-live-app" in out and "Key name: billing-live-deployer" in out
    app, deployer = out.split("2. The deployer key")
    assert "[ ] Checkout Sessions    Write" in app and "[ ] Prices               Read" in app
    assert "Webhook endpoints" in app.split("Leave every other resource at None")[1]
    assert "[ ] Webhook endpoints    Write" in deployer
    assert "Customers" in deployer.split("Leave every other resource at None")[1]
    assert "`pulumi config set --secret billing:appStripeKey --stack live` (it asks for the rk_live_... key " \
        "with echo off)" in app
    assert "`pulumi config set --secret stripe:apiKey --stack live` (it asks for the rk_live_... key with echo " \
        "off)" in deployer
    assert "rk_live_... --stack" not in app + deployer  # no secret ever typed on a command line
    # What is secret, as README says: every key but the publishable one, which is public.
    assert "`pulumi config set billing:publishableKey pk_live_... --stack live`" in deployer
    assert "It is public (it ships to browsers), so the stack file holds it in plain text" in deployer
    code, out, _ = run_cli("keys", "--stack", "test")
    assert "https://dashboard.stripe.com/test/apikeys" in out and "--stack test" in out


@pytest.mark.on_the_repository
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


@pytest.mark.on_the_repository
def test_malformed_pulumi_config_env_is_a_clean_error() -> None:
    env = dict(os.environ, PULUMI_CONFIG="{not json")
    result = subprocess.run(
        [sys.executable, "-m", "infra", "validate", "--stack", "test"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 2
    assert "PULUMI_CONFIG: (environment): not valid JSON (Expecting property name enclosed in double quotes " \
        "at line 1, column 2); fix it or unset it" in result.stderr
    assert "Traceback" not in result.stderr


def test_plan_piped_into_head_exits_quietly(project: Project) -> None:
    # A verbose plan that overflows the pipe after `head` has gone (the compact one of ~120 plans fit in
    # the pipe's buffer, so the plan could end before it ever met the closed pipe).
    project.catalog(OVERFLOWS_A_PIPE)
    result = subprocess.run(  # noqa: S602 (a shell pipeline is the point; no outside input)
        f"{sys.executable} -m infra plan --verbose --stack test --project {project.root} | head -1; "
        'echo "plan: ${PIPESTATUS[0]}"',
        shell=True, executable="/bin/bash", cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.stdout.startswith("Offline plan of stack 'test'")
    # It met the closed pipe and ended as any Unix tool does there: by SIGPIPE (128 + 13), quietly.
    assert result.stdout.splitlines()[-1] == f"plan: {128 + signal.SIGPIPE}"
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr
