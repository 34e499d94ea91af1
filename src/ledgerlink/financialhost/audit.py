"""The audit log: append-only, hash-chained (design §10).

Every record holds the SHA-256 of the record before it, and its own hash covers its sequence
number, time, event, content and that previous hash. Editing a record breaks its hash; removing
one breaks the next record's link; removing the newest records is caught by the head (sequence
and hash) kept beside the database in ``audit.head``. SQLite triggers refuse UPDATE and DELETE,
so the host itself can only append. Amounts and ids are recorded; secrets never are.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ledgerlink.financialhost.database import HostDatabase

GENESIS = "0" * 64


def _digest(seq: int, at: str, event: str, record: str, prev_hash: str) -> str:
    canonical = json.dumps([seq, at, event, record, prev_hash], separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class AuditProblem:
    seq: int
    problem: str


@dataclass(frozen=True, slots=True)
class AuditReport:
    records: int
    head_hash: str
    problems: tuple[AuditProblem, ...]

    @property
    def intact(self) -> bool:
        return not self.problems


class AuditLog:
    """Appends records to the ``audit`` table and keeps the head file up to date."""

    def __init__(self, database: HostDatabase, head_file: Path) -> None:
        self._db = database
        self._head_file = head_file
        self._listeners: list[Callable[[str, Mapping[str, Any]], None]] = []
        # One append at a time, so the head file is written in the order records commit.
        self._lock = threading.Lock()

    def subscribe(self, listener: Callable[[str, Mapping[str, Any]], None]) -> None:
        """Call ``listener(event, fields)`` after each record is written (the alerter counts
        refused requests this way). It runs on the appending thread: it must be quick and
        must not raise."""
        self._listeners.append(listener)

    def append(self, event: str, **fields: Any) -> int:
        record = json.dumps(fields, sort_keys=True, default=str, separators=(",", ":"))
        at = datetime.now(UTC).isoformat()
        with self._lock:
            with self._db.transaction() as conn:
                last = conn.execute(
                    "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"
                ).fetchone()
                seq, prev = (last["seq"] + 1, last["hash"]) if last else (1, GENESIS)
                digest = _digest(seq, at, event, record, prev)
                conn.execute(
                    "INSERT INTO audit (seq, at, event, record, prev_hash, hash) "
                    "VALUES (?,?,?,?,?,?)",
                    (seq, at, event, record, prev, digest),
                )
            # After the commit: a crash in between leaves the head one record behind (which
            # verify accepts), never ahead of the log (which means records were removed).
            self._write_head(seq, digest)
        for listener in self._listeners:
            listener(event, fields)
        return int(seq)

    def _write_head(self, seq: int, digest: str) -> None:
        temporary = self._head_file.with_suffix(".tmp")
        temporary.write_text(f"{seq} {digest}\n", encoding="ascii")
        os.replace(temporary, self._head_file)

    def records(self, *, since: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        rows = self._db.query(
            "SELECT seq, at, event, record FROM audit WHERE seq > ? ORDER BY seq LIMIT ?",
            (since, limit),
        )
        return [
            {"seq": r["seq"], "at": r["at"], "event": r["event"], **json.loads(r["record"])}
            for r in rows
        ]


def verify_chain(database: HostDatabase, head_file: Path) -> AuditReport:
    """Recompute the chain; report every edited, removed or reordered record."""
    problems: list[AuditProblem] = []
    expected_seq, prev = 1, GENESIS
    count = 0
    head_seq, head_hash = _read_head(head_file)
    hash_at_head = GENESIS if head_seq == 0 else None
    for row in database.query("SELECT * FROM audit ORDER BY seq"):
        count += 1
        seq = int(row["seq"])
        if seq != expected_seq:
            problems.append(AuditProblem(seq, f"records {expected_seq}–{seq - 1} are missing"))
        if row["prev_hash"] != prev:
            problems.append(AuditProblem(seq, "does not link to the record before it"))
        if _digest(seq, row["at"], row["event"], row["record"], row["prev_hash"]) != row["hash"]:
            problems.append(AuditProblem(seq, "was changed after it was written"))
        if seq == head_seq:
            hash_at_head = row["hash"]
        expected_seq, prev = seq + 1, row["hash"]
    newest = expected_seq - 1
    if head_hash is None:
        if count:
            problems.append(AuditProblem(0, f"the head file {head_file} is missing"))
    # The head may trail the log by the one record a crash interrupted (it is written after
    # the commit); ahead of the log, or not matching it, records were removed or replaced.
    elif not (newest - 1 <= head_seq <= newest) or hash_at_head != head_hash:
        problems.append(
            AuditProblem(
                head_seq,
                f"the head file says record {head_seq} is the newest, the log ends at "
                f"{newest}: records were removed from the end or the head replaced",
            )
        )
    return AuditReport(count, prev, tuple(problems))


def _read_head(head_file: Path) -> tuple[int, str | None]:
    if not head_file.exists():
        return 0, None
    seq, _, digest = head_file.read_text(encoding="ascii").strip().partition(" ")
    return int(seq), digest
