"""Exact Online emulator: OData v2 verbose envelopes, 60-row pages continued by ``__next``
with a ``$skiptoken``, ``$filter`` literals (``guid'…'``, ``datetime'…'``, ``123L``,
``trim()``), ``$select`` and where a read needs it, ``/Date(ms)/`` dates."""

from __future__ import annotations

import uuid
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

from ledgerlink.emulators.exact.seed import MAIN
from tests.emulators.exact_support import DIVISION, Session, message, session

ACCOUNTS = f"{DIVISION}/crm/Accounts"


def _add_accounts(s: Session, count: int) -> None:
    division = s.emulator.state.divisions[MAIN]
    for n in range(count):
        key = str(uuid.UUID(int=n + 1))
        record = {
            "ID": key,
            "Code": str(2000 + n).rjust(18),
            "Name": f"Customer {n}",
            "Modified": f"2026-02-{1 + n % 28:02d}T08:00:00",
        }
        division.stamp(record)
        division.table("crm/Accounts")[key] = record


def test_a_collection_is_d_results_with_metadata_and_dates_in_epoch_milliseconds() -> None:
    s = session()
    body = s.get(ACCOUNTS).json()
    assert set(body) == {"d"}
    assert "__next" not in body["d"]
    first = body["d"]["results"][0]
    assert first["__metadata"]["type"] == "Exact.Web.Api.Models.Account"
    assert first["__metadata"]["uri"].endswith(f"/api/v1/{MAIN}/crm/Accounts(guid'{first['ID']}')")
    assert first["Created"] == "/Date(1767344400000)/"  # 2026-01-02T09:00:00
    single = s.get(f"{ACCOUNTS}(guid'{first['ID']}')").json()
    assert single["d"]["Name"] == first["Name"]


def test_pages_hold_60_records_and_next_links_carry_a_skiptoken_until_the_last_page() -> None:
    s = session()
    _add_accounts(s, 127)  # with the 3 seeded: 130 = 60 + 60 + 10
    seen: list[str] = []
    url: str | None = ACCOUNTS
    pages = 0
    while url is not None:
        body = s.client.get(url, headers=s.auth).json()["d"]
        seen += [r["ID"] for r in body["results"]]
        pages += 1
        url = body.get("__next")
        if url is not None:
            token = parse_qs(urlsplit(url).query)["$skiptoken"][0]
            assert token == f"guid'{seen[-1]}'"
    assert pages == 3
    assert len(seen) == len(set(seen)) == 130
    topped = s.get(ACCOUNTS, **{"$top": "70", "$select": "ID"}).json()["d"]
    assert len(topped["results"]) == 60
    assert parse_qs(urlsplit(topped["__next"]).query)["$top"] == ["10"]


def test_filters_with_guid_datetime_int64_literals_and_trim() -> None:
    s = session()
    _add_accounts(s, 10)
    padded = s.get(ACCOUNTS, **{"$filter": "Code eq '              1001'"}).json()["d"]
    trimmed = s.get(ACCOUNTS, **{"$filter": "trim(Code) eq '1001'"}).json()["d"]
    assert [r["Name"] for r in padded["results"]] == ["Bakkerij Jansen B.V."]
    assert trimmed["results"] == padded["results"]
    key = str(uuid.UUID(int=3))
    by_guid = s.get(ACCOUNTS, **{"$filter": f"ID eq guid'{key}'"}).json()["d"]["results"]
    assert [r["Code"].strip() for r in by_guid] == ["2002"]
    since = "Modified ge datetime'2026-02-08T00:00:00' and Modified lt datetime'2026-02-10'"
    assert len(s.get(ACCOUNTS, **{"$filter": since}).json()["d"]["results"]) == 2
    glas = s.get(f"{DIVISION}/financial/GLAccounts", **{"$filter": "Type eq 20L"}).json()["d"]
    assert [r["Code"] for r in glas["results"]] == ["1300"]
    bad = s.get(ACCOUNTS, **{"$filter": "Nope eq 1"})
    assert bad.status_code == 400
    assert "Nope" in message(bad)


def test_select_limits_the_properties_and_sales_invoices_need_select_or_top_1() -> None:
    s = session()
    items = s.get(f"{DIVISION}/logistics/Items", **{"$select": "Code,IsFractionAllowedItem"})
    assert set(items.json()["d"]["results"][0]) == {"__metadata", "Code", "IsFractionAllowedItem"}
    invoices = f"{DIVISION}/salesinvoice/SalesInvoices"
    refused = s.get(invoices)
    assert refused.status_code == 400
    assert message(refused) == "Please add a $select or a $top=1 statement to the query string."
    assert s.get(invoices, **{"$top": "1"}).status_code == 200
    assert s.get(invoices, **{"$select": "InvoiceID"}).status_code == 200


def test_money_is_exact_on_the_wire() -> None:
    s = session()
    vat = s.get(f"{DIVISION}/vat/VATCodes", **{"$filter": "Code eq '1'"}).json()["d"]
    (code,) = vat["results"]
    assert Decimal(str(code["Percentage"])) == Decimal("0.21")


def test_sync_endpoints_need_select_page_by_1000_and_follow_timestamps_and_deletes() -> None:
    s = session()
    sync = f"{DIVISION}/sync/CRM/Accounts"
    refused = s.get(sync, **{"$top": "1"})
    assert message(refused) == "Please add a $select or a $top=1 statement to the query string."
    first = s.get(sync, **{"$select": "Timestamp,ID,Code"}).json()["d"]["results"]
    assert len(first) == 3
    cursor = max(r["Timestamp"] for r in first)
    made = s.post(ACCOUNTS, {"Name": "Nieuw", "Code": "4001"}).json()["d"]
    old = first[0]["ID"]
    assert s.client.delete(f"{ACCOUNTS}(guid'{old}')", headers=s.auth).status_code == 204
    since = {"$filter": f"Timestamp gt {cursor}L", "$select": "Timestamp,ID"}
    changed = s.get(sync, **since).json()["d"]["results"]
    assert [r["ID"] for r in changed] == [made["ID"]]
    assert changed[0]["Timestamp"] > cursor
    deleted = s.get(f"{DIVISION}/sync/Deleted", **since | {"$select": "EntityKey,EntityType"})
    assert [(r["EntityKey"], r["EntityType"]) for r in deleted.json()["d"]["results"]] == [(old, 2)]
    _add_accounts(s, 1100)
    page = s.get(sync, **{"$select": "Timestamp"}).json()["d"]
    assert len(page["results"]) == 1000
    assert "$skiptoken=" in page["__next"]
