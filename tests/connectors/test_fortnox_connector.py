"""The Fortnox connector against its emulator (over loopback, through its spec, as the contract
suite builds it): a credit note references the booked invoice it credits when the engine names
it, projects are found before they are created, expenses are read once per voucher row, and a
draft dated in the locked period is refused before anything is sent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx2
import pytest

from ledgerlink.connectors.contract import OutgoingDocument, Permanent
from ledgerlink.connectors.testing import builders
from tests.contract.registry import Case
from tests.contract.test_connector_contract import CASES_BY_NAME

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Case]:
    folder: Path = tmp_path_factory.mktemp("fortnox")
    with CASES_BY_NAME["fortnox"].start(folder) as started:
        yield started


def test_a_credit_note_references_the_booked_invoice_it_credits(case: Case) -> None:
    connector = case.connector()
    try:
        doc = builders.invoice()
        original = connector.create_document(
            builders.outgoing(
                doc,
                correlation="ll:t:credited",
                customer_ref="1",
                line_products=builders.line_products(doc, "WORK"),
            )
        )
        note_doc = builders.credit_note()
        fields = {
            "invoice": note_doc,
            "correlation": "ll:t:credit",
            "customer_ref": "1",
            "line_products": builders.line_products(note_doc, "WORK"),
        }
        early = connector.create_document(
            OutgoingDocument(**fields, credits_ref=original.external_id)
        )
        case.erp.book(original)
        later = connector.create_document(
            OutgoingDocument(
                **{**fields, "correlation": "ll:t:credit-2"}, credits_ref=original.external_id
            )
        )
    finally:
        connector.close()
    with_reference = httpx2.get(f"{case_base(case)}/_emulator/invoices").json()["Invoices"]
    by_number = {i["DocumentNumber"]: i for i in with_reference}
    # before the original was booked the credit note went without the reference
    assert by_number[early.external_id]["CreditInvoiceReference"] == "0"
    assert by_number[later.external_id]["CreditInvoiceReference"] == original.external_id
    assert by_number[later.external_id]["Credit"] == "true"
    assert later.gross.amount < 0


def test_projects_are_found_before_created_and_expenses_read_once(case: Case) -> None:
    connector = case.connector()
    try:
        made = connector.ensure_project(builders.project(number="P-31", name="Lager"), "1")
        again = connector.ensure_project(builders.project(number="P31", name="Lager"), "1")
        seeded = connector.ensure_project(builders.project(number="100", name="x"), "1")
        first = connector.expenses(None)
        second = connector.expenses(first.cursor)
    finally:
        connector.close()
    assert (made.external_id, made.created) == ("P31", True)
    assert (again.external_id, again.created) == ("P31", False)
    assert (seeded.external_id, seeded.created) == ("100", False)
    assert [(e.account, e.amount.amount, e.project_ref) for e in first.items] == [
        ("5800", 1200, "100"),
        ("5831", 1500, "100"),
        ("6071", 800, ""),
    ]
    assert not second.items and second.cursor == first.cursor


def test_a_draft_dated_in_the_locked_period_is_refused_before_it_is_sent(case: Case) -> None:
    base = case_base(case)
    httpx2.put(f"{base}/_emulator/lockedperiod", json={"EndDate": "2026-12-31"}).raise_for_status()
    connector = case.connector()
    try:
        doc = builders.invoice(invoice_date=date(2026, 3, 2))
        document = builders.outgoing(
            doc,
            correlation="ll:t:locked",
            customer_ref="1",
            line_products=builders.line_products(doc, "WORK"),
        )
        with pytest.raises(Permanent, match="locked up to 2026-12-31") as refused:
            connector.create_document(document)
        assert refused.value.field_errors[0].path == "InvoiceDate"
        assert "unlock the period" in refused.value.hint
        assert case.erp.count_documents("ll:t:locked") == 0
    finally:
        httpx2.put(f"{base}/_emulator/lockedperiod", json={"EndDate": None}).raise_for_status()
        connector.close()


def case_base(case: Case) -> str:
    connector = case.connector()
    try:
        return str(connector.settings.base_url)  # type: ignore[attr-defined]
    finally:
        connector.close()
