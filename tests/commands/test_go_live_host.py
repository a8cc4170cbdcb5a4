"""go-live's host step against a Vercel-shaped API on 127.0.0.1, its secret store through a stand-in
`pulumi` that records its arguments and its stdin (the engine's events as go-live counts them are
tests/commands/test_go_live_engine.py's).

The real CLI storing a secret from stdin is tests/engine/test_go_live.py's.
"""

from __future__ import annotations

import io
import json
import os
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from infra.catalog import load_deployment
from infra.clients import pulumi_cli
from infra.clients.vercel_api import Vercel
from infra.commands.golive import deploy
from infra.commands.golive.context import Context
from infra.commands.golive.terminal import Stop, Terminal
from infra.core import exits
from infra.hosts.vercel import TARGETS
from tests.servers.vercel_api_server import VercelProject, VercelServer, now_ms
from tests.support.project import Project, credentials, key, stack_config
from tests.support.pulumi_stand_in import Pulumi

TOKEN = "vercel" + "T0ken" * 5


@pytest.fixture
def vercel() -> VercelProject:
    return VercelProject("prj_Test123", TOKEN)


@pytest.fixture
def server(vercel: VercelProject, monkeypatch: pytest.MonkeyPatch) -> Iterator[VercelServer]:
    with VercelServer(vercel) as running:
        monkeypatch.setenv("VERCEL_API_BASE", running.base)
        monkeypatch.setenv("VERCEL_TOKEN", TOKEN)
        yield running


def deployed(project: Project, vercel: VercelProject, mode: str, variables_at: int, built_at: int | None) -> None:
    """Every variable of the stack written at `variables_at`; the target's latest build at `built_at`
    (None: the target has never been deployed)."""
    from infra.catalog import hosting

    deployment = load_deployment(mode, project.root, stack_config(mode).get)
    for target in TARGETS[mode]:
        for variable in hosting.variables(deployment.catalog):
            vercel.env(variable.name, [target.name], target.sensitive, variables_at)
    if built_at is not None:
        vercel.deployment("production" if mode == "live" else "preview", built_at)


SEALED = "\n    secure: v1:ZXhhbXBsZQ==:v1:ExampleCiphertextOnly"


def updated(project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stack: str) -> Pulumi:
    """A `stack` whose update has run: readiness reads it through the stand-in `pulumi` (its last
    update, its keys, the hostingVariables output naming every variable it wrote), and the host's
    deployments from the Vercel-shaped server."""
    from infra.catalog import hosting

    keys = credentials(stack)
    path = project.root / f"Pulumi.{stack}.yaml"
    path.write_text(path.read_text() + "".join(f"  {name}:{SEALED}\n" for name in keys))
    deployment = load_deployment(stack, project.root, stack_config(stack).get)
    names = [variable.name for variable in hosting.variables(deployment.catalog)]
    pulumi = Pulumi(tmp_path / "bin", stacks={stack: {"lastUpdate": "2026-12-06T08:00:00.000Z", "resourceCount": 27}},
                    config={name: (value, True) for name, value in keys.items()},
                    outputs={"hostingVariables": {target.name: names for target in TARGETS[stack]},
                             "redeployNeeded": []})
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("PULUMI_CONFIG", raising=False)
    return pulumi


def host_context(project: Project, monkeypatch: pytest.MonkeyPatch, stack: str,
                 *answers: str | Callable[[], str]) -> tuple[Context, io.StringIO, list[str]]:
    out, asked = io.StringIO(), []
    queue = list(answers)

    def person(prompt: str) -> str:
        asked.append(prompt)
        answer = queue.pop(0)
        return answer() if callable(answer) else answer

    term = Terminal(out, read_line=person, read_secret=person)
    return Context(stack, project.root, term, live=stack == "live"), out, asked


@pytest.fixture
def live(project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Pulumi:
    return updated(project, tmp_path, monkeypatch, "live")


def test_production_with_old_values_is_redeployed_after_a_yes(
    project: Project, vercel: VercelProject, server: VercelServer, monkeypatch: pytest.MonkeyPatch, live: Pulumi,
) -> None:
    deployed(project, vercel, "live", variables_at=now_ms(), built_at=now_ms() - 60_000)
    latest = vercel.deployments[0]
    ctx, out, asked = host_context(project, monkeypatch, "live", "y")
    assert deploy.host_done(ctx) is None
    monkeypatch.setattr(deploy, "REDEPLOY_POLL", 0.01)
    deploy.host(ctx)
    assert asked == ["Redeploy production now (a new build of the latest production deployment, through "
                     "Vercel's API)? [y/N] "]
    assert vercel.created == [{"name": "app", "deploymentId": latest["uid"], "project": "prj_Test123",
                               "target": "production"}]
    assert "is READY: production reads the new values." in out.getvalue()
    assert ctx.created == [f"production redeployed from {latest['uid']}: {vercel.deployments[0]['uid']}"]
    # The new build is newer than every variable: readiness closes the step, and a second run skips it.
    done = deploy.host_done(ctx)
    assert done is not None and done.startswith("the latest production deployment (") and \
        done.endswith(") has every variable the stack wrote")


def test_no_redeploy_without_a_yes(
    project: Project, vercel: VercelProject, server: VercelServer, monkeypatch: pytest.MonkeyPatch, live: Pulumi,
) -> None:
    deployed(project, vercel, "live", variables_at=now_ms(), built_at=now_ms() - 60_000)
    ctx, _, _ = host_context(project, monkeypatch, "live", "n")
    with pytest.raises(Stop) as stopped:
        deploy.host(ctx)
    assert stopped.value.status == exits.REFUSED and vercel.created == []


def test_a_token_that_may_not_deploy_gets_the_exact_command_and_go_live_checks_after(
    project: Project, vercel: VercelProject, server: VercelServer, monkeypatch: pytest.MonkeyPatch, live: Pulumi,
) -> None:
    deployed(project, vercel, "live", variables_at=now_ms() - 1000, built_at=now_ms() - 60_000)
    vercel.failures["/v13/deployments"] = 403

    def person_redeploys() -> str:
        vercel.deployment("production", now_ms())
        return ""

    ctx, out, asked = host_context(project, monkeypatch, "live", "y", person_redeploys)
    deploy.host(ctx)
    text = out.getvalue()
    assert "Vercel refused the redeploy (permission denied (403)" in text
    assert "`vercel deploy --prod`" in text
    assert asked[1].startswith("Redeploy production; press Enter when it is done")
    assert ctx.created == ["production redeployed by hand"]
    assert ctx.term.acts.visits == ["a production redeploy by hand"]
    assert deploy.host_done(ctx) is not None


def test_a_redeploy_by_hand_that_did_not_happen_stops(
    project: Project, vercel: VercelProject, server: VercelServer, monkeypatch: pytest.MonkeyPatch, live: Pulumi,
) -> None:
    deployed(project, vercel, "live", variables_at=now_ms() - 1000, built_at=now_ms() - 60_000)
    vercel.failures["/v13/deployments"] = 403
    ctx, out, _ = host_context(project, monkeypatch, "live", "y", "")  # Enter, and nothing was deployed
    with pytest.raises(Stop) as stopped:
        deploy.host(ctx)
    assert stopped.value.status == exits.FINDINGS and "still lacks values the update wrote" in str(stopped.value)
    assert "TODO  host: production deployment is older than the variables written at" in out.getvalue()


def test_production_never_deployed_is_the_person_s_first_deploy(
    project: Project, vercel: VercelProject, server: VercelServer, monkeypatch: pytest.MonkeyPatch, live: Pulumi,
) -> None:
    deployed(project, vercel, "live", variables_at=now_ms() - 1000, built_at=None)

    def person_deploys() -> str:
        vercel.deployment("production", now_ms())
        return ""

    ctx, out, asked = host_context(project, monkeypatch, "live", person_deploys)
    assert deploy.host_done(ctx) is None
    deploy.host(ctx)
    assert "there is no production deployment to build again: deploy the app to production" in out.getvalue()
    assert asked == ["Deploy production; press Enter when it is done (Ctrl-C stops) "]  # no redeploy asked
    assert vercel.created == [] and ctx.term.acts.visits == ["a production deployment by hand"]


def test_a_test_stack_s_latest_preview_is_redeployed_after_a_yes(
    project: Project, vercel: VercelProject, server: VercelServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    updated(project, tmp_path, monkeypatch, "test")
    deployed(project, vercel, "test", variables_at=now_ms(), built_at=now_ms() - 60_000)
    latest = vercel.deployments[0]
    ctx, out, asked = host_context(project, monkeypatch, "test", "y")
    assert deploy.host_done(ctx) is None
    monkeypatch.setattr(deploy, "REDEPLOY_POLL", 0.01)
    deploy.host(ctx)
    assert asked == ["Redeploy preview now (a new build of the latest preview deployment, through Vercel's "
                     "API)? [y/N] "]
    assert "previews of other branches get them when they are built again" in out.getvalue()
    assert vercel.created == [{"name": "app", "deploymentId": latest["uid"], "project": "prj_Test123"}]
    assert deploy.host_done(ctx) is not None


def test_a_cloudflare_worker_needs_no_redeploy(
    project: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    project.stack("test", "config:\n  billing:mode: test\n  billing:domain: staging.shop.test\n"
                          "  billing:host: cloudflare\n  billing:cloudflareAccountId: " + "5e0c" * 8 + "\n"
                          "  billing:workerScript: api-staging\n")
    Pulumi(tmp_path / "bin", stacks={"test": {"lastUpdate": "2026-12-06T08:00:00.000Z", "resourceCount": 9}})
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    ctx, _, _ = host_context(project, monkeypatch, "test")
    assert deploy.host_done(ctx) == "Cloudflare Workers applies each value as `up` writes it: no redeploy"


def test_the_redeploy_call_is_vercel_s_create_deployment_with_the_team(
    vercel: VercelProject, server: VercelServer,
) -> None:
    old = vercel.deployment("production", now_ms() - 1000)
    client = Vercel(TOKEN, team="team_local", base=server.base)
    found = client.redeploy("prj_Test123", "production")
    assert found is not None and found[0]["uid"] == old["uid"]
    post = [(method, path, query) for method, path, query in vercel.requests if method == "POST"]
    assert post == [("POST", "/v13/deployments", {"teamId": ["team_local"]})]
    assert client.deployment_state(found[1]["id"]) == "READY"
    assert Vercel(TOKEN, base=server.base).redeploy("prj_Test123", "preview") is None  # nothing to rebuild


# --------------------------------------------------------------------- a secret into the stack


def recording_pulumi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_with: str | None = None) -> Path:
    """A `pulumi` on PATH that writes its argv and its stdin to calls.json; fails echoing stdin if asked."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "pulumi"
    failing = (f"sys.stderr.write({fail_with!r} + stdin + '\\n'); sys.exit(255)" if fail_with else "")
    script.write_text(f"#!{sys.executable}\nimport json, sys\nstdin = sys.stdin.read()\n"
                      f"json.dump({{'argv': sys.argv[1:], 'stdin': stdin}}, open({str(tmp_path / 'calls.json')!r}, 'w'))\n"
                      + textwrap.dedent(failing) + "\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return tmp_path / "calls.json"


def test_a_secret_goes_to_the_cli_on_stdin_never_its_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = recording_pulumi(tmp_path, monkeypatch)
    value = key("rk", "live", "St0re")
    pulumi_cli.set_config("live", "stripe:apiKey", value, tmp_path, secret=True)
    seen = json.loads(calls.read_text())
    assert seen == {"argv": ["config", "set", "--secret", "stripe:apiKey", "--stack", "live", "--non-interactive"],
                    "stdin": value}
    pulumi_cli.set_config("live", "billing:publishableKey", "pk_" + "live_" + "P" * 24, tmp_path, secret=False)
    assert json.loads(calls.read_text())["argv"][2] == "--plaintext"


def test_a_failed_store_never_quotes_the_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recording_pulumi(tmp_path, monkeypatch, fail_with="error: could not set config: ")
    value = "vercel" + "Secr3t" * 5
    with pytest.raises(pulumi_cli.CliError) as failed:
        pulumi_cli.set_config("test", "vercel:apiToken", value, tmp_path, secret=True)
    assert value not in str(failed.value) and "[the value]" in str(failed.value)
    with pytest.raises(pulumi_cli.CliError, match="nothing was stored"):
        pulumi_cli.set_config("test", "vercel:apiToken", "x" * (pulumi_cli.MAX_VALUE_BYTES + 1), tmp_path,
                              secret=True)


def test_a_deployment_id_vercel_answers_cannot_start_a_line_of_its_own(
    project: Project, vercel: VercelProject, server: VercelServer, monkeypatch: pytest.MonkeyPatch, live: Pulumi,
) -> None:
    deployed(project, vercel, "live", variables_at=now_ms(), built_at=now_ms() - 60_000)
    forged = "dpl_1\ngo-live of stack 'live' (live mode): verified, in 3 s"
    vercel.deployments[0]["uid"] = forged
    ctx, out, _ = host_context(project, monkeypatch, "live", "y")
    monkeypatch.setattr(deploy, "REDEPLOY_POLL", 0.01)
    deploy.host(ctx)
    # The summary prints each created line as it is: an outside value in it is escaped here.
    assert ctx.created == [f"production redeployed from dpl_1\\ngo-live of stack 'live' (live mode): verified, "
                           f"in 3 s: {vercel.deployments[0]['uid']}"]
    assert not any(line.startswith("go-live of stack") for line in out.getvalue().splitlines())
