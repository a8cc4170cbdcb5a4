"""`pull` adopts an account's features; product features are left to the first `up`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from infra.stripe import provider_table
from tests.servers.stripe_api_server import StripeServer
from tests.support.hand_made_account import STACK, WHSEC, HandMade, pulled
from tests.support.project import Project, run_cli
from tests.support.second_up import Account, changed, read_back

FEATURE = provider_table.ENTITLEMENTS_FEATURE.token
ATTACH = provider_table.PRODUCT_FEATURE.token
SUMMARY = "entitlements.active_entitlement_summary.updated"


class Entitled(HandMade):
    def __init__(self) -> None:
        super().__init__()
        a = self.account
        self.reports = a.feature("premium_reports", "Premium reports")
        self.sso = a.feature("sso", "Single sign-on")
        self.old = a.feature("legacy_export", "Legacy export", active=False)
        self.unused = a.feature("beta_ai", "Beta AI")
        self.bad = a.feature("Bad-Key", "Bad key")
        for feature in (self.reports, self.old, self.bad):
            a.attach(self.pro, feature)
        a.attach(self.team, self.reports)
        a.attach(self.team, self.sso)


@pytest.fixture
def entitled(monkeypatch: pytest.MonkeyPatch) -> Iterator[Entitled]:
    made = Entitled()
    with StripeServer(made.account) as running:
        monkeypatch.setenv("STRIPE_API_BASE", running.base)
        monkeypatch.setenv("STRIPE_API_KEY", made.key)
        # The adopted endpoint's signing secret, given before the pull checks what it wrote.
        monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"billing:webhookSecret": WHSEC}))
        yield made


def test_pull_adopts_features_and_lists_each_plans(project: Project, entitled: Entitled) -> None:
    code, out, err, folder = pulled(project)
    assert code == 0, out + err
    catalog = yaml.safe_load((folder / "catalog.yaml").read_text())
    assert catalog["entitlements"] == {"premium_reports": {"name": "Premium reports"},
                                       "sso": {"name": "Single sign-on"}}
    assert catalog["plans"]["pro"]["entitlements"] == ["premium_reports"]
    assert catalog["plans"]["team"]["entitlements"] == ["premium_reports", "sso"]
    assert SUMMARY in catalog["webhook"]["events"]
    imports = json.loads((folder / "import.json").read_text())["resources"]
    by_type = {(r["type"], r["name"]): r.get("id") for r in imports}
    assert by_type[(FEATURE, "feature-premium_reports")] == entitled.reports["id"]
    assert by_type[(FEATURE, "feature-sso")] == entitled.sso["id"]
    assert not any(type_ == ATTACH for type_, _ in by_type)  # an import of a product feature fails
    assert "the 3 product features are not (the provider cannot import them" in out
    assert "whether Stripe accepts an attachment that already exists is not verified" in out
    assert f"{entitled.unused['id']}: feature 'beta_ai' is on no adopted plan's product" in out
    assert f"{entitled.bad['id']}: not adopted: 'Bad-Key' is not a feature lookup key" in out
    assert f"the first up adds {SUMMARY}" in out
    assert ("GET", f"/v1/products/{entitled.pro['id']}/features") in entitled.account.requests
    assert "1 features" not in out and "read 263 products" in out


def test_the_pulled_account_validates_and_settles_after_its_first_up(project: Project, tmp_path: Path,
                                                                    entitled: Entitled) -> None:
    code, _, _, _ = pulled(project)
    assert code == 0
    project.stack("test", STACK + "  billing:catalog: adopt/test/catalog.yaml\n"
                                  "  billing:adopt: adopt/test/import.json\n")
    secret = {"billing:webhookSecret": "whsec_" + "Ad0p" * 6}
    account = Account(project.root, "test", config=secret)
    account.existing = {obj["id"]: read_back(obj) for objects in entitled.account.lists.values()
                        for obj in objects}
    first = account.up()
    assert first[(FEATURE, "feature-sso")].kind == "import"
    assert first[(ATTACH, "team-feature-sso")].kind == "create"
    assert "replace" not in {o.kind for o in first.values()}
    assert changed(account.up()) == {}


def test_a_key_that_cannot_read_features_still_pulls_the_rest(project: Project, entitled: Entitled) -> None:
    entitled.account.failures["/v1/entitlements/features"] = 404
    code, out, err, folder = pulled(project)
    assert code == 0, out + err
    assert "entitlements: features not read" in out
    assert "entitlements" not in yaml.safe_load((folder / "catalog.yaml").read_text())
    assert run_cli("validate", "--stack", "test", "--project", str(project.root),
                   "--catalog", str(folder / "catalog.yaml"))[0] == 0
