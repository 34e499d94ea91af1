"""The Visma plugin's pure mapping: wrapping, rows, truncations, signs, statuses, cursors."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from ledgerlink.financialhost.visma import mapping as m
from ledgerlink.interfaces.visma_adk import constants as c
from ledgerlink.wire.operations import DocumentStatus, WireCustomer, WireDocument, WireLine


def document(**changes: Any) -> WireDocument:
    fields: dict[str, Any] = {
        "kind": "invoice",
        "correlation": "ll:1:42:1",
        "customer_number": "1001",
        "currency": "SEK",
        "invoice_date": date(2026, 3, 2),
        "due_date": date(2026, 4, 1),
        "lines": [WireLine(kind="work", description="Konsult", product_number="KONSULT")],
        "expected_net": Decimal(0),
        "expected_gross": Decimal(0),
    }
    return WireDocument(**(fields | changes))


# --- wrapping -------------------------------------------------------------------------------


def test_wrap_text_keeps_short_text_on_one_row() -> None:
    assert m.wrap_text("Konsulttimmar mars") == ["Konsulttimmar mars"]
    assert m.wrap_text("x" * 60) == ["x" * 60]


def test_wrap_text_wraps_at_words_within_60_characters() -> None:
    text = "Utveckling av integrationen mot Visma Administration med tester och dokumentation"
    rows = m.wrap_text(text)
    assert len(rows) == 2
    assert all(len(row) <= 60 for row in rows)
    assert " ".join(rows) == text
    assert rows[0] == "Utveckling av integrationen mot Visma Administration med"


def test_wrap_text_splits_long_words_and_honours_line_breaks() -> None:
    assert m.wrap_text("a" * 130) == ["a" * 60, "a" * 60, "a" * 10]
    assert m.wrap_text("Rad ett\n\nRad två") == ["Rad ett", "Rad två"]
    assert m.wrap_text("") == []
    assert m.wrap_text("ab cd", width=2) == ["ab", "cd"]


# --- rows -----------------------------------------------------------------------------------


def test_only_product_lines_carry_amounts() -> None:
    long_text = "Workshop om fakturaflöden och integrationer med kund och projektledning, heldag"
    doc = document(
        lines=[
            WireLine(
                kind="work",
                description=long_text,
                product_number="KONSULT",
                quantity=Decimal("7.5"),
                unit_price=Decimal(1000),
                discount_percent=Decimal(10),
                project_number="P100-LONG-CODE",
                department="100",
            ),
            WireLine(kind="text", description="Tack för förtroendet", product_number="KONSULT"),
            WireLine(kind="expense", description="Utlägg utan produkt", quantity=Decimal(1)),
        ]
    )
    rows = m.invoice_rows(doc, default_unit="st", add_project_reference=False)
    assert [row.is_text for row in rows] == [False, True, True, True]
    article = rows[0]
    assert article.article_number == "KONSULT"
    assert (article.quantity, article.unit_price, article.discount_percent) == (
        Decimal("7.5"),
        Decimal(1000),
        Decimal(10),
    )
    assert article.unit == "st"  # the default unit
    assert article.project == "P100-LONG-"  # project code: 10 characters
    assert article.profit_centre == "100"
    assert len(article.text) <= 60
    assert article.text + " " + rows[1].text == long_text
    assert rows[2].text == "Tack för förtroendet"
    assert rows[3].text == "Utlägg utan produkt"
    for row in rows[1:]:
        assert row.fields() == {c.ADK_OOI_ROW_TEXT: row.text}


def test_a_credit_note_turns_the_quantities_positive() -> None:
    doc = document(
        kind="credit_note",
        lines=[
            WireLine(
                kind="work",
                description="Kreditering",
                product_number="KONSULT",
                quantity=Decimal(-2),
                unit_price=Decimal(1200),
            )
        ],
    )
    (row,) = m.invoice_rows(doc, default_unit="st", add_project_reference=False)
    assert row.quantity == Decimal(2)
    fields = m.head_fields(doc, correlation_field=c.ADK_OOI_HEAD_TEXT3)
    assert fields[c.ADK_OOI_HEAD_TYPE_OF_INVOICE] == "K"


def test_the_project_reference_is_the_first_text_row() -> None:
    doc = document(project_number="P100", heading="Webbprojekt mars")
    rows = m.invoice_rows(doc, default_unit="st", add_project_reference=True)
    assert rows[0].is_text
    assert rows[0].text == "P100 - Webbprojekt mars"
    assert not rows[1].is_text


# --- head -------------------------------------------------------------------------------------


def test_head_fields_put_the_correlation_and_requisition_apart() -> None:
    doc = document(
        customer_number="12345678901234567890",
        requisition_number="PO-" + "9" * 30,
        customer_reference="R" * 40,
        contact_ref="Karin Kund",
        salesperson="AA",
        project_number="PROJECT-12345",
    )
    order = m.head_fields(
        doc, correlation_field=c.ADK_OOI_HEAD_CUSTOMER_ORDER_NUMBER, seller_name="Anna"
    )
    assert order[c.ADK_OOI_HEAD_CUSTOMER_ORDER_NUMBER] == "ll:1:42:1"
    assert order[c.ADK_OOI_HEAD_TEXT3] == doc.requisition_number  # 60 characters room
    assert order[c.ADK_OOI_HEAD_CUSTOMER_NUMBER] == "1234567890123456"
    assert order[c.ADK_OOI_HEAD_ELECTRONIC_REFERENCE] == "R" * 35
    assert order[c.ADK_OOI_HEAD_CUSTOMER_REFERENCE_NAME] == "Karin Kund"
    assert order[c.ADK_OOI_HEAD_SELLER_CODE] == "AA"
    assert order[c.ADK_OOI_HEAD_OUR_REFERENCE_NAME] == "Anna"
    assert order[c.ADK_OOI_HEAD_PROJECT_CODE] == "PROJECT-12"
    assert order[c.ADK_OOI_HEAD_TYPE_OF_INVOICE] == "F"
    assert order[c.ADK_OOI_HEAD_INCLUDING_VAT] is False

    text3 = m.head_fields(doc, correlation_field=c.ADK_OOI_HEAD_TEXT3)
    assert text3[c.ADK_OOI_HEAD_TEXT3] == "ll:1:42:1"
    assert text3[c.ADK_OOI_HEAD_CUSTOMER_ORDER_NUMBER] == ("PO-" + "9" * 30)[:25]


def test_a_correlation_reference_is_never_cut() -> None:
    assert m.correlation_fits("x" * 25, c.ADK_OOI_HEAD_CUSTOMER_ORDER_NUMBER)
    assert not m.correlation_fits("x" * 26, c.ADK_OOI_HEAD_CUSTOMER_ORDER_NUMBER)
    assert m.correlation_fits("x" * 35, c.ADK_OOI_HEAD_TEXT3)


# --- customers -------------------------------------------------------------------------------


def test_customer_fields_truncate_and_default_the_country() -> None:
    customer = WireCustomer(
        number="C-" + "1" * 20,
        name="Kund AB",
        address_lines=("Storgatan 1" + " " * 3 + "x" * 40, "Box 12", "Plan 3"),
        city="Stockholms innerstad och omnejd",
        currency="SEK",
        ean="1234567890123456",
        payment_terms_days=10,
        salesperson="AA",
    )
    fields = m.customer_fields(customer, default_country="SE")
    assert fields[c.ADK_CUSTOMER_NUMBER] == "C-11111111111111"
    assert len(str(fields[c.ADK_CUSTOMER_MAILING_ADDRESS])) == 35
    assert fields[c.ADK_CUSTOMER_MAILING_ADDRESS2] == "Box 12 Plan 3"
    assert fields[c.ADK_CUSTOMER_CITY] == "Stockholms innerstad och"
    assert fields[c.ADK_CUSTOMER_CODE_OF_COUNTRY] == "SE"
    assert fields[c.ADK_CUSTOMER_EANLOC] == "1234567890123"
    assert fields[c.ADK_CUSTOMER_CODE_OF_TERMS_OF_PAYMENT] == "10"
    assert fields[c.ADK_CUSTOMER_SELLER] == "AA"


def test_customer_record_from_visma() -> None:
    record = m.customer_record(
        {
            c.ADK_CUSTOMER_NUMBER: "2001",
            c.ADK_CUSTOMER_NAME: "Dansk Rådgivning ApS",
            c.ADK_CUSTOMER_MAILING_ADDRESS: "Vesterbrogade 3",
            c.ADK_CUSTOMER_MAILING_ADDRESS2: "",
            c.ADK_CUSTOMER_CODE_OF_COUNTRY: "dk",
            c.ADK_CUSTOMER_CODE_OF_CURRENCY: "DKK",
            c.ADK_CUSTOMER_CODE_OF_TERMS_OF_PAYMENT: "K",
            c.ADK_CUSTOMER_INACTIVE: True,
            c.ADK_CUSTOMER_LASTCHANGE: date(2026, 3, 1),
        }
    )
    assert record.external_id == "2001"
    assert record.address_lines == ("Vesterbrogade 3",)
    assert record.country == "DK"
    assert record.payment_terms_days == 0
    assert record.blocked is True
    assert record.updated == date(2026, 3, 1)


def test_payment_terms() -> None:
    assert m.payment_terms_code(30) == "30"
    assert m.payment_terms_code(0) == "K"
    assert m.payment_terms_days("30") == 30
    assert m.payment_terms_days("K") == 0


# --- money, results, statuses -----------------------------------------------------------------


def test_doubles_become_decimals_rounded_half_up() -> None:
    assert m.to_decimal(0.1 + 0.2, 2) == Decimal("0.30")
    assert m.to_decimal(2.675, 2) == Decimal("2.68")  # repr, not the binary expansion
    assert m.to_decimal(1001.0, 0) == Decimal(1001)
    assert m.in_base_currency(Decimal(1000), Decimal("154.2"), 100) == Decimal("1542.00")


def head(**values: m.RecordValue) -> dict[int, m.RecordValue]:
    record: dict[int, m.RecordValue] = {
        c.ADK_OOI_HEAD_DOCUMENT_NUMBER: Decimal(1001),
        c.ADK_OOI_HEAD_DOCUMENT_PRINTED: False,
        c.ADK_OOI_HEAD_DOCUMENT_CANCELLED: False,
        c.ADK_OOI_HEAD_TYPE_OF_INVOICE: "F",
        c.ADK_OOI_HEAD_CUSTOMER_ORDER_NUMBER: "ll:1",
        c.ADK_OOI_HEAD_CURRENCY_CODE: "SEK",
        c.ADK_OOI_HEAD_TOTAL_AMOUNT: Decimal("1250.00"),
        c.ADK_OOI_HEAD_BALANCE: Decimal("1250.00"),
        c.ADK_OOI_HEAD_EXCLUDING_OF_VAT: Decimal("1000.00"),
        c.ADK_OOI_HEAD_VAT_AMOUNT: Decimal("250.00"),
        c.ADK_OOI_HEAD_DOCUMENT_DATE2: date(2026, 4, 1),
    }
    names = {
        "printed": c.ADK_OOI_HEAD_DOCUMENT_PRINTED,
        "cancelled": c.ADK_OOI_HEAD_DOCUMENT_CANCELLED,
        "kind": c.ADK_OOI_HEAD_TYPE_OF_INVOICE,
        "total": c.ADK_OOI_HEAD_TOTAL_AMOUNT,
        "balance": c.ADK_OOI_HEAD_BALANCE,
        "net": c.ADK_OOI_HEAD_EXCLUDING_OF_VAT,
        "vat": c.ADK_OOI_HEAD_VAT_AMOUNT,
    }
    record.update({names[name]: value for name, value in values.items()})
    return record


ORDER = c.ADK_OOI_HEAD_CUSTOMER_ORDER_NUMBER


def test_document_result_of_a_draft_and_of_a_credit_note() -> None:
    result = m.document_result(head(), correlation_field=ORDER)
    assert (result.external_id, result.correlation, result.booked_number) == ("1001", "ll:1", "")
    assert (result.net, result.vat, result.gross) == (
        Decimal("1000.00"),
        Decimal("250.00"),
        Decimal("1250.00"),
    )
    negative = head(kind="K", total=Decimal(-1250), net=Decimal(-1000), vat=Decimal(-250))
    assert m.document_result(negative, correlation_field=ORDER).gross == Decimal(-1250)
    # A Visma reporting a credit invoice positive is turned to the PSA's sign.
    positive = head(kind="K")
    turned = m.document_result(positive, correlation_field=ORDER)
    assert (turned.net, turned.gross) == (Decimal("-1000.00"), Decimal("-1250.00"))


@pytest.mark.parametrize(
    ("values", "payments", "status", "remainder", "paid"),
    [
        ({}, None, DocumentStatus.DRAFT, None, False),
        ({"printed": True}, Decimal(0), DocumentStatus.BOOKED, Decimal("1250.00"), False),
        ({"printed": True, "balance": Decimal(0)}, None, DocumentStatus.BOOKED, Decimal(0), True),
        ({"printed": True}, Decimal(1250), DocumentStatus.BOOKED, Decimal("1250.00"), True),
        ({"cancelled": True, "balance": Decimal(0)}, None, DocumentStatus.DELETED, None, False),
    ],
)
def test_status_record(
    values: dict[str, Any],
    payments: Decimal | None,
    status: DocumentStatus,
    remainder: Decimal | None,
    paid: bool,
) -> None:
    record = m.status_record(head(**values), correlation_field=ORDER, payments=payments)
    assert (record.status, record.remainder, record.paid) == (status, remainder, paid)
    assert record.booked_number == ("1001" if status is DocumentStatus.BOOKED else "")
    assert record.due_date == date(2026, 4, 1)


def test_expense_record_is_net_of_vat_and_in_base_currency() -> None:
    record = m.expense_record(
        {
            c.ADK_SUP_INV_HEAD_GIVEN_NUMBER: Decimal(7),
            c.ADK_SUP_INV_HEAD_SUPPLIER_NAME: "SJ AB",
            c.ADK_SUP_INV_HEAD_INVOICE_NUMBER: "SJ-1",
            c.ADK_SUP_INV_HEAD_INVOICE_DATE: date(2026, 3, 1),
            c.ADK_SUP_INV_HEAD_TOTAL: Decimal("1250.00"),
            c.ADK_SUP_INV_HEAD_VAT_AMOUNT: Decimal("250.00"),
            c.ADK_SUP_INV_HEAD_PROJECT: "P200",
            c.ADK_SUP_INV_HEAD_NOTE1: "Tåg",
        },
        currency="DKK",
        rate=Decimal("154.2"),
        factor=100,
    )
    assert record is not None
    assert (record.external_id, record.amount, record.amount_in_base_currency) == (
        "7",
        Decimal("1000.00"),
        Decimal("1542.00"),
    )
    assert (record.text, record.voucher_number, record.project_number) == (
        "SJ AB: Tåg",
        "SJ-1",
        "P200",
    )
    assert m.expense_record({}, currency="SEK", rate=Decimal(1), factor=1) is None


# --- cursors and errors -----------------------------------------------------------------------


def test_cursors() -> None:
    assert m.decode_cursor(None) is None
    assert m.decode_cursor(m.encode_cursor((1700000000, "1001"))) == (1700000000, "1001")
    with pytest.raises(ValueError, match="not a Visma change cursor"):
        m.decode_cursor("yesterday")
    assert m.after((5, "10"), (5, "9"))  # numeric keys compare as numbers
    assert not m.after((5, "9"), (5, "9"))
    assert m.after((6, "1"), (5, "9"))
    assert m.after((1, "A"), None)


def test_error_classification_and_hints() -> None:
    for code in (80, 128, 135, 116, 137):
        assert m.is_unavailable(code)
    for code in (39, 279, 149, 43, 49, 50):
        assert not m.is_unavailable(code)
    assert "säljare" in m.hint_for(c.ADKE_CUSTOMER_INVALID_SELLER)
    assert "create the project in visma first" in m.hint_for(c.ADKE_INVLAID_PROJECT).lower()
    assert "country code" in m.hint_for(c.ADKE_INVALID_COUNTRY_CODE)
    assert m.hint_for(9999) == m.DEFAULT_HINT
