"""`make bench` keeps working: the benchmark runs at a small size, comparing like with like."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from tests.support.repository import REPO


@pytest.mark.on_the_repository
def test_the_benchmark_runs_and_the_bare_program_declares_what_ours_does(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = importlib.util.spec_from_file_location("plan_scaling", REPO / "benchmarks" / "plan_scaling.py")
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "plan_scaling", bench)  # dataclasses look their module up
    spec.loader.exec_module(bench)

    # One timed run of each is enough to know it works; the ratios are `make bench`'s business, and so
    # is the warm-up run that keeps imports out of the first row (half the test's CPU, run twice a suite).
    [(n, ours, bare)] = bench.main(["--sizes", "2", "--repeat", "1", "--min-seconds", "0", "--no-warm-up"])

    header, row = capsys.readouterr().out.splitlines()
    assert header.split()[:3] == ["plans", "resources", "ours"]
    assert row.split()[:2] == ["2", str(len(ours.plan.resources))]
    # A ratio means something only if both programs declare the same resources; ours adds
    # its two components.
    declared = {(r.type, r.name) for r in ours.plan.resources if not r.type.startswith("billing:")}
    assert declared == {(r.type, r.name) for r in bare.plan.resources}
    assert len(ours.plan.of_type("stripe:index/price:Price")) == 3 * n
    assert len(declared) == 2 + n + 3 * n + 2 + 2 * (4 + 3 * n)  # providers, products, prices, hook+portal, vars
