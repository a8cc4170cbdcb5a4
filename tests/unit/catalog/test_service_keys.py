"""Secrets of other services: a `hosting.extra` entry that says it is Clerk's is checked as Clerk's keys.

The seeds' stack is Stripe + Clerk + Neon + Vercel; production needs Clerk's
`sk_live_` key, which looks like a Stripe secret key.
"""

from __future__ import annotations

import pytest

from infra.catalog.loader import load_deployment
from infra.core.problems import ConfigError
from tests.support.project import Project, run_cli, stack_config
from tests.support.repository import REPO

CATALOG = """\
plans:
  pro:
    name: Pro
    prices:
      monthly: {amount: "29.00", currency: usd, interval: month}
webhook:
  path: /webhook/stripe
  api_version: "2026-10-28.endive"
  events: [checkout.session.completed]
"""

CLERK = ("hosting:\n  extra:\n"
         "    CLERK_SECRET_KEY: {key: app:clerkSecretKey, kind: clerk}\n"
         "    CLERK_PUBLISHABLE_KEY: {key: app:clerkPublishableKey, kind: clerk}\n"
         "    DATABASE_URL: app:neonDatabaseUrl\n")
UNDECLARED = "hosting:\n  extra:\n    CLERK_SECRET_KEY: app:clerkSecretKey\n"


def clerk(kind: str, mode: str) -> str:
    """A Clerk-shaped key built at run time; nothing key-shaped is committed."""
    return f"{kind}_{mode}_" + "Cl3rk" * 8


def neon() -> str:
    return "postgresql://app:" + "pw" * 8 + "@ep-example.neon.tech/app?sslmode=require"


def problems(project: Project, mode: str, extra: str, **values: str) -> str | None:
    project.catalog(CATALOG + extra)
    config = stack_config(mode, **{"app:neonDatabaseUrl": neon(), **values})
    try:
        load_deployment(mode, project.root, config.get)
    except ConfigError as error:
        return error.render()
    return None


@pytest.mark.parametrize("mode", ["test", "live"])
def test_clerk_keys_of_the_stack_mode_pass_on_both_stacks(project: Project, mode: str) -> None:
    found = problems(project, mode, CLERK, **{"app:clerkSecretKey": clerk("sk", mode),
                                              "app:clerkPublishableKey": clerk("pk", mode)})
    assert found is None, found


@pytest.mark.parametrize(("mode", "other"), [("test", "live"), ("live", "test")])
def test_a_clerk_key_of_the_other_mode_is_refused(project: Project, mode: str, other: str) -> None:
    found = problems(project, mode, CLERK, **{"app:clerkSecretKey": clerk("sk", other),
                                              "app:clerkPublishableKey": clerk("pk", mode)})
    assert found is not None
    assert (f"app:clerkSecretKey: holds a {other}-mode clerk key (sk_{other}_), written as "
            f"CLERK_SECRET_KEY, but the stack is in {mode} mode; store the {mode} one "
            f"(sk_{mode}_ or pk_{mode}_...)") in found
    assert "Cl3rk" not in found


def test_a_declared_clerk_value_that_is_no_clerk_key_is_refused(project: Project) -> None:
    found = problems(project, "live", CLERK, **{"app:clerkSecretKey": "rk_" + "live_" + "x" * 24,
                                                "app:clerkPublishableKey": clerk("pk", "live")})
    assert found is not None
    assert "holds a value with rk_live_, written as CLERK_SECRET_KEY, which is declared a clerk key" in found


def test_an_undeclared_live_secret_key_is_still_refused_with_the_kind_fix(project: Project) -> None:
    found = problems(project, "live", UNDECLARED, **{"app:clerkSecretKey": clerk("sk", "live")})
    assert found is not None
    assert "holds a full live secret key (sk_live_), written as CLERK_SECRET_KEY" in found
    assert "`hosting.extra.CLERK_SECRET_KEY: {key: app:clerkSecretKey, kind: clerk}`" in found


def test_a_stripe_name_cannot_be_declared_another_service_key(project: Project) -> None:
    extra = "hosting:\n  extra:\n    STRIPE_LIVE_KEY: {key: app:other, kind: clerk}\n"
    found = problems(project, "live", extra, **{"app:other": "sk_" + "live_" + "x" * 24})
    assert found is not None
    assert "STRIPE_LIVE_KEY is declared as a clerk key, but its name is Stripe's" in found


def test_an_unknown_kind_is_refused_with_the_known_ones(project: Project) -> None:
    extra = "hosting:\n  extra:\n    AUTH_KEY: {key: app:auth, kind: auth0}\n"
    found = problems(project, "test", extra, **{"app:auth": "secret"})
    assert found is not None
    assert "is not a service whose keys the guards know; use one of: clerk" in found


@pytest.mark.parametrize("mode", ["test", "live"])
def test_readme_s_clerk_and_neon_lines_go_through_on_both_stacks(project: Project, mode: str) -> None:
    readme = (REPO / "docs" / "getting-started.md").read_text()
    section = readme[readme.index("**Other services the app reads.**"):]
    block = section[section.index("```yaml\n") + len("```yaml\n"):section.index("```\n", 8)]
    assert "kind: clerk" in block and "DATABASE_URL" in block
    found = problems(project, mode, block, **{"app:clerkSecretKey": clerk("sk", mode),
                                              "app:databaseUrl": neon()})
    assert found is None, found


@pytest.mark.parametrize("mode", ["test", "live"])
def test_offline_commands_use_a_placeholder_of_the_service_s_shape(
    project: Project, mode: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PULUMI_CONFIG", raising=False)
    project.catalog(CATALOG + CLERK)
    for command in ("validate", "plan"):
        code, out, err = run_cli(command, "--stack", mode, "--project", str(project.root))
        assert code == 0, err
        assert "app:clerkSecretKey" in out  # named among the placeholders
