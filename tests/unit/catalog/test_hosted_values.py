"""Every value a stack writes to its host passes the same rules, whatever its name or source."""

from __future__ import annotations

import textwrap

import pytest

from infra.catalog.hosting import BROWSER_PREFIXES
from infra.catalog.loader import Deployment, load_deployment
from infra.core.problems import ConfigError
from tests.support import cloudflare_stacks as cloudflare
from tests.support.project import VERCEL_PROJECT, Project, key, run_cli, stack_config
from tests.support.repository import CATALOG

pytestmark = pytest.mark.pure

EXTRA = "hosting:\n  extra:\n    CLERK_SECRET_KEY: app:clerkSecretKey\n"


def load(project: Project, stack: str, mode: str | None = None, **config: str) -> Deployment:
    return load_deployment(stack, project.root, stack_config(mode or stack, **config).get)


def refusal(project: Project, stack: str, mode: str | None = None, **config: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load(project, stack, mode, **config)
    message = caught.value.render()
    for value in config.values():
        if len(value) > 20:
            assert value not in message and value[9:] not in message  # only a prefix, never the body
    return message


def line_of(project: Project, text: str, file: str = "stacks/catalog.yaml") -> int:
    lines = (project.root / file).read_text().splitlines()
    return next(n for n, line in enumerate(lines, start=1) if line.startswith(text) or f" {text}" in line)


@pytest.mark.parametrize(("stack", "value", "reason"), [
    ("test", key("sk", "live"), "holds a live-mode Stripe key (sk_live_), written as CLERK_SECRET_KEY, but the "
                                "stack is in test mode; set the test-mode value"),
    ("test", key("rk", "live"), "holds a live-mode Stripe key (rk_live_)"),
    ("test", key("pk", "live"), "holds a live-mode Stripe key (pk_live_)"),
    ("live", key("sk", "test"), "holds a test-mode Stripe key (sk_test_), written as CLERK_SECRET_KEY, but the "
                                "stack is in live mode; set the live-mode value"),
    ("live", key("rk", "test"), "holds a test-mode Stripe key (rk_test_)"),
    ("live", key("pk", "test"), "holds a test-mode Stripe key (pk_test_)"),
    ("live", key("sk", "live"), "holds a full live secret key (sk_live_), written as CLERK_SECRET_KEY: it can "
                                "refund, pay out and delete customers, whatever the variable is called"),
    ("live", "whsec_" + "W" * 32, "holds a webhook signing secret (whsec_), written as CLERK_SECRET_KEY: the "
                                  "stack writes the endpoint's own secret itself"),
    ("test", "whsec_" + "W" * 32, "holds a webhook signing secret (whsec_)"),
])
def test_an_extra_value_follows_the_stack_mode(project: Project, stack: str, value: str, reason: str) -> None:
    project.catalog(CATALOG + EXTRA)
    message = refusal(project, stack, **{"app:clerkSecretKey": value})
    assert "1 problem found:" in message
    # Not in the stack file (it would be `secure:`): placed at its `config:` line, named by its key.
    config = line_of(project, "config:", f"Pulumi.{stack}.yaml")
    assert f"  Pulumi.{stack}.yaml:{config}: app:clerkSecretKey: {reason}" in message


@pytest.mark.parametrize(("stack", "value"), [
    ("live", key("rk", "live")), ("test", key("sk", "test")), ("test", key("rk", "test")),
    ("live", "clerk" + "Secret" * 5), ("test", "postgres://user:pw@db.example.com/app"),
])
def test_a_value_of_the_stack_mode_or_of_no_stripe_shape_is_written(project: Project, stack: str,
                                                                     value: str) -> None:
    project.catalog(CATALOG + EXTRA)
    assert load(project, stack, **{"app:clerkSecretKey": value}).mode == stack


def test_renaming_the_app_key_does_not_let_a_full_live_key_through(project: Project) -> None:
    # The app key moved to another name, and STRIPE_SECRET_KEY reused for an extra value.
    project.catalog(CATALOG + "hosting:\n  names: {secret_key: APP_STRIPE_KEY}\n"
                              "  extra: {STRIPE_SECRET_KEY: app:stripeKey}\n")
    message = refusal(project, "live", **{"app:stripeKey": key("sk", "live", "Full")})
    assert "app:stripeKey: holds a full live secret key (sk_live_), written as STRIPE_SECRET_KEY" in message


@pytest.mark.parametrize(("stack", "source", "whose"), [
    ("live", "stripe:apiKey", "the deployer's Stripe key"),
    ("live", "vercel:apiToken", "the host's API token (vercel:apiToken)"),
    ("test", "vercel:apiToken", "the host's API token (vercel:apiToken)"),
])
def test_no_extra_value_is_a_deployer_credential(project: Project, stack: str, source: str, whose: str) -> None:
    project.catalog(CATALOG + EXTRA)
    same = stack_config(stack)[source]
    message = refusal(project, stack, **{"app:clerkSecretKey": same})
    assert f"app:clerkSecretKey: holds {whose}, which would be written to the app's environment as " \
           "CLERK_SECRET_KEY; give the app its own credential" in message


@pytest.mark.parametrize("prefix", BROWSER_PREFIXES)
def test_no_secret_gets_a_name_shipped_to_browsers(project: Project, prefix: str) -> None:
    project.catalog(CATALOG + f"hosting:\n  extra:\n    {prefix}CLERK_KEY: app:clerkSecretKey\n")
    message = refusal(project, "test", **{"app:clerkSecretKey": "clerk" + "Secret" * 5})
    line = line_of(project, f"{prefix}CLERK_KEY")
    assert f"stacks/catalog.yaml:{line}: hosting.extra.{prefix}CLERK_KEY: {prefix}CLERK_KEY would hold stack " \
           f"secret app:clerkSecretKey, a secret (hosting.extra holds secrets only), but frameworks build " \
           f"variables named {prefix}... into the JavaScript every visitor downloads; give it a name without " \
           f"{prefix}" in message


@pytest.mark.parametrize(("field", "name", "what"), [
    ("secret_key", "NEXT_PUBLIC_STRIPE_SECRET_KEY", "the app's Stripe key (billing:appStripeKey)"),
    ("webhook_secret", "VITE_STRIPE_WEBHOOK_SECRET", "the webhook endpoint's signing secret"),
])
def test_the_stripe_secrets_cannot_be_renamed_public(project: Project, field: str, name: str, what: str) -> None:
    project.catalog(CATALOG + f"hosting:\n  names:\n    {field}: {name}\n")
    message = refusal(project, "live")
    assert f"stacks/catalog.yaml:{line_of(project, name)}: hosting.names.{field}: {name} would hold {what}, a " \
           "secret, but frameworks build" in message


def test_the_publishable_key_keeps_its_public_name(project: Project) -> None:
    assert load(project, "live").catalog.hosting.names.publishable_key.startswith("NEXT_PUBLIC_")


STAGING = """\
config:
  billing:mode: {mode}
  billing:vercelProject: {project}
  billing:domain: staging.shop.test
"""


@pytest.mark.parametrize(("mode", "clashes_with", "targets"), [
    ("test", "test", "development, preview"), ("live", "live", "production")])
def test_a_third_stack_may_not_own_another_stacks_variables(project: Project, mode: str, clashes_with: str,
                                                            targets: str) -> None:
    project.stack("staging", STAGING.format(mode=mode, project=VERCEL_PROJECT))
    # The getter stands for the engine's config; the other stacks are read from their files.
    shared = {"billing:vercelProject": VERCEL_PROJECT}
    message = refusal(project, "staging", mode, **shared)
    assert (f"Pulumi.staging.yaml:3: billing:vercelProject: stack {clashes_with!r} (Pulumi.{clashes_with}.yaml) "
            "writes the same values (NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY, STRIPE_PORTAL_CONFIGURATION_ID, "
            f"STRIPE_PRICE_ENTERPRISE_MONTHLY and 4 more) to the same targets ({targets}) of Vercel project "
            f"{VERCEL_PROJECT}, so each `up` would overwrite the other's values; give one of the stacks its "
            "own billing:vercelProject") in message
    # ...and the stack it clashes with says so too, from its side.
    other = refusal(project, clashes_with, **shared)
    assert "billing:vercelProject: stack 'staging' (Pulumi.staging.yaml) writes the same values" in other


def test_stacks_on_their_own_projects_or_targets_do_not_clash(project: Project) -> None:
    project.stack("staging", STAGING.format(mode="test", project="prj_Staging"))
    assert load(project, "staging", "test", **{"billing:vercelProject": "prj_Staging"}).mode == "test"
    assert load(project, "test").mode == "test" and load(project, "live").mode == "live"


def test_a_broken_third_stack_file_is_left_to_its_own_validation(project: Project) -> None:
    project.stack("staging", textwrap.dedent("config:\n  billing:mode: [\n"))
    assert load(project, "test").mode == "test"


def test_a_host_that_reports_sharing_itself_is_not_told_twice(project: Project) -> None:
    # Two Cloudflare stacks on one Worker script: the host's own rule says it, once.
    project.catalog(cloudflare.RUNBOOK_CATALOG)
    project.stack("live", cloudflare.stack_file("live"))
    project.stack("test", cloudflare.stack_file("test", script="api"))
    message = cloudflare.refusal(project, "test")
    assert message.startswith("1 problem found:\n  Pulumi.test.yaml:6: billing:workerScript: 'api' is also the "
                              "Worker script of stack 'live'")


def test_offline_placeholders_pass_the_guards(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    # No secret supplied: each one gets its own placeholder, so no two look like one shared credential.
    monkeypatch.delenv("PULUMI_CONFIG", raising=False)
    project.catalog(CATALOG + EXTRA)
    code, out, err = run_cli("validate", "--stack", "live", "--project", str(project.root))
    assert (code, err) == (0, "") and "app:clerkSecretKey" in out
