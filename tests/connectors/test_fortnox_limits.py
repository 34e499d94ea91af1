"""Fortnox's field limits and the new mappings as named rules (pure, no HTTP): project numbers
as letters and digits, project names shortened at a word, the credit invoice's reference,
the project on the invoice, expense entries from voucher rows — and the kit's shared text
rules they use (merging address lines, letters and digits)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ledgerlink.connectors._kit.text import letters_and_digits, merge_lines
from ledgerlink.connectors.contract import Permanent
from ledgerlink.connectors.fortnox import mapping
from ledgerlink.connectors.fortnox.connector import (
    CAPABILITIES,
    expense_cursor,
    parse_expense_cursor,
)
from ledgerlink.connectors.fortnox.dtos import VoucherDto, to_wire
from ledgerlink.connectors.fortnox.settings import FortnoxSettings
from ledgerlink.domain.money import Money
from tests.connectors.builders import credit_note, invoice, outgoing, project

pytestmark = pytest.mark.unit


# the kit's rules --------------------------------------------------------------------------------


def test_merge_lines_fits_lines_into_fields_and_loses_nothing() -> None:
    assert merge_lines(["Havnegade 1", " ", "2. sal", "Bygning B"], 2) == [
        "Havnegade 1",
        "2. sal, Bygning B",
    ]
    assert merge_lines(["Storgatan 5"], 2) == ["Storgatan 5"]
    assert merge_lines([], 2) == []
    with pytest.raises(ValueError, match="at least 1"):
        merge_lines(["x"], 0)


def test_letters_and_digits_keeps_only_those() -> None:
    assert letters_and_digits("P-200 / Väst") == "P200Väst"
    assert letters_and_digits("--") == ""


# projects ---------------------------------------------------------------------------------------


def test_project_numbers_are_letters_and_digits_of_at_most_20() -> None:
    assert mapping.project_number(" P-200 ") == "P200"
    assert mapping.project_number("7101") == "7101"
    assert mapping.project_number("A-" + "9" * 19) == "A" + "9" * 19  # 20 once the dash is gone
    for bad in ("---", "X" * 21):
        with pytest.raises(Permanent, match="project number") as refused:
            mapping.project_number(bad)
        assert "letters and digits" in refused.value.hint


def test_a_project_is_its_number_its_name_shortened_to_50_and_its_state() -> None:
    long_name = "Implementation of the new ERP platform for all Swedish subsidiaries"
    body = to_wire(mapping.project_to_dto(project(number="P-7", name=long_name)))
    assert body["ProjectNumber"] == "P7" and body["Status"] == "ONGOING"
    assert len(body["Description"]) <= mapping.MAX_PROJECT_DESCRIPTION
    assert body["Description"].endswith("…")
    done = to_wire(mapping.project_to_dto(project(number="8", name="Done", active=False)))
    assert done == {"ProjectNumber": "8", "Description": "Done", "Status": "COMPLETED"}


def test_the_invoice_names_its_project_and_the_psas_date() -> None:
    document = outgoing(invoice(), project_ref="P-200")
    body = to_wire(mapping.invoice_to_dto(document))
    assert (body["Project"], body["InvoiceDate"]) == ("P200", "2026-03-02")
    assert "Project" not in to_wire(mapping.invoice_to_dto(outgoing(invoice())))


# credit invoices --------------------------------------------------------------------------------


def test_a_credit_note_references_the_invoice_it_credits_when_given() -> None:
    note = outgoing(credit_note())
    body = to_wire(mapping.invoice_to_dto(note, credits="17"))
    assert body["CreditInvoiceReference"] == "17"
    assert body["InvoiceRows"][0]["DeliveredQuantity"] == "-2"
    assert "CreditInvoiceReference" not in to_wire(mapping.invoice_to_dto(note))
    # an invoice never carries one, whatever is given
    assert "CreditInvoiceReference" not in to_wire(
        mapping.invoice_to_dto(outgoing(invoice()), credits="17")
    )


def test_a_credit_reference_is_a_document_number() -> None:
    assert mapping.credit_reference(" 12 ") == "12"
    assert mapping.credit_reference("0") is None
    assert mapping.credit_reference(None) is None
    with pytest.raises(Permanent, match="not a Fortnox invoice number"):
        mapping.credit_reference("A/1")


# expense import ---------------------------------------------------------------------------------


def voucher() -> VoucherDto:
    return VoucherDto.model_validate(
        {
            "VoucherSeries": "A",
            "VoucherNumber": 7,
            "Year": 2,
            "Description": "Utlägg: tåg",
            "TransactionDate": "2026-01-15",
            "VoucherRows": [
                {"Account": 5800, "Debit": 1200, "Credit": 0, "Project": "100"},
                {"Account": 2641, "Debit": 72, "Credit": 0},
                {"Account": 5831, "Debit": 0, "Credit": 300, "Description": "Hotell, återbetalt"},
                {"Account": 6071, "Debit": 500, "Credit": 0, "Removed": True},
                {"Account": 5800, "Debit": "", "Credit": None},
                {"Account": 2890, "Debit": 0, "Credit": 972},
            ],
        }
    )


def test_expense_entries_are_the_rows_on_the_chosen_accounts_excluding_vat() -> None:
    found = mapping.expenses_of(voucher(), frozenset({5800, 5831, 6071}))
    assert [(e.external_id, e.account, e.amount, e.project_ref, e.text) for e in found] == [
        ("2:A7:1", "5800", Money.of("1200", "SEK"), "100", "Utlägg: tåg"),
        ("2:A7:3", "5831", Money.of("-300", "SEK"), "", "Hotell, återbetalt"),
    ]  # the VAT row, a removed row and a row without an amount are not expenses
    assert all(e.day == date(2026, 1, 15) and e.voucher_number == "A7" for e in found)
    assert found[0].amount_in_base_currency == found[0].amount


def test_the_expense_cursor_keeps_the_newest_years_of_its_journal() -> None:
    cursor = expense_cursor("A", {1: 4, 2: 17, 3: 0, 4: 1, 5: 2})
    assert cursor == "A|2:17,3:0,4:1,5:2"
    assert parse_expense_cursor(cursor, "A") == {2: 17, 3: 0, 4: 1, 5: 2}
    assert parse_expense_cursor(cursor, "U") == {}  # another journal chosen: start over
    assert parse_expense_cursor(None, "A") == {}


def test_expense_import_needs_a_journal_and_accounts() -> None:
    plain = FortnoxSettings(client_id="x")
    assert not plain.expense_import_set_up
    chosen = FortnoxSettings(
        client_id="x", expense_import_series="A", expense_import_accounts="5800, 5831"
    )
    assert chosen.expense_import_set_up and chosen.expense_import_accounts == (5800, 5831)
    with pytest.raises(ValueError, match="1000–9999"):
        FortnoxSettings(client_id="x", expense_import_accounts=[42])


def test_capabilities_say_what_fortnox_takes() -> None:
    assert CAPABILITIES.project_push and CAPABILITIES.expense_import
    assert CAPABILITIES.dimensions == ("project",)
    assert not CAPABILITIES.contact_push and not CAPABILITIES.employee_push
    assert Decimal(mapping.MAX_PROJECT_NUMBER) == 20
