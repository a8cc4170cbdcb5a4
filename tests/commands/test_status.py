"""`billing status`: a fresh copy, a half-configured stack, a ready one, and one after its update.

The stand-in `pulumi` (tests/support/pulumi_stand_in.py) answers in the real CLI's formats; the host is
the local Vercel-shaped server (tests/servers/vercel_api_server.py), reached through VERCEL_API_BASE.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pytest

from infra.core import exits
from infra.probes import readiness
from tests.servers.hostile_server import Handler, HostileServer, elapsed
from tests.servers.vercel_api_server import VercelProject, VercelServer
from tests.support.project import DOMAINS, VERCEL_PROJECT, Project, key, run_cli
from tests.support.pulumi_stand_in import Pulumi

SEALED = "\n    secure: v1:ZXhhbXBsZQ==:v1:ExampleCiphertextOnly"
TOKEN = "vercel" + "T0ken" * 5
UPDATED = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
CHECKS = ("webhook", "stripe", "hosting", "payment")


def on_path(monkeypatch: pytest.MonkeyPatch, bin_dir: Path) -> None:
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("PULUMI_CONFIG", raising=False)
    monkeypatch.delenv("VERCEL_TOKEN", raising=False)


def status(project: Project, stack: str = "test") -> tuple[int, str]:
    code, out, err = run_cli("status", "--stack", stack, "--project", str(project.root))
    assert err == "" or code != exits.INTERNAL, err
    return code, out


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def stamp(moment: datetime) -> str:
    """As the CLI writes a time (RFC 3339, milliseconds, UTC) and as verify records one."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def ready_files(project: Project, mode: str) -> dict[str, str]:
    """The stack file of a `mode` stack with every setting and key, and the keys' real values; the
    policy pack's virtualenv as `make policy-venv` leaves it (its stamp, written last)."""
    (project.root / "policies" / "venv").mkdir(parents=True, exist_ok=True)
    (project.root / "policies" / "venv" / ".installed").touch()
    keys = {"stripe:apiKey": key("rk", mode, "Dep1"), "billing:appStripeKey": key("rk", mode, "App1"),
            "vercel:apiToken": TOKEN}
    publishable = key("pk", mode, "Pub1")
    project.stack(mode, f"config:\n  billing:mode: {mode}\n  billing:vercelProject: {VERCEL_PROJECT}\n"
                        f"  billing:domain: {DOMAINS[mode]}\n  billing:publishableKey: {publishable}\n"
                        + "".join(f"  {name}:{SEALED}\n" for name in keys))
    return keys


def test_a_fresh_copy_names_each_step_with_its_command(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("PULUMI_CONFIG", raising=False)
    project.stack("test", "config:\n  billing:mode: test\n  billing:vercelProject: prj_ExampleProjectId\n"
                          "  billing:domain: staging.example.com\n")
    code, out = status(project)
    assert code == exits.FINDINGS
    assert "TODO  pulumi CLI: the pulumi CLI is not on PATH" in out
    assert "fix: install the Pulumi CLI 3.174 or newer: https://www.pulumi.com/docs/install/" in out
    assert "stripe:apiKey: is not set: run `pulumi config set --secret stripe:apiKey --stack test` (it asks for " \
        "the rk_test_... key with echo off)" in out
    assert "still the repository's example: Pulumi.test.yaml:3: billing:vercelProject" in out
    assert "still the repository's example: Pulumi.test.yaml:4: billing:domain" in out
    assert "update" not in out and "verify" not in out  # nothing about a stack that cannot be reached
    assert out.rstrip().splitlines()[-1].startswith("not ready to go live:")


def test_a_half_configured_stack_says_what_is_left(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    project.stack("test", f"config:\n  billing:mode: test\n  billing:vercelProject: {VERCEL_PROJECT}\n"
                          f"  billing:domain: {DOMAINS['test']}\n  stripe:apiKey:{SEALED}\n")
    deployer = key("rk", "test", "Dep1")
    Pulumi(tmp_path / "bin", stacks={"live": {}}, config={"billing:mode": ("test", False),
                                                          "stripe:apiKey": (deployer, True)})
    on_path(monkeypatch, tmp_path / "bin")
    code, out = status(project)
    assert code == exits.FINDINGS
    assert "ok    pulumi CLI v3.274.1" in out and "ok    logged in to file:///home/me" in out
    assert "TODO  stack 'test' does not exist" in out
    assert "`pulumi stack init test --secrets-provider passphrase`" in out
    assert "secrets set: stripe:apiKey (names only)" in out
    assert "billing:appStripeKey: is not set: run `pulumi config set --secret billing:appStripeKey" in out
    # Where a key comes from: `billing keys` prints a prefilled Dashboard link for each.
    lines = out.splitlines()
    missing = next(i for i, line in enumerate(lines) if "billing:appStripeKey: is not set" in line)
    assert lines[missing + 1] == "        fix: `billing keys --stack test` says how to make it"
    assert deployer not in out


def test_an_old_cli_is_named_with_the_minimum(project: Project, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    Pulumi(tmp_path / "bin", version="v3.100.0", stacks={"test": {}})
    on_path(monkeypatch, tmp_path / "bin")
    code, out = status(project)
    assert code == exits.FINDINGS and "pulumi CLI 'v3.100.0' is older than 3.174" in out


# Before the first update: the file backend's `stack init` writes a checkpoint, so the summary
# has a lastUpdate and 0 resources (CLI 3.274.1); another backend may give neither.
@pytest.mark.parametrize("summary", [{"lastUpdate": "2026-12-06T08:56:26.951Z", "resourceCount": 0}, {}])
def test_a_stack_ready_for_its_first_update_exits_0_and_prints_no_secret(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, summary: dict[str, object],
) -> None:
    keys = ready_files(project, "test")
    pulumi = Pulumi(tmp_path / "bin", stacks={"acme/billing/test": summary},
                    config={name: (value, True) for name, value in keys.items()})
    on_path(monkeypatch, tmp_path / "bin")
    code, out = status(project)
    assert code == exits.OK, out
    assert "TODO" not in out and "keys checked with their real values" in out
    assert "ok    stack 'test' exists" in out
    assert "ok    nothing deployed yet: going live is `pulumi up --stack test --policy-pack policies`" in out
    assert "host:" not in out and "verify " not in out  # nothing to redeploy or verify yet
    assert out.rstrip().endswith("ready to go live: next `pulumi preview --stack test --policy-pack policies`, "
                                 "then `pulumi up --stack test --policy-pack policies`")
    assert not any(secret in out for secret in keys.values())
    assert all(argv[0] != "stack" or argv[1] in ("ls",) for argv in pulumi.argv())  # read only


def test_without_the_policy_packs_virtualenv_the_preview_it_names_would_fail(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    keys = ready_files(project, "test")
    (project.root / "policies" / "venv" / ".installed").unlink()  # a venv whose install did not finish
    Pulumi(tmp_path / "bin", stacks={"test": {}}, config={name: (value, True) for name, value in keys.items()})
    on_path(monkeypatch, tmp_path / "bin")
    code, out = status(project)
    assert code == exits.FINDINGS
    assert "TODO  the policy pack's virtualenv policies/venv is not built" in out
    assert "fix: `make policy-venv`" in out


def test_no_such_stack_is_refused(project: Project) -> None:
    code, _, err = run_cli("status", "--stack", "staging", "--project", str(project.root))
    assert code == exits.REFUSED and "no stack 'staging' here" in err


# ---------------------------------------------------------------- after the first update


@pytest.fixture
def vercel(monkeypatch: pytest.MonkeyPatch) -> Iterator[VercelProject]:
    project = VercelProject(VERCEL_PROJECT, TOKEN)
    with VercelServer(project) as server:
        monkeypatch.setenv("VERCEL_API_BASE", server.base)
        yield project


NAMES = ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_PRICE_PRO_MONTHLY"]


def updated(project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str,
            tags: dict[str, str], redeploy_needed: list[str] | None = None) -> Pulumi:
    """A `mode` stack whose last update was at UPDATED and wrote NAMES to its Vercel targets."""
    keys = ready_files(project, mode)
    targets = ["production"] if mode == "live" else ["preview", "development"]
    pulumi = Pulumi(tmp_path / "bin", stacks={mode: {"lastUpdate": stamp(UPDATED), "resourceCount": 27}},
                    config={name: (value, True) for name, value in keys.items()},
                    outputs={"hostingVariables": {target: NAMES for target in targets},
                             "redeployNeeded": redeploy_needed or [], "hostingDigests": {"x": "y"},
                             "webhookUrl": f"https://{DOMAINS[mode]}/api/webhooks/stripe"},
                    tags=tags)
    on_path(monkeypatch, tmp_path / "bin")
    return pulumi


def passed(at: datetime) -> dict[str, str]:
    return {f"billing:verify:{check}": f"pass {stamp(at)}" for check in CHECKS}


def test_a_live_stack_whose_variables_are_newer_than_its_deployment_needs_a_redeploy(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, vercel: VercelProject,
) -> None:
    updated(project, tmp_path, monkeypatch, "live", passed(UPDATED + timedelta(minutes=5)),
            ["production:STRIPE_WEBHOOK_SECRET"])
    vercel.deployment("production", ms(UPDATED - timedelta(hours=1)))
    written = UPDATED - timedelta(seconds=30)
    for name in NAMES:
        vercel.env(name, ["production"], sensitive=True, updated=ms(UPDATED - timedelta(days=2)))
    vercel.envs[1]["updatedAt"] = ms(written)  # the update rotated the webhook secret
    code, out = status(project, "live")
    assert code == exits.FINDINGS, out
    assert (f"TODO  host: production deployment is older than the variables written at {stamp(written)} "
            "(STRIPE_WEBHOOK_SECRET)") in out
    assert "fix: redeploy production (`vercel deploy --prod`, or Redeploy on the latest production deployment" in out
    assert "ok    verify webhook: passed at" in out
    assert out.rstrip().splitlines()[-1] == "not ready to go live: 1 item to do, each with its fix above"
    assert {method for method, _, _ in vercel.requests} == {"GET"}

    vercel.deployment("production", ms(UPDATED + timedelta(minutes=1)))  # redeployed
    code, out = status(project, "live")
    assert code == exits.OK, out
    assert "ok    host: the latest production deployment (2026-11-30T10:01:00.000Z) has every variable" in out


def test_a_stack_verified_after_its_last_update_is_ready(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, vercel: VercelProject,
) -> None:
    pulumi = updated(project, tmp_path, monkeypatch, "test", passed(UPDATED + timedelta(minutes=5)))
    for name in NAMES:
        vercel.env(name, ["preview"], sensitive=True, updated=ms(UPDATED - timedelta(minutes=1)))
    vercel.deployment("preview", ms(UPDATED + timedelta(minutes=2)))
    code, out = status(project)
    assert code == exits.OK, out
    assert "ok    last update 2026-11-30T10:00:00.000Z" in out
    assert "ok    host: the latest preview deployment (2026-11-30T10:02:00.000Z) has every variable" in out
    for check in CHECKS:
        assert f"ok    verify {check}: passed at 2026-11-30T10:05:00.000Z, after the last update" in out
    assert out.rstrip().endswith("ready to go live: the last update (2026-11-30T10:00:00.000Z) is on the host "
                                 "and every verify check passed since; a change goes `pulumi preview --stack "
                                 "test --policy-pack policies` first")
    asked = pulumi.argv()
    assert ["stack", "output", "--json", "--stack", "test"] in asked  # never --show-secrets for outputs
    assert ["stack", "tag", "ls", "--json", "--stack", "test"] in asked
    assert not any(argv[:3] == ["stack", "tag", "set"] for argv in asked)
    assert TOKEN not in out and not any(TOKEN in " ".join(argv) for argv in asked)


def test_verify_older_than_the_last_update_or_failed_or_never_run_is_to_do(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, vercel: VercelProject,
) -> None:
    tags = {"billing:verify:webhook": f"pass {stamp(UPDATED - timedelta(days=1))}",
            "billing:verify:stripe": f"fail {stamp(UPDATED + timedelta(minutes=3))}",
            "billing:verify:hosting": "pass, honest \x1b[31m",  # set by hand: not a record
            "vcs:kind": "github.com"}
    updated(project, tmp_path, monkeypatch, "test", tags)
    vercel.deployment("preview", ms(UPDATED + timedelta(minutes=2)))
    code, out = status(project)
    assert code == exits.FINDINGS
    lines = out.splitlines()
    assert ("  TODO  verify webhook: passed at 2026-11-29T10:00:00.000Z, before the last update" in lines)
    assert "  TODO  verify stripe: failed at 2026-11-30T10:03:00.000Z" in lines
    assert ("        fix: `billing verify --stack test` again shows each failed check with its fix" in lines)
    assert ("  TODO  verify hosting: the tag billing:verify:hosting is not `pass|fail <time>` as verify "
            "writes it") in lines
    assert "  TODO  verify payment: never recorded on this stack" in lines
    assert "        fix: `billing verify payment --stack test` (test mode: a subscription made and removed; " \
           "live: a Checkout Session a person pays)" in lines
    assert lines.count("        fix: `billing verify --stack test`") == 2
    assert "\x1b" not in out


def test_a_last_update_that_failed_is_to_do_and_its_result_is_read_without_secrets(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, vercel: VercelProject,
) -> None:
    pulumi = updated(project, tmp_path, monkeypatch, "test", passed(UPDATED + timedelta(minutes=5)))
    vercel.deployment("preview", ms(UPDATED + timedelta(minutes=2)))
    # The file backend's checkpoint keeps what a failed `up` made: resources, and a lastUpdate.
    pulumi.history = {"test": [{"version": 2, "kind": "update", "result": "failed", "startTime": stamp(UPDATED),
                                "endTime": stamp(UPDATED)}]}
    pulumi.save()
    code, out = status(project)
    assert code == exits.FINDINGS
    assert "TODO  the last update of the stack (ended 2026-11-30T10:00:00.000Z) failed: the stack may be " \
           "part-way through it" in out
    assert "fix: `pulumi preview --stack test --policy-pack policies` shows what is left, then `pulumi up " \
           "--stack test --policy-pack policies`" in out
    history = [argv for argv in pulumi.argv() if argv[:2] == ["stack", "history"]]
    assert history == [["stack", "history", "--json", "--page-size", "1", "--stack", "test"]]  # no --show-secrets

    pulumi.history = None  # the default: one update, which succeeded
    pulumi.save()
    code, out = status(project)
    assert "ok    last update 2026-11-30T10:00:00.000Z succeeded" in out


def test_a_host_that_cannot_be_read_is_a_gap_and_names_what_the_update_wrote(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, vercel: VercelProject,
) -> None:
    updated(project, tmp_path, monkeypatch, "test", passed(UPDATED + timedelta(minutes=5)),
            ["preview:STRIPE_PRICE_PRO_MONTHLY"])
    vercel.failures["/v6/deployments"] = 500
    code, out = status(project)
    assert code == exits.FINDINGS
    assert ("TODO  host: could not tell whether the running app has the stack's variables (server error "
            "(500): An unexpected error occurred.); the last update wrote preview:STRIPE_PRICE_PRO_MONTHLY") in out


def test_no_preview_deployment_yet_is_a_gap_with_the_deploy_command(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, vercel: VercelProject,
) -> None:
    updated(project, tmp_path, monkeypatch, "test", passed(UPDATED + timedelta(minutes=5)))
    code, out = status(project)
    assert code == exits.FINDINGS
    assert "TODO  host: preview has no deployment yet, so no running app reads the variables written there" in out
    assert "fix: deploy a preview (`vercel deploy`, or a push to any other branch)" in out


def test_worker_secrets_apply_at_once_so_a_cloudflare_stack_never_needs_a_redeploy(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, vercel: VercelProject,
) -> None:
    updated(project, tmp_path, monkeypatch, "test", passed(UPDATED + timedelta(minutes=5)))
    text = (project.root / "Pulumi.test.yaml").read_text().replace(
        f"  billing:vercelProject: {VERCEL_PROJECT}\n",
        "  billing:host: cloudflare\n  billing:cloudflareAccountId: 0123456789abcdef0123456789abcdef\n"
        "  billing:workerScript: shop\n")
    (project.root / "Pulumi.test.yaml").write_text(text)
    _, out = status(project)
    assert "ok    host: Cloudflare Workers applies each value as `up` writes it: no redeploy" in out
    assert vercel.requests == []


# ---------------------------------------------------------------- a broken or hostile pulumi CLI


@pytest.mark.parametrize("backend, shown", [
    ("postgres://admin:{secret}@db.internal:5432/pulumi", "postgres://db.internal:5432/pulumi"),
    ("https://user:{secret}@state.example.com/api", "https://state.example.com/api"),
    ("s3://state-bucket?region=eu-west-1&token={secret}", "s3://state-bucket"),
])
def test_a_backend_url_is_shown_without_its_credentials(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str, shown: str,
) -> None:
    secret = "S3cret" + "Passw0rd" * 3
    ready_files(project, "test")
    Pulumi(tmp_path / "bin", backend=backend.format(secret=secret), stacks={"live": {}})
    on_path(monkeypatch, tmp_path / "bin")
    _, out = status(project)
    assert f"ok    logged in to {shown}\n" in out
    assert f"TODO  stack 'test' does not exist in {shown}\n" in out
    assert secret not in out


def test_a_failing_whoami_shows_the_clis_reason(project: Project, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    ready_files(project, "test")
    Pulumi(tmp_path / "bin", stacks={"test": {}}, failures={
        "whoami": (1, 'error: unable to open state directory "file:///mnt/state": permission denied\n')})
    on_path(monkeypatch, tmp_path / "bin")
    code, out = status(project)
    assert code == exits.FINDINGS
    assert ("TODO  not logged in to a state backend: `pulumi whoami --json` failed (exit 1): error: unable to "
            'open state directory "file:///mnt/state": permission denied') in out


@pytest.mark.parametrize("broken", [{"failures": {"stack ls": (255, "error: could not reach the backend\n")}},
                                    {"answers": {"stack ls": "[{\"name\": \"test\""}}])
def test_stacks_that_cannot_be_listed_are_not_said_to_be_missing(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broken: dict[str, Any],
) -> None:
    ready_files(project, "test")
    Pulumi(tmp_path / "bin", stacks={"test": {}}, **broken)
    on_path(monkeypatch, tmp_path / "bin")
    code, out = status(project)
    assert code == exits.FINDINGS
    assert "does not exist" not in out and "stack init" not in out  # it may well exist: never make it again
    assert "TODO  the stacks in file:///home/me could not be listed: `pulumi stack ls --json` " in out
    assert "fix: `pulumi stack ls` shows why; then `billing status --stack test` again" in out


def test_a_verify_record_dated_in_the_future_is_not_a_pass(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, vercel: VercelProject,
) -> None:
    # A tag anyone with the backend can set: a pass dated next year would otherwise outlive every update.
    forged = datetime.now(UTC) + timedelta(days=365)
    tags = {**passed(UPDATED + timedelta(minutes=5)), "billing:verify:stripe": f"pass {stamp(forged)}"}
    updated(project, tmp_path, monkeypatch, "test", tags)
    for name in NAMES:
        vercel.env(name, ["preview"], sensitive=True, updated=ms(UPDATED - timedelta(minutes=1)))
    vercel.deployment("preview", ms(UPDATED + timedelta(minutes=2)))
    code, out = status(project)
    assert code == exits.FINDINGS, out
    assert (f"TODO  verify stripe: the tag billing:verify:stripe is dated {stamp(forged)}, later than now: "
            "not a record `billing verify` made") in out
    assert "fix: `billing verify --stack test`" in out
    assert "ok    verify webhook: passed at 2026-11-30T10:05:00.000Z, after the last update" in out


@pytest.mark.parametrize("summary", [{"resourceCount": 27}, {"lastUpdate": "yesterday", "resourceCount": 27},
                                     {"lastUpdate": "2026-11-30T10:00:00"}])
def test_a_deployed_stack_without_a_readable_update_time_is_not_ready(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, summary: dict[str, object],
) -> None:
    keys = ready_files(project, "test")
    Pulumi(tmp_path / "bin", stacks={"test": summary}, config={name: (value, True) for name, value in keys.items()},
           tags=passed(UPDATED))
    on_path(monkeypatch, tmp_path / "bin")
    code, out = status(project)
    assert code == exits.FINDINGS, out
    assert "nothing deployed yet" not in out
    assert out.rstrip().splitlines()[-1].startswith("not ready to go live:")
    assert "TODO  the backend gave no readable time for the stack's last update" in out
    assert "fix: `pulumi stack --stack test` shows the last update; then `billing status --stack test` again" in out


@pytest.mark.parametrize("broken", ["deployment far ahead", "deployment undated", "variable far ahead",
                                    "variable undated"])
def test_a_host_answer_with_no_usable_time_is_a_gap_not_a_crash_or_a_pass(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, vercel: VercelProject, broken: str,
) -> None:
    updated(project, tmp_path, monkeypatch, "test", passed(UPDATED + timedelta(minutes=5)))
    for name in NAMES:
        vercel.env(name, ["preview"], sensitive=True, updated=ms(UPDATED - timedelta(minutes=1)))
    deployment = vercel.deployment("preview", ms(UPDATED + timedelta(minutes=2)))
    what, how = broken.split(" ", 1)
    entry = deployment if what == "deployment" else vercel.envs[0]
    for field in ("created", "createdAt") if what == "deployment" else ("updatedAt",):
        if how == "undated":
            del entry[field]
        else:
            entry[field] = 1e300  # a finite JSON number: no time Python (or Vercel) can hold
    code, out = status(project)
    assert code == exits.FINDINGS, out
    assert "TODO  host: could not tell whether the running app has the stack's variables (GET " in out
    assert "is not a time in milliseconds" in out


def test_keys_that_could_not_be_read_are_never_called_valid(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    ready_files(project, "test")
    Pulumi(tmp_path / "bin", stacks={"test": {}},
           failures={"config": (255, "error: failed to decrypt: incorrect passphrase\n")})
    on_path(monkeypatch, tmp_path / "bin")
    code, out = status(project)
    assert code == exits.FINDINGS
    assert "TODO  the stack's secrets could not be read: `pulumi config --json --show-secrets --stack test` " \
           "failed (exit 255): error: failed to decrypt: incorrect passphrase" in out
    assert "every setting and key is valid" not in out
    assert "ok    every setting is valid for test mode; the keys are not checked until they can be read" in out


def test_each_fix_on_the_way_to_a_stack_can_be_run_as_printed(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    ready_files(project, "test")
    Pulumi(tmp_path / "bin", stacks={"live": {}})
    on_path(monkeypatch, tmp_path / "bin")
    _, out = status(project)
    # Without PULUMI_CONFIG_PASSPHRASE a non-interactive `stack init` fails; without --stack, status
    # refuses until a stack is selected, which is what these fixes lead to.
    assert ("fix: export PULUMI_CONFIG_PASSPHRASE (the test stack's own passphrase), then `pulumi stack init "
            "test --secrets-provider passphrase` (README step 6)") in out
    assert "TODO  the keys are not checked until the pulumi CLI can read the stack" in out
    assert "fix: the items above, then `billing status --stack test` again" in out


def test_status_as_a_whole_keeps_its_total_deadline_against_a_host_that_pages_slowly(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each page just inside the per-request deadline, each with a new cursor: without a deadline for
    # the whole command, the page cap (100) times the request deadline bounds nothing a user waits for.
    serial = count(1_700_000_000_000, -1)

    def slow_pages(h: Handler) -> None:
        if not h.stopping.wait(0.3):
            h.send_json(200, {"envs": [], "pagination": {"count": 0, "next": next(serial), "prev": None}})

    updated(project, tmp_path, monkeypatch, "test", passed(UPDATED + timedelta(minutes=5)))
    monkeypatch.setattr(readiness, "TOTAL_SECONDS", 1.0, raising=False)
    with HostileServer(slow_pages) as server:
        monkeypatch.setenv("VERCEL_API_BASE", server.base)
        (code, out), seconds = elapsed(lambda: status(project))
    assert code == exits.FINDINGS, out
    assert seconds < 15, seconds  # the pages alone would take 30 s
    assert "TODO  host: could not tell whether the running app has the stack's variables (" in out


def test_nothing_secret_shaped_from_the_cli_reaches_the_output(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, vercel: VercelProject,
) -> None:
    # The stack's outputs come from the CLI; a broken program or a hostile CLI can put anything there.
    leaked = key("sk", "live", "Leak")
    updated(project, tmp_path, monkeypatch, "test", passed(UPDATED + timedelta(minutes=5)), [f"preview:{leaked}"])
    vercel.failures["/v6/deployments"] = 500
    code, out = status(project)
    assert code == exits.FINDINGS
    assert "the last update wrote preview:sk_live_... (" in out and leaked not in out


@pytest.mark.parametrize("kind", ["pipe", "device"])
def test_a_stack_file_that_is_not_a_file_is_refused_before_the_cli_is_asked(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str,
) -> None:
    # The CLI would open it too: a named pipe with no writer holds every question to its deadline.
    stack_file = project.root / "Pulumi.test.yaml"
    stack_file.unlink(missing_ok=True)
    if kind == "pipe":
        os.mkfifo(stack_file)
    else:
        stack_file.symlink_to("/dev/zero")
    pulumi = Pulumi(tmp_path / "bin", stacks={"test": {}})
    on_path(monkeypatch, tmp_path / "bin")
    code, _, err = run_cli("status", "--stack", "test", "--project", str(project.root))
    assert code == exits.REFUSED, err
    assert "Pulumi.test.yaml: (file): not a regular file (a device, pipe or directory)" in err
    assert pulumi.argv() == []


@pytest.mark.parametrize("outputs", [
    {"hostingVariables": {"preview": NAMES}, "redeployNeeded": 5},
    {"hostingVariables": {"preview": NAMES}, "redeployNeeded": "preview:STRIPE_SECRET_KEY"},
    {"hostingVariables": {"preview": [5, {"a": 1}]}, "redeployNeeded": []},
    {"hostingVariables": {"preview": "STRIPE_SECRET_KEY"}},
])
def test_outputs_of_another_shape_are_a_gap_not_a_crash(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, vercel: VercelProject,
    outputs: dict[str, Any],
) -> None:
    pulumi = updated(project, tmp_path, monkeypatch, "test", passed(UPDATED + timedelta(minutes=5)))
    pulumi.outputs = outputs
    pulumi.save()
    code, out = status(project)
    assert code == exits.FINDINGS, out
    assert ("TODO  host: the last update (2026-11-30T10:00:00.000Z) left no list of the host's values (the "
            "hostingVariables and redeployNeeded outputs are not lists of names)") in out
    assert vercel.requests == []


@pytest.mark.parametrize(("listed", "said"), [
    # `stack ls` names a stack as `--stack` resolves it (the reference's String()): bare in the default
    # organization, `org/name` in another, `org/project/name` everywhere when fully qualified.
    ({"test": {}, "otherorg/test": {}}, "ok    stack 'test' exists"),
    ({"acme/billing/test": {}}, "ok    stack 'test' exists"),
    ({"otherorg/test": {}}, "TODO  stack 'test' does not exist in your default organization (only as "
                            "otherorg/test: `--stack` with the bare name never reaches it)"),
    ({"a/billing/test": {}, "b/billing/test": {}}, "TODO  2 stacks are named 'test' in "),
], ids=["bare-wins", "fully-qualified", "another-org-only", "two-orgs-qualified"])
def test_the_stack_is_the_one_the_cli_s_stack_flag_names(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, listed: dict[str, Any], said: str,
) -> None:
    ready_files(project, "test")
    Pulumi(tmp_path / "bin", stacks=listed)
    on_path(monkeypatch, tmp_path / "bin")
    _, out = status(project)
    assert said in out, out
    if said.startswith("TODO  2 stacks"):
        assert "(a/billing/test, b/billing/test)" in out and "`pulumi org set-default ORG`" in out
