"""Typed, frozen models of one stack's own settings: the `billing:` keys of its Pulumi.<stack>.yaml.

A stack's coupons are among its settings (`billing:coupons`); the catalog both
stacks share is in `models`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator

from infra import hosts
from infra.catalog.base import Model
from infra.catalog.money import to_minor_units
from infra.catalog.values import (
    Amount,
    CloudflareAccount,
    Currency,
    HostName,
    Hostname,
    Key,
    PositiveInt,
    PromoCode,
    VercelProject,
    VercelTeam,
    WorkerScript,
)
from infra.core.layout import DEFAULT_CATALOG

NAMESPACE = "billing"
"""The config namespace of every setting of this program (`billing:mode`, `billing:catalog`...)."""


class PromotionCode(Model):
    max_redemptions: PositiveInt | None = None
    first_time_transaction: bool = False
    active: bool = True


class Coupon(Model):
    name: Annotated[str, Field(min_length=1, max_length=40)]
    percent_off: Amount | None = None
    amount_off: Amount | None = None
    currency: Currency | None = None
    duration: Literal["once", "repeating", "forever"] = "once"
    duration_in_months: PositiveInt | None = None
    max_redemptions: PositiveInt | None = None
    applies_to: list[Key] = Field(default_factory=list)
    promotion_codes: dict[PromoCode, PromotionCode] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> Coupon:
        if (self.percent_off is None) == (self.amount_off is None):
            raise ValueError("give exactly one of percent_off or amount_off")
        if self.percent_off is not None and not Decimal(0) < self.percent_off <= 100:
            raise ValueError(f"percent_off must be above 0 and at most 100; got {self.percent_off}")
        if self.amount_off is not None and self.currency is None:
            raise ValueError("amount_off needs a currency; add `currency: usd` (or yours)")
        if self.amount_off is not None and self.currency is not None:
            to_minor_units(self.amount_off, self.currency)
        if self.percent_off is not None and self.currency is not None:
            raise ValueError("currency only applies to amount_off; remove it")
        if (self.duration == "repeating") != (self.duration_in_months is not None):
            raise ValueError("duration_in_months is required with, and only with, duration: repeating")
        return self


class StackSettings(Model):
    """One stack's own settings: the `billing:` keys of its Pulumi.<stack>.yaml."""

    # Aliases are the config keys, so problems name exactly what the user typed.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True)

    mode: Literal["test", "live"] = Field(alias="billing:mode")
    domain: Hostname = Field(alias="billing:domain")
    # Where the app reads its values; each host requires its own settings (infra.hosts).
    host: HostName = Field(default=hosts.DEFAULT, alias=hosts.HOST_SETTING)
    vercel_project: VercelProject | None = Field(default=None, alias="billing:vercelProject")
    cloudflare_account_id: CloudflareAccount | None = Field(default=None, alias="billing:cloudflareAccountId")
    worker_script: WorkerScript | None = Field(default=None, alias="billing:workerScript")
    catalog: str = Field(default=DEFAULT_CATALOG, min_length=1, alias="billing:catalog")
    coupons: dict[Key, Coupon] = Field(default_factory=dict, alias="billing:coupons")
    # An import file written by `pull`: existing objects the first `up` adopts.
    adopt: Annotated[str, Field(min_length=1)] | None = Field(default=None, alias="billing:adopt")
    # Read by the Vercel provider itself; checked here so a value pasted there is refused, not planned.
    vercel_team: VercelTeam | None = Field(default=None, alias="vercel:team")


def coupon_amount_off(coupon: Coupon) -> int | None:
    """A coupon's amount_off in minor units, or None for a percentage coupon."""
    if coupon.amount_off is None or coupon.currency is None:
        return None
    return to_minor_units(coupon.amount_off, coupon.currency)
