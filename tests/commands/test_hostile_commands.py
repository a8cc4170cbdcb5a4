"""`verify` (each part and --stack) and `pull` against hostile servers: the promised exit status,
within the deadline, no traceback, and no key, token or secret in any output.

One server on 127.0.0.1 plays Stripe's API, Vercel's API and the app's webhook endpoint at once,
and misbehaves the same way for all three. Every credential is a sentinel, and the servers quote
credentials back in their errors, whole and masked, so a message that is not redacted shows up.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from infra.catalog import hosting
from infra.core import exits
from infra.hosts.vercel import TARGETS as VERCEL_TARGETS
from tests.servers.hostile_server import (
    BEHAVIOURS,
    Behaviour,
    Handler,
    HostileServer,
    answer,
    redirect_to,
    stripe_list,
    vercel_env_pages,
)
from tests.servers.stripe_api_server import StripeServer
from tests.servers.vercel_api_server import VercelProject, VercelServer, now_ms
from tests.support.cloudflare_stacks import stack_file as cloudflare_stack
from tests.support.deployed_stripe import World
from tests.support.project import Project, key, run_cli
from tests.support.repository import REPO

TIMEOUT = 0.15
SLACK = 1.0
STACK = "config:\n  billing:mode: test\n  billing:domain: app.example.com\n  billing:vercelProject: prj_Test123\n"
SENTINEL = "Snt"  # in every credential below, and nowhere else
CREDENTIALS = {
    "STRIPE_API_KEY": key("rk", "test", "Snt1"),
    "STRIPE_APP_KEY": key("rk", "test", "Snt2"),
    "VERCEL_TOKEN": "vercel" + "Snt3" * 5,
    "HOOK_SECRET": "whsec_" + "Snt4" * 8,
}
CLOUDFLARE_TOKEN = "cf" + "Snt7" * 8


def cursor_repeats(h: Handler) -> None:
    (vercel_env_pages if h.path.startswith("/v10/") else stripe_list)(repeat=True)(h)


# Every misbehaviour but the bare 503 (the 500, which quotes the credential back, stands for 5xx here;
# the clients' tests take the 503).
CASES: dict[str, Callable[[], Behaviour]] = {
    **{name: make for name, make in BEHAVIOURS.items() if name != "503"}, "repeated cursor": lambda: cursor_repeats}
# How many requests of a run can each wait out the whole deadline: two webhook probes (then the
# endpoint is given up on), and one request for each API (then the host is known unreachable).
WAITS = {"webhook": 2, "stripe": 1, "hosting": 1, "all": 4, "pull": 1, "payment": 1}
SLOW = {"drip", "stall"}


@pytest.fixture
def hostile(project: Project, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Behaviour], HostileServer]]:
    project.stack("test", STACK)
    monkeypatch.setenv("PATH", "/nonexistent")  # no pulumi CLI: credentials come from the environment
    monkeypatch.delenv("PULUMI_CONFIG", raising=False)
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    servers: list[HostileServer] = []

    def start(behaviour: Behaviour) -> HostileServer:
        server = HostileServer(behaviour).__enter__()
        servers.append(server)
        monkeypatch.setenv("STRIPE_API_BASE", server.base)
        monkeypatch.setenv("VERCEL_API_BASE", server.base)
        return server

    yield start
    for server in servers:
        server.__exit__()


def command(part: str, project: Project, server: HostileServer, *extra: str) -> list[str]:
    root = ["--project", str(project.root), "--timeout", str(TIMEOUT), *extra]
    if part == "pull":
        return ["pull", "--stack", "test", *root]
    webhook = ["--url", f"{server.base}/webhook/stripe", "--allow-http", "--secret-env", "HOOK_SECRET"]
    if part == "all":
        return ["verify", "--stack", "test", *webhook, *root]
    return ["verify", part, *(webhook if part == "webhook" else ["--stack", "test"]), *root]


def run_timed(argv: list[str]) -> tuple[int, str, str, float]:
    started = time.monotonic()
    code, out, err = run_cli(*argv)  # an exception escaping here is a traceback: the test fails
    return code, out, err, time.monotonic() - started


def assert_clean(out: str, err: str) -> None:
    assert "Traceback" not in out + err
    assert SENTINEL not in out + err, [line for line in (out + err).splitlines() if SENTINEL in line]


@pytest.mark.parametrize("part", ["webhook", "stripe", "hosting", "all", "pull", "payment"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_hostile_server_fails_checks_in_time_and_leaks_nothing(
    part: str, case: str, project: Project, hostile: Callable[[Behaviour], HostileServer],
) -> None:
    server = hostile(CASES[case]())
    code, out, err, seconds = run_timed(command(part, project, server))
    assert code == (exits.REFUSED if part == "pull" else exits.FINDINGS), out + err
    assert seconds < WAITS[part] * TIMEOUT + SLACK
    assert_clean(out, err)
    if part == "pull":
        assert "nothing was written" in err and not (project.root / "adopt").exists()
    elif part == "all" and case not in SLOW:  # --stack's JSON holds each part's
        code, out, err, _ = run_timed(command(part, project, server, "--json"))
        data = json.loads(out)
        assert code == exits.FINDINGS and data["ok"] is False
        assert_clean(out, err)


def test_a_redirect_is_never_followed_and_the_credentials_never_reach_the_other_port(
    project: Project, hostile: Callable[[Behaviour], HostileServer],
) -> None:
    with HostileServer(answer(200, {"object": "list", "data": [], "has_more": False, "envs": []})) as other:
        server = hostile(redirect_to(other.base))
        code, out, err, _ = run_timed(command("all", project, server))
        pull_code, _, pull_err, _ = run_timed(command("pull", project, server))
    assert other.requests == []
    assert code == exits.FINDINGS and pull_code == exits.REFUSED
    assert f"redirected (307 to {other.base})" in out  # the webhook probe says what it got
    assert "Stripe does not follow redirects" in out
    assert f"answered with a redirect (307 to {other.base}); not followed" in out  # Stripe and Vercel
    assert "not followed" in pull_err
    assert_clean(out, err + pull_err)
    seen = {(r.method, r.path.split("?")[0]) for r in server.requests}
    assert ("POST", "/webhook/stripe") in seen and ("GET", "/v10/projects/prj_Test123/env") in seen
    assert ("GET", "/v1/webhook_endpoints") in seen


def test_what_no_answer_means_is_said_plainly(
    project: Project, hostile: Callable[[Behaviour], HostileServer], monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = hostile(answer(200, {}))
    monkeypatch.setenv("VERCEL_API_BASE", "https://api.billing-verify.invalid")
    monkeypatch.setenv("STRIPE_API_BASE", server.base.rsplit(":", 1)[0] + ":9")  # nothing listens there
    code, out, err, _ = run_timed(command("all", project, server))
    assert code == exits.FINDINGS
    assert "could not resolve host api.billing-verify.invalid" in out
    assert "connection refused by 127.0.0.1:9 (nothing listens there)" in out
    assert "refused by api.billing-verify.invalid" not in out
    assert_clean(out, err)


def test_verify_stack_reports_every_missing_input_at_once(
    project: Project, monkeypatch: pytest.MonkeyPatch,
) -> None:
    project.stack("test", STACK)
    monkeypatch.setenv("PATH", "/nonexistent")
    for name in (*CREDENTIALS, "PULUMI_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    code, out, err = run_cli("verify", "--stack", "test", "--project", str(project.root))
    assert code == exits.REFUSED and out == ""
    assert "3 inputs missing or wrong; nothing was sent" in err
    for needed in ("webhookSigningSecret output could not be read", "stripe:apiKey: is needed",
                   "vercel:apiToken: is needed"):
        assert needed in err


@pytest.mark.parametrize("value", ["-1", "nan", "inf", "0", "1e9"])
@pytest.mark.parametrize("part", [("verify", "webhook"), ("verify", "stripe", "--stack", "test"),
                                  ("verify", "--stack", "test"), ("pull", "--stack", "test")])
def test_a_timeout_that_is_not_a_deadline_is_refused(part: tuple[str, ...], value: str) -> None:
    with pytest.raises(SystemExit) as raised:
        run_cli(*part, f"--timeout={value}")
    assert raised.value.code == exits.REFUSED


def test_the_refused_timeout_names_the_allowed_range_without_a_traceback() -> None:
    done = subprocess.run([sys.executable, "-m", "infra", "verify", "webhook", "--timeout", "nan"],
                          cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == exits.REFUSED
    assert "argument --timeout: 'nan' is not a number of seconds; give one greater than 0 and at most 300" in done.stderr
    assert "Traceback" not in done.stderr


def test_pull_with_a_good_account_still_passes_under_the_same_harness(
    project: Project, hostile: Callable[[Behaviour], HostileServer],
) -> None:
    """The harness itself is sound: a well-formed empty account pulls and validates."""
    server = hostile(answer(200, {"object": "list", "data": [], "has_more": False}))
    code, out, err, _ = run_timed(command("pull", project, server))
    assert code == exits.OK, out + err
    assert Path(project.root / "adopt" / "test" / "catalog.yaml").exists()
    assert_clean(out, err)


def test_no_credential_appears_when_the_servers_work_and_keys_come_from_pulumi_config(
    project: Project, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same sweep against well-behaved servers, every credential from PULUMI_CONFIG, the app key a
    full secret key, then one of the wrong mode: every finding and refusal names them by prefix only."""
    world = World(project)
    read_key, app_key = CREDENTIALS["STRIPE_API_KEY"], key("sk", "test", "Snt5")
    world.account.keys = {read_key: None, app_key: None}
    vercel = VercelProject("prj_Test123", CREDENTIALS["VERCEL_TOKEN"])
    for target in VERCEL_TARGETS["test"]:
        for variable in hosting.variables(world.deployment.catalog):
            vercel.env(variable.name, [target.name], target.sensitive, now_ms())
    project.stack("test", STACK)
    monkeypatch.setenv("PATH", "/nonexistent")
    for name in CREDENTIALS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOOK_SECRET", CREDENTIALS["HOOK_SECRET"])
    with StripeServer(world.account) as stripe_api, VercelServer(vercel) as vercel_api, \
            HostileServer(answer(200, {})) as endpoint:
        monkeypatch.setenv("STRIPE_API_BASE", stripe_api.base)
        monkeypatch.setenv("VERCEL_API_BASE", vercel_api.base)
        # A full secret key fails a check; a live key on the test stack is refused before anything is sent.
        for app, expected in ((app_key, exits.FINDINGS), (key("rk", "live", "Snt6"), exits.REFUSED)):
            monkeypatch.setenv("PULUMI_CONFIG", json.dumps({
                "stripe:apiKey": read_key, "billing:appStripeKey": app,
                "vercel:apiToken": CREDENTIALS["VERCEL_TOKEN"]}))
            for extra in ((), ("--json",)):
                code, out, err, _ = run_timed(command("all", project, endpoint, *extra))
                assert code == expected, err
                assert_clean(out, err)
        monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"stripe:apiKey": read_key}))
        code, out, err, _ = run_timed(command("pull", project, endpoint))
    assert code == exits.OK, out + err
    assert_clean(out, err)
    assert_clean((project.root / "adopt" / "test" / "catalog.yaml").read_text(), "")


@pytest.mark.parametrize("case", sorted(CASES))
def test_verify_hosting_on_cloudflare_against_a_hostile_api(
    case: str, project: Project, hostile: Callable[[Behaviour], HostileServer], monkeypatch: pytest.MonkeyPatch,
) -> None:
    project.stack("test", cloudflare_stack("test"))
    server = hostile(CASES[case]())
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", server.base)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CLOUDFLARE_TOKEN)
    code, out, err, seconds = run_timed(["verify", "hosting", "--stack", "test", "--project", str(project.root),
                                         "--timeout", str(TIMEOUT)])
    assert code == exits.FINDINGS, out + err
    assert seconds < TIMEOUT + SLACK
    assert_clean(out, err)
