"""Entitlements: the catalog's features, the program's features and attachments, and `diff`."""

from __future__ import annotations

import pytest

from infra.stripe import provider_table
from tests.support.catalogs import ENTITLED, SUMMARY
from tests.support.git_history import commit, diff, git
from tests.support.mock_program import run
from tests.support.project import Project, run_cli
from tests.support.repository import CATALOG
from tests.support.second_up import Account, agree, changed

FEATURE = provider_table.ENTITLEMENTS_FEATURE.token
ATTACH = provider_table.PRODUCT_FEATURE.token


def validate(project: Project, catalog: str, stack: str = "test") -> tuple[int, str]:
    project.catalog(catalog)
    code, out, err = run_cli("validate", "--stack", stack, "--project", str(project.root))
    return code, out + err


# ---------------------------------------------------------------- validate


def test_the_entitled_catalog_validates(project: Project) -> None:
    assert ENTITLED != CATALOG and SUMMARY in ENTITLED
    code, out = validate(project, ENTITLED)
    assert code == 0, out
    assert "5 webhook events, 3 features" in out


def test_a_missing_summary_event_is_refused_with_how_to_add_it(project: Project) -> None:
    code, out = validate(project, ENTITLED.replace(f"    - {SUMMARY}\n", ""))
    assert code == 2
    assert "webhook.events: the catalog declares entitlements" in out
    assert f"add `- {SUMMARY}` under webhook.events" in out
    assert "1 problem found:" in out and "applied" not in out  # validate is read-only: nothing to apply


@pytest.mark.parametrize(("edit", "expected"), [
    (("entitlements: [premium_reports, api_access]\n", "entitlements: [premium_report, api_access]\n"),
     "plans.pro.entitlements[0]: 'premium_report' is not a feature of this catalog; did you mean "
     "'premium_reports'?"),
    (("  free:                      # no prices -> no Stripe product; limits still exported\n"
      "    name: Free\n",
      "  free:\n    name: Free\n    entitlements: [sso]\n"),
     "plans.free.entitlements: plan 'free' is free: it has no Stripe product"),
    (("entitlements: [premium_reports, api_access, sso]\n", "entitlements: [premium_reports, api_access]\n"),
     "entitlements.sso: no plan lists 'sso'"),
    (("  sso: {name: Single sign-on}\n", "  SSO: {name: Single sign-on}\n"),
     "entitlements.SSO: 'SSO' is not a feature lookup key: a lowercase slug"),
    (("  sso: {name: Single sign-on}\n", "  sso: {}\n"), "entitlements.sso.name: required field is missing"),
    (("entitlements: [premium_reports, api_access]\n", "entitlements: [api_access, api_access]\n"),
     "plans.pro.entitlements: listed twice: api_access"),
    (("  sso: {name: Single sign-on}\n", "  sso: {name: Single sign-on, lookup_key: sso}\n"),
     "entitlements.sso.lookup_key: unknown field"),
])
def test_bad_entitlements_are_explained(project: Project, edit: tuple[str, str], expected: str) -> None:
    assert edit[0] in ENTITLED
    code, out = validate(project, ENTITLED.replace(*edit))
    assert code == 2 and expected in out, out


def test_a_typo_in_the_section_name_is_caught(project: Project) -> None:
    code, out = validate(project, ENTITLED.replace("entitlements:\n  premium", "entitlement:\n  premium"))
    assert code == 2 and "did you mean 'entitlements'?" in out


# ---------------------------------------------------------------- the program


@pytest.mark.parametrize("stack", ["test", "live"])
def test_both_stacks_declare_each_feature_once_and_each_attachment(project: Project, stack: str) -> None:
    project.catalog(ENTITLED)
    plan = run(project, stack)
    features = {r.name: r for r in plan.resources if r.type == FEATURE}
    attached = {r.name: r for r in plan.resources if r.type == ATTACH}
    assert set(features) == {"feature-premium_reports", "feature-api_access", "feature-sso"}
    sso = features["feature-sso"].inputs
    # The name is always sent (Pulumi would invent one); the lookup key is the catalog key.
    assert (sso["lookupKey"], sso["name"], sso["metadata"]) == ("sso", "Single sign-on", {"feature": "sso"})
    assert set(attached) == {"pro-feature-premium_reports", "pro-feature-api_access",
                             "enterprise-feature-premium_reports", "enterprise-feature-api_access",
                             "enterprise-feature-sso"}
    sso_attachment = attached["enterprise-feature-sso"].inputs
    assert sso_attachment["product"] == "<enterprise.id>"
    assert sso_attachment["entitlementsFeature"] == "<feature-sso.id>"
    assert all(r.protect == (stack == "live") for r in [*features.values(), *attached.values()])
    assert plain_outputs(plan)["featureIds"] == {k: f"<feature-{k}.id>" for k in ("premium_reports",
                                                                                   "api_access", "sso")}


def plain_outputs(plan: object) -> dict[str, object]:
    from infra.commands.plan import offline
    return offline.display(plan.outputs)  # type: ignore[attr-defined, no-any-return]


@pytest.mark.parametrize("stack", ["test", "live"])
def test_the_entitled_catalog_settles_on_the_second_up(project: Project, stack: str) -> None:
    project.catalog(ENTITLED)
    account = Account(project.root, stack)
    first = account.up()
    assert {key[1] for key in first if key[0] in (FEATURE, ATTACH)} >= {"feature-sso", "enterprise-feature-sso"}
    assert changed(account.up()) == {}


# ---------------------------------------------------------------- diff agrees with the provider


ENTITLEMENT_EDITS = {
    "feature added and attached": (
        ("entitlements: [premium_reports, api_access]\n", "entitlements: [premium_reports, api_access, exports]\n"),
        ("  sso: {name: Single sign-on}\n", "  sso: {name: Single sign-on}\n  exports: {name: Exports}\n")),
    "feature renamed in place": (("  sso: {name: Single sign-on}\n", "  sso: {name: SAML SSO}\n"),),
    "feature metadata": (("  sso: {name: Single sign-on}\n", "  sso: {name: Single sign-on, metadata: {a: b}}\n"),),
    "attachment added": (("entitlements: [premium_reports, api_access]\n",
                          "entitlements: [premium_reports, api_access, sso]\n"),),
    "attachment removed": (("entitlements: [premium_reports, api_access]\n", "entitlements: [premium_reports]\n"),),
    "feature removed": (("entitlements: [premium_reports, api_access, sso]\n",
                         "entitlements: [premium_reports, api_access]\n"), ("  sso: {name: Single sign-on}\n", "")),
    "lookup key renamed": (("entitlements: [premium_reports, api_access, sso]\n",
                            "entitlements: [premium_reports, api_access, saml]\n"),
                           ("  sso: {name: Single sign-on}\n", "  saml: {name: Single sign-on}\n")),
}
# Per edit: the claims diff makes, as (resource name, step, severity).
CLAIMS = {
    "feature added and attached": {("feature-exports", "create", "info"), ("pro-feature-exports", "create", "info")},
    "feature renamed in place": {("feature-sso", "update", "info")},
    "feature metadata": {("feature-sso", "update", "info")},
    "attachment added": {("pro-feature-sso", "create", "info")},
    "attachment removed": {("pro-feature-api_access", "delete", "warn")},
    "feature removed": {("feature-sso", "delete", "info"), ("enterprise-feature-sso", "delete", "warn")},
    "lookup key renamed": {("feature-saml", "create", "warn"), ("feature-sso", "delete", "info"),
                           ("enterprise-feature-saml", "create", "info"),
                           ("enterprise-feature-sso", "delete", "warn")},
}


def _edit(catalog: str, edits: tuple[tuple[str, str], ...]) -> str:
    for old, new in edits:
        assert old in catalog, old
        catalog = catalog.replace(old, new, 1)
    return catalog


@pytest.mark.parametrize("kind", list(ENTITLEMENT_EDITS))
def test_diff_claims_the_step_the_provider_takes_for_each_entitlement_change(project: Project, kind: str) -> None:
    changes, _ = agree(project, "test", ENTITLED, _edit(ENTITLED, ENTITLEMENT_EDITS[kind]))
    claims = {(c.resource[1], c.step, c.severity) for c in changes
              if c.group == "entitlements" and c.resource is not None}
    assert claims == CLAIMS[kind], changes


def test_attachment_changes_say_when_existing_subscribers_see_them(project: Project) -> None:
    changes, _ = agree(project, "test", ENTITLED, _edit(ENTITLED, ENTITLEMENT_EDITS["lookup key renamed"]))
    by_name = {c.resource[1]: c.message for c in changes if c.resource is not None}
    assert "existing subscribers get the change at their next billing period" in by_name["enterprise-feature-saml"]
    assert "its subscribers lose 'sso'" in by_name["enterprise-feature-sso"]
    assert "lookup key 'sso' -> 'saml': a feature's lookup key never changes in place" in by_name["feature-saml"]
    assert "Stripe keeps it active under its lookup key" in by_name["feature-sso"]


def test_on_live_a_detached_feature_is_refused_by_protect(project: Project) -> None:
    changes, outcomes = agree(project, "live", ENTITLED, _edit(ENTITLED, ENTITLEMENT_EDITS["attachment removed"]))
    assert outcomes[(ATTACH, "pro-feature-api_access")].refused
    (claim,) = [c for c in changes if c.resource == (ATTACH, "pro-feature-api_access")]
    assert claim.severity == "error" and "pulumi state unprotect" in claim.message


def test_diff_on_a_git_repository_shows_the_entitlements_group(project: Project) -> None:
    project.catalog(ENTITLED)
    git(project, "init", "-q", "-b", "main")
    git(project, "config", "user.email", "ci@example.com")
    git(project, "config", "user.name", "CI")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "catalog")
    commit(project, _edit(ENTITLED, ENTITLEMENT_EDITS["attachment added"]), "sso for pro")
    code, out, _ = diff(project, base="HEAD~1")
    assert code == 0, out
    assert "entitlements:" in out
    assert "plan 'pro' now includes 'sso'; existing subscribers get the change at their next billing period" in out
