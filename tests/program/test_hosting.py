"""Vercel variables: the whole program under mocks, for both stacks."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from infra.commands.plan import offline
from infra.components.environment import READ_STACK_OUTPUTS, changed, notice
from infra.components.vercel import VercelEnvironment
from infra.core.problems import ConfigError
from tests.support.mock_program import SIGNING_SECRET, WEBHOOK, plain, run
from tests.support.project import DOMAINS, VERCEL_PROJECT, Project, credentials, key
from tests.support.repository import CATALOG

VARIABLE = "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable"

NAMES = [
    "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY",
    "STRIPE_PORTAL_CONFIGURATION_ID", "STRIPE_PRICE_PRO_MONTHLY", "STRIPE_PRICE_PRO_YEARLY",
    "STRIPE_PRICE_ENTERPRISE_MONTHLY",
]


def variables(plan: offline.Plan) -> dict[tuple[str, str], offline.Registration]:
    """(name, target) -> registration; each variable must have exactly one target."""
    found = {}
    for registration in plan.of_type(VARIABLE):
        (target,) = registration.inputs["targets"]
        assert (registration.inputs["key"], target) not in found
        found[(registration.inputs["key"], target)] = registration
    return found


def raw_value(registration: offline.Registration) -> str:
    """The value as the provider would receive it; the SDK marks every value secret."""
    wrapped = registration.inputs["value"]
    assert plain(wrapped) == offline.SECRET
    value: str = wrapped["value"]
    return value


def with_hosting(project: Project, hosting: str) -> None:
    project.catalog(CATALOG + textwrap.dedent(hosting))


@pytest.mark.parametrize(("stack", "targets"), [
    ("live", {"production": True}),
    ("test", {"preview": True, "development": False}),
])
def test_variable_matrix(project: Project, stack: str, targets: dict[str, bool]) -> None:
    plan = run(project, stack)
    found = variables(plan)
    assert set(found) == {(name, target) for name in NAMES for target in targets}
    for (name, target), registration in found.items():
        inputs = plain(registration.inputs)
        assert inputs["sensitive"] is targets[target], (name, target)
        assert inputs["projectId"] == VERCEL_PROJECT
        assert registration.name == f"{target}-{name}"
        assert registration.parent.endswith("billing:vercel:Environment::hosting")
    # Names only, per target, in the exports.
    assert plan.outputs["hostingVariables"] == {target: NAMES for target in targets}


def test_the_two_stacks_never_own_the_same_key_and_target(project: Project) -> None:
    live, test = variables(run(project, "live")), variables(run(project, "test"))
    assert not set(live) & set(test)
    # ...while the app reads the same names in every environment.
    assert {name for name, _ in live} == {name for name, _ in test}


@pytest.mark.parametrize("stack", ["test", "live"])
def test_values_go_only_to_their_own_mode(project: Project, stack: str) -> None:
    found = variables(run(project, stack))
    other = "live" if stack == "test" else "test"
    creds = credentials(stack)
    for (name, _target), registration in found.items():
        assert f"_{other}_" not in raw_value(registration), name
    assert raw_value(found[("STRIPE_SECRET_KEY", "preview" if stack == "test" else "production")]) \
        == creds["billing:appStripeKey"]
    publishable = raw_value(found[("NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY",
                                   "development" if stack == "test" else "production")])
    assert publishable == creds["billing:publishableKey"]
    # The deployer key never reaches the app's environment.
    assert creds["stripe:apiKey"] not in {raw_value(r) for r in found.values()}


def test_webhook_secret_is_wired_from_the_endpoint_not_from_config(project: Project) -> None:
    rotated = "whsec_" + "R0tated" * 5
    plan = run(project, "live", state={WEBHOOK: {"secret": rotated}})
    registration = variables(plan)[("STRIPE_WEBHOOK_SECRET", "production")]
    assert raw_value(registration) == rotated  # whatever the endpoint returns, nothing else
    assert raw_value(variables(run(project, "live"))[("STRIPE_WEBHOOK_SECRET", "production")]) \
        == SIGNING_SECRET


def test_ids_are_wired_from_the_stripe_resources(project: Project) -> None:
    found = variables(run(project, "test"))
    assert raw_value(found[("STRIPE_PRICE_PRO_MONTHLY", "preview")]) == "<pro-monthly.id>"
    assert raw_value(found[("STRIPE_PRICE_ENTERPRISE_MONTHLY", "development")]) == "<enterprise-monthly.id>"
    assert raw_value(found[("STRIPE_PORTAL_CONFIGURATION_ID", "preview")]) == "<portal.id>"


def test_every_variable_is_deleted_before_it_is_replaced(project: Project) -> None:
    for stack in ("test", "live"):
        registrations = run(project, stack).of_type(VARIABLE)
        assert registrations
        assert all(r.delete_before_replace for r in registrations)
        assert not any(r.protect for r in registrations)


def test_names_are_configurable_so_an_existing_app_keeps_them(project: Project) -> None:
    with_hosting(project, """
        hosting:
          names: {portal_configuration: STRIPE_PORTAL_CONFIG_ID, price_prefix: PRICE_}
          price_names: {pro_monthly: STRIPE_PRICE_ID_PRO}
        """)
    names = {name for name, _ in variables(run(project, "live"))}
    assert {"STRIPE_PORTAL_CONFIG_ID", "STRIPE_PRICE_ID_PRO", "PRICE_PRO_YEARLY",
            "PRICE_ENTERPRISE_MONTHLY"} <= names
    assert "STRIPE_PORTAL_CONFIGURATION_ID" not in names and "STRIPE_PRICE_PRO_MONTHLY" not in names


def test_archived_prices_get_no_variable(project: Project) -> None:
    project.catalog(CATALOG.replace(
        'yearly:  {amount: "290.00", currency: usd, interval: year}',
        'yearly:  {amount: "290.00", currency: usd, interval: year, archived: true}',
    ))
    names = {name for name, _ in variables(run(project, "test"))}
    assert "STRIPE_PRICE_PRO_YEARLY" not in names and "STRIPE_PRICE_PRO_MONTHLY" in names


def test_extra_variables_come_from_stack_secrets(project: Project) -> None:
    with_hosting(project, """
        hosting:
          extra: {CLERK_SECRET_KEY: app:clerkSecretKey, DATABASE_URL: neon:databaseUrl}
        """)
    clerk, database = "clerk" + "S3cret" * 4, "postgres://u:" + "p4ss" * 4 + "@db.example.com/app"
    plan = run(project, "live", **{"app:clerkSecretKey": clerk, "neon:databaseUrl": database})
    found = variables(plan)
    assert raw_value(found[("CLERK_SECRET_KEY", "production")]) == clerk
    assert raw_value(found[("DATABASE_URL", "production")]) == database
    assert plain(found[("DATABASE_URL", "production")].inputs)["comment"].startswith(
        "Managed by Pulumi stack live: stack secret neon:databaseUrl.")


def test_a_missing_extra_secret_stops_the_program(project: Project) -> None:
    with_hosting(project, "hosting:\n  extra: {CLERK_SECRET_KEY: app:clerkSecretKey}\n")
    with pytest.raises(ConfigError) as caught:
        from infra.catalog import load_deployment
        from tests.support.project import stack_config
        load_deployment("live", project.root, stack_config("live").get)
    assert "app:clerkSecretKey: is not set: run `pulumi config set --secret app:clerkSecretKey " \
           "--stack live` (it asks for the value with echo off)" in caught.value.render()


def test_bound_values_keep_secrets_secret(tmp_path: Path, project: Project) -> None:
    # A tiny program exports what `hosted.bind` hands to Vercel, so the SDK itself
    # says which values are secret before the provider wraps them all.
    program = tmp_path / "bind_program.py"
    program.write_text(textwrap.dedent("""
        import pulumi
        from infra.components import hosted
        from infra.catalog import load_deployment
        from pathlib import Path
        deployment = load_deployment("live", Path(%r), pulumi.runtime.get_config)
        bound = hosted.bind(
            deployment.catalog,
            webhook_secret=pulumi.Output.from_input("whsec-from-endpoint"),
            portal_configuration=pulumi.Output.from_input("portal-id"),
            prices={k: pulumi.Output.from_input(f"id-{k}") for k in ("pro_monthly", "pro_yearly",
                                                                  "enterprise_monthly")},
        )
        for hosted in bound:
            pulumi.export(hosted.variable.name, hosted.value)
    """) % str(project.root))
    config = {"billing:mode": "live", "billing:domain": DOMAINS["live"],
              "billing:vercelProject": "prj_Test123", **credentials("live")}
    secret_keys = ["stripe:apiKey", "billing:appStripeKey", "vercel:apiToken"]
    outputs = offline.run_program(program, "live", config, secret_keys).outputs
    assert outputs["STRIPE_SECRET_KEY"] == offline.SECRET
    assert outputs["STRIPE_WEBHOOK_SECRET"] == offline.SECRET  # made secret even from a plain input
    assert outputs["NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY"] == credentials("live")["billing:publishableKey"]
    assert outputs["STRIPE_PRICE_PRO_MONTHLY"] == "id-pro_monthly"
    # A publishable key stored with --secret stays secret too.
    outputs = offline.run_program(program, "live", config, [*secret_keys, "billing:publishableKey"]).outputs
    assert outputs["NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY"] == offline.SECRET


def last_update(plan: offline.Plan) -> dict[str, Any]:
    """The digests this update would export, computed from what it sent to Vercel."""
    from infra.components.environment import digest
    digests = {}
    for (name, target), registration in variables(plan).items():
        slot = f"{target}:{name}"
        digests[slot] = digest(slot, raw_value(registration))
    return {READ_STACK_OUTPUTS: {"outputs": {"hostingDigests": digests}}}


def test_first_update_asks_for_a_deploy_without_claiming_a_difference(project: Project) -> None:
    plan = run(project, "live")
    assert len(plan.outputs["redeployNeeded"]) == len(NAMES)
    (notice,) = plan.notices
    # Every one is new: counted, not listed (the plan's table and redeployNeeded name them).
    assert notice.startswith("This stack has no record of a last update, so every one of its Vercel "
                             f"variables is new ({len(NAMES)} on production). ")
    assert "differ" not in notice
    assert "redeploy production (`vercel deploy --prod`" in notice


def test_unchanged_values_need_no_redeploy(project: Project) -> None:
    previous = last_update(run(project, "test"))
    plan = run(project, "test", state=previous)
    assert plan.outputs["redeployNeeded"] == []
    assert plan.notices == []


def test_a_changed_value_asks_for_a_redeploy_naming_only_the_variable(project: Project) -> None:
    previous = last_update(run(project, "test"))
    new_key = key("rk", "test", "N3wK")
    plan = run(project, "test", state=previous, **{"billing:appStripeKey": new_key})
    assert plan.outputs["redeployNeeded"] == ["development:STRIPE_SECRET_KEY", "preview:STRIPE_SECRET_KEY"]
    (notice,) = plan.notices
    assert "(development: STRIPE_SECRET_KEY; preview: STRIPE_SECRET_KEY)" in notice
    assert "redeploy the previews in use" in notice and "vercel env pull" in notice
    assert new_key not in notice and new_key[8:] not in notice
    # A rotated webhook secret (a replaced endpoint) is caught the same way.
    rotated = run(project, "test", state={**previous, WEBHOOK: {"secret": "whsec_" + "N3w" * 10}})
    assert rotated.outputs["redeployNeeded"] == [
        "development:STRIPE_WEBHOOK_SECRET", "preview:STRIPE_WEBHOOK_SECRET"]


def test_changed_lists_new_different_and_removed_slots() -> None:
    assert changed(None, {"a": "1"}) == ["a"]
    assert changed({"a": "1", "b": "2"}, {"a": "1", "b": "3", "c": "4"}) == ["b", "c"]
    assert changed({"a": "1", "gone": "2"}, {"a": "1"}) == ["gone"]


def test_a_value_not_known_yet_skips_only_its_own_slot() -> None:
    # A preview: the new price's ID is unknown, the app key was rotated.
    previous = {"preview:STRIPE_SECRET_KEY": "1", "preview:STRIPE_PRICE_PRO_MONTHLY": "2", "preview:OTHER": "3"}
    current = {"preview:STRIPE_SECRET_KEY": "9", "preview:STRIPE_PRICE_PRO_MONTHLY": None, "preview:OTHER": "3"}
    assert changed(previous, current) == ["preview:STRIPE_SECRET_KEY"]
    text = notice("Vercel variables", VercelEnvironment.redeploy, previous, current)
    assert text is not None
    assert "Vercel variables differ from this stack's last update (preview: STRIPE_SECRET_KEY)." in text
    assert "Not known until the update runs, and may change too: preview: STRIPE_PRICE_PRO_MONTHLY." in text
    assert "redeploy the previews in use" in text
    # Unknown is not "gone", and with no last update nothing is said to differ.
    assert changed(None, current) == ["preview:OTHER", "preview:STRIPE_SECRET_KEY"]
    first = notice("Vercel variables", VercelEnvironment.redeploy, None, current)
    assert first is not None and "differ" not in first and first.startswith("This stack has no record")
    assert notice("Vercel variables", VercelEnvironment.redeploy, previous, previous) is None


def test_known_values_reads_each_slot_where_output_all_would_be_unknown(tmp_path: Path) -> None:
    # Real SDK outputs: one known, one unknown (as a preview has them).
    program = tmp_path / "unknown_program.py"
    program.write_text(textwrap.dedent("""
        import asyncio
        import pulumi
        from infra.components.environment import known_values
        known = pulumi.Output.from_input("digest-a")
        unknown = pulumi.Output(set(), asyncio.sleep(0, result=None), asyncio.sleep(0, result=False))
        pulumi.export("slots", pulumi.Output.from_input(known_values({"a": known, "b": unknown})))
        pulumi.export("all_known", pulumi.Output.all(known, unknown).apply(lambda _: True))
    """))
    outputs = offline.run_program(program, "test", {}).outputs
    assert outputs["slots"] == {"a": "digest-a", "b": None}
    assert outputs["all_known"] is None  # what silenced the whole notice before
