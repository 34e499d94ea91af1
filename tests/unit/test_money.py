"""Money: exact amounts, ROUND_HALF_UP rounding and allocation by largest remainder."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledgerlink.domain.errors import ValidationError
from ledgerlink.domain.money import (
    Money,
    RoundingPoint,
    currency_code,
    minor_unit_exponent,
    to_decimal,
    total,
)

# Currencies with 2, 0 and 3 decimals in their minor unit.
CURRENCIES = ["DKK", "EUR", "SEK", "JPY", "ISK", "KWD", "BHD"]

currencies = st.sampled_from(CURRENCIES)
minor_units = st.integers(min_value=-(10**12), max_value=10**12)


def _half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half away from zero, in integers only."""
    sign = -1 if numerator * denominator < 0 else 1
    quotient, remainder = divmod(abs(numerator), abs(denominator))
    if 2 * remainder >= abs(denominator):
        quotient += 1
    return sign * quotient


# construction ---------------------------------------------------------------------------------


def test_minor_unit_exponents_come_from_iso_4217() -> None:
    assert [minor_unit_exponent(c) for c in ("DKK", "JPY", "KWD", "BHD")] == [2, 0, 3, 3]


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("12.5", "DKK", Decimal("12.50")),
        (" 1 234.56 ", "SEK", Decimal("1234.56")),
        (7, "EUR", Decimal("7.00")),
        (Decimal("1.50000"), "DKK", Decimal("1.50")),
        ("100", "JPY", Decimal(100)),
        ("1.005", "KWD", Decimal("1.005")),
    ],
)
def test_of_accepts_exact_amounts_and_quantizes_to_the_minor_unit(
    amount: Decimal | int | str, currency: str, expected: Decimal
) -> None:
    money = Money.of(amount, currency)
    assert money.amount == expected
    assert money.amount.as_tuple().exponent == -minor_unit_exponent(currency)


def test_currency_code_is_normalised() -> None:
    assert Money.of("1", " dkk ").currency == "DKK"
    assert currency_code("eur") == "EUR"


@pytest.mark.parametrize("make", [lambda: Money.of(1.5, "DKK"), lambda: Money(1.5, "DKK")])
def test_floats_are_refused(make: Callable[[], Money]) -> None:
    with pytest.raises(TypeError, match="never floats"):
        make()


def test_to_decimal_refuses_floats() -> None:
    with pytest.raises(TypeError):
        to_decimal(0.1)


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("1.005", "DKK"), ("0.001", "EUR"), ("1.5", "JPY"), ("1.0005", "KWD"), ("0.0001", "BHD")],
)
def test_excess_decimals_are_refused(amount: str, currency: str) -> None:
    with pytest.raises(ValidationError, match="more decimals than the currency allows"):
        Money.of(amount, currency)


@pytest.mark.parametrize("text", ["abc", "1,5", "", "NaN", "Infinity", "-inf"])
def test_non_numbers_are_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="number"):
        Money.of(text, "DKK")


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("1e30", "DKK"), ("-1E+16", "DKK"), ("1e18", "JPY"), ("1e999999999", "EUR")],
)
def test_amounts_beyond_the_stores_minor_units_are_refused(amount: str, currency: str) -> None:
    with pytest.raises(ValidationError, match="is too large \\(an amount is below"):
        Money.of(amount, currency)
    with pytest.raises(ValidationError, match="is too large"):
        Money.rounded(Decimal(amount), currency, at=RoundingPoint.LINE_AMOUNT)


def test_the_largest_amount_is_kept_exactly() -> None:
    largest = Money.of("9999999999999999.99", "DKK")
    assert largest.minor_units == 10**18 - 1


@pytest.mark.parametrize("code", ["ABC", "XX", "Danish kroner", "DKKK"])
def test_unknown_currency_code_names_the_code_and_gives_examples(code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Money.of("1", code)
    assert str(caught.value) == (f"'{code}' is not an ISO 4217 currency code (e.g. DKK, SEK, EUR)")


def test_zero_and_minor_units_round_trip() -> None:
    assert Money.zero("JPY") == Money.of("0", "JPY")
    assert Money.of("-12.34", "DKK").minor_units == -1234
    assert Money.from_minor_units(1005, "KWD") == Money.of("1.005", "KWD")
    assert Money.from_minor_units(1005, "JPY").amount == Decimal(1005)


@given(units=minor_units, currency=currencies)
def test_minor_units_round_trip(units: int, currency: str) -> None:
    assert Money.from_minor_units(units, currency).minor_units == units


# arithmetic -----------------------------------------------------------------------------------


def test_arithmetic_in_one_currency() -> None:
    a, b = Money.of("10.25", "DKK"), Money.of("0.75", "DKK")
    assert a + b == Money.of("11.00", "DKK")
    assert a - b == Money.of("9.50", "DKK")
    assert -a == Money.of("-10.25", "DKK")
    assert b < a
    assert b <= Money.of("0.75", "DKK")
    assert not a <= b
    assert not a < b
    assert Money.zero("DKK").is_zero()
    assert not a.is_zero()


@pytest.mark.parametrize(
    "combine",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
    ],
)
def test_mixing_currencies_is_refused(combine: Callable[[Money, Money], object]) -> None:
    dkk, sek = Money.of("1", "DKK"), Money.of("1", "SEK")
    with pytest.raises(ValidationError, match="cannot combine DKK and SEK amounts"):
        combine(dkk, sek)


def test_total_sums_and_is_zero_when_empty() -> None:
    assert total([], "SEK") == Money.zero("SEK")
    amounts = [Money.of("0.10", "SEK"), Money.of("0.20", "SEK"), Money.of("-0.05", "SEK")]
    assert total(amounts, "SEK") == Money.of("0.25", "SEK")


def test_total_refuses_an_amount_in_another_currency() -> None:
    with pytest.raises(ValidationError, match="cannot combine"):
        total([Money.of("1", "EUR")], "DKK")


# rounding -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        ("0.005", "DKK", "0.01"),
        ("-0.005", "DKK", "-0.01"),
        ("0.0049999", "DKK", "0.00"),
        ("2.675", "EUR", "2.68"),
        ("2.5", "JPY", "3"),
        ("-2.5", "JPY", "-3"),
        ("0.0005", "KWD", "0.001"),
        ("1.2344", "BHD", "1.234"),
    ],
)
def test_rounded_is_half_up_away_from_zero(value: str, currency: str, expected: str) -> None:
    rounded = Money.rounded(Decimal(value), currency, at=RoundingPoint.LINE_AMOUNT)
    assert rounded == Money.of(expected, currency)


def test_multiply_rounds_half_up() -> None:
    price = Money.of("0.05", "DKK")
    assert price.multiply(Decimal("0.5"), at=RoundingPoint.LINE_AMOUNT) == Money.of("0.03", "DKK")
    assert price.multiply(Decimal("-0.5"), at=RoundingPoint.LINE_AMOUNT) == Money.of("-0.03", "DKK")


@given(
    numerator=st.integers(min_value=-(10**15), max_value=10**15),
    extra_digits=st.integers(min_value=1, max_value=4),
    currency=currencies,
)
def test_rounded_matches_integer_half_up(numerator: int, extra_digits: int, currency: str) -> None:
    """``numerator`` counts units of 10^-extra_digits minor units; round to whole minor units."""
    value = Decimal(numerator).scaleb(-(minor_unit_exponent(currency) + extra_digits))
    rounded = Money.rounded(value, currency, at=RoundingPoint.VAT_PER_CATEGORY)
    assert rounded.minor_units == _half_up(numerator, 10**extra_digits)


@given(
    numerator=st.integers(min_value=0, max_value=10**15),
    extra_digits=st.integers(min_value=0, max_value=4),
    currency=currencies,
)
def test_rounding_is_symmetric(numerator: int, extra_digits: int, currency: str) -> None:
    value = Decimal(numerator).scaleb(-(minor_unit_exponent(currency) + extra_digits))
    at = RoundingPoint.LINE_AMOUNT
    assert Money.rounded(-value, currency, at=at) == -Money.rounded(value, currency, at=at)


@given(
    numerator=st.integers(min_value=0, max_value=10**6).map(lambda n: 10 * n + 5),
    currency=currencies,
)
def test_exact_halves_round_away_from_zero(numerator: int, currency: str) -> None:
    value = Decimal(numerator).scaleb(-(minor_unit_exponent(currency) + 1))
    up = Money.rounded(value, currency, at=RoundingPoint.LINE_AMOUNT)
    down = Money.rounded(-value, currency, at=RoundingPoint.LINE_AMOUNT)
    assert up.minor_units == numerator // 10 + 1
    assert down.minor_units == -(numerator // 10 + 1)


# allocation -----------------------------------------------------------------------------------


def test_allocate_gives_leftover_units_to_the_earliest_largest_remainders() -> None:
    parts = Money.of("0.10", "DKK").allocate([1, 1, 1])
    assert parts == [Money.of(a, "DKK") for a in ("0.04", "0.03", "0.03")]


def test_allocate_negative_amount_mirrors_the_positive_one() -> None:
    parts = Money.of("-0.10", "DKK").allocate([1, 1, 1])
    assert parts == [Money.of(a, "DKK") for a in ("-0.04", "-0.03", "-0.03")]


def test_allocate_respects_proportions_and_zero_weights() -> None:
    parts = Money.of("100", "JPY").allocate([Decimal("0.5"), 0, Decimal("1.5")])
    assert parts == [Money.of("25", "JPY"), Money.zero("JPY"), Money.of("75", "JPY")]


def test_allocate_largest_remainder_beats_order() -> None:
    # shares 0.33.. and 0.66..: the one leftover unit goes to the larger remainder (second).
    parts = Money.from_minor_units(1, "KWD").allocate([1, 2])
    assert [p.minor_units for p in parts] == [0, 1]


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ([], "zero parts"),
        ([1, -1], "must not be negative"),
        ([0, 0], "must not all be zero"),
    ],
)
def test_allocate_refuses_bad_weights(weights: list[int], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Money.of("1", "DKK").allocate(weights)


weight_lists = st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=10).filter(
    any
)


@given(units=minor_units, currency=currencies, weights=weight_lists, decimals=st.integers(0, 3))
def test_allocate_sums_exactly_and_stays_within_one_minor_unit(
    units: int, currency: str, weights: list[int], decimals: int
) -> None:
    money = Money.from_minor_units(units, currency)
    # The weights may be decimals (e.g. hours); scaled by 10^decimals they are the integers.
    decimal_weights = [Decimal(w).scaleb(-decimals) for w in weights]

    parts = money.allocate(decimal_weights)

    assert len(parts) == len(weights)
    assert all(part.currency == money.currency for part in parts)
    assert total(parts, currency) == money
    weight_sum = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        # |part − units × w / W| < 1 minor unit, in integers: |part × W − units × w| < W
        assert abs(part.minor_units * weight_sum - units * weight) < weight_sum
        # Never a part of the opposite sign.
        assert part.minor_units * units >= 0
