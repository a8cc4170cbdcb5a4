"""Stripe resources for one deployment: the only module that imports the provider.

pulumi-stripe bridges an archived Terraform provider; keeping every use of it
here makes a move to Stripe's official provider a one-file change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_stripe as stripe

from infra.catalog import (
    Catalog,
    Coupon,
    Deployment,
    Plan,
    Portal,
    adoption,
    coupon_amount_off,
    entitlements,
    site_url,
)
from infra.catalog.adoption import COMPONENT_TYPE, Adopted
from infra.catalog.guards import WEBHOOK_SECRET
from infra.components.environment import config_value
from infra.stripe import provider_table
from infra.stripe.reference import dashboard_base


@dataclass(frozen=True)
class StripeBillingArgs:
    deployment: Deployment
    # The deployer key, as a secret Output; the guards already checked its mode.
    api_key: pulumi.Input[str]


class StripeBilling(pulumi.ComponentResource):
    """Products, prices, webhook endpoint, portal and coupons of one stack."""

    product_ids: pulumi.Output[dict[str, str]]
    """Stripe product ID by plan key (paid plans only)."""
    price_ids: pulumi.Output[dict[str, str]]
    """Stripe price ID by the lookup key each price holds; `plan/price` for an archived price
    that gave its key up."""
    price_id_by_lookup_key: dict[str, pulumi.Output[str]]
    """Active prices by lookup key, one Output each, for values that change only with their price."""
    webhook_endpoint_id: pulumi.Output[str]
    webhook_url: str
    webhook_signing_secret: pulumi.Output[str]
    """The endpoint's whsec_ secret: only Stripe's create response carries it; always secret."""
    webhook_next_signing_secret: pulumi.Output[str] | None
    """The upgrade endpoint's secret while `webhook.next_api_version` is set."""
    portal_configuration_id: pulumi.Output[str]
    promotion_code_ids: pulumi.Output[dict[str, str]]
    """Promotion code ID by customer-facing code."""
    feature_ids: pulumi.Output[dict[str, str]]
    """Entitlements feature ID by lookup key."""

    def __init__(
        self, name: str, args: StripeBillingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        deployment = args.deployment
        live = deployment.mode == "live"
        # Children inherit `protect` from this component: on live, nothing billing-related
        # can be deleted by a careless `pulumi destroy` or a removed line.
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=live))
        super().__init__(COMPONENT_TYPE, name, None, opts)

        provider = stripe.Provider(
            f"stripe-{deployment.mode}", api_key=args.api_key,
            opts=pulumi.ResourceOptions(parent=self),
        )
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        catalog = deployment.catalog
        domain = deployment.settings.domain
        adopted = deployment.adopted

        products = {
            key: _product(key, plan, opts=_adopting(child, adopted, adoption.PRODUCT, key))
            for key, plan in catalog.plans.items() if plan.paid
        }
        prices = _prices(catalog, products, child, adopted)

        self.webhook_url = site_url(domain, catalog.webhook.path)
        main_name = adoption.webhook_name(catalog.webhook.api_version)
        endpoint = _endpoint(deployment, self.webhook_url, catalog.webhook.api_version,
                             pulumi.ResourceOptions.merge(
                                 _adopting(child, adopted, adoption.WEBHOOK, main_name),
                                 # Endpoints were once named plain "webhook": keep that one in place.
                                 pulumi.ResourceOptions(aliases=[pulumi.Alias(name=adoption.WEBHOOK_NAME)]),
                             ))
        upgrade = catalog.webhook.next_api_version
        # During an API version upgrade a second endpoint receives every event in the new shape,
        # so nothing is dropped while the app is redeployed to verify both secrets.
        self.webhook_next_signing_secret = pulumi.Output.secret(
            _endpoint(deployment, self.webhook_url, upgrade, child).secret) if upgrade else None
        portal = _portal(catalog, deployment.settings.domain, products, prices,
                         _adopting(child, adopted, adoption.PORTAL, adoption.PORTAL_NAME))
        promotion_codes = _coupons(deployment.settings.coupons, products, child)
        features = _features(catalog, products, child, adopted)

        self.product_ids = _ids(products)
        self.price_ids = _ids({catalog.price_id_key(p, k): prices[(p, k)] for p, k, _ in catalog.prices()})
        self.price_id_by_lookup_key = {catalog.lookup_key(p, k): prices[(p, k)].id
                                       for p, k, price in catalog.prices() if not price.archived}
        self.webhook_endpoint_id = endpoint.id
        if (adoption.WEBHOOK, main_name) in adopted:
            # An adopted endpoint's secret is never returned by Stripe: the user gave it once.
            self.webhook_signing_secret = config_value(WEBHOOK_SECRET, secret=True)
        else:
            self.webhook_signing_secret = pulumi.Output.secret(endpoint.secret)
        self.portal_configuration_id = portal.id
        self.promotion_code_ids = _ids(promotion_codes)
        self.feature_ids = _ids(features)
        self.register_outputs({
            "feature_ids": self.feature_ids,
            "product_ids": self.product_ids,
            "price_ids": self.price_ids,
            "webhook_endpoint_id": self.webhook_endpoint_id,
            "webhook_url": self.webhook_url,
            "webhook_signing_secret": self.webhook_signing_secret,
            "portal_configuration_id": self.portal_configuration_id,
            "promotion_code_ids": self.promotion_code_ids,
        })


def dashboard_links(mode: str, billing: StripeBilling) -> pulumi.Output[dict[str, str]]:
    """Where a person checks each object by hand, in the stack's mode."""
    base = dashboard_base(mode)

    def links(products: dict[str, str], endpoint: str) -> dict[str, str]:
        out = {f"product:{plan}": f"{base}/products/{pid}" for plan, pid in products.items()}
        out["webhook"] = f"{base}/webhooks/{endpoint}"
        out["portal"] = f"{base}/settings/billing/portal"
        out["apiKeys"] = f"{base}/apikeys"
        return out

    # One apply inside the other, not Output.all: that would wrap every product ID in an
    # Output of its own (Output.from_input unwraps a map deeply). Known, secret and the
    # resources depended on come out as Output.all would have them.
    return billing.product_ids.apply(
        lambda products: billing.webhook_endpoint_id.apply(lambda endpoint: links(products, endpoint))
    )


def _product(key: str, plan: Plan, opts: pulumi.ResourceOptions) -> stripe.Product:
    return stripe.Product(
        key,
        name=plan.name,
        description=plan.description,
        marketing_features=plan.features or None,
        # A product with prices cannot be deleted: a retired plan is archived instead.
        active=not plan.archived,
        # `plan` is what the app's webhook handler matches, so it is always the catalog key.
        metadata={**plan.metadata, "plan": key},
        opts=opts,
    )


def _endpoint(
    deployment: Deployment, url: str, api_version: str, opts: pulumi.ResourceOptions,
) -> stripe.WebhookEndpoint:
    webhook = deployment.catalog.webhook
    return stripe.WebhookEndpoint(
        adoption.webhook_name(api_version),
        url=url,
        enabled_events=list(webhook.events),
        api_version=api_version,
        description=webhook.description or f"billing stack {deployment.stack}",
        metadata={"managed_by": "pulumi", "stack": deployment.stack},
        opts=opts,
    )


def _adopting(
    opts: pulumi.ResourceOptions, adopted: Adopted, type_: str, name: str,
) -> pulumi.ResourceOptions:
    """`opts`, plus the existing object's ID when the stack adopts it (`billing:adopt`)."""
    existing = adopted.get((type_, name))
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(import_=existing)) if existing else opts


def _prices(
    catalog: Catalog, products: dict[str, stripe.Product], opts: pulumi.ResourceOptions, adopted: Adopted,
) -> dict[tuple[str, str], stripe.Price]:
    prices = {}
    holds_its_own_key = pulumi.ResourceOptions.merge(opts, _HOLDS_ITS_OWN_KEY)  # once: a merge copies
    for plan_key, price_key, price in catalog.prices():
        name = adoption.price_name(plan_key, price_key)
        takes_over = catalog.takes_over_lookup_key(plan_key, price_key)
        prices[(plan_key, price_key)] = stripe.Price(
            name,
            product=products[plan_key].id,
            currency=price.currency,
            unit_amount=price.unit_amount,
            recurring=stripe.PriceRecurringArgs(
                interval=price.interval, interval_count=price.interval_count
            ),
            # An archived price gives its key up to the price that took it over (Update sends ""),
            # and that price moves it in one call: Stripe refuses a key another price holds.
            lookup_key=catalog.held_lookup_key(plan_key, price_key),
            transfer_lookup_key=True if takes_over else None,
            # Stripe cannot delete prices: an archived price stays declared, inactive.
            active=not price.archived,
            nickname=price.nickname,
            tax_behavior=price.tax_behavior,
            metadata={**price.metadata, "plan": plan_key},
            opts=_adopting(opts if takes_over else holds_its_own_key, adopted, adoption.PRICE, name),
        )
    return prices


# transferLookupKey matters only to a price taking a key over. Read never sets it (provider_table,
# PRICE), so an imported price has none in state and the first `up` after `pull` would update
# every adopted price (before Pulumi 3.174: refuse the import). Every other price ignores it.
_HOLDS_ITS_OWN_KEY = pulumi.ResourceOptions(ignore_changes=["transferLookupKey"])


def _portal(
    catalog: Catalog, domain: str, products: dict[str, stripe.Product],
    prices: dict[tuple[str, str], stripe.Price], opts: pulumi.ResourceOptions,
) -> stripe.PortalConfiguration:
    portal: Portal = catalog.portal
    cancel = portal.cancellation
    switching = portal.plan_switching
    subscription_updates = None
    if switching is not None:
        # Switchable products and prices are derived from the catalog, never repeated. Switching
        # is turned off by sending enabled=false with the products kept: the provider never sends
        # an empty product list, and omitting the block changes nothing in Stripe.
        subscription_updates = [stripe.PortalConfigurationFeaturesSubscriptionUpdateArgs(
            enabled=switching.enabled,
            default_allowed_updates=list(switching.allowed_updates),
            proration_behavior=switching.proration_behavior,
            products=[
                stripe.PortalConfigurationFeaturesSubscriptionUpdateProductArgs(
                    product=products[plan].id,
                    prices=[prices[(plan, key)].id for key in keys],
                )
                for plan, keys in catalog.portal_offer().items()
            ],
        )]
    profile = portal.business_profile
    return stripe.PortalConfiguration(
        "portal",
        business_profile=stripe.PortalConfigurationBusinessProfileArgs(
            headline=profile.headline,
            privacy_policy_url=profile.privacy_policy_url,
            terms_of_service_url=profile.terms_of_service_url,
        ),
        default_return_url=site_url(domain, portal.return_path),
        active=True,
        features=stripe.PortalConfigurationFeaturesArgs(
            invoice_history=stripe.PortalConfigurationFeaturesInvoiceHistoryArgs(
                enabled=portal.invoice_history),
            payment_method_update=stripe.PortalConfigurationFeaturesPaymentMethodUpdateArgs(
                enabled=portal.payment_method_update),
            customer_update=stripe.PortalConfigurationFeaturesCustomerUpdateArgs(
                enabled=bool(portal.customer_update),
                allowed_updates=list(portal.customer_update) or None,
            ),
            # Every field Stripe answers with a value is sent, or the next `up` diffs forever.
            subscription_cancel=stripe.PortalConfigurationFeaturesSubscriptionCancelArgs(
                enabled=cancel.enabled,
                mode=cancel.mode,
                proration_behavior=cancel.proration_behavior,
                # `options` is required even when reasons are off; Stripe keeps what is sent.
                cancellation_reason=stripe.PortalConfigurationFeaturesSubscriptionCancelCancellationReasonArgs(
                    enabled=bool(cancel.reasons),
                    options=list(cancel.reasons or provider_table.CANCELLATION_REASONS),
                ),
            ),
            subscription_updates=subscription_updates,
        ),
        opts=opts,
    )


def _coupons(
    coupons: dict[str, Coupon], products: dict[str, stripe.Product], opts: pulumi.ResourceOptions
) -> dict[str, stripe.PromotionCode]:
    codes = {}
    for key, coupon in coupons.items():
        resource = stripe.Coupon(
            key,
            name=coupon.name,
            # Stripe's API takes percent_off as a float; it has at most two decimals here.
            percent_off=float(coupon.percent_off) if coupon.percent_off is not None else None,
            amount_off=coupon_amount_off(coupon),
            currency=coupon.currency,
            duration=coupon.duration,
            duration_in_months=coupon.duration_in_months,
            max_redemptions=coupon.max_redemptions,
            # Sent sorted, one canonical order (whichever order the catalog lists them in).
            applies_tos=pulumi.Output.all(*(products[p].id for p in coupon.applies_to)).apply(sorted)
            if coupon.applies_to else None,
            metadata={"coupon": key},
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(
                # The list is ForceNew and Read stores it in Stripe's order, which is not verified
                # (provider_table, COUPON): a reordered answer would replace the coupon and its codes
                # on every up. A real change of it is a change of terms, which `diff` refuses.
                ignore_changes=["appliesTos"])),
        )
        for code, promo in coupon.promotion_codes.items():
            codes[code] = stripe.PromotionCode(
                f"{key}-{code}",
                coupon=resource.id,
                code=code,
                active=promo.active,
                max_redemptions=promo.max_redemptions,
                # Stripe always returns restrictions and the block is ForceNew: omitting it
                # would replace the code on every `up` (provider_table, PROMOTION_CODE).
                restrictions=stripe.PromotionCodeRestrictionsArgs(
                    first_time_transaction=promo.first_time_transaction),
                metadata={"coupon": key},
                opts=opts,
            )
    return codes


def _features(
    catalog: Catalog, products: dict[str, stripe.Product], opts: pulumi.ResourceOptions, adopted: Adopted,
) -> dict[str, stripe.EntitlementsFeature]:
    """One feature per lookup key, attached to each plan's product that lists it.

    The lookup key never changes in place (Update never sends it, provider_table,
    ENTITLEMENTS_FEATURE), so it names the resource: a renamed key is a new feature. The
    attachments have no Update (every field ForceNew) and are never imported: Read needs the
    product from state, so `pull` leaves them to the first `up`.
    """
    features = {}
    for key, feature in catalog.entitlements.items():
        name = entitlements.feature_name(key)
        features[key] = stripe.EntitlementsFeature(
            name,
            lookup_key=key,
            # Always sent: Pulumi invents a name when it is omitted.
            name=feature.name,
            metadata={**feature.metadata, "feature": key},
            opts=_adopting(opts, adopted, adoption.FEATURE, name),
        )
    for plan_key, key in entitlements.attachments(catalog.plans):
        stripe.ProductFeature(
            entitlements.product_feature_name(plan_key, key),
            product=products[plan_key].id,
            entitlements_feature=features[key].id,
            opts=opts,
        )
    return features


def _ids(resources: Mapping[str, pulumi.CustomResource]) -> pulumi.Output[dict[str, str]]:
    keys = list(resources)
    return pulumi.Output.all(*(r.id for r in resources.values())).apply(
        lambda ids: dict(zip(keys, ids, strict=True))
    )
