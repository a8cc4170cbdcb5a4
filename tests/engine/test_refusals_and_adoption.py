"""Scenarios 5 and 6 under the real engine: what live refuses, what destroy does, and the
adoption of an account made by hand (`billing pull`, then `pulumi up` with the import file)."""

from __future__ import annotations

import json
import shutil
from typing import Any
from urllib.parse import urlencode

import pytest

from infra.stripe.provider_table import (
    COUPON,
    PORTAL_CONFIGURATION,
    PRICE,
    PRODUCT,
    PROMOTION_CODE,
    RESOURCES,
    WEBHOOK_ENDPOINT,
)
from tests.engine.harness import DOMAINS, Project
from tests.engine.stripe_server import StripeState
from tests.engine.stripe_server import handle as stripe_handle


def _price_edit(project: Project) -> None:
    """Raise the first price's amount in place: the edit `diff` refuses on every stack."""
    path = project.root / "stacks" / "catalog.yaml"
    text = path.read_text(encoding="utf-8")
    assert 'amount: "29.00"' in text
    path.write_text(text.replace('amount: "29.00"', 'amount: "31.00"', 1), encoding="utf-8")


@pytest.mark.usefixtures("providers")
def test_live_refuses_a_terms_change_and_destroy_test_destroys(new_project: Any) -> None:
    from tests.engine.catalogs import EVERY_FEATURE

    live: Project = new_project(EVERY_FEATURE)
    live.init_stack("live", secrets={"app:clerkSecretKey": "clerk" + "S3cr" * 6})
    live.pulumi("up", "--yes", "--skip-preview", stack="live")
    before = json.dumps(live.world.stripe.objects, sort_keys=True, default=str)

    # `diff` refuses the edit (exit 2) ...
    import subprocess
    subprocess.run(["git", "init", "-q"], cwd=live.root, check=True, timeout=30)
    subprocess.run(["git", "add", "-A"], cwd=live.root, check=True, timeout=30)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "live"],
                   cwd=live.root, check=True, timeout=30)
    _price_edit(live)
    said = live.billing("diff", "--base", "HEAD", "--stack", "live")
    assert said.returncode == 2, said.stdout + said.stderr
    # ... and forced past it, the real engine refuses the replace because of `protect`.
    forced = live.pulumi("up", "--yes", "--skip-preview", stack="live", ok=False)
    assert forced.returncode != 0
    assert "protect" in (forced.stdout + forced.stderr).lower(), forced.stdout[-3000:]
    # `pulumi destroy` on live is refused and deletes nothing.
    destroy = live.pulumi("destroy", "--yes", "--skip-preview", stack="live", ok=False)
    assert destroy.returncode != 0
    assert "protect" in (destroy.stdout + destroy.stderr).lower()
    assert json.dumps(live.world.stripe.objects, sort_keys=True, default=str) == before


@pytest.mark.usefixtures("providers")
def test_destroy_on_test_removes_what_it_created(new_project: Any) -> None:
    project: Project = new_project()
    project.init_stack("test")
    project.pulumi("up", "--yes", "--skip-preview", stack="test")
    assert project.world.vercel.envs
    made = {kind: json.loads(json.dumps(objs)) for kind, objs in
            ((k, project.world.stripe.all(k)) for k in project.world.stripe.objects)}
    project.pulumi("destroy", "--yes", "--skip-preview", stack="test")
    listed = json.loads(project.pulumi("stack", "export", stack="test").stdout)
    assert [r for r in listed["deployment"].get("resources") or []
            if not r["type"].startswith(("pulumi:pulumi:Stack", "pulumi:providers:"))] == []
    assert project.world.vercel.envs == {}
    # Each Stripe object went the way the provider table says its Delete goes.
    kinds = {PRICE.token: "price", PRODUCT.token: "product", COUPON.token: "coupon",
             PROMOTION_CODE.token: "promotion_code", WEBHOOK_ENDPOINT.token: "webhook_endpoint",
             PORTAL_CONFIGURATION.token: "billing_portal.configuration"}
    for token, kind in kinds.items():
        left = project.world.stripe.all(kind)
        if RESOURCES[token].delete == "deletes":
            assert left == [], kind
        else:
            assert {o["id"] for o in left} == {o["id"] for o in made.get(kind, [])}, kind


def seed(state: StripeState, path: str, **params: Any) -> dict[str, Any]:
    """Create an object through the local Stripe's own HTTP handler, as the Dashboard would."""
    flat: list[tuple[str, str]] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}[{k}]" if prefix else k, v)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(f"{prefix}[{i}]", v)
        else:
            flat.append((prefix, str(value).lower() if isinstance(value, bool) else str(value)))

    walk("", params)
    status, answer = stripe_handle(state, "POST", path, "", urlencode(flat))
    assert status == 200, answer
    return answer


HAND_MADE = """\
plans:
  pro:
    name: Pro
    prices:
      monthly: {amount: "29.00", currency: usd, interval: month}
"""


@pytest.mark.usefixtures("providers")
def test_adopting_a_hand_made_account_imports_everything_and_settles(new_project: Any) -> None:
    project: Project = new_project(HAND_MADE)
    stripe = project.world.stripe
    product = seed(stripe, "/v1/products", name="Pro", metadata={"plan": "pro"})
    seed(stripe, "/v1/prices", product=product["id"], unit_amount=2900, currency="usd",
         recurring={"interval": "month"}, lookup_key="pro_monthly")
    seed(stripe, "/v1/prices", product=product["id"], unit_amount=29000, currency="usd",
         recurring={"interval": "year"})
    endpoint = seed(stripe, "/v1/webhook_endpoints", url=f"https://{DOMAINS['test']}/webhook/stripe",
                    api_version="2026-10-28.endive",
                    enabled_events=["checkout.session.completed", "customer.subscription.updated"])
    seed(stripe, "/v1/billing_portal/configurations", business_profile={"headline": "Billing"},
         features={"invoice_history": {"enabled": True}})
    seed(stripe, "/v1/entitlements/features", name="Premium reports", lookup_key="premium_reports")
    project.init_stack("test")

    pulled = project.billing("pull", "--stack", "test")
    # Not yet ok (exit 1): the adopted endpoint's signing secret is README's step 5.
    assert pulled.returncode == 1 and "billing:webhookSecret" in pulled.stderr, pulled.stdout + pulled.stderr
    shutil.copy(project.root / "adopt" / "test" / "catalog.yaml", project.root / "stacks" / "catalog.yaml")
    project.pulumi("config", "set", "billing:adopt", "adopt/test/import.json", stack="test")
    project.pulumi("config", "set", "--secret", "billing:webhookSecret", endpoint["secret"], stack="test")
    validated = project.billing("validate", "--stack", "test")
    assert validated.returncode == 0, validated.stdout + validated.stderr

    imports = json.loads((project.root / "adopt" / "test" / "import.json").read_text())["resources"]
    adopted = {(r["type"], r["name"]) for r in imports if not r.get("component")}
    steps = project.preview_steps("test")
    ops: dict[tuple[str, str], list[str]] = {}
    for step in steps:
        _, _, types, name = step["urn"].split("::", 3)
        ops.setdefault((types.rsplit("$", 1)[-1], name), []).append(step["op"])
    # Each adopted object is imported; one whose inputs differ is then updated in place
    # (Pulumi 3.174 on); none is replaced, created anew or deleted.
    for resource in adopted:
        assert "import" in ops.get(resource, []), (resource, ops.get(resource))
    assert not {op for found in ops.values() for op in found} & {
        "replace", "create-replacement", "delete-replaced", "delete"}
    updated = sorted(name for (_, name), found in ops.items() if "update" in found)
    print(f"\nadopted {len(adopted)} objects; updated in place after import: {', '.join(updated) or 'none'}")
    counts = {kind: len(stripe.all(kind)) for kind in stripe.objects}
    project.pulumi("up", "--yes", "--skip-preview", stack="test")
    # Imported, not duplicated: no second product, price or endpoint.
    for kind in ("product", "price", "webhook_endpoint"):
        assert len(stripe.all(kind)) == counts[kind], kind
    project.pulumi("preview", "--expect-no-changes", stack="test")
