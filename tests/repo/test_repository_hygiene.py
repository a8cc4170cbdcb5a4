"""No committed file holds a secret key shape, and stack files hold secrets only as `secure:`.

A publishable key (pk_) is public: Stripe ships it to every browser, so a stack
file may hold it in plain text and a committed one is fine. Secret (sk_),
restricted (rk_) and webhook signing (whsec_) keys never are.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from infra.catalog.guards import SECRET_KEYS, WEBHOOK_SECRET
from infra.catalog.stack_config import extra_config_keys
from tests.support.project import STACK_FILES, Project, key, run_cli
from tests.support.repository import KEY_SHAPES, REPO


def tracked_files() -> list[Path]:
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: nothing is tracked")
    return [REPO / name for name in listed.stdout.decode().split("\0") if name]


def test_the_scanner_finds_what_it_should() -> None:
    # Shapes assembled at run time, so the check itself is proven without committing one.
    for sample in ("sk_" + "live_" + "a1" * 8, "rk_" + "test_" + "Z" * 12, "sk_" + "test_" + "9" * 30,
                   "whsec_" + "k" * 32):
        assert KEY_SHAPES.search(f"value: {sample}\n"), sample
    for harmless in ("sk_live_...", "rk_live_offline_app", "pk_test_", "whsec_...", "sk_test_x",
                     "pk_" + "live_" + "9" * 30):  # public by design
        assert not KEY_SHAPES.search(harmless), harmless


def test_no_tracked_file_holds_a_key_shaped_value() -> None:
    files = tracked_files()
    assert any(path.name == "catalog.yaml" for path in files)  # the listing really lists the repo
    found = []
    for path in files:
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            match = KEY_SHAPES.search(line)
            if match:
                # Report where, and only the prefix of what was found.
                found.append(f"{path.relative_to(REPO)}:{number}: {match.group(0)[:8]}...")
    assert found == []


def test_stack_files_hold_secrets_only_as_secure_values() -> None:
    stack_files = sorted(REPO.glob("Pulumi.*.yaml"))
    assert {p.name for p in stack_files} >= {"Pulumi.test.yaml", "Pulumi.live.yaml"}
    for path in stack_files:
        config = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
        secret_keys = {*SECRET_KEYS, *extra_config_keys(REPO, {})}
        for name, value in config.items():
            if name in secret_keys:
                assert isinstance(value, dict) and set(value) == {"secure"}, f"{path.name}: {name}"
            assert not KEY_SHAPES.search(str(value)), f"{path.name}: {name}"


def test_a_plain_publishable_key_in_a_stack_file_passes_validate_and_this_scan(project: Project) -> None:
    publishable = key("pk", "test")
    text = STACK_FILES["test"] + f"  billing:publishableKey: {publishable}\n"
    project.stack("test", text)
    assert not KEY_SHAPES.search(text)
    code, out, err = run_cli("validate", "--stack", "test", "--project", str(project.root))
    assert code == 0, err
    assert "billing:publishableKey" not in out  # used as given, not replaced by a placeholder


@pytest.mark.parametrize("config_key", [*SECRET_KEYS, WEBHOOK_SECRET])
def test_a_plain_secret_in_a_stack_file_is_refused(project: Project, config_key: str) -> None:
    text = STACK_FILES["test"] + f"  {config_key}: {key('rk', 'test')}\n"
    project.stack("test", text)
    assert KEY_SHAPES.search(text)
    code, _, err = run_cli("validate", "--stack", "test", "--project", str(project.root))
    assert code == 2
    assert f"{config_key}: a secret is stored in plain text" in err
