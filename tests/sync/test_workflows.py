"""Transfers as durable DBOS workflows: ids are the idempotency keys, results are recorded."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dbos import DBOS

from ledgerlink.connectors.contract import ErpConnector, Transient
from ledgerlink.connectors.testing import FakeErp
from ledgerlink.domain.entity import require_id
from ledgerlink.domain.invoices import Invoice
from ledgerlink.domain.transfers import Connection, TransferStatus
from ledgerlink.store.database import Database
from ledgerlink.store.uow import UnitOfWork
from ledgerlink.sync import connections
from ledgerlink.sync.registry import ConnectorProvider
from ledgerlink.sync.worker import worker_round
from ledgerlink.sync.workflows import WorkerOptions, Workers
from tests.sync.bulk import post_invoices
from tests.sync.test_economic_end_to_end import World, correlation, world
from tests.sync.test_engine import Hub, build_hub

__all__ = ["world"]


def test_queued_transfers_run_once_each_even_when_enqueued_twice(
    world: World, tmp_path: Path
) -> None:
    workers = Workers(
        world.engine, WorkerOptions(system_database_url=f"sqlite:///{tmp_path / 'wf.db'}")
    )
    workers.start()
    try:
        transfers = [
            world.engine.start_transfer(world.connection_id, require_id(invoice))
            for invoice in world.invoices
        ]
        assert [t.workflow_id for t in transfers] == [
            f"transfer:{world.connection_id}:{invoice.id}:{invoice.revision}"
            for invoice in world.invoices
        ]
        seen: list[tuple[int, int]] = []
        results = workers.run(transfers, progress=lambda done, total: seen.append((done, total)))
        assert set(results.values()) == {TransferStatus.SUCCESSFUL}
        assert seen[-1] == (2, 2)

        world.emulator.journal.clear()
        again = workers.run(transfers)  # same workflow ids: DBOS returns the recorded result
        assert set(again.values()) == {TransferStatus.SUCCESSFUL}
        assert world.emulator.journal.count(method="POST") == 0
    finally:
        workers.stop()
    for invoice in world.invoices:
        assert len(world.drafts(correlation(invoice))) == 1


# durable deferral and nothing stranded (the fake ERP) -------------------------------------------


@pytest.fixture
def fake_hub(database: Database, tmp_path: Path) -> Iterator[tuple[Hub, Workers]]:
    hub = build_hub(database, tmp_path, FakeErp())
    workers = Workers(
        hub.engine, WorkerOptions(system_database_url=f"sqlite:///{tmp_path / 'wf.db'}")
    )
    workers.start()
    try:
        yield hub, workers
    finally:
        workers.stop()


def test_a_connections_documents_reach_the_erp_in_posting_order(
    fake_hub: tuple[Hub, Workers],
) -> None:
    """One connection's transfers run one after the other in the order queued: the first
    document's slow create is not overtaken by the second's, so the ERP numbers them in the
    PSA's order."""
    hub, workers = fake_hub
    first, second = sorted(hub.invoices, key=lambda i: i.number or 0)
    hub.erp.slow_document(f"LL-NORDLYS-{first.number}", 0.5)
    transfers = [
        hub.engine.start_transfer(hub.connection_id, require_id(invoice))
        for invoice in (first, second)
    ]
    assert set(workers.run(transfers).values()) == {TransferStatus.SUCCESSFUL}
    by_reference = {d["reference"]: int(d["id"]) for d in hub.erp.documents.values()}
    ids = [
        next(number for ref, number in by_reference.items() if ref.endswith(f"-{i.number}"))
        for i in (first, second)
    ]
    assert ids == sorted(ids), f"ERP ids {ids} for PSA numbers {first.number}, {second.number}"


def test_a_deferred_transfer_goes_back_to_the_queue_and_its_next_run_finishes_it(
    fake_hub: tuple[Hub, Workers],
) -> None:
    hub, workers = fake_hub
    invoice = hub.invoices[0]
    hub.erp.fail("create_document", Transient("fake ERP: busy", retry_after=0.3))
    transfer = hub.engine.start_transfer(hub.connection_id, require_id(invoice))
    assert workers.run([transfer]) == {require_id(transfer): TransferStatus.SUCCESSFUL}
    runs = sorted(
        w.workflow_id for w in DBOS.list_workflows(workflow_id_prefix=transfer.workflow_id)
    )
    assert runs == [transfer.workflow_id, f"{transfer.workflow_id}/run-2"]
    assert hub.erp.count("create_document") == 2 and hub.documents(invoice) == 1


def test_a_deferral_beyond_the_follow_limit_is_reported_pending_and_stays_queued(
    fake_hub: tuple[Hub, Workers],
) -> None:
    hub, workers = fake_hub
    invoice = hub.invoices[0]
    hub.erp.fail("create_document", Transient("fake ERP: daily cap", retry_after=3600))
    transfer = hub.engine.start_transfer(hub.connection_id, require_id(invoice))
    assert workers.run([transfer], follow=60) == {require_id(transfer): TransferStatus.PENDING}
    (queued,) = DBOS.list_workflows(workflow_ids=[f"{transfer.workflow_id}/run-2"])
    assert queued.status == "DELAYED"  # waits in the queue, no thread sleeps for it
    assert workers.settle_stranded() == []  # alive: not stranded


def test_a_workflow_that_errors_ends_its_transfer_failed_with_the_error(
    fake_hub: tuple[Hub, Workers],
) -> None:
    hub, workers = fake_hub

    class Broken(ConnectorProvider):
        def __call__(self, connection: Connection) -> ErpConnector:
            raise RuntimeError("connector registry broken")

    hub.engine.connectors = Broken(hub.engine.connectors._secrets)
    invoice = hub.invoices[0]
    transfer = hub.engine.start_transfer(hub.connection_id, require_id(invoice))
    assert workers.run([transfer]) == {require_id(transfer): TransferStatus.FAILED}
    (failed,) = hub.log(invoice)
    assert failed.status is TransferStatus.FAILED
    assert "RuntimeError" in failed.message and "connector registry broken" in failed.message
    again = hub.engine.start_transfer(hub.connection_id, require_id(invoice))
    assert again.workflow_id.endswith(":retry-1")  # the document can go again


def test_a_transfer_whose_process_stopped_before_enqueueing_is_started_by_the_sweep(
    fake_hub: tuple[Hub, Workers],
) -> None:
    hub, workers = fake_hub
    invoice = hub.invoices[0]
    transfer = hub.engine.start_transfer(hub.connection_id, require_id(invoice))
    assert workers.settle_stranded() == []  # not ended: enqueued
    (flow,) = DBOS.list_workflows(workflow_ids=[transfer.workflow_id])
    assert workers.wait({require_id(transfer): flow.workflow_id}) == {
        require_id(transfer): TransferStatus.SUCCESSFUL
    }
    assert hub.documents(invoice) == 1


# batches ------------------------------------------------------------------------------------------


def _post_more(hub: Hub, database: Database, count: int) -> list[Invoice]:
    with hub.engine.uow() as uow:
        entity = uow.connections.get(hub.connection_id).legal_entity_id
    return post_invoices(UnitOfWork(database), entity, count=count)


def test_twelve_documents_reach_the_erp_in_posting_order_from_the_worker_round(
    fake_hub: tuple[Hub, Workers], database: Database
) -> None:
    """Queued one at a time, transfers started in the same millisecond tie on DBOS's queue
    time and ten sorted before two; a connection's several go as one batch, in posting
    order."""
    hub, workers = fake_hub
    more = _post_more(hub, database, 10)
    connections.configure(hub.engine, hub.connection_id, automatic_transfer=True)
    assert worker_round(hub.engine, workers) == 12
    while workers.pending_count():
        time.sleep(0.05)
    posted = sorted([*hub.invoices, *more], key=lambda i: i.number or 0)
    by_reference = {d["reference"]: int(d["id"]) for d in hub.erp.documents.values()}
    erp_ids = [by_reference[f"LL-NORDLYS-{i.number}"] for i in posted]
    assert erp_ids == sorted(erp_ids), f"ERP ids {erp_ids} for PSA numbers in posting order"
    assert worker_round(hub.engine, workers) == 0  # nothing left, nothing queued again


def test_a_deferral_in_a_batch_sends_the_rest_in_the_batchs_next_run_once(
    fake_hub: tuple[Hub, Workers], database: Database
) -> None:
    hub, workers = fake_hub
    documents = [*hub.invoices, *_post_more(hub, database, 2)]
    hub.erp.fail("create_document", Transient("fake ERP: busy", retry_after=0.3))
    transfers = hub.engine.start_transfers(hub.connection_id, [require_id(d) for d in documents])
    results = workers.run(transfers)
    assert set(results.values()) == {TransferStatus.SUCCESSFUL}
    flows = sorted(w.workflow_id for w in DBOS.list_workflows(workflow_id_prefix="batch:"))
    assert len(flows) == 2 and flows[1] == f"{flows[0]}/run-2"
    assert hub.erp.count("create_document") == len(documents) + 1  # the refused one again
    assert all(hub.documents(d) == 1 for d in documents)


def test_transfers_queued_alone_behind_a_busy_connection_go_as_one_batch(
    fake_hub: tuple[Hub, Workers], database: Database
) -> None:
    """Posted one by one while the connection's first transfer is still running, the next
    four queue as four workflows; the first of them to run takes the other three along and
    cancels their workflows before they reach the front, so they cost no run of their own.
    Each document reaches the ERP once, in posting order, and waiting on any of the four
    reports its outcome."""
    hub, workers = fake_hub
    documents = sorted([*hub.invoices, *_post_more(hub, database, 3)], key=lambda i: i.number or 0)
    hub.erp.slow_document(f"LL-NORDLYS-{documents[0].number}", 0.8)
    transfers = [hub.engine.start_transfer(hub.connection_id, require_id(d)) for d in documents]
    first = workers.enqueue(transfers[0])
    while "create_document" not in hub.erp.calls:  # it is sending (that takes 0.8 s)
        time.sleep(0.01)
    flows = {require_id(t): workers.enqueue(t).workflow_id for t in transfers[1:]}
    flows[require_id(transfers[0])] = first.workflow_id
    assert set(workers.wait(flows).values()) == {TransferStatus.SUCCESSFUL}

    ended = {w.workflow_id: w.status for w in DBOS.list_workflows(workflow_ids=[*flows.values()])}
    assert sorted(ended.values()) == ["CANCELLED"] * 3 + ["SUCCESS"] * 2, ended
    assert hub.erp.count("create_document") == len(documents)
    by_reference = {d["reference"]: int(d["id"]) for d in hub.erp.documents.values()}
    erp_ids = [by_reference[f"LL-NORDLYS-{d.number}"] for d in documents]
    assert erp_ids == sorted(erp_ids), f"ERP ids {erp_ids} for PSA numbers in posting order"
    assert workers.settle_stranded() == []
