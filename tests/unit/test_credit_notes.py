"""Credit notes: drafting full and partial credits of a posted invoice, and their totals."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ledgerlink.domain.errors import ValidationError
from ledgerlink.domain.invoices import (
    DocumentType,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    draft_credit_note,
    remaining_quantities,
    text_line,
)
from ledgerlink.domain.money import Money, total
from ledgerlink.domain.vat import VatCategory, VatTreatment

INVOICE_DATE = date(2024, 3, 15)
CREDIT_DATE = date(2024, 4, 2)


def dkk(amount: str) -> Money:
    return Money.of(amount, "DKK")


def work(quantity: str = "10", price: str = "1000.00", **changes: Any) -> InvoiceLine:
    fields: dict[str, Any] = {
        "kind": LineKind.WORK,
        "description": "Consulting",
        "quantity": Decimal(quantity),
        "unit": "hours",
        "unit_price": dkk(price),
        "project_id": 7,
        "employee_id": 3,
        "product_number": "W1",
        "time_registration_ids": (11, 12),
    }
    return InvoiceLine(**(fields | changes))


def posted(*lines: InvoiceLine, **changes: Any) -> Invoice:
    fields: dict[str, Any] = {
        "id": 1,
        "legal_entity_id": 1,
        "customer_id": 2,
        "currency": "DKK",
        "invoice_date": INVOICE_DATE,
        "due_date": date(2024, 4, 14),
        "seller_country": "DK",
        "customer_reference": "PO-77",
        "contact_id": 4,
        "project_id": 7,
        "lines": lines,
    }
    invoice = Invoice(**(fields | changes))
    invoice.post(number=1001, posting_date=INVOICE_DATE)
    return invoice


def credit(
    invoice: Invoice,
    quantities: Mapping[int, Decimal] | None = None,
    already_credited: Mapping[int, Decimal] | None = None,
) -> Invoice:
    return draft_credit_note(
        invoice,
        invoice_date=CREDIT_DATE,
        already_credited=already_credited or {},
        quantities=quantities,
    )


# examples -------------------------------------------------------------------------------------


def test_full_credit_note_copies_and_negates_the_invoice() -> None:
    invoice = posted(
        work("10"), text_line("Thanks", "DKK"), work("2", "50.01", discount_percent=Decimal(5))
    )
    note = credit(invoice)

    assert note.document_type is DocumentType.CREDIT_NOTE
    assert note.is_credit_note
    assert note.status is InvoiceStatus.DRAFT
    assert (note.credits_invoice_id, note.number) == (1, None)
    assert note.heading == "Credit note for invoice 1001"
    assert (note.invoice_date, note.due_date, note.tax_date) == (
        CREDIT_DATE,
        CREDIT_DATE,
        INVOICE_DATE,
    )
    assert (note.customer_id, note.customer_reference, note.contact_id, note.project_id) == (
        2,
        "PO-77",
        4,
        7,
    )
    assert [(line.kind, line.quantity, line.credits_position) for line in note.lines] == [
        (LineKind.WORK, Decimal(-10), 1),
        (LineKind.TEXT, Decimal(0), None),
        (LineKind.WORK, Decimal(-2), 3),
    ]
    first = note.lines[0]
    assert (first.unit_price, first.unit, first.project_id, first.employee_id) == (
        dkk("1000.00"),
        "hours",
        7,
        3,
    )
    assert first.product_number == "W1"
    assert first.time_registration_ids == ()  # the registrations stay on the invoice
    assert note.lines[2].discount_percent == 5
    assert note.compute_totals().gross == -invoice.current_totals().gross


def test_heading_can_be_given() -> None:
    note = draft_credit_note(
        posted(work()), invoice_date=CREDIT_DATE, already_credited={}, heading="Wrong rate"
    )
    assert note.heading == "Wrong rate"


def test_credit_note_keeps_the_vat_date_and_treatment_of_the_invoice() -> None:
    # Invoiced in H2 2020 at the German 16 %, credited in 2021 when the rate is 19 % again.
    line = work("1", unit_price=Money.of("100.00", "EUR"))
    invoice = posted(
        line,
        currency="EUR",
        seller_country="DE",
        invoice_date=date(2020, 12, 1),
        due_date=date(2020, 12, 31),
    )
    note = draft_credit_note(invoice, invoice_date=date(2021, 2, 1), already_credited={})
    assert note.tax_date == date(2020, 12, 1)
    assert note.compute_totals().vat == Money.of("-16.00", "EUR")

    reverse = posted(work("1"), vat_treatment=VatTreatment.EU_REVERSE_CHARGE)
    assert credit(reverse).vat_treatment is VatTreatment.EU_REVERSE_CHARGE


def test_partial_credit_credits_only_the_named_quantities() -> None:
    invoice = posted(work("10"), text_line("Thanks", "DKK"), work("2", "50.00"))
    note = credit(invoice, {3: Decimal("0.5")})
    assert [(line.quantity, line.credits_position) for line in note.lines] == [(Decimal("-0.5"), 3)]
    note.post(number=1002, posting_date=CREDIT_DATE)
    assert note.current_totals().gross == dkk("-31.25")


def test_credit_of_what_is_left_after_earlier_credits() -> None:
    invoice = posted(work("10"), work("2", "50.00"))
    note = credit(invoice, already_credited={1: Decimal(4), 2: Decimal(2)})
    assert [(line.quantity, line.credits_position) for line in note.lines] == [(Decimal(-6), 1)]


@pytest.mark.parametrize(
    ("quantities", "already", "message"),
    [
        ({1: Decimal(11)}, {}, "line 1 of invoice 1001: 10 is left to credit, not 11"),
        ({1: Decimal(7)}, {1: Decimal(4)}, "line 1 of invoice 1001: 6 is left to credit, not 7"),
        ({1: Decimal(1)}, {1: Decimal(10)}, "line 1 of invoice 1001: 0 is left to credit, not 1"),
        ({1: Decimal(0)}, {}, "line 1 of invoice 1001: 10 is left to credit, not 0"),
        ({1: Decimal(-1)}, {}, "line 1 of invoice 1001: 10 is left to credit, not -1"),
        ({2: Decimal(1)}, {}, "invoice 1001 has no line with an amount at position 2"),
        ({1: Decimal(1), 5: Decimal(1), 4: Decimal(1)}, {}, "with an amount at position 4, 5"),
    ],
)
def test_crediting_more_than_is_left_is_refused(
    quantities: dict[int, Decimal], already: dict[int, Decimal], message: str
) -> None:
    invoice = posted(work("10"), text_line("Thanks", "DKK"))
    with pytest.raises(ValidationError, match=message):
        credit(invoice, quantities, already)


def test_a_fully_credited_invoice_cannot_be_credited_again() -> None:
    invoice = posted(work("10"))
    with pytest.raises(ValidationError, match="invoice 1001 is already fully credited"):
        credit(invoice, already_credited={1: Decimal(10)})


def test_crediting_a_draft_is_refused() -> None:
    invoice = Invoice(
        id=1,
        legal_entity_id=1,
        customer_id=2,
        currency="DKK",
        invoice_date=INVOICE_DATE,
        due_date=INVOICE_DATE,
        seller_country="DK",
        lines=(work(),),
    )
    with pytest.raises(ValidationError, match="draft invoice #1 is not posted; delete or edit"):
        credit(invoice)


def test_crediting_a_posted_invoice_without_a_store_id_is_refused() -> None:
    with pytest.raises(ValidationError, match="invoice 1001 is not posted"):
        credit(posted(work(), id=None))


def test_crediting_a_credit_note_is_refused() -> None:
    note = credit(posted(work()))
    note.id = 2
    note.post(number=1002, posting_date=CREDIT_DATE)
    with pytest.raises(ValidationError, match="a credit note cannot be credited"):
        credit(note)


def test_a_credit_note_with_a_positive_total_is_not_posted() -> None:
    note = Invoice(
        legal_entity_id=1,
        customer_id=2,
        document_type=DocumentType.CREDIT_NOTE,
        credits_invoice_id=1,
        currency="DKK",
        invoice_date=CREDIT_DATE,
        due_date=CREDIT_DATE,
        seller_country="DK",
        lines=(work("1", credits_position=1),),
    )
    with pytest.raises(ValidationError, match="a credit note must not have a positive total"):
        note.post(number=1002, posting_date=CREDIT_DATE)


def test_remaining_quantities_skip_text_lines() -> None:
    invoice = posted(work("10"), text_line("Thanks", "DKK"), work("2", "50.00"))
    assert remaining_quantities(invoice, {3: Decimal("0.5")}) == {1: 10, 3: Decimal("1.5")}


def test_two_half_credits_are_each_rounded_on_their_own_like_the_erp_does() -> None:
    # Invoice: 2 × 50.02 = 100.04 net, VAT 25.01, gross 125.05. Each half: 50.02 net,
    # VAT 12.505 → 12.51, gross 62.53; together 125.06, one øre more than was invoiced.
    # Every document's VAT is rounded on that document, as the ERP computes it from the lines
    # we send; forcing the last credit note to the remainder would make it disagree with the
    # ERP's own total. Only a credit note of the whole invoice in one go negates it exactly.
    invoice = posted(work("2", "50.02"))
    assert invoice.current_totals().gross == dkk("125.05")

    first = credit(invoice, {1: Decimal(1)})
    first.post(number=1002, posting_date=CREDIT_DATE)
    rest = credit(invoice, already_credited={1: Decimal(1)})
    rest.post(number=1003, posting_date=CREDIT_DATE)

    credited = first.current_totals().gross + rest.current_totals().gross
    assert credited == -dkk("125.06")


# properties -----------------------------------------------------------------------------------

# (country, currency, categories with a domestic rate there)
SELLERS = [
    ("SE", "SEK", [VatCategory.STANDARD, VatCategory.REDUCED, VatCategory.ZERO]),
    ("DK", "DKK", [VatCategory.STANDARD, VatCategory.ZERO]),
]
AMOUNT_KINDS = [k for k in LineKind if k is not LineKind.TEXT]


@st.composite
def invoice_lines(
    draw: st.DrawFn, *, currency: str, categories: list[VatCategory], deductions: bool
) -> InvoiceLine:
    if draw(st.integers(0, 7)) == 0:
        return text_line("Note", currency)
    quantity = Decimal(draw(st.integers(1, 100_000))).scaleb(-2)  # 0.01 … 1000.00
    if deductions and draw(st.integers(0, 4)) == 0:
        quantity = -quantity
    return InvoiceLine(
        kind=draw(st.sampled_from(AMOUNT_KINDS)),
        description="line",
        quantity=quantity,
        unit_price=Money.from_minor_units(draw(st.integers(0, 10**7)), currency),
        discount_percent=Decimal(draw(st.integers(0, 10_000))).scaleb(-2),  # 0.00 … 100.00
        vat_category=draw(st.sampled_from(categories)),
    )


@st.composite
def posted_invoices(draw: st.DrawFn, *, deductions: bool = True) -> Invoice:
    country, currency, categories = draw(st.sampled_from(SELLERS))
    treatment = draw(st.sampled_from([VatTreatment.DOMESTIC, VatTreatment.EU_REVERSE_CHARGE]))
    if treatment is VatTreatment.EU_REVERSE_CHARGE:
        categories = [*categories, VatCategory.REDUCED, VatCategory.SECOND_REDUCED]
    lines = draw(
        st.lists(
            invoice_lines(currency=currency, categories=categories, deductions=deductions),
            min_size=1,
            max_size=8,
        )
    )
    assume(any(line.kind is not LineKind.TEXT for line in lines))
    invoice = Invoice(
        id=1,
        legal_entity_id=1,
        customer_id=1,
        currency=currency,
        invoice_date=INVOICE_DATE,
        due_date=INVOICE_DATE,
        seller_country=country,
        vat_treatment=treatment,
        lines=tuple(lines),
    )
    assume(invoice.compute_totals().gross.amount >= 0)
    invoice.post(number=1001, posting_date=INVOICE_DATE)
    return invoice


def _vat_by_category(invoice: Invoice) -> dict[VatCategory, tuple[Decimal, Money, Money]]:
    return {v.category: (v.percent, v.net, v.vat) for v in invoice.current_totals().vat_lines}


@given(posted_invoices())
def test_a_full_credit_note_negates_its_invoice_to_the_cent(invoice: Invoice) -> None:
    note = credit(invoice)
    note.post(number=1002, posting_date=CREDIT_DATE)

    invoiced, credited = invoice.current_totals(), note.current_totals()
    assert credited.net == -invoiced.net
    assert credited.vat == -invoiced.vat
    assert credited.gross == -invoiced.gross
    assert _vat_by_category(note) == {
        category: (percent, -net, -vat)
        for category, (percent, net, vat) in _vat_by_category(invoice).items()
    }


def _credit_in_chunks(invoice: Invoice, data: st.DataObject) -> list[Invoice]:
    """Credit ``invoice`` in random partial credit notes, then the rest; check the statuses."""
    credited: dict[int, Decimal] = {}
    notes: list[Invoice] = []
    while True:
        remaining = remaining_quantities(invoice, credited)
        open_positions = [position for position, qty in remaining.items() if qty != 0]
        if not open_positions:
            break
        quantities: dict[int, Decimal] | None = None
        if len(notes) < 4 and not data.draw(st.booleans(), label="credit the rest"):
            picked = data.draw(
                st.lists(st.sampled_from(open_positions), min_size=1, unique=True), label="lines"
            )
            quantities = {
                position: Decimal(
                    data.draw(st.integers(1, int(remaining[position] * 100)), label="hundredths")
                ).scaleb(-2)
                for position in picked
            }
        note = draft_credit_note(
            invoice, invoice_date=CREDIT_DATE, already_credited=credited, quantities=quantities
        )
        note.post(number=1002 + len(notes), posting_date=CREDIT_DATE)
        notes.append(note)
        for line in note.lines:
            if line.credits_position is not None:
                credited[line.credits_position] = (
                    credited.get(line.credits_position, Decimal(0)) - line.quantity
                )
        invoice.record_credits(credited)
        fully = all(qty == 0 for qty in remaining_quantities(invoice, credited).values())
        assert invoice.status is (
            InvoiceStatus.CREDITED if fully else InvoiceStatus.PARTIALLY_CREDITED
        )
    return notes


@given(posted_invoices(deductions=False), st.data())
def test_partial_credits_in_chunks_end_fully_credited(
    invoice: Invoice, data: st.DataObject
) -> None:
    notes = _credit_in_chunks(invoice, data)

    assert invoice.status is InvoiceStatus.CREDITED
    for position, line in enumerate(invoice.lines, start=1):
        if line.kind is not LineKind.TEXT:
            credited = sum(
                (
                    -n.quantity
                    for note in notes
                    for n in note.lines
                    if n.credits_position == position
                ),
                Decimal(0),
            )
            assert credited == line.quantity
    everything = {
        position: line.quantity
        for position, line in enumerate(invoice.lines, start=1)
        if line.kind is not LineKind.TEXT
    }
    with pytest.raises(ValidationError, match="already fully credited"):
        credit(invoice, already_credited=everything)


@given(posted_invoices(deductions=False), st.data())
def test_partial_credits_in_chunks_differ_from_the_invoice_gross_only_by_rounding(
    invoice: Invoice, data: st.DataObject
) -> None:
    notes = _credit_in_chunks(invoice, data)

    credited = total((note.current_totals().gross for note in notes), invoice.currency)
    # Each note rounds each of its line amounts and each of its VAT lines once, half a
    # minor unit at most each time.
    roundings = (
        sum(
            len([line for line in note.lines if line.kind is not LineKind.TEXT])
            + len(note.current_totals().vat_lines)
            for note in notes
        )
        + len(invoice.lines)
        + len(invoice.current_totals().vat_lines)
    )
    difference = abs(credited.minor_units + invoice.current_totals().gross.minor_units)
    assert difference * 2 <= roundings
