"""Stacks hosted on Cloudflare Workers: the whole program, validate, the policy pack, diff and verify."""

from __future__ import annotations

import base64
import json
import subprocess
from typing import Any

import pytest

from infra.catalog import load_deployment
from infra.catalog.stack_config import from_stack
from infra.clients.cloudflare_api import WorkerSecrets
from infra.commands.plan import offline
from infra.hosts.cloudflare import WORKER_SECRET
from infra.probes.cloudflare import run as verify_cloudflare
from tests.servers.cloudflare_api_server import CloudflareServer, WorkerAccount
from tests.support.cloudflare_stacks import (
    ACCOUNT,
    CF_TOKEN,
    RUNBOOK,
    RUNBOOK_CATALOG,
    SCRIPTS,
    refusal,
    stack_file,
)
from tests.support.mock_program import SIGNING_SECRET, plain, run
from tests.support.policy_pack import violations
from tests.support.project import VERCEL_PROJECT, Project, credentials, run_cli
from tests.support.repository import CATALOG


@pytest.fixture
def workers(project: Project) -> Project:
    project.catalog(RUNBOOK_CATALOG)
    for mode in ("test", "live"):
        project.stack(mode, stack_file(mode))
    return project


def plan_of(project: Project, stack: str, **config: str) -> offline.Plan:
    return run(project, stack, **{"cloudflare:apiToken": CF_TOKEN, **config})


def secrets(plan: offline.Plan) -> dict[str, offline.Registration]:
    found = {}
    for registration in plan.of_type(WORKER_SECRET):
        assert registration.inputs["name"] not in found
        found[registration.inputs["name"]] = registration
    return found


@pytest.mark.parametrize("stack", ["test", "live"])
def test_each_stack_writes_the_runbook_values_to_its_own_script(workers: Project, stack: str) -> None:
    plan = plan_of(workers, stack)
    script = SCRIPTS[stack]
    found = secrets(plan)
    assert set(RUNBOOK) <= set(found)
    assert set(found) - set(RUNBOOK) == {"NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY"}
    for name, registration in found.items():
        inputs = plain(registration.inputs)
        assert registration.name == f"{script}-{name}"
        assert inputs["scriptName"] == script and inputs["accountId"] == ACCOUNT
        assert inputs["type"] == "secret_text"  # no plain values on a Worker
        assert inputs["value"] == offline.SECRET and inputs["__provider"] == offline.SECRET
        assert registration.parent.endswith("billing:cloudflare:Worker::hosting")
        assert not registration.protect
        # The same name is never written and then deleted by a replace (`--target-replace`).
        assert registration.delete_before_replace
    values = {name: r.inputs["value"]["value"] for name, r in found.items()}
    mine = credentials(stack)
    assert values["STRIPE_SECRET_KEY"] == mine["billing:appStripeKey"]
    assert values["STRIPE_WEBHOOK_SECRET"] == SIGNING_SECRET  # from the endpoint, never pasted
    assert values["STRIPE_PRICE_ID_PRO"] == "<pro-monthly.id>"
    assert values["STRIPE_PRICE_ID_ENTERPRISE"] == "<enterprise-monthly.id>"
    assert values["STRIPE_PORTAL_CONFIG_ID"] == "<portal.id>"
    other = "live" if stack == "test" else "test"
    assert not [name for name, value in values.items() if f"_{other}_" in value]
    assert mine["stripe:apiKey"] not in values.values()
    # No Vercel anywhere, and the API token in no registration, the stored provider included.
    assert not [r.type for r in plan.resources if "vercel" in r.type]
    assert CF_TOKEN not in json.dumps([r.inputs for r in plan.resources], default=str)
    stored = base64.b64decode(found["STRIPE_SECRET_KEY"].inputs["__provider"]["value"])
    assert CF_TOKEN.encode() not in stored
    assert plan.outputs["hostingVariables"] == {script: list(found)}
    # A secret edit deploys the Worker at once: nothing to redeploy, no warning.
    assert plan.outputs["redeployNeeded"] == [] and plan.notices == []


def test_test_and_live_never_write_the_same_script(workers: Project) -> None:
    test, live = plan_of(workers, "test"), plan_of(workers, "live")
    assert {r.inputs["scriptName"] for r in test.of_type(WORKER_SECRET)} == {"api-staging"}
    assert {r.inputs["scriptName"] for r in live.of_type(WORKER_SECRET)} == {"api"}


def test_validate_refuses_a_script_that_is_another_stacks(workers: Project) -> None:
    workers.stack("test", stack_file("test", script="api"))
    message = refusal(workers, "test")
    assert "Pulumi.test.yaml:6: billing:workerScript: 'api' is also the Worker script of stack 'live' " \
           "(Pulumi.live.yaml:6)" in message
    # The same name in another account is another Worker.
    workers.stack("live", stack_file("live").replace(ACCOUNT, "f" * 32))
    engine = from_stack(workers.root, "test", env={}, overrides={**credentials("test"), "cloudflare:apiToken": CF_TOKEN})
    assert load_deployment("test", workers.root, engine.get).settings.worker_script == "api"


def test_validate_names_each_cloudflare_setting_and_the_token(workers: Project) -> None:
    workers.stack("test", stack_file("test").replace("  billing:workerScript: api-staging\n", "")
                  + "  billing:vercelProject: prj_Test123\n")
    message = refusal(workers, "test", **{"cloudflare:apiToken": ""})
    assert "billing:workerScript: required field is missing (the stack's host is cloudflare); add " in message
    assert "billing:vercelProject: is a Vercel setting, but this stack's host is cloudflare" in message
    assert "cloudflare:apiToken: is not set: run `pulumi config set --secret cloudflare:apiToken " \
           "--stack test` (it asks for the value with echo off)" in message
    workers.stack("test", stack_file("test", script="API_Staging")
                  .replace(ACCOUNT, "acct-1"))
    message = refusal(workers, "test")
    # What cannot be a secret is quoted as typed (a token's shape would still be described).
    assert "billing:workerScript: 'API_Staging' is not a Worker name" in message
    assert "billing:cloudflareAccountId: 'acct-1' is not a Cloudflare account ID" in message
    workers.stack("test", stack_file("test").replace("host: cloudflare", "host: aws"))
    assert "billing:host: 'aws' is not a host this program writes to; use one of: vercel, " \
           "cloudflare" \
        in refusal(workers, "test")


def test_keys_checklist_names_the_worker_and_the_cloudflare_token(workers: Project) -> None:
    code, out, _ = run_cli("keys", "--stack", "live", "--project", str(workers.root))
    assert code == 0
    assert "the app, as STRIPE_SECRET_KEY on Cloudflare Workers (api)" in out
    assert "A Cloudflare API token with Account > Workers Scripts > Edit" in out
    assert "`pulumi config set --secret cloudflare:apiToken --stack live` (it asks for the token with echo off)" \
        in out
    assert "Vercel" not in out


@pytest.mark.parametrize("stack", ["test", "live"])
def test_the_policy_pack_judges_worker_secrets(workers: Project, stack: str) -> None:
    plan = plan_of(workers, stack)
    checked = [r for r in plan.resources if not r.type.startswith(("billing:", "pulumi:"))]
    assert all(violations(stack, r) == [] for r in checked), [violations(stack, r) for r in checked]
    secret = secrets(plan)["STRIPE_SECRET_KEY"]
    other = "live" if stack == "test" else "test"
    found = violations(stack, secret, props={"value": f"rk_{other}_" + "x" * 24})
    assert found == [f"hosting-secrets-scoped: STRIPE_SECRET_KEY on {SCRIPTS[stack]}: a rk_{other}_ key is "
                     f"written by a {stack} stack; each stack's script gets only its own mode's values"]
    assert any("is a secret_text" in v for v in violations(stack, secret, props={"type": "plain_text"}))


def git(project: Project, *argv: str) -> None:
    subprocess.run(["git", "-C", str(project.root), *argv], check=True, capture_output=True)


def test_diff_on_a_cloudflare_stack(project: Project) -> None:
    git(project, "init", "-q", "-b", "main")
    git(project, "-c", "user.email=ci@example.com", "-c", "user.name=CI", "add", "-A")
    git(project, "-c", "user.email=ci@example.com", "-c", "user.name=CI", "commit", "-qm", "vercel")
    vercel = (project.root / "Pulumi.test.yaml").read_text()
    project.stack("test", vercel.replace(f"  billing:vercelProject: {VERCEL_PROJECT}\n", (
        f"  billing:host: cloudflare\n  billing:cloudflareAccountId: {ACCOUNT}\n"
        "  billing:workerScript: api-staging\n")))
    code, out, _ = run_cli("diff", "--base", "main", "--stack", "test", "--project", str(project.root))
    assert code == 1, out
    assert (f"WARN  hosting: Vercel project {VERCEL_PROJECT} -> Worker script api-staging (account {ACCOUNT}): "
            "every value is written to the new place and deleted from the old one") in out
    git(project, "-c", "user.email=ci@example.com", "-c", "user.name=CI", "commit", "-qam", "cloudflare")
    project.catalog(CATALOG.replace('      yearly:  {amount: "290.00", currency: usd, interval: year}\n',
                                    '      yearly:  {amount: "290.00", currency: usd, interval: year}\n'
                                    '      weekly:  {amount: "9.00", currency: usd, interval: week}\n'))
    code, out, _ = run_cli("diff", "--base", "main", "--stack", "test", "--project", str(project.root))
    assert code == 1, out  # a new variable is a warning on every host
    assert "STRIPE_PRICE_PRO_WEEKLY is written to api-staging (no redeploy: api-staging reads it as soon as " \
           "`up` writes it) to sell it" in out
    assert "redeploy" not in out.replace("no redeploy", "")


@pytest.fixture
def account(workers: Project) -> WorkerAccount:
    made = WorkerAccount(ACCOUNT, CF_TOKEN)
    deployment = load_deployment("test", workers.root, from_stack(
        workers.root, "test", env={}, overrides={**credentials("test"), "cloudflare:apiToken": CF_TOKEN}).get)
    from infra.catalog import hosting
    made.script("api-staging", **{"CLERK_SECRET_KEY": "not ours"},
                **{v.name: "value" for v in hosting.variables(deployment.catalog)})
    return made


def verify(workers: Project) -> dict[str, Any]:
    deployment = load_deployment("test", workers.root, from_stack(
        workers.root, "test", env={}, overrides={**credentials("test"), "cloudflare:apiToken": CF_TOKEN}).get)
    return {c.name: c for c in verify_cloudflare(deployment, WorkerSecrets(CF_TOKEN))}


def test_verify_passes_when_the_script_holds_exactly_the_declared_secrets(
        workers: Project, account: WorkerAccount, cloudflare: CloudflareServer) -> None:
    found = verify(workers)
    assert {c.status for c in found.values()} == {"pass"}, found
    assert set(found) == {f"secret {name}" for name in [*RUNBOOK, "NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY"]}
    assert {method for method, _ in account.requests} == {"GET"}  # read-only


def test_verify_fails_on_a_missing_or_a_stale_secret(
        workers: Project, account: WorkerAccount, cloudflare: CloudflareServer) -> None:
    script = account.scripts["api-staging"]
    del script.secrets["STRIPE_WEBHOOK_SECRET"], script.types["STRIPE_WEBHOOK_SECRET"]
    account.script("api-staging", STRIPE_PRICE_ID_STARTER="price_old")
    found = verify(workers)
    assert found["secret STRIPE_WEBHOOK_SECRET"].status == "fail"
    assert "missing on api-staging" in found["secret STRIPE_WEBHOOK_SECRET"].meaning
    assert found["secret STRIPE_PRICE_ID_STARTER"].status == "fail"
    assert "left over on api-staging" in found["secret STRIPE_PRICE_ID_STARTER"].meaning
    assert "wrangler secret delete STRIPE_PRICE_ID_STARTER --name api-staging" in \
        found["secret STRIPE_PRICE_ID_STARTER"].fix
    assert "secret CLERK_SECRET_KEY" not in found  # the app's other secrets are not ours


def test_cli_verify_hosting_on_cloudflare(workers: Project, account: WorkerAccount, cloudflare: CloudflareServer,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CF_TOKEN)
    argv = ["verify", "hosting", "--stack", "test", "--project", str(workers.root), "--json"]
    code, out, err = run_cli(*argv)
    assert code == 0, out + err
    data = json.loads(out)
    assert data["target"] == f"hosting (Worker script api-staging (account {ACCOUNT}), stack test)"
    account.script("api-staging", **{"STRIPE_SECRET_KEY_OLD": "old"})
    code, out, err = run_cli(*argv)
    assert code == 1 and json.loads(out)["ok"] is False
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "wrong" + "T0ken" * 6)
    code, out, err = run_cli(*argv)
    assert code == 1 and "refused the token" in out
    assert CF_TOKEN not in out + err and "wrong" + "T0ken" not in out + err
