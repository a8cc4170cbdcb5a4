"""`billing status`: a fresh copy, a half-configured stack and a ready one, with a stand-in `pulumi`.

The stand-in answers `version`, `whoami --json`, `stack ls --json` and `config --json
--show-secrets` in the real CLI's formats (pulumi/pulumi, pkg/cmd/pulumi: WhoAmIJSON's
`user`/`url`, stack summaries' `name`, configValueJSON's `value`/`secret`).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from infra.core import exits
from tests.support.project import DOMAINS, VERCEL_PROJECT, Project, key, run_cli

SEALED = "\n    secure: v1:ZXhhbXBsZQ==:v1:ExampleCiphertextOnly"


def stand_in(bin_dir: Path, version: str, stacks: list[str], config: dict[str, tuple[str, bool]]) -> None:
    answers = {
        "version": version,
        "whoami": json.dumps({"user": "me", "url": "file:///home/me"}),
        "stack": json.dumps([{"name": name, "current": False, "updateInProgress": False,
                              "lastUpdate": "2026-11-30T10:00:00.000Z", "resourceCount": 27} for name in stacks]),
        "config": json.dumps({k: {"value": v, "secret": s} for k, (v, s) in config.items()}),
    }
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "answers.json").write_text(json.dumps(answers))
    script = bin_dir / "pulumi"
    script.write_text(f"#!{sys.executable}\nimport json, sys\n"
                      f"answers = json.load(open({str(bin_dir / 'answers.json')!r}))\n"
                      "if sys.argv[1:3] == ['config', 'set'] or sys.argv[1] in ('up', 'preview', 'destroy'):\n"
                      "    sys.exit(99)  # status only reads\n"
                      "print(answers[sys.argv[1]])\n")
    script.chmod(0o755)


def on_path(monkeypatch: pytest.MonkeyPatch, bin_dir: Path) -> None:
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("PULUMI_CONFIG", raising=False)


def status(project: Project) -> tuple[int, str]:
    code, out, err = run_cli("status", "--stack", "test", "--project", str(project.root))
    assert err == "" or code != exits.INTERNAL, err
    return code, out


def test_a_fresh_copy_names_each_step_with_its_command(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("PULUMI_CONFIG", raising=False)
    project.stack("test", "config:\n  billing:mode: test\n  billing:vercelProject: prj_ExampleProjectId\n"
                          "  billing:domain: staging.example.com\n")
    code, out = status(project)
    assert code == exits.FINDINGS
    assert "TODO  pulumi CLI: the pulumi CLI is not on PATH" in out
    assert "fix: install the Pulumi CLI 3.174 or newer: https://www.pulumi.com/docs/install/" in out
    assert "stripe:apiKey: is not set: run `pulumi config set --secret stripe:apiKey rk_test_... --stack test`" in out
    assert "still the repository's example: Pulumi.test.yaml:3: billing:vercelProject" in out
    assert "still the repository's example: Pulumi.test.yaml:4: billing:domain" in out
    assert out.rstrip().splitlines()[-1].startswith("not ready to go live:")


def test_a_half_configured_stack_says_what_is_left(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    project.stack("test", f"config:\n  billing:mode: test\n  billing:vercelProject: {VERCEL_PROJECT}\n"
                          f"  billing:domain: {DOMAINS['test']}\n  stripe:apiKey:{SEALED}\n")
    deployer = key("rk", "test", "Dep1")
    stand_in(tmp_path / "bin", "v3.274.1", ["live"], {"billing:mode": ("test", False),
                                                      "stripe:apiKey": (deployer, True)})
    on_path(monkeypatch, tmp_path / "bin")
    code, out = status(project)
    assert code == exits.FINDINGS
    assert "ok    pulumi CLI v3.274.1" in out and "ok    logged in to file:///home/me" in out
    assert "TODO  stack 'test' does not exist" in out
    assert "fix: `pulumi stack init test --secrets-provider passphrase`" in out
    assert "secrets set: stripe:apiKey (names only)" in out
    assert "billing:appStripeKey: is not set: run `pulumi config set --secret billing:appStripeKey" in out
    assert deployer not in out


def test_an_old_cli_is_named_with_the_minimum(project: Project, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    stand_in(tmp_path / "bin", "v3.100.0", ["test"], {})
    on_path(monkeypatch, tmp_path / "bin")
    code, out = status(project)
    assert code == exits.FINDINGS and "pulumi CLI 'v3.100.0' is older than 3.174" in out


def test_a_ready_stack_exits_0_and_prints_no_secret(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    keys = {"stripe:apiKey": key("rk", "test", "Dep1"), "billing:appStripeKey": key("rk", "test", "App1"),
            "vercel:apiToken": "vercel" + "T0ken" * 5}
    publishable = key("pk", "test", "Pub1")
    project.stack("test", f"config:\n  billing:mode: test\n  billing:vercelProject: {VERCEL_PROJECT}\n"
                          f"  billing:domain: {DOMAINS['test']}\n  billing:publishableKey: {publishable}\n"
                          + "".join(f"  {name}:{SEALED}\n" for name in keys))
    stand_in(tmp_path / "bin", "v3.274.1", ["acme/billing/test"],
             {name: (value, True) for name, value in keys.items()})
    on_path(monkeypatch, tmp_path / "bin")
    code, out = status(project)
    assert code == exits.OK, out
    assert "TODO" not in out and "keys checked with their real values" in out
    assert "ok    stack 'test' exists; last update 2026-11-30T10:00:00.000Z" in out
    assert out.rstrip().endswith("ready to go live: next `pulumi preview --stack test --policy-pack policies`")
    assert not any(secret in out for secret in keys.values())


def test_no_such_stack_is_refused(project: Project) -> None:
    code, _, err = run_cli("status", "--stack", "staging", "--project", str(project.root))
    assert code == exits.REFUSED and "no stack 'staging' here" in err
