"""Every question to the pulumi CLI is bounded: its answer's size, its time, and what it leaves running.

The `pulumi` here is the stand-in (tests/support/pulumi_stand_in.py) told to misbehave, or a
shell script written by the test: a broken install, a wrapper, or a hostile binary on PATH.
"""

from __future__ import annotations

import os
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
