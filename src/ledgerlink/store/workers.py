"""The worker processes that run transfers, by DBOS executor id (design §8).

DBOS recovers, when it launches, only the workflows of its own executor id. Every worker has
its own id (so a worker starting beside a running one does not run that one's workflows a
second time), which means a dead worker's workflows must be recovered by a live one: each
worker says it is alive here every round, and :meth:`WorkerRegistry.claim_dead` hands a live
worker the ids of workers that are gone — a process on the same host that no longer exists, or
a worker anywhere not seen for ``stale_after``. The row is deleted in the same transaction, so
one live worker claims each dead one; DBOS's recovery is idempotent besides.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from ledgerlink.store.database import Database
from ledgerlink.store.tables import WorkerRow


@dataclass(frozen=True, slots=True)
class WorkerIdentity:
    """Who this process is: its executor id, host name and process id."""

    executor_id: str
    host: str
    pid: int

    @classmethod
    def of_this_process(cls) -> WorkerIdentity:
        host, pid = socket.gethostname(), os.getpid()
        started = int(datetime.now(UTC).timestamp())
        return cls(f"{host}-{pid}-{started}", host, pid)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True


class WorkerRegistry:
    """The ``workers`` table."""

    def __init__(
        self,
        database: Database,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        process_exists: Callable[[int], bool] = _process_exists,
    ) -> None:
        self._db = database
        self._clock = clock
        self._process_exists = process_exists
        dialect = sqlite if database.is_sqlite else postgresql
        self._dialect = dialect

    def alive(self, me: WorkerIdentity) -> None:
        """Record that ``me`` is alive now (first call: registers it)."""
        now = self._clock()
        statement = self._dialect.insert(WorkerRow).values(
            executor_id=me.executor_id, host=me.host, pid=me.pid, started_at=now, seen_at=now
        )
        statement = statement.on_conflict_do_update(
            index_elements=[WorkerRow.executor_id], set_={"seen_at": now}
        )
        with self._db.engine.begin() as connection:
            connection.execute(statement)

    def leave(self, me: WorkerIdentity) -> None:
        """``me`` stopped with nothing left running (see ``Workers.stop``): nothing to claim."""
        with self._db.engine.begin() as connection:
            connection.execute(delete(WorkerRow).where(WorkerRow.executor_id == me.executor_id))

    def claim_dead(self, me: WorkerIdentity, *, stale_after: timedelta) -> list[str]:
        """The executor ids of dead workers, removed from the table for ``me`` to recover."""
        cutoff = self._clock() - stale_after
        with self._db.engine.begin() as connection:
            rows = connection.execute(
                select(WorkerRow.executor_id, WorkerRow.host, WorkerRow.pid, WorkerRow.seen_at)
            ).all()
            dead = [
                row.executor_id
                for row in rows
                if row.executor_id != me.executor_id
                and (
                    (row.host == me.host and not self._process_exists(row.pid))
                    or _aware(row.seen_at) < cutoff
                )
            ]
            claimed = []
            for executor_id in dead:
                gone = connection.execute(
                    delete(WorkerRow).where(WorkerRow.executor_id == executor_id)
                )
                if gone.rowcount:
                    claimed.append(executor_id)
        return claimed


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
