"""Every command, every input channel: a lone surrogate, a NUL or a C1 character is a refusal naming
the input (exit 2), or is shown escaped; never an internal error (exit 3)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator

import pytest

from infra.core import exits
from tests.servers.stripe_api_server import StripeAccount, StripeServer
from tests.support.project import Project, credentials, key, run_cli

UNFIT = {"surrogate": "\ud800", "nul": "\x00"}
C1 = "\x9b2J"
COMMANDS = [("validate",), ("plan",), ("keys",), ("export", "--format", "json")]


def config_with(name: str, bad: str) -> str:
    return json.dumps({**credentials("test"), name: "x" + bad + "y"})


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize("setting", ["stripe:apiKey", "vercel:apiToken", "billing:publishableKey",
                                     "billing:domain"])
@pytest.mark.parametrize("unfit", list(UNFIT))
def test_pulumi_config_holding_unfit_text_is_refused_naming_it(
    project: Project, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...], setting: str, unfit: str,
) -> None:
    monkeypatch.setenv("PULUMI_CONFIG", config_with(setting, UNFIT[unfit]))
    code, _, err = run_cli(command[0], "--stack", "test", "--project", str(project.root), *command[1:])
    assert code == exits.REFUSED, err
    assert f"PULUMI_CONFIG: (environment): {setting} holds a" in err
    assert "internal error" not in err


def test_a_c1_character_in_pulumi_config_is_refused_or_escaped(
    project: Project, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PULUMI_CONFIG", config_with("billing:domain", C1))
    for command in COMMANDS:
        code, out, err = run_cli(command[0], "--stack", "test", "--project", str(project.root), *command[1:])
        assert code in (exits.OK, exits.REFUSED), (command, err)
        assert "\x9b" not in out + err


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[StripeAccount]:
    a = StripeAccount()
    reader = key("rk", "test", "Pull")
    a.keys = {reader: None}
    with StripeServer(a) as running:
        monkeypatch.setenv("STRIPE_API_BASE", running.base)
        monkeypatch.setenv("STRIPE_API_KEY", reader)
        monkeypatch.delenv("PULUMI_CONFIG", raising=False)
        yield a


@pytest.mark.parametrize("unfit", list(UNFIT))
@pytest.mark.parametrize("field", ["name", "description", "id"])
def test_a_server_answer_holding_unfit_text_refuses_the_pull_before_writing(
    project: Project, account: StripeAccount, unfit: str, field: str,
) -> None:
    product = account.product("Pro", {"plan": "pro"})
    product[field] = ("prod_x" if field == "id" else "Pro") + UNFIT[unfit]
    account.price(product, 2900, "month")
    code, out, err = run_cli("pull", "--stack", "test", "--project", str(project.root))
    assert code == exits.REFUSED, out + err
    assert "the Stripe account: (answer):" in err and "nothing was written" in err
    assert not (project.root / "adopt").exists()
    assert UNFIT[unfit] not in out + err


def test_an_environment_key_with_a_byte_that_is_not_utf8_is_refused(
    project: Project, account: StripeAccount, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", key("rk", "test", "Pull") + "\udcff")  # how os.environ holds \xff
    for argv in (("pull", "--stack", "test"), ("verify", "stripe", "--stack", "test")):
        code, out, err = run_cli(*argv, "--project", str(project.root))
        assert code == exits.REFUSED, (argv, out + err)
        assert "environment: STRIPE_API_KEY: holds a NUL or a byte that is not UTF-8" in err
    assert account.requests == []


def test_a_nul_in_the_base_revisions_catalog_setting_is_a_problem_not_a_crash(project: Project) -> None:
    def git(*argv: str) -> None:
        subprocess.run(["git", "-C", str(project.root), "-c", "user.email=ci@example.com", "-c", "user.name=CI",
                        *argv], check=True, capture_output=True)

    stack = project.root / "Pulumi.test.yaml"
    original = stack.read_text()
    stack.write_text(original + '  billing:catalog: "stacks/\\0catalog.yaml"\n')
    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-q", "-m", "base")
    stack.write_text(original)
    code, out, err = run_cli("diff", "--base", "main", "--stack", "test", "--project", str(project.root))
    assert code in (exits.OK, exits.FINDINGS, exits.REFUSED), err
    assert "internal error" not in err and "\x00" not in out + err


@pytest.mark.parametrize("command", [*COMMANDS, ("reprice", "pro.monthly", "39.00")], ids=lambda c: c[0])
@pytest.mark.parametrize(("what", "data"), [("nul", b"plans:\n  pro:\n    name: P\x00ro\n"),
                                            ("invalid utf-8", b"plans:\n  pro:\n    name: P\xed\xa0\x80ro\n"),
                                            ("c1", "plans:\n  pro:\n    name: P\x9bro\n".encode())])
def test_a_catalog_file_holding_unfit_text_is_refused_naming_it(
    project: Project, command: tuple[str, ...], what: str, data: bytes,
) -> None:
    (project.root / "stacks" / "catalog.yaml").write_bytes(data)
    stack = () if command[0] == "reprice" else ("--stack", "test")
    code, out, err = run_cli(*command, *stack, "--project", str(project.root))
    assert code == exits.REFUSED, (what, err)
    assert "stacks/catalog.yaml" in err and "internal error" not in err
    assert "\x00" not in out + err and "\x9b" not in out + err


def test_an_import_file_holding_a_json_surrogate_escape_is_refused_naming_it(
    project: Project, monkeypatch: pytest.MonkeyPatch,
) -> None:
    project.stack("test", (project.root / "Pulumi.test.yaml").read_text() + "  billing:adopt: adopt.json\n")
    (project.root / "adopt.json").write_text('{"resources": [{"type": "x", "name": "\\ud800", "id": "prod_1"}]}')
    for command in COMMANDS:
        code, _, err = run_cli(command[0], "--stack", "test", "--project", str(project.root), *command[1:])
        assert code == exits.REFUSED, (command, err)
        assert "adopt.json: (file): resources[0].name holds a lone surrogate" in err
