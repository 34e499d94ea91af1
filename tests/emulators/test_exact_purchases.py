"""Exact Online emulator: the seeded purchase entries expense import reads (one on the cost
centre of the sample PSA's project P-300), read by ``Modified``, paged with ``__next``, amounts
in the division's currency, and changed (PUT) or deleted as Exact's endpoint allows."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ledgerlink.emulators.exact import rules
from ledgerlink.emulators.exact.model import RESOURCES
from ledgerlink.emulators.exact.seed import MAIN, seed_id
from tests.emulators.exact_support import DIVISION, Session, message, session

PURCHASES = f"{DIVISION}/purchaseentry/PurchaseEntries"
SELECT = (
    "EntryID,EntryNumber,Type,SupplierName,Currency,AmountFC,AmountDC,Modified,PurchaseEntryLines"
)
SUPPLIER = seed_id(MAIN, "Accounts", "3001".rjust(18))
TRAVEL = seed_id(MAIN, "GLAccounts", "4500")


def _read(s: Session, **params: str) -> Any:
    answer = s.get(PURCHASES, **{"$select": SELECT, "$expand": "PurchaseEntryLines", **params})
    assert answer.status_code == 200, answer.text
    return answer.json()["d"]


def _body(**header: Any) -> dict[str, Any]:
    return {
        "Supplier": SUPPLIER,
        "Journal": "60",
        "EntryDate": "2026-03-05",
        "PurchaseEntryLines": [{"GLAccount": TRAVEL, "AmountFC": Decimal("100.00")}],
        **header,
    }


def _entry(s: Session, **header: Any) -> dict[str, Any]:
    made = s.post(PURCHASES, _body(**header))
    assert made.status_code == 201, made.text
    entry: dict[str, Any] = made.json()["d"]
    return entry


def test_the_seed_has_a_suppliers_entries_one_on_the_cost_centre_of_project_p300() -> None:
    s = session()
    entries = _read(s)["results"]
    assert [e["EntryNumber"] for e in sorted(entries, key=lambda e: e["EntryNumber"])] == [
        25600001,
        25600002,
        25600003,
    ]
    assert {e["SupplierName"] for e in entries} == {"Reisbureau Noord B.V."}
    assert {e["Type"] for e in entries} == {30, 31}
    lines = [line for e in entries for line in e["PurchaseEntryLines"]["results"]]
    assert {line.get("CostCenter") for line in lines} == {"P-300", "100", None}
    travel = next(line for line in lines if line["Description"] == "Train Amsterdam-Zwolle")
    assert (Decimal(str(travel["AmountFC"])), Decimal(str(travel["VATAmountFC"]))) == (
        Decimal("80.00"),
        Decimal("7.20"),
    )
    assert travel["AmountDC"] == travel["AmountFC"]  # EUR in a EUR division
    centres = s.get(f"{DIVISION}/hrm/Costcenters", **{"$select": "Code"}).json()["d"]["results"]
    assert "P-300" in {c["Code"] for c in centres}


def test_entries_are_read_by_modified_and_paged_with_next_links() -> None:
    s = session()
    since = _read(s, **{"$filter": "Modified ge datetime'2025-12-10T11:05:00.000'"})["results"]
    assert sorted(e["EntryNumber"] for e in since) == [25600002, 25600003]
    division = s.emulator.state.divisions[MAIN]
    with s.emulator.state.change():  # more than a minute's 60 requests allow
        for _ in range(61):
            rules.create(division, RESOURCES[rules.PURCHASES], _body())
    first = _read(s)
    assert len(first["results"]) == 60
    following = s.client.get(first["__next"], headers=s.auth).json()["d"]
    assert len(following["results"]) == 64 - 60 and "__next" not in following
    assert "$skiptoken=guid'" in first["__next"]


def test_a_foreign_currency_entry_has_its_amounts_in_euro_at_its_rate() -> None:
    s = session()
    made = _entry(s, Currency="USD", Rate=Decimal("0.9"))
    assert (made["Currency"], Decimal(str(made["AmountDC"]))) == ("USD", Decimal("108.90"))
    (line,) = _read(s, **{"$filter": f"EntryID eq guid'{made['EntryID']}'"})["results"][0][
        "PurchaseEntryLines"
    ]["results"]
    assert (Decimal(str(line["AmountFC"])), Decimal(str(line["AmountDC"]))) == (
        Decimal("100.00"),
        Decimal("90.00"),
    )


def test_an_entry_changed_gets_a_new_row_version_and_one_deleted_goes_with_its_lines() -> None:
    s = session()
    made = _entry(s)
    key = f"{PURCHASES}(guid'{made['EntryID']}')"
    division = s.emulator.state.divisions[MAIN]
    stored = division.table("purchaseentry/PurchaseEntries")[made["EntryID"]]
    before = (stored["Timestamp"], stored["Modified"])
    headers = {**s.auth, "Content-Type": "application/json"}
    changed = s.client.put(key, content='{"Description": "Corrected"}', headers=headers)
    assert changed.status_code == 204, changed.text
    assert stored["Description"] == "Corrected"
    assert stored["Timestamp"] > before[0] and stored["Modified"] >= before[1]
    customer = seed_id(MAIN, "Accounts", "1001".rjust(18))
    refused = s.client.put(key, content=f'{{"Supplier": "{customer}"}}', headers=headers)
    assert "not a supplier" in message(refused)
    assert s.client.delete(key, headers=s.auth).status_code == 204
    lines = division.table("purchaseentry/PurchaseEntryLines").values()
    assert not [line for line in lines if line["EntryID"] == made["EntryID"]]
