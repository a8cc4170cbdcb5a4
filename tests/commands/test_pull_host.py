"""`pull --host` against a Vercel-shaped API on 127.0.0.1: variables already on the project are adopted.

The first runbook's team already has test keys and Clerk keys in Vercel; the
provider's create has no upsert, so each of those would fail the first `up`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from pulumi.runtime import mocks

from infra.catalog.stack_config import from_stack
from infra.commands.plan import offline
from infra.hosts.vercel import VARIABLE
from tests.servers.vercel_api_server import VercelProject, VercelServer
from tests.support.project import Project, run_cli

TOKEN = "vercel" + "T0ken" * 5
CATALOG = """\
plans:
  pro:
    name: Pro
    prices:
      monthly: {amount: "29.00", currency: usd, interval: month}
webhook:
  path: /webhook/stripe
  api_version: "2026-10-28.endive"
  events: [checkout.session.completed]
hosting:
  extra: {CLERK_SECRET_KEY: app:clerkSecretKey}
"""
STACK = """\
config:
  billing:mode: test
  billing:domain: staging.shop.test
  billing:vercelProject: prj_Test123
"""


@pytest.fixture
def vercel() -> VercelProject:
    return VercelProject("prj_Test123", TOKEN)


@pytest.fixture
def server(vercel: VercelProject, project: Project, monkeypatch: pytest.MonkeyPatch) -> Iterator[VercelServer]:
    project.catalog(CATALOG)
    project.stack("test", STACK)
    with VercelServer(vercel) as running:
        monkeypatch.setenv("VERCEL_API_BASE", running.base)
        monkeypatch.setenv("VERCEL_TOKEN", TOKEN)
        monkeypatch.delenv("PULUMI_CONFIG", raising=False)
        yield running


def as_the_runbook_left_it(vercel: VercelProject) -> dict[str, str]:
    """Test keys and Clerk's on preview (sensitive) and development (not), and what is not ours."""
    ids = {}
    for name in ("STRIPE_SECRET_KEY", "CLERK_SECRET_KEY"):
        ids[f"preview-{name}"] = vercel.env(name, ["preview"], sensitive=True)["id"]
        ids[f"development-{name}"] = vercel.env(name, ["development"], sensitive=False)["id"]
    vercel.env("STRIPE_SECRET_KEY", ["production"], sensitive=True)  # the live stack's
    vercel.env("DATABASE_URL", ["preview"], sensitive=True)  # not written by the stack
    vercel.env("STRIPE_SECRET_KEY", ["preview"], sensitive=True)["gitBranch"] = "feature-x"  # one branch
    return ids


def pull_host(project: Project) -> tuple[int, str, str]:
    return run_cli("pull", "--stack", "test", "--host", "--project", str(project.root))


def test_existing_variables_are_pulled_planned_and_validated_as_adopted(
    project: Project, vercel: VercelProject, server: VercelServer,
) -> None:
    ids = as_the_runbook_left_it(vercel)
    # The Stripe part of an earlier `billing pull` stays in the file.
    imports = project.root / "adopt" / "test" / "import.json"
    imports.parent.mkdir(parents=True)
    imports.write_text(json.dumps({"resources": [
        {"type": "billing:stripe:Billing", "name": "billing", "component": True},
        {"type": "stripe:index/product:Product", "name": "pro", "id": "prod_Existing1", "parent": "billing"}]}))
    project.stack("test", STACK + "  billing:adopt: adopt/test/import.json\n")

    code, out, err = pull_host(project)
    assert code == 0, out + err
    for name in ("STRIPE_SECRET_KEY", "CLERK_SECRET_KEY"):
        assert f"{name} on preview (sensitive): adopted" in out
        assert f"{name} on development (not sensitive (encrypted)): adopted" in out
    assert "DATABASE_URL" not in out
    assert "eyJ2" not in out + err  # what Vercel returns for a value is never shown
    assert {method for method, _, _ in vercel.requests} == {"GET"}
    assert all("decrypt" not in query for _, _, query in vercel.requests)
    written = json.loads(imports.read_text())["resources"]
    hosted = {r["name"]: r["id"] for r in written if r["type"] == VARIABLE}
    assert hosted == {name: f"prj_Test123/{id_}" for name, id_ in ids.items()}
    assert {r["parent"] for r in written if r["type"] == VARIABLE} == {"hosting"}
    assert {"type": "stripe:index/product:Product", "name": "pro", "id": "prod_Existing1",
            "parent": "billing"} in written

    code, out, err = run_cli("validate", "--stack", "test", "--project", str(project.root))
    assert code == 0, err
    assert "adopts 1 existing Stripe objects: prod_Existing1" in out
    assert ("adopts 4 existing host variables (imported, then given the stack's value): "
            "development-CLERK_SECRET_KEY, development-STRIPE_SECRET_KEY, preview-CLERK_SECRET_KEY, "
            "preview-STRIPE_SECRET_KEY") in out

    code, out, err = run_cli("plan", "--stack", "test", "--project", str(project.root))
    assert code == 0, err
    adopted = next(line for line in out.splitlines() if line.lstrip().startswith("adopted:"))
    for name, id_ in ids.items():
        assert f"{name} (prj_Test123/{id_})" in adopted
    row = next(line for line in out.splitlines() if line.lstrip().startswith("STRIPE_SECRET_KEY"))
    assert row.split()[:5] == ["STRIPE_SECRET_KEY", "=", "plain", "=", "sensitive"]
    row = next(line for line in out.splitlines() if line.lstrip().startswith("STRIPE_WEBHOOK_SECRET"))
    assert row.split()[:3] == ["STRIPE_WEBHOOK_SECRET", "plain", "sensitive"]  # not there yet: created
    assert "Vercel values: an existing variable of the same name and target fails its create" in out
    # Adoption renames nothing: the component's own names stay as they were.
    names: list[str] = []

    def record(args: mocks.MockResourceArgs) -> None:
        names.append(args.name)

    engine = from_stack(project.root, "test")
    offline.run_program(project.root / "__main__.py", "test", engine.values, engine.secret_keys, answer=record)
    assert {"preview-STRIPE_SECRET_KEY", "development-CLERK_SECRET_KEY"} <= set(names)


def test_a_variable_of_the_other_type_is_refused_with_the_fix(
    project: Project, vercel: VercelProject, server: VercelServer,
) -> None:
    vercel.env("STRIPE_SECRET_KEY", ["preview"], sensitive=False)
    code, out, err = pull_host(project)
    assert code == 2, out + err
    assert ("Vercel project prj_Test123: STRIPE_SECRET_KEY (preview): exists not sensitive (encrypted), but "
            "the stack writes it sensitive") in err
    assert "Delete (on preview), then run `billing pull --host` again" in err
    assert "nothing was written" in err
    assert not (project.root / "adopt").exists()


def test_one_variable_on_several_targets_is_refused_with_the_fix(
    project: Project, vercel: VercelProject, server: VercelServer,
) -> None:
    vercel.env("CLERK_SECRET_KEY", ["preview", "development"], sensitive=False)
    code, _, err = pull_host(project)
    assert code == 2
    assert "CLERK_SECRET_KEY (preview): one variable on the project holds it for development, preview" in err
    assert "keep only preview on it" in err
    assert "CLERK_SECRET_KEY (development): one variable" in err
    assert not (project.root / "adopt").exists()


def test_a_refused_token_writes_nothing(project: Project, vercel: VercelProject, server: VercelServer,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERCEL_TOKEN", "vercel" + "Wr0ng" * 5)
    code, _, err = pull_host(project)
    assert code == 2
    assert "could not read the Vercel project; nothing was written" in err
    assert "Wr0ng" not in err
    assert not (project.root / "adopt").exists()


def test_a_cloudflare_stack_overwrites_and_says_so(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    project.catalog(CATALOG)
    project.stack("test", """\
        config:
          billing:mode: test
          billing:host: cloudflare
          billing:cloudflareAccountId: 0123456789abcdef0123456789abcdef
          billing:workerScript: api-staging
          billing:domain: api-staging.shop.test
        """)
    monkeypatch.delenv("PULUMI_CONFIG", raising=False)
    code, out, err = pull_host(project)
    assert code == 0, err
    assert "Cloudflare Workers: written with PUT, which overwrites" in out
    assert not (project.root / "adopt").exists()
    code, out, err = run_cli("plan", "--stack", "test", "--project", str(project.root))
    assert code == 0, err
    assert "Cloudflare Workers values: written with PUT, which overwrites" in out
