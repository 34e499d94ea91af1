"""Amounts, dates and times as a person reading the console expects them (issue 14 item 9):
in their locale (Danish, Swedish, Dutch or English, through Babel), with the currency always
named and every time of day with its time zone.

* **Locale**: the user's own setting (``ledgerlink users set-locale``), else the browser's
  ``Accept-Language``, else English. ``en`` is British English: day before month and a 24-hour
  clock, as finance staff in Europe read them.
* **Amounts**: the locale's number format (``1.234,50`` / ``1 234,50`` / ``1,234.50``). The
  locale's own currency keeps its familiar symbol (``1.234,50 kr.`` in Danish, ``1 234,50 kr``
  in Swedish, ``€ 1.234,50`` in Dutch); every other currency is shown by its ISO code
  (``1.234,50 SEK`` to a Dane: "kr" alone would not say which crowns). English has no own
  currency here: every amount carries its code.
* **Dates**: the locale's short numeric date with a four-digit year (``31.08.2026``,
  ``2026-08-31``, ``31-08-2026``, ``31/08/2026``).
* **Times**: stored in UTC; shown in the user's time zone (UTC unless they chose one) and
  always followed by the zone (``31.08.2026 14.05.03 CEST``, ``… 12:05:03 UTC``).

The Jinja2 filters ``money``, ``day`` and ``moment`` read the locale and zone that
:func:`preferences` put into the page's context.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_currency
from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from ledgerlink.domain.errors import ValidationError

#: The console's languages: the tag a user sets, and the Babel locale it formats with.
LOCALES: Mapping[str, str] = {"da": "da_DK", "sv": "sv_SE", "nl": "nl_NL", "en": "en_GB"}
DEFAULT_LOCALE = "en"
#: The currency a locale's readers know by its symbol alone.
_HOME_CURRENCY: Mapping[str, str] = {"da": "DKK", "sv": "SEK", "nl": "EUR"}
_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Zulu", "Etc/Zulu", "GMT", "Etc/GMT"})
#: The context keys the filters read.
LOCALE_KEY = "locale"
ZONE_KEY = "time_zone"


@dataclass(frozen=True, slots=True)
class Preferences:
    """How one reader's page is formatted: a key of :data:`LOCALES` and an IANA zone."""

    locale: str = DEFAULT_LOCALE
    time_zone: str = "UTC"


def locale_tag(value: str) -> str:
    """``value`` as one of the console's locales (``da``, ``sv``, ``nl``, ``en``; a region
    such as ``da-DK`` or ``sv_SE`` is accepted), or a :class:`ValidationError` naming them."""
    primary = re.split(r"[-_]", value.strip(), maxsplit=1)[0].lower()
    if primary not in LOCALES:
        raise ValidationError(
            f"'{value}' is not a language of the console: use one of {', '.join(LOCALES)}"
        )
    return primary


def zone_name(value: str) -> str:
    """``value`` as an IANA time zone name (``Europe/Copenhagen``, ``UTC``), or a
    :class:`ValidationError` saying so."""
    name = value.strip()
    if name and "/" not in name and name.upper() == "UTC":
        return "UTC"
    if name not in available_timezones():
        raise ValidationError(
            f"'{value}' is not a time zone: use an IANA name such as Europe/Copenhagen or UTC"
        )
    return name


def from_accept_language(header: str | None) -> str | None:
    """The console locale the browser prefers most (``Accept-Language``, by q-value, then
    order), or None when it names none of them."""
    if not header:
        return None
    chosen: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        match = re.search(r"q\s*=\s*([^;\s]*)", params)
        if match:
            try:
                quality = float(match.group(1))
            except ValueError:  # a malformed weight: the entry is left out
                continue
        primary = tag.strip().split("-", 1)[0].lower()
        if quality > 0 and primary in LOCALES:
            chosen.append((-quality, index, primary))
    return min(chosen)[2] if chosen else None


def preferences(
    locale: str | None, time_zone: str | None, accept_language: str | None
) -> Preferences:
    """A reader's formatting: their own settings first, the browser's language next."""
    tag = locale if locale in LOCALES else from_accept_language(accept_language)
    zone = time_zone if time_zone and _zone(time_zone) is not None else "UTC"
    return Preferences(tag or DEFAULT_LOCALE, zone)


def _zone(name: str) -> tzinfo | None:
    try:
        return UTC if name in _UTC_NAMES else ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def money(amount: Decimal | int | str, currency: str, locale: str = DEFAULT_LOCALE) -> str:
    """``amount`` of ``currency`` in ``locale``: the home currency by its symbol, any other
    by its ISO code (see the module's docstring)."""
    tag = locale if locale in LOCALES else DEFAULT_LOCALE
    babel_locale = Locale.parse(LOCALES[tag])
    pattern = babel_locale.currency_formats["standard"].pattern
    code = currency.upper()
    if _HOME_CURRENCY.get(tag) != code:
        # ¤¤ is the ISO code; a code takes a space where a symbol may sit against the digits.
        pattern = pattern.replace("¤", "¤¤")
        pattern = re.sub(r"¤¤(?=[#0-])", "¤¤\xa0", pattern)
        pattern = re.sub(r"(?<=[#0])¤¤", "\xa0¤¤", pattern)
    return format_currency(Decimal(str(amount)), code, pattern, locale=babel_locale)


def day(value: date | datetime | None, locale: str = DEFAULT_LOCALE) -> str:
    """A calendar date in the locale's short numeric form with a four-digit year."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date()
    return format_date(value, _date_pattern(locale), locale=_babel(locale))


def moment(value: datetime | None, locale: str = DEFAULT_LOCALE, time_zone: str = "UTC") -> str:
    """A point in time in ``time_zone`` with the zone written out (``CEST``, ``UTC``). A
    naive datetime is UTC (as SQLite gives stored times back)."""
    if value is None:
        return ""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    zone = _zone(time_zone) or UTC
    babel_locale = _babel(locale)
    local = aware.astimezone(zone)
    shown = (
        f"{format_date(local.date(), _date_pattern(locale), locale=babel_locale)} "
        f"{format_time(local, 'medium', tzinfo=zone, locale=babel_locale)}"
    )
    # The zone's own abbreviation (CET, CEST, EST): the same in every language, unlike CLDR's
    # names ("Eastern Standard Time", "-0500"); a zone without one says its offset from UTC.
    name = local.tzname() or "UTC"
    return f"{shown} {'UTC' + name if name[:1] in '+-' else name}"


def _babel(locale: str) -> Locale:
    return Locale.parse(LOCALES.get(locale, LOCALES[DEFAULT_LOCALE]))


def _date_pattern(locale: str) -> str:
    """The locale's short date pattern with the year in four digits (CLDR's short Danish
    and Dutch dates already have it; this makes sure of it)."""
    pattern = _babel(locale).date_formats["short"].pattern
    return re.sub(r"(?<!y)y{1,2}(?!y)", "y", pattern)


# Jinja2 -----------------------------------------------------------------------------------------
def _prefs(context: Context) -> tuple[str, str]:
    locale = context.get(LOCALE_KEY) or DEFAULT_LOCALE
    zone = context.get(ZONE_KEY) or "UTC"
    return str(locale), str(zone)


@pass_context
def _money_filter(context: Context, value: Any, currency: str | None = None) -> str:
    """``{{ invoice_total | money }}`` (a Money) or ``{{ amount | money("DKK") }}``."""
    if value is None:
        return ""
    locale, _ = _prefs(context)
    if currency is None:
        return money(value.amount, value.currency, locale)
    return money(value, currency, locale)


@pass_context
def _day_filter(context: Context, value: date | datetime | None) -> str:
    return day(value, _prefs(context)[0])


@pass_context
def _moment_filter(context: Context, value: datetime | None) -> str:
    locale, zone = _prefs(context)
    return moment(value, locale, zone)


def install(environment: Environment) -> None:
    """Register the filters ``money``, ``day`` and ``moment`` in ``environment``."""
    environment.filters["money"] = _money_filter
    environment.filters["day"] = _day_filter
    environment.filters["moment"] = _moment_filter


def context(prefs: Preferences) -> dict[str, str]:
    """What a page's context carries for the filters (and ``<html lang>``)."""
    return {LOCALE_KEY: prefs.locale, ZONE_KEY: prefs.time_zone}
