"""The values a page's query string or form gives, read the same way on every page: empty
means not given, anything else must be what it claims, or a one-line error says what to type."""

from __future__ import annotations

from datetime import date

from ledgerlink.domain.errors import ValidationError


def whole_number(value: str | None, what: str) -> int | None:
    """``value`` as a whole number (None when empty)."""
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise ValidationError(f"{what} must be a number, not '{value}'") from None


def iso_date(value: str | None, what: str) -> date | None:
    """``value`` as a YYYY-MM-DD date (None when empty)."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{what} must be a date (YYYY-MM-DD), not '{value}'") from None
