"""VAT: dated rates, the treatment of a sale, and the per-category rule of a document's VAT."""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ledgerlink.domain.errors import ValidationError
from ledgerlink.domain.invoices import Invoice, InvoiceLine, LineKind
from ledgerlink.domain.money import Money
from ledgerlink.domain.vat import (
    DEFAULT_VAT_RATES,
    VatCategory,
    VatRate,
    VatRateTable,
    VatTreatment,
    document_vat,
    vat_treatment,
)

S, R, R2, Z, X = (
    VatCategory.STANDARD,
    VatCategory.REDUCED,
    VatCategory.SECOND_REDUCED,
    VatCategory.ZERO,
    VatCategory.EXEMPT,
)

# dated rates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "category", "day", "percent"),
    [
        ("NL", R, date(2018, 12, 31), "6"),
        ("NL", R, date(2019, 1, 1), "9"),
        ("NL", S, date(2012, 9, 30), "19"),
        ("NL", S, date(2012, 10, 1), "21"),
        ("DE", S, date(2020, 6, 30), "19"),
        ("DE", S, date(2020, 7, 1), "16"),
        ("DE", S, date(2020, 12, 31), "16"),
        ("DE", S, date(2021, 1, 1), "19"),
        ("DE", R, date(2020, 9, 15), "5"),
        ("DE", R, date(2021, 1, 1), "7"),
        ("FI", S, date(2024, 8, 31), "24"),
        ("FI", S, date(2024, 9, 1), "25.5"),
        ("DK", S, date(2024, 5, 1), "25"),
        ("SE", R, date(2024, 5, 1), "12"),
        ("SE", R2, date(2024, 5, 1), "6"),
        ("NO", R2, date(2024, 5, 1), "12"),
    ],
)
def test_percent_for_answers_the_rate_of_the_day(
    country: str, category: VatCategory, day: date, percent: str
) -> None:
    assert DEFAULT_VAT_RATES.percent_for(country, category, day) == Decimal(percent)


@pytest.mark.parametrize("category", [Z, X])
def test_zero_and_exempt_are_zero_everywhere(category: VatCategory) -> None:
    assert DEFAULT_VAT_RATES.percent_for("XX", category, date(1900, 1, 1)) == 0


def test_missing_rate_says_what_is_missing_and_what_to_do() -> None:
    with pytest.raises(ValidationError) as caught:
        DEFAULT_VAT_RATES.percent_for("DK", R, date(2024, 5, 1))
    message = str(caught.value)
    assert "no reduced VAT rate is known for DK on 2024-05-01" in message
    assert "add it to the VAT rate table" in message


def test_missing_rate_before_the_first_known_date() -> None:
    with pytest.raises(ValidationError, match="standard VAT rate is known for NL on 2000-12-31"):
        DEFAULT_VAT_RATES.percent_for("NL", S, date(2000, 12, 31))


def test_valid_until_is_exclusive_in_a_custom_table() -> None:
    table = VatRateTable((VatRate("XY", S, Decimal(10), date(2020, 1, 1), date(2021, 1, 1)),))
    assert table.percent_for("XY", S, date(2020, 1, 1)) == 10
    assert table.percent_for("XY", S, date(2020, 12, 31)) == 10
    with pytest.raises(ValidationError):
        table.percent_for("XY", S, date(2021, 1, 1))
    with pytest.raises(ValidationError):
        table.percent_for("XY", S, date(2019, 12, 31))


# treatment ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seller", "buyer", "vat_number", "expected"),
    [
        ("DK", "DK", None, VatTreatment.DOMESTIC),
        ("DK", "DK", "DK13585628", VatTreatment.DOMESTIC),
        ("DK", "SE", "SE556000016701", VatTreatment.EU_REVERSE_CHARGE),
        ("DK", "NL", "NL004495445B01", VatTreatment.EU_REVERSE_CHARGE),
        ("DK", "SE", None, VatTreatment.DOMESTIC),
        ("DK", "SE", "", VatTreatment.DOMESTIC),
        ("DK", "NO", None, VatTreatment.EXPORT),
        ("DK", "NO", "NO974760673MVA", VatTreatment.EXPORT),
        ("SE", "US", None, VatTreatment.EXPORT),
    ],
)
def test_vat_treatment(
    seller: str, buyer: str, vat_number: str | None, expected: VatTreatment
) -> None:
    assert vat_treatment(seller, buyer, vat_number) is expected


# document VAT, examples -----------------------------------------------------------------------


def dkk(amount: str) -> Money:
    return Money.of(amount, "DKK")


def test_document_vat_rounds_once_per_category_not_per_line() -> None:
    # Per line 50.01 × 25 % = 12.5025 → 12.50 twice = 25.00; the rule gives 100.02 → 25.005 → 25.01
    vat_lines = document_vat(
        [(S, dkk("50.01")), (S, dkk("50.01")), (Z, dkk("10.00"))],
        country="DK",
        day=date(2024, 5, 1),
        treatment=VatTreatment.DOMESTIC,
        currency="DKK",
    )
    assert [(v.category, v.percent, v.net, v.vat) for v in vat_lines] == [
        (S, Decimal(25), dkk("100.02"), dkk("25.01")),
        (Z, Decimal(0), dkk("10.00"), dkk("0.00")),
    ]


@pytest.mark.parametrize("treatment", [VatTreatment.EU_REVERSE_CHARGE, VatTreatment.EXPORT])
def test_document_vat_is_zero_when_not_domestic(treatment: VatTreatment) -> None:
    # DK has no reduced rate; without domestic VAT the table is not even asked.
    vat_lines = document_vat(
        [(S, dkk("100.00")), (R, dkk("50.00"))],
        country="DK",
        day=date(2024, 5, 1),
        treatment=treatment,
        currency="DKK",
    )
    assert [(v.category, v.percent, v.net, v.vat) for v in vat_lines] == [
        (S, Decimal(0), dkk("100.00"), dkk("0.00")),
        (R, Decimal(0), dkk("50.00"), dkk("0.00")),
    ]


def test_document_vat_uses_the_rate_of_the_tax_date() -> None:
    def vat_on(day: date) -> Money:
        (line,) = document_vat(
            [(S, Money.of("100.00", "EUR"))],
            country="DE",
            day=day,
            treatment=VatTreatment.DOMESTIC,
            currency="EUR",
        )
        return line.vat

    assert vat_on(date(2020, 6, 30)) == Money.of("19.00", "EUR")
    assert vat_on(date(2020, 7, 1)) == Money.of("16.00", "EUR")


def test_document_vat_refuses_a_category_without_a_rate() -> None:
    with pytest.raises(ValidationError, match="no reduced VAT rate is known for DK"):
        document_vat(
            [(R, dkk("1.00"))],
            country="DK",
            day=date(2024, 5, 1),
            treatment=VatTreatment.DOMESTIC,
            currency="DKK",
        )


# document VAT, properties ---------------------------------------------------------------------

# Rates written out here independently of the table under test.
RATES: dict[tuple[str, VatCategory], Fraction] = {
    ("SE", S): Fraction(25),
    ("SE", R): Fraction(12),
    ("SE", R2): Fraction(6),
    ("FI", S): Fraction(51, 2),
    ("FI", R): Fraction(14),
    ("FI", R2): Fraction(10),
}
SELLERS = {"SE": ("SEK", date(2024, 5, 1)), "FI": ("EUR", date(2024, 10, 1))}


def _half_up(value: Fraction) -> int:
    magnitude = math.floor(abs(value) + Fraction(1, 2))
    return -magnitude if value < 0 else magnitude


def _invoice(country: str, lines: list[InvoiceLine]) -> Invoice:
    currency, day = SELLERS[country]
    return Invoice(
        legal_entity_id=1,
        customer_id=1,
        currency=currency,
        invoice_date=day,
        due_date=day,
        seller_country=country,
        lines=tuple(lines),
    )


@st.composite
def _lines(draw: st.DrawFn, *, currency: str, exact: bool) -> InvoiceLine:
    """A line; ``exact`` lines have integer quantities and no discount (amount = qty × price)."""
    if exact:
        quantity = Decimal(draw(st.integers(1, 50)))
        discount = Decimal(0)
    else:
        quantity = Decimal(draw(st.integers(1, 100_000))).scaleb(-2)
        discount = Decimal(draw(st.integers(0, 10_000))).scaleb(-2)
    if draw(st.integers(0, 4)) == 0:
        quantity = -quantity  # a deduction line
    return InvoiceLine(
        kind=draw(st.sampled_from([LineKind.WORK, LineKind.EXPENSE, LineKind.PRODUCT])),
        description="line",
        quantity=quantity,
        unit_price=Money.from_minor_units(draw(st.integers(0, 10**7)), currency),
        discount_percent=discount,
        vat_category=draw(st.sampled_from([S, R, R2, Z, X])),
    )


@st.composite
def documents(draw: st.DrawFn, *, exact: bool = False) -> tuple[str, list[InvoiceLine]]:
    country = draw(st.sampled_from(sorted(SELLERS)))
    currency = SELLERS[country][0]
    lines = draw(st.lists(_lines(currency=currency, exact=exact), min_size=1, max_size=12))
    return country, lines


def _minor(amount: Decimal) -> Fraction:
    return Fraction(amount) * 100


@given(documents())
def test_vat_per_category_follows_the_documented_rule(
    document: tuple[str, list[InvoiceLine]],
) -> None:
    country, lines = document
    totals = _invoice(country, lines).compute_totals()

    expected_net: dict[VatCategory, int] = {}
    for line in lines:
        # Line amount: quantity × unit price × (1 − discount %), rounded half up (minor units).
        exact = _minor(line.unit_price.amount) * Fraction(line.quantity)
        net = _half_up(exact * (1 - Fraction(line.discount_percent) / 100))
        expected_net[line.vat_category] = expected_net.get(line.vat_category, 0) + net

    assert {v.category for v in totals.vat_lines} == set(expected_net)
    for vat_line in totals.vat_lines:
        rate = RATES.get((country, vat_line.category), Fraction(0))
        net = expected_net[vat_line.category]
        assert vat_line.percent == Decimal(rate.numerator) / rate.denominator
        assert vat_line.net.minor_units == net
        assert vat_line.vat.minor_units == _half_up(net * rate / 100)
    assert totals.net.minor_units == sum(expected_net.values())
    assert totals.vat.minor_units == sum(v.vat.minor_units for v in totals.vat_lines)
    assert totals.gross == totals.net + totals.vat


@given(documents(), st.data())
def test_vat_does_not_depend_on_line_order(
    document: tuple[str, list[InvoiceLine]], data: st.DataObject
) -> None:
    country, lines = document
    shuffled = data.draw(st.permutations(lines), label="reordered lines")
    assert _invoice(country, shuffled).compute_totals() == _invoice(country, lines).compute_totals()


@given(documents(exact=True), st.data())
def test_vat_does_not_change_when_a_line_is_split(
    document: tuple[str, list[InvoiceLine]], data: st.DataObject
) -> None:
    country, lines = document
    splittable = [i for i, line in enumerate(lines) if abs(line.quantity) >= 2]
    assume(splittable)
    index = data.draw(st.sampled_from(splittable), label="line to split")
    line = lines[index]
    size = int(abs(line.quantity))
    first = Decimal(data.draw(st.integers(1, size - 1), label="first part")).copy_sign(
        line.quantity
    )
    second = line.quantity - first
    parts = [
        InvoiceLine(
            kind=line.kind,
            description=line.description,
            quantity=quantity,
            unit_price=line.unit_price,
            vat_category=line.vat_category,
        )
        for quantity in (first, second)
    ]
    split = [*lines[:index], *parts, *lines[index + 1 :]]
    assert parts[0].net_amount + parts[1].net_amount == line.net_amount  # the premise

    assert _invoice(country, split).compute_totals() == _invoice(country, lines).compute_totals()
