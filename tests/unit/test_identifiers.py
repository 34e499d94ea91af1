"""Business identifiers: VAT numbers, company registration numbers and EAN/GLN numbers."""

from __future__ import annotations

import pytest

from ledgerlink.domain import identifiers
from ledgerlink.domain.errors import ValidationError


@pytest.mark.parametrize(("value", "expected"), [("dk", "DK"), (" se ", "SE"), ("NL", "NL")])
def test_country_code_is_normalised(value: str, expected: str) -> None:
    assert identifiers.country_code(value) == expected


@pytest.mark.parametrize("value", ["DNK", "D", "", "D1", "Danmark"])
def test_country_code_must_be_two_letters(value: str) -> None:
    with pytest.raises(ValidationError, match=f"'{value}' is not a two-letter ISO country code"):
        identifiers.country_code(value)


@pytest.mark.parametrize("value", ["QQ", "XX", "ZZ", "EU", "XK"])
def test_country_code_must_be_assigned_by_iso_3166(value: str) -> None:
    with pytest.raises(ValidationError, match=f"'{value}' is not an ISO 3166 country code"):
        identifiers.country_code(value)


def test_every_iso_3166_country_is_known() -> None:
    # 249 codes are assigned (ISO 3166-1, 2024); a sample of the less common ones.
    assert [identifiers.country_code(code) for code in ("AQ", "AX", "BQ", "SS", "GS")]


# VAT numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "value", "expected"),
    [
        ("DK", "DK 13 58 56 28", "DK13585628"),
        ("DK", "13585628", "DK13585628"),
        ("DK", "dk13585628", "DK13585628"),
        ("SE", "SE556000016701", "SE556000016701"),
        ("SE", "556000-016701", "SE556000016701"),
        ("NL", "NL004495445B01", "NL004495445B01"),
        ("NL", "NL.0044.95445.B01", "NL004495445B01"),
        ("NO", "NO 974 760 673 MVA", "974760673MVA"),
    ],
)
def test_valid_vat_numbers_are_normalised(country: str, value: str, expected: str) -> None:
    assert identifiers.vat_number(country, value) == expected


@pytest.mark.parametrize(
    ("country", "value"),
    [
        ("DK", "DK 13 58 56 29"),
        ("SE", "SE556000016801"),
        ("NL", "NL004495446B01"),
        ("NO", "NO974760674MVA"),
        # A Swedish number is not a Danish VAT number.
        ("DK", "SE556000016701"),
    ],
)
def test_invalid_vat_numbers_are_refused_naming_the_number_and_country(
    country: str, value: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        identifiers.vat_number(country, value)
    assert f"'{value}' is not a valid {country} VAT number" in str(caught.value)


def test_bad_check_digit_is_reported_as_such() -> None:
    with pytest.raises(ValidationError, match="check digit"):
        identifiers.vat_number("DK", "DK13585627")


# registration numbers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "value", "expected"),
    [
        ("DK", "13585628", "13585628"),
        ("DK", " 13 58 56 28 ", "13585628"),
        ("SE", "5560000167", "5560000167"),
        ("SE", "556000-0167", "5560000167"),
        ("NO", "974760673", "974760673"),
        ("NL", "1234 5678", "12345678"),
        # A country without a known format is passed through, stripped.
        ("US", " 12-3456789 ", "12-3456789"),
    ],
)
def test_valid_registration_numbers(country: str, value: str, expected: str) -> None:
    assert identifiers.registration_number(country, value) == expected


@pytest.mark.parametrize(
    ("country", "value"),
    [("DK", "13585627"), ("DK", "1358562"), ("SE", "5560000168"), ("NO", "974760674")],
)
def test_invalid_registration_numbers_name_the_identifier(country: str, value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        identifiers.registration_number(country, value)
    assert f"'{value}' is not a valid {country} company registration number" in str(caught.value)


@pytest.mark.parametrize("value", ["1234567", "123456789", "1234567A"])
def test_nl_kvk_number_must_be_8_digits(value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        identifiers.registration_number("NL", value)
    assert str(caught.value) == f"'{value}' is not a KvK number of 8 digits"


# EAN / GLN ------------------------------------------------------------------------------------


def test_valid_location_number() -> None:
    assert identifiers.location_number(" 5790000000005 ") == "5790000000005"


def test_location_number_with_bad_check_digit_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        identifiers.location_number("5790000000006")
    message = str(caught.value)
    assert "'5790000000006' is not a valid EAN/GLN number" in message
    assert "check digit" in message


def test_location_number_must_have_13_digits() -> None:
    # A valid EAN-8 is still not a location number.
    with pytest.raises(ValidationError, match="not a 13-digit EAN/GLN location number"):
        identifiers.location_number("12345670")


def test_eu_countries_include_the_members_and_not_norway() -> None:
    assert {"DK", "SE", "FI", "NL", "DE", "GR"} <= identifiers.EU_COUNTRIES
    assert not {"NO", "GB", "CH", "IS"} & identifiers.EU_COUNTRIES
    assert len(identifiers.EU_COUNTRIES) == 27
