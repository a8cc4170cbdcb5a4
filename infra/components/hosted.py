"""Each value the app reads, bound to its source in a Pulumi program, and written by its host.

The names and sources come from `infra.catalog.hosting`; here each gets its
Pulumi value (a Stripe resource's output, or stack config), and `environment`
hands them to the component of the stack's host.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

from infra.catalog import Catalog, Deployment
from infra.catalog.hosting import variables
from infra.components.environment import Environment, HostedValue, config_value
from infra.hosts.cloudflare import CloudflareHost
from infra.hosts.vercel import VercelHost


def bind(
    catalog: Catalog,
    webhook_secret: pulumi.Output[str],
    portal_configuration: pulumi.Output[str],
    prices: dict[str, pulumi.Output[str]],
    webhook_secret_next: pulumi.Output[str] | None = None,
    tiers: pulumi.Output[str] | None = None,
) -> list[HostedValue]:
    """Each variable with its value: outputs of the Stripe resources, or stack config."""
    bound = []
    for variable in variables(catalog):
        value: pulumi.Output[str]
        if variable.source == "webhook_secret":
            # Straight from the endpoint's create response: no one copies it, no config holds it.
            value = pulumi.Output.secret(webhook_secret)
        elif variable.source == "webhook_secret_next" and webhook_secret_next is not None:
            value = pulumi.Output.secret(webhook_secret_next)
        elif variable.source == "portal_configuration":
            value = portal_configuration
        elif variable.source == "price":
            value = prices[variable.ref]
        elif variable.source == "tiers":
            if tiers is None:
                raise ValueError("the catalog names a tiers variable: pass the contract to bind()")
            value = tiers
        else:
            value = config_value(variable.ref, variable.secret)
        bound.append(HostedValue(variable, value))
    return bound


def environment(name: str, deployment: Deployment, values: Sequence[HostedValue]) -> Environment:
    """The component that writes `values` to the stack's host (call inside a Pulumi program).

    The one place a host's key meets its Pulumi component, imported for the stack's own host only:
    a Vercel stack's plan and preview never load Cloudflare's SDK (with httpx, ~0.12 s), nor a
    Cloudflare stack the Vercel provider's SDK (~0.1 s).
    """
    host = deployment.settings.host
    if host == VercelHost.key:
        from infra.components import vercel  # noqa: PLC0415 (only the stack's own host, as said above)
        return vercel.environment(name, deployment, values)
    if host == CloudflareHost.key:
        from infra.components import cloudflare  # noqa: PLC0415 (as for vercel)
        return cloudflare.environment(name, deployment, values)
    raise ValueError(f"no Pulumi component writes to the host {host!r}")
