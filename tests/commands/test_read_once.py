"""Read once, then think: a command reads each of the project's files once, and every check works on that.

Every read goes through `sources.read_text` (YAML, JSON and text alike), so
counting its calls by file counts what a command read. The project is the
tests' usual one: two stacks (test and live) sharing one catalog.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra.catalog.stack_config import from_stack
from infra.core import sources
from infra.core.problems import ConfigError
from tests.servers.stripe_api_server import StripeAccount, StripeServer
from tests.support.project import STACK_FILES, Project, credentials, key, run_cli


def counting(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Every file `sources` reads from now on, by its resolved path, with how often."""
    reads: Counter[str] = Counter()
    read_text: Callable[..., Any] = sources.read_text

    def counted(path: Path, display: str | None = None) -> Any:
        reads[str(Path(path).resolve())] += 1
        return read_text(path, display)

    monkeypatch.setattr(sources, "read_text", counted)
    return reads


def relative(reads: Counter[str], project: Project) -> dict[str, int]:
    root = str(project.root.resolve()) + "/"
    return {path.removeprefix(root): count for path, count in sorted(reads.items())}


@pytest.mark.parametrize("argv", [
    ("validate",), ("keys",), ("export",), ("status",), ("verify", "payment", "--price", "nope"),
    ("verify", "stripe"),
], ids=lambda argv: " ".join(argv[:2]))
def test_a_command_reads_each_file_of_the_project_once(
    project: Project, monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...],
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")  # no pulumi CLI: what is read is the project's files
    monkeypatch.setenv("STRIPE_API_KEY", key("rk", "test", "Read"))
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:9")  # nothing listens: a probe fails at once
    reads = counting(monkeypatch)
    code, _, err = run_cli(*argv, "--stack", "test", "--project", str(project.root))
    assert code in (0, 1, 2), err
    read = relative(reads, project)
    assert {"Pulumi.test.yaml", "stacks/catalog.yaml", "Pulumi.live.yaml"} <= set(read), read
    assert {path: count for path, count in read.items() if count != 1} == {}


def test_pull_reads_each_file_once_before_it_writes_and_what_it_wrote_once_after(
    project: Project, monkeypatch: pytest.MonkeyPatch,
) -> None:
    account = StripeAccount()
    api_key = key("rk", "test", "Pull")
    account.keys = {api_key: None}
    product = account.product("Pro", {"plan": "pro"})
    account.price(product, 2900, "month", lookup_key="pro_monthly")
    with StripeServer(account) as server:
        monkeypatch.setenv("STRIPE_API_BASE", server.base)
        monkeypatch.setenv("STRIPE_API_KEY", api_key)
        monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"billing:webhookSecret": "whsec_" + "a" * 32}))
        reads = counting(monkeypatch)
        code, _, err = run_cli("pull", "--stack", "test", "--project", str(project.root))
    assert code in (0, 1), err
    read = relative(reads, project)
    assert {"Pulumi.test.yaml", "adopt/test/catalog.yaml", "adopt/test/import.json"} <= set(read), read
    assert {path: count for path, count in read.items() if count != 1} == {}


def test_plan_reads_each_file_once_and_the_program_it_runs_once_more(
    project: Project, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`plan` checks the stack before the run (one read of each file), then runs the program, which
    loads the stack itself as `pulumi preview` and `up` run it (one more)."""
    reads = counting(monkeypatch)
    code, _, err = run_cli("plan", "--stack", "test", "--project", str(project.root))
    assert code == 0, err
    assert relative(reads, project) == {"Pulumi.live.yaml": 2, "Pulumi.test.yaml": 2, "stacks/catalog.yaml": 2}


def test_the_checks_never_change_a_document_the_snapshot_shares(project: Project) -> None:
    """The stack file's own problems and a missing catalog's are added to copies: loading twice from
    one snapshot (pull checks, then validates; status loads twice) reports each problem once."""
    project.stack("test", STACK_FILES["test"] + "billing:domain: outside.example.com\n")
    overrides = {**credentials("test"), "billing:catalog": "stacks/missing.yaml"}
    config = from_stack(project.root, "test", env={}, overrides=overrides)
    said = []
    for _ in range(2):
        with pytest.raises(ConfigError) as refused:
            config.load()
        said.append(refused.value.problems)
    assert said[0] == said[1] and len(said[0]) == len(set(said[0])), said
    assert [p.field for p in said[0]] == ["billing:domain", "billing:catalog"], said[0]
    assert config.files.document("Pulumi.test.yaml").problems == []
    assert [p.field for p in config.files.document("stacks/missing.yaml").problems] == ["(file)"]
