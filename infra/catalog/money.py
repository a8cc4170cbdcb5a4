"""Money, read and written one way: an amount as the catalog and the command line write it, and in a
currency's minor units, exactly, as Stripe takes it.

No float and no rounding: an amount that would need rounding is refused with
what the currency allows.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from infra.core.redact import shown
from infra.stripe import reference as ref

_AMOUNT = re.compile(r"[0-9]+(\.[0-9]+)?", re.ASCII)


def parse_amount(value: Any) -> Decimal:
    """An amount as the catalog (`amount:`, `percent_off:`) or the command line (`reprice`) gives it,
    exactly; the one reader of amounts, with the one message for what is not one."""
    # Money never passes through a float: the YAML reader yields Decimal for `29.00`.
    if isinstance(value, bool | float):
        raise ValueError("write the amount as a quoted decimal string, like \"29.00\"")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal) and value.is_finite():
        return value
    # ASCII digits only: Decimal() would also read Arabic-Indic digits, and " 29.00\n". Any length:
    # Decimal() of a text is exact, and to_minor_units refuses each digit the currency lacks.
    if isinstance(value, str) and _AMOUNT.fullmatch(value):
        return Decimal(value)
    raise ValueError(f"{shown(value)} is not a decimal amount; write it like \"29.00\"")


def amount_text(amount: Decimal) -> str:
    """An amount as the catalog writes it: every digit it has and no exponent (`29.00`, never `2.9E+1`),
    so `parse_amount` reads back exactly this amount."""
    return f"{amount:f}"


def to_minor_units(amount: Decimal, currency: str) -> int:
    """Exact conversion to the integer Stripe wants; refuses what would need rounding.

    Works on the amount's own digits, never through Decimal arithmetic: `scaleb` and
    friends round to the context's 28 digits, so "29.0099...9" (29 digits) became 2901.
    """
    digits = ref.minor_unit_digits(currency)
    if not amount.is_finite() or amount <= 0:
        raise ValueError(f"amount must be positive; got {amount}")
    _, figures, exponent = amount.as_tuple()
    exponent = int(exponent)  # finite, checked above: never 'n' or 'F'
    text = "".join(map(str, figures)).lstrip("0")
    shift = exponent + digits  # minor = int(text) * 10**shift
    if shift < 0:
        whole, dropped = text[:shift], text[shift:]
        # Never suggest a rounded amount: a fix must not change money, so say what is allowed.
        if dropped.strip("0"):
            written = -exponent
            allowed = f"at most {digits}" if digits else "none"
            raise ValueError(f"{amount:f} has {written} decimal{'s' if written != 1 else ''}; "
                             f"{currency} allows {allowed}: write the amount you mean"
                             + ("" if digits else " in whole units"))
        text, shift = whole, 0
    # Bounded before int(): the limit has eight digits, and int() of a long text is slow or refused.
    if len(text.lstrip("0")) + shift > len(str(ref.MAX_UNIT_AMOUNT)):
        raise ValueError(f"{amount} {currency} is above Stripe's limit of {ref.MAX_UNIT_AMOUNT} minor units")
    minor = int((text or "0") + "0" * shift)
    if currency in ref.THREE_DECIMAL and minor % 10:
        raise ValueError(f"Stripe takes {currency} amounts in whole hundredths, so the third decimal must "
                         "be 0; write the amount you mean with at most 2 decimals")
    if minor > ref.MAX_UNIT_AMOUNT:
        raise ValueError(f"{amount} {currency} is above Stripe's limit of {ref.MAX_UNIT_AMOUNT} minor units")
    return minor


def from_minor_units(minor: int, currency: str) -> Decimal:
    """The major-unit amount of an integer from Stripe, exactly (the reverse of to_minor_units)."""
    digits = ref.minor_unit_digits(currency)
    sign, figures = (1, str(-minor)) if minor < 0 else (0, str(minor))
    return Decimal((sign, tuple(int(f) for f in figures), -digits))
