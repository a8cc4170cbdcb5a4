"""`verify stripe` tells a matching account's features from a drifted one, with Stripe's list shapes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from infra.clients.stripe_api import MISSING_ID
from tests.servers.stripe_api_server import StripeServer
from tests.servers.stripe_keys import grants, permission
from tests.support.catalogs import ENTITLED
from tests.support.deployed_stripe import World, fails
from tests.support.project import Project


class Entitled(World):
    def __init__(self, project: Project) -> None:
        project.catalog(ENTITLED)
        super().__init__(project)
        catalog = self.deployment.catalog
        # The app key made as the catalog's manifest says: with entitlements, it reads them.
        self.account.keys[self.app_key] = grants(catalog.keys.app)
        self.features: dict[str, dict[str, Any]] = {
            key: self.account.feature(key, feature.name) for key, feature in catalog.entitlements.items()}
        for plan_key, plan in catalog.plans.items():
            for key in plan.entitlements:
                self.account.attach(self.made[plan_key], self.features[key])


@pytest.fixture
def entitled(project: Project) -> Entitled:
    return Entitled(project)


@pytest.fixture
def server(entitled: Entitled) -> Iterator[StripeServer]:
    with StripeServer(entitled.account) as running:
        yield running


def test_a_matching_account_passes_and_its_features_are_only_read(entitled: Entitled, server: StripeServer) -> None:
    found = entitled.verify(server)
    assert fails(found) == {}
    for name in ("feature premium_reports", "feature api_access", "feature sso", "features of pro",
                 "features of enterprise"):
        assert found[name].status == "pass", name
    assert "has the catalog's 3 features" in found["features of enterprise"].meaning
    requests = entitled.account.requests
    # The entitlement checks only read (the app key's write probes are verify_stripe's, and write nothing).
    assert {method for method, path in requests if "features" in path and MISSING_ID not in path} == {"GET"}
    # The app key reads active entitlements and features (Read), and may not change a feature.
    assert found["app key reads Entitlements"].status == "pass"
    assert found["app key cannot write Entitlements"].status == "pass"
    assert ("GET", "/v1/entitlements/features") in requests
    assert ("GET", f"/v1/products/{entitled.made['pro']['id']}/features") in requests


def test_a_drifted_account_is_told_apart(entitled: Entitled, server: StripeServer) -> None:
    account = entitled.account
    sso = entitled.features["sso"]
    sso["active"] = False  # archived in the Dashboard
    entitled.features["api_access"]["name"] = "Api"
    pro_features = account.lists[f"/v1/products/{entitled.made['pro']['id']}/features"]
    pro_features.pop()  # premium_reports detached from pro (the list is newest first)
    account.attach(entitled.made["pro"], sso)  # and sso attached by hand
    found = fails(entitled.verify(server))
    assert found["feature sso"] == f"no active feature has lookup key 'sso' ({sso['id']} is archived): no " \
                                   "subscriber is entitled to it"
    assert found["feature api_access"].endswith("is named 'Api', the catalog says 'API access'")
    assert found["features of pro"] == (f"{entitled.made['pro']['id']}: missing premium_reports (its subscribers "
                                        "are not entitled); not in the catalog sso (its subscribers get them)")
    assert "feature premium_reports" not in found and "features of enterprise" not in found


def test_a_lookup_key_in_the_wrong_case_is_named(entitled: Entitled, server: StripeServer) -> None:
    entitled.features["sso"]["lookup_key"] = "SSO"
    found = fails(entitled.verify(server))
    assert "has lookup key 'SSO'; the app checks 'sso' exactly" in found["feature sso"]


def test_a_key_without_entitlement_access_fails_one_check_and_the_run_goes_on(
    entitled: Entitled, server: StripeServer,
) -> None:
    entitled.account.keys[entitled.read_key] = frozenset(
        permission(resource, "read") for resource in ("Products", "Prices", "Webhook endpoints", "Customer portal"))
    found = entitled.verify(server, app=False)
    failed = fails(found)
    assert list(failed) == ["entitlement features"]
    assert "rak_entitlement_read" in found["entitlement features"].fix
    assert found["product pro"].status == "pass"


def test_a_hostile_feature_list_is_refused_by_shape(entitled: Entitled, server: StripeServer) -> None:
    entitled.features["sso"]["lookup_key"] = {"nested": "x"}
    found = fails(entitled.verify(server, app=False))
    assert "could not read entitlement features" in found["entitlement features"]
