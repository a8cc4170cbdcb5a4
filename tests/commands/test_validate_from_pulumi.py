"""`validate --from-pulumi`: the real keys, read through a stand-in `pulumi` on PATH.

The stand-in prints what `pulumi config --json --show-secrets` prints (pulumi/pulumi,
pkg/cmd/pulumi/config, `configValueJSON`): one object per full key with `value` (an object's
JSON text, `objectValue` beside it) and `secret`. The real CLI is exercised elsewhere.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
import time
from pathlib import Path

import pytest

from infra.clients import pulumi_cli
from tests.support.project import DOMAINS, VERCEL_PROJECT, Project, key, run_cli
from tests.support.repository import REPO

SEALED = "\n    secure: v1:ZXhhbXBsZQ==:v1:ExampleCiphertextOnly"
LIVE_FILE = f"""\
config:
  billing:mode: live
  billing:vercelProject: {VERCEL_PROJECT}
  billing:domain: {DOMAINS["live"]}
  billing:publishableKey: PUBLISHABLE
  stripe:apiKey:{SEALED}
  billing:appStripeKey:{SEALED}
  vercel:apiToken:{SEALED}
"""


def fake_pulumi(bin_dir: Path, body: str) -> Path:
    """A `pulumi` executable on PATH that runs `body` (Python) with argv; records each call."""
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / "pulumi"
    script.write_text(f"#!{sys.executable}\nimport json, sys, time\n"
                      f"open({str(bin_dir / 'calls')!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n"
                      + textwrap.dedent(body))
    script.chmod(0o755)
    return script


def answers(values: dict[str, str], secret: set[str]) -> str:
    """The JSON `pulumi config --json --show-secrets` prints for these values."""
    out: dict[str, object] = {}
    for name, value in sorted(values.items()):
        entry: dict[str, object] = {"value": value, "secret": name in secret}
        if value.startswith("{"):
            entry["objectValue"] = json.loads(value)
        out[name] = entry
    return json.dumps(out, indent=4)


def live_project(project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                 deployer: str, app: str) -> str:
    publishable = key("pk", "live", "Pub1")
    project.stack("live", LIVE_FILE.replace("PUBLISHABLE", publishable))
    values = {"billing:mode": "live", "billing:domain": DOMAINS["live"], "billing:vercelProject": VERCEL_PROJECT,
              "billing:publishableKey": publishable, "stripe:apiKey": deployer, "billing:appStripeKey": app,
              "vercel:apiToken": "vercel" + "T0ken" * 5,
              "billing:coupons": json.dumps({"smoke": {"name": "S", "percent_off": 100, "duration": "once"}})}
    (tmp_path / "answer.json").write_text(answers(values, {"stripe:apiKey", "billing:appStripeKey",
                                                           "vercel:apiToken"}))
    fake_pulumi(tmp_path / "bin", f"print(open({str(tmp_path / 'answer.json')!r}).read())\n")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("PULUMI_CONFIG", raising=False)
    return publishable


def test_a_test_key_sealed_in_the_live_stack_is_refused_with_its_line(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    wrong = key("rk", "test", "Dep1")
    live_project(project, tmp_path, monkeypatch, wrong, key("rk", "live", "App1"))
    code, out, err = run_cli("validate", "--stack", "live", "--project", str(project.root))
    # Without the CLI's help the sealed key cannot be seen, and ok says so plainly.
    assert code == 0, err
    assert "keys: NOT checked: stripe:apiKey, billing:appStripeKey, vercel:apiToken" in out
    assert "billing validate --stack live --from-pulumi" in out
    code, out, err = run_cli("validate", "--stack", "live", "--from-pulumi", "--project", str(project.root))
    assert code == 2 and out == ""
    assert "Pulumi.live.yaml:6: stripe:apiKey: the key is a test-mode key (rk_test_) but the stack is in " \
           "live mode" in err
    assert wrong not in err and wrong[8:] not in err
    calls = [json.loads(line) for line in (tmp_path / "bin" / "calls").read_text().splitlines()]
    assert calls[-1] == ["config", "--json", "--show-secrets", "--stack", "live"]


def test_the_right_keys_pass_and_are_never_printed(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    deployer, app = key("rk", "live", "Dep1"), key("rk", "live", "App1")
    live_project(project, tmp_path, monkeypatch, deployer, app)
    before = sorted(p for p in project.root.rglob("*") if p.name != "calls")
    code, out, err = run_cli("validate", "--stack", "live", "--from-pulumi", "--project", str(project.root))
    assert code == 0, err
    assert out.startswith("ok: stack 'live' (live mode)")
    assert "keys: checked, decrypted by the pulumi CLI in memory only" in out and "NOT checked" not in out
    for secret in (deployer, app, "vercel" + "T0ken" * 5):
        assert secret not in out + err
    # Nothing was written beside the project: the decrypted config stayed in memory.
    assert sorted(p for p in project.root.rglob("*") if p.name != "calls") == before


def test_an_app_key_equal_to_the_deployers_is_seen_only_with_the_real_keys(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    same = key("rk", "live", "Same")
    live_project(project, tmp_path, monkeypatch, same, same)
    code, _, err = run_cli("validate", "--stack", "live", "--from-pulumi", "--project", str(project.root))
    assert code == 2 and "the app would run with the deployer's key" in err and same not in err


def test_without_the_pulumi_cli_the_error_says_so(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    code, out, err = run_cli("validate", "--stack", "test", "--from-pulumi", "--project", str(project.root))
    assert code == 2 and out == ""
    assert "--from-pulumi: (pulumi CLI): the pulumi CLI is not on PATH" in err
    assert "https://www.pulumi.com/docs/install/" in err and "nothing was checked" in err


def test_a_failing_cli_is_reported_by_its_first_line_masked(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    leaked = key("sk", "live", "Leak")
    fake_pulumi(tmp_path / "bin", f"""\
        sys.stderr.write("error: incorrect passphrase near {leaked}\\nmore\\n")
        sys.exit(255)
        """)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    code, _, err = run_cli("validate", "--stack", "test", "--from-pulumi", "--project", str(project.root))
    assert code == 2
    assert "failed (exit 255): error: incorrect passphrase near sk_live_..." in err
    assert leaked not in err and "more" not in err


def test_the_cli_has_a_total_deadline_and_bounded_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    # A byte at a time, forever: a per-read timeout would never fire.
    fake_pulumi(tmp_path / "bin", """\
        while True:
            sys.stdout.write("{"); sys.stdout.flush(); time.sleep(0.05)
        """)
    started = time.monotonic()
    with pytest.raises(pulumi_cli.CliError, match=r"no complete answer within 0\.5s"):
        pulumi_cli.decrypted_config("test", tmp_path, deadline=0.5)
    assert time.monotonic() - started < 3
    fake_pulumi(tmp_path / "bin", "sys.stdout.write('x' * (3 << 20))\n")
    with pytest.raises(pulumi_cli.CliError, match="printed more than 1024 KiB"):
        pulumi_cli.decrypted_config("test", tmp_path)


def test_an_answer_of_another_shape_is_refused_without_quoting_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    secret = key("rk", "live", "Shap")
    fake_pulumi(tmp_path / "bin", f"print(json.dumps({{'stripe:apiKey': {secret!r}}}))\n")
    with pytest.raises(pulumi_cli.CliError) as raised:
        pulumi_cli.decrypted_config("live", tmp_path)
    assert "not a config value's shape" in str(raised.value) and secret not in str(raised.value)


def test_keys_and_readme_name_the_check_that_sees_the_real_keys(project: Project) -> None:
    code, out, _ = run_cli("keys", "--stack", "test", "--project", str(project.root))
    assert code == 0 and "Then run `billing validate --stack test --from-pulumi`" in out
    readme = (REPO / "docs" / "getting-started.md").read_text()
    step7 = readme[readme.index("**7. Create the keys"):readme.index("**8. Preview test.**")]
    assert "billing validate --stack test --from-pulumi" in step7
