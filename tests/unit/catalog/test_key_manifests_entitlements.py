"""The restricted keys follow the catalog: entitlements declared, each key can do what they need."""

from __future__ import annotations

import pytest

from infra.catalog import APP_MANIFEST, DEPLOYER_MANIFEST
from infra.stripe.rak_names import RAK_NAMES
from tests.support.project import Project, run_cli

pytestmark = pytest.mark.pure

BASE = """\
plans:
  pro:
    name: Pro
    prices:
      monthly: {amount: "29.00", currency: usd, interval: month}
{plan_features}webhook:
  path: /webhook/stripe
  api_version: "2026-10-28.endive"
  events: [checkout.session.completed{summary}]
{features}{keys}"""
ENTITLED = {"plan_features": "    entitlements: [premium_reports]\n",
            "summary": ", entitlements.active_entitlement_summary.updated",
            "features": "entitlements:\n  premium_reports: {name: Premium reports}\n"}
PLAIN = {"plan_features": "", "summary": "", "features": ""}


def catalog(parts: dict[str, str], keys: str = "") -> str:
    text = BASE
    for name, value in {**parts, "keys": keys}.items():
        text = text.replace("{" + name + "}", value)
    return text


def keys_output(project: Project, text: str) -> str:
    project.catalog(text)
    code, out, err = run_cli("keys", "--stack", "test", "--project", str(project.root))
    assert code == 0, err
    return out


def test_with_entitlements_the_deployer_writes_features_and_the_app_reads_them(project: Project) -> None:
    out = keys_output(project, catalog(ENTITLED))
    app, deployer = out.split("2. The deployer key")
    assert "Entitlements         Read" in app
    assert "rak_entitlement_read" in app.split("Prefilled form")[1].splitlines()[0]
    assert "Entitlements         Write" in deployer
    # No public source names the write permission: it stays out of the link, set by hand.
    assert "Not in the link (Stripe's name for it is not confirmed), set by hand: " in deployer
    assert "Entitlements Write" in deployer.split("set by hand: ")[1].splitlines()[0]
    assert "rak_entitlement_write" not in out


def test_without_entitlements_the_keys_get_nothing_on_them(project: Project) -> None:
    out = keys_output(project, catalog(PLAIN))
    assert "Entitlements         Read" not in out and "Entitlements         Write" not in out
    assert "Entitlements" not in APP_MANIFEST.permissions and "Entitlements" not in DEPLOYER_MANIFEST.permissions


def test_a_declared_manifest_without_what_the_features_need_is_refused(project: Project) -> None:
    keys = ("keys:\n"
            "  app:\n    purpose: the app\n    permissions: {Checkout Sessions: write}\n"
            "  deployer:\n    purpose: Pulumi\n    permissions: {Products: write, Prices: write, "
            "Webhook endpoints: write, Customer portal: write, Coupons: write, Promotion codes: write}\n")
    project.catalog(catalog(ENTITLED, keys))
    code, _, err = run_cli("validate", "--stack", "test", "--project", str(project.root))
    assert code == 2
    deployer = next(line for line in err.splitlines() if "keys.deployer.permissions" in line)
    assert "so the deployer key needs Write on: " in deployer and "Entitlements" in deployer
    assert "keys.app.permissions: the catalog declares entitlements" in err
    assert "the app key needs Read on Entitlements; add `Entitlements: read`" in err
    project.catalog(catalog(ENTITLED, keys.replace("{Checkout Sessions: write}",
                                                   "{Checkout Sessions: write, Entitlements: read}")
                            .replace("Promotion codes: write}", "Promotion codes: write, Entitlements: write}")))
    code, _, err = run_cli("validate", "--stack", "test", "--project", str(project.root))
    assert code == 0, err


def test_the_one_confirmed_entitlements_name_says_where_it_was_seen() -> None:
    seen = RAK_NAMES[("Entitlements", "read")]
    assert seen.name == "rak_entitlement_read"
    assert "PostHog" in seen.where
    assert ("Entitlements", "write") not in RAK_NAMES
