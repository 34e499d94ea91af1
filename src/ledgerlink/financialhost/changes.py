"""ERP-side changes reported through the callback (NAV's change log), kept in order and read
by the hub with ``changes.read`` since its cursor (the last sequence number it saw)."""

from __future__ import annotations

from datetime import datetime

from ledgerlink.financialhost.database import HostDatabase
from ledgerlink.wire.callback import CallbackBatch
from ledgerlink.wire.operations import ChangePage, ChangeRecord


def _entity(table_name: str, table_id: int) -> str:
    name = table_name.strip().lower().replace(" ", "_").replace(".", "")
    return name or f"table_{table_id}"


class ChangeFeed:
    """Stores callback batches (a re-sent entry is stored once) and pages them out."""

    def __init__(self, database: HostDatabase) -> None:
        self._db = database

    def store(self, batch: CallbackBatch) -> int:
        """Store a batch; return how many changes were new."""
        new = 0
        with self._db.transaction() as conn:
            for change in batch.changes:
                cursor = conn.execute(
                    "INSERT OR IGNORE INTO changes (source_entry, entity, table_id, record_key, "
                    "change, changed_at) VALUES (?,?,?,?,?,?)",
                    (
                        f"{batch.company}:{change.entry_no}",
                        _entity(change.table_name, change.table_id),
                        change.table_id,
                        change.record_key,
                        change.change_type.lower(),
                        change.changed_at.isoformat(),
                    ),
                )
                new += cursor.rowcount
        return new

    def read(self, cursor: str | None, limit: int) -> ChangePage:
        after = int(cursor) if cursor and cursor.isdigit() else 0
        rows = self._db.query(
            "SELECT * FROM changes WHERE sequence > ? ORDER BY sequence LIMIT ?",
            (after, limit + 1),
        )
        items = tuple(
            ChangeRecord(
                sequence=r["sequence"],
                entity=r["entity"],
                table_id=r["table_id"],
                record_key=r["record_key"],
                change=r["change"],
                changed_at=datetime.fromisoformat(r["changed_at"]),
            )
            for r in rows[:limit]
        )
        last = items[-1].sequence if items else after
        return ChangePage(items=items, cursor=str(last), more=len(rows) > limit)
