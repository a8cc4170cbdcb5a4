"""The Pulumi program: read config, load the catalog, build the components, export.

`__main__.py` (the entry Pulumi runs) calls `run` with the project's folder;
`billing plan` runs that same file under the mock runtime.
"""

from __future__ import annotations

from pathlib import Path

import pulumi

from infra.catalog import load_deployment, tier_contract
from infra.components import hosted
from infra.components.environment import DIGESTS_OUTPUT
from infra.components.stripe_billing import StripeBilling, StripeBillingArgs, dashboard_links
from infra.core.problems import ConfigError


def run(project_dir: Path) -> None:
    try:
        deployment = load_deployment(pulumi.get_stack(), project_dir, pulumi.runtime.get_config)
    except ConfigError as error:
        raise pulumi.RunError(error.render(applying=True)) from None
    for notice in deployment.notices:  # shown by preview and up, and by `billing plan`
        pulumi.log.warn(f"warning: {notice}")

    billing = StripeBilling("billing", StripeBillingArgs(
        deployment=deployment,
        api_key=pulumi.Config("stripe").require_secret("apiKey"),
    ))
    environment = hosted.environment("hosting", deployment, hosted.bind(
        deployment.catalog,
        webhook_secret=billing.webhook_signing_secret,
        portal_configuration=billing.portal_configuration_id,
        prices=billing.price_id_by_lookup_key,
        webhook_secret_next=billing.webhook_next_signing_secret,
        # The same contract `python -m infra export` prints, with this stack's price IDs.
        tiers=billing.price_ids.apply(lambda ids: tier_contract.to_json(tier_contract.build(
            deployment.catalog, deployment.stack, deployment.mode, tier_contract.price_ids(ids)),
            compact=True)),
    ))

    pulumi.export("mode", deployment.mode)
    pulumi.export("productIds", billing.product_ids)
    pulumi.export("priceIds", billing.price_ids)
    pulumi.export("webhookEndpointId", billing.webhook_endpoint_id)
    pulumi.export("webhookUrl", billing.webhook_url)
    pulumi.export("webhookSigningSecret", billing.webhook_signing_secret)
    pulumi.export("portalConfigurationId", billing.portal_configuration_id)
    pulumi.export("promotionCodeIds", billing.promotion_code_ids)
    pulumi.export("featureIds", billing.feature_ids)
    pulumi.export("planLimits", {key: dict(plan.limits) for key, plan in deployment.catalog.plans.items()})
    pulumi.export("dashboardLinks", dashboard_links(deployment.mode, billing))
    pulumi.export("hostingVariables", environment.variable_names)
    pulumi.export(DIGESTS_OUTPUT, environment.digests)
    pulumi.export("redeployNeeded", environment.redeploy_needed)
