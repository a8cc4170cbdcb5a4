"""How the offline plan scales, against a bare program declaring the same resources.

Generates catalogs of 10, 100 and 500 plans with 3 prices each, runs the real
program under the mock runtime, and the same resources declared directly with
the SDK (no catalog, no validation, no component), in this one run. Prints
wall time, peak Python memory (tracemalloc) and the ratios. Not a test.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from infra import offline  # noqa: E402

BARE = '''
import pulumi, pulumi_stripe as stripe
N = {n}
provider = stripe.Provider("stripe-test", api_key=pulumi.Config("stripe").require_secret("apiKey"))
opts = pulumi.ResourceOptions(provider=provider)
for i in range(N):
    product = stripe.Product(f"p{{i}}", name=f"Plan {{i}}", metadata={{"plan": f"p{{i}}"}}, opts=opts)
    for k, (amount, interval) in enumerate([(900, "month"), (9000, "year"), (2500, "week")]):
        stripe.Price(f"p{{i}}-{{k}}", product=product.id, currency="usd", unit_amount=amount + i,
                     recurring=stripe.PriceRecurringArgs(interval=interval, interval_count=1),
                     lookup_key=f"p{{i}}_{{k}}", transfer_lookup_key=True, active=True,
                     metadata={{"plan": f"p{{i}}"}}, opts=opts)
stripe.WebhookEndpoint("webhook", url="https://app.example.com/webhook/stripe",
                       enabled_events=["checkout.session.completed"],
                       api_version="2026-10-28.endive", opts=opts)
'''


def catalog(n: int) -> str:
    lines = ["plans:"]
    for i in range(n):
        lines += [f"  p{i}:", f"    name: Plan {i}", "    prices:",
                  f'      m: {{amount: "{9 + i}.00", currency: usd, interval: month}}',
                  f'      y: {{amount: "{90 + i}.00", currency: usd, interval: year}}',
                  f'      w: {{amount: "{25 + i}.00", currency: usd, interval: week}}']
    lines += ["webhook:", "  path: /webhook/stripe", '  api_version: "2026-10-28.endive"',
              "  events: [checkout.session.completed]"]
    return "\n".join(lines) + "\n"


def measure(program: Path, config: dict[str, str]) -> tuple[float, float, int]:
    tracemalloc.start()
    start = time.perf_counter()
    plan = offline.run_program(program, "test", config, ["stripe:apiKey"])
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return elapsed, peak, len(plan.resources)


def main() -> None:
    config = {"billing:mode": "test", "billing:domain": "app.example.com",
              "stripe:apiKey": "sk_" + "test_" + "bench"}
    print(f"{'plans':>6} {'resources':>9} {'ours s':>8} {'bare s':>8} {'time x':>7} "
          f"{'ours MiB':>9} {'bare MiB':>9} {'mem x':>6} {'s/plan':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copy(REPO / "__main__.py", root / "__main__.py")
        (root / "stacks").mkdir()
        (root / "Pulumi.test.yaml").write_text("config:\n  billing:mode: test\n")
        # Warm-up: module imports (pulumi_stripe, stripe-python's params) are paid once per
        # process, not per plan; without this the first row measures imports.
        (root / "stacks" / "catalog.yaml").write_text(catalog(1))
        (root / "bare_warm.py").write_text(BARE.format(n=1))
        measure(root / "__main__.py", config)
        measure(root / "bare_warm.py", config)
        for n in (10, 100, 500):
            (root / "stacks" / "catalog.yaml").write_text(catalog(n))
            bare = root / f"bare_{n}.py"
            bare.write_text(BARE.format(n=n))
            ours_t, ours_m, ours_r = measure(root / "__main__.py", config)
            bare_t, bare_m, _ = measure(bare, config)
            print(f"{n:>6} {ours_r:>9} {ours_t:>8.2f} {bare_t:>8.2f} {ours_t / bare_t:>7.2f} "
                  f"{ours_m:>9.1f} {bare_m:>9.1f} {ours_m / bare_m:>6.2f} {ours_t / n:>8.4f}")


if __name__ == "__main__":
    main()
