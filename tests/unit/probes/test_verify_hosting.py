"""`verify hosting` against a Vercel-shaped API on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from infra.catalog import hosting
from infra.catalog.loader import load_deployment
from infra.clients.vercel_api import Vercel
from infra.core.checks import Check
from infra.hosts.vercel import TARGETS
from infra.probes import vercel as verify_hosting
from tests.servers.vercel_api_server import VercelProject, VercelServer, now_ms
from tests.support.project import Project, run_cli, stack_config

TOKEN = "vercel" + "T0ken" * 5


def variables(project: Project, mode: str) -> list[str]:
    deployment = load_deployment(mode, project.root, stack_config(mode).get)
    return [v.name for v in hosting.variables(deployment.catalog)]


def as_deployed(vercel: VercelProject, names: list[str], mode: str, updated: int) -> None:
    for target in TARGETS[mode]:
        for name in names:
            vercel.env(name, [target.name], target.sensitive, updated)


@pytest.fixture
def vercel() -> VercelProject:
    return VercelProject("prj_Test123", TOKEN)


@pytest.fixture
def server(vercel: VercelProject) -> Iterator[VercelServer]:
    with VercelServer(vercel) as running:
        yield running


def verify(project: Project, mode: str, server: VercelServer, token: str = TOKEN) -> dict[str, Check]:
    deployment = load_deployment(mode, project.root, stack_config(mode).get)
    return {c.name: c for c in verify_hosting.run(deployment, Vercel(token, base=server.base))}


def test_both_stacks_deployed_pass(project: Project, vercel: VercelProject, server: VercelServer) -> None:
    for mode in ("test", "live"):
        as_deployed(vercel, variables(project, mode), mode, now_ms() - 60_000)
    vercel.deployment("production", now_ms())
    vercel.deployment("preview", now_ms())
    for mode in ("test", "live"):
        found = verify(project, mode, server)
        assert {c.status for c in found.values()} == {"pass"}, found
        assert "variable STRIPE_WEBHOOK_SECRET" in found
    assert {method for method, _, _ in vercel.requests} == {"GET"}
    assert all("decrypt" not in query for _, _, query in vercel.requests)


def test_missing_and_unsensitive_variables_fail(
    project: Project, vercel: VercelProject, server: VercelServer,
) -> None:
    names = variables(project, "live")
    for name in names[1:]:
        vercel.env(name, ["production"], sensitive=name != "STRIPE_WEBHOOK_SECRET")
    found = verify(project, "live", server)
    assert found["variable STRIPE_SECRET_KEY"].status == "fail"
    assert "missing on production" in found["variable STRIPE_SECRET_KEY"].meaning
    assert "encrypted on production, should be sensitive" in found["variable STRIPE_WEBHOOK_SECRET"].meaning
    assert found["variable STRIPE_PRICE_PRO_MONTHLY"].status == "pass"


def test_one_value_on_production_and_development_fails(
    project: Project, vercel: VercelProject, server: VercelServer,
) -> None:
    as_deployed(vercel, variables(project, "live"), "live", now_ms())
    vercel.envs[0]["target"] = ["production", "development"]  # made by hand: "all environments"
    found = verify(project, "live", server)
    assert "one value is shared by development, production" in found["variable STRIPE_SECRET_KEY"].meaning


def test_a_variable_changed_after_the_latest_deployment_is_a_warning(
    project: Project, vercel: VercelProject, server: VercelServer,
) -> None:
    vercel.deployment("production", now_ms() - 60_000)
    as_deployed(vercel, variables(project, "live"), "live", now_ms() - 120_000)
    vercel.envs[1]["updatedAt"] = now_ms()  # the webhook secret rotated after the deploy
    found = verify(project, "live", server)
    assert found["redeploy production"].status == "warn"
    assert found["redeploy production"].meaning.startswith("STRIPE_WEBHOOK_SECRET changed after")
    assert "vercel deploy --prod" in found["redeploy production"].fix
    assert not any(c.status == "fail" for c in found.values())


def test_a_token_vercel_refuses_is_one_clear_fail(project: Project, server: VercelServer) -> None:
    found = verify(project, "live", server, token="wrong" + "T0ken" * 5)
    assert list(found) == ["env of prj_Test123"]
    assert found["env of prj_Test123"].status == "fail"
    assert "permission denied (403): Not authorized" in found["env of prj_Test123"].meaning


def test_deployments_that_cannot_be_read_fail_their_check_and_the_variables_are_still_judged(
    project: Project, vercel: VercelProject, server: VercelServer,
) -> None:
    as_deployed(vercel, variables(project, "live"), "live", now_ms())
    vercel.failures["/v6/deployments"] = 500
    found = verify(project, "live", server)
    assert found["redeploy production"].status == "fail"
    assert found["redeploy production"].meaning == ("could not read it from Vercel: server error (500): An "
                                                    "unexpected error occurred.")
    assert found["variable STRIPE_SECRET_KEY"].status == "pass"


def test_a_project_vercel_does_not_know_is_not_called_a_permission_problem(
    project: Project, server: VercelServer,
) -> None:
    deployment = load_deployment("live", project.root, stack_config("live", **{
        "billing:vercelProject": "prj_Other999"}).get)
    found = verify_hosting.run(deployment, Vercel(TOKEN, base=server.base))
    assert found[0].meaning == "could not read it from Vercel: not found (404): Project not found"
    assert "no such project for this token: check billing:vercelProject" in found[0].fix


def test_cli_verify_hosting_uses_vercel_token_and_base(
    project: Project, vercel: VercelProject, server: VercelServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    as_deployed(vercel, variables(project, "test"), "test", now_ms())
    monkeypatch.setenv("VERCEL_API_BASE", server.base)
    monkeypatch.setenv("VERCEL_TOKEN", TOKEN)
    project.stack("test", "config:\n  billing:mode: test\n  billing:domain: app.example.com\n"
                          "  billing:vercelProject: prj_Test123\n  vercel:team: team_local\n")
    code, out, err = run_cli("verify", "hosting", "--stack", "test", "--project", str(project.root), "--json")
    assert code == 0, out + err
    data = json.loads(out)
    assert data["ok"] is True and data["target"].startswith("hosting (Vercel project prj_Test123")
    assert all(query.get("teamId") == ["team_local"] for _, _, query in vercel.requests)
    assert TOKEN not in out + err
