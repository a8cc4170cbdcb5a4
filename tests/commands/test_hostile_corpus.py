"""Hostile and careless input: each case ends with its promised exit status and message, never a
traceback, within a memory and a time limit (see tests/support/hostile_runner.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from infra.core import exits, sources
from tests.support.hostile_runner import SECONDS
from tests.support.project import STACK_FILES, Project, credentials
from tests.support.repository import CATALOG, REPO

MERGE_BOMB = "l0: &l0 {" + ", ".join(f"k{i}: {i}" for i in range(10)) + "}\n" + "".join(
    f"l{n}: &l{n} {{<<: [{', '.join([f'*l{n - 1}'] * 10)}], y: 1}}\n" for n in range(1, 9))
ALIAS_BOMB = "a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
    f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]\n" for n in range(1, 10))
FOUND = "problem found:"


@dataclass(frozen=True)
class Case:
    name: str
    argv: tuple[str, ...]
    status: int
    says: str
    """Text stderr (or, for a diff, stdout) must contain."""
    setup: Callable[[Project], None] = lambda project: None
    env: dict[str, str] = field(default_factory=dict)
    base: Callable[[Project], None] | None = None
    """Written and committed as the diff's base; the working tree is then restored."""


def catalog(text: str) -> Callable[[Project], None]:
    def write(project: Project) -> None:
        project.catalog(text)
    return write


def stack(text: str | bytes) -> Callable[[Project], None]:
    def write(project: Project) -> None:
        path = project.root / "Pulumi.test.yaml"
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return write


def adopt(path: str, content: bytes | None = None) -> Callable[[Project], None]:
    def write(project: Project) -> None:
        if content is not None:
            (project.root / path).write_bytes(content)
        with (project.root / "Pulumi.test.yaml").open("a") as file:
            file.write(f"  billing:adopt: {path}\n")
    return write


def fifo(project: Project) -> None:
    os.mkfifo(project.root / "stacks" / "pipe.yaml")


VALIDATE = ("validate", "--stack", "test")
CASES = [
    Case("catalog is /dev/zero", (*VALIDATE, "--catalog", "/dev/zero"), exits.REFUSED,
         "names no catalog it can read (not a regular file"),
    Case("catalog is a named pipe", (*VALIDATE, "--catalog", "stacks/pipe.yaml"), exits.REFUSED,
         "not a regular file", setup=fifo),
    Case("catalog over the size cap", VALIDATE, exits.REFUSED, "stacks/catalog.yaml: (file): larger than 1024 KiB",
         setup=catalog(CATALOG + "#" * sources.MAX_BYTES)),
    Case("merge-key bomb", VALIDATE, exits.REFUSED, "once aliases and merge keys are expanded",
         setup=catalog(CATALOG + MERGE_BOMB)),
    Case("alias bomb", VALIDATE, exits.REFUSED, "once aliases and merge keys are expanded",
         setup=catalog(CATALOG + ALIAS_BOMB)),
    Case("deep nesting", VALIDATE, exits.REFUSED, "nested more than 32 levels deep",
         setup=catalog(CATALOG + "deep: " + "[" * 10_000 + "]" * 10_000 + "\n")),
    Case("recursive alias", VALIDATE, exits.REFUSED, "an alias refers to a node that contains it",
         setup=catalog(CATALOG + "loop: &loop {again: *loop}\n")),
    Case("merge of a number", VALIDATE, exits.REFUSED, "a merge key (<<) takes a mapping",
         setup=catalog(CATALOG.replace("\nportal:\n", "\nportal:\n  <<: 5\n"))),
    Case("octal amount", VALIDATE, exits.REFUSED, "YAML 1.1 reads 010 as the number 8",
         setup=catalog(CATALOG.replace('amount: "29.00"', "amount: 010"))),
    Case("sexagesimal amount", ("plan", "--stack", "test"), exits.REFUSED, "YAML 1.1 reads 1:30 as the number 90",
         setup=catalog(CATALOG.replace('amount: "29.00"', "amount: 1:30"))),
    Case("NUL byte", ("keys", "--stack", "test"), exits.REFUSED, "special characters are not allowed",
         setup=catalog(CATALOG + "x: \0\n")),
    Case("python tag", VALIDATE, exits.REFUSED, "unsupported YAML tag tag:yaml.org,2002:python/object/apply",
         setup=catalog(CATALOG + "x: !!python/object/apply:os.system [true]\n")),
    Case("secret keys not a list", VALIDATE, exits.REFUSED,
         "PULUMI_CONFIG_SECRET_KEYS: (environment): is a number, not a list of config key names",
         env={"PULUMI_CONFIG_SECRET_KEYS": "5"}),
    Case("secret keys of numbers", VALIDATE, exits.REFUSED, "holds something other than text",
         env={"PULUMI_CONFIG_SECRET_KEYS": "[1, 2]"}),
    Case("engine config a list", ("plan", "--stack", "test", "--format", "json"), exits.REFUSED,
         "PULUMI_CONFIG: (environment): is a list, not an object", env={"PULUMI_CONFIG": "[]"}),
    Case("engine config nested deep", VALIDATE, exits.REFUSED, "PULUMI_CONFIG: (environment): nested more than",
         env={"PULUMI_CONFIG": "[" * 50_000 + "]" * 50_000}),
    Case("engine config huge number", VALIDATE, exits.REFUSED, "a number that is not finite or far too long",
         env={"PULUMI_CONFIG": '{"billing:domain": ' + "9" * 5000 + "}"}),
    Case("coupons nested deep", VALIDATE, exits.REFUSED, "PULUMI_CONFIG: billing:coupons: not valid structured",
         env={"PULUMI_CONFIG": json.dumps({"billing:coupons": "[" * 5000 + "]" * 5000})}),
    Case("coupon amount 1e400", VALIDATE, exits.REFUSED, "above Stripe's limit",
         env={"PULUMI_CONFIG": json.dumps({"billing:coupons": '{"big": {"name": "Big", "amount_off": 1e400, '
                                                               '"currency": "usd"}}'})}),
    Case("stack file broken", VALIDATE, exits.REFUSED, "Pulumi.test.yaml:3: (syntax)",
         setup=stack("config:\n  billing:mode: [test\n")),
    Case("stack file not UTF-8", VALIDATE, exits.REFUSED, "Pulumi.test.yaml:2: (file): not UTF-8 text",
         setup=stack(b"config:\n  billing:domain: caf\xe9.example.com\n")),
    Case("stack file a list", VALIDATE, exits.REFUSED, "config: a stack file is a mapping",
         setup=stack("- config\n")),
    Case("adopt file is /dev/zero", VALIDATE, exits.REFUSED, "names no import file it can read",
         setup=adopt("/dev/zero")),
    Case("adopt file nested deep", VALIDATE, exits.REFUSED, "adopt.json: (file): nested more than",
         setup=adopt("adopt.json", b"[" * 100_000 + b"]" * 100_000)),
    Case("adopt file over the cap", VALIDATE, exits.REFUSED, "names no import file it can read (larger than",
         setup=adopt("adopt.json", b" " * (sources.MAX_BYTES + 1))),
    Case("unknown stack", ("plan", "--stack", "prod"), exits.REFUSED, "stacks in this project: test, live"),
    Case("stack name with a path", ("keys", "--stack", "../../etc/passwd"), exits.REFUSED,
         "a stack name is letters, digits"),
    Case("revision like an option", ("diff", "--base=--output=/tmp/x"), exits.REFUSED, "is not a revision"),
    Case("reprice a named pipe", ("reprice", "pro.monthly", "39.00", "--catalog", "stacks/pipe.yaml"),
         exits.REFUSED, "not a regular file", setup=fifo),
    Case("reprice a merge-key bomb", ("reprice", "pro.monthly", "39.00"), exits.REFUSED,
         "once aliases and merge keys are expanded", setup=catalog(CATALOG + MERGE_BOMB)),
    Case("reprice in other digits", ("reprice", "pro.monthly", "\u0663\u0669"), exits.REFUSED,
         "is not an amount; write it like 39.00"),
    Case("base stack file broken", ("diff", "--base", "HEAD", "--stack", "test"), exits.OK,
         "the base's own problem: Pulumi.test.yaml:3: (syntax)",
         base=stack("config:\n  billing:mode: [test\n")),
    Case("base catalog is a bomb", ("diff", "--base", "HEAD", "--stack", "test"), exits.FINDINGS,
         "the base's catalog could not be read, so prices removed since then cannot be found",
         base=catalog(CATALOG + MERGE_BOMB)),
    Case("base catalog over the cap", ("diff", "--base", "HEAD", "--stack", "live"), exits.FINDINGS,
         "the base's own problem: stacks/catalog.yaml: (file): larger than 1024 KiB",
         base=catalog(CATALOG + "#" * (sources.MAX_BYTES + 1))),
]


def _git(root: Path, *argv: str) -> None:
    subprocess.run(["git", "-C", str(root), "-c", "user.email=ci@example.com", "-c", "user.name=CI", *argv],
                   check=True, capture_output=True)


def _prepare(case: Case, root: Path) -> dict[str, Any]:
    project = Project(root)
    if case.base is not None:
        _git(root, "init", "-q")
        case.base(project)
        _git(root, "add", "-A")
        _git(root, "commit", "-qm", "base")
        project.catalog(CATALOG)  # the working tree as it should be
        for name in ("test", "live"):
            project.stack(name, STACK_FILES[name])
    case.setup(project)
    env = {"PATH": os.environ["PATH"], "HOME": str(root), "LANG": "C.UTF-8", **case.env}
    env.setdefault("PULUMI_CONFIG", json.dumps(credentials("live" if "live" in case.argv else "test")))
    return {"argv": [*case.argv, "--project", str(root)], "env": env, "cwd": str(root)}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    cases = [_prepare(case, tmp_path_factory.mktemp("hostile")) for case in CASES]
    done = subprocess.run([sys.executable, "-m", "tests.support.hostile_runner"], input=json.dumps(cases), cwd=REPO,
                          capture_output=True, text=True, timeout=SECONDS * len(CASES), check=True)
    return dict(zip((case.name for case in CASES), json.loads(done.stdout), strict=True))


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hostile_input(case: Case, results: dict[str, dict[str, Any]]) -> None:
    result = results[case.name]
    shown = result["stdout"] + result["stderr"]
    assert result["status"] == case.status, shown
    assert "Traceback" not in shown and "internal error" not in shown
    assert case.says in shown
    if case.status == exits.REFUSED and case.argv[0] in ("validate", "plan", "keys"):
        assert result["stderr"].startswith(("1 ", "2 ", "3 ")), result["stderr"]
    assert result["seconds"] < SECONDS / 2


def test_the_limits_are_real() -> None:
    """The harness itself: a child that allocates past the budget or sleeps past the alarm fails."""
    probe = ("import json, sys; from tests.support import hostile_runner as h; from infra import cli; "
             "cli.main = lambda argv=None: bytearray(h.MEMORY_BUDGET * 2) and 0; "
             "print(json.dumps(h.run({'argv': [], 'env': {}, 'cwd': '.'})))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=60,
                          check=True)
    result = json.loads(done.stdout)
    assert result["status"] == exits.INTERNAL and "internal error: MemoryError" in result["stderr"]
