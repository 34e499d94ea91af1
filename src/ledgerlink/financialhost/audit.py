"""The audit log: append-only, hash-chained and MAC'd (design §10).

Every record holds the SHA-256 of the record before it and a keyed MAC (HMAC-SHA256 under the
vault's ``audit:key``) over its sequence number, time, event, content and the previous
record's MAC: without the key no one can rewrite, re-chain or append a record that verifies.
The head file ``audit.head`` holds the record count, the first record's MAC (the anchor) and
the newest record's MAC, MAC'd in turn, so removing records from the end, emptying the table or
deleting the database shows. An older copy of both files put back still verifies here; the hub
catches that: the agent sends the head's count and MAC with each heartbeat, the hub keeps them
and says when the count goes backwards or the chain disagrees. SQLite triggers refuse UPDATE,
DELETE and INSERT OR REPLACE, so the host itself can only append. Amounts and ids are
recorded; secrets never are.

A log from before the MAC keeps its records hash-chained only: the host seals a head at its
first start after the upgrade, MACs every record from then on, and ``verify`` names where
MAC'ing began. A head that does not verify stops the host from starting (see :class:`AuditError`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ledgerlink.financialhost.database import HostDatabase
from ledgerlink.financialhost.files import write_private
from ledgerlink.financialhost.vault import Vault

GENESIS = "0" * 64
#: The vault entry holding the MAC key.
KEY_NAME = "audit:key"
_LEGACY_HEAD = re.compile(r"^(\d+) ([0-9a-f]{64})$")
_Row = sqlite3.Row | Mapping[str, Any]


class AuditError(Exception):
    """The audit log does not match its head: the host will not append to it."""


def audit_key(vault: Vault) -> bytes | None:
    """The audit MAC key, if the vault holds one."""
    key = vault.find(KEY_NAME)
    return key.encode() if key else None


def _digest(seq: int, at: str, event: str, record: str, prev_hash: str) -> str:
    canonical = json.dumps([seq, at, event, record, prev_hash], separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _mac(key: bytes, *parts: object) -> str:
    message = json.dumps(parts, separators=(",", ":")).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _record_mac(key: bytes, row: _Row, prev_tag: str) -> str:
    return _mac(key, "record", row["seq"], row["at"], row["event"], row["record"], prev_tag)


def _tag(row: _Row) -> str:
    """What the next record chains to: the MAC, or the hash of a record from before MAC'ing."""
    return str(row["mac"] or row["hash"])


@dataclass(frozen=True, slots=True)
class Head:
    """``count`` records (1…count); ``first`` and ``last`` are the first and newest record's
    tags; records from ``mac_from`` on carry a MAC."""

    count: int
    first: str
    last: str
    mac_from: int

    def _fields(self) -> list[object]:
        return ["head", self.count, self.first, self.last, self.mac_from]

    def sealed(self, key: bytes) -> bytes:
        fields = {"count": self.count, "first": self.first, "last": self.last}
        fields |= {"mac_from": self.mac_from, "mac": _mac(key, *self._fields())}
        return json.dumps(fields).encode() + b"\n"

    @classmethod
    def parse(cls, text: bytes, key: bytes, name: Path) -> Head:
        """The head in ``text``; :class:`AuditError` if it is not one or its MAC is wrong."""
        try:
            loaded = json.loads(text)
            head = cls(
                int(loaded["count"]),
                str(loaded["first"]),
                str(loaded["last"]),
                int(loaded["mac_from"]),
            )
            mac = str(loaded["mac"])
        except (ValueError, KeyError, TypeError):
            raise AuditError(
                f"the head file {name} is not a head (garbage, or edited): {text[:60]!r}"
            ) from None
        if not hmac.compare_digest(mac, _mac(key, *head._fields())):
            raise AuditError(
                f"the head file {name} was changed: its MAC does not match (edited without the key)"
            )
        return head


@dataclass(frozen=True, slots=True)
class AuditProblem:
    seq: int | None  # the record concerned, None for the log as a whole
    problem: str

    def __str__(self) -> str:
        return self.problem if self.seq is None else f"record {self.seq}: {self.problem}"


@dataclass(frozen=True, slots=True)
class AuditReport:
    records: int
    head_hash: str  # the newest record's tag
    problems: tuple[AuditProblem, ...]
    notes: tuple[str, ...] = ()

    @property
    def intact(self) -> bool:
        return not self.problems


@dataclass(frozen=True, slots=True)
class AuditAnchor:
    """What the hub keeps of the log: ``count`` records, the newest one's MAC."""

    count: int
    mac: str


class AuditLog:
    """Appends records to the ``audit`` table and keeps the head file up to date.

    Opening it checks the head against the log and raises :class:`AuditError` when they
    disagree; records a crash left past the head are sealed in when their MACs verify.
    """

    def __init__(self, database: HostDatabase, head_file: Path, vault: Vault | None = None) -> None:
        self._db = database
        self._head_file = head_file
        self._vault = vault = vault or Vault(head_file.parent)
        key = audit_key(vault)
        # Only a log that has never been MAC'd may start MAC'ing now: with the key in the
        # vault already, records without a MAC were stripped of it.
        self._new_key = key is None
        self._key = key or vault.new_secret(KEY_NAME).encode()
        self._listeners: list[Callable[[str, Mapping[str, Any]], None]] = []
        # One append at a time, so the head file is written in the order records commit.
        self._lock = threading.Lock()
        self._head = self._open()

    def _open(self) -> Head:
        rows = self._db.query("SELECT * FROM audit ORDER BY seq DESC LIMIT 1")
        newest = rows[0] if rows else None
        count = int(newest["seq"]) if newest else 0
        if not self._head_file.exists():
            if newest is not None and newest["mac"] is not None:
                raise AuditError(
                    f"the head file {self._head_file} is missing but the log has MAC'd "
                    f"records; run 'ledgerlink host audit verify'"
                )
            return self._seal_legacy(count, newest)
        text = self._head_file.read_bytes()
        if _LEGACY_HEAD.match(text.decode("ascii", "replace").strip()):
            return self._seal_legacy(count, newest, legacy=text.decode().split())
        head = Head.parse(text, self._key, self._head_file)
        if count > head.count:  # a crash between a record's commit and its head
            head = self._catch_up(head)
        if count != head.count or (newest is not None and _tag(newest) != head.last):
            raise AuditError(
                f"the audit log ends at record {count}, its head says {head.count}: records "
                "were removed or replaced; run 'ledgerlink host audit verify'"
            )
        return head

    def _seal_legacy(
        self, count: int, newest: sqlite3.Row | None, legacy: list[str] | None = None
    ) -> Head:
        """First start of a new host, or after the upgrade from an un-MAC'd log: MAC'ing
        starts with the next record."""
        if not self._new_key and count:
            raise AuditError(
                f"the log has records without a MAC and no sealed head ({self._head_file}), "
                "but the vault's audit key exists: the MACs or the head were removed"
            )
        if legacy and not (
            count - 1 <= int(legacy[0]) <= count
            and self._db.query(
                "SELECT 1 FROM audit WHERE seq = ? AND hash = ?", (int(legacy[0]), legacy[1])
            )
        ):
            raise AuditError(
                f"the old head file {self._head_file} does not match the log (records were "
                "removed or replaced before the upgrade)"
            )
        first = self._db.query("SELECT * FROM audit WHERE seq = 1")
        head = Head(
            count,
            _tag(first[0]) if first else "",
            _tag(newest) if newest else GENESIS,
            count + 1,
        )
        write_private(self._head_file, head.sealed(self._key))
        return head

    def _catch_up(self, head: Head) -> Head:
        prev = head.last
        for row in self._db.query("SELECT * FROM audit WHERE seq > ? ORDER BY seq", (head.count,)):
            if row["mac"] is None or not hmac.compare_digest(
                row["mac"], _record_mac(self._key, row, prev)
            ):
                raise AuditError(
                    f"record {row['seq']} after the head does not carry this host's MAC: it "
                    "was appended by someone else; run 'ledgerlink host audit verify'"
                )
            prev = row["mac"]
            head = replace(head, count=int(row["seq"]), last=prev, first=head.first or prev)
        write_private(self._head_file, head.sealed(self._key))
        return head

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
                last = conn.execute("SELECT * FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
                seq, prev, prev_tag = (
                    (last["seq"] + 1, last["hash"], _tag(last)) if last else (1, GENESIS, GENESIS)
                )
                digest = _digest(seq, at, event, record, prev)
                row = {"seq": seq, "at": at, "event": event, "record": record}
                mac = _record_mac(self._key, row, prev_tag)
                conn.execute(
                    "INSERT INTO audit (seq, at, event, record, prev_hash, hash, mac) "
                    "VALUES (?,?,?,?,?,?,?)",
                    (seq, at, event, record, prev, digest, mac),
                )
            # After the commit: a crash in between leaves the head behind the log; the next
            # start seals the records in (their MACs prove the host wrote them).
            self._head = replace(self._head, count=seq, last=mac, first=self._head.first or mac)
            write_private(self._head_file, self._head.sealed(self._key))
        for listener in self._listeners:
            listener(event, fields)
        return int(seq)

    def anchor(self) -> AuditAnchor:
        """The head's count and newest MAC, for the hub to keep."""
        with self._lock:
            return AuditAnchor(self._head.count, self._head.last)

    def mac_at(self, seq: int) -> str:
        """The MAC (or, before MAC'ing, the hash) of record ``seq``; "" if there is none."""
        rows = self._db.query("SELECT mac, hash FROM audit WHERE seq = ?", (seq,))
        return _tag(rows[0]) if rows else ""

    def records(self, *, since: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        return read_records(self._db, since=since, limit=limit)

    def verify(self) -> AuditReport:
        return verify_chain(self._db, self._head_file, self._vault)


def read_records(
    database: HostDatabase, *, since: int = 0, limit: int = 1000
) -> list[dict[str, Any]]:
    """Records after ``since``, oldest first (reading checks nothing and writes nothing)."""
    rows = database.query(
        "SELECT seq, at, event, record FROM audit WHERE seq > ? ORDER BY seq LIMIT ?",
        (since, limit),
    )
    return [
        {"seq": r["seq"], "at": r["at"], "event": r["event"], **json.loads(r["record"])}
        for r in rows
    ]


def verify_files(database_file: Path, head_file: Path, vault: Vault) -> AuditReport:
    """:func:`verify_chain` for ``host audit verify``: a missing database is reported, not
    created."""
    if database_file.exists():
        database = HostDatabase(database_file)
        try:
            return verify_chain(database, head_file, vault)
        finally:
            database.close()
    if head_file.exists():
        problem = f"the database {database_file} is missing: it was deleted (its head is here)"
    elif audit_key(vault) is not None:
        problem = (
            f"the database {database_file} and its head are missing: both were deleted (the "
            "vault holds an audit key, so there was a log)"
        )
    else:
        problem = f"there is no audit log: {database_file} is missing"
    return AuditReport(0, GENESIS, (AuditProblem(None, problem),))


def verify_chain(
    database: HostDatabase, head_file: Path, vault: Vault | None = None
) -> AuditReport:
    """Recompute the chain and the MACs; report every edited, forged, removed or reordered
    record and a head that does not match the log. The key is in ``vault`` (default: the
    vault in the head file's folder, the host's data folder)."""
    key = audit_key(vault or Vault(head_file.parent))
    head: Head | None = None
    problems: list[AuditProblem] = []
    if key is None:
        problems.append(
            AuditProblem(
                None,
                f"the vault holds no '{KEY_NAME}': the host has not started since MAC'ing came "
                "in (start it once), or the vault was replaced",
            )
        )
    elif not head_file.exists():
        problems.append(AuditProblem(None, f"the head file {head_file} is missing"))
    else:
        try:
            head = Head.parse(head_file.read_bytes(), key, head_file)
        except AuditError as error:
            problems.append(AuditProblem(None, str(error)))
    return _check(database.query("SELECT * FROM audit ORDER BY seq"), head, key, problems)


def _check(
    rows: Iterable[sqlite3.Row], head: Head | None, key: bytes | None, problems: list[AuditProblem]
) -> AuditReport:
    mac_from = head.mac_from if head else 1
    expected, prev_hash, prev_tag, first, at_head = 1, GENESIS, GENESIS, "", ""
    for row in rows:
        seq = int(row["seq"])
        if seq != expected:
            problems.append(AuditProblem(seq, f"records {expected}–{seq - 1} are missing"))
        if row["prev_hash"] != prev_hash:
            problems.append(AuditProblem(seq, "does not link to the record before it"))
        if _digest(seq, row["at"], row["event"], row["record"], row["prev_hash"]) != row["hash"]:
            problems.append(AuditProblem(seq, "was changed after it was written"))
        if key is not None and seq >= mac_from:
            if row["mac"] is None:
                problems.append(AuditProblem(seq, "has no MAC: forged, written without the key"))
            elif not hmac.compare_digest(row["mac"], _record_mac(key, row, prev_tag)):
                problems.append(
                    AuditProblem(seq, "its MAC does not match: rewritten or forged without the key")
                )
        tag = _tag(row)
        first = first or (tag if seq == 1 else "")
        at_head = tag if head and seq == head.count else at_head
        expected, prev_hash, prev_tag = seq + 1, row["hash"], tag
    newest = expected - 1
    notes: list[str] = []
    if head is not None:
        problems += _against_head(head, newest, first, at_head)
        if head.mac_from > 1:
            notes.append(
                f"records 1–{head.mac_from - 1} are from before MAC'ing started at record "
                f"{head.mac_from}: they are hash-chained only"
            )
    return AuditReport(newest, prev_tag, tuple(problems), tuple(notes))


def _against_head(head: Head, newest: int, first: str, at_head: str) -> list[AuditProblem]:
    if newest == 0 and head.count > 0:
        return [
            AuditProblem(
                None, f"the log is empty, its head says {head.count} records: the table was emptied"
            )
        ]
    problems = []
    if head.first and first and first != head.first:
        problems.append(AuditProblem(1, "is not the head's first record: the log was replaced"))
    if newest < head.count:
        problems.append(
            AuditProblem(
                None,
                f"records {newest + 1}–{head.count} are missing from the end (truncated): the "
                f"head says {head.count} records, the log ends at {newest}",
            )
        )
    elif newest > head.count:
        problems.append(
            AuditProblem(
                None,
                f"records {head.count + 1}–{newest} are past the head (head behind): appended "
                "behind the host's back, or the host stopped before updating the head (its "
                "next start seals genuine records in)",
            )
        )
    elif at_head != head.last:
        problems.append(
            AuditProblem(head.count, "is not the head's newest record: it was replaced")
        )
    return problems
