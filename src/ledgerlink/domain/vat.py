"""VAT: rates as dated data per country and category, and the VAT of a document.

The documented rule (also in the README): a document's VAT is computed **per VAT category**
on the sum of the net line amounts of that category, multiplied by the category's rate on the
invoice date and rounded once, ROUND_HALF_UP, to the minor unit. Lines are never rounded for
VAT individually, so the VAT of a document does not depend on how its lines are split.

Which rate applies depends on the VAT treatment of the sale (seller country, buyer country,
buyer VAT number): domestic sales use the seller country's rate for the line's category; B2B
sales to another EU country are reverse charged (0 %, buyer accounts for VAT); sales to buyers
outside the EU are treated as exports (0 %).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ledgerlink.domain.errors import ValidationError
from ledgerlink.domain.identifiers import EU_COUNTRIES
from ledgerlink.domain.money import Money, RoundingPoint


class VatCategory(enum.StrEnum):
    """The VAT category of a line, as the seller's country defines its rates."""

    STANDARD = "standard"
    REDUCED = "reduced"
    SECOND_REDUCED = "second_reduced"
    ZERO = "zero"
    EXEMPT = "exempt"


class VatTreatment(enum.StrEnum):
    """How the sale as a whole is taxed."""

    DOMESTIC = "domestic"
    EU_REVERSE_CHARGE = "eu_reverse_charge"
    EXPORT = "export"


@dataclass(frozen=True, slots=True)
class VatRate:
    """One rate of one category in one country, valid from a date up to (excluding) another."""

    country: str
    category: VatCategory
    percent: Decimal
    valid_from: date
    valid_until: date | None = None

    def applies_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day < self.valid_until)


@dataclass(frozen=True, slots=True)
class VatRateTable:
    """Dated VAT rates; ``percent_for`` answers 'which rate applied on that day'."""

    rates: tuple[VatRate, ...]

    def percent_for(self, country: str, category: VatCategory, day: date) -> Decimal:
        if category in (VatCategory.ZERO, VatCategory.EXEMPT):
            return Decimal(0)
        for rate in self.rates:
            if rate.country == country and rate.category == category and rate.applies_on(day):
                return rate.percent
        raise ValidationError(
            f"no {category.value} VAT rate is known for {country} on {day.isoformat()}; "
            "add it to the VAT rate table or use another VAT category"
        )


def _rate(
    country: str, category: VatCategory, percent: str, start: str, end: str | None = None
) -> VatRate:
    return VatRate(
        country,
        category,
        Decimal(percent),
        date.fromisoformat(start),
        date.fromisoformat(end) if end else None,
    )


_S, _R, _R2 = VatCategory.STANDARD, VatCategory.REDUCED, VatCategory.SECOND_REDUCED

#: Rates of the countries our ERPs serve (and their neighbours), with their history where it
#: changed recently enough to matter for open invoices and credit notes.
DEFAULT_VAT_RATES = VatRateTable(
    (
        _rate("DK", _S, "25", "1992-01-01"),
        _rate("SE", _S, "25", "1990-07-01"),
        _rate("SE", _R, "12", "1996-01-01"),
        _rate("SE", _R2, "6", "1996-01-01"),
        _rate("NO", _S, "25", "2005-01-01"),
        _rate("NO", _R, "15", "2012-01-01"),
        _rate("NO", _R2, "12", "2018-01-01"),
        _rate("NL", _S, "19", "2001-01-01", "2012-10-01"),
        _rate("NL", _S, "21", "2012-10-01"),
        _rate("NL", _R, "6", "1986-10-01", "2019-01-01"),
        _rate("NL", _R, "9", "2019-01-01"),
        _rate("DE", _S, "19", "2007-01-01", "2020-07-01"),
        _rate("DE", _S, "16", "2020-07-01", "2021-01-01"),
        _rate("DE", _S, "19", "2021-01-01"),
        _rate("DE", _R, "7", "1983-07-01", "2020-07-01"),
        _rate("DE", _R, "5", "2020-07-01", "2021-01-01"),
        _rate("DE", _R, "7", "2021-01-01"),
        _rate("FI", _S, "24", "2013-01-01", "2024-09-01"),
        _rate("FI", _S, "25.5", "2024-09-01"),
        _rate("FI", _R, "14", "2013-01-01"),
        _rate("FI", _R2, "10", "2013-01-01"),
    )
)


def vat_treatment(
    seller_country: str, buyer_country: str, buyer_vat_number: str | None
) -> VatTreatment:
    """Domestic, EU reverse charge (B2B with a VAT number in another EU country) or export."""
    if buyer_country == seller_country:
        return VatTreatment.DOMESTIC
    if buyer_country in EU_COUNTRIES:
        if seller_country in EU_COUNTRIES and buyer_vat_number:
            return VatTreatment.EU_REVERSE_CHARGE
        return VatTreatment.DOMESTIC
    return VatTreatment.EXPORT


@dataclass(frozen=True, slots=True)
class VatLine:
    """The VAT of one category on a document."""

    category: VatCategory
    percent: Decimal
    net: Money
    vat: Money


def document_vat(
    lines: Iterable[tuple[VatCategory, Money]],
    *,
    country: str,
    day: date,
    treatment: VatTreatment,
    currency: str,
    table: VatRateTable = DEFAULT_VAT_RATES,
) -> tuple[VatLine, ...]:
    """VAT per category for ``lines`` of (category, net amount) — see the module docstring."""
    nets: dict[VatCategory, Money] = {}
    for category, net in lines:
        nets[category] = nets.get(category, Money.zero(currency)) + net
    result: list[VatLine] = []
    for category in VatCategory:
        if category not in nets:
            continue
        percent = (
            table.percent_for(country, category, day)
            if treatment is VatTreatment.DOMESTIC
            else Decimal(0)
        )
        vat = nets[category].multiply(percent / 100, at=RoundingPoint.VAT_PER_CATEGORY)
        result.append(VatLine(category, percent, nets[category], vat))
    return tuple(result)
