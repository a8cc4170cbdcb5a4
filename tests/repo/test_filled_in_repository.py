"""The suite passes on a team's own repository, whose stack files README's steps have filled in.

README step 7 writes the keys into Pulumi.test.yaml (the publishable key in plain
text, the rest as `secure:` values) and step 10 does the same for live, with
the team's own project and domain. Tests that read the repository's stack
files, or run a command on the repository itself, are run here again on a copy
whose stack files hold exactly that.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.repository import REPO, stack_file_snippet

# The test modules that read the repository's own stack files or run commands on it.
ON_THE_REPOSITORY = ("commands/test_cli.py", "commands/test_exits.py", "unit/stripe/test_key_links.py",
                     "repo/test_readme.py", "repo/test_repository_hygiene.py", "commands/test_secret_sweep.py",
                     "unit/catalog/test_placeholders.py", "commands/test_console.py")
NESTED = "BILLING_TESTS_ON_A_FILLED_IN_COPY"


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


@pytest.mark.skipif(os.environ.get(NESTED) == "1", reason="already running on the filled-in copy")
def test_the_suite_passes_with_stack_files_filled_in_as_readme_says(tmp_path: Path) -> None:
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: nothing is tracked")
    copy = tmp_path / "repo"
    for name in filter(None, listed.stdout.decode().split("\0")):
        if (REPO / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, copy / name)
    test_stack = stack_file_snippet()
    (copy / "Pulumi.test.yaml").write_text(test_stack)
    (copy / "Pulumi.live.yaml").write_text(live_stack_file(test_stack))
    # A git checkout, as a user's clone is: the hygiene scan lists tracked files.
    for argv in (["init", "-q"], ["add", "-A"], ["-c", "user.email=ci@example.com", "-c", "user.name=CI",
                                                 "commit", "-qm", "filled in"]):
        subprocess.run(["git", "-C", str(copy), *argv], check=True, capture_output=True)
    env = {**os.environ, NESTED: "1", "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PULUMI_CONFIG", None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-o", "addopts=", "-q", "-p", "no:cacheprovider", "-n", "0",
         *(f"tests/{module}" for module in ON_THE_REPOSITORY)],
        cwd=copy, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and " failed" not in done.stdout, done.stdout[-2000:]
