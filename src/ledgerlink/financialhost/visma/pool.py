"""The expense pool's state, kept by the plugin (the reference product's ``UseExpenseHandler=1``).

Visma cannot record that the PSA took a supplier invoice from the expense pool or deleted it, so
the plugin remembers it in a small SQLite file beside the host's data and leaves those invoices
out of ``expenses.read``.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

PoolState = Literal["taken", "deleted"]


class ExpensePool:
    """Which supplier invoices (by löpnummer) were taken or deleted in the PSA's pool."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # The host serialises plugin calls, but they may come from different threads.
        self._connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._connection.execute(
            "CREATE TABLE IF NOT EXISTS expense_state (external_id TEXT PRIMARY KEY,"
            " state TEXT NOT NULL, noted_at TEXT NOT NULL)"
        )

    def note(self, external_id: str, state: PoolState) -> None:
        """Record that an expense was taken or deleted (the latest notice wins)."""
        self._connection.execute(
            "INSERT OR REPLACE INTO expense_state (external_id, state, noted_at) VALUES (?, ?, ?)",
            (external_id, state, datetime.now(UTC).isoformat()),
        )

    def state(self, external_id: str) -> PoolState | None:
        """The recorded state of an expense, or ``None`` while it is still in the pool."""
        row = self._connection.execute(
            "SELECT state FROM expense_state WHERE external_id = ?", (external_id,)
        ).fetchone()
        if row is None:
            return None
        return "taken" if row[0] == "taken" else "deleted"

    def close(self) -> None:
        """Close the file."""
        self._connection.close()
