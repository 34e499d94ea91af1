"""``ledgerlink report reconcile`` over the engine's hub and the fake ERP, on both databases:
the table for people, --json (the API's model) and --csv, the connection and the period."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

from tests.sync.test_engine import build_hub
from typer.testing import CliRunner

from ledgerlink.cli.app import app
from ledgerlink.connectors.testing import FakeErp
from ledgerlink.domain.entity import require_id
from ledgerlink.store.database import Database


def test_report_reconcile_shows_a_seeded_difference_as_a_table_json_and_csv(
    database: Database, tmp_path: Path
) -> None:
    hub = build_hub(database, tmp_path, FakeErp())
    differs, _ = hub.invoices
    hub.erp.gross_difference = Decimal("5.00")
    started = hub.engine.start_transfer(hub.connection_id, require_id(differs))
    hub.engine.transfer_now(require_id(started))
    cli = ["--data-dir", str(tmp_path / "data"), "--database-url", database.url]

    def run(*args: str) -> str:
        result = CliRunner().invoke(
            app, [*cli, "report", "reconcile", *args], env={"COLUMNS": "240"}
        )
        assert result.exit_code == 0, result.output
        return result.stdout

    shown = run("--from", "2026-08-01", "--to", "2026-08-31")
    assert "Reconciliation of connection" in shown and "posted 2026-08-01 to 2026-08-31" in shown
    assert "By status" in shown and "By customer" in shown
    assert "Differences (2)" in shown  # the 5.00 and the document not sent
    assert f"invoice {differs.number}" in shown and "-5.00 DKK" in shown
    assert "not transferred yet" in shown

    (report,) = json.loads(run("--connection", str(hub.connection_id), "--json"))
    assert report["connection_id"] == hub.connection_id and report["agrees"] is False
    kinds = {d["number"]: d["kind"] for d in report["differences"]}
    assert kinds == {differs.number: "amount", hub.invoices[1].number: "not_sent"}
    assert {s["status"] for s in report["by_status"]} == {"sent", "not_sent"}

    rows = list(csv.DictReader(io.StringIO(run("--csv"))))
    assert [r["number"] for r in rows] == [str(i.number) for i in hub.invoices]
    assert rows[0]["difference"] == "-5.00" and rows[0]["currency"] == "DKK"

    empty = run("--from", "2027-01-01")
    assert "No posted documents in this period." in empty

    refused = CliRunner().invoke(app, [*cli, "report", "reconcile", "--from", "31-08-2026"])
    assert refused.exit_code == 1 and "--from must be a date" in refused.output
