"""How the offline plan scales, against a bare program declaring the same resources.

Generates catalogs of N plans with 3 prices each (default N = 10, 100, 500), runs
the real program under the mock runtime, and a bare program that declares the
same Stripe and Vercel resources directly with the SDK (no catalog, no
validation, no component), in this one run. Prints wall time, peak Python memory
(tracemalloc) and the ratios. Not a test; tests/repo/test_benchmark.py runs it at a
small size so that it keeps working.

    python benchmarks/plan_scaling.py [--sizes 10,100,500]
"""

from __future__ import annotations

import argparse
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
    peak_mib: float
    plan: offline.Plan


def catalog(n: int) -> str:
    lines = ["plans:"]
    for i in range(n):
        lines += [f"  p{i}:", f"    name: Plan {i}", "    prices:"]
        lines += [f'      {key}: {{amount: "{amount + i}.00", currency: usd, interval: {interval}}}'
                  for key, amount, interval in PRICES]
    lines += ["webhook:", "  path: /webhook/stripe", '  api_version: "2026-10-28.endive"',
              "  events: [checkout.session.completed]"]
    return "\n".join(lines) + "\n"


def measure(root: Path, program: Path) -> Run:
    # The stack's config as `billing plan` builds it: the stack file, placeholders for secrets.
    config = stack_config.from_stack(root, "test", env={})
    tracemalloc.start()
    start = time.perf_counter()
    plan = offline.run_program(program, "test", config.values, config.secret_keys)
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return Run(elapsed, peak, plan)


def project(root: Path) -> None:
    """The real entry point and test stack file; the generated catalog replaces the shared one."""
    shutil.copy(REPO / "__main__.py", root / "__main__.py")
    (root / "stacks").mkdir()
    stack = yaml.safe_load((REPO / "Pulumi.test.yaml").read_text())
    stack["config"].pop("billing:coupons", None)  # they name the shared catalog's plans
    (root / "Pulumi.test.yaml").write_text(yaml.safe_dump(stack))


def compare(root: Path, n: int) -> tuple[Run, Run]:
    (root / "stacks" / "catalog.yaml").write_text(catalog(n))
    bare = root / f"bare_{n}.py"
    bare.write_text(BARE.format(n=n, prices=PRICES))
    return measure(root, root / "__main__.py"), measure(root, bare)


def main(argv: Sequence[str] | None = None) -> list[tuple[int, Run, Run]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,500", help="plan counts, comma-separated")
    sizes = [int(size) for size in parser.parse_args(argv).sizes.split(",")]
    print(f"{'plans':>6} {'resources':>9} {'ours s':>8} {'bare s':>8} {'time x':>7} "
          f"{'ours MiB':>9} {'bare MiB':>9} {'mem x':>6} {'s/plan':>8}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        project(root)
        # Warm-up: module imports (pulumi_stripe, stripe-python's params) are paid once per
        # process, not per plan; without this the first row measures imports.
        compare(root, 1)
        for n in sizes:
            ours, bare = compare(root, n)
            rows.append((n, ours, bare))
            print(f"{n:>6} {len(ours.plan.resources):>9} {ours.seconds:>8.2f} {bare.seconds:>8.2f} "
                  f"{ours.seconds / bare.seconds:>7.2f} {ours.peak_mib:>9.1f} {bare.peak_mib:>9.1f} "
                  f"{ours.peak_mib / bare.peak_mib:>6.2f} {ours.seconds / n:>8.4f}")
    return rows


if __name__ == "__main__":
    main()
