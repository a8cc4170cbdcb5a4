"""How the offline plan scales, against a bare program declaring the same resources.

Generates catalogs of N plans with 3 prices each (default N = 10, 100, 500), runs
the real program under the mock runtime, and a bare program that declares the
same Stripe and Vercel resources directly with the SDK (no catalog, no
validation, no component), in this one run. Prints wall and CPU time, peak Python
memory (tracemalloc) and the ratios. Not a test; tests/repo/test_benchmark.py runs it
at a small size so that it keeps working.

How it measures, and why:
- Time and memory are separate passes. tracemalloc hooks every allocation, which
  slows allocation-heavy code several times over and so distorts the time ratio;
  the timed runs have it off, and one more run of each program records its peak.
- Each program runs at least --repeat times, taking turns, and a small size again (up to
  20 runs) until it has run for --min-seconds in all; the table shows the fastest run of
  each, wall and CPU separately, and how many runs there were. The machine is shared: the
  fastest run is the one least slowed by others, and CPU time (`time.process_time`, this
  process's threads) is not slowed by waiting for a core at all.
- Garbage is collected before each run, so neither program pays for the other's.

    python benchmarks/plan_scaling.py [--sizes 10,100,500] [--repeat 3] [--min-seconds 3] [--no-warm-up]
"""

from __future__ import annotations

import argparse
import gc
import shutil
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from infra.catalog import stack_config  # noqa: E402
from infra.commands.plan import offline  # noqa: E402

PRICES = (("m", 9, "month"), ("y", 90, "year"), ("w", 25, "week"))

# The resources the program registers for the generated catalog, minus its two
# components: providers, products, prices, the webhook endpoint, the portal
# configuration and each Vercel variable on preview and development.
BARE = '''
import pulumi, pulumi_stripe as stripe, pulumiverse_vercel as vercel
N = {n}
PRICES = {prices!r}
stripe_opts = pulumi.ResourceOptions(provider=stripe.Provider(
    "stripe-test", api_key=pulumi.Config("stripe").require_secret("apiKey")))
vercel_opts = pulumi.ResourceOptions(provider=vercel.Provider(
    "vercel-test", api_token=pulumi.Config("vercel").require_secret("apiToken")))
names = ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY",
         "STRIPE_PORTAL_CONFIGURATION_ID"]
for i in range(N):
    product = stripe.Product(f"p{{i}}", name=f"Plan {{i}}", metadata={{"plan": f"p{{i}}"}}, opts=stripe_opts)
    for key, amount, interval in PRICES:
        stripe.Price(f"p{{i}}-{{key}}", product=product.id, currency="usd", unit_amount=(amount + i) * 100,
                     recurring=stripe.PriceRecurringArgs(interval=interval, interval_count=1),
                     lookup_key=f"p{{i}}_{{key}}", transfer_lookup_key=True, active=True,
                     metadata={{"plan": f"p{{i}}"}}, opts=stripe_opts)
        names.append(f"STRIPE_PRICE_P{{i}}_{{key.upper()}}")
stripe.WebhookEndpoint("webhook-2026-10-28.endive", url="https://app.example.com/webhook/stripe",
                       enabled_events=["checkout.session.completed"],
                       api_version="2026-10-28.endive", opts=stripe_opts)
stripe.PortalConfiguration("portal", business_profile={{}}, active=True,
                           features={{"invoice_history": {{"enabled": True}}}}, opts=stripe_opts)
for target, sensitive in (("preview", True), ("development", False)):
    for name in names:
        vercel.ProjectEnvironmentVariable(f"{{target}}-{{name}}", project_id="prj_Bench", key=name,
                                          value=pulumi.Output.secret("x"), targets=[target],
                                          sensitive=sensitive, opts=vercel_opts)
'''


@dataclass(frozen=True)
class Run:
    seconds: float
    """Wall time of the fastest run."""
    cpu_seconds: float
    """CPU time of the run that used least."""
    peak_mib: float
    """Peak of Python's allocations during one more run, traced."""
    plan: offline.Plan
    runs: int


def catalog(n: int) -> str:
    lines = ["plans:"]
    for i in range(n):
        lines += [f"  p{i}:", f"    name: Plan {i}", "    prices:"]
        lines += [f'      {key}: {{amount: "{amount + i}.00", currency: usd, interval: {interval}}}'
                  for key, amount, interval in PRICES]
    lines += ["webhook:", "  path: /webhook/stripe", '  api_version: "2026-10-28.endive"',
              "  events: [checkout.session.completed]"]
    return "\n".join(lines) + "\n"


def once(root: Path, program: Path, traced: bool = False) -> tuple[float, float, float, offline.Plan]:
    """One run: (wall s, CPU s, peak MiB or 0 when not traced, plan)."""
    # The stack's config as `billing plan` builds it: the stack file, placeholders for secrets.
    config = stack_config.from_stack(root, "test", env={})
    gc.collect()
    if traced:
        tracemalloc.start()
    start, cpu = time.perf_counter(), time.process_time()
    plan = offline.run_program(program, "test", config.values, config.secret_keys)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = 0.0
    if traced:
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return elapsed, cpu, peak, plan


def measure(root: Path, programs: Sequence[Path], repeat: int, min_seconds: float) -> list[Run]:
    """Each program timed in turns (untraced), then traced once for its peak memory."""
    times: list[list[tuple[float, float]]] = [[] for _ in programs]
    plans: list[offline.Plan] = []
    while True:
        for index, program in enumerate(programs):
            wall, cpu, _, plan = once(root, program)
            times[index].append((wall, cpu))
            if len(plans) < len(programs):
                plans.append(plan)
        runs = len(times[0])
        spent = min(sum(wall for wall, _ in each) for each in times)
        if runs >= repeat and (spent >= min_seconds or runs >= max(repeat, 20)):
            break
    return [Run(min(wall for wall, _ in each), min(cpu for _, cpu in each),
                once(root, program, traced=True)[2], plan, len(each))
            for program, each, plan in zip(programs, times, plans, strict=True)]


def project(root: Path) -> None:
    """The real entry point and test stack file; the generated catalog replaces the shared one."""
    shutil.copy(REPO / "__main__.py", root / "__main__.py")
    (root / "stacks").mkdir()
    stack = yaml.safe_load((REPO / "Pulumi.test.yaml").read_text())
    stack["config"].pop("billing:coupons", None)  # they name the shared catalog's plans
    (root / "Pulumi.test.yaml").write_text(yaml.safe_dump(stack))


def compare(root: Path, n: int, repeat: int = 1, min_seconds: float = 0.0) -> tuple[Run, Run]:
    (root / "stacks" / "catalog.yaml").write_text(catalog(n))
    bare = root / f"bare_{n}.py"
    bare.write_text(BARE.format(n=n, prices=PRICES))
    ours, bare_run = measure(root, [root / "__main__.py", bare], repeat, min_seconds)
    return ours, bare_run


def main(argv: Sequence[str] | None = None) -> list[tuple[int, Run, Run]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,500", help="plan counts, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each program, at least")
    parser.add_argument("--min-seconds", type=float, default=3.0,
                        help="a small size runs again until each program has run this long")
    parser.add_argument("--no-warm-up", dest="warm_up", action="store_false",
                        help="skip the untimed first run (for a check that it works, not for ratios)")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    print(f"{'plans':>6} {'resources':>9} {'ours s':>8} {'bare s':>8} {'time x':>7} "
          f"{'ours cpu':>9} {'bare cpu':>9} {'cpu x':>6} "
          f"{'ours MiB':>9} {'bare MiB':>9} {'mem x':>6} {'s/plan':>8} {'runs':>5}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        project(root)
        # Warm-up: module imports (pulumi_stripe, stripe-python's params) are paid once per
        # process, not per plan; without this the first row measures imports.
        if args.warm_up:
            compare(root, 1)
        for n in sizes:
            ours, bare = compare(root, n, args.repeat, args.min_seconds)
            rows.append((n, ours, bare))
            print(f"{n:>6} {len(ours.plan.resources):>9} {ours.seconds:>8.2f} {bare.seconds:>8.2f} "
                  f"{ours.seconds / bare.seconds:>7.2f} {ours.cpu_seconds:>9.2f} {bare.cpu_seconds:>9.2f} "
                  f"{ours.cpu_seconds / bare.cpu_seconds:>6.2f} {ours.peak_mib:>9.1f} {bare.peak_mib:>9.1f} "
                  f"{ours.peak_mib / bare.peak_mib:>6.2f} {ours.seconds / n:>8.4f} {ours.runs:>5}",
                  flush=True)
    return rows


if __name__ == "__main__":
    main()
