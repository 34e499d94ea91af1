"""Transfers run as a batch (``Engine.start_transfers`` + ``Engine.run_batch``): shared reads
and writes, the same outcomes as one by one, nothing sent twice — against the fake ERP."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ledgerlink.connectors.contract import Transient
from ledgerlink.connectors.testing import FakeErp
from ledgerlink.domain.entity import require_id
from ledgerlink.domain.errors import ValidationError
from ledgerlink.domain.invoices import Invoice
from ledgerlink.domain.transfers import StepKind, StepStatus, TransferStatus
from ledgerlink.psa import invoicing
from ledgerlink.store.database import Database
from ledgerlink.store.uow import UnitOfWork
from ledgerlink.sync import automatic, connections
from ledgerlink.sync.transfers import DirectRunner, transfer_documents
from tests.sync.test_engine import Hub, build_hub, step

pytestmark = pytest.mark.integration


def _documents(hub: Hub, database: Database) -> list[Invoice]:
    """Invoice P-101, its credit note (same customer, project and employee), invoice P-200."""
    first, other = hub.invoices
    uow = UnitOfWork(database)
    draft = invoicing.credit_invoice(uow, require_id(first), invoice_date=date(2026, 9, 1))
    credit = invoicing.post_invoice(uow, require_id(draft), posting_date=date(2026, 9, 1))
    return [first, credit, other]


@pytest.fixture
def hub(database: Database, tmp_path: Path) -> Hub:
    return build_hub(database, tmp_path, FakeErp())


def test_a_batch_creates_what_its_documents_share_once_and_saves_in_three_commits(
    hub: Hub, database: Database
) -> None:
    documents = _documents(hub, database)
    ids = [require_id(d) for d in documents]
    with database.count_statements() as count:
        statuses = transfer_documents(hub.engine, DirectRunner(hub.engine), hub.connection_id, ids)
    assert set(statuses.values()) == {TransferStatus.SUCCESSFUL}
    # Customer 1001, project P-101 and the employee are created by the first document and
    # linked for the credit note after it: one create each, no second look-up.
    assert hub.erp.count("create_customer") == 2  # 1001 and 1002
    assert hub.erp.count("find_customer") == 2
    assert hub.erp.count("create_document") == 3
    assert all(hub.documents(d) == 1 for d in documents)
    # Commits: the starts; each new customer's invoice step's evidence (nothing could be
    # recorded with the load: the customers were not linked yet); the outcomes of all.
    assert count.commits == 1 + 2 + 1, "\n".join(count.texts)
    (credit_log,) = hub.log(documents[1])
    assert step(credit_log, StepKind.CUSTOMER)[1].startswith("linked to ERP customer")


def test_a_batch_of_linked_documents_costs_a_few_statements_each(
    hub: Hub, database: Database
) -> None:
    """Once the references exist, the reads and writes of a batch are shared: statements grow
    by about one per document (the evidence rows and step rows go in one statement each)."""
    first, other = hub.invoices
    assert hub.transfer(first) is TransferStatus.SUCCESSFUL
    assert hub.transfer(other) is TransferStatus.SUCCESSFUL  # customers, project, employee in
    uow = UnitOfWork(database)
    credits = []
    for invoice in (first, other):
        draft = invoicing.credit_invoice(uow, require_id(invoice), invoice_date=date(2026, 9, 1))
        credits.append(
            invoicing.post_invoice(uow, require_id(draft), posting_date=date(2026, 9, 1))
        )
    hub.erp.calls.clear()
    with database.count_statements() as count:
        statuses = transfer_documents(
            hub.engine,
            DirectRunner(hub.engine),
            hub.connection_id,
            [require_id(c) for c in credits],
        )
    assert set(statuses.values()) == {TransferStatus.SUCCESSFUL}
    assert hub.erp.calls == ["create_document", "create_document"]
    assert count.commits == 3  # the starts, the evidence with the load, the outcomes
    assert count.statements <= 30, "\n".join(count.texts)


def test_when_the_erp_defers_one_the_rest_of_the_batch_waits_unsent_and_goes_once_later(
    hub: Hub, database: Database
) -> None:
    documents = _documents(hub, database)
    transfers = hub.engine.start_transfers(hub.connection_id, [require_id(d) for d in documents])
    ids = [require_id(t) for t in transfers]
    hub.erp.fail("create_document", Transient("fake ERP: busy", retry_after=42.0))

    first = hub.engine.run_batch(ids)
    assert [r.status for r in first.values()] == [TransferStatus.PENDING] * 3
    assert {r.resume_after for r in first.values()} == {42.0}
    assert hub.erp.count("create_document") == 1  # the two after it were not sent
    (waiting,) = hub.log(documents[2])
    assert waiting.status is TransferStatus.PENDING
    pending = [s for s in waiting.steps if s.status is StepStatus.PENDING]
    assert pending and "an earlier document of this batch" in pending[0].message

    second = hub.engine.run_batch(ids, run=2)
    assert [r.status for r in second.values()] == [TransferStatus.SUCCESSFUL] * 3
    assert all(hub.documents(d) == 1 for d in documents)


def test_documents_deferred_unsent_are_not_looked_up_when_they_go(
    hub: Hub, database: Database
) -> None:
    """Only the document the ERP deferred may have reached it; the ones deferred with it
    were never sent, so their start is taken back and the next run creates them at once."""
    first, other = hub.invoices
    assert hub.transfer(first) is TransferStatus.SUCCESSFUL
    assert hub.transfer(other) is TransferStatus.SUCCESSFUL  # every reference linked
    uow = UnitOfWork(database)
    credits = []
    for invoice in (first, other):
        draft = invoicing.credit_invoice(uow, require_id(invoice), invoice_date=date(2026, 9, 1))
        credits.append(
            invoicing.post_invoice(uow, require_id(draft), posting_date=date(2026, 9, 1))
        )
    transfers = hub.engine.start_transfers(hub.connection_id, [require_id(c) for c in credits])
    ids = [require_id(t) for t in transfers]
    hub.erp.calls.clear()
    hub.erp.fail("create_document", Transient("fake ERP: busy", retry_after=5.0))
    assert {r.status for r in hub.engine.run_batch(ids).values()} == {TransferStatus.PENDING}
    assert hub.erp.calls == ["create_document"]

    hub.erp.calls.clear()
    second = hub.engine.run_batch(ids, run=2)
    assert set(second.values()) and {r.status for r in second.values()} == {
        TransferStatus.SUCCESSFUL
    }
    # The deferred one is looked up (the ERP may have taken it); the unsent one is not.
    assert hub.erp.calls == ["find_document", "create_document", "create_document"]
    assert all(hub.documents(c) == 1 for c in credits)


def test_an_unexpected_error_in_one_document_fails_only_that_one(
    hub: Hub, database: Database
) -> None:
    documents = _documents(hub, database)
    hub.erp.fail("create_document", KeyError("VatAmount"))
    statuses = transfer_documents(
        hub.engine, DirectRunner(hub.engine), hub.connection_id, [require_id(d) for d in documents]
    )
    assert list(statuses.values()) == [
        TransferStatus.FAILED,
        TransferStatus.SUCCESSFUL,
        TransferStatus.SUCCESSFUL,
    ]
    (failed,) = hub.log(documents[0])
    assert "KeyError" in step(failed, StepKind.INVOICE)[1]
    assert hub.transfer(documents[0]) is TransferStatus.SUCCESSFUL  # and it can go again
    assert hub.documents(documents[0]) == 1


def test_starting_several_refuses_a_draft_by_name_and_starts_none(
    hub: Hub, database: Database
) -> None:
    first, _ = hub.invoices
    uow = UnitOfWork(database)
    draft = invoicing.credit_invoice(uow, require_id(first), invoice_date=date(2026, 9, 1))
    with pytest.raises(ValidationError, match="is not posted; post it first"):
        hub.engine.start_transfers(hub.connection_id, [require_id(first), require_id(draft)])
    assert hub.log(first) == []
    (started,) = hub.engine.start_transfers(hub.connection_id, [require_id(first)])
    (again,) = hub.engine.start_transfers(hub.connection_id, [require_id(first)])
    assert (again.id, again.workflow_id) == (started.id, started.workflow_id)  # still pending


def test_a_deferred_batch_waits_once_and_goes_on_as_a_batch(hub: Hub, database: Database) -> None:
    """Without the queue, the thread sleeps the ERP's wait once for the whole batch, not once
    per deferred document."""
    documents = _documents(hub, database)
    hub.erp.fail("create_document", Transient("fake ERP: window full", retry_after=42.0))
    statuses = transfer_documents(
        hub.engine, DirectRunner(hub.engine), hub.connection_id, [require_id(d) for d in documents]
    )
    assert set(statuses.values()) == {TransferStatus.SUCCESSFUL}
    assert hub.waits == [42.0]
    assert all(hub.documents(d) == 1 for d in documents)


def test_a_disabled_connection_transfers_nothing_until_activated(hub: Hub) -> None:
    first, _ = hub.invoices
    connections.configure(hub.engine, hub.connection_id, automatic_transfer=True)
    with hub.engine.uow() as uow:
        connection = uow.connections.get(hub.connection_id)
        connection.active = False
        uow.connections.save(connection)
        uow.commit()
    for start in (
        lambda: hub.engine.start_transfer(hub.connection_id, require_id(first)),
        lambda: hub.engine.start_transfers(hub.connection_id, [require_id(first)]),
    ):
        with pytest.raises(ValidationError, match="is disabled: finish its setup and activate"):
            start()
    assert automatic.waiting_transfers(hub.engine) == []  # the worker round leaves it alone
    assert hub.log(first) == []
    connections.activate(hub.engine, hub.connection_id)
    assert hub.transfer(first) is TransferStatus.SUCCESSFUL
