"""A real `pulumi preview` of a large catalog against the local Stripe and Vercel, beside
the offline plan of the same catalog, in one run: wall time of each and their ratio.

Needs the engine `make engine` builds (tools/engine.py), with the language host and both
providers; without them it says what is missing and exits 0, so `make bench` still runs
the offline benchmark. Not a test.

    python benchmarks/real_preview.py [--plans 300]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.plan_scaling import catalog  # noqa: E402
from tests.engine.harness import EngineMissing, Project, World, installed_engine  # noqa: E402

NEEDED = ("pulumi", "language-python", "python-scripts", "stripe", "vercel")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=300)
    plans = parser.parse_args(argv).plans
    with tempfile.TemporaryDirectory(prefix="billing-bench-") as tmp:
        base = Path(tmp)
        try:
            engine = installed_engine(base / "home", NEEDED)
        except EngineMissing as missing:
            print(f"real preview: skipped ({missing})")
            return 0
        with World(base / "tls") as world:
            (base / "project").mkdir()
            project = Project(base / "project", engine, world, catalog(plans))
            project.init_stack("test")
            start = time.perf_counter()
            offline = project.billing("plan", "--stack", "test", "--format", "json")
            offline_seconds = time.perf_counter() - start
            if offline.returncode != 0:
                print(offline.stderr, file=sys.stderr)
                return 1
            resources = len(json.loads(offline.stdout)["resources"])
            start = time.perf_counter()
            project.pulumi("preview", "--json", stack="test", timeout=3600)
            real_seconds = time.perf_counter() - start
    print(f"{'plans':>6} {'resources':>9} {'offline s':>10} {'preview s':>10} {'preview/offline':>16}")
    print(f"{plans:>6} {resources:>9} {offline_seconds:>10.2f} {real_seconds:>10.2f} "
          f"{real_seconds / offline_seconds:>16.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
