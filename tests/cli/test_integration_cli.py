"""The integration commands end to end through Typer's runner, against the e-conomic emulator
over real HTTP, on both databases: connect, products, principles, automatic transfer on
posting through the worker, the transfer table and the log."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx2
import pytest
from dbos import DBOSClient
from typer.testing import CliRunner

from ledgerlink.cli.app import app
from ledgerlink.emulators._kit.serve import running
from ledgerlink.emulators.economic import EconomicEmulator
from ledgerlink.store.database import Database

APP, GRANT = "cli-app-secret", "cli-grant"


@pytest.fixture
def emulator_url() -> Iterator[str]:
    emulator = EconomicEmulator(app_secret_token=APP, agreement_grant_token=GRANT)
    with running(emulator.app) as base_url:
        yield base_url


@pytest.fixture
def cli(tmp_path: Path, database: Database) -> list[str]:
    return ["--data-dir", str(tmp_path), "--database-url", database.url]


def run(cli: list[str], *args: str) -> str:
    result = CliRunner().invoke(app, [*cli, *args], env={"COLUMNS": "240"})
    assert result.exit_code == 0, f"{args}: {result.stdout}{result.stderr}"
    return result.stdout


def drafts(base_url: str, reference: str) -> list[dict[str, object]]:
    response = httpx2.get(
        f"{base_url}/invoices/drafts",
        params={"filter": f"references.other$eq:{reference}"},
        headers={"X-AppSecretToken": APP, "X-AgreementGrantToken": GRANT},
    )
    response.raise_for_status()
    return list(response.json()["collection"])


def test_connect_set_up_and_transfer_automatically_on_posting(
    cli: list[str], emulator_url: str, tmp_path: Path
) -> None:
    run(cli, "sample", "load")
    out = run(
        cli, "connect", "economic", "--app-secret-token", APP, "--grant-token", GRANT,
        "--url", emulator_url, "--automatic",
    )  # fmt: skip
    assert "Connected NORDLYS to e-conomic agreement 7654321" in out
    assert "automatic" in run(cli, "connections", "list")
    assert re.search(r"\b\d+ product numbers?\b", run(cli, "sync", "products"))
    run(cli, "connections", "principles", "--work", "WORK-DEV", "--default", "EXP")
    run(cli, "worker", "--until-idle")  # nothing posted yet; prepares the queue

    draft = json.loads(
        run(
            cli,
            "invoices",
            "draft",
            "--project",
            "P-101",
            "--month",
            "2026-08",
            "--invoice-date",
            "2026-08-31",
            "--json",
        )
    )
    out = run(cli, "invoices", "post", str(draft["id"]), "--posting-date", "2026-08-31")
    assert "Transfer to e-conomic: queued for the worker" in out
    posted = json.loads(run(cli, "invoices", "show", str(draft["id"]), "--json"))
    reference = f"LL-NORDLYS-{posted['number']}"
    assert drafts(emulator_url, reference) == []  # queued, not sent: no worker runs

    client = DBOSClient(system_database_url=f"sqlite:///{tmp_path / 'workflows.db'}")
    try:
        (queued,) = client.list_workflows(status="ENQUEUED")
        assert queued.workflow_id.startswith("transfer:")
    finally:
        client.destroy()

    assert "No transfers waiting" in run(cli, "worker", "--until-idle")
    (erp_draft,) = drafts(emulator_url, reference)
    assert Decimal(str(erp_draft["grossAmount"])) == Decimal(posted["gross"]["amount"])

    rows = json.loads(run(cli, "transfers", "list", "--json"))
    row = next(r for r in rows if r["number"] == posted["number"])
    assert row["view"] == "transferred"
    log = run(cli, "transfers", "log", "--invoice", str(posted["number"]))
    assert "successful" in log and "created ERP draft" in log

    # No project module on this agreement: no projects go.
    assert "projects: 0 pushed, 0 failed" in run(cli, "sync", "projects")

    # Running the worker again sends nothing twice.
    run(cli, "worker", "--until-idle")
    assert len(drafts(emulator_url, reference)) == 1


def test_manual_connections_do_not_transfer_on_posting(cli: list[str], emulator_url: str) -> None:
    run(cli, "sample", "load")
    run(
        cli, "connect", "economic", "--app-secret-token", APP, "--grant-token", GRANT,
        "--url", emulator_url,
    )  # fmt: skip
    draft = json.loads(
        run(
            cli,
            "invoices",
            "draft",
            "--project",
            "P-101",
            "--month",
            "2026-08",
            "--invoice-date",
            "2026-08-31",
            "--json",
        )
    )
    out = run(cli, "invoices", "post", str(draft["id"]), "--posting-date", "2026-08-31")
    assert "Transfer to" not in out
    rows = json.loads(run(cli, "transfers", "list", "--json"))
    assert {r["view"] for r in rows} == {"non_transferred"}

    # A preview shows what a transfer would send and sends and records nothing.
    number = rows[0]["number"]
    missing = run(cli, "transfers", "run", "--preview", "--invoice", str(number))
    assert "invoice: would fail: no product number for work lines" in missing
    run(cli, "sync", "products")
    run(cli, "connections", "principles", "--work", "WORK-DEV", "--default", "EXP")
    preview = run(cli, "transfers", "run", "--preview", "--invoice", str(number))
    assert f"invoice {number} (preview: nothing is sent)" in preview
    assert "POST /customers" in preview and "POST /invoices/drafts" in preview
    assert f'"other": "LL-NORDLYS-{number}"' in preview
    assert drafts(emulator_url, f"LL-NORDLYS-{number}") == []
    assert json.loads(run(cli, "transfers", "list", "--json")) == rows


def test_product_numbers_their_principles_and_a_number_removed_in_the_erp(
    cli: list[str], emulator_url: str
) -> None:
    run(cli, "sample", "load")
    run(
        cli, "connect", "economic", "--app-secret-token", APP, "--grant-token", GRANT,
        "--url", emulator_url,
    )  # fmt: skip
    assert "No product numbers imported yet" in run(cli, "connections", "products")
    run(cli, "sync", "products")
    run(cli, "connections", "principles", "--work", "WORK-DEV", "--default", "EXP")
    products = json.loads(run(cli, "connections", "products", "--json"))
    used = {p["number"]: p["principles"] for p in products}
    assert used["WORK-DEV"] == ["work"] and used["EXP"] == ["default"] and used["TRAVEL"] == []
    assert re.search(r"WORK-DEV\s+Udvikling\s+timer\s+work", run(cli, "connections", "products"))

    draft = json.loads(
        run(cli, "invoices", "draft", "--project", "P-101", "--month", "2026-08",
            "--invoice-date", "2026-08-31", "--json")
    )  # fmt: skip
    run(cli, "invoices", "post", str(draft["id"]), "--posting-date", "2026-08-31")
    number = json.loads(run(cli, "invoices", "show", str(draft["id"]), "--json"))["number"]
    httpx2.delete(
        f"{emulator_url}/products/WORK-DEV",
        headers={"X-AppSecretToken": APP, "X-AgreementGrantToken": GRANT},
    ).raise_for_status()

    # Before the next import only the ERP knows: its refusal is said with the number, once.
    result = CliRunner().invoke(app, [*cli, "transfers", "run"], env={"COLUMNS": "240"})
    assert result.exit_code == 1
    (logged,) = json.loads(run(cli, "transfers", "log", "--json"))
    invoice_step = logged["steps"][-1]
    assert invoice_step["message"] == "product number WORK-DEV is not in e-conomic"
    assert "lines[0].product" in invoice_step["erp_text"]

    out = run(cli, "sync", "products")
    assert (
        "warning: product number WORK-DEV was removed in e-conomic but is still used by the "
        f"work principle and document {number}"
    ) in " ".join(out.split())

    # With no options the command shows the principles, the removed number among them.
    shown = run(cli, "connections", "principles")
    assert re.search(r"work\s+WORK-DEV\s+not in e-conomic", shown)
    assert re.search(r"travel\s+EXP\s+Viderefakturerede udlæg \(the default\)", shown)
    rows = json.loads(run(cli, "connections", "principles", "--json"))
    assert {r["kind"]: r["imported"] for r in rows}["work"] is False
