"""Pulumi.yaml's config block, as the real CLI reads it.

The Pulumi CLI treats a project config key declared without a `default` as required on
every stack: `pulumi preview` on a Vercel stack stopped with "Stack 'test' is missing
configuration values 'billing:cloudflareAccountId' and 'billing:workerScript'" (seen
with CLI v3.274.1). A key only one host's stacks set must therefore not be declared
without a default.
"""

from __future__ import annotations

import pytest
import yaml

from infra.hosts import cloudflare, vercel
from tests.support.repository import REPO

pytestmark = pytest.mark.pure


def test_no_host_specific_key_is_required_of_every_stack() -> None:
    declared = yaml.safe_load((REPO / "Pulumi.yaml").read_text()).get("config") or {}
    required = {key for key, spec in declared.items() if not (isinstance(spec, dict) and "default" in spec)}
    host_only = {cloudflare.ACCOUNT, cloudflare.SCRIPT, vercel.PROJECT}
    assert not required & host_only, f"Pulumi.yaml requires {sorted(required & host_only)} of every stack"
