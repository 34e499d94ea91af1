"""Exact Online emulator: accounts (numeric codes padded to 18, the VAT-number check), sales
invoices (8020/8021, journals and variable currency, divisible items, cost centres, totals,
YourRef/Remarks as correlation), processing (number, status 50, immutable), the receivables
list with part and full payments, locked periods, the 10 MB body limit, faults and journal."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from ledgerlink.emulators.exact import ExactEmulator
from ledgerlink.emulators.exact.seed import MAIN, seed_id
from tests.emulators.exact_support import ADMIN, DIVISION, Session, message, session

ACCOUNTS = f"{DIVISION}/crm/Accounts"
INVOICES = f"{DIVISION}/salesinvoice/SalesInvoices"
RECEIVABLES = f"{DIVISION}/read/financial/ReceivablesList"
CUSTOMER = seed_id(MAIN, "Accounts", " " * 14 + "1001")
WORK = seed_id(MAIN, "Items", "WORK-DEV")
LICENSE = seed_id(MAIN, "Items", "LICENSE")


def _invoice(**header: Any) -> dict[str, Any]:
    lines = header.pop("lines", None) or [
        {
            "Item": WORK,
            "Quantity": Decimal("2.5"),
            "UnitPrice": Decimal("100.00"),
            "CostCenter": "100",
        }
    ]
    return {
        "OrderedBy": CUSTOMER,
        "Journal": "70",
        "Type": 8020,
        "InvoiceDate": "2026-03-10",
        "YourRef": "PSA-1001",
        "Remarks": "PSA invoice 1001",
        "SalesInvoiceLines": lines,
        **header,
    }


def _create(s: Session, **header: Any) -> dict[str, Any]:
    answer = s.post(INVOICES, _invoice(**header))
    assert answer.status_code == 201, answer.text
    record: dict[str, Any] = answer.json()["d"]
    return record


def test_accounts_get_numeric_codes_padded_to_18_and_refuse_others() -> None:
    s = session()
    made = s.post(ACCOUNTS, {"Code": "2001", "Name": "Nieuw B.V.", "Status": "C"})
    assert made.status_code == 201
    assert made.json()["d"]["Code"] == " " * 14 + "2001"
    letters = s.post(ACCOUNTS, {"Code": "C-2002", "Name": "Letters"})
    assert letters.status_code == 400
    assert "numeric" in message(letters)
    twice = s.post(ACCOUNTS, {"Code": "2001", "Name": "Again"})
    assert twice.status_code == 400
    unknown = s.post(ACCOUNTS, {"Name": "X", "Colour": "red"})
    assert "'Colour' does not exist" in message(unknown)
    assert message(s.post(ACCOUNTS, {"Code": "2003"})) == "Mandatory: Name"


def test_the_vat_number_check_refuses_configured_numbers() -> None:
    s = session()
    settings = {"invalidVatNumbers": ["NL999999999B99"]}
    assert s.client.put(f"/_emulator/{MAIN}/settings", json=settings, headers=ADMIN).is_success
    refused = s.post(ACCOUNTS, {"Name": "Fout", "VATNumber": "NL 999999999B99"})
    assert refused.status_code == 400
    assert "VAT number" in message(refused)
    assert s.post(ACCOUNTS, {"Name": "Goed", "VATNumber": "NL123456789B02"}).status_code == 201


def test_an_invoice_is_open_with_totals_and_found_by_its_references() -> None:
    s = session()
    made = _create(s)
    assert made["Status"] == 20
    assert made["InvoiceNumber"] is None
    assert made["InvoiceDate"] == "/Date(1773100800000)/"
    assert Decimal(str(made["AmountFC"])) == Decimal("302.50")
    assert Decimal(str(made["VATAmountFC"])) == Decimal("52.50")
    (line,) = made["SalesInvoiceLines"]["results"]
    assert line["CostCenter"] == "100"
    assert line["VATCode"] == "1"
    for query in ("YourRef eq 'PSA-1001'", "Remarks eq 'PSA invoice 1001'"):
        found = s.get(INVOICES, **{"$filter": query, "$select": "InvoiceID,Status"}).json()
        assert [r["InvoiceID"] for r in found["d"]["results"]] == [made["InvoiceID"]]
    credit = _create(
        s,
        Type=8021,
        YourRef="PSA-C1",
        lines=[{"Item": WORK, "Quantity": Decimal("-1"), "UnitPrice": Decimal("100")}],
    )
    assert credit["Type"] == 8021
    assert Decimal(str(credit["AmountFC"])) == Decimal("-121.00")


def test_foreign_currency_needs_a_journal_with_variable_currency() -> None:
    s = session()
    refused = s.post(INVOICES, _invoice(Journal="71", Currency="USD"))
    assert refused.status_code == 400
    assert "variable currenc" in message(refused)
    assert s.post(INVOICES, _invoice(Journal="70", Currency="USD")).status_code == 201
    assert "does not exist" in message(s.post(INVOICES, _invoice(Currency="XYZ")))


def test_a_decimal_quantity_on_a_non_divisible_item_is_refused() -> None:
    s = session()
    lines = [{"Item": LICENSE, "Quantity": Decimal("1.5"), "UnitPrice": Decimal("10")}]
    refused = s.post(INVOICES, _invoice(lines=lines))
    assert refused.status_code == 400
    assert "LICENSE" in message(refused)
    assert "divisible" in message(refused)
    whole = [{"Item": LICENSE, "Quantity": Decimal("2"), "UnitPrice": Decimal("10")}]
    assert s.post(INVOICES, _invoice(lines=whole)).status_code == 201
    unknown_centre = [{"Item": WORK, "Quantity": Decimal("1"), "CostCenter": "P-999"}]
    assert "Cost center" in message(s.post(INVOICES, _invoice(lines=unknown_centre)))


def test_processing_numbers_the_invoice_and_makes_it_immutable() -> None:
    s = session()
    made = _create(s)
    key = f"{INVOICES}(guid'{made['InvoiceID']}')"
    edited = s.client.put(key, json={"Description": "Changed"}, headers=s.auth)
    assert edited.status_code == 204
    printed = s.post(
        f"{DIVISION}/salesinvoice/PrintedSalesInvoices",
        {"InvoiceID": made["InvoiceID"], "SendEmailToCustomer": False},
    )
    assert printed.status_code == 201
    assert printed.json()["d"]["Status"] == 50
    read = s.get(key, **{"$select": "Status,InvoiceNumber,Description"}).json()["d"]
    assert read["Status"] == 50
    assert read["InvoiceNumber"] == 26700001
    assert read["Description"] == "Changed"
    for answer in (
        s.client.put(key, json={"Description": "Again"}, headers=s.auth),
        s.client.delete(key, headers=s.auth),
    ):
        assert answer.status_code == 400
        assert "processed" in message(answer)
    draft = _create(s)
    assert (
        s.client.delete(f"{INVOICES}(guid'{draft['InvoiceID']}')", headers=s.auth).status_code
        == 204
    )


def test_receivables_show_open_items_part_payments_and_drop_paid_invoices() -> None:
    s = session()
    made = _create(s)
    base = f"/_emulator/{MAIN}/salesinvoices/{made['InvoiceID']}"
    assert s.client.post(f"{base}/process", headers=ADMIN).json()["InvoiceNumber"] == 26700001
    rows = s.get(RECEIVABLES).json()["d"]["results"]
    assert [(r["InvoiceNumber"], Decimal(str(r["Amount"])), r["YourRef"]) for r in rows] == [
        (26700001, Decimal("302.50"), "PSA-1001")
    ]
    part = s.client.post(f"{base}/payments", json={"amount": "100.00"}, headers=ADMIN)
    assert Decimal(str(part.json()["open"])) == Decimal("202.50")
    rows = s.get(RECEIVABLES, **{"$filter": "InvoiceNumber eq 26700001"}).json()["d"]["results"]
    assert sorted(Decimal(str(r["Amount"])) for r in rows) == [
        Decimal("-100.00"),
        Decimal("302.50"),
    ]
    rest = s.client.post(f"{base}/payments", json={"amount": "202.50"}, headers=ADMIN)
    assert Decimal(str(rest.json()["open"])) == 0
    assert s.get(RECEIVABLES).json()["d"]["results"] == []


def test_a_locked_period_refuses_new_invoices_and_processing() -> None:
    s = session()
    waiting = _create(s)
    lock = s.client.post(f"/_emulator/{MAIN}/periods/2026/3/lock", headers=ADMIN)
    assert lock.json() == {"locked": ["2026-03"]}
    refused = s.post(INVOICES, _invoice())
    assert refused.status_code == 400
    assert "2026/3" in message(refused)
    process = s.post(
        f"{DIVISION}/salesinvoice/PrintedSalesInvoices", {"InvoiceID": waiting["InvoiceID"]}
    )
    assert process.status_code == 400
    assert s.post(INVOICES, _invoice(InvoiceDate="2026-04-01")).status_code == 201


def test_a_body_over_10_mb_is_refused() -> None:
    s = session()
    huge = b'{"Name": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    answer = s.client.post(
        ACCOUNTS, content=huge, headers={**s.auth, "Content-Type": "application/json"}
    )
    assert answer.status_code == 413
    assert "10 MB" in message(answer)


def test_faults_and_journal_in_exact_envelope_and_state_survives_a_restart(tmp_path: Path) -> None:
    s = session(state_file=tmp_path / "exact.json")
    rule = {"path_prefix": f"{DIVISION}/crm", "error_rate": 1.0, "error_status": 503}
    assert s.client.put("/_emulator/faults", json=rule, headers=ADMIN).is_success
    faulted = s.get(ACCOUNTS)
    assert faulted.status_code == 503
    assert message(faulted)
    assert s.client.delete("/_emulator/faults", headers=ADMIN).status_code == 204
    made = _create(s)
    journal = s.client.get("/_emulator/journal", headers=ADMIN).json()["entries"]
    assert any(e["path"] == INVOICES and e["method"] == "POST" for e in journal)
    again = ExactEmulator(state_file=tmp_path / "exact.json", clock=s.clock)
    stored = again.state.divisions[MAIN].table("salesinvoice/SalesInvoices")
    assert stored[made["InvoiceID"]]["AmountFC"] == Decimal("302.50")
    assert again.oauth.authenticate(f"Bearer {s.tokens['access_token']}").client_id


def test_purchase_entries_hold_supplier_invoices_with_cost_centres_for_expense_import() -> None:
    s = session()
    supplier = seed_id(MAIN, "Accounts", " " * 14 + "3001")
    travel = seed_id(MAIN, "GLAccounts", "4500")
    purchases = f"{DIVISION}/purchaseentry/PurchaseEntries"
    line = {"GLAccount": travel, "AmountFC": Decimal("80.00"), "CostCenter": "100"}
    body = {
        "Supplier": supplier,
        "Journal": "60",
        "EntryDate": "2026-03-05",
        "Description": "Train tickets",
        "PurchaseEntryLines": [line],
    }
    made = s.post(purchases, body)
    assert made.status_code == 201, made.text
    entry = made.json()["d"]
    assert (entry["SupplierName"], entry["EntryNumber"], entry["Status"]) == (
        "Reisbureau Noord B.V.",
        26600001,
        20,
    )
    assert Decimal(str(entry["AmountFC"])) == Decimal("96.80")
    assert message(s.get(purchases)).startswith("Please add a $select")
    read = s.get(
        purchases,
        **{
            "$select": "EntryID,PurchaseEntryLines",
            "$expand": "PurchaseEntryLines",
            "$filter": f"EntryID eq guid'{entry['EntryID']}'",  # the seed has entries too
        },
    ).json()["d"]["results"]
    (stored,) = read[0]["PurchaseEntryLines"]["results"]
    assert (stored["CostCenter"], stored["CostCenterDescription"]) == ("100", "Algemeen")
    not_supplier = s.post(purchases, body | {"Supplier": CUSTOMER})
    assert "not a supplier" in message(not_supplier)
