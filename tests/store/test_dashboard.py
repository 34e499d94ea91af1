"""The dashboard's reads in the store, on SQLite and PostgreSQL: a connection's transfer
outcomes since a moment (its own only, oldest first, the status as it is now) and the
credentials an ERP's rate-limit budgets are stored under."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from tests.sync.test_engine import build_hub

from ledgerlink.connectors.contract import Permanent
from ledgerlink.connectors.testing import FakeErp
from ledgerlink.domain.transfers import TransferStatus
from ledgerlink.store.database import Database
from ledgerlink.store.ratelimits import RateLimitRecord, RateLimitStore
from ledgerlink.store.tables import TransferRow
from ledgerlink.store.uow import UnitOfWork


def test_transfer_outcomes_are_the_connection_s_since_the_moment_oldest_first(
    database: Database, tmp_path: Path
) -> None:
    hub = build_hub(database, tmp_path, FakeErp())
    assert hub.transfer(hub.invoices[0]) is TransferStatus.SUCCESSFUL
    hub.erp.fail("create_document", Permanent("Kunden er spærret"))
    assert hub.transfer(hub.invoices[1]) is TransferStatus.FAILED
    now = datetime.now(UTC)
    long_ago = now - timedelta(days=40)
    with database.engine.begin() as connection:
        first = connection.scalar(sa.select(sa.func.min(TransferRow.id)))
        connection.execute(
            sa.update(TransferRow).where(TransferRow.id == first).values(started_at=long_ago)
        )
    with UnitOfWork(database) as uow:
        everything = uow.dashboard.transfer_outcomes(hub.connection_id, since=long_ago)
        recent = uow.dashboard.transfer_outcomes(hub.connection_id, since=now - timedelta(days=1))
        other = uow.dashboard.transfer_outcomes(hub.connection_id + 1, since=long_ago)
    assert [status for _, status in everything] == [
        TransferStatus.SUCCESSFUL,
        TransferStatus.FAILED,
    ]
    (oldest, _), (newest, _) = everything
    assert oldest <= newest
    aware = oldest if oldest.tzinfo is not None else oldest.replace(tzinfo=UTC)  # SQLite: naive
    assert abs(aware - long_ago) < timedelta(seconds=1)
    assert [status for _, status in recent] == [TransferStatus.FAILED]
    assert other == []


def test_budget_credentials_are_the_erp_s_sorted(database: Database) -> None:
    store = RateLimitStore(database)
    for erp, credential in (("fortnox", "c2"), ("fortnox", "c1"), ("exact", "c3")):
        store.update(erp, credential, lambda _: (RateLimitRecord(1, {}), None))
    with UnitOfWork(database) as uow:
        assert uow.dashboard.budget_credentials("fortnox") == ["c1", "c2"]
        assert uow.dashboard.budget_credentials("exact") == ["c3"]
        assert uow.dashboard.budget_credentials("dinero") == []
