"""The audit log against someone who edits the host's files without the vault's key (issue 11
item 2): every tampering is named by 'ledgerlink host audit verify' (exit 1, no traceback),
and the host does not append to a log that disagrees with its head."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ledgerlink.cli.app import app
from ledgerlink.financialhost.audit import GENESIS, AuditError, AuditLog, verify_chain
from ledgerlink.financialhost.database import HostDatabase

RECORDS = 5


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A host's data folder with a log of five records, and a settings file beside it."""
    folder = tmp_path / "data"
    database = HostDatabase(folder / "host.sqlite")
    log = AuditLog(database, folder / "audit.head")
    for number in range(RECORDS):
        log.append("request", operation="customer.find", number=str(number))
    database.close()
    (tmp_path / "financialhost.toml").write_text(f'data_dir = "{folder}"\n', encoding="utf-8")
    return folder


def verify(data: Path) -> Result:
    settings = data.parent / "financialhost.toml"
    result = CliRunner().invoke(app, ["host", "audit", "verify", "--settings", str(settings)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def assert_tampered(data: Path, *expected: str) -> None:
    result = verify(data)
    assert result.exit_code == 1, result.output
    for text in expected:
        assert text in result.output


def attacker(data: Path) -> sqlite3.Connection:
    """A plain SQLite connection without the append-only triggers (a file editor)."""
    conn = sqlite3.connect(data / "host.sqlite", isolation_level=None)
    conn.row_factory = sqlite3.Row
    for trigger in ("audit_no_update", "audit_no_delete", "audit_no_replace"):
        conn.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    return conn


def digest(seq: int, at: str, event: str, record: str, prev: str) -> str:
    canonical = json.dumps([seq, at, event, record, prev], separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def rechain(conn: sqlite3.Connection) -> str:
    """Recompute every hash from the first record on, as an attacker without the key can."""
    prev = GENESIS
    for row in list(conn.execute("SELECT * FROM audit ORDER BY seq")):
        new = digest(row["seq"], row["at"], row["event"], row["record"], prev)
        conn.execute(
            "UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, new, row["seq"])
        )
        prev = new
    return prev


def test_an_untouched_log_verifies(data: Path) -> None:
    result = verify(data)
    assert result.exit_code == 0, result.output
    assert f"intact: {RECORDS} records" in result.output


def test_a_record_rewritten_and_rechained_without_the_key(data: Path) -> None:
    with attacker(data) as conn:
        conn.execute('UPDATE audit SET record = \'{"number":"99"}\' WHERE seq = 3')
        newest = rechain(conn)
    (data / "audit.head").write_text(f"{RECORDS} {newest}\n", encoding="ascii")  # the old head
    assert_tampered(data, "record 3: its MAC does not match", "is not a head")


def test_records_removed_from_the_end(data: Path) -> None:
    with attacker(data) as conn:
        conn.execute("DELETE FROM audit WHERE seq > 3")
    assert_tampered(data, "records 4–5 are missing from the end (truncated)")
    database = HostDatabase(data / "host.sqlite")
    with pytest.raises(AuditError, match="ends at record 3, its head says 5"):
        AuditLog(database, data / "audit.head")  # the host will not append to it
    database.close()


def test_one_forged_record_appended(data: Path) -> None:
    with attacker(data) as conn:
        last = conn.execute("SELECT * FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        at, record = last["at"], '{"operation":"invoice.create"}'
        forged = digest(RECORDS + 1, at, "request", record, last["hash"])
        conn.execute(
            "INSERT INTO audit (seq, at, event, record, prev_hash, hash, mac) "
            "VALUES (?,?,?,?,?,?,?)",
            (RECORDS + 1, at, "request", record, last["hash"], forged, "0" * 64),
        )
    assert_tampered(data, "record 6: its MAC does not match", "records 6–6 are past the head")
    database = HostDatabase(data / "host.sqlite")
    with pytest.raises(AuditError, match="record 6 after the head does not carry"):
        AuditLog(database, data / "audit.head")
    database.close()


def test_the_table_emptied(data: Path) -> None:
    with attacker(data) as conn:
        conn.execute("DELETE FROM audit")
    assert_tampered(data, "the log is empty, its head says 5 records: the table was emptied")


def test_the_database_deleted(data: Path) -> None:
    for name in ("host.sqlite", "host.sqlite-wal", "host.sqlite-shm"):
        (data / name).unlink(missing_ok=True)
    assert_tampered(data, "host.sqlite is missing: it was deleted")
    assert not (data / "host.sqlite").exists()  # verify creates nothing
    (data / "audit.head").unlink()
    assert_tampered(data, "and its head are missing: both were deleted")


def test_insert_or_replace_is_refused(data: Path) -> None:
    database = HostDatabase(data / "host.sqlite")
    with (
        pytest.raises(sqlite3.IntegrityError, match="append-only"),
        database.transaction() as conn,
    ):
        conn.execute(
            "INSERT OR REPLACE INTO audit (seq, at, event, record, prev_hash, hash) "
            "VALUES (3, 'now', 'request', '{}', '', '')"
        )
    database.close()
    assert verify(data).exit_code == 0


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\x00\xff garbage", "is not a head (garbage, or edited)"),
        (b'{"count": 5}', "is not a head (garbage, or edited)"),
    ],
)
def test_a_garbage_head(data: Path, head: bytes, expected: str) -> None:
    (data / "audit.head").write_bytes(head)
    assert_tampered(data, expected)


def test_a_head_edited_without_the_key(data: Path) -> None:
    head = json.loads((data / "audit.head").read_text(encoding="ascii"))
    (data / "audit.head").write_text(json.dumps({**head, "count": 3}), encoding="ascii")
    assert_tampered(data, "was changed: its MAC does not match")


def test_a_head_behind_the_log_is_reported_and_sealed_at_the_next_start(data: Path) -> None:
    """A crash between a record's commit and its head leaves the head behind: verify says so,
    and the next start seals the records in because their MACs prove the host wrote them."""
    older = (data / "audit.head").read_bytes()
    database = HostDatabase(data / "host.sqlite")
    AuditLog(database, data / "audit.head").append("host.stopped")
    (data / "audit.head").write_bytes(older)
    assert_tampered(data, "records 6–6 are past the head (head behind)")
    AuditLog(database, data / "audit.head")
    database.close()
    assert verify(data).exit_code == 0


def test_a_log_from_before_the_mac_is_sealed_and_macd_from_then_on(tmp_path: Path) -> None:
    """The upgrade: a database and head written by the previous version (no MAC column, head
    'seq hash'). The host's first start seals it; verify names where MAC'ing began."""
    data = tmp_path / "data"
    data.mkdir()
    prev = GENESIS
    with sqlite3.connect(data / "host.sqlite") as conn:
        conn.execute(
            "CREATE TABLE audit (seq INTEGER PRIMARY KEY, at TEXT NOT NULL, event TEXT NOT NULL,"
            " record TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)"
        )
        for seq in (1, 2):
            new = digest(seq, "2026-01-01T00:00:00+00:00", "host.started", "{}", prev)
            conn.execute(
                "INSERT INTO audit VALUES (?, ?, 'host.started', '{}', ?, ?)",
                (seq, "2026-01-01T00:00:00+00:00", prev, new),
            )
            prev = new
    (data / "audit.head").write_text(f"2 {prev}\n", encoding="ascii")
    (tmp_path / "financialhost.toml").write_text(f'data_dir = "{data}"\n', encoding="utf-8")
    database = HostDatabase(data / "host.sqlite")
    AuditLog(database, data / "audit.head").append("host.started")
    database.close()
    result = verify(data)
    assert result.exit_code == 0, result.output
    assert "records 1–2 are from before MAC'ing started at record 3" in result.output

    # Stripping the MACs and putting an old-style head back does not pass for that upgrade.
    with attacker(data) as conn:
        conn.execute("UPDATE audit SET mac = NULL")
    (data / "audit.head").write_text(f"3 {rechain(attacker(data))}\n", encoding="ascii")
    assert_tampered(data, "record 3: has no MAC", "is not a head")
    database = HostDatabase(data / "host.sqlite")
    with pytest.raises(AuditError, match="the vault's audit key exists"):
        AuditLog(database, data / "audit.head")
    database.close()


def test_verify_chain_in_process_uses_the_vault_beside_the_head(data: Path) -> None:
    database = HostDatabase(data / "host.sqlite")
    try:
        report = verify_chain(database, data / "audit.head")
    finally:
        database.close()
    assert report.intact
    assert report.records == RECORDS
