"""Scenario 7 under the real engine: a Cloudflare stack's Worker secrets, written by the
program's dynamic resource (infra/components/cloudflare.py) run by the real Python language
host, against a local Cloudflare API behind its real name (api.cloudflare.com)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.engine.harness import WORKER_SCRIPTS, Project


def _secret_urns(project: Project, stack: str) -> dict[str, str]:
    """Worker secret name -> URN, from the stack's real state."""
    state = json.loads(project.pulumi("stack", "export", "--show-secrets", stack=stack).stdout)
    found = {}
    for resource in state["deployment"].get("resources") or []:
        # A dynamic resource's type is pulumi-python:dynamic[/<module>]:<name>.
        if resource["type"].startswith("pulumi-python:dynamic") and "name" in resource.get("inputs", {}):
            found[resource["inputs"]["name"]] = resource["urn"]
    return found


@pytest.mark.usefixtures("providers")
def test_worker_secrets_create_settle_update_delete_and_survive_a_replace(new_project: Any) -> None:
    project: Project = new_project()
    project.init_stack("test", host="cloudflare")
    script = project.world.cloudflare.scripts[WORKER_SCRIPTS["test"]]

    project.pulumi("up", "--yes", "--skip-preview", stack="test")
    written = dict(script.secrets)
    assert "STRIPE_SECRET_KEY" in written and "STRIPE_WEBHOOK_SECRET" in written
    urns = _secret_urns(project, "test")
    assert set(urns) == set(written)

    # The second preview changes nothing.
    project.pulumi("preview", "--expect-no-changes", stack="test")

    # A changed value is updated in place (the same secret, a new value).
    new_key = "rk_test_" + "N3wApp" * 4
    project.pulumi("config", "set", "--secret", "billing:appStripeKey", new_key, stack="test")
    project.pulumi("up", "--yes", "--skip-preview", stack="test")
    assert script.secrets["STRIPE_SECRET_KEY"] == new_key

    # A removed value is deleted from the Worker.
    project.pulumi("config", "set", "--secret", "app:neonUrl", "postgres://u:" + "p" * 12 + "@db/app", stack="test")
    catalog = project.root / "stacks" / "catalog.yaml"
    catalog.write_text(catalog.read_text() + '\nhosting:\n  extra: {DATABASE_URL: "app:neonUrl"}\n')
    project.pulumi("up", "--yes", "--skip-preview", stack="test")
    assert "DATABASE_URL" in script.secrets
    catalog.write_text(catalog.read_text().replace('\nhosting:\n  extra: {DATABASE_URL: "app:neonUrl"}\n', ""))
    project.pulumi("up", "--yes", "--skip-preview", stack="test")
    assert "DATABASE_URL" not in script.secrets

    # An engine-initiated replace at the same location leaves the secret in place.
    urn = _secret_urns(project, "test")["STRIPE_SECRET_KEY"]
    before = len(project.world.cloudflare.requests)
    project.pulumi("up", "--yes", "--skip-preview", "--target-replace", urn, stack="test")
    assert script.secrets.get("STRIPE_SECRET_KEY") == new_key
    # ... and it was replaced: deleted, then written again (delete-before-replace).
    writes = [method for method, path in project.world.cloudflare.requests[before:] if method in ("PUT", "DELETE")]
    assert writes == ["DELETE", "PUT"], writes
    project.pulumi("preview", "--expect-no-changes", stack="test")
    project.pulumi("refresh", "--expect-no-changes", "--yes", stack="test")
