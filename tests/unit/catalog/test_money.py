"""Amounts: one converter, exact whatever the length, never rounded (issue 21)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.catalog.models import from_minor_units, to_minor_units
from infra.catalog.values import parse_amount
from infra.core import exits
from infra.stripe import reference as ref
from tests.support.project import Project, run_cli

pytestmark = pytest.mark.pure

LONG = "29.00" + "9" * 25  # 30 characters: more digits than Decimal's default precision of 28


def test_an_amount_longer_than_decimal_precision_is_refused_not_rounded() -> None:
    with pytest.raises(ValueError, match="27 decimals; usd allows at most 2"):
        to_minor_units(parse_amount(LONG), "usd")


@pytest.mark.parametrize("text, currency, minor", [
    ("29.00", "usd", 2900), ("29.00" + "0" * 200, "usd", 2900), ("0" * 300 + "1500", "jpy", 1500),
    ("99999999", "jpy", 99_999_999), ("1.230", "kwd", 1230), ("999999.99", "usd", 99_999_999),
])
def test_exact_amounts_convert(text: str, currency: str, minor: int) -> None:
    assert to_minor_units(parse_amount(text), currency) == minor


@pytest.mark.parametrize("text, currency, message", [
    ("1" * 500, "usd", "above Stripe's limit"), ("1000000.00", "usd", "above Stripe's limit"),
    ("1500.5", "jpy", "jpy allows none"), ("1.235", "kwd", "third decimal must be 0"),
    ("0." + "0" * 400, "usd", "must be positive"), ("0.00" + "0" * 400 + "1", "usd", "403 decimals"),
])
def test_inexact_or_out_of_range_amounts_are_refused(text: str, currency: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        to_minor_units(parse_amount(text), currency)


@given(whole=st.text("0123456789", min_size=1, max_size=60), fraction=st.text("0123456789", max_size=60),
       currency=st.sampled_from(sorted(ref.CURRENCIES)))
def test_any_decimal_text_converts_exactly_or_is_refused(whole: str, fraction: str, currency: str) -> None:
    text = whole + ("." + fraction if fraction else "")
    digits = ref.minor_unit_digits(currency)
    # The truth, by integer arithmetic on the text alone.
    padded = fraction.ljust(digits, "0")
    exact = not padded[digits:].strip("0")
    minor = int(whole + padded[:digits])
    try:
        got = to_minor_units(parse_amount(text), currency)
    except ValueError:
        assert not exact or minor <= 0 or minor > ref.MAX_UNIT_AMOUNT or (currency in ref.THREE_DECIMAL and minor % 10)
    else:
        assert exact and got == minor
        assert to_minor_units(from_minor_units(got, currency), currency) == got


@given(st.integers(min_value=-(10**60), max_value=10**60), st.sampled_from(sorted(ref.CURRENCIES)))
def test_from_minor_units_is_exact_for_any_integer(minor: int, currency: str) -> None:
    sign, figures, exponent = from_minor_units(minor, currency).as_tuple()
    assert (-1 if sign else 1) * int("".join(map(str, figures))) == minor
    assert exponent == -ref.minor_unit_digits(currency)


def test_validate_and_reprice_refuse_the_long_amount(project: Project) -> None:
    path = project.catalog("""\
        plans:
          pro:
            name: Pro
            prices:
              monthly: {amount: "LONG", currency: usd, interval: month}
        """.replace("LONG", LONG))
    code, _, err = run_cli("validate", "--stack", "test", "--project", str(project.root))
    assert code == exits.REFUSED and "decimals; usd allows at most 2" in err
    project.catalog("""\
        plans:
          pro:
            name: Pro
            prices:
              monthly: {amount: "29.00", currency: usd, interval: month}
        """)
    before = path.read_bytes()
    code, _, err = run_cli("reprice", "pro.monthly", LONG, "--project", str(project.root))
    assert code == exits.REFUSED and "decimals; usd allows at most 2" in err
    assert path.read_bytes() == before
    assert Decimal(LONG) != Decimal("29.01")  # the rounding this guards against
