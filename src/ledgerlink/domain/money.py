"""Money: an exact amount in one ISO 4217 currency.

Every ``Money`` is exact to the currency's minor unit (øre, cent, …). Arithmetic that can
produce more digits (quantity × price, percentages, VAT) goes through ``Money.rounded``, which
rounds ROUND_HALF_UP; the places that do so are named in :class:`RoundingPoint` so the
rounding rule of a document can be read in one place.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache, lru_cache

from babel.numbers import get_currency_precision, list_currencies

from ledgerlink.domain.errors import ValidationError


class RoundingPoint(enum.Enum):
    """Where a computed amount is rounded to the currency's minor unit (always ROUND_HALF_UP)."""

    LINE_AMOUNT = "line amount: quantity × unit price × (1 − discount %)"
    VAT_PER_CATEGORY = "document VAT: sum of net line amounts per VAT category × rate"
    HOURS = "hours on an invoice line: total minutes / 60, to 2 decimals"
    EXPENSE_AMOUNT = "expense amount: quantity × unit price"
    ERP_VAT = "the VAT an ERP shows, rounded where that ERP rounds (domain.totals)"


@lru_cache(maxsize=1)
def _known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def currency_code(code: str) -> str:
    """Return the ISO 4217 code in upper case, or raise if it is not a known currency."""
    normalised = code.strip().upper()
    if normalised not in _known_currencies():
        raise ValidationError(f"'{code}' is not an ISO 4217 currency code (e.g. DKK, SEK, EUR)")
    return normalised


@cache
def minor_unit_exponent(currency: str) -> int:
    """Number of decimals of the currency's minor unit (2 for DKK, 0 for JPY)."""
    return int(get_currency_precision(currency_code(currency)))


def to_decimal(value: Decimal | int | str) -> Decimal:
    """Parse an exact decimal; floats are refused because they are not exact."""
    if isinstance(value, float):
        raise TypeError("money and quantities are never floats; pass a str or Decimal")
    try:
        result = (
            Decimal(value.strip().replace(" ", "")) if isinstance(value, str) else Decimal(value)
        )
    except InvalidOperation:
        raise ValidationError(f"'{value}' is not a number") from None
    if not result.is_finite():
        raise ValidationError(f"'{value}' is not a finite number")
    return result


#: The store keeps an amount as a 64-bit integer of minor units; anything this large is a typo.
MAX_MINOR_UNITS_DIGITS = 18


def _check_size(amount: Decimal, currency: str, exponent: int) -> None:
    # adjusted() is the power of ten of the leading digit: no arithmetic that could overflow.
    if amount and amount.adjusted() + exponent >= MAX_MINOR_UNITS_DIGITS:
        limit = Decimal(1).scaleb(MAX_MINOR_UNITS_DIGITS - exponent)
        raise ValidationError(f"{amount} {currency} is too large (an amount is below {limit:,f})")


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount of one currency, always representable in its minor units."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        currency = currency_code(self.currency)
        amount = to_decimal(self.amount)
        exponent = minor_unit_exponent(currency)
        _check_size(amount, currency, exponent)
        quantum = Decimal(1).scaleb(-exponent)
        if amount != amount.quantize(quantum, rounding=ROUND_HALF_UP):
            raise ValidationError(
                f"{amount} {currency} has more decimals than the currency allows ({exponent})"
            )
        object.__setattr__(self, "currency", currency)
        object.__setattr__(self, "amount", amount.quantize(quantum))

    # construction -------------------------------------------------------------------------
    @classmethod
    def of(cls, amount: Decimal | int | str, currency: str) -> Money:
        """Exact constructor that accepts str/int/Decimal; refuses excess decimals."""
        return cls(to_decimal(amount), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    @classmethod
    def rounded(cls, value: Decimal, currency: str, *, at: RoundingPoint) -> Money:
        """Round ``value`` ROUND_HALF_UP to the minor unit; ``at`` names why we round here."""
        del at  # the name documents the call site; the rule is the same everywhere
        exponent = minor_unit_exponent(currency)
        _check_size(value, currency_code(currency), exponent)
        quantum = Decimal(1).scaleb(-exponent)
        return cls(value.quantize(quantum, rounding=ROUND_HALF_UP), currency)

    @classmethod
    def from_minor_units(cls, minor_units: int, currency: str) -> Money:
        return cls(Decimal(minor_units).scaleb(-minor_unit_exponent(currency)), currency)

    # conversion ---------------------------------------------------------------------------
    @property
    def minor_units(self) -> int:
        """The amount as an integer count of minor units (how the store keeps money)."""
        return int(self.amount.scaleb(minor_unit_exponent(self.currency)))

    def __str__(self) -> str:
        return f"{self.amount:,} {self.currency}"

    # arithmetic ---------------------------------------------------------------------------
    def _same_currency(self, other: Money) -> None:
        if self.currency != other.currency:
            raise ValidationError(f"cannot combine {self.currency} and {other.currency} amounts")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount <= other.amount

    def is_zero(self) -> bool:
        return self.amount == 0

    def multiply(self, factor: Decimal, *, at: RoundingPoint) -> Money:
        """``self × factor``, rounded at the named point."""
        return Money.rounded(self.amount * factor, self.currency, at=at)

    def allocate(self, weights: Sequence[Decimal | int]) -> list[Money]:
        """Split into parts proportional to ``weights`` that sum exactly to ``self``.

        Largest-remainder method on minor units: each part gets the floor of its share, and
        the leftover minor units go one each to the parts with the largest remainders (ties
        to the earlier part). Works for negative amounts by allocating the absolute value.
        """
        if not weights:
            raise ValidationError("cannot allocate over zero parts")
        decimal_weights = [Decimal(w) for w in weights]
        if any(w < 0 for w in decimal_weights):
            raise ValidationError("allocation weights must not be negative")
        total_weight = sum(decimal_weights, Decimal(0))
        if total_weight == 0:
            raise ValidationError("allocation weights must not all be zero")
        sign = -1 if self.minor_units < 0 else 1
        units = abs(self.minor_units)
        shares = [units * w / total_weight for w in decimal_weights]
        floors = [int(share) for share in shares]
        leftover = units - sum(floors)
        by_remainder = sorted(range(len(shares)), key=lambda i: (-(shares[i] - floors[i]), i))
        for index in by_remainder[:leftover]:
            floors[index] += 1
        return [Money.from_minor_units(sign * part, self.currency) for part in floors]


def total(amounts: Iterable[Money], currency: str) -> Money:
    """Sum of ``amounts`` (all in ``currency``); zero when empty."""
    result = Money.zero(currency)
    for amount in amounts:
        result = result + amount
    return result
