"""Stacks hosted on Cloudflare Workers: the runbook's catalog, a stack file per mode, and a refusal's message."""

from __future__ import annotations

import pytest

from infra.catalog.loader import load_deployment
from infra.catalog.stack_config import from_stack
from infra.core.problems import ConfigError
from tests.support.project import Project, credentials
from tests.support.repository import CATALOG

ACCOUNT = "a1b2c3d4" * 4  # not README's example account, which a live stack refuses
CF_TOKEN = "cf" + "T0ken" * 8
SCRIPTS = {"test": "api-staging", "live": "api"}
# The five values the runbook pastes with `wrangler secret put`.
RUNBOOK = ["STRIPE_SECRET_KEY", "STRIPE_PRICE_ID_PRO", "STRIPE_PRICE_ID_ENTERPRISE", "STRIPE_WEBHOOK_SECRET",
           "STRIPE_PORTAL_CONFIG_ID"]
RUNBOOK_CATALOG = CATALOG.replace('      yearly:  {amount: "290.00", currency: usd, interval: year}\n', "") + """
hosting:
  names: {portal_configuration: STRIPE_PORTAL_CONFIG_ID}
  price_names: {pro_monthly: STRIPE_PRICE_ID_PRO, enterprise_monthly: STRIPE_PRICE_ID_ENTERPRISE}
"""


def stack_file(mode: str, script: str | None = None, extra: str = "") -> str:
    return (f"config:\n  billing:mode: {mode}\n  billing:domain: {SCRIPTS[mode]}.shop.test\n"
            f"  billing:host: cloudflare\n  billing:cloudflareAccountId: {ACCOUNT}\n"
            f"  billing:workerScript: {script or SCRIPTS[mode]}\n{extra}")


def refusal(project: Project, stack: str, **config: str) -> str:
    engine = from_stack(project.root, stack, env={},
                        overrides={**credentials(stack), "cloudflare:apiToken": CF_TOKEN, **config})
    with pytest.raises(ConfigError) as caught:
        load_deployment(stack, project.root, engine.get)
    return caught.value.render()
