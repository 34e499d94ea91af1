"""A worker killed with SIGKILL in the middle of a 100-invoice transfer (inside its first
batch of 40) loses nothing and sends nothing twice, on both databases.

Everything runs as in production, in separate processes: the e-conomic emulator
(``ledgerlink emulate economic``), the worker that starts the transfer (``ledgerlink transfers
run``) and the worker started after the crash (``ledgerlink worker --until-idle``, which
recovers the dead worker's DBOS workflows). The emulator holds back its answer to every draft
creation for a moment *after* creating the draft, so when the kill comes some drafts exist that
the dead worker never heard of — the case the correlation-reference lookup exists for. The
proof is read from the emulator's own API.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from ledgerlink.domain.entity import require_id
from ledgerlink.domain.invoices import LineKind
from ledgerlink.domain.transfers import ProductNumberPrinciples, TransferView
from ledgerlink.psa.sample import load_sample_data
from ledgerlink.store.database import Database
from ledgerlink.store.tables import WorkerRow
from ledgerlink.store.uow import UnitOfWork
from ledgerlink.sync import connections, table
from ledgerlink.sync.engine import Engine
from ledgerlink.sync.registry import ConnectorProvider
from ledgerlink.sync.secrets import SecretBox
from tests.conftest import postgres_base_url
from tests.sync.bulk import post_invoices

INVOICES = 100
KILL_AFTER = 25  # drafts in the ERP when the worker is killed: inside the first batch of 40
APP, GRANT = "crash-app-secret", "crash-grant"
HEADERS = {"X-AppSecretToken": APP, "X-AgreementGrantToken": GRANT}
LEDGERLINK = str(Path(sys.executable).with_name("ledgerlink"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Hub:
    """What the ledgerlink processes share: settings by environment, and the emulator."""

    env: dict[str, str]
    api: httpx2.Client
    logs: Path

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        out = (self.logs / f"{name}.log").open("wb")
        return subprocess.Popen([LEDGERLINK, *args], env=self.env, stdout=out, stderr=out)

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def get(self, path: str, **params: str) -> Any:
        """GET from the emulator as the agreement's other client: its calls count against
        e-conomic's rate limits too, so a 429 is waited out as its Retry-After says."""
        while (answer := self.api.get(path, params=params)).status_code == 429:
            time.sleep(float(answer.headers.get("retry-after", "1")))
        answer.raise_for_status()
        return answer.json()

    def draft_count(self) -> int:
        return int(self.get("/invoices/drafts", pagesize="1")["pagination"]["results"])

    def drafts(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        page = 0
        while True:
            body = self.get("/invoices/drafts", pagesize="1000", skippages=str(page))
            found.extend(body["collection"])
            if "nextPage" not in body["pagination"]:
                return found
            page += 1


@pytest.fixture
def system_database(database: Database, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """DBOS's database beside the app database: SQLite file, or a fresh PostgreSQL schema."""
    if database.url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'workflows.db'}", ""
        return
    base = postgres_base_url()
    schema = f"ll_dbos_{uuid.uuid4().hex[:12]}"
    yield make_url(base).render_as_string(hide_password=False), schema
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def hub(database: Database, tmp_path: Path, system_database: tuple[str, str]) -> Iterator[Hub]:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    url, schema = system_database
    env = os.environ | {
        "LEDGERLINK_DATA_DIR": str(data_dir),
        "LEDGERLINK_DATABASE_URL": database.url,
        "LEDGERLINK_SYSTEM_DATABASE_URL": url,
        "LEDGERLINK_SYSTEM_DATABASE_SCHEMA": schema,
        "COLUMNS": "200",
    }
    port = free_port()
    logs = tmp_path
    out = (logs / "emulator.log").open("wb")
    emulator = subprocess.Popen(
        [
            LEDGERLINK,
            "emulate",
            "economic",
            "--port",
            str(port),
            "--app-secret-token",
            APP,
            "--agreement-grant-token",
            GRANT,
        ],
        env=env,
        stdout=out,
        stderr=out,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        with httpx2.Client(base_url=base_url, headers=HEADERS, timeout=30) as api:
            deadline = time.monotonic() + 30
            while True:
                try:
                    api.get("/self").raise_for_status()
                    break
                except httpx2.TransportError:
                    assert emulator.poll() is None, (logs / "emulator.log").read_text()
                    assert time.monotonic() < deadline, "the emulator did not start"
                    time.sleep(0.1)
            yield Hub(env, api, logs)
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)


def test_a_worker_killed_mid_transfer_is_recovered_and_every_invoice_exists_exactly_once(
    hub: Hub, database: Database
) -> None:
    uow = UnitOfWork(database)
    entity, _ = load_sample_data(uow)
    invoices = post_invoices(uow, require_id(entity), count=INVOICES)
    secrets = SecretBox.from_key_file(
        Path(hub.env["LEDGERLINK_DATA_DIR"]) / "secret.key", create=True
    )
    engine = Engine(database, ConnectorProvider(secrets))
    connection, _ = connections.connect(
        engine,
        secrets,
        legal_entity_id=require_id(entity),
        erp="economic",
        credentials={"app_secret_token": APP, "agreement_grant_token": GRANT},
        settings={"base_url": str(hub.api.base_url)},
    )
    connection_id = require_id(connection)
    connections.import_products(engine, connection_id)
    connections.configure(
        engine,
        connection_id,
        principles=ProductNumberPrinciples(by_kind={LineKind.WORK: "WORK-DEV"}, default="EXP"),
    )
    engine.connectors.close()
    hub.api.put(
        "/_emulator/faults",
        json=[{"path_prefix": "/invoices/drafts", "methods": ["POST"], "hold_seconds": 0.1}],
    ).raise_for_status()

    first = hub.start("run", "transfers", "run")
    deadline = time.monotonic() + 120
    while (count := hub.draft_count()) < KILL_AFTER:
        assert first.poll() is None, hub.log("run")
        assert time.monotonic() < deadline, f"only {count} drafts after 120 s"
        time.sleep(0.1)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    at_kill = hub.draft_count()
    assert at_kill < INVOICES, "the transfer finished before the kill; nothing was tested"

    second = hub.start("worker", "worker", "--until-idle")
    assert second.wait(timeout=300) == 0, hub.log("worker")
    assert "No transfers waiting" in hub.log("worker")
    assert hub.draft_count() > at_kill  # the recovered workflows did the rest ...

    again = hub.start("again", "transfers", "run")  # ... and nothing is left to send
    assert again.wait(timeout=120) == 0, hub.log("again")
    if "nothing to transfer" not in hub.log("again"):  # say what was left, to find out why
        left = hub.start("left", "transfers", "log", "--limit", "400")
        left.wait(timeout=60)
        raise AssertionError(f"{hub.log('again')}\n{hub.log('left')}")

    by_reference: dict[str, list[dict[str, Any]]] = {}
    for draft in hub.drafts():
        by_reference.setdefault(draft["references"]["other"], []).append(draft)
    assert len(by_reference) == INVOICES
    for invoice in invoices:
        drafts = by_reference.get(f"LL-NORDLYS-{invoice.number}", [])
        assert len(drafts) == 1, f"invoice {invoice.number} is in the ERP {len(drafts)} times"
        totals = invoice.current_totals()
        assert Decimal(str(drafts[0]["netAmount"])) == totals.net.amount
        assert Decimal(str(drafts[0]["grossAmount"])) == totals.gross.amount
        lines = hub.get(f"/invoices/drafts/{drafts[0]['draftInvoiceNumber']}")["lines"]
        assert len(lines) == len(invoice.lines)
    rows = table.transfer_table(engine, connection_id)
    assert {r.view for r in rows if r.invoice.number in {i.number for i in invoices}} == {
        TransferView.TRANSFERRED
    }

    stop_with_sigterm(hub, database)


def stop_with_sigterm(hub: Hub, database: Database) -> None:
    """A running worker stopped by SIGTERM (systemd, docker, Kubernetes) stops cleanly: it
    says so, exits 0 and, with nothing left running, leaves the registry."""
    running = hub.start("serving", "worker", "--interval", "600")
    deadline = time.monotonic() + 60
    while not _registered(database, running.pid):
        assert running.poll() is None and time.monotonic() < deadline, hub.log("serving")
        time.sleep(0.1)
    running.send_signal(signal.SIGTERM)
    assert running.wait(timeout=60) == 0, hub.log("serving")
    assert "Stopping (SIGTERM)" in hub.log("serving")
    assert not _registered(database, running.pid)


def _registered(database: Database, pid: int) -> bool:
    with database.engine.connect() as connection:
        found = connection.execute(select(WorkerRow.pid).where(WorkerRow.pid == pid)).first()
    return found is not None
