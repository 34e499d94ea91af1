"""Exact Online mapping: the account body (numeric code, Status C, address lines, currency),
the sales invoice (8020/8021, journal, correlation in Remarks, references), its lines (item
GUIDs, discount as a fraction, VAT codes by rate or treatment, cost centre, text lines as
notes in document order), the limits as named rules, and reading back (totals, processed
number, balancing), and expense import (purchase-entry lines excluding VAT, the cost centre
as project, the supplier's name in the text, rejected entries left out, the Modified cursor
with its marks)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from ledgerlink.connectors._kit.cursor import MAX_CURSOR, MarkedCursor
from ledgerlink.connectors.contract import Permanent, PostingStatus
from ledgerlink.connectors.exact import mapping
from ledgerlink.connectors.exact.connector import entry_mark, expense_cursor
from ledgerlink.connectors.exact.dtos import (
    AccountDto,
    ContactDto,
    ItemDto,
    PurchaseEntryDto,
    SalesInvoiceReadDto,
    to_wire,
    wire_date,
    wire_datetime,
)
from ledgerlink.connectors.testing import builders
from ledgerlink.domain.invoices import text_line
from ledgerlink.domain.money import Money
from ledgerlink.domain.parties import Address
from ledgerlink.domain.vat import VatCategory, VatTreatment

pytestmark = pytest.mark.unit

WORK = ItemDto(
    ID="0f6c1c1e-0000-4000-8000-000000000001", Code="WORK-DEV", IsFractionAllowedItem=True
)
LICENSE = ItemDto(
    ID="0f6c1c1e-0000-4000-8000-000000000002", Code="LICENSE", IsFractionAllowedItem=False
)
ITEMS = {"WORK-DEV": WORK, "LICENSE": LICENSE}
VAT = {"25": "25", "21": "1", "9": "2", "0": "0", "eu_reverse_charge": "4"}
ACCOUNT = "5a4b9c8e-0f1d-4e2a-9b3c-7d6e5f4a3b21"


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


def dutch_invoice(*lines: object, **changes: object) -> object:
    return builders.invoice(
        *lines,  # type: ignore[arg-type]
        **{"currency": "EUR", "seller_country": "NL", **changes},
    )


def work(**changes: object) -> object:
    return builders.work_line(**{"unit_price": eur("100.00"), **changes})


def outgoing(invoice: object, product: str = "WORK-DEV", **changes: object) -> object:
    fields: dict[str, object] = {
        "line_products": builders.line_products(invoice, product),  # type: ignore[arg-type]
        "customer_ref": ACCOUNT,
        "correlation": "LL-NORDLYS-1001",
    }
    return builders.outgoing(invoice, **(fields | changes))  # type: ignore[arg-type]


def dto(document: object) -> dict[str, object]:
    return to_wire(
        mapping.invoice_to_dto(
            document,  # type: ignore[arg-type]
            account_id=ACCOUNT,
            journal="70",
            items=ITEMS,
            vat_codes=VAT,
        )
    )


# customers --------------------------------------------------------------------------------


def test_an_account_has_the_numeric_code_status_c_and_the_sales_currency() -> None:
    customer = builders.customer(
        number="4701",
        address=Address(
            lines=("Havnegade 1", "2. sal"), postal_code="1058", city="København K", country="DK"
        ),
        vat_number="DK13585628",
    )
    body = to_wire(mapping.customer_to_dto(customer, code=mapping.customer_code(customer.number)))
    assert body == {
        "Code": "4701",
        "Name": "Hansen Byg A/S",
        "Status": "C",
        "IsSales": True,
        "VATNumber": "DK13585628",
        "ChamberOfCommerce": "13585628",
        "Email": "bogholderi@hansenbyg.dk",
        "AddressLine1": "Havnegade 1",
        "AddressLine2": "2. sal",
        "Postcode": "1058",
        "City": "København K",
        "Country": "DK",
        "SalesCurrency": "DKK",
    }
    update = to_wire(mapping.customer_to_dto(customer, code=None))
    assert "Code" not in update


@pytest.mark.parametrize("number", ["C-100", "12a", "", "１２３", "1" * 19])
def test_a_customer_number_that_is_not_numeric_is_refused_with_a_hint(number: str) -> None:
    with pytest.raises(Permanent) as refused:
        mapping.customer_code(number)
    assert "numeric" in refused.value.hint
    assert [f.path for f in refused.value.field_errors] == ["Code"]


def test_codes_are_read_without_exacts_padding() -> None:
    account = AccountDto(
        ID=ACCOUNT,
        Code=" " * 14 + "1001",
        Name="Bakkerij Jansen B.V.",
        AddressLine1="Markt 1",
        SalesCurrency="EUR",
        Country="NL ",
        Blocked=True,
        Modified=wire_date("/Date(1773100800000)/"),
    )
    found = mapping.erp_customer(account)
    assert (found.external_id, found.number, found.country) == (ACCOUNT, "1001", "NL")
    assert found.address_lines == ("Markt 1",)
    assert found.barred
    assert str(found.updated) == "2026-03-10"


def test_suppliers_are_not_imported_as_customers() -> None:
    assert mapping.is_customer(AccountDto(Status="C"))
    assert mapping.is_customer(AccountDto(Status="A", IsSales=True))
    assert not mapping.is_customer(AccountDto(Status="A", IsSales=False, IsSupplier=True))


def test_contacts_split_names_and_match_by_email_or_name() -> None:
    contact = builders.contact(name="Mette Marie Hansen", email="MH@hansenbyg.dk")
    body = to_wire(mapping.contact_to_dto(ACCOUNT, contact))
    assert body == {
        "Account": ACCOUNT,
        "FirstName": "Mette Marie",
        "LastName": "Hansen",
        "Email": "MH@hansenbyg.dk",
    }
    assert mapping.same_contact(ContactDto(Email="mh@hansenbyg.dk"), contact)
    nameless = builders.contact(name="Piet Jansen", email="")
    assert mapping.same_contact(ContactDto(FirstName="Piet", LastName="Jansen"), nameless)
    assert not mapping.same_contact(ContactDto(FirstName="Jan", LastName="Jansen"), nameless)


# invoices ---------------------------------------------------------------------------------


def test_an_invoice_is_type_8020_in_the_journal_with_the_correlation_in_remarks() -> None:
    invoice = dutch_invoice(
        work(discount_percent=Decimal("10")),
        heading="Consulting March",
        requisition_number="PO-4711",
        internal_reference="JDV",
    )
    body = dto(outgoing(invoice, project_ref="P100"))
    assert {k: v for k, v in body.items() if k != "SalesInvoiceLines"} == {
        "OrderedBy": ACCOUNT,
        "Journal": "70",
        "Type": 8020,
        "OrderDate": builders.INVOICE_DATE,
        "Currency": "EUR",
        "Remarks": "LL-NORDLYS-1001",
        "Description": "Consulting March",
        "YourRef": "JDV",
        "PaymentReference": "PO-4711",
    }
    (line,) = body["SalesInvoiceLines"]  # type: ignore[misc]
    assert line == {
        "Item": WORK.ID,
        "Description": "Consulting, March",
        "Quantity": Decimal("7.5"),
        "UnitPrice": Decimal("100.00"),
        "Discount": Decimal("0.1"),
        "VATCode": "1",
        "CostCenter": "P100",
    }


def test_a_credit_note_is_type_8021_with_negative_quantities() -> None:
    note = builders.credit_note(work(quantity=Decimal("-2")), currency="EUR", seller_country="NL")
    body = dto(outgoing(note))
    assert body["Type"] == 8021
    assert body["SalesInvoiceLines"][0]["Quantity"] == Decimal("-2")  # type: ignore[index]


def test_each_line_gets_the_vat_code_of_its_rate_or_of_the_treatment() -> None:
    invoice = dutch_invoice(work(), work(vat_category=VatCategory.REDUCED))
    keys = mapping.vat_keys(outgoing(invoice))  # type: ignore[arg-type]
    assert keys == {"21", "9"}
    codes = [line["VATCode"] for line in dto(outgoing(invoice))["SalesInvoiceLines"]]  # type: ignore[attr-defined]
    assert codes == ["1", "2"]
    reverse = dutch_invoice(work(), vat_treatment=VatTreatment.EU_REVERSE_CHARGE)
    assert mapping.vat_keys(outgoing(reverse)) == {"eu_reverse_charge"}  # type: ignore[arg-type]
    assert mapping.vat_key(VatTreatment.DOMESTIC, Decimal("21.00")) == "21"


def test_text_lines_become_the_notes_of_the_amount_line_before_them() -> None:
    invoice = dutch_invoice(
        text_line("Period: March", "EUR"),
        work(),
        text_line("Travel included", "EUR"),
        text_line("See timesheet", "EUR"),
    )
    (line,) = dto(outgoing(invoice))["SalesInvoiceLines"]  # type: ignore[misc]
    assert line["Notes"] == "Period: March\nTravel included\nSee timesheet"


def test_a_long_line_description_is_shortened_at_a_word_and_kept_whole_in_the_notes() -> None:
    text = "Development of the customer portal, sprint 14: login, invoices and payment pages"
    short, notes = mapping.line_texts(text)
    assert short is not None and len(short) <= mapping.MAX_LINE_DESCRIPTION
    assert short.endswith("…") and text.startswith(short[:-1].rstrip())
    assert notes == text
    assert mapping.line_texts("Consulting") == ("Consulting", None)


def test_the_heading_is_shortened_and_the_psa_reference_stands_in_for_none() -> None:
    long_heading = "Consulting " * 40
    body = dto(outgoing(dutch_invoice(work(), heading=long_heading)))
    assert len(str(body["Description"])) <= mapping.MAX_DESCRIPTION
    body = dto(outgoing(dutch_invoice(work(), heading=""), psa_reference="NORDLYS invoice 7"))
    assert body["Description"] == "NORDLYS invoice 7"


def test_a_project_number_longer_than_a_cost_centre_code_is_refused() -> None:
    assert mapping.cost_center("") is None
    assert mapping.cost_center("12345678") == "12345678"
    with pytest.raises(Permanent) as refused:
        mapping.cost_center("PRJ-123456")
    assert "8 characters" in refused.value.hint


def test_an_unknown_item_is_refused_naming_the_product_and_the_line() -> None:
    with pytest.raises(Permanent) as refused:
        dto(outgoing(dutch_invoice(work()), product="NO-SUCH"))
    error = refused.value
    assert error.missing_products == ("NO-SUCH",)
    assert [f.path for f in error.field_errors] == ["SalesInvoiceLines[0].Item"]
    assert error.erp_text and error.hint


def test_a_decimal_quantity_of_a_non_divisible_item_is_refused_before_sending() -> None:
    with pytest.raises(Permanent) as refused:
        dto(outgoing(dutch_invoice(work(quantity=Decimal("1.5"))), product="LICENSE"))
    assert "divisible" in refused.value.hint
    whole = dto(outgoing(dutch_invoice(work(quantity=Decimal("2"))), product="LICENSE"))
    assert whole["SalesInvoiceLines"][0]["Item"] == LICENSE.ID  # type: ignore[index]


def test_the_correlation_is_never_cut() -> None:
    assert mapping.correlation_reference(" LL-X-1 ") == "LL-X-1"
    with pytest.raises(Permanent):
        mapping.correlation_reference("x" * 1001)
    assert mapping.odata_string("O'Brien") == "'O''Brien'"


def test_a_line_without_a_product_number_is_refused() -> None:
    invoice = dutch_invoice(work())
    document = outgoing(invoice, line_products=("",))
    with pytest.raises(Permanent, match="no Exact item code") as refused:
        dto(document)
    assert "principle" in refused.value.hint


# reading back -------------------------------------------------------------------------------


def read(**changes: object) -> SalesInvoiceReadDto:
    fields: dict[str, object] = {
        "InvoiceID": "b3f1c2d4-0000-4000-8000-000000000009",
        "Remarks": "LL-NORDLYS-1001",
        "Currency": "EUR",
        "AmountFC": Decimal("302.50"),
        "VATAmountFC": Decimal("52.50"),
        "Status": 20,
        "DueDate": "/Date(1775692800000)/",
    }
    return SalesInvoiceReadDto.model_validate(fields | changes)


def test_totals_are_read_back_and_the_number_only_once_processed() -> None:
    draft = mapping.erp_document(read(InvoiceNumber=None))
    assert (draft.net, draft.vat, draft.gross) == (eur("250.00"), eur("52.50"), eur("302.50"))
    assert draft.booked_number == ""
    assert draft.correlation == "LL-NORDLYS-1001"
    processed = mapping.erp_document(read(Status=50, InvoiceNumber=26700001))
    assert processed.booked_number == "26700001"


def test_balancing_reports_processed_invoices_with_what_is_open() -> None:
    assert mapping.status_update(read(), None) is None
    open_ = mapping.status_update(read(Status=50, InvoiceNumber=26700001), Decimal("302.50"))
    assert open_ is not None
    assert open_.status is PostingStatus.BOOKED
    assert (open_.booked_number, open_.paid) == ("26700001", False)
    assert open_.remainder == eur("302.50")
    assert str(open_.due_date) == "2026-04-09"
    paid = mapping.status_update(read(Status=50, InvoiceNumber=26700001), None)
    assert paid is not None and paid.paid and paid.remainder == eur("0")
    assert mapping.status_mark(open_) != mapping.status_mark(paid)


# expense import -------------------------------------------------------------------------------


def entry(**changes: object) -> PurchaseEntryDto:
    """A purchase entry as Exact sends it (wire dates, lines expanded)."""
    row: dict[str, object] = {
        "EntryID": "7d1e2f30-0000-4000-8000-000000000001",
        "EntryNumber": 25600001,
        "Type": 30,
        "Status": 50,
        "SupplierName": "Reisbureau Noord B.V.",
        "Description": "Train tickets",
        "Currency": "EUR",
        "EntryDate": "/Date(1764720000000)/",  # 2025-12-03
        "Modified": "/Date(1764778800123)/",  # 2025-12-03 16:20:00.123
        "PurchaseEntryLines": [
            {
                "ID": "7d1e2f30-0000-4000-8000-0000000000a2",
                "LineNumber": 2,
                "GLAccountCode": "4500",
                "Description": "",
                "AmountFC": 35.5,
                "AmountDC": 35.5,
                "VATAmountFC": 7.46,
                "CostCenter": None,
            },
            {
                "ID": "7d1e2f30-0000-4000-8000-0000000000a1",
                "LineNumber": 1,
                "GLAccountCode": "4500",
                "Description": "Train Amsterdam-Zwolle",
                "AmountFC": 80.0,
                "AmountDC": 80.0,
                "VATAmountFC": 7.2,
                "CostCenter": "P-300",
                "Project": "1b2c3d4e-0000-4000-8000-000000000009",
            },
        ],
    }
    row.update(changes)
    return PurchaseEntryDto.model_validate(row)


def test_each_line_of_a_purchase_entry_is_an_expense_excluding_vat_on_its_cost_centre() -> None:
    first, second = mapping.expenses_of(entry(), "EUR")
    assert (first.external_id, second.external_id) == (
        "7d1e2f30-0000-4000-8000-0000000000a1",
        "7d1e2f30-0000-4000-8000-0000000000a2",
    )  # in line order
    assert first.amount == Money.of("80.00", "EUR") == first.amount_in_base_currency
    assert (first.day, first.voucher_number, first.account) == (
        date(2025, 12, 3),
        "25600001",
        "4500",
    )
    assert first.project_ref == "P-300"  # the cost centre, not the Exact project GUID
    assert first.text == "Reisbureau Noord B.V.: Train Amsterdam-Zwolle"
    assert second.project_ref == ""
    assert second.text == "Reisbureau Noord B.V.: Train tickets"  # the entry's description


def test_a_foreign_currency_entry_has_its_amount_in_the_divisions_currency_too() -> None:
    lines = [{"ID": "a", "AmountFC": 100, "AmountDC": 92.5, "CostCenter": "P-300"}]
    (expense,) = mapping.expenses_of(entry(Currency="USD", PurchaseEntryLines=lines), "EUR")
    assert expense.amount == Money.of("100", "USD")
    assert expense.amount_in_base_currency == Money.of("92.50", "EUR")
    without = [{"ID": "a", "AmountFC": 100}]
    with pytest.raises(Permanent):
        mapping.expenses_of(entry(Currency="USD", PurchaseEntryLines=without), "EUR")


def test_a_credit_note_is_negative_and_rejected_entries_and_empty_lines_are_not_expenses() -> None:
    credit = [{"ID": "c", "AmountFC": -25, "AmountDC": -25, "Description": "Refund"}]
    (refund,) = mapping.expenses_of(entry(Type=31, PurchaseEntryLines=credit), "EUR")
    assert refund.amount == Money.of("-25", "EUR")
    assert mapping.expenses_of(entry(Status=mapping.REJECTED), "EUR") == []
    empty = [{"ID": "z", "AmountFC": 0, "AmountDC": 0}]
    assert mapping.expenses_of(entry(PurchaseEntryLines=empty), "EUR") == []


def test_an_expense_text_is_the_supplier_and_description_within_what_the_hub_keeps() -> None:
    assert mapping.expense_text("  Hotel  De Wereld ", "two nights") == (
        "Hotel De Wereld: two nights"
    )
    assert mapping.expense_text("", "Parking") == "Parking"
    long = mapping.expense_text("Supplier", "word " * 100)
    assert len(long) <= mapping.MAX_EXPENSE_TEXT and long.startswith("Supplier: word")


def test_modified_is_read_to_the_millisecond() -> None:
    # Exact's local time written as if UTC: read back as a naive local time.
    local = datetime(2025, 12, 3, 16, 20, 0, 123000, tzinfo=UTC).replace(tzinfo=None)
    assert wire_datetime("/Date(1764778800123)/") == local
    assert entry().Modified == local


def test_the_expense_cursor_is_the_newest_modified_with_marks_of_the_entries_at_it() -> None:
    older = entry(EntryID="e1", Modified="/Date(1764700000000)/")
    newest = entry(EntryID="e2")
    tied = entry(EntryID="e3")
    cursor = expense_cursor(None, [older, newest, tied])
    parsed = MarkedCursor.parse(cursor)
    assert parsed is not None
    assert parsed.floor == "2025-12-03T16:20:00.123"
    assert parsed.marks == {entry_mark(newest), entry_mark(tied)}
    # Read again from it: the same two come back (Modified ge …) and change nothing.
    assert expense_cursor(parsed, [newest, tied]) == cursor
    # Nothing read: the cursor stays; no cursor stays none.
    assert expense_cursor(parsed, []) == cursor
    assert expense_cursor(None, []) is None
    # The entry changed again: a new mark, so it is news.
    changed = entry(EntryID="e2", Modified="/Date(1764778800124)/")
    assert entry_mark(changed) != entry_mark(newest)


def test_a_cursor_keeps_as_many_marks_as_fit_the_hubs_column() -> None:
    many = [entry(EntryID=f"e{n}") for n in range(40)]
    text = expense_cursor(None, many)
    assert text is not None and len(text) <= MAX_CURSOR
    with pytest.raises(ValueError, match="floor"):
        MarkedCursor("a|b").text()
