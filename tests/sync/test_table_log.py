"""The integration log's filters in the use-case (issue 14 item 4), on both databases: status,
transaction number, document, period (UTC days, both ends included), full text over the
document, the customer and the steps' ERP text and hint; the filters narrow in the database,
before the limit, so an older match is found behind newer rows that do not match."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import update

from ledgerlink.connectors.contract import Permanent
from ledgerlink.connectors.testing import FakeErp
from ledgerlink.domain.entity import require_id
from ledgerlink.domain.errors import ValidationError
from ledgerlink.domain.transfers import TransferStatus
from ledgerlink.store.database import Database
from ledgerlink.store.tables import TransferRow
from ledgerlink.store.uow import UnitOfWork
from ledgerlink.sync import table
from ledgerlink.sync.table import LogFilter
from tests.sync.bulk import post_invoices
from tests.sync.test_engine import Hub, build_hub

#: When the two transactions started: an hour apart, either side of midnight UTC.
OK_STARTED = datetime(2026, 9, 1, 23, 30, tzinfo=UTC)
FAILED_STARTED = datetime(2026, 9, 2, 0, 30, tzinfo=UTC)


@pytest.fixture
def hub(database: Database, tmp_path: Path) -> Hub:
    """Invoice 1 transferred (successful), then invoice 0 failed with the ERP's text."""
    hub = build_hub(database, tmp_path, FakeErp())
    hub.transfer(hub.invoices[1])
    hub.erp.fail(
        "create_document", Permanent("Kunden har ingen valuta", hint="Add the 100% currency")
    )
    hub.transfer(hub.invoices[0])
    ok, failed = (hub.log(invoice)[0] for invoice in (hub.invoices[1], hub.invoices[0]))
    with database.session() as session:
        for transfer, started in ((ok, OK_STARTED), (failed, FAILED_STARTED)):
            session.execute(
                update(TransferRow).where(TransferRow.id == transfer.id).values(started_at=started)
            )
        session.commit()
    return hub


def _ids(hub: Hub, where: LogFilter | None = None, *, limit: int = 50) -> list[int]:
    where = where or LogFilter()
    return [
        require_id(t)
        for t in table.integration_log(hub.engine, hub.connection_id, where=where, limit=limit)
    ]


def test_without_filters_the_log_is_newest_first_as_before(hub: Hub) -> None:
    every = table.integration_log(hub.engine, hub.connection_id)
    assert [t.status for t in every] == [TransferStatus.FAILED, TransferStatus.SUCCESSFUL]
    assert all(t.steps for t in every)
    assert table.integration_log(hub.engine, hub.connection_id, limit=1) == every[:1]
    only = table.integration_log(
        hub.engine, hub.connection_id, invoice_id=require_id(hub.invoices[1])
    )
    assert only == every[1:]


def test_status_toggles_narrow_before_the_limit(hub: Hub) -> None:
    failed, ok = _ids(hub)
    assert _ids(hub, LogFilter(statuses=(TransferStatus.SUCCESSFUL,)), limit=1) == [ok]
    assert _ids(hub, LogFilter(statuses=(TransferStatus.FAILED, TransferStatus.PENDING))) == [
        failed
    ]
    assert _ids(hub, LogFilter(statuses=(TransferStatus.PARTIALLY_FAILED,))) == []


def test_transaction_number_and_document(hub: Hub) -> None:
    failed, ok = _ids(hub)
    assert _ids(hub, LogFilter(transaction_id=ok)) == [ok]
    assert _ids(hub, LogFilter(transaction_id=999)) == []
    assert _ids(hub, LogFilter(invoice_id=require_id(hub.invoices[0]))) == [failed]


def test_the_period_is_utc_days_with_both_ends_included(hub: Hub) -> None:
    failed, ok = _ids(hub)
    first, second = date(2026, 9, 1), date(2026, 9, 2)
    assert _ids(hub, LogFilter(period=(first, first))) == [ok]
    assert _ids(hub, LogFilter(period=(second, second))) == [failed]
    assert _ids(hub, LogFilter(period=(first, second))) == [failed, ok]
    assert _ids(hub, LogFilter(period=(second, date.max))) == [failed]
    assert _ids(hub, LogFilter(period=(date.min, first))) == [ok]
    assert _ids(hub, LogFilter(period=(date(2026, 8, 1), date(2026, 8, 31)))) == []
    with pytest.raises(ValidationError, match="swap the dates"):
        LogFilter(period=(second, first))


def test_full_text_finds_the_erp_text_hint_document_and_customer(hub: Hub) -> None:
    failed, ok = _ids(hub)
    failed_number = hub.invoices[0].number
    assert _ids(hub, LogFilter(text="INGEN valuta")) == [failed]  # the ERP's text, any case
    assert _ids(hub, LogFilter(text="the 100% currency")) == [failed]  # the hint
    assert _ids(hub, LogFilter(text="100%curr")) == []  # '%' is a character, not a wildcard
    assert _ids(hub, LogFilter(text=f"invoice {failed_number}")) == [failed]
    assert _ids(hub, LogFilter(text="svensson bygg")) == [ok]  # P-200's customer
    assert _ids(hub, LogFilter(text="nothing like this")) == []
    assert _ids(hub, LogFilter(text="valuta", statuses=(TransferStatus.SUCCESSFUL,))) == []


def test_entries_say_which_document_and_customer(hub: Hub, database: Database) -> None:
    with database.count_statements() as count:
        entries = table.log_entries(hub.engine, hub.connection_id, LogFilter(text="valuta"))
    (entry,) = entries
    assert entry.document == f"invoice {hub.invoices[0].number}"
    assert entry.number == hub.invoices[0].number
    assert entry.customer == "1001 Havnens Logistik A/S"
    assert any(step.message == "Kunden har ingen valuta" for step in entry.transfer.steps)
    # The rows, their transfers and their steps: no query per row.
    assert count.statements <= 5, count.texts


def test_the_transfer_table_costs_the_same_statements_however_many_documents(
    hub: Hub, database: Database
) -> None:
    """The table reads each kind of record once for all rows (the latest transfers with
    their steps included): ten more transferred documents add no statement."""

    def statements() -> int:
        with database.count_statements() as count:
            rows = table.transfer_table(hub.engine, hub.connection_id)
        assert rows
        return count.statements

    for invoice in hub.invoices:
        hub.transfer(invoice)
    few = statements()
    with hub.engine.uow() as uow:
        entity = uow.connections.get(hub.connection_id).legal_entity_id
    for invoice in post_invoices(UnitOfWork(database), entity, count=10):
        hub.transfer(invoice)
    assert statements() == few
