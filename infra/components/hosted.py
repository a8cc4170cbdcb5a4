"""Each value the app reads, bound to its source in a Pulumi program, and written by its host.

The names and sources come from `infra.catalog.hosting`; here each gets its
Pulumi value (a Stripe resource's output, or stack config), and `environment`
hands them to the component of the stack's host.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pulumi

from infra.catalog import Catalog, Deployment
from infra.catalog.hosting import variables
from infra.components import cloudflare, vercel
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


# The one place a host's key meets its Pulumi component.
_COMPONENTS: dict[str, Callable[[str, Deployment, Sequence[HostedValue]], Environment]] = {
    VercelHost.key: vercel.environment,
    CloudflareHost.key: cloudflare.environment,
}


def environment(name: str, deployment: Deployment, values: Sequence[HostedValue]) -> Environment:
    """The component that writes `values` to the stack's host (call inside a Pulumi program)."""
    return _COMPONENTS[deployment.settings.host](name, deployment, values)
