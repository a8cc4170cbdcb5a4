"""`diff` for a stack's coupons and promotion codes: their terms never change."""

from __future__ import annotations

from infra.catalog import Coupon, Deployment
from infra.commands.diff.change import Change, moved, removed
from infra.stripe import provider_model
from infra.stripe.provider_table import COUPON, PROMOTION_CODE

# What a coupon's and a promotion code's catalog fields become, for the provider table.
_COUPON_TERMS = {"percent_off": "percentOff", "amount_off": "amountOff", "currency": "currency",
                 "duration": "duration", "duration_in_months": "durationInMonths",
                 "max_redemptions": "maxRedemptions", "applies_to": "appliesTos"}
_CODE_TERMS = {"max_redemptions": "maxRedemptions",
               "first_time_transaction": "restrictions.firstTimeTransaction"}


def coupons(base: Deployment, head: Deployment) -> list[Change]:
    old, new = base.settings.coupons, head.settings.coupons
    changes = []
    for key in sorted(new.keys() - old.keys()):
        changes.append(Change("stack", "info", f"coupon {key}", "added", (COUPON.token, key), "create"))
    for key in sorted(old.keys() - new.keys()):
        active = [code for code, promo in old[key].promotion_codes.items() if promo.active]
        if active:
            changes.append(Change("stack", "error", f"coupon {key}", (
                f"removed while its codes {', '.join(active)} are active: the provider's promotion code "
                "Delete does nothing. Set them `active: false`, deploy, "
                "then remove the coupon"), (COUPON.token, key), "delete",
                sources=(f"{PROMOTION_CODE.file} {PROMOTION_CODE.delete_source}",)))
        else:
            changes.append(removed(head, "stack", f"coupon {key}", COUPON.token, key, "the coupon",
                                   "its codes are inactive"))
    for key in sorted(old.keys() & new.keys()):
        changes += _coupon_change(head, key, old[key], new[key])
    return changes


def _coupon_change(head: Deployment, key: str, old: Coupon, new: Coupon) -> list[Change]:
    changes = []
    terms = [field for field in _COUPON_TERMS if getattr(old, field) != getattr(new, field)]
    if terms:
        changes.append(Change("stack", "error", f"coupon {key}", (
            f"{', '.join(terms)} changed: a coupon's terms never change (the provider replaces it), "
            "and its promotion codes with it while the old codes "
            "stay active, so the new codes fail to create halfway. Keep this coupon as it is with its codes "
            f"`active: false`, and add a new coupon key (e.g. `{key}_v2`) with the new terms and new codes"),
            (COUPON.token, key), "replace",
            fields=tuple(moved(_COUPON_TERMS[f], getattr(old, f), getattr(new, f)) for f in terms),
            sources=(COUPON.cite(_COUPON_TERMS[terms[0]]),)))
    if old.name != new.name:
        changes.append(Change("stack", "info", f"coupon {key}", "name updated in place (customers see it on "
                              "invoices)", (COUPON.token, key), "update",
                              fields=(moved("name", old.name, new.name),)))
    for code in sorted(old.promotion_codes.keys() & new.promotion_codes.keys()):
        was, now = old.promotion_codes[code], new.promotion_codes[code]
        resource = (PROMOTION_CODE.token, f"{key}-{code}")
        changed = [field for field in _CODE_TERMS if getattr(was, field) != getattr(now, field)]
        if changed:
            path = _CODE_TERMS[changed[0]]
            step = provider_model.effect(PROMOTION_CODE.token, path, getattr(was, changed[0]),
                                         getattr(now, changed[0]))
            does = ("replaces the code, and the new one fails to create while the old stays active"
                    if step == "replace" else "is never sent by the provider: nothing changes in Stripe")
            changes.append(Change("stack", "error", f"code {code}", (
                f"{', '.join(changed)} changed: this {does}. Set `{code}` "
                "`active: false` and add a new code with the new terms"), resource, step,
                fields=tuple(moved(_CODE_TERMS[f], getattr(was, f), getattr(now, f)) for f in changed),
                sources=(PROMOTION_CODE.cite(path),)))
        if was.active != now.active:
            changes.append(Change("stack", "warn" if not now.active else "info", f"code {code}",
                                  "deactivated: customers can no longer type it" if not now.active
                                  else "reactivated", resource, "update",
                                  fields=(moved("active", was.active, now.active),)))
    for code in sorted(new.promotion_codes.keys() - old.promotion_codes.keys()):
        changes.append(Change("stack", "info", f"code {code}", "added",
                              (PROMOTION_CODE.token, f"{key}-{code}"), "create"))
    for code in sorted(old.promotion_codes.keys() - new.promotion_codes.keys()):
        if old.promotion_codes[code].active:
            changes.append(Change("stack", "error", f"code {code}", (
                "removed while active: the provider's Delete does nothing, so customers could still use it. "
                "Set it `active: false`, deploy, then remove it"), (PROMOTION_CODE.token, f"{key}-{code}"),
                "delete"))
        else:
            changes.append(removed(head, "stack", f"code {code}", PROMOTION_CODE.token, f"{key}-{code}",
                                   "the inactive code", "`active: false` costs nothing"))
    return changes
