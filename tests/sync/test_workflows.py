"""Transfers as durable DBOS workflows: ids are the idempotency keys, results are recorded."""

from __future__ import annotations

from pathlib import Path

from ledgerlink.domain.entity import require_id
from ledgerlink.domain.transfers import TransferStatus
from ledgerlink.sync.workflows import WorkerOptions, Workers
from tests.sync.test_economic_end_to_end import World, correlation, world

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
