"""The reconciliation report (issue 14 item 7): the pure computation on hand-made facts (status,
currency groups, every kind of difference, CSV), and the report over the engine's hub and the
fake ERP on both databases (a seeded totals difference found, agreement when there is none,
documents grouped by status after balancing, the period)."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from ledgerlink.connectors.testing import FakeErp
from ledgerlink.domain.entity import require_id
from ledgerlink.domain.errors import ValidationError
from ledgerlink.domain.invoices import DocumentType
from ledgerlink.domain.money import Money
from ledgerlink.domain.transfers import TransferStatus, TransferView
from ledgerlink.store.database import Database
from ledgerlink.store.integration import ErpDocumentState
from ledgerlink.sync import reconcile
from ledgerlink.sync.reconcile import (
    DifferenceKind,
    DocumentFacts,
    Period,
    ReconcileStatus,
    Reconciliation,
)
from tests.sync.test_engine import Hub, build_hub

AUGUST = Period(start=date(2026, 8, 1), end=date(2026, 8, 31))


def dkk(amount: str, currency: str = "DKK") -> Money:
    return Money.of(amount, currency)


def facts(
    number: int,
    gross: str,
    *,
    erp_gross: str | None = None,
    status: str = "draft",
    paid: bool = False,
    remainder: str | None = None,
    customer: str = "C1",
    currency: str = "DKK",
    erp_currency: str | None = None,
    view: TransferView | None = None,
    external_id: str = "",
) -> DocumentFacts:
    erp = None
    if erp_gross is not None:
        theirs = erp_currency or currency
        erp = ErpDocumentState(
            invoice_id=number,
            correlation=f"LL-X-{number}",
            external_id=f"E{number}",
            status=status,
            booked_number="",
            gross=Money.of(erp_gross, theirs),
            remainder=None if remainder is None else Money.of(remainder, theirs),
            paid=paid,
        )
    return DocumentFacts(
        invoice_id=number,
        number=number,
        document_type=DocumentType.INVOICE,
        posting_date=date(2026, 8, 31),
        customer_number=customer,
        customer_name=f"Customer {customer}",
        psa_gross=Money.of(gross, currency),
        erp=erp,
        external_id=external_id or (f"E{number}" if erp else ""),
        view=view or (TransferView.TRANSFERRED if erp else TransferView.NON_TRANSFERRED),
        transfer_id=number if erp else None,
    )


def test_each_document_gets_its_status_and_only_real_differences_are_listed() -> None:
    report = reconcile.reconcile(
        1,
        AUGUST,
        [
            facts(1, "100.00", erp_gross="100.00"),  # sent, agrees
            facts(2, "200.00", erp_gross="200.00", status="booked", remainder="50.00"),
            facts(3, "300.00", erp_gross="300.00", status="booked", paid=True),
            facts(4, "400.00", erp_gross="395.00"),  # the ERP's total is 5 less
            facts(5, "500.00"),  # posted, never transferred
            facts(6, "600.00", view=TransferView.IGNORED),
            facts(7, "700.00", erp_gross="700.00", status="deleted"),
            facts(8, "80.00", erp_gross="80.00", erp_currency="EUR"),
            facts(9, "90.00", external_id="E9", view=TransferView.TRANSFERRED),
        ],
    )
    status = {line.facts.number: line.status for line in report.documents}
    assert status == {
        1: ReconcileStatus.SENT,
        2: ReconcileStatus.BOOKED,
        3: ReconcileStatus.PAID,
        4: ReconcileStatus.SENT,
        5: ReconcileStatus.NOT_SENT,
        6: ReconcileStatus.NOT_SENT,
        7: ReconcileStatus.DELETED,
        8: ReconcileStatus.SENT,
        9: ReconcileStatus.SENT,
    }
    kinds = {line.facts.number: line.kind for line in report.differences}
    assert kinds == {
        4: DifferenceKind.AMOUNT,
        5: DifferenceKind.NOT_SENT,
        6: DifferenceKind.IGNORED,
        7: DifferenceKind.DELETED,
        8: DifferenceKind.CURRENCY,
        9: DifferenceKind.UNKNOWN,
    }
    by_number = {line.facts.number: line for line in report.documents}
    assert by_number[4].difference == dkk("5.00")
    assert "395.00 DKK" in by_number[4].explanation and "+5.00 DKK" in by_number[4].explanation
    assert by_number[5].difference == dkk("500.00") and by_number[5].erp_gross is None
    assert by_number[3].remainder == dkk("0.00")  # paid: nothing open
    assert by_number[8].difference is None  # kroner and euros are not subtracted
    assert not report.agrees
    (total,) = report.totals  # the PSA's currency: one group
    assert (total.documents, total.psa_gross) == (9, dkk("2970.00"))
    # Only what the ERP still holds in kroner: not the deleted one, not the one in euros.
    assert (total.erp_gross, total.difference) == (dkk("995.00"), dkk("1975.00"))
    assert total.remainder == dkk("50.00")


def test_totals_are_grouped_by_status_customer_and_currency_never_mixed() -> None:
    report = reconcile.reconcile(
        1,
        AUGUST,
        [
            facts(1, "100.00", erp_gross="100.00", customer="C1"),
            facts(
                2, "250.00", erp_gross="240.00", customer="C1", status="booked", remainder="240.00"
            ),
            facts(3, "50.00", customer="C2"),
            facts(4, "10.00", erp_gross="10.00", customer="C2", currency="EUR", paid=True),
        ],
    )
    (dkk_total, eur_total) = report.totals
    assert (dkk_total.currency, dkk_total.documents) == ("DKK", 3)
    assert dkk_total.psa_gross == dkk("400.00")
    assert dkk_total.erp_gross == dkk("340.00")
    assert dkk_total.difference == dkk("60.00")  # 10.00 the ERP lacks + 50.00 not sent
    assert dkk_total.remainder == dkk("240.00")
    assert (eur_total.currency, eur_total.psa_gross) == ("EUR", dkk("10.00", "EUR"))
    assert [(s.status, s.amounts.currency, s.amounts.documents) for s in report.by_status] == [
        (ReconcileStatus.NOT_SENT, "DKK", 1),
        (ReconcileStatus.SENT, "DKK", 1),
        (ReconcileStatus.BOOKED, "DKK", 1),
        (ReconcileStatus.PAID, "EUR", 1),
    ]
    customers = {(c.customer_number, c.amounts.currency): c for c in report.by_customer}
    assert set(customers) == {("C1", "DKK"), ("C2", "DKK"), ("C2", "EUR")}
    c1 = customers["C1", "DKK"]
    assert c1.amounts.difference == dkk("10.00")
    assert c1.by_status == {
        ReconcileStatus.SENT: dkk("100.00"),
        ReconcileStatus.BOOKED: dkk("240.00"),
    }
    assert customers["C2", "DKK"].by_status == {ReconcileStatus.NOT_SENT: dkk("50.00")}
    assert customers["C2", "DKK"].amounts.remainder is None  # nothing the ERP told


def test_an_empty_period_agrees_and_a_backwards_one_is_refused() -> None:
    report = reconcile.reconcile(1, AUGUST, [])
    assert report.agrees and report.totals == () and report.by_status == ()
    with pytest.raises(ValidationError, match="swap the dates"):
        Period(start=date(2026, 9, 1), end=date(2026, 8, 1))
    assert Period().bounds is None
    assert Period(start=date(2026, 8, 1)).bounds == (date(2026, 8, 1), date.max)


def test_the_csv_has_a_line_per_document_and_no_formula_cells() -> None:
    sneaky = facts(2, "-125.00", erp_gross="-125.00", customer="=HYPERLINK(1)")
    report = reconcile.reconcile(3, AUGUST, [facts(1, "100.00"), sneaky])
    rows = list(csv.reader(io.StringIO(reconcile.to_csv([report]))))
    assert rows[0] == list(reconcile.CSV_COLUMNS)
    assert len(rows) == 3
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["status"] == "not_sent" and first["difference"] == "100.00"
    assert first["currency"] == "DKK" and first["ERP gross"] == ""
    second = dict(zip(rows[0], rows[2], strict=True))
    assert second["customer number"] == "'=HYPERLINK(1)"
    assert second["PSA gross"] == "-125.00"  # a negative amount is a number, left as it is


# over the engine and the fake ERP -------------------------------------------------------------


def _transfer(hub: Hub, *which: int) -> None:
    for index in which:
        invoice = hub.invoices[index]
        started = hub.engine.start_transfer(hub.connection_id, require_id(invoice))
        hub.engine.transfer_now(require_id(started))


def _report(hub: Hub, period: Period = AUGUST) -> Reconciliation:
    return reconcile.reconciliation(hub.engine.uow, hub.connection_id, period)


@pytest.fixture
def hub(database: Database, tmp_path: Path) -> Hub:
    return build_hub(database, tmp_path, FakeErp())


def test_a_seeded_difference_is_found_the_sides_agree_once_mended_and_statuses_group(
    hub: Hub,
) -> None:
    """One hub per database (building it is most of the cost): a totals difference and a
    failed document found; agreement once the ERP's total is the PSA's; paid after balancing."""
    differs, failing = hub.invoices
    # The sample's two invoices are in two currencies: a group each, never added up.
    assert (differs.currency, failing.currency) == ("DKK", "SEK")
    hub.erp.gross_difference = Decimal("5.00")
    _transfer(hub, 0)
    hub.erp.gross_difference = Decimal(0)
    hub.erp.fail("create_document", RuntimeError("the ERP fell over"))
    _transfer(hub, 1)
    assert hub.log(failing)[0].status is TransferStatus.FAILED

    report = _report(hub)
    amount, missing = report.differences
    assert (amount.facts.number, amount.kind) == (differs.number, DifferenceKind.AMOUNT)
    assert amount.difference == Money.of("-5.00", "DKK")
    assert amount.erp_gross == differs.current_totals().gross + Money.of("5.00", "DKK")
    assert amount.facts.transfer_id is not None  # the log of the document is one link away
    assert (missing.facts.number, missing.kind) == (failing.number, DifferenceKind.NOT_SENT)
    assert "failed" in missing.explanation and missing.facts.view is TransferView.FAILED
    assert [(s.status, s.amounts.currency) for s in report.by_status] == [
        (ReconcileStatus.NOT_SENT, "SEK"),
        (ReconcileStatus.SENT, "DKK"),
    ]
    assert {t.currency: t.difference for t in report.totals} == {
        "DKK": Money.of("-5.00", "DKK"),
        "SEK": failing.current_totals().gross,
    }

    # The failed one sent again; the ERP's draft corrected and read back as the PSA's total.
    _transfer(hub, 1)
    with hub.engine.uow() as uow:
        state = uow.erp_documents.for_connection(hub.connection_id)[require_id(differs)]
        uow.erp_documents.record(
            hub.connection_id,
            require_id(differs),
            correlation=state.correlation,
            external_id=state.external_id,
            gross=differs.current_totals().gross,
        )
        uow.erp_documents.update_status(
            hub.connection_id,
            state.correlation,
            status="booked",
            booked_number="20260042",
            remainder=Money.zero("DKK"),
            paid=True,
            booked_on=date(2026, 8, 31),
        )
        uow.commit()
    report = _report(hub)
    assert report.agrees
    assert [(s.status, s.amounts.currency, s.amounts.documents) for s in report.by_status] == [
        (ReconcileStatus.SENT, "SEK", 1),
        (ReconcileStatus.PAID, "DKK", 1),
    ]
    assert all(t.difference.is_zero() and t.psa_gross == t.erp_gross for t in report.totals)
    assert _report(hub, Period(start=date(2026, 9, 1))).documents == ()
