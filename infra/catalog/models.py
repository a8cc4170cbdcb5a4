"""Typed, frozen models of the billing catalog both stacks share (a stack's own settings: `settings`).

The value types come from `values` (one value each); checks that span the
whole catalog (duplicate lookup keys, references between sections) live in
`catalog_checks`.
Every message says what is wrong and how to fix it.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from infra.catalog.base import Model
from infra.catalog.keys import Keys
from infra.catalog.money import to_minor_units
from infra.catalog.values import (
    Amount,
    ApiVersion,
    ConfigKey,
    Currency,
    EnvName,
    EventType,
    FeatureKey,
    HttpsUrl,
    Key,
    LookupKey,
    Metadata,
    PositiveInt,
    Proration,
    ServiceKind,
    Text,
    UrlPath,
)
from infra.core.redact import shown
from infra.stripe import reference as ref
from infra.stripe.provider_table import CancellationReason


def _no_reserved_metadata(metadata: dict[str, str]) -> dict[str, str]:
    if "plan" in metadata:
        raise ValueError(
            "'plan' is set from the plan's key, so the app and Stripe always agree: "
            "remove it from metadata"
        )
    return metadata


def listed_once(values: list[str], what: str) -> list[str]:
    repeated = sorted({v for v in values if values.count(v) > 1})
    if repeated:
        raise ValueError(f"listed twice: {', '.join(repeated)}; list each {what} once")
    return values


def site_url(domain: str, path: str) -> str:
    """The app's URL for `path` (`/webhook/stripe`, the portal's return path) on its domain."""
    return f"https://{domain}{path}"


def lookup_key_for(plan: str, price: str, declared: str | None = None) -> str:
    """The lookup key a price holds: the one it declares (`lookup_key:`), else `<plan>_<price>`."""
    return declared or f"{plan}_{price}"


def _limit(value: Any) -> int | str:
    if value == "unlimited" or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return value  # type: ignore[no-any-return]
    raise ValueError(f"{shown(value)} is not a limit; use a whole number >= 0 or 'unlimited'")


class Price(Model):
    # Field order matters: validators below read the currency and interval.
    currency: Currency
    amount: Amount
    interval: Literal["day", "week", "month", "year"]
    interval_count: PositiveInt = 1
    lookup_key: LookupKey | None = None
    tax_behavior: Literal["inclusive", "exclusive", "unspecified"] | None = None
    nickname: Text | None = None
    archived: bool = False
    metadata: Metadata = Field(default_factory=dict)

    @field_validator("amount")
    @classmethod
    def _amount_fits_currency(cls, amount: Decimal, info: ValidationInfo) -> Decimal:
        if "currency" in info.data:
            to_minor_units(amount, info.data["currency"])
        return amount

    @field_validator("interval_count")
    @classmethod
    def _at_most_three_years(cls, count: int, info: ValidationInfo) -> int:
        interval = info.data.get("interval")
        limit = ref.MAX_INTERVAL_COUNT.get(interval or "", count)
        if count > limit:
            raise ValueError(
                f"{count} {interval}s is over Stripe's maximum of three years ({limit}); "
                "use a longer interval"
            )
        return count

    @field_validator("metadata")
    @classmethod
    def _metadata(cls, metadata: dict[str, str]) -> dict[str, str]:
        return _no_reserved_metadata(metadata)

    @property
    def unit_amount(self) -> int:
        """The amount in the currency's minor units, computed exactly."""
        return to_minor_units(self.amount, self.currency)


class Plan(Model):
    name: Text
    description: Text | None = None
    # A product cannot be deleted while it has prices: retiring a plan archives its product.
    archived: bool = False
    limits: dict[Key, Annotated[int | str, BeforeValidator(_limit)]] = Field(default_factory=dict)
    features: list[Annotated[str, Field(min_length=1, max_length=80)]] = Field(default_factory=list)
    metadata: Metadata = Field(default_factory=dict)
    prices: dict[Key, Price] = Field(default_factory=dict)
    # Lookup keys of the catalog's `entitlements:`: what a subscriber of this plan may use.
    entitlements: list[FeatureKey] = Field(default_factory=list)

    @field_validator("entitlements")
    @classmethod
    def _each_feature_once(cls, keys: list[str]) -> list[str]:
        return listed_once(keys, "feature")

    @field_validator("metadata")
    @classmethod
    def _metadata(cls, metadata: dict[str, str]) -> dict[str, str]:
        return _no_reserved_metadata(metadata)

    @model_validator(mode="after")
    def _archived_plan_sells_nothing(self) -> Plan:
        active = self.active_prices()
        if self.archived and active:
            raise ValueError(
                f"an archived plan cannot keep selling: add `archived: true` to its prices too "
                f"({', '.join(active)})"
            )
        return self

    @property
    def paid(self) -> bool:
        """A plan with prices gets a Stripe product; a free plan lives only in the app."""
        return bool(self.prices)

    def active_prices(self) -> list[str]:
        """The keys of the prices this plan still sells (not archived), in catalog order."""
        return [key for key, price in self.prices.items() if not price.archived]

    def switchable_prices(self) -> list[str]:
        """The prices the portal lists for this plan: the active ones; an archived plan's all, only
        to keep the list non-empty while switching is off (the provider requires it)."""
        return self.active_prices() or list(self.prices)


class Entitlement(Model):
    """A Stripe Entitlements feature; its catalog key is its lookup key, which never changes in
    place (provider_table, ENTITLEMENTS_FEATURE): a renamed key is a new feature."""

    # Always sent: Pulumi would invent a name when it is omitted.
    name: Annotated[str, Field(min_length=1, max_length=80)]
    metadata: Metadata = Field(default_factory=dict)


# The event that tells the app a customer's active entitlements changed.
SUMMARY_EVENT = "entitlements.active_entitlement_summary.updated"


class Webhook(Model):
    path: UrlPath
    events: Annotated[list[EventType], Field(min_length=1)]
    api_version: ApiVersion
    # A version cannot change on an endpoint (it is a new endpoint with a new secret), so an
    # upgrade runs a second endpoint beside the first until the app verifies both secrets.
    next_api_version: ApiVersion | None = None
    description: Text | None = None

    @model_validator(mode="after")
    def _next_is_another_version(self) -> Webhook:
        if self.next_api_version == self.api_version:
            raise ValueError(
                "next_api_version equals api_version; remove next_api_version (the upgrade is done)"
            )
        return self

    @field_validator("events")
    @classmethod
    def _each_once(cls, events: list[str]) -> list[str]:
        return listed_once(events, "event")


class BusinessProfile(Model):
    headline: Annotated[str, Field(min_length=1, max_length=60)] | None = None
    privacy_policy_url: HttpsUrl | None = None
    terms_of_service_url: HttpsUrl | None = None


class Cancellation(Model):
    enabled: bool = True
    mode: Literal["at_period_end", "immediately"] = "at_period_end"
    proration_behavior: Proration = "none"
    reasons: list[CancellationReason] = Field(default_factory=list)


AllowedUpdate = Literal["price", "quantity", "promotion_code"]


def _price_changes_only() -> list[AllowedUpdate]:
    return ["price"]


class PlanSwitching(Model):
    # Switching is turned off with `enabled: false`, keeping the plans: an omitted block
    # sends nothing, so Stripe would keep switching on (provider_table, subscriptionUpdates).
    enabled: bool = True
    plans: Annotated[list[Key], Field(min_length=1, max_length=10)]
    allowed_updates: Annotated[list[AllowedUpdate], Field(min_length=1)] = Field(
        default_factory=_price_changes_only
    )
    proration_behavior: Proration = "create_prorations"


class Portal(Model):
    business_profile: BusinessProfile = Field(default_factory=BusinessProfile)
    return_path: UrlPath = "/"
    invoice_history: bool = True
    payment_method_update: bool = True
    customer_update: list[Literal["address", "email", "name", "phone", "shipping", "tax_id"]] = Field(
        default_factory=list
    )
    cancellation: Cancellation = Field(default_factory=Cancellation)
    plan_switching: PlanSwitching | None = None


class HostingNames(Model):
    """The environment variable names the app reads; defaults match common Stripe apps."""

    secret_key: EnvName = "STRIPE_SECRET_KEY"  # noqa: S105 (a variable name, not a secret)
    webhook_secret: EnvName = "STRIPE_WEBHOOK_SECRET"  # noqa: S105 (a variable name, not a secret)
    publishable_key: EnvName = "NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY"
    portal_configuration: EnvName = "STRIPE_PORTAL_CONFIGURATION_ID"
    price_prefix: EnvName = "STRIPE_PRICE_"
    # Only while `webhook.next_api_version` is set: the second endpoint's signing secret.
    webhook_secret_next: EnvName = "STRIPE_WEBHOOK_SECRET_NEXT"  # noqa: S105 (a variable name)
    # Opt-in: the tier contract (`billing export`, compact JSON) as one variable, e.g.
    # BILLING_TIERS, so the app's limits and feature keys come from the catalog at run time.
    tiers: EnvName | None = None


class Extra(Model):
    """A further variable from a stack secret that says whose key it is, so the guards check that
    service's key shapes and modes instead of Stripe's."""

    key: ConfigKey
    kind: ServiceKind


# Text or a mapping, told apart by shape, so a problem in either names the entry itself (the tags
# are left out of where a problem is: infra/catalog/validation.py).
ExtraEntry = Annotated[
    Annotated[ConfigKey, Tag("[text]")] | Annotated[Extra, Tag("[entry]")],
    Discriminator(lambda value: "[entry]" if isinstance(value, dict | Extra) else "[text]"),
]


class Hosting(Model):
    """The values the app reads, for every host (a stack's own `billing:host` decides where)."""

    names: HostingNames = Field(default_factory=HostingNames)
    # Per lookup key, for an app that already reads e.g. STRIPE_PRICE_ID_PRO.
    price_names: dict[LookupKey, EnvName] = Field(default_factory=dict)
    # Further variables from stack secrets (Clerk, Neon, ...): name -> config key, or
    # name -> {key: config key, kind: clerk} for another service's key.
    extra: dict[EnvName, ExtraEntry] = Field(default_factory=dict)

    def extra_keys(self) -> dict[str, str]:
        """Each further variable's config key, by variable name."""
        return {name: entry if isinstance(entry, str) else entry.key for name, entry in self.extra.items()}

    def extra_kind(self, name: str) -> str | None:
        entry = self.extra.get(name)
        return entry.kind if isinstance(entry, Extra) else None


class Catalog(Model):
    """The shared catalog: both stacks read it, so test and live cannot drift."""

    plans: Annotated[dict[Key, Plan], Field(min_length=1)]
    webhook: Webhook
    entitlements: dict[FeatureKey, Entitlement] = Field(default_factory=dict)
    portal: Portal = Field(default_factory=Portal)
    hosting: Hosting = Field(default_factory=Hosting)
    keys: Keys = Field(default_factory=Keys)

    @model_validator(mode="after")
    def _keys_follow_entitlements(self) -> Catalog:
        # Set in place: a model's constructor keeps `self`, whatever an after-validator returns.
        object.__setattr__(self, "keys", self.keys.following(bool(self.entitlements)))
        return self

    def lookup_key(self, plan: str, price: str) -> str:
        return lookup_key_for(plan, price, self.plans[plan].prices[price].lookup_key)

    def portal_offer(self) -> dict[str, list[str]]:
        """The prices the portal offers, by plan, as the program sends them (their IDs); nothing
        without `plan_switching`. `diff` predicts the portal from this too."""
        switching = self.portal.plan_switching
        if switching is None:
            return {}
        return {plan: self.plans[plan].switchable_prices() for plan in switching.plans if plan in self.plans}

    # Computed once per catalog: the program asks for every price, so a scan per call was
    # quadratic in the number of prices (the offline plan's largest cost of its own).
    @functools.cached_property
    def _active_keys(self) -> frozenset[str]:
        return frozenset(self.lookup_key(p, k) for p, k, price in self.prices() if not price.archived)

    @functools.cached_property
    def _archived_keys(self) -> frozenset[str]:
        return frozenset(self.lookup_key(p, k) for p, k, price in self.prices() if price.archived)

    def held_lookup_key(self, plan: str, price: str) -> str | None:
        """The lookup key this price holds in Stripe: an archived price gives its key up to the
        active price that took it over (`lookup_key:` on the new price), and holds none."""
        key = self.lookup_key(plan, price)
        if self.plans[plan].prices[price].archived and key in self._active_keys:
            return None
        return key

    def takes_over_lookup_key(self, plan: str, price: str) -> bool:
        """True for an active price whose lookup key an archived price had: it is moved with
        `transfer_lookup_key`, since Stripe refuses a key another price holds."""
        key = self.lookup_key(plan, price)
        if self.plans[plan].prices[price].archived:
            return False
        return key in self._archived_keys

    def price_id_key(self, plan: str, price: str) -> str:
        """The key of this price in the priceIds output: the lookup key it holds, or `plan/price`."""
        return self.held_lookup_key(plan, price) or f"{plan}/{price}"

    def prices(self) -> list[tuple[str, str, Price]]:
        """Every (plan key, price key, price), in catalog order."""
        return [(p, k, price) for p, plan in self.plans.items() for k, price in plan.prices.items()]


