"""Invoices: lines, totals, editing a draft, posting and immutability after posting."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from ledgerlink.domain.errors import ImmutableError, ValidationError
from ledgerlink.domain.invoices import (
    DocumentType,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    text_line,
)
from ledgerlink.domain.money import Money
from ledgerlink.domain.vat import VatCategory, VatRate, VatRateTable, VatTreatment

INVOICE_DATE = date(2024, 3, 15)
POSTING_DATE = date(2024, 3, 16)


def dkk(amount: str) -> Money:
    return Money.of(amount, "DKK")


def work(quantity: str = "10", price: str = "1000.00", **changes: Any) -> InvoiceLine:
    fields: dict[str, Any] = {
        "kind": LineKind.WORK,
        "description": "Consulting",
        "quantity": Decimal(quantity),
        "unit": "hours",
        "unit_price": dkk(price),
    }
    return InvoiceLine(**(fields | changes))


def draft(*lines: InvoiceLine, **changes: Any) -> Invoice:
    fields: dict[str, Any] = {
        "id": 1,
        "legal_entity_id": 1,
        "customer_id": 1,
        "currency": "DKK",
        "invoice_date": INVOICE_DATE,
        "due_date": date(2024, 4, 14),
        "seller_country": "DK",
        "lines": lines,
    }
    return Invoice(**(fields | changes))


def posted(*lines: InvoiceLine, number: int = 1001) -> Invoice:
    invoice = draft(*(lines or (work(),)))
    invoice.post(number=number, posting_date=POSTING_DATE)
    return invoice


# lines ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "price", "discount", "net"),
    [
        ("10", "1000.00", "0", "10000.00"),
        ("3", "33.33", "10", "89.99"),  # 89.991
        ("1", "0.05", "50", "0.03"),  # 0.025 rounds half up
        ("-1", "0.05", "50", "-0.03"),  # … and symmetrically for a deduction
        ("1.25", "99.99", "0", "124.99"),  # 124.9875
        ("7", "100.00", "100", "0.00"),
        ("0.5", "0.01", "0", "0.01"),  # 0.005
    ],
)
def test_line_net_amount(quantity: str, price: str, discount: str, net: str) -> None:
    line = work(quantity, price, discount_percent=Decimal(discount))
    assert line.net_amount == dkk(net)


def test_line_texts_are_stripped() -> None:
    line = work(description="  Consulting  ", unit=" hours ")
    assert (line.description, line.unit) == ("Consulting", "hours")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"quantity": Decimal(0)}, "line 'Consulting': quantity must not be 0"),
        ({"discount_percent": Decimal("100.01")}, "discount must be 0–100 %"),
        ({"discount_percent": Decimal(-1)}, "discount must be 0–100 %"),
        ({"unit_price": dkk("-1.00")}, "unit price must not be negative"),
        ({"unit": "u" * 21}, "line unit is longer than 20 characters"),
    ],
)
def test_line_validation(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        work(**changes)


def test_text_line() -> None:
    line = text_line("  Thank you  ", "DKK")
    assert (line.kind, line.description, line.quantity) == (LineKind.TEXT, "Thank you", 0)
    with pytest.raises(ValidationError, match="a text line needs a description"):
        text_line(" ", "DKK")


@pytest.mark.parametrize(
    "changes",
    [
        {"quantity": Decimal(1)},
        {"unit_price": dkk("1.00")},
        {"discount_percent": Decimal(5)},
    ],
)
def test_text_line_has_no_amount(changes: dict[str, Any]) -> None:
    fields: dict[str, Any] = {"kind": LineKind.TEXT, "description": "Note", "unit_price": dkk("0")}
    with pytest.raises(ValidationError, match="a text line has no quantity, price or discount"):
        InvoiceLine(**(fields | changes))


# a draft --------------------------------------------------------------------------------------


def test_draft_defaults() -> None:
    invoice = draft(work())
    assert invoice.status is InvoiceStatus.DRAFT
    assert invoice.tax_date == INVOICE_DATE
    assert invoice.revision == 1
    assert invoice.number is None
    assert invoice.describe() == "draft invoice #1"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"due_date": date(2024, 3, 14)}, "the due date is before the invoice date"),
        ({"lines": (work(price="1", unit_price=Money.of("1", "SEK")),)}, "is in SEK; the document"),
        ({"lines": (work(credits_position=1),)}, "only credit note lines can credit another line"),
        ({"document_type": DocumentType.CREDIT_NOTE}, "must reference the invoice it credits"),
        ({"heading": "h" * 501}, "heading is longer than 500 characters"),
        ({"customer_reference": "r" * 101}, "customer reference is longer than 100 characters"),
    ],
)
def test_draft_validation(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        draft(**changes)


def test_compute_totals() -> None:
    invoice = draft(
        work("2", "50.01"),  # 100.02 standard
        text_line("Note", "DKK"),
        work("1", "10.00", vat_category=VatCategory.ZERO),
        work("-1", "0.02"),  # deduction: standard net 100.00 → VAT 25.00
    )
    totals = invoice.compute_totals()
    assert totals.net == dkk("110.00")
    assert [(v.category, v.net, v.vat) for v in totals.vat_lines] == [
        (VatCategory.STANDARD, dkk("100.00"), dkk("25.00")),
        (VatCategory.ZERO, dkk("10.00"), dkk("0.00")),
    ]
    assert totals.vat == dkk("25.00")
    assert totals.gross == dkk("135.00")


def test_reverse_charge_invoice_has_no_vat() -> None:
    invoice = draft(work("2", "50.01"), vat_treatment=VatTreatment.EU_REVERSE_CHARGE)
    totals = invoice.compute_totals()
    assert (totals.net, totals.vat, totals.gross) == (dkk("100.02"), dkk("0"), dkk("100.02"))


def test_add_and_remove_lines_bump_the_revision() -> None:
    invoice = draft(work())
    invoice.add_lines([work("1"), text_line("Note", "DKK")])
    assert len(invoice.lines) == 3
    assert invoice.revision == 2
    removed = invoice.remove_line(2)
    assert removed.quantity == 1
    assert [line.kind for line in invoice.lines] == [LineKind.WORK, LineKind.TEXT]
    assert invoice.revision == 3


def test_add_lines_checks_the_currency() -> None:
    invoice = draft(work())
    with pytest.raises(ValidationError, match="is in EUR; the document is in DKK"):
        invoice.add_lines([work(unit_price=Money.of("1", "EUR"))])
    assert len(invoice.lines) == 1
    assert invoice.revision == 1


@pytest.mark.parametrize("position", [0, 2, -1])
def test_remove_line_out_of_range(position: int) -> None:
    invoice = draft(work())
    with pytest.raises(ValidationError, match=f"draft invoice #1 has no line {position}"):
        invoice.remove_line(position)


def test_update_header_on_a_draft() -> None:
    invoice = draft(work())
    invoice.update_header(
        heading="  March work ",
        invoice_date=date(2024, 3, 20),
        due_date=date(2024, 4, 19),
        customer_reference="PO-77",
    )
    assert invoice.heading == "March work"
    assert invoice.invoice_date == invoice.tax_date == date(2024, 3, 20)
    assert invoice.customer_reference == "PO-77"
    assert invoice.revision == 2


def test_update_header_refuses_other_fields() -> None:
    invoice = draft(work())
    with pytest.raises(ValidationError, match="cannot change currency, number on an invoice"):
        invoice.update_header(number=5, currency="SEK")
    assert invoice.revision == 1


def test_update_header_validates_the_dates() -> None:
    invoice = draft(work())
    with pytest.raises(ValidationError, match="due date is before the invoice date"):
        invoice.update_header(invoice_date=date(2024, 5, 1))


# posting --------------------------------------------------------------------------------------


def test_post_numbers_dates_and_freezes_totals() -> None:
    invoice = draft(work("2", "50.01"))
    expected = invoice.compute_totals()
    invoice.post(number=1001, posting_date=POSTING_DATE)
    assert invoice.status is InvoiceStatus.POSTED
    assert invoice.status.is_posted
    assert (invoice.number, invoice.posting_date) == (1001, POSTING_DATE)
    assert invoice.totals == expected
    assert invoice.totals.gross == dkk("125.03")
    assert invoice.describe() == "invoice 1001"


def test_frozen_totals_are_those_of_posting_time() -> None:
    # Posted with a table where DK's rate is 20 %; the frozen totals keep that.
    table = VatRateTable((VatRate("DK", VatCategory.STANDARD, Decimal(20), date(2000, 1, 1)),))
    invoice = draft(work("1", "100.00"))
    invoice.post(number=1, posting_date=POSTING_DATE, table=table)
    assert invoice.current_totals().vat == dkk("20.00")
    assert invoice.compute_totals().vat == dkk("25.00")


def test_current_totals_of_a_draft_are_computed() -> None:
    invoice = draft(work("1", "100.00"))
    assert invoice.totals is None
    assert invoice.current_totals().gross == dkk("125.00")


@pytest.mark.parametrize(
    "lines", [(), (text_line("Only text", "DKK"),)], ids=["empty", "only-text"]
)
def test_posting_without_amount_lines_is_refused(lines: tuple[InvoiceLine, ...]) -> None:
    invoice = draft(*lines)
    with pytest.raises(ValidationError, match="draft invoice #1 has no lines with an amount"):
        invoice.post(number=1, posting_date=POSTING_DATE)
    assert invoice.status is InvoiceStatus.DRAFT
    assert invoice.number is None


def test_posting_a_negative_invoice_is_refused() -> None:
    invoice = draft(work("1", "100.00"), work("-2", "100.00"))
    with pytest.raises(ValidationError, match="invoice total is negative; make a credit note"):
        invoice.post(number=1, posting_date=POSTING_DATE)
    assert invoice.status is InvoiceStatus.DRAFT


def test_a_zero_total_invoice_can_be_posted() -> None:
    invoice = draft(work("1", "100.00", discount_percent=Decimal(100)))
    invoice.post(number=1, posting_date=POSTING_DATE)
    assert invoice.current_totals().gross == dkk("0")


def test_posting_before_the_invoice_date_is_refused() -> None:
    invoice = draft(work("1", "100.00"))
    with pytest.raises(ValidationError) as caught:
        invoice.post(number=1, posting_date=INVOICE_DATE - timedelta(days=1))
    assert str(caught.value) == (
        "the posting date 2024-03-14 is before the invoice date 2024-03-15 of draft invoice #1; "
        "post on or after the invoice date"
    )
    assert invoice.status is InvoiceStatus.DRAFT
    invoice.post(number=1, posting_date=INVOICE_DATE)
    assert invoice.posting_date == INVOICE_DATE


def test_posting_twice_is_refused() -> None:
    invoice = posted()
    with pytest.raises(ImmutableError, match="invoice 1001 is already posted"):
        invoice.post(number=1002, posting_date=POSTING_DATE)
    assert invoice.number == 1001


# immutability ---------------------------------------------------------------------------------

CHANGES: dict[str, Callable[[Invoice], object]] = {
    "heading": lambda inv: setattr(inv, "heading", "Changed"),
    "lines": lambda inv: setattr(inv, "lines", ()),
    "number": lambda inv: setattr(inv, "number", 1002),
    "totals": lambda inv: setattr(inv, "totals", None),
    "invoice_date": lambda inv: setattr(inv, "invoice_date", date(2024, 3, 1)),
    "revision": lambda inv: setattr(inv, "revision", 9),
    "add_lines": lambda inv: inv.add_lines([work("1")]),
    "remove_line": lambda inv: inv.remove_line(1),
    "update_header": lambda inv: inv.update_header(heading="Changed"),
}


@pytest.mark.parametrize("change", list(CHANGES.values()), ids=list(CHANGES))
def test_a_posted_invoice_cannot_change(change: Callable[[Invoice], object]) -> None:
    invoice = posted()
    before = (invoice.heading, invoice.lines, invoice.number, invoice.totals, invoice.revision)
    with pytest.raises(ImmutableError) as caught:
        change(invoice)
    assert str(caught.value) == (
        "invoice 1001 is posted and cannot be changed; make the correction with a credit note"
    )
    after = (invoice.heading, invoice.lines, invoice.number, invoice.totals, invoice.revision)
    assert after == before


def test_status_and_store_id_may_still_change_after_posting() -> None:
    invoice = posted()
    invoice.status = InvoiceStatus.PARTIALLY_CREDITED
    invoice.status = InvoiceStatus.CREDITED
    invoice.id = 42
    assert (invoice.status, invoice.id) == (InvoiceStatus.CREDITED, 42)


def test_a_posted_invoice_cannot_be_turned_back_into_a_draft() -> None:
    # Only moving on to (partially) credited is allowed after posting; going back to DRAFT
    # would lift the immutability of every other field.
    invoice = posted()
    with pytest.raises(ImmutableError):
        invoice.status = InvoiceStatus.DRAFT
    assert invoice.status is InvoiceStatus.POSTED


def test_a_posted_invoice_loads_completely_and_is_then_immutable() -> None:
    source = posted()
    loaded = draft(
        *source.lines,
        number=source.number,
        posting_date=source.posting_date,
        totals=source.totals,
        status=InvoiceStatus.POSTED,
    )
    assert loaded.current_totals() == source.totals
    with pytest.raises(ImmutableError):
        loaded.heading = "Changed"


# credits recorded on the invoice --------------------------------------------------------------


def test_record_credits_moves_the_status_on() -> None:
    invoice = posted(work("10"), text_line("Note", "DKK"), work("2", "50.00"))
    invoice.record_credits({})
    assert invoice.status is InvoiceStatus.POSTED
    invoice.record_credits({1: Decimal(4)})
    assert invoice.status is InvoiceStatus.PARTIALLY_CREDITED
    invoice.record_credits({1: Decimal(10), 3: Decimal("1.5")})
    assert invoice.status is InvoiceStatus.PARTIALLY_CREDITED
    invoice.record_credits({1: Decimal(10), 3: Decimal(2)})
    assert invoice.status is InvoiceStatus.CREDITED


def test_record_credits_on_a_draft_is_refused() -> None:
    with pytest.raises(ValidationError, match="only posted invoices are credited"):
        draft(work()).record_credits({1: Decimal(1)})


def test_record_credits_on_a_credit_note_is_refused() -> None:
    note = draft(
        work("-1", credits_position=1),
        document_type=DocumentType.CREDIT_NOTE,
        credits_invoice_id=9,
    )
    note.post(number=1002, posting_date=POSTING_DATE)
    with pytest.raises(ValidationError, match="only posted invoices are credited"):
        note.record_credits({1: Decimal(1)})
