"""Errors quote what was typed when it cannot be a secret, and report every independent problem."""

from __future__ import annotations

import pytest

from infra.catalog.loader import load_deployment
from infra.core.problems import ConfigError
from tests.support.project import Project, key, stack_config

pytestmark = pytest.mark.pure

CATALOG = """\
plans:
  free:
    name: Free
  Pro:
    name: Pro Plan
    prices:
      monthly: {amount: "29.00", currency: usd, interval: month}
      yearly: {amount: "290.00", currency: usd, interval: yaer}
  enterprise:
    name: Enterprise
    prices:
      monthly: {amount: "99.00", currency: usd, interval: month}
webhook:
  path: /webhook/stripe
  api_version: "2026-10-28.endive"
  events: [checkout.session.completed]
portal:
  plan_switching:
    plans: [pro, enterprise, team]
"""


def refused(project: Project, **settings: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_deployment("test", project.root, stack_config("test", **settings).get)
    return [str(problem) for problem in caught.value.problems]


def test_a_mode_a_domain_and_a_url_are_shown_as_typed(project: Project) -> None:
    project.stack("test", "config:\n  billing:mode: Test\n  billing:domain: https://staging.example.com/\n")
    found = refused(project, **{"billing:mode": "Test", "billing:domain": "https://staging.example.com/"})
    assert "Pulumi.test.yaml:2: billing:mode: 'Test' is not allowed; use one of 'test' or 'live'" in found
    assert ("Pulumi.test.yaml:3: billing:domain: 'https://staging.example.com/' must be a host name only, "
            "without scheme or path: use 'staging.example.com'") in found


@pytest.mark.parametrize("pasted", [key("sk", "live", "Pa5t"), "AbCdEfGh1234567890IjKlMn", "whsec_" + "Zz9" * 8])
def test_what_could_be_a_secret_is_still_described_never_quoted(project: Project, pasted: str) -> None:
    text = "\n".join(refused(project, **{"billing:domain": pasted, "billing:mode": pasted}))
    assert pasted not in text and pasted[8:] not in text
    assert f"a {len(pasted)}-character value" in text


def test_a_bad_plan_key_hides_no_problem_beneath_it_and_is_never_suggested(project: Project) -> None:
    project.catalog(CATALOG)
    found = refused(project)
    assert any("plans.Pro: 'Pro' is not a lowercase slug" in p and "use 'pro'" in p for p in found), found
    assert any("plans.Pro.prices.yearly.interval: 'yaer' is not allowed" in p for p in found), found
    # 'pro' is what the bad key is told to become: not a second problem. 'team' is one, and the plans
    # offered for it are the valid keys only.
    (switch,) = [p for p in found if "portal.plan_switching" in p]
    assert "plans[2]: 'team' is not a plan in this catalog; use one of: free, enterprise" in switch
    assert not any("'Pro'" in p and "use one of" in p for p in found)
    assert len(found) == 3, found
