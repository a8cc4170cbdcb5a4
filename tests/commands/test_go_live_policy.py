"""go-live's policy step: `policies/venv` missing is closed before the preview, by `make policy-venv`
after a yes (a Makefile of the test's own, whose target does what the real one leaves: the stamp),
or by saying the command where there is no Makefile to run.

The facts are readiness's own (`readiness.read`, with no pulumi CLI on PATH): the policy item is
read from the project's files whatever the CLI says.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from infra.commands.golive import setup, steps
from infra.commands.golive.context import Context
from infra.commands.golive.terminal import Stop, Terminal
from infra.core import exits
from tests.support.project import Project

STAMP = Path("policies/venv/.installed")


def at_terminal(project: Project, monkeypatch: pytest.MonkeyPatch, *answers: str) -> tuple[Context, io.StringIO,
                                                                                              list[str]]:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # make, and no pulumi
    out, asked, queue = io.StringIO(), [], list(answers)

    def person(prompt: str) -> str:
        asked.append(prompt)
        return queue.pop(0)

    term = Terminal(out, read_line=person, read_secret=person)
    return Context("test", project.root, term, live=False), out, asked


def makefile(project: Project, recipe: str) -> None:
    (project.root / "Makefile").write_text(f"policy-venv:\n\t{recipe}\n")


def policy_step() -> steps.Step:
    return next(step for step in steps.STEPS if step.key == "policy")


def test_a_missing_policy_venv_is_built_after_a_yes_before_the_preview(
    project: Project, monkeypatch: pytest.MonkeyPatch,
) -> None:
    makefile(project, f"mkdir -p {STAMP.parent} && touch {STAMP}")
    ctx, out, asked = at_terminal(project, monkeypatch, "y")
    order = [step.key for step in steps.STEPS]
    assert order.index("policy") < order.index("update")
    assert policy_step().done(ctx) is None
    setup.policy(ctx)
    assert asked == ["Build it now (`make policy-venv`: a virtualenv under policies/ with the pack's "
                     "requirements)? [y/N] "]
    assert "TODO  the policy pack's virtualenv policies/venv is not built" in out.getvalue()
    assert (project.root / STAMP).exists() and policy_step().done(ctx) == "built"
    assert ctx.created == ["the policy pack's virtualenv (make policy-venv)"]


def test_no_build_without_a_yes(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    makefile(project, f"mkdir -p {STAMP.parent} && touch {STAMP}")
    ctx, _, _ = at_terminal(project, monkeypatch, "n")
    with pytest.raises(Stop) as stopped:
        setup.policy(ctx)
    assert stopped.value.status == exits.REFUSED and "run `make policy-venv`" in str(stopped.value)
    assert not (project.root / STAMP).exists()


def test_without_a_makefile_it_says_the_command_and_asks_nothing(
    project: Project, monkeypatch: pytest.MonkeyPatch,
) -> None:
    ctx, out, asked = at_terminal(project, monkeypatch)
    with pytest.raises(Stop) as stopped:
        setup.policy(ctx)
    assert stopped.value.status == exits.REFUSED and "`make policy-venv`" in str(stopped.value)
    assert asked == [] and "fix: `make policy-venv`" in out.getvalue()


def test_a_failed_build_shows_its_last_lines_masked_and_stops(
    project: Project, monkeypatch: pytest.MonkeyPatch,
) -> None:
    leaked = "sk_" + "live_" + "L" * 24
    makefile(project, f"echo 'pip: no such index, key {leaked}' >&2; exit 1")
    ctx, out, _ = at_terminal(project, monkeypatch, "y")
    with pytest.raises(Stop) as stopped:
        setup.policy(ctx)
    assert stopped.value.status == exits.FINDINGS and "failed (exit 2)" in str(stopped.value)
    assert "pip: no such index" in out.getvalue() and leaked not in out.getvalue()
