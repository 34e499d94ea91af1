"""Parties: addresses, payment terms, legal entities, customers, contacts and employees."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from ledgerlink.domain.errors import ValidationError
from ledgerlink.domain.parties import (
    Address,
    Contact,
    Customer,
    Employee,
    LegalEntity,
    PaymentTerms,
    PaymentTermsKind,
)

NET, EOM = PaymentTermsKind.NET, PaymentTermsKind.END_OF_MONTH

# payment terms --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "days"),
    [
        ("net 30", NET, 30),
        ("30", NET, 30),
        ("NET 14 days", NET, 14),
        (" 8 day ", NET, 8),
        ("net0", NET, 0),
        ("eom 30", EOM, 30),
        ("EOM 15 days", EOM, 15),
        ("end_of_month 45", EOM, 45),
    ],
)
def test_payment_terms_parse(text: str, kind: PaymentTermsKind, days: int) -> None:
    assert PaymentTerms.parse(text) == PaymentTerms(kind, days)


@pytest.mark.parametrize("text", ["thirty", "net -5", "net 30 weeks", "cod", "", "eom"])
def test_payment_terms_parse_refuses_other_text(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        PaymentTerms.parse(text)
    assert str(caught.value) == f"'{text}' is not payment terms; write e.g. 'net 30' or 'eom 30'"


@pytest.mark.parametrize("days", [-1, 366, 1000])
def test_payment_terms_days_are_bounded(days: int) -> None:
    with pytest.raises(ValidationError, match="between 0 and 365 days"):
        PaymentTerms(NET, days)


def test_payment_terms_parse_applies_the_bounds() -> None:
    with pytest.raises(ValidationError, match="between 0 and 365 days"):
        PaymentTerms.parse("net 400")


def test_payment_terms_defaults_and_text() -> None:
    assert PaymentTerms() == PaymentTerms(NET, 30)
    assert str(PaymentTerms(NET, 14)) == "net 14 days"
    assert str(PaymentTerms(EOM, 30)) == "end of month + 30 days"


@pytest.mark.parametrize(
    ("terms", "invoice_date", "due"),
    [
        (PaymentTerms(NET, 0), date(2024, 3, 15), date(2024, 3, 15)),
        (PaymentTerms(NET, 30), date(2024, 3, 15), date(2024, 4, 14)),
        (PaymentTerms(NET, 30), date(2024, 1, 31), date(2024, 3, 1)),  # leap year: Feb 29
        (PaymentTerms(NET, 30), date(2023, 1, 31), date(2023, 3, 2)),
        (PaymentTerms(NET, 14), date(2024, 12, 20), date(2025, 1, 3)),
        (PaymentTerms(EOM, 0), date(2024, 12, 5), date(2024, 12, 31)),
        (PaymentTerms(EOM, 30), date(2024, 1, 15), date(2024, 3, 1)),
        (PaymentTerms(EOM, 30), date(2024, 2, 10), date(2024, 3, 30)),  # from Feb 29
        (PaymentTerms(EOM, 30), date(2023, 2, 10), date(2023, 3, 30)),  # from Feb 28
        (PaymentTerms(EOM, 30), date(2024, 4, 30), date(2024, 5, 30)),
        (PaymentTerms(EOM, 30), date(2024, 12, 31), date(2025, 1, 30)),
        (PaymentTerms(EOM, 15), date(2100, 2, 1), date(2100, 3, 15)),  # 2100 is no leap year
    ],
)
def test_due_date(terms: PaymentTerms, invoice_date: date, due: date) -> None:
    assert terms.due_date(invoice_date) == due


# addresses ------------------------------------------------------------------------------------


def test_address_drops_blank_lines_and_normalises_the_country() -> None:
    address = Address(lines=(" Vesterbrogade 1 ", "", "   ", "2. sal"), country="dk")
    assert address.lines == ("Vesterbrogade 1", "2. sal")
    assert address.country == "DK"


def test_address_has_at_most_three_lines() -> None:
    with pytest.raises(ValidationError, match="at most three street lines"):
        Address(lines=("a", "b", "c", "d"))


def test_address_refuses_a_bad_country() -> None:
    with pytest.raises(ValidationError, match="two-letter ISO country code"):
        Address(country="Denmark")


# legal entities -------------------------------------------------------------------------------


def _entity(**changes: Any) -> LegalEntity:
    fields: dict[str, Any] = {
        "code": " dk01 ",
        "name": "Nordic Consulting ApS",
        "country": "dk",
        "currency": "dkk",
    }
    return LegalEntity(**(fields | changes))


def test_legal_entity_is_normalised() -> None:
    entity = _entity(vat_number="13 58 56 28", registration_number="13585628")
    assert (entity.code, entity.country, entity.currency) == ("DK01", "DK", "DKK")
    assert entity.vat_number == "DK13585628"
    assert entity.registration_number == "13585628"


def test_legal_entity_hands_out_numbers_in_series() -> None:
    entity = _entity(next_invoice_number=1001)
    assert [entity.take_invoice_number() for _ in range(3)] == [1001, 1002, 1003]
    assert entity.next_invoice_number == 1004


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"code": "  "}, "legal entity code is required"),
        ({"code": "X" * 21}, "legal entity code is longer than 20 characters"),
        ({"name": ""}, "legal entity name is required"),
        ({"currency": "KRONER"}, "not an ISO 4217 currency code"),
        ({"vat_number": "DK13585627"}, "not a valid DK VAT number"),
        ({"next_invoice_number": 0}, "next invoice number must be 1 or more"),
    ],
)
def test_legal_entity_validation(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _entity(**changes)


# customers ------------------------------------------------------------------------------------


def _customer(**changes: Any) -> Customer:
    fields: dict[str, Any] = {
        "legal_entity_id": 1,
        "number": " 10001 ",
        "name": " Acme A/S ",
        "address": Address(
            lines=("Vesterbrogade 1",), postal_code="1620", city="KBH", country="DK"
        ),
        "currency": "DKK",
    }
    return Customer(**(fields | changes))


def test_customer_is_normalised_for_its_country() -> None:
    customer = _customer(
        vat_number="13 58 56 28",
        registration_number="13585628",
        ean=" 5790000000005 ",
        email=" ap@acme.dk ",
    )
    assert (customer.number, customer.name) == ("10001", "Acme A/S")
    assert customer.country == "DK"
    assert customer.vat_number == "DK13585628"
    assert customer.ean == "5790000000005"
    assert customer.email == "ap@acme.dk"


def test_swedish_customer_identifiers_are_validated_as_swedish() -> None:
    customer = _customer(
        address=Address(country="SE"), vat_number="556000016701", registration_number="5560000167"
    )
    assert customer.vat_number == "SE556000016701"
    assert customer.registration_number == "5560000167"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"number": ""}, "customer number is required"),
        ({"number": "1" * 31}, "customer number is longer than 30 characters"),
        ({"name": "   "}, "customer name is required"),
        ({"name": "x" * 256}, "customer name is longer than 255 characters"),
        ({"address": Address()}, "customer 10001: country is required"),
        ({"currency": "XYZ1"}, "not an ISO 4217 currency code"),
        ({"vat_number": "SE556000016701"}, "not a valid DK VAT number"),
        ({"registration_number": "13585627"}, "not a valid DK company registration number"),
        ({"ean": "5790000000006"}, "not a valid EAN/GLN number"),
        ({"email": "a" * 256}, "e-mail is longer than 255 characters"),
        ({"phone": "1" * 51}, "phone is longer than 50 characters"),
    ],
)
def test_customer_validation(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _customer(**changes)


# contacts and employees -----------------------------------------------------------------------


def test_contact_requires_a_name() -> None:
    assert Contact(customer_id=1, name=" Jens ", title=" CFO ").title == "CFO"
    with pytest.raises(ValidationError, match="contact name is required"):
        Contact(customer_id=1, name="")


def test_tabs_and_line_breaks_are_text() -> None:
    assert Contact(customer_id=1, name="Jens", title="CFO\tIT\r\nBoard").title == "CFO\tIT\r\nBoard"


@pytest.mark.parametrize(("initials", "expected"), [("ab", "AB"), (" jø1 ", "JØ1"), ("ÅSA", "ÅSA")])
def test_employee_initials_are_upper_case(initials: str, expected: str) -> None:
    assert Employee(legal_entity_id=1, initials=initials, name="Anna").initials == expected


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"initials": "A.B"}, "employee initials 'A.B' may hold letters and digits only"),
        ({"initials": "A B"}, "employee initials 'A B' may hold letters and digits only"),
        ({"initials": ""}, "employee initials is required"),
        ({"initials": "ABCDEFGHIJK"}, "employee initials is longer than 10 characters"),
        ({"name": " "}, "employee name is required"),
        ({"department": "d" * 51}, "department is longer than 50 characters"),
        ({"name": "Anna\x00Berg"}, "employee name holds the control character U+0000 (remove it)"),
        ({"department": "\x1b[31m"}, "department holds the control character U+001B (remove it)"),
        (
            {"name": "Anna \ud800"},
            "employee name holds U+D800, half of a UTF-16 surrogate pair and not a character "
            "(correct the text at its source)",
        ),
    ],
)
def test_employee_validation(changes: dict[str, Any], message: str) -> None:
    fields: dict[str, Any] = {"legal_entity_id": 1, "initials": "AB", "name": "Anna Berg"}
    with pytest.raises(ValidationError) as caught:
        Employee(**(fields | changes))
    assert str(caught.value) == message
