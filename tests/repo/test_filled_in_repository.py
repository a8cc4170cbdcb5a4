"""The suite passes on a team's own repository, whose stack files README's steps have filled in.

README step 7 writes the keys into Pulumi.test.yaml (the publishable key in plain
text, the rest as `secure:` values) and step 10 does the same for live, with
the team's own project and domain. Tests that read the repository's stack
files, or run a command on the repository itself, carry the `on_the_repository`
mark and are run here again on a copy whose stack files hold exactly that. The
mark is not a list to keep up by hand: tests/conftest.py watches what each test
opens and starts (tests/support/repository_use.py) and fails one that uses the
repository without it. Only the marked tests run again, not their whole modules.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis.configuration import storage_directory

from tests.support.repository import REPO, stack_file_snippet
from tests.support.repository_use import MARK, stack_files, use

NESTED = "BILLING_TESTS_ON_A_FILLED_IN_COPY"


def marked_modules(tests: Path) -> list[str]:
    """The test modules that use the mark; pytest's `-m` then picks the marked tests out of them."""
    return sorted(str(path.relative_to(tests.parent)) for path in tests.rglob("test_*.py")
                  if f"pytest.mark.{MARK}" in path.read_text())


def live_stack_file(test_stack: str) -> str:
    """README's step 10: the same keys, live ones, and the team's own production settings."""
    text = test_stack.replace("billing:mode: test", "billing:mode: live").replace("pk_test_", "pk_live_")
    text = text.replace("billing:domain: staging.example.com", "billing:domain: shop.acme-widgets.dev")
    text = text.replace("billing:vercelProject: prj_ExampleProjectId", "billing:vercelProject: prj_AcmeWidgets01")
    # Live's own coupon (the go-live smoke test), in place of test's launch coupon.
    coupons = text.index("  billing:coupons:")
    return text[:coupons] + ("  billing:coupons:\n    smoke_test:\n      name: Live smoke test\n"
                             "      percent_off: 100\n      duration: once\n      max_redemptions: 1\n"
                             "      promotion_codes:\n        SMOKETEST: {max_redemptions: 1}\n")


@pytest.mark.early
@pytest.mark.skipif(os.environ.get(NESTED) == "1", reason="already running on the filled-in copy")
def test_the_suite_passes_with_stack_files_filled_in_as_readme_says(tmp_path: Path) -> None:
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: nothing is tracked")
    copy = tmp_path / "repo"
    written = {"Pulumi.test.yaml", "Pulumi.live.yaml"}  # below, as README's steps fill them in
    for name in filter(None, listed.stdout.decode().split("\0")):
        if name not in written and (REPO / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, copy / name)
    test_stack = stack_file_snippet()
    (copy / "Pulumi.test.yaml").write_text(test_stack)
    (copy / "Pulumi.live.yaml").write_text(live_stack_file(test_stack))
    # A git checkout, as a user's clone is: the hygiene scan lists tracked files.
    for argv in (["init", "-q"], ["add", "-A"], ["-c", "user.email=ci@example.com", "-c", "user.name=CI",
                                                 "commit", "-qm", "filled in"]):
        subprocess.run(["git", "-C", str(copy), *argv], check=True, capture_output=True)
    env = {**os.environ, NESTED: "1", "PYTHONDONTWRITEBYTECODE": "1",
           # Hypothesis keeps its Unicode tables there (st.text() draws from UTF-8's): in the fresh copy's
           # own .hypothesis each run rebuilt them, a loop over every code point (~2.5 s of CPU).
           "HYPOTHESIS_STORAGE_DIRECTORY": str(storage_directory(intent_to_write=False).path)}
    env.pop("PULUMI_CONFIG", None)
    modules = marked_modules(copy / "tests")
    assert "tests/commands/test_cli.py" in modules  # `validate` of the committed stacks, at least
    done = subprocess.run(
        # Its temp files under this test's: a session of its own under the shared temp root would, on
        # finishing, delete the oldest sessions' directories there (thousands of files, seconds on a busy disk).
        [sys.executable, "-m", "pytest", "-o", "addopts=", "-q", "-p", "no:cacheprovider", "-n", "0",
         f"--basetemp={tmp_path / 'tmp'}", "-m", MARK, *modules],
        cwd=copy, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and " failed" not in done.stdout, done.stdout[-2000:]


@pytest.mark.pure
def test_what_counts_as_using_the_repository(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("Pulumi.yaml", "Pulumi.test.yaml", "Pulumi.live.yaml"):
        (repo / name).write_text("")
    stacks, root, python = stack_files(repo), str(repo.resolve()), sys.executable

    def seen(event: str, *args: object, cwd: Path = tmp_path) -> str | None:
        return use(event, args, root, stacks, str(cwd))

    # Opening a stack file, by any path that leads to it; not the project file, not another folder's.
    assert seen("open", repo / "Pulumi.test.yaml", "r") == "opens the repository's Pulumi.test.yaml"
    assert seen("open", b"Pulumi.live.yaml", "rb", cwd=repo) == "opens the repository's Pulumi.live.yaml"
    assert seen("open", "repo/../repo/Pulumi.test.yaml", "r")
    assert seen("open", repo / "Pulumi.yaml", "r") is None
    assert seen("open", tmp_path / "Pulumi.test.yaml", "w") is None
    assert seen("open", 3, "r") is None
    # Our code run in the repository reads its stack files, unless --project points elsewhere.
    assert seen("subprocess.Popen", python, [python, "-m", "infra", "validate", "--stack", "test"], repo, None)
    assert seen("subprocess.Popen", python, [python, "-c", "from infra import cli"], str(repo), None)
    assert seen("subprocess.Popen", "/bin/sh", ["/bin/sh", "-c", "billing plan | head -1"], None, None, cwd=repo)
    assert seen("subprocess.Popen", python, [python, "-m", "infra", "plan", "--project", "."], repo, None)
    assert seen("subprocess.Popen", python, [python, "-m", "infra", "plan", "--project", str(tmp_path)], repo,
                None) is None
    assert seen("subprocess.Popen", "/bin/sh", ["/bin/sh", "-c", f"billing plan --project={tmp_path} | head"],
                repo, None) is None
    assert seen("subprocess.Popen", python, [python, "-m", "infra", "plan"], tmp_path, None) is None
    assert seen("subprocess.Popen", "git", ["git", "-C", str(tmp_path), "add", "-A"], None, None, cwd=repo) is None
    assert seen("subprocess.Popen", python, [python, "-m", "check_jsonschema", "x.yml"], repo, None) is None
