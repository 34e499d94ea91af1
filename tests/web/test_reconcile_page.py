"""The reconciliation report in the console and the JSON API (issue 14 items 7 and 8), over
the engine's hub and the fake ERP on both databases (one console per database: building it
is most of the cost): a seeded totals difference listed with a link to its document's log,
the CSV download, the API's answer and its refusals."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ledgerlink.domain.entity import require_id
from ledgerlink.domain.users import Role
from ledgerlink.store.api_keys import ApiKeyStore
from ledgerlink.store.database import Database
from ledgerlink.web import formats
from tests.web.support import Console, build_console
from tests.web.test_api import add_user


@pytest.fixture
def console(database: Database, tmp_path: Path) -> Console:
    console = build_console(database, tmp_path)
    differs, _ = console.hub.invoices
    console.hub.erp.gross_difference = Decimal("5.00")
    started = console.hub.engine.start_transfer(console.connection_id, require_id(differs))
    console.hub.engine.transfer_now(require_id(started))
    return console


def test_the_page_lists_the_difference_with_a_link_to_its_log_csv_and_the_api_agree(
    console: Console,
) -> None:
    differs, unsent = console.hub.invoices
    with console.client(Role.VIEWER) as browser:
        page = browser.http.get(
            f"/reconcile?connection={console.connection_id}&from=2026-08-01&to=2026-08-31"
        )
        assert page.status_code == 200, page.text
        text = page.text
        assert "2 document(s) differ" in text
        link = re.search(
            rf'<a href="/log\?connection={console.connection_id}&amp;transaction=(\d+)">'
            rf"invoice {differs.number}</a>",
            text,
        )
        assert link, text
        log = browser.http.get(f"/log?connection={console.connection_id}&transaction={link[1]}")
        assert f"invoice {differs.number}" in log.text
        # Never transferred: its row in the transfer table instead.
        assert (
            f'href="/transfers?connection={console.connection_id}&amp;view=non_transferred'
            f'&amp;q={unsent.number}"' in text
        )
        # Amounts in the reader's locale with their currency (English: its code).
        assert formats.money(Decimal("-5.00"), "DKK") in text
        assert "-DKK\xa05.00" in text
        danish = browser.http.get("/reconcile", headers={"Accept-Language": "da-DK"})
        assert "-5,00\xa0kr." in danish.text and "31.08.2026" in danish.text
        assert 'name="from" value="2026-08-01"' in text
        exported = browser.http.get(
            f"/reconcile.csv?connection={console.connection_id}&from=2026-08-01"
        )
        empty = browser.http.get("/reconcile?from=2027-01-01")
        backwards = browser.http.get("/reconcile?from=2026-09-01&to=2026-08-01")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["number"], r["difference kind"]) for r in rows] == [
        (str(differs.number), "amount"),
        (str(unsent.number), "not_sent"),
    ]
    assert "No posted documents in this period" in empty.text
    assert backwards.status_code == 400 and "swap the dates" in backwards.text

    # The same report from the JSON API.
    database = console.database
    add_user(database, "script", Role.VIEWER)
    _, key = ApiKeyStore(database).create("script", "reconciliation")
    headers = {"Authorization": f"Bearer {key}"}
    path = f"/api/v1/connections/{console.connection_id}/reconciliation"
    with TestClient(console.app, base_url="https://testserver") as client:
        answer = client.get(
            path, params={"from": "2026-08-01", "to": "2026-08-31"}, headers=headers
        )
        backwards = client.get(
            path, params={"from": "2026-09-01", "to": "2026-08-01"}, headers=headers
        )
        missing = client.get("/api/v1/connections/999/reconciliation", headers=headers)
        anonymous = client.get(path)
        document = client.get("/api/v1/openapi.json").json()
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["agrees"] is False and body["period_from"] == "2026-08-01"
    (amount,) = [d for d in body["differences"] if d["kind"] == "amount"]
    assert amount["number"] == differs.number and amount["difference"] == "-5.00"
    assert amount["currency"] == "DKK" and amount["last_transfer_id"] is not None
    not_sent = unsent.current_totals().gross
    totals = {t["currency"]: t["difference"] for t in body["totals"]}  # one per currency
    assert totals == {"DKK": "-5.00", not_sent.currency: str(not_sent.amount)}
    assert backwards.status_code == 422 and "swap the dates" in backwards.json()["detail"]
    assert missing.status_code == 404
    assert anonymous.status_code == 401
    assert "/connections/{connection_id}/reconciliation" in document["paths"]
