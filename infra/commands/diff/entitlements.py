"""`diff` for entitlements: what a change to `entitlements:` or a plan's list does.

A feature's lookup key is its catalog key and names its resource, because the
provider never sends a changed key (a silent no-op that diffs forever): a
renamed key is a new feature, and the old one stays active in Stripe since the
provider's Delete does nothing. Attachments (ProductFeature) have no Update and
a real Delete. Stripe applies a product's feature change to existing
subscribers at their next billing period; new subscribers get it at once.
"""

from __future__ import annotations

from infra.catalog import Catalog, Deployment, entitlements
from infra.commands.diff.change import Change, moved, removed
from infra.stripe.provider_table import ENTITLEMENTS_FEATURE, PRODUCT_FEATURE

GROUP = "entitlements"
REACHES = ("existing subscribers get the change at their next billing period (Stripe renews their "
           "active entitlements then); new subscribers at once")


def compare(base: Deployment, head: Deployment) -> list[Change]:
    changes = _features(base, head)
    changes += _attachments(base, head)
    return changes


def _features(base: Deployment, head: Deployment) -> list[Change]:
    old, new = base.catalog.entitlements, head.catalog.entitlements
    token = ENTITLEMENTS_FEATURE.token
    changes = []
    renamed = _renames(base.catalog, head.catalog)
    for key in sorted(new.keys() - old.keys()):
        was = next((o for o, n in renamed if n == key), None)
        resource = (token, entitlements.feature_name(key))
        if was is None:
            changes.append(Change(GROUP, "info", key, f"added: a new feature {new[key].name!r}", resource,
                                  "create"))
            continue
        changes.append(Change(GROUP, "warn", key, (
            f"lookup key {was!r} -> {key!r}: a feature's lookup key never changes in place (the provider "
            "never sends it), so this is a new feature with the "
            f"new key and {was!r} stays active in Stripe. Deploy app code that accepts {key!r} first: "
            "entitlement checks against the old key stop matching as subscribers move over"), resource,
            "create", fields=(moved("lookupKey", was, key),),
            sources=(ENTITLEMENTS_FEATURE.cite("lookupKey"),)))
    for key in sorted(old.keys() - new.keys()):
        changes.append(removed(
            head, GROUP, key, token, entitlements.feature_name(key), "the feature",
            "keeping it declared costs nothing", extra=(
                "; Stripe keeps it active under its lookup key, which therefore cannot be given to a new "
                "feature (not verified): archive it in the Dashboard (Product catalog > Features) if it "
                "should go")))
    for key in sorted(old.keys() & new.keys()):
        fields = [f for f in ("name", "metadata") if getattr(old[key], f) != getattr(new[key], f)]
        if fields:
            changes.append(Change(GROUP, "info", key, f"{', '.join(fields)} updated in place; the lookup key "
                                  "and ID stay", (token, entitlements.feature_name(key)), "update",
                                  fields=tuple(moved(f, getattr(old[key], f), getattr(new[key], f))
                                               for f in fields)))
    return changes


def _renames(base: Catalog, head: Catalog) -> list[tuple[str, str]]:
    """(old key, new key) pairs where a removed and an added feature share a name."""
    removed = {base.entitlements[k].name: k for k in base.entitlements.keys() - head.entitlements.keys()}
    return [(removed[head.entitlements[k].name], k)
            for k in sorted(head.entitlements.keys() - base.entitlements.keys())
            if head.entitlements[k].name in removed]


def _attachments(base: Deployment, head: Deployment) -> list[Change]:
    old = set(entitlements.attachments(base.catalog.plans))
    new = set(entitlements.attachments(head.catalog.plans))
    token = PRODUCT_FEATURE.token
    changes = []
    for plan, key in sorted(new - old):
        changes.append(Change(GROUP, "info", f"{plan}: {key}", f"plan {plan!r} now includes {key!r}; "
                              f"{REACHES}", (token, entitlements.product_feature_name(plan, key)), "create"))
    for plan, key in sorted(old - new):
        gone = plan not in head.catalog.plans
        what = f"{key!r} detached from plan {plan!r}" + (" (the plan is removed)" if gone else "")
        changes.append(removed(
            head, GROUP, f"{plan}: {key}", token, entitlements.product_feature_name(plan, key), what,
            f"keep {key!r} in the plan's `entitlements:`", severity="warn",
            extra=f"; its subscribers lose {key!r}: {REACHES}"))
    return changes
