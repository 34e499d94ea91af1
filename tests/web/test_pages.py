"""The transfer table and the integration log through the console, over the engine's hub
and the fake ERP (issue 14 items 3 and 4): preview, transfer with progress, ignore and
un-ignore, a failed transfer in the attention view and resolved, the log's filters, steps
and CSV."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from ledgerlink.connectors.contract import Permanent
from ledgerlink.domain.users import Role
from ledgerlink.store.database import Database
from tests.web.support import Console, build_console


@pytest.fixture
def console(database: Database, tmp_path: Path) -> Console:
    return build_console(database, tmp_path)


def _form(console: Console, *numbers: int | None, view: str = "") -> dict[str, object]:
    return {"connection": console.connection_id, "invoice": list(numbers), "view": view}


def test_the_table_preselects_rows_and_preview_shows_the_engines_requests(
    console: Console,
) -> None:
    first, second = (invoice.number for invoice in console.hub.invoices)
    with console.client(Role.FINANCE) as browser:
        page = browser.http.get("/transfers")
        assert page.status_code == 200
        boxes = re.findall(r'name="invoice" value="(\d+)"[^>]*checked', page.text)
        assert boxes == [str(first), str(second)]
        preview = browser.post("/transfers/preview", _form(console, first))
        assert preview.status_code == 200
        expected = console.hub.engine.preview(console.connection_id, console.hub.invoices[0].id)  # type: ignore[arg-type]
        for step in expected:
            for request in step.requests:
                assert f"{request.method} {request.path}" in preview.text
        assert f"LL-NORDLYS-{first}" in preview.text
        assert console.hub.erp.count("create_document") == 0  # nothing sent


def test_transfer_runs_shows_progress_and_the_erp_side(console: Console) -> None:
    numbers = [invoice.number for invoice in console.hub.invoices]
    with console.client(Role.FINANCE) as browser:
        started = browser.post("/transfers/transfer", _form(console, *numbers))
        assert started.status_code == 303
        job = browser.http.get(started.headers["location"])
        assert "Finished" in job.text
        assert job.text.count('class="status successful"') == 2
        progress = browser.http.get(started.headers["location"] + "/progress")
        assert "hx-trigger" not in progress.text  # finished: the polling stops
        for invoice in console.hub.invoices:
            assert console.hub.documents(invoice) == 1
        table = browser.http.get("/transfers?view=transferred")
        for number in numbers:
            assert f"<td>{number}</td>" in table.text
        assert "ERP number" in table.text
        assert "Posting status" in table.text
        again = browser.http.get("/transfers")
        assert "No documents in this view" in again.text


def test_a_running_transfer_is_polled(database: Database, tmp_path: Path) -> None:
    held: list[object] = []
    console = build_console(database, tmp_path, background=held.append)
    with console.client(Role.FINANCE) as browser:
        started = browser.post("/transfers/transfer", _form(console, 1001))
        page = browser.http.get(started.headers["location"])
        assert 'hx-trigger="every 1s"' in page.text
        assert "queued" in page.text
        held.pop()()  # type: ignore[operator]
        done = browser.http.get(started.headers["location"] + "/progress")
        assert "hx-trigger" not in done.text
        assert "successful" in done.text


def test_ignore_and_let_in_again(console: Console) -> None:
    first = console.hub.invoices[0].number
    with console.client(Role.FINANCE) as browser:
        answer = browser.post("/transfers/ignore", _form(console, first))
        assert answer.status_code == 303
        shown = browser.http.get(answer.headers["location"])
        assert "1 document(s) ignored" in shown.text
        ignored = browser.http.get("/transfers?view=ignored")
        assert f"<td>{first}</td>" in ignored.text
        assert "Un-ignore" in ignored.text
        back = browser.post("/transfers/unignore", _form(console, first, view="ignored"))
        assert "view=ignored" in back.headers["location"]
        assert f"<td>{first}</td>" in browser.http.get("/transfers").text


def test_a_failed_transfer_needs_attention_is_logged_red_and_resolved(console: Console) -> None:
    first = console.hub.invoices[0].number
    console.hub.erp.fail(
        "create_document", Permanent("Kunden har ingen valuta", hint="Add the currency")
    )
    with console.client(Role.FINANCE) as browser:
        browser.post("/transfers/transfer", _form(console, first))
        attention = browser.http.get("/transfers?view=attention")
        assert f"<td>{first}</td>" in attention.text
        assert "Resolve" in attention.text
        log = browser.http.get("/log")
        assert 'class="row-failed"' in log.text
        transaction = re.search(r'hx-get="/log/(\d+)/steps"', log.text)
        assert transaction
        steps = browser.http.get(f"/log/{transaction.group(1)}/steps")
        assert "Kunden har ingen valuta" in steps.text
        assert "Add the currency" in steps.text
        only_ok = browser.http.get("/log?status=successful")
        assert "Nothing logged" in only_ok.text
        found = browser.http.get("/log?q=ingen+valuta")
        assert f"/log/{transaction.group(1)}/steps" in found.text
        exported = browser.http.get("/log.csv")
        assert exported.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(exported.text)))
        assert any("Kunden har ingen valuta" in r["message"] + r["ERP text"] for r in rows), rows
        assert {r["status"] for r in rows} == {"failed"}
        resolved = browser.post("/transfers/resolve", _form(console, first, view="attention"))
        assert resolved.status_code == 303
        assert "No documents in this view" in browser.http.get(resolved.headers["location"]).text


def test_the_log_filters_by_transaction_and_period_and_the_csv_is_no_formula(
    console: Console,
) -> None:
    first = console.hub.invoices[0].number
    console.hub.erp.fail("create_document", Permanent('=HYPERLINK("http://x")'))
    with console.client(Role.VIEWER) as viewer, console.client(Role.FINANCE) as finance:
        finance.post("/transfers/transfer", _form(console, first))
        assert "Nothing logged" in viewer.http.get("/log?transaction=999").text
        assert "Nothing logged" in viewer.http.get("/log?from=2000-01-01&to=2000-01-31").text
        assert 'hx-get="/log/1/steps"' in viewer.http.get("/log?transaction=1").text
        exported = viewer.http.get("/log.csv?transaction=1")
        assert "'=HYPERLINK" in exported.text
        assert ",=HYPERLINK" not in exported.text
        bad = viewer.http.get("/log?from=yesterday")
        assert bad.status_code == 400
        assert "must be a date" in bad.text
