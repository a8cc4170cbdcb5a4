"""`verify --stack S` runs webhook, stripe and hosting against local servers in one go."""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import count

import pytest

from infra.catalog import hosting
from infra.commands.verify import command as verify_command
from infra.core import exits
from infra.hosts.vercel import TARGETS
from tests.servers.hostile_server import Handler, HostileServer, elapsed
from tests.servers.stripe_api_server import StripeServer
from tests.servers.vercel_api_server import VercelProject, VercelServer, now_ms
from tests.servers.webhook_receiver import Receiver, reference
from tests.support.deployed_stripe import World
from tests.support.project import Project, run_cli

TOKEN = "vercel" + "T0ken" * 5


def test_verify_stack_runs_all_three_parts(
    project: Project, serve: Callable[[Receiver], str], secret: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = World(project)
    vercel = VercelProject("prj_Test123", TOKEN)
    for target in TARGETS["test"]:
        for variable in hosting.variables(world.deployment.catalog):
            vercel.env(variable.name, [target.name], target.sensitive, now_ms() - 1000)
    project.stack("test", "config:\n  billing:mode: test\n  billing:domain: staging.shop.test\n"
                          "  billing:vercelProject: prj_Test123\n")
    with StripeServer(world.account) as stripe_api, VercelServer(vercel) as vercel_api:
        monkeypatch.setenv("STRIPE_API_BASE", stripe_api.base)
        monkeypatch.setenv("VERCEL_API_BASE", vercel_api.base)
        monkeypatch.setenv("STRIPE_API_KEY", world.read_key)
        monkeypatch.setenv("STRIPE_APP_KEY", world.app_key)
        monkeypatch.setenv("VERCEL_TOKEN", TOKEN)
        monkeypatch.setenv("HOOK_SECRET", secret)
        argv = ["verify", "--stack", "test", "--project", str(project.root), "--url", serve(reference),
                "--allow-http", "--secret-env", "HOOK_SECRET"]
        code, out, err = run_cli(*argv)
        assert code == 0, out + err
        assert [line.split(" ")[1] for line in out.splitlines() if line.startswith("verify ")] == [
            "webhook", "stripe", "hosting"]
        for step in ("verifying webhook", "verifying stripe", "verifying hosting", "probing: signed event"):
            assert step in err
        world.made["pro"]["metadata"]["plan"] = "Pro"  # one fail anywhere fails the run
        code, out, _ = run_cli(*argv, "--json")
    data = json.loads(out)
    assert code == 1 and data["ok"] is False and data["stack"] == "test"
    assert [r["ok"] for r in data["results"]] == [True, False, True]
    for value in (secret, world.read_key, world.app_key, TOKEN):
        assert value not in out + err


def test_verify_needs_a_stack_or_a_part() -> None:
    code, _, err = run_cli("verify")
    assert code == 2 and "give --stack S" in err
    code, _, err = run_cli("verify", "stripe")
    assert code == 2 and "`verify stripe` needs the stack" in err


def test_verify_webhook_from_the_stack_without_the_cli_says_how_to_pass_the_secret(
    project: Project, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")  # no pulumi CLI: outputs cannot be read
    code, out, err = run_cli("verify", "webhook", "--stack", "test", "--project", str(project.root))
    assert code == 2 and out == ""
    assert "webhookSigningSecret output could not be read" in err
    assert "pulumi stack output webhookSigningSecret --show-secrets --stack test" in err


@pytest.mark.parametrize(("url", "words"), [
    ("https://user:" + "pw" * 4 + "@127.0.0.1:9/x", "carries a user name or password"),
    ("https://", "no host"),
    ("https://app.example.com/a b", "spaces or control characters"),
])
def test_a_webhook_url_stripe_cannot_deliver_to_is_refused_and_not_echoed(
    monkeypatch: pytest.MonkeyPatch, url: str, words: str,
) -> None:
    monkeypatch.setenv("WH", "whsec_" + "Wh00" * 8)
    code, out, err = run_cli("verify", "webhook", "--url", url, "--secret-env", "WH")
    assert code == 2 and out == "" and words in err
    assert "pw" * 4 not in err and "nothing was sent" in err


def test_a_host_that_pages_slowly_cannot_hold_verify_past_its_total_deadline(
    project: Project, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each page just inside the request deadline, each with a new cursor: the page cap times the
    # request deadline bounds nothing a person waits for; the run's own deadline does.
    serial = count(1_700_000_000_000, -1)

    def slow_pages(h: Handler) -> None:
        if not h.stopping.wait(0.3):
            h.send_json(200, {"envs": [], "pagination": {"count": 0, "next": next(serial), "prev": None}})

    project.stack("test", "config:\n  billing:mode: test\n  billing:domain: staging.shop.test\n"
                          "  billing:vercelProject: prj_Test123\n")
    monkeypatch.setattr(verify_command, "TOTAL_SECONDS", 1.0)
    with HostileServer(slow_pages) as server:
        monkeypatch.setenv("VERCEL_API_BASE", server.base)
        monkeypatch.setenv("VERCEL_TOKEN", TOKEN)
        (code, out, err), seconds = elapsed(lambda: run_cli(
            "verify", "hosting", "--stack", "test", "--project", str(project.root), "--no-record"))
    assert code == exits.FINDINGS, out + err
    assert seconds < 15, seconds  # the pages alone would take 30 s
    assert "FAIL" in out and "what was left of the command's total deadline" in out, out
    assert TOKEN not in out + err
