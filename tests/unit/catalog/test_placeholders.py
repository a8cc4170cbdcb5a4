"""Nothing the repository ships as an example reaches live: an error there, a warning on test."""

from __future__ import annotations

import re

import pulumi
import pytest

from infra.catalog import placeholders
from infra.catalog.stack_config import from_stack
from infra.commands.plan import offline
from tests.support.project import DOMAINS, STACK_FILES, VERCEL_PROJECT, Project, credentials, run_cli
from tests.support.repository import CATALOG, DOCS, doc

# README and every page under docs/: the examples they show.
SHOWN = "\n".join(doc(name) for name in DOCS)
PORTAL = "    headline: Manage your subscription\n"

# Each kind of shipped example, as a stack file or catalog would hold it, and the line it is on.
EXAMPLES = {
    "domain": ("stack", f"billing:domain: {DOMAINS['live']}", "billing:domain: app.example.com", 4,
               "billing:domain: is an example domain"),
    "preview domain": ("stack", f"billing:domain: {DOMAINS['live']}", "billing:domain: api-staging.example.org",
                       4, "billing:domain: is an example domain"),
    "vercel project": ("stack", f"billing:vercelProject: {VERCEL_PROJECT}", "billing:vercelProject: "
                       "prj_ExampleProjectId", 3, "billing:vercelProject: is the repository's example ID"),
    "privacy url": ("catalog", PORTAL, PORTAL + "    privacy_policy_url: https://example.com/privacy\n", None,
                    "portal.business_profile.privacy_policy_url: is an example URL"),
    "terms url": ("catalog", PORTAL, PORTAL + "    terms_of_service_url: https://www.example.com/terms\n", None,
                  "portal.business_profile.terms_of_service_url: is an example URL"),
    "sample coupon": ("stack", "SMOKETEST: {max_redemptions: 1}", "LAUNCH20: {max_redemptions: 1}", 6,
                      "billing:coupons.smoke_test: is the repository's sample coupon (promotion code LAUNCH20)"),
}


def with_example(project: Project, stack: str, kind: str) -> str:
    where, real, example, line, _ = EXAMPLES[kind]
    if where == "catalog":
        assert real in CATALOG
        project.catalog(CATALOG.replace(real, example))
        line_no = CATALOG.replace(real, example).splitlines().index(example.splitlines()[-1]) + 1
        return f"stacks/catalog.yaml:{line_no}: "
    text = STACK_FILES[stack].replace(real.replace(DOMAINS["live"], DOMAINS[stack]),
                                      example) if stack == "test" else STACK_FILES[stack].replace(real, example)
    assert example in text
    project.stack(stack, text)
    return f"Pulumi.{stack}.yaml:{line}: "


@pytest.mark.parametrize("kind", EXAMPLES)
def test_every_shipped_example_is_refused_on_live_with_its_line_and_fix(project: Project, kind: str) -> None:
    where = with_example(project, "live", kind)
    code, out, err = run_cli("validate", "--stack", "live", "--project", str(project.root))
    assert code == 2 and out == ""
    (problem,) = err.splitlines()[1:]
    assert problem.strip().startswith(where + EXAMPLES[kind][4]), problem
    assert " there: " in problem or "remove it from Pulumi.live.yaml" in problem  # and says what to put
    # The program itself refuses it the same way, before any resource exists.
    engine = from_stack(project.root, "live", env={}, overrides=credentials("live"))
    with pytest.raises(pulumi.RunError, match="nothing was applied") as refused:
        offline.run_program(project.root / "__main__.py", "live", engine.values, engine.secret_keys)
    assert EXAMPLES[kind][4] in str(refused.value)


# The sample coupon stands in the live file's coupon here; on test it is README's own example.
@pytest.mark.parametrize("kind", [k for k in EXAMPLES if k != "sample coupon"])
def test_on_test_an_example_is_a_warning_and_validate_still_passes(project: Project, kind: str) -> None:
    where = with_example(project, "test", kind)
    code, out, err = run_cli("validate", "--stack", "test", "--project", str(project.root))
    assert code == 0 and out.startswith("ok: stack 'test'"), err
    assert f"warning: {where}{EXAMPLES[kind][4]}" in err
    code, out, _ = run_cli("plan", "--stack", "test", "--project", str(project.root))
    # The program logs it too; the plan wraps each notice within its width.
    assert code == 0 and " ".join(f"! warning: {where}{EXAMPLES[kind][4]}".split()) in " ".join(out.split())


def test_filled_in_stacks_have_nothing_to_warn_about(project: Project) -> None:
    for stack in ("test", "live"):
        code, _, err = run_cli("validate", "--stack", stack, "--project", str(project.root))
        assert code == 0 and "warning" not in err, err


def test_keys_prints_its_checklist_for_a_live_stack_not_filled_in_yet(project: Project) -> None:
    with_example(project, "live", "vercel project")
    code, out, err = run_cli("keys", "--stack", "live", "--project", str(project.root))
    assert code == 0 and "1. The app key" in out
    assert "warning: Pulumi.live.yaml:3: billing:vercelProject: is the repository's example ID" in err


def test_readme_examples_are_the_ones_recognised() -> None:
    # The Cloudflare section's account and every example host name README and docs/ show.
    for account in re.findall(r"billing:cloudflareAccountId: ([0-9a-f]{32})", SHOWN):
        assert account in placeholders.EXAMPLE_IDS["billing:cloudflareAccountId"]
    hosts = set(re.findall(r"\b((?:[a-z0-9-]+\.)+example\.(?:com|org|net))\b", SHOWN))
    assert hosts and all(placeholders.example_domain(host) for host in hosts)
    assert not placeholders.example_domain("shop.example.community")  # a real name that only starts alike
    assert "prj_ExampleProjectId" in placeholders.EXAMPLE_IDS["billing:vercelProject"]
