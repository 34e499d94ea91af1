"""Fortnox's pure mappings: what a customer and a draft invoice look like in Fortnox, the field
limits as named rules (shortened texts, refused identifiers), and reading invoices back."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ledgerlink.connectors.contract import Permanent, PostingStatus
from ledgerlink.connectors.fortnox import mapping
from ledgerlink.connectors.fortnox.dtos import InvoiceReadDto, to_wire
from ledgerlink.domain.invoices import LineKind, text_line
from ledgerlink.domain.money import Money
from ledgerlink.domain.parties import Address
from ledgerlink.domain.vat import VatCategory, VatTreatment
from tests.connectors.builders import credit_note, customer, invoice, outgoing, work_line

pytestmark = pytest.mark.unit


def document(**changes: object) -> mapping.OutgoingDocument:
    inv = invoice(**changes)  # type: ignore[arg-type]
    products = tuple("" if line.kind is LineKind.TEXT else "WORK" for line in inv.lines)
    return outgoing(inv, correlation="LL-NORDLYS-1001", customer_ref="1", line_products=products)


# customers ------------------------------------------------------------------------------------


def test_customer_goes_with_its_number_swedish_country_name_and_vat_type() -> None:
    body = to_wire(
        mapping.customer_to_dto(customer(vat_number="DK13585628"), home_country="SE", number="100")
    )
    assert body == {
        "CustomerNumber": "100",
        "Name": "Hansen Byg A/S",
        "OrganisationNumber": "13585628",
        "VATNumber": "DK13585628",
        "VATType": "EUREVERSEDVAT",
        "Type": "COMPANY",
        "Address1": "Havnegade 1",
        "Address2": "2. sal",
        "ZipCode": "1058",
        "City": "København K",
        "Country": "Danmark",
        "CountryCode": "DK",
        "Currency": "DKK",
        "Email": "bogholderi@hansenbyg.dk",
        "Phone1": "+45 33 12 34 56",
    }


def test_vat_type_follows_the_sale() -> None:
    swedish = customer(
        address=Address(city="Stockholm", country="SE"),
        currency="SEK",
        registration_number="5560360793",
    )
    american = customer(address=Address(city="Boston", country="US"))
    assert mapping.vat_type(swedish, home_country="SE") == "SEVAT"
    assert mapping.vat_type(american, home_country="SE") == "EXPORT"


def test_country_names_are_swedish_and_read_back_as_codes() -> None:
    assert [mapping.country_name(c) for c in ("SE", "DK", "DE", "GB", "")] == [
        "Sverige",
        "Danmark",
        "Tyskland",
        "Storbritannien",
        None,
    ]
    assert mapping.country_code("Danmark") == "DK"
    assert mapping.country_code("Atlantis") == "Atlantis"


def test_third_address_line_joins_the_second() -> None:
    assert mapping.address_lines(("Gatan 1", "", "Hus B", "Plan 3")) == ("Gatan 1", "Hus B, Plan 3")
    assert mapping.address_lines(()) == (None, None)


def test_identifiers_that_do_not_fit_are_refused_not_cut() -> None:
    with pytest.raises(Permanent, match="postal code"):
        mapping.customer_to_dto(
            customer(address=Address(postal_code="12345678901", country="DK")), home_country="SE"
        )
    with pytest.raises(Permanent, match="cannot be used in Fortnox"):
        mapping.customer_number("A/B")


def test_an_update_sends_no_number() -> None:
    assert "CustomerNumber" not in to_wire(mapping.customer_to_dto(customer(), home_country="SE"))


# invoices -------------------------------------------------------------------------------------


def test_invoice_header_carries_the_correlation_and_the_references() -> None:
    body = to_wire(
        mapping.invoice_to_dto(document(customer_reference="Erik Ek", internal_reference="AB"))
    )
    rows = body.pop("InvoiceRows")
    assert body == {
        "CustomerNumber": "1",
        "ExternalInvoiceReference1": "LL-NORDLYS-1001",
        "Currency": "DKK",
        "VATIncluded": False,
        "InvoiceDate": "2026-03-02",
        "YourOrderNumber": "PO-4711",
        "YourReference": "Erik Ek",
        "OurReference": "AB",
        "Remarks": "Consulting March 2024",
        "Comments": "Thank you for your business.",
    }  # the PSA's invoice date; no invoice number, due date or terms: Fortnox decides them
    assert rows == [
        {
            "ArticleNumber": "WORK",
            "DeliveredQuantity": "7.5",
            "Price": Decimal("850.00"),
            "VAT": 25,
            "Description": "Consulting, March",
        },
        {"Description": "Travel included"},
    ]


def test_long_descriptions_continue_in_text_rows_of_50() -> None:
    text = "Development of the customer portal, sprint 14: login, invoices and reports"
    rows = mapping.invoice_rows(work_line(description=text), product="WORK", position=1)
    assert [row.Description for row in rows] == [
        "Development of the customer portal, sprint 14:",
        "login, invoices and reports",
    ]
    assert rows[0].ArticleNumber == "WORK" and rows[1].ArticleNumber is None
    note = mapping.invoice_rows(text_line("x " * 40, "DKK"), product="", position=2)
    assert all(row.ArticleNumber is None and len(row.Description or "") <= 50 for row in note)


def test_discount_is_sent_in_per_cent() -> None:
    row = mapping.invoice_rows(
        work_line(discount_percent=Decimal("12.5")), product="WORK", position=1
    )[0]
    assert (row.Discount, row.DiscountType) == (Decimal("12.5"), "PERCENT")
    plain = mapping.invoice_rows(work_line(), product="WORK", position=1)[0]
    assert (plain.Discount, plain.DiscountType) == (None, None)


def test_a_line_without_an_article_is_refused_with_a_hint() -> None:
    with pytest.raises(Permanent, match="no Fortnox article number") as caught:
        mapping.invoice_rows(work_line(), product=" ", position=3)
    assert "product-number principle" in caught.value.hint


def test_rows_carry_the_psas_vat_rate_and_a_custom_domestic_rate_its_account() -> None:
    sek = Money.of("850.00", "SEK")
    hotel = work_line(kind=LineKind.EXPENSE, vat_category=VatCategory.REDUCED, unit_price=sek)
    swedish = invoice(work_line(unit_price=sek), hotel, seller_country="SE", currency="SEK")
    doc = outgoing(swedish, customer_ref="1", line_products=("WORK", "EXP"))
    rows = mapping.invoice_to_dto(doc, vat_accounts={12: 3002}).InvoiceRows
    assert [(r.VAT, r.AccountNumber) for r in rows] == [(25, None), (12, 3002)]
    export = invoice(work_line(), seller_country="SE", vat_treatment=VatTreatment.EXPORT)
    (row,) = mapping.invoice_to_dto(
        outgoing(export, customer_ref="1", line_products=("WORK",)), vat_accounts={0: 3004}
    ).InvoiceRows
    assert (row.VAT, row.AccountNumber) == (0, None)  # the customer's VAT type decides


def test_credit_note_is_an_invoice_with_negative_quantities() -> None:
    note = credit_note()
    dto = mapping.invoice_to_dto(outgoing(note, customer_ref="1", line_products=("WORK",)))
    assert dto.InvoiceRows[0].DeliveredQuantity == "-2"
    assert dto.InvoiceRows[0].Price == Decimal("850.00")


def test_texts_shown_to_people_are_shortened_at_a_word() -> None:
    dto = mapping.invoice_to_dto(document(customer_reference="Erik " * 20, message="ord " * 300))
    assert dto.YourReference is not None and len(dto.YourReference) <= mapping.MAX_REFERENCE
    assert dto.YourReference.endswith("…")
    # the PSA's heading (at most 500) always fits Remarks (1024); its message (4000) may not
    assert dto.Comments is not None and len(dto.Comments) <= mapping.MAX_COMMENTS


def test_order_number_and_correlation_are_never_cut() -> None:
    with pytest.raises(Permanent, match=r"P\.O\. number"):
        mapping.invoice_to_dto(document(requisition_number="P" * 76))
    assert mapping.your_order_number("P" * 75) == "P" * 75
    with pytest.raises(Permanent, match="ledgerlink fault"):
        mapping.correlation_reference("L" * 81)


def test_quantities_are_exact_text() -> None:
    assert [
        mapping.quantity_text(Decimal(v)) for v in ("7.50", "2", "-2.000", "1E+1", "0.125")
    ] == ["7.5", "2", "-2", "10", "0.125"]


# reading back ---------------------------------------------------------------------------------


def read(**fields: object) -> InvoiceReadDto:
    base: dict[str, object] = {
        "DocumentNumber": "12",
        "ExternalInvoiceReference1": "LL-NORDLYS-1001",
        "Currency": "SEK",
        "Net": 1000,
        "TotalVAT": Decimal("250.00"),
        "Total": 1250,
        "Balance": 1250,
        "Booked": True,
        "Cancelled": False,
        "InvoiceDate": "2026-03-02",
        "DueDate": "2026-04-01",
        "FinalPayDate": "",
    }
    return InvoiceReadDto.model_validate(base | fields)


def test_document_keeps_its_number_from_draft_to_booked() -> None:
    draft = mapping.erp_document(read(Booked=False))
    assert (draft.external_id, draft.booked_number) == ("12", "")
    booked = mapping.erp_document(read())
    assert (booked.external_id, booked.booked_number) == ("12", "12")
    assert str(booked.gross.amount) == "1250.00" and booked.gross.currency == "SEK"


def test_balancing_reports_booked_paid_and_cancelled_not_drafts() -> None:
    open_ = mapping.status_update(read())
    assert open_ is not None
    assert (open_.status, open_.paid, open_.due_date, open_.booked_on) == (
        PostingStatus.BOOKED,
        False,
        date(2026, 4, 1),
        date(2026, 3, 2),  # booked on its invoice date
    )
    paid = mapping.status_update(read(Balance=0, FinalPayDate="2026-03-20"))
    assert paid is not None and paid.paid and paid.remainder is not None
    assert paid.remainder.is_zero()
    cancelled = mapping.status_update(read(Booked=False, Cancelled=True))
    assert cancelled is not None and cancelled.status is PostingStatus.DELETED
    assert cancelled.booked_on is None  # never booked
    assert mapping.status_update(read(Booked=False)) is None
    assert mapping.status_fingerprint(read()) != mapping.status_fingerprint(read(Balance=0))
