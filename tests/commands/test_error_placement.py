"""Each error is blamed on the right place, with wording that fits the command (issue 13's list)."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.support.project import Project, credentials, run_cli
from tests.support.repository import CATALOG


def line_of(project: Project, file: str, text: str) -> int:
    lines = (project.root / file).read_text().splitlines()
    return next(n for n, line in enumerate(lines, start=1) if line.lstrip().startswith(text))


def validate(project: Project, stack: str = "test", *extra: str) -> tuple[int, str, str]:
    return run_cli("validate", "--stack", stack, "--project", str(project.root), *extra)


def engine_config(monkeypatch: pytest.MonkeyPatch, mode: str, **values: str) -> None:
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(credentials(mode) | values))


def test_a_key_given_through_pulumi_config_is_reported_there(project: Project,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    engine_config(monkeypatch, "test", **{"billing:domain": "not a host"})
    code, out, err = validate(project)
    assert code == 2 and out == ""
    assert err == ("1 problem found:\n  PULUMI_CONFIG: billing:domain: 'not a host' is not a "
                   "lowercase DNS host name like 'app.example.com'\n")


def test_the_same_value_in_the_file_and_pulumi_config_is_the_file_line(project: Project,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    project.stack("test", "config:\n  billing:mode: test\n  billing:vercelProject: prj_X\n  billing:domain: bad_host\n")
    engine_config(monkeypatch, "test", **{"billing:domain": "bad_host"})
    _, _, err = validate(project)
    assert "  Pulumi.test.yaml:4: billing:domain: 'bad_host' is not a lowercase DNS host" in err


def test_a_catalog_given_on_the_command_line_is_reported_there(project: Project) -> None:
    _, _, err = validate(project, "test", "--catalog", str(project.root / "missing.yaml"))
    assert err == ("1 problem found:\n  --catalog: billing:catalog: 'missing.yaml' names no catalog it "
                   "can read (file not found; create it or pass the right path)\n")


@pytest.mark.parametrize(("text", "line", "problem"), [
    ("config:\n  billing:mode: test\n  billing:domain: [app.example.com\n", 4,
     "(syntax): expected ',' or ']', but got '<stream end>'; fix the YAML syntax at this line"),
    ("config:\n  billing:mode: test\n\tbilling:domain: x\n", 3,
     "(syntax): found character '\\t' that cannot start any token; fix the YAML syntax at this line"),
    ("config: 5\n", 1, "config: a stack file is a mapping with the settings under `config:` (one "
                       "`billing:name: value` per line)"),
    ("config:\n  billing:mode: yes\n  billing:domain: app.example.com\n", 2,
     "config.billing:mode: YAML 1.1 reads yes as true; write true for a yes/no setting, or quote it ('yes') "
     "for text"),
])
def test_a_broken_stack_file_is_reported_alone(project: Project, text: str, line: int, problem: str) -> None:
    project.stack("test", text)
    code, _, err = validate(project)
    assert code == 2
    assert err == f"1 problem found:\n  Pulumi.test.yaml:{line}: {problem}\n"  # no phantom "missing" lines


def test_an_unknown_stack_lists_the_stacks_that_exist(project: Project) -> None:
    project.stack("staging", "config:\n  billing:mode: test\n")
    for command in ("validate", "plan", "keys"):
        code, _, err = run_cli(command, "--stack", "prod", "--project", str(project.root))
        assert code == 2
        assert err == (
            "1 problem found:\n  Pulumi.prod.yaml: (stack): no stack 'prod' here: Pulumi.prod.yaml does not exist; "
            "stacks in this project: test, live, staging. Pick one with --stack, or give a new stack its settings: "
            "`pulumi stack init prod`, then `pulumi config set billing:mode test --stack prod` and the other "
            "settings README lists\n")


def test_a_stack_name_that_is_not_one_is_refused(project: Project) -> None:
    code, _, err = run_cli("validate", "--stack", "../../etc/passwd", "--project", str(project.root))
    assert code == 2
    assert err == ("1 problem found:\n  --stack: (stack name): a stack name is letters, digits, '_', '-' and "
                   "'.'; pick one of: test, live\n")


@pytest.mark.parametrize("command", [("validate",), ("plan",), ("plan", "--format", "json"), ("keys",)])
def test_read_only_commands_say_found_not_applied(project: Project, command: tuple[str, ...]) -> None:
    project.catalog(CATALOG.replace("  pro:", "  Pro:"))
    code, out, err = run_cli(command[0], "--stack", "test", "--project", str(project.root), *command[1:])
    assert code == 2 and out == ""
    # One problem: the portal's reference to 'pro' is the bad key's knock-on, not a second mistake.
    assert err.startswith("1 problem found:\n  stacks/catalog.yaml:")
    assert "applied" not in err


def test_diff_says_found_not_applied(project: Project) -> None:
    for argv in (["init", "-q"], ["add", "-A"], ["-c", "user.email=a@b.c", "-c", "user.name=A", "commit", "-qm", "x"]):
        subprocess.run(["git", "-C", str(project.root), *argv], check=True, capture_output=True)
    project.catalog(CATALOG.replace("  pro:", "  Pro:"))
    code, _, err = run_cli("diff", "--base", "HEAD", "--stack", "test", "--project", str(project.root))
    assert code == 2 and err.startswith("1 problem found:\n") and "applied" not in err


@pytest.mark.parametrize(("typed", "hint"), [
    # difflib would offer 2012-10-26 for this one.
    ("2026-10-28", "the newest is '2026-10-28.endive'"),
    ("2025-03-30.basil", "the nearest release on or after that date is '2025-03-31.basil'; the newest is "
                         "'2026-10-28.endive'"),
    ("2012-10-27", "the nearest release on or after that date is '2024-09-30.acacia'; the newest is "
                   "'2026-10-28.endive'"),
    ("latest", "the newest is '2026-10-28.endive'"),
])
def test_an_api_version_suggestion_is_never_an_ancient_one(project: Project, typed: str, hint: str) -> None:
    project.catalog(CATALOG.replace('"2026-10-28.endive"', f'"{typed}"'))
    _, _, err = validate(project)
    line = line_of(project, "stacks/catalog.yaml", "api_version:")
    assert err == (f"1 problem found:\n  stacks/catalog.yaml:{line}: webhook.api_version: {typed!r} is not a "
                   f"Stripe API version; pin the version the webhook handler is written against: {hint}\n")


def test_a_price_with_too_many_decimals_is_never_rounded_for_the_user(project: Project) -> None:
    project.catalog(CATALOG.replace('amount: "29.00"', 'amount: "29.999"'))
    _, _, err = validate(project)
    line = line_of(project, "stacks/catalog.yaml", "monthly: {amount: \"29.999\"")
    assert err == (f"1 problem found:\n  stacks/catalog.yaml:{line}: plans.pro.prices.monthly.amount: 29.999 has "
                   "3 decimals; usd allows at most 2: write the amount you mean\n")

