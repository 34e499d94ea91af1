"""The Fortnox emulator against its fact sheet's checklist (erp-facts/fortnox.md §2.11):
OAuth and tokens, envelopes and paging, filters, the rate limit, error bodies and codes, the
invoice rules and life cycle, locked periods, vouchers and file connections."""

from __future__ import annotations

import threading
from decimal import Decimal

import httpx2
import pytest
from fastapi.testclient import TestClient

from ledgerlink.emulators._kit.multipart import MultipartError, uploaded_files
from ledgerlink.emulators.fortnox import FortnoxEmulator
from tests.emulators.fortnox_support import (
    BASIC,
    INVOICE,
    REDIRECT,
    Clock,
    authorize,
    client,
    fresh,
    tokens,
)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def emulator(clock: Clock) -> FortnoxEmulator:
    return fresh(clock=clock)


@pytest.fixture
def api(emulator: FortnoxEmulator) -> TestClient:
    return client(emulator)


def code(answer: httpx2.Response) -> int:
    return int(answer.json()["ErrorInformation"]["code"])


# OAuth ----------------------------------------------------------------------------------------


def test_tokens_live_an_hour_and_refresh_tokens_rotate(
    emulator: FortnoxEmulator, clock: Clock
) -> None:
    http = TestClient(emulator.app)
    first = tokens(http)
    assert (first["expires_in"], first["token_type"]) == (3600, "bearer")
    refresh = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    second = http.post("/oauth-v1/token", data=refresh, headers=BASIC)
    assert second.status_code == 200
    again = http.post("/oauth-v1/token", data=refresh, headers=BASIC)
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")
    # the reuse logged the grant out: the rotated token is dead too
    newer = {"grant_type": "refresh_token", "refresh_token": second.json()["refresh_token"]}
    assert http.post("/oauth-v1/token", data=newer, headers=BASIC).status_code == 400
    fresh_tokens = tokens(http)
    bearer = {"Authorization": f"Bearer {fresh_tokens['access_token']}"}
    assert http.get("/3/me", headers=bearer).status_code == 200
    clock.now += 3600
    expired = http.get("/3/me", headers=bearer)
    assert (expired.status_code, code(expired)) == (401, 2000310)
    clock.now += 45 * 86400
    late = {"grant_type": "refresh_token", "refresh_token": fresh_tokens["refresh_token"]}
    assert http.post("/oauth-v1/token", data=late, headers=BASIC).json()["error"] == "invalid_grant"


def test_codes_last_ten_minutes_and_need_basic_client_auth(
    emulator: FortnoxEmulator, clock: Clock
) -> None:
    http = TestClient(emulator.app)
    form = {"grant_type": "authorization_code", "code": authorize(http), "redirect_uri": REDIRECT}
    assert http.post("/oauth-v1/token", data=form).status_code == 401
    clock.now += 601
    assert http.post("/oauth-v1/token", data=form, headers=BASIC).json()["error"] == (
        "invalid_grant"
    )


def test_of_two_concurrent_refreshes_one_fails_invalid_grant(emulator: FortnoxEmulator) -> None:
    http = TestClient(emulator.app)
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens(http)["refresh_token"]}
    statuses: list[int] = []
    start = threading.Barrier(2)

    def run() -> None:
        start.wait()
        statuses.append(http.post("/oauth-v1/token", data=refresh, headers=BASIC).status_code)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 400]


def test_revoke_ends_the_grant(emulator: FortnoxEmulator) -> None:
    http = TestClient(emulator.app)
    issued = tokens(http)
    form = {"token_type_hint": "refresh_token", "token": issued["refresh_token"]}
    assert http.post("/oauth-v1/revoke", data=form, headers=BASIC).json() == {"revoked": True}
    gone = http.get("/3/me", headers={"Authorization": f"Bearer {issued['access_token']}"})
    assert gone.status_code == 401


def test_me_and_the_service_account(emulator: FortnoxEmulator) -> None:
    http = TestClient(emulator.app)
    person = tokens(http)["access_token"]
    service = tokens(http, account_type="service")["access_token"]
    me = http.get("/3/me", headers={"Authorization": f"Bearer {person}"}).json()
    assert set(me["MeInformation"]) == {"Email", "Id", "Locale", "Name", "SysAdmin"}
    assert me["MeInformation"]["SysAdmin"] is True
    robot = http.get("/3/me", headers={"Authorization": f"Bearer {service}"}).json()
    assert robot["MeInformation"]["Id"] == "service-account"
    missing = http.get("/3/customers")
    assert (missing.status_code, code(missing)) == (401, 2000311)


def test_a_call_outside_the_granted_scopes_is_forbidden(emulator: FortnoxEmulator) -> None:
    http = TestClient(emulator.app)
    bearer = {"Authorization": f"Bearer {tokens(http, scope='customer')['access_token']}"}
    assert http.get("/3/customers", headers=bearer).status_code == 200
    assert http.get("/3/invoices", headers=bearer).status_code == 403


# envelopes, paging, filters, rate limit -------------------------------------------------------


def test_lists_page_with_meta_information(api: TestClient) -> None:
    for number in range(3, 8):
        assert api.post("/3/customers", json={"Customer": {"Name": f"K{number}"}}).status_code == (
            201
        )
    page = api.get("/3/customers", params={"limit": 2, "page": 3}).json()
    assert page["MetaInformation"] == {
        "@TotalResources": 7,
        "@TotalPages": 4,
        "@CurrentPage": 3,
    }
    assert [c["CustomerNumber"] for c in page["Customers"]] == ["5", "6"]
    assert all(c["@url"].endswith(f"/3/customers/{c['CustomerNumber']}") for c in page["Customers"])
    assert code(api.get("/3/customers", params={"limit": 501})) == 2000588
    assert len(api.get("/3/customers", params={"limit": 500}).json()["Customers"]) == 7


def test_search_is_like_one_filter_and_sorting(api: TestClient) -> None:
    api.put("/3/customers/2", json={"Customer": {"Active": False}})
    assert [c["Name"] for c in api.get("/3/customers?name=BYGG").json()["Customers"]] == [
        "Byggbolaget i Norden AB"
    ]
    assert [c["CustomerNumber"] for c in api.get("/3/customers?filter=inactive").json()[
        "Customers"
    ]] == ["2"]  # fmt: skip
    assert code(api.get("/3/customers?filter=active&filter=inactive")) == 2000588
    assert code(api.get("/3/customers?filter=paid")) == 2000588
    ordered = api.get("/3/customers?sortby=name&sortorder=descending").json()["Customers"]
    assert [c["CustomerNumber"] for c in ordered] == ["2", "1"]


def test_lastmodified_has_minute_granularity(api: TestClient, emulator: FortnoxEmulator) -> None:
    stamp = emulator.state.company.table("customers")["1"]["_modified"]  # seeded 00:00:00

    def total(since: str) -> int:
        meta = api.get("/3/customers", params={"lastmodified": since}).json()["MetaInformation"]
        return int(meta["@TotalResources"])

    assert total(stamp[:16]) == 2  # the same minute counts
    assert total(stamp[:14] + "01") == 0
    api.put("/3/customers/1", json={"Customer": {"City": "Uppsala"}})
    changed = emulator.state.company.table("customers")["1"]["_modified"][:16]
    found = api.get("/3/customers", params={"lastmodified": changed}).json()["Customers"]
    assert [c["CustomerNumber"] for c in found] == ["1"]


def test_25_requests_in_5_seconds_then_a_bare_429(clock: Clock) -> None:
    emulator = FortnoxEmulator(clock=clock)
    http = client(emulator)
    answers = [http.get("/3/me") for _ in range(26)]
    assert [a.status_code for a in answers[:25]] == [200] * 25
    refused = answers[25]
    assert refused.status_code == 429
    assert not [h for h in refused.headers if "ratelimit" in h.lower() or h == "retry-after"]
    assert "ErrorInformation" in refused.json()
    clock.now += 5
    assert http.get("/3/me").status_code == 200


# customers, rows, invoices --------------------------------------------------------------------


def test_customer_numbers_are_never_reused(api: TestClient) -> None:
    body = {"Customer": {"CustomerNumber": "77", "Name": "Ny kund AB", "Country": "Sverige"}}
    assert api.post("/3/customers", json=body).status_code == 201
    assert api.delete("/3/customers/77").status_code == 204
    again = api.post("/3/customers", json=body)
    assert (again.status_code, code(again)) == (400, 2000637)
    foreign = api.post("/3/customers", json={"Customer": {"Name": "X", "Country": "Sweden"}})
    assert foreign.status_code == 400


def test_invoice_create_computes_totals_and_keeps_the_reference(api: TestClient) -> None:
    answer = api.post("/3/invoices", json=INVOICE)
    assert answer.status_code == 201
    invoice = answer.json()["Invoice"]
    rows = invoice["InvoiceRows"]
    assert rows[0]["DeliveredQuantity"] == "2.50"
    assert (rows[0]["Total"], rows[0]["AccountNumber"], rows[0]["VAT"]) == (2875, 3001, 25)
    assert set(rows[1]) == {"RowId", "Description"}
    # net 2974.99, VAT 743.75 → 3718.74, rounded to whole kronor
    assert (invoice["Net"], invoice["TotalVAT"]) == (2974.99, 743.75)
    assert (invoice["Total"], invoice["RoundOff"], invoice["Balance"]) == (3719, 0.26, 3719)
    assert invoice["ExternalInvoiceReference1"] == "ll:t1:inv-1:0"
    found = api.get("/3/invoices", params={"externalinvoicereference1": "inv-1"}).json()
    assert [i["DocumentNumber"] for i in found["Invoices"]] == [invoice["DocumentNumber"]]


def test_vat_included_prices(api: TestClient) -> None:
    body = {
        "Invoice": {
            "CustomerNumber": "1",
            "VATIncluded": True,
            "InvoiceRows": [{"ArticleNumber": "WORK", "DeliveredQuantity": "1", "Price": 125}],
        }
    }
    invoice = api.post("/3/invoices", json=body).json()["Invoice"]
    row = invoice["InvoiceRows"][0]
    assert (row["Total"], row["TotalExcludingVAT"], row["PriceExcludingVAT"]) == (125, 100, 100)
    assert (invoice["Net"], invoice["TotalVAT"], invoice["Total"]) == (100, 25, 125)


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"DeliveredQuantity": "1", "Price": 10}, 2001304),  # neither article nor account
        ({"AccountNumber": 3999, "DeliveredQuantity": "1", "Price": 10}, 2000423),
        ({"ArticleNumber": "WORK", "DeliveredQuantity": "1", "VAT": 12}, 2004167),
        ({"ArticleNumber": "WORK", "Description": "x" * 256}, 9000002),
        ({"ArticleNumber": "WORK", "DeliveredQuantity": "två"}, 2000108),
        ({"ArticleNumber": "WORK", "Colour": "red"}, 2001399),
    ],
)
def test_row_rules(api: TestClient, row: dict[str, object], expected: int) -> None:
    answer = api.post(
        "/3/invoices", json={"Invoice": {"CustomerNumber": "1", "InvoiceRows": [row]}}
    )
    assert (answer.status_code, code(answer)) == (400, expected)


def test_easyvat_accepts_a_custom_rate_with_an_account(api: TestClient) -> None:
    row = {"ArticleNumber": "WORK", "AccountNumber": 3002, "DeliveredQuantity": "1", "VAT": 12}
    answer = api.post(
        "/3/invoices", json={"Invoice": {"CustomerNumber": "1", "InvoiceRows": [row]}}
    )
    assert answer.status_code == 201, answer.text


def test_reference_limits(api: TestClient) -> None:
    too_long = {"Invoice": {"CustomerNumber": "1", "ExternalInvoiceReference1": "x" * 81}}
    assert api.post("/3/invoices", json=too_long).status_code == 400
    assert code(api.post("/3/invoices", content=b"{nope")) == 2002115
    assert code(api.post("/3/invoices", json={"Customer": {}})) == 2001392


def test_row_updates_by_order_and_by_row_id_regenerate_ids(api: TestClient) -> None:
    invoice = api.post("/3/invoices", json=INVOICE).json()["Invoice"]
    ids = [row["RowId"] for row in invoice["InvoiceRows"]]
    by_order = {"Invoice": {"InvoiceRows": [{"DeliveredQuantity": "3"}]}}
    rows = api.put("/3/invoices/1", json=by_order).json()["Invoice"]["InvoiceRows"]
    assert len(rows) == 1
    assert (rows[0]["ArticleNumber"], rows[0]["DeliveredQuantity"]) == ("WORK", "3.00")
    assert rows[0]["RowId"] not in ids
    kept = rows[0]["RowId"]
    by_id = {"Invoice": {"InvoiceRows": [{"RowId": kept}, {"ArticleNumber": "EXP", "Price": 5}]}}
    rows = api.put("/3/invoices/1", json=by_id).json()["Invoice"]["InvoiceRows"]
    assert [r["ArticleNumber"] for r in rows] == ["WORK", "EXP"]
    assert rows[0]["DeliveredQuantity"] == "3.00"
    assert kept not in [r["RowId"] for r in rows]


def test_booking_is_final_and_credit_links_both_ways(api: TestClient) -> None:
    api.post("/3/invoices", json=INVOICE)
    booked = api.put("/3/invoices/1/bookkeep").json()["Invoice"]
    assert (booked["Booked"], booked["VoucherSeries"], booked["VoucherNumber"]) == (True, "B", 1)
    assert api.put("/3/invoices/1/bookkeep").status_code == 400
    assert api.put("/3/invoices/1", json={"Invoice": {"Remarks": "x"}}).status_code == 400
    assert api.put("/3/invoices/1/cancel").status_code == 400
    credited = api.put("/3/invoices/1/credit").json()["Invoice"]
    note = api.get(f"/3/invoices/{credited['CreditInvoiceReference']}").json()["Invoice"]
    assert (note["Credit"], note["CreditInvoiceReference"], note["Total"]) == ("true", "1", -3719)
    voucher = api.get("/3/vouchers/B/1", params={"financialyear": booked["VoucherYear"]}).json()
    rows = voucher["Voucher"]["VoucherRows"]
    assert sum(Decimal(str(r["Debit"])) - Decimal(str(r["Credit"])) for r in rows) == 0


def test_cancel_an_unbooked_invoice(api: TestClient) -> None:
    api.post("/3/invoices", json=INVOICE)
    assert api.put("/3/invoices/1/cancel").json()["Invoice"]["Cancelled"] is True
    assert api.get("/3/invoices?filter=cancelled").json()["MetaInformation"]["@TotalResources"] == 1
    assert api.put("/3/invoices/1/bookkeep").status_code == 400


def test_payments_reduce_the_balance_and_filters_follow(api: TestClient) -> None:
    api.post("/3/invoices", json=INVOICE)
    assert api.get("/3/invoices?filter=unbooked").json()["Invoices"]
    api.post("/_emulator/invoices/1/bookkeep")
    api.post("/_emulator/invoices/1/payments", json={"amount": "1000", "date": "2026-03-20"})
    unpaid = api.get("/3/invoices?filter=unpaid").json()["Invoices"]
    assert (unpaid[0]["Balance"], unpaid[0]["FinalPayDate"]) == (2719, None)
    api.put("/_emulator/settings", json={"today": "2026-05-01"})
    assert api.get("/3/invoices?filter=unpaidoverdue").json()["Invoices"]
    payment = {"InvoicePayment": {"InvoiceNumber": 1, "Amount": 2719, "PaymentDate": "2026-05-01"}}
    assert api.post("/3/invoicepayments", json=payment).status_code == 201
    paid = api.get("/3/invoices?filter=fullypaid").json()["Invoices"]
    assert (paid[0]["Balance"], paid[0]["FinalPayDate"]) == (0, "2026-05-01")


# periods, vouchers, files ---------------------------------------------------------------------


def test_locked_period_and_missing_financial_year(api: TestClient) -> None:
    assert api.get("/3/settings/lockedperiod").json() == {"LockedPeriod": {}}
    api.put("/_emulator/lockedperiod", json={"EndDate": "2026-03-31"})
    assert api.get("/3/settings/lockedperiod").json() == {"LockedPeriod": {"EndDate": "2026-03-31"}}
    api.post("/3/invoices", json=INVOICE)
    locked = api.put("/3/invoices/1/bookkeep")
    assert (locked.status_code, code(locked)) == (400, 2000401)
    late = {"Invoice": {**INVOICE["Invoice"], "InvoiceDate": "2030-01-10"}}
    api.post("/3/invoices", json=late)
    assert code(api.put("/3/invoices/2/bookkeep")) == 9000010
    years = api.get("/3/financialyears", params={"Date": "2026-06-30"}).json()["FinancialYears"]
    assert [(y["FromDate"], y["ToDate"]) for y in years] == [("2026-01-01", "2026-12-31")]


VOUCHER = {
    "Voucher": {
        "Description": "Utlägg: taxi",
        "TransactionDate": "2026-03-10",
        "VoucherSeries": "U",
        "VoucherRows": [
            {"Account": 5800, "Debit": 400, "Project": "P1", "Description": "Anna Berg"},
            {"Account": 2641, "Debit": 24},
            {"Account": 2890, "Credit": 424},
        ],
    }
}


def test_expense_export_voucher_with_a_receipt(api: TestClient) -> None:
    missing = api.post("/3/vouchers", json=VOUCHER)
    assert missing.status_code == 400  # project P1 is not there yet
    api.post("/3/projects", json={"Project": {"ProjectNumber": "P1", "Description": "Projekt 1"}})
    unknown = [{"Account": 5999, "Debit": 1}, {"Account": 2890, "Credit": 1}]
    wrong = {"Voucher": {**VOUCHER["Voucher"], "VoucherRows": unknown}}
    assert code(api.post("/3/vouchers", json=wrong)) == 2000423
    voucher = api.post("/3/vouchers", json=VOUCHER).json()["Voucher"]
    assert (voucher["VoucherSeries"], voucher["VoucherNumber"], voucher["Year"]) == ("U", 1, 2)
    upload = api.post(
        "/3/inbox", files={"file": ("kvitto.pdf", b"%PDF-1.4 kvitto", "application/pdf")}
    )
    assert upload.status_code == 201
    file_id = upload.json()["File"]["Id"]
    link = {"FileId": file_id, "VoucherNumber": "1", "VoucherSeries": "U", "VoucherYear": 2}
    connected = api.post("/3/voucherfileconnections", json={"VoucherFileConnection": link})
    assert connected.status_code == 201, connected.text
    assert api.get(f"/3/archive/{file_id}").content == b"%PDF-1.4 kvitto"
    assert api.put("/3/vouchers/U/1", json=VOUCHER).status_code == 405
    assert api.delete("/3/vouchers/U/1").status_code == 405
    listed = api.get("/3/vouchers/sublist/U", params={"financialyear": 2}).json()["Vouchers"]
    assert [v["VoucherNumber"] for v in listed] == [1]


def test_locked_period_refuses_vouchers(api: TestClient) -> None:
    api.post("/3/projects", json={"Project": {"ProjectNumber": "P1", "Description": "Projekt 1"}})
    api.put("/_emulator/lockedperiod", json={"EndDate": "2026-03-31"})
    assert code(api.post("/3/vouchers", json=VOUCHER)) == 2000401


# faults, journal, state file, kit pieces ------------------------------------------------------


def test_faults_and_the_journal_speak_fortnox(api: TestClient, emulator: FortnoxEmulator) -> None:
    emulator.faults.set("/3/invoices", methods=["POST"], error_rate=1.0, error_status=503)
    failed = api.post("/3/invoices", json=INVOICE)
    assert failed.status_code == 503 and "ErrorInformation" in failed.json()
    assert emulator.journal.count("POST", "/3/invoices") == 1


def test_the_company_and_tokens_survive_a_restart(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "fortnox.json"
    first = FortnoxEmulator(state_file=path)
    http = TestClient(first.app)
    issued = tokens(http)
    bearer = {"Authorization": f"Bearer {issued['access_token']}"}
    http.post("/3/customers", json={"Customer": {"Name": "Kvar AB"}}, headers=bearer)
    second = TestClient(FortnoxEmulator(state_file=path).app)
    names = [c["Name"] for c in second.get("/3/customers", headers=bearer).json()["Customers"]]
    assert "Kvar AB" in names


def test_multipart_files_are_read_with_the_standard_library() -> None:
    request = httpx2.Request(
        "POST", "http://x/", files={"file": ("a.bin", b"\r\n\x00\xff", "application/octet-stream")}
    )
    body = request.read()
    [upload] = uploaded_files(body, request.headers["content-type"])
    assert (upload.field, upload.filename, upload.content) == ("file", "a.bin", b"\r\n\x00\xff")
    with pytest.raises(MultipartError):
        uploaded_files(b"{}", "application/json")
