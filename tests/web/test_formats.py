"""Formats a person expects (issue 14 item 9): amounts, dates and times in the reader's locale
(da, sv, nl, en), the currency always named, every time with its zone; the locale is the
user's own setting ('ledgerlink users set-locale'), else the browser's Accept-Language."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from jinja2 import Environment
from typer.testing import CliRunner

from ledgerlink.cli.app import app
from ledgerlink.domain.errors import ValidationError
from ledgerlink.domain.money import Money
from ledgerlink.domain.users import Role
from ledgerlink.store.database import Database
from ledgerlink.store.uow import UnitOfWork
from ledgerlink.web import formats
from ledgerlink.web.formats import day, from_accept_language, moment, money, preferences
from ledgerlink.web.users import set_formats
from tests.web.support import build_console
from tests.web.test_api import add_user

NBSP = "\xa0"


def plain(text: str) -> str:
    """Babel separates with no-break spaces (a wrapped amount stays whole)."""
    return text.replace(NBSP, " ").replace("\u202f", " ")


# amounts ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "currency", "expected"),
    [
        ("da", "DKK", "1.234,50 kr."),
        ("da", "SEK", "1.234,50 SEK"),  # "kr" alone would not say which crowns
        ("da", "EUR", "1.234,50 EUR"),
        ("sv", "SEK", "1 234,50 kr"),
        ("sv", "DKK", "1 234,50 DKK"),
        ("nl", "EUR", "€ 1.234,50"),
        ("nl", "DKK", "DKK 1.234,50"),
        ("en", "DKK", "DKK 1,234.50"),
        ("en", "EUR", "EUR 1,234.50"),
        ("en", "GBP", "GBP 1,234.50"),
    ],
)
def test_an_amount_reads_as_in_the_locale_with_its_currency_named(
    locale: str, currency: str, expected: str
) -> None:
    assert plain(money(Decimal("1234.50"), currency, locale)) == expected


def test_negative_amounts_currencies_without_decimals_and_big_numbers() -> None:
    assert plain(money(Decimal("-1234.5"), "DKK", "da")) == "-1.234,50 kr."
    assert plain(money(Decimal("-1234.5"), "SEK", "en")) == "-SEK 1,234.50"
    assert plain(money(1000, "JPY", "da")) == "1.000 JPY"  # the currency's own decimals
    assert plain(money(Decimal("1234567.89"), "SEK", "sv")) == "1 234 567,89 kr"
    assert plain(money(Decimal("0"), "EUR", "nl")) == "€ 0,00"


def test_an_unknown_locale_formats_as_english() -> None:
    assert plain(money(Decimal("1234.50"), "DKK", "fr")) == "DKK 1,234.50"


# dates and times --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("da", "31.08.2026"), ("sv", "2026-08-31"), ("nl", "31-08-2026"), ("en", "31/08/2026")],
)
def test_a_date_in_the_locales_short_form_with_four_digit_years(locale: str, expected: str) -> None:
    assert day(date(2026, 8, 31), locale) == expected
    assert day(datetime(2026, 8, 31, 23, 0, tzinfo=UTC), locale) == expected
    assert day(None, locale) == ""


def test_a_time_always_says_its_zone() -> None:
    noon = datetime(2026, 8, 31, 12, 5, 3, tzinfo=UTC)
    assert moment(noon, "da") == "31.08.2026 12.05.03 UTC"
    assert moment(noon, "en") == "31/08/2026 12:05:03 UTC"
    assert moment(noon, "da", "Europe/Copenhagen") == "31.08.2026 14.05.03 CEST"
    assert moment(noon.replace(month=1), "nl", "Europe/Amsterdam") == "31-01-2026 13:05:03 CET"
    assert moment(noon, "sv", "America/New_York") == "2026-08-31 08:05:03 EDT"
    # A zone without an abbreviation says its offset from UTC.
    assert moment(noon, "en", "America/Sao_Paulo") == "31/08/2026 09:05:03 UTC-03"
    # SQLite's naive datetimes are UTC.
    assert moment(noon.replace(tzinfo=None), "da", "Europe/Copenhagen").endswith("14.05.03 CEST")
    # After midnight in the reader's zone the date moves on too.
    late = datetime(2026, 8, 31, 23, 30, tzinfo=UTC)
    assert moment(late, "da", "Europe/Copenhagen") == "01.09.2026 01.30.00 CEST"
    assert moment(None) == ""


# whose locale -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("da-DK,da;q=0.9,en;q=0.8", "da"),
        ("fr-FR, sv-SE;q=0.5, en;q=0.4", "sv"),
        ("en;q=0.5,nl;q=0.9", "nl"),  # by q-value, not by order
        ("en-US,nl;q=0.9", "en"),
        ("nl-BE", "nl"),
        ("da;q=0, en", "en"),  # q=0: not wanted
        ("fr, de", None),
        ("", None),
        (None, None),
        ("*", None),
        ("da;q=abc, sv", "sv"),
    ],
)
def test_the_browsers_language(header: str | None, expected: str | None) -> None:
    assert from_accept_language(header) == expected


def test_the_users_setting_wins_over_the_browser_and_english_is_the_last_resort() -> None:
    assert preferences("sv", None, "da-DK") == formats.Preferences("sv", "UTC")
    assert preferences(None, "Europe/Copenhagen", "da-DK") == formats.Preferences(
        "da", "Europe/Copenhagen"
    )
    assert preferences(None, None, "fr") == formats.Preferences("en", "UTC")
    assert preferences("xx", "Mars/Olympus", None) == formats.Preferences("en", "UTC")


def test_a_locale_or_zone_that_is_none_is_refused_with_the_choices() -> None:
    assert formats.locale_tag("da-DK") == "da"
    assert formats.locale_tag("SV_se") == "sv"
    with pytest.raises(ValidationError, match="da, sv, nl, en"):
        formats.locale_tag("fr")
    assert formats.zone_name("Europe/Copenhagen") == "Europe/Copenhagen"
    assert formats.zone_name("utc") == "UTC"
    with pytest.raises(ValidationError, match="IANA"):
        formats.zone_name("CEST")


def test_the_jinja_filters_read_the_pages_locale_and_zone() -> None:
    environment = Environment(autoescape=True)
    formats.install(environment)
    template = environment.from_string(
        "{{ total | money }}|{{ 5 | money('EUR') }}|{{ none_ | money }}|{{ posted | day }}|"
        "{{ started | moment }}"
    )
    values = {
        "total": Money(Decimal("1234.50"), "DKK"),
        "none_": None,
        "posted": date(2026, 8, 31),
        "started": datetime(2026, 8, 31, 12, 0, tzinfo=UTC),
    }
    danish = template.render(**values, **formats.context(formats.Preferences("da", "UTC")))
    assert plain(danish) == "1.234,50 kr.|5,00 EUR||31.08.2026|31.08.2026 12.00.00 UTC"
    bare = template.render(**values)  # no preferences in the context: English, UTC
    assert plain(bare) == "DKK 1,234.50|EUR 5.00||31/08/2026|31/08/2026 12:00:00 UTC"


# in the console ---------------------------------------------------------------------------------


def test_the_console_formats_by_the_users_setting_else_the_browsers_language(
    database: Database, tmp_path: Path
) -> None:
    console = build_console(database, tmp_path)
    sent, invoice = console.hub.invoices  # the first goes, the second stays in the table
    gross = invoice.current_totals().gross
    assert gross.currency == "SEK"  # the sample's Swedish customer
    with console.client(Role.FINANCE) as browser:
        browser.http.post(
            "/transfers/transfer",
            data={
                "csrf_token": browser.csrf,
                "connection": console.connection_id,
                "invoice": [sent.number],
            },
        )
        danish = browser.http.get("/transfers", headers={"Accept-Language": "da-DK,da;q=0.9"})
        assert plain(money(gross.amount, "SEK", "da")) in plain(danish.text)  # "… SEK"
        assert "31.08.2026" in danish.text
        english = browser.http.get("/transfers")
        assert plain(money(gross.amount, "SEK", "en")) in plain(english.text)
        assert "31/08/2026" in english.text
        set_formats(
            lambda: UnitOfWork(database), "finance", locale="sv", time_zone="Europe/Stockholm"
        )
        swedish = browser.http.get("/transfers", headers={"Accept-Language": "da"})
        assert "2026-08-31" in swedish.text  # the user's setting wins
        assert plain(money(gross.amount, "SEK", "sv")) in plain(swedish.text)  # "… kr"
        log = plain(browser.http.get("/log").text)
        assert "CEST" in log or "CET" in log  # the log's times say their zone
        transaction = browser.http.get("/log/1/steps")
        assert "CEST" in transaction.text or "CET" in transaction.text


def test_users_set_locale_sets_and_clears_and_refuses_what_is_no_locale(
    tmp_path: Path, sqlite_template: Path
) -> None:
    shutil.copy(sqlite_template, tmp_path / "ledgerlink.db")
    database = Database(f"sqlite:///{tmp_path / 'ledgerlink.db'}")
    add_user(database, "eva", Role.FINANCE)
    base = ["--data-dir", str(tmp_path), "users"]
    runner = CliRunner()
    made = runner.invoke(
        app, [*base, "set-locale", "eva", "da-DK", "--time-zone", "Europe/Copenhagen"]
    )
    assert made.exit_code == 0, made.output
    assert "da" in made.output and "Europe/Copenhagen" in made.output
    with UnitOfWork(database) as uow:
        eva = uow.users.by_name("eva")
        assert eva is not None
        assert (eva.locale, eva.time_zone) == ("da", "Europe/Copenhagen")
    cleared = runner.invoke(app, [*base, "set-locale", "eva", ""])
    assert cleared.exit_code == 0, cleared.output
    with UnitOfWork(database) as uow:
        eva = uow.users.by_name("eva")
        assert eva is not None
        assert (eva.locale, eva.time_zone) == (None, "Europe/Copenhagen")
    refused = runner.invoke(app, [*base, "set-locale", "eva", "fr"])
    assert refused.exit_code != 0
    assert "da, sv, nl, en" in refused.output
    database.dispose()
