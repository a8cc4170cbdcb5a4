"""What the bridged Stripe provider really does, per resource and field: the one place for it.

pulumi-stripe 0.0.28 bridges lukasaron/terraform-provider-stripe at commit
ea82f9241a52 (tag v3.4.1); every row cites the line of `stripe/<file>` at that
commit it was read from. The program (which fields it must always send), `diff`
(what a catalog change does) and the tests (the second-`up` harness) all read
this table, so a fact learned about the provider is written here once.

How SDKv2 diffs, as the bridge applies it (terraform-plugin-sdk v2.38.1):
- an absent input is the type's zero value (or the schema Default), so a field
  whose Read stores a non-zero value the program did not send diffs forever;
- an Optional+Computed field that is not sent never diffs (state is kept);
- ForceNew on a block covers only its element count; nested fields use their
  own ForceNew, so a change inside a ForceNew block is an in-place update.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

COMMIT = "ea82f9241a52324a6c510857d98e04858161667d"
REPOSITORY = "lukasaron/terraform-provider-stripe"

Kind = Literal["string", "bool", "int", "float", "list", "map", "block", "blocks"]
"""`block` is a MaxItems-1 list of objects (an object in Pulumi); `blocks` a list of objects."""
Create = Literal["always", "if_set", "if_true", "never"]
"""`if_set`: read with GetOk, so zero values ("", 0, false, []) are never sent."""
Update = Literal["sent", "sent_if_nonempty", "never", "refused_once_set"]
"""`sent_if_nonempty`: "" or an empty list is dropped (NonZeroString, a nil slice), so removing
the value never clears it in Stripe. `never`: not ForceNew and not sent, a silent no-op.
`refused_once_set`: sent, but Stripe refuses the change (tax_behavior once inclusive/exclusive)."""
Read = Literal["always", "if_present", "never"]
"""`never`: state keeps the program's value: no drift is seen and an import leaves it null."""
Delete = Literal["deletes", "nothing", "nothing_if_in_use"]


@dataclass(frozen=True)
class Field:
    name: str
    """The Pulumi input name (camelCase, as registered)."""
    tf: str
    kind: Kind
    line: int
    """Schema line in the resource's file."""
    force_new: bool = False
    computed: bool = False
    default: Any = None
    """The schema Default, which an absent input takes."""
    create: Create = "if_set"
    update: Update = "sent"
    read: Read = "always"
    answer: Any = None
    """What Stripe stores when the program sends nothing (None: the zero value / nothing)."""
    children: tuple[Field, ...] = ()
    source: str = ""
    """Where the create/update/read behaviour above is, as `Read L418` etc."""

    def zero(self) -> Any:
        if self.default is not None:
            return self.default
        return {"string": "", "bool": False, "int": 0, "float": 0.0, "list": [], "map": {},
                "block": [], "blocks": []}[self.kind]


@dataclass(frozen=True)
class Resource:
    token: str
    file: str
    delete: Delete
    delete_source: str
    fields: tuple[Field, ...]
    note: str = ""

    def get(self, path: str) -> Field:
        """The field at a dotted Pulumi path, e.g. `recurring.interval`."""
        fields, found = self.fields, None
        for part in path.split("."):
            found = next((f for f in fields if f.name == part), None)
            if found is None:
                raise KeyError(f"{self.token} has no field {path!r}")
            fields = found.children
        assert found is not None  # noqa: S101 (a path has at least one part)
        return found

    def cite(self, path: str) -> str:
        entry = self.get(path)
        return f"{self.file} L{entry.line}" + (f", {entry.source}" if entry.source else "")


def _f(name: str, tf: str, kind: Kind, line: int, **rest: Any) -> Field:
    return Field(name, tf, kind, line, **rest)


PRODUCT = Resource(
    "stripe:index/product:Product", "resource_stripe_product.go",
    # Products.Del; an invalid_request_error (the product has prices) is swallowed and the
    # product stays active in Stripe: prices are never deleted, so this is the usual case.
    "nothing_if_in_use", "Delete L325-351 (error swallowed L339-341)",
    (
        _f("productId", "product_id", "string", 23, force_new=True, computed=True, source="Read L131"),
        _f("name", "name", "string", 30, create="always", source="Create L177"),
        _f("active", "active", "bool", 37, default=True, create="if_true", answer=True,
           source="Create sends it only when true L182: an archived plan created from scratch "
                  "takes a second up"),
        _f("description", "description", "string", 43),
        _f("marketingFeatures", "marketing_features", "list", 50, update="sent_if_nonempty",
           source="Update L267-274 sends a nil slice for an empty list; Read L135-144"),
        _f("images", "images", "list", 57),
        _f("shippable", "shippable", "bool", 70, create="if_true"),
        _f("statementDescriptor", "statement_descriptor", "string", 75),
        _f("taxCode", "tax_code", "string", 85, read="if_present", source="Read L159-164"),
        _f("unitLabel", "unit_label", "string", 90),
        _f("url", "url", "string", 97),
        _f("metadata", "metadata", "map", 102, source="UpdateMetadata utils.go L203-220 sends \"\" "
                                                     "for a removed key"),
    ),
)

PRICE = Resource(
    "stripe:index/price:Price", "resource_stripe_price.go",
    "nothing", "Delete L856-860 only drops the price from state: it stays active in Stripe",
    (
        _f("currency", "currency", "string", 28, force_new=True, create="always", source="Read L418"),
        _f("product", "product", "string", 34, force_new=True, create="always", source="Read L419"),
        _f("unitAmount", "unit_amount", "int", 40, force_new=True, computed=True,
           source="Create L568-570 (NonZeroInt64); Read L420-432"),
        _f("unitAmountDecimal", "unit_amount_decimal", "float", 48, force_new=True, computed=True),
        _f("active", "active", "bool", 58, default=True, create="always", source="Create L565"),
        _f("nickname", "nickname", "string", 64),
        _f("recurring", "recurring", "block", 69, force_new=True, read="if_present",
           source="Create L577-594; never sent by Update; Read L435-448", children=(
               _f("interval", "interval", "string", 77, update="never"),
               _f("intervalCount", "interval_count", "int", 91, update="never", answer=1),
               _f("aggregateUsage", "aggregate_usage", "string", 82, update="never"),
               _f("usageType", "usage_type", "string", 98, default="licensed", update="never",
                  answer="licensed"),
               _f("meter", "meter", "string", 107, update="never"),
           )),
        _f("tiersMode", "tiers_mode", "string", 170, force_new=True),
        _f("billingScheme", "billing_scheme", "string", 178, force_new=True, computed=True,
           answer="per_unit"),
        _f("lookupKey", "lookup_key", "string", 336, source="Update L831-833 sends \"\" when removed; "
                                                         "Read L539"),
        _f("transferLookupKey", "transfer_lookup_key", "bool", 341, default=False, create="if_true",
           read="never", source="Create L716-718, kept in state L747-752; never read"),
        _f("taxBehavior", "tax_behavior", "string", 348, default="unspecified", create="always",
           update="refused_once_set", answer="unspecified",
           source="Update L837-839; Stripe refuses a change once inclusive or exclusive"),
        _f("transformQuantity", "transform_quantity", "block", 356, force_new=True, read="if_present"),
        _f("metadata", "metadata", "map", 386),
    ),
)

COUPON = Resource(
    "stripe:index/coupon:Coupon", "resource_stripe_coupon.go",
    "deletes", "Delete L249-264 (Coupons.Del)",
    (
        _f("couponId", "coupon_id", "string", 23, force_new=True, computed=True),
        _f("name", "name", "string", 30, source="Update L230 (in place)"),
        _f("amountOff", "amount_off", "int", 35, force_new=True),
        _f("currency", "currency", "string", 43, force_new=True, source="Read L150, lowercase"),
        _f("percentOff", "percent_off", "float", 50, force_new=True),
        _f("duration", "duration", "string", 59, force_new=True, default="once", create="always"),
        _f("durationInMonths", "duration_in_months", "int", 67, force_new=True),
        _f("maxRedemptions", "max_redemptions", "int", 74, force_new=True),
        _f("redeemBy", "redeem_by", "string", 81, force_new=True,
           source="Read L141-144 formats RFC3339 in the provider's local time zone"),
        _f("appliesTos", "applies_to", "list", 92, force_new=True,
           source="Read expands it L121-122, in Stripe's order (not verified)"),
        _f("metadata", "metadata", "map", 99),
    ),
)

PROMOTION_CODE = Resource(
    "stripe:index/promotionCode:PromotionCode", "resource_stripe_promotion_code.go",
    "nothing", "Delete L268-272 only drops it from state: the code stays active",
    (
        _f("coupon", "coupon", "string", 29, force_new=True, create="always", source="Read L196-201"),
        _f("code", "code", "string", 35, force_new=True, answer="<generated by Stripe>",
           source="Read L202: Stripe generates a code when none is sent"),
        _f("active", "active", "bool", 43, default=True, create="always", source="Create L118"),
        _f("customer", "customer", "string", 49, force_new=True),
        _f("maxRedemptions", "max_redemptions", "int", 56, force_new=True),
        _f("expiresAt", "expires_at", "string", 64, force_new=True, source="Read L213-219, local time"),
        _f("restrictions", "restrictions", "block", 72, force_new=True,
           answer=[{"firstTimeTransaction": False}],
           source="Create L140-158; Read L221-239 sets it whenever Stripe returns it, which is always",
           children=(
               _f("firstTimeTransaction", "first_time_transaction", "bool", 80, update="never",
                  create="always"),
               _f("minimumAmount", "minimum_amount", "int", 86, update="never"),
               _f("minimumAmountCurrency", "minimum_amount_currency", "string", 92, update="never"),
           )),
        _f("metadata", "metadata", "map", 100),
    ),
)

WEBHOOK_ENDPOINT = Resource(
    "stripe:index/webhookEndpoint:WebhookEndpoint", "resource_stripe_webhook_endpoint.go",
    "deletes", "Delete L192-206 (WebhookEndpoints.Del)",
    (
        _f("enabledEvents", "enabled_events", "list", 27, create="always", source="Read L103"),
        _f("url", "url", "string", 34, create="always"),
        _f("description", "description", "string", 39),
        _f("disabled", "disabled", "bool", 50, default=False, create="never",
           source="Read L107 derives it from status"),
        _f("connect", "connect", "bool", 56, force_new=True, default=False, create="if_true",
           source="Read L108 derives it from application"),
        _f("apiVersion", "api_version", "string", 64, force_new=True,
           answer="<the account's default version>",
           source="Read L109; a new version is a new endpoint with a NEW signing secret"),
        _f("metadata", "metadata", "map", 75),
    ),
    note="`secret` (L44) comes only from the create response (L147-149) and is never read: an "
         "imported endpoint has none",
)

CancellationReason = Literal["too_expensive", "missing_features", "switched_service", "unused",
                             "customer_service", "too_complex", "low_quality", "other"]

PORTAL_CONFIGURATION = Resource(
    "stripe:index/portalConfiguration:PortalConfiguration", "resource_stripe_portal_configuration.go",
    "nothing", "Delete L687-691 only drops it from state: the configuration stays active",
    (
        _f("active", "active", "bool", 28, default=True, create="never", answer=True),
        _f("businessProfile", "business_profile", "block", 34, create="always",
           source="Update L545-559 uses NonZeroString: a removed string is never cleared", children=(
               _f("headline", "headline", "string", 41, update="sent_if_nonempty"),
               _f("privacyPolicyUrl", "privacy_policy_url", "string", 46, update="sent_if_nonempty"),
               _f("termsOfServiceUrl", "terms_of_service_url", "string", 51, update="sent_if_nonempty"),
           )),
        _f("defaultReturnUrl", "default_return_url", "string", 59),
        _f("loginPage", "login_page", "block", 65, computed=True),
        _f("features", "features", "block", 88, create="always",
           source="Create L423-516 and Update L576-669 send the whole tree; Read L310-379", children=(
               _f("customerUpdate", "customer_update", "block", 95, computed=True, children=(
                   _f("enabled", "enabled", "bool", 103, create="always"),
                   _f("allowedUpdates", "allowed_updates", "list", 108, create="always"),
               )),
               _f("invoiceHistory", "invoice_history", "block", 117, computed=True, children=(
                   _f("enabled", "enabled", "bool", 125, create="always"),
               )),
               _f("paymentMethodUpdate", "payment_method_update", "block", 133, computed=True, children=(
                   _f("enabled", "enabled", "bool", 141, create="always"),
               )),
               _f("subscriptionCancel", "subscription_cancel", "block", 149, computed=True, children=(
                   _f("enabled", "enabled", "bool", 157, create="always"),
                   # Stripe answers {enabled: false, options: []} when nothing was sent.
                   _f("cancellationReason", "cancellation_reason", "block", 162,
                      answer=[{"enabled": False, "options": []}], source="Read L343-350", children=(
                          _f("enabled", "enabled", "bool", 169, create="always"),
                          _f("options", "options", "list", 174, create="always"),
                      )),
                   _f("mode", "mode", "string", 183, update="sent_if_nonempty", answer="at_period_end"),
                   _f("prorationBehavior", "proration_behavior", "string", 188, update="sent_if_nonempty",
                      answer="none"),
               )),
               # No MaxItems: a list in Pulumi. Optional+Computed: omitting it changes nothing
               # in Stripe, so switching that was on stays on.
               _f("subscriptionUpdates", "subscription_update", "blocks", 196, computed=True, children=(
                   _f("defaultAllowedUpdates", "default_allowed_updates", "list", 203, create="always"),
                   _f("enabled", "enabled", "bool", 209, create="always"),
                   _f("products", "products", "blocks", 214, create="always", update="sent_if_nonempty",
                      source="Create/Update append to a nil slice: an empty list is never sent; Read "
                             "expands it L268-269", children=(
                          _f("product", "product", "string", 226, create="always"),
                          _f("prices", "prices", "list", 220, create="always"),
                      )),
                   _f("prorationBehavior", "proration_behavior", "string", 234, update="sent_if_nonempty",
                      answer="none"),
               )),
           )),
        _f("metadata", "metadata", "map", 252),
    ),
)

ENTITLEMENTS_FEATURE = Resource(
    "stripe:index/entitlementsFeature:EntitlementsFeature", "resource_stripe_entitlements_feature.go",
    "nothing", "Delete L145-149 only drops it from state: the feature stays active",
    (
        _f("lookupKey", "lookup_key", "string", 28, create="always", update="never",
           source="Update L120-143 never sends it: a new lookup key is a new feature"),
        _f("name", "name", "string", 33, create="always", source="Update L126"),
        _f("metadata", "metadata", "map", 55),
    ),
)

PRODUCT_FEATURE = Resource(
    "stripe:index/productFeature:ProductFeature", "resource_stripe_product_feature.go",
    "deletes", "Delete L101-117 (ProductFeatures.Del, with product from state)",
    (
        _f("entitlementsFeature", "entitlements_feature", "string", 26, force_new=True, create="always",
           source="Read L73"),
        _f("product", "product", "string", 32, force_new=True, create="always", read="never",
           source="Read copies it from state L58, L74: an import has no product and fails"),
    ),
)

RESOURCES: dict[str, Resource] = {r.token: r for r in (
    PRODUCT, PRICE, COUPON, PROMOTION_CODE, WEBHOOK_ENDPOINT, PORTAL_CONFIGURATION,
    ENTITLEMENTS_FEATURE, PRODUCT_FEATURE,
)}
CANCELLATION_REASONS: tuple[str, ...] = get_args(CancellationReason)
"""Every reason Stripe's portal offers (stripe-go BillingPortalConfiguration params)."""


def url(resource: Resource, line: int | None = None) -> str:
    anchor = f"#L{line}" if line else ""
    return f"https://github.com/{REPOSITORY}/blob/{COMMIT}/stripe/{resource.file}{anchor}"
