"""Every question to the pulumi CLI is bounded: its answer's size, its time, and what it leaves running.

The `pulumi` here is the stand-in (tests/support/pulumi_stand_in.py) told to misbehave, or a
shell script written by the test: a broken install, a wrapper, or a hostile binary on PATH.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from infra.clients import credentials, pulumi_cli
from tests.support.pulumi_stand_in import Pulumi


def on_path(monkeypatch: pytest.MonkeyPatch, bin_dir: Path) -> None:
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def test_a_stack_output_larger_than_any_answer_is_refused_not_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # verify reads webhookUrl and webhookSigningSecret through this; an answer is a URL or a secret.
    huge = "https://shop.test/" + "a" * (pulumi_cli.MAX_OUTPUT_BYTES + 1)
    Pulumi(tmp_path / "bin", stacks={"test": {}}, answers={"stack output webhookUrl": huge})
    on_path(monkeypatch, tmp_path / "bin")
    assert credentials.stack_output("webhookUrl", "test", tmp_path) is None
    small = Pulumi(tmp_path / "bin", stacks={"test": {}}, outputs={"webhookUrl": "https://shop.test/hook"})
    assert credentials.stack_output("webhookUrl", "test", tmp_path) == "https://shop.test/hook"
    assert ["stack", "output", "webhookUrl", "--stack", "test", "--show-secrets"] in small.argv()


def script(bin_dir: Path, body: str) -> None:
    bin_dir.mkdir(parents=True, exist_ok=True)
    (bin_dir / "pulumi").write_text(f"#!/bin/sh\n{body}\n")
    (bin_dir / "pulumi").chmod(0o755)


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # killed, and not yet reaped by whoever adopted it


def test_what_the_cli_started_is_ended_with_it_at_the_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A wrapper that leaves a child holding the output pipe: the answer never ends.
    pid_file = tmp_path / "child.pid"
    script(tmp_path / "bin", f"sleep 300 &\necho $! > {pid_file}\necho v3.274.1")
    on_path(monkeypatch, tmp_path / "bin")
    with pytest.raises(pulumi_cli.CliError, match="gave no complete answer within 1s"):
        pulumi_cli.run(["version"], tmp_path, deadline=1)
    child = int(pid_file.read_text())
    ends = time.monotonic() + 5  # a kill is delivered, not instant
    while running(child) and time.monotonic() < ends:
        time.sleep(0.05)
    assert not running(child)


def test_an_error_longer_than_what_is_kept_of_it_ends_the_run_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Past the 64 KiB kept of stderr the rest is read and dropped, so the CLI is never left blocked
    # on a full pipe until the deadline.
    script(tmp_path / "bin", "echo 'error: the first line' >&2\nhead -c 1000000 /dev/zero | tr '\\\\0' x >&2\n"
                             "exit 4")
    on_path(monkeypatch, tmp_path / "bin")
    with pytest.raises(pulumi_cli.CliError, match=r"failed \(exit 4\): error: the first line$"):
        pulumi_cli.run(["version"], tmp_path, deadline=20)
