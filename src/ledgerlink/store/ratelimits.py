"""Rate-limit budgets every worker process shares (design §6): one row per (ERP, credential).

The store knows nothing of windows or of how a slot is chosen (that is the connectors' kit's
pure math, which the store may not import); it offers one operation, :meth:`RateLimitStore.
update`: lock the budget's row, hand what it holds to a function, write what the function
returns and commit — one short transaction per request, so the lock is held for a
millisecond or two and never while anyone sleeps. On PostgreSQL the lock is
``SELECT … FOR UPDATE``; on SQLite every transaction starts with ``BEGIN IMMEDIATE`` (see
:mod:`ledgerlink.store.database`), which serialises writers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection, func, select, true, update
from sqlalchemy.dialects import postgresql, sqlite

from ledgerlink.store.database import Database
from ledgerlink.store.tables import RateLimitRow

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class RateLimitRecord:
    """What a budget's row holds: the pause (µs since the epoch) and each window's mark."""

    paused_until: int = 0
    marks: Mapping[str, tuple[int, int]] = field(default_factory=dict)


def _decode(paused_until: int, marks: str) -> RateLimitRecord:
    raw = json.loads(marks) if marks else {}
    return RateLimitRecord(paused_until, {name: (int(a), int(b)) for name, (a, b) in raw.items()})


def _encode(marks: Mapping[str, tuple[int, int]]) -> str:
    return json.dumps({name: [a, b] for name, (a, b) in marks.items()}, separators=(",", ":"))


class RateLimitStore:
    """The ``rate_limits`` table: one locked read-modify-write per call."""

    def __init__(self, database: Database) -> None:
        self._db = database
        dialect = sqlite if database.is_sqlite else postgresql
        self._insert = dialect.insert(RateLimitRow).on_conflict_do_nothing()

    def update(
        self,
        erp: str,
        credential: str,
        change: Callable[[RateLimitRecord], tuple[RateLimitRecord | None, _T]],
    ) -> _T:
        """In one transaction: lock the budget's row (created on first use), call ``change``
        with what it holds, store the record ``change`` returns (``None``: leave the row as it
        is), commit and return ``change``'s second value.

        ``change`` runs while the row is locked: it must be quick and must not sleep.
        """
        with self._db.engine.begin() as connection:
            record = self._locked(connection, erp, credential)
            new, result = change(record)
            if new is not None and new != record:
                connection.execute(
                    update(RateLimitRow)
                    .where(RateLimitRow.erp == erp, RateLimitRow.credential == credential)
                    .values(paused_until=new.paused_until, marks=_encode(new.marks))
                )
        return result

    def read(self, erp: str, credential: str) -> RateLimitRecord:
        """What the budget's row holds now (an empty record for a budget never used)."""
        with self._db.engine.begin() as connection:
            row = connection.execute(
                select(RateLimitRow.paused_until, RateLimitRow.marks).where(
                    RateLimitRow.erp == erp, RateLimitRow.credential == credential
                )
            ).one_or_none()
        return _decode(row.paused_until, row.marks) if row is not None else RateLimitRecord()

    def _locked(self, connection: Connection, erp: str, credential: str) -> RateLimitRecord:
        columns: list[Any] = [RateLimitRow.paused_until, RateLimitRow.marks]
        if not self._db.is_sqlite:
            # A reservation need not wait for its WAL flush (half the cost of the transaction):
            # a crash that loses the last few is no worse than the server's own 429, which
            # the limiter obeys. set_config in this SELECT saves a statement of its own.
            columns.append(func.set_config("synchronous_commit", "off", true()))
        query = (
            select(*columns)
            .where(RateLimitRow.erp == erp, RateLimitRow.credential == credential)
            .with_for_update()
        )
        row = connection.execute(query).one_or_none()
        if row is None:
            # First use: two processes may both miss the row; ON CONFLICT DO NOTHING lets the
            # second wait for the first's insert instead of failing on the primary key.
            connection.execute(
                self._insert.values(erp=erp, credential=credential, paused_until=0, marks="{}")
            )
            row = connection.execute(query).one()
        return _decode(row.paused_until, row.marks)
