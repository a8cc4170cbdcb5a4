"""Which values the app reads from its host's environment, whatever the host.

The names come from the shared catalog, so both stacks declare the same
values; each value has one source (a Stripe resource's output, or stack
config). Where a stack writes them is its host's business (infra.hosts), so
every guard on these values sees them whichever host they go to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from infra import hosts
from infra.catalog.guards import APP_KEY, PUBLISHABLE_KEY, Hosted
from infra.catalog.models import Catalog
from infra.catalog.settings import StackSettings

Source = Literal["app_key", "webhook_secret", "webhook_secret_next", "publishable_key",
                 "portal_configuration", "price", "config", "tiers"]


# Frameworks inline variables named with these prefixes into the JavaScript they
# ship to browsers: a value under such a name is public, whatever the host marks
# sensitive (Next.js, Vite, SvelteKit/Astro, Create React App, Expo, Nuxt 3 and 2,
# Gatsby, Vue CLI, Storybook, RedwoodJS, Sanity Studio, @ngx-env for Angular).
BROWSER_PREFIXES = (
    "NEXT_PUBLIC_", "VITE_", "PUBLIC_", "REACT_APP_", "EXPO_PUBLIC_", "NUXT_PUBLIC_", "NUXT_ENV_",
    "GATSBY_", "VUE_APP_", "STORYBOOK_", "REDWOOD_ENV_", "SANITY_STUDIO_", "NG_APP_",
)

Slot = tuple[str, str, str]
"""(host, target, variable name): what one stack owns; two stacks never own the same one."""


def browser_prefix(name: str) -> str | None:
    """The prefix that ships `name` to browsers, or None."""
    return next((prefix for prefix in BROWSER_PREFIXES if name.startswith(prefix)), None)


@dataclass(frozen=True)
class Variable:
    name: str
    source: Source
    ref: str
    """The lookup key for a price, the config key for a value from config."""
    secret: bool

    def describe(self) -> str:
        return {
            "app_key": f"the app's Stripe key ({self.ref})",
            "webhook_secret": "the webhook endpoint's signing secret",
            "webhook_secret_next": f"the signing secret of the endpoint on API version {self.ref}",
            "publishable_key": f"the publishable key ({self.ref})",
            "portal_configuration": "the customer portal configuration ID",
            "price": f"the ID of price {self.ref!r}",
            "config": f"stack secret {self.ref}",
            "tiers": "the tier contract as JSON (billing export)",
        }[self.source]


def price_variable(catalog: Catalog, lookup_key: str) -> str:
    """STRIPE_PRICE_PRO_MONTHLY for lookup key pro_monthly, unless the catalog names it."""
    hosting = catalog.hosting
    if lookup_key in hosting.price_names:
        return hosting.price_names[lookup_key]
    return hosting.names.price_prefix + re.sub(r"[^A-Z0-9]+", "_", lookup_key.upper()).strip("_")


def variables(catalog: Catalog) -> list[Variable]:
    """Every variable the app reads, in a stable order. Archived prices get none."""
    names = catalog.hosting.names
    found = [
        Variable(names.secret_key, "app_key", APP_KEY, secret=True),
        Variable(names.webhook_secret, "webhook_secret", "webhook", secret=True),
        *([Variable(names.webhook_secret_next, "webhook_secret_next", catalog.webhook.next_api_version,
                    secret=True)] if catalog.webhook.next_api_version else []),
        Variable(names.publishable_key, "publishable_key", PUBLISHABLE_KEY, secret=False),
        Variable(names.portal_configuration, "portal_configuration", "portal", secret=False),
    ]
    for plan, key, price in catalog.prices():
        if not price.archived:
            lookup = catalog.lookup_key(plan, key)
            found.append(Variable(price_variable(catalog, lookup), "price", lookup, secret=False))
    found += [Variable(name, "config", key, secret=True)
              for name, key in catalog.hosting.extra_keys().items()]
    if names.tiers:
        found.append(Variable(names.tiers, "tiers", "contract", secret=False))
    return found


def hosted_config(catalog: Catalog) -> list[Hosted]:
    """The values written from config under names the catalog chooses (`hosting.extra`)."""
    return [Hosted(v.name, v.ref, catalog.hosting.extra_kind(v.name)) for v in variables(catalog)
            if v.source == "config"]


def slots(catalog: Catalog, settings: StackSettings) -> set[Slot]:
    """Every (where, target, name) a stack with `settings` writes on its host."""
    host = hosts.of(settings)
    return {(host.location(settings), target.name, variable.name)
            for target in host.targets(settings) for variable in variables(catalog)}


def clashes(catalog: Catalog) -> list[tuple[Variable, Variable]]:
    """Pairs of variables that would write the same name: the second would overwrite the first."""
    seen: dict[str, Variable] = {}
    pairs = []
    for variable in variables(catalog):
        if variable.name in seen:
            pairs.append((seen[variable.name], variable))
        else:
            seen[variable.name] = variable
    return pairs
