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
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.plan_scaling import catalog  # noqa: E402
from tests.engine.harness import Engine, Project, World, _base_env, _tools  # noqa: E402

NEEDED = ("pulumi", "language-python", "python-scripts", "stripe", "vercel")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=300)
    plans = parser.parse_args(argv).plans
    tools = _tools()
    try:
        root = tools.cache_dir()
    except tools.EngineError as error:
        print(f"real preview: skipped ({error})")
        return 0
    status = tools.read_status(root)
    missing = [name for name in NEEDED if status.get(name, {}).get("state") != "built"]
    if missing:
        print(f"real preview: skipped ({', '.join(missing)} not built; see `make engine`)")
        return 0
    with tempfile.TemporaryDirectory(prefix="billing-bench-") as tmp:
        base = Path(tmp)
        home = base / "home"
        home.mkdir()
        bin_dir = root / "bin"
        versions = tools.versions()
        for name in ("stripe", "vercel"):
            # The cache's own CLI with pinned versions (tools/engine.py).
            subprocess.run([str(bin_dir / "pulumi"), "plugin", "install", "resource",  # noqa: S603
                            name, versions[name],
                            "--file", str(bin_dir / f"pulumi-resource-{name}")],
                           env=_base_env(bin_dir, home), check=True, capture_output=True, timeout=120)
        engine = Engine(bin=bin_dir, status=status, home=home)
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
