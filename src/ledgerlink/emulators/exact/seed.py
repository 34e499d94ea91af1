"""Seed data: a Dutch company (EUR) with the set-up the integration expects — items
(divisible ones for hours and one that is not), G/L accounts, VAT codes, a sales journal with
variable currency and one without, cost centres (one general, one for the sample PSA's project
P-300), two customers, a supplier with three purchase entries of December 2025 (expense
import: a travel invoice on P-300, a hotel invoice with a general and an unallocated line, a
credit note on P-300), a contact, the user and two employees — plus a Belgian sister division
and one the user has no access to.

IDs are UUID5 of the division and the record's code, so every run seeds the same GUIDs.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from ledgerlink.emulators.exact import rules
from ledgerlink.emulators.exact.model import RESOURCES
from ledgerlink.emulators.exact.state import Division, Record

__all__ = ["MAIN", "NO_ACCESS", "SISTER", "USER_ID", "divisions", "seed_id"]

MAIN, SISTER, NO_ACCESS = 614223, 614224, 700001
USER_ID = "5a4b9c8e-0f1d-4e2a-9b3c-7d6e5f4a3b21"
_NAMESPACE = uuid.UUID("0e6c3b0a-4d1f-4b8e-9a57-3f2c1d0e9b8a")
_CREATED = "2026-01-02T09:00:00"


def seed_id(division: int, kind: str, code: str) -> str:
    """The GUID of a seeded record."""
    return str(uuid.uuid5(_NAMESPACE, f"{division}:{kind}:{code}"))


def _records(division: int, path: str, key: str, rows: list[Record]) -> dict[str, Record]:
    kind = path.rsplit("/", 1)[-1]
    table: dict[str, Record] = {}
    for row in rows:
        record: Record = {key: seed_id(division, kind, str(row.get("Code", row.get("Name"))))}
        record.update(row)
        record.update(Created=_CREATED, Modified=_CREATED, Division=division)
        table[record[key]] = record
    return table


def _reference(code: int) -> dict[str, dict[str, Record]]:
    gl = {c: seed_id(code, "GLAccounts", c) for c in ("8000", "8010", "8020", "1300", "1100")}
    vat_account = seed_id(code, "GLAccounts", "1500")
    tables: dict[str, dict[str, Record]] = {
        "financial/GLAccounts": _records(
            code,
            "financial/GLAccounts",
            "ID",
            [
                _gl("8000", "Omzet diensten", 110, "C", "W", "1"),
                _gl("8010", "Omzet doorbelaste kosten", 110, "C", "W", "1"),
                _gl("8020", "Omzet licenties", 110, "C", "W", "1"),
                _gl("1300", "Debiteuren", 20, "D", "B", None),
                _gl("1500", "Te betalen btw", 24, "C", "B", None),
                _gl("1100", "Bank", 12, "D", "B", None),
                _gl("4500", "Reis- en verblijfkosten", 120, "D", "W", "1"),
                _gl("1600", "Crediteuren", 22, "C", "B", None),
            ],
        ),
        "vat/VATCodes": _records(
            code,
            "vat/VATCodes",
            "ID",
            [
                _vat("1", "BTW hoog 21% excl.", "0.21", vat_account),
                _vat("2", "BTW laag 9% excl.", "0.09", vat_account),
                _vat("0", "Geen BTW", "0", None),
                _vat("4", "Verlegd binnen EU 0%", "0", None),
            ],
        ),
        "financial/Journals": _records(
            code,
            "financial/Journals",
            "ID",
            [
                _journal("70", "Verkoopboek", 20, variable=True),
                _journal("71", "Verkoopboek binnenland", 20, variable=False),
                _journal("60", "Inkoopboek", 22, variable=True),
                _journal("20", "Bank", 12, variable=False),
            ],
        ),
        "logistics/Items": _records(
            code,
            "logistics/Items",
            "ID",
            [
                _item("WORK-DEV", "Development hours", "uur", gl["8000"], fraction=True),
                _item("WORK-CONS", "Consultancy hours", "uur", gl["8000"], fraction=True),
                _item("EXP", "Expenses", "stuk", gl["8010"], fraction=True),
                _item("TRAVEL", "Travel costs", "stuk", gl["8010"], fraction=True),
                _item("MILEAGE", "Mileage", "km", gl["8010"], fraction=True),
                _item("LICENSE", "Software licence", "stuk", gl["8020"], fraction=False),
            ],
        ),
        "hrm/Costcenters": _records(
            code,
            "hrm/Costcenters",
            "ID",
            [
                {"Code": "100", "Description": "Algemeen", "Active": True},
                {"Code": "P-300", "Description": "Van Dijk Installaties", "Active": True},
            ],
        ),
        "users/Users": {
            USER_ID: {
                "UserID": USER_ID,
                "UserName": "demo@lindeboom.example",
                "FullName": "Jan de Vries",
                "Email": "demo@lindeboom.example",
            }
        },
        "payroll/Employees": _records(
            code,
            "payroll/Employees",
            "ID",
            [
                _employee("1", "Jan", "de Vries", "jan@lindeboom.example", USER_ID),
                _employee("2", "Sanne", "Bakker", "sanne@lindeboom.example", None),
            ],
        ),
    }
    return tables


def _gl(code: str, text: str, kind: int, side: str, balance: str, vat: str | None) -> Record:  # noqa: PLR0917
    return {
        "Code": code,
        "Description": text,
        "Type": kind,
        "BalanceSide": side,
        "BalanceType": balance,
        "VATCode": vat,
    }


def _vat(code: str, text: str, percentage: str, account: str | None) -> Record:
    return {
        "Code": code,
        "Description": text,
        "Percentage": Decimal(percentage),
        "Type": "E",
        "Account": account,
        "Charged": False,
    }


def _journal(code: str, text: str, kind: int, *, variable: bool) -> Record:
    return {
        "Code": code,
        "Description": text,
        "Type": kind,
        "Currency": "EUR",
        "AllowVariableCurrency": variable,
        "AllowVariableExchangeRate": variable,
    }


def _item(code: str, text: str, unit: str, revenue: str, *, fraction: bool) -> Record:
    return {
        "Code": code,
        "Description": text,
        "IsSalesItem": True,
        "IsFractionAllowedItem": fraction,
        "SalesVatCode": "1",
        "Unit": unit,
        "GLRevenue": revenue,
        "CostPriceStandard": Decimal("0.00"),
    }


def _employee(code: str, first: str, last: str, email: str, user: str | None) -> Record:
    return {
        "Code": code,
        "FirstName": first,
        "LastName": last,
        "FullName": f"{first} {last}",
        "Email": email,
        "User": user,
    }


def _customers(code: int) -> dict[str, dict[str, Record]]:
    def account(
        number: str, name: str, city: str, vat: str | None, *, supplier: bool = False
    ) -> Record:
        return {
            "Code": number.rjust(18),
            "Name": name,
            "Status": "A" if supplier else "C",
            "IsSales": not supplier,
            "IsSupplier": supplier,
            "VATNumber": vat,
            "ChamberOfCommerce": None,
            "Email": f"info@{name.split(maxsplit=1)[0].lower()}.example",
            "AddressLine1": "Stationsplein 1",
            "Postcode": "3511 ED",
            "City": city,
            "Country": "NL",
            "SalesCurrency": "EUR",
            "SalesVATCode": "1",
            "PaymentConditionSales": "30",
            "Blocked": False,
        }

    accounts = _records(
        code,
        "crm/Accounts",
        "ID",
        [
            account("1001", "Bakkerij Jansen B.V.", "Utrecht", "NL123456789B01"),
            account("1002", "Van der Berg Installaties", "Amersfoort", None),
            account("3001", "Reisbureau Noord B.V.", "Groningen", None, supplier=True),
        ],
    )
    first = next(iter(accounts))
    contacts = _records(
        code,
        "crm/Contacts",
        "ID",
        [
            {
                "Account": first,
                "FirstName": "Piet",
                "LastName": "Jansen",
                "FullName": "Piet Jansen",
                "Email": "piet@bakkerij.example",
                "Phone": None,
            }
        ],
    )
    return {"crm/Accounts": accounts, "crm/Contacts": contacts}


def _division(code: int, description: str, country: str, **extra: Any) -> Division:
    tables = _reference(code)
    if extra.get("customers", True):
        tables.update(_customers(code))
    division = Division(code=code, description=description, country=country, currency="EUR",
                        tables=tables)  # fmt: skip
    for table in tables.values():
        for record in table.values():
            division.stamp(record)
    if extra.get("customers", True):
        _purchases(division)
    return division


def _purchases(division: Division) -> None:
    """The supplier's purchase entries, entered in Exact as on the day each says (their
    ``Created``/``Modified``); entry numbers from the purchase journal's 2025 counter."""
    code = division.code
    supplier = seed_id(code, "Accounts", "3001".rjust(18))
    travel = seed_id(code, "GLAccounts", "4500")
    entries: list[tuple[str, dict[str, Any]]] = [
        (
            "2025-12-03T16:20:00",
            {
                "EntryDate": "2025-12-03",
                "Description": "Train tickets",
                "YourRef": "RN-25-1180",
                "PurchaseEntryLines": [
                    _purchase_line(travel, "80.00", "2", "P-300", "Train Amsterdam-Zwolle"),
                ],
            },
        ),
        (
            "2025-12-10T11:05:00",
            {
                "EntryDate": "2025-12-10",
                "Description": "Hotel, two nights",
                "YourRef": "RN-25-1207",
                "PurchaseEntryLines": [
                    _purchase_line(travel, "240.00", "2", "100", "Hotel De Wereld, 2 nights"),
                    _purchase_line(travel, "35.50", "1", None, "Parking"),
                ],
            },
        ),
        (
            "2025-12-17T09:40:00",
            {
                "Type": 31,
                "EntryDate": "2025-12-17",
                "Description": "Refund cancelled ticket",
                "YourRef": "RN-25-1233",
                "PurchaseEntryLines": [
                    _purchase_line(travel, "-25.00", "2", "P-300", "Cancelled return ticket"),
                ],
            },
        ),
    ]
    resource = RESOURCES[rules.PURCHASES]
    for moment, document in entries:
        entry = rules.create(
            division, resource, {"Supplier": supplier, "Journal": "60", **document}
        )
        for record in (entry, *_lines_of(division, entry["EntryID"])):
            if "Created" in record:
                record.update(Created=moment, Modified=moment)


def _purchase_line(
    account: str, amount: str, vat: str, center: str | None, text: str
) -> dict[str, Any]:
    line: dict[str, Any] = {
        "GLAccount": account,
        "AmountFC": Decimal(amount),
        "VATCode": vat,
        "Description": text,
    }
    if center is not None:
        line["CostCenter"] = center
    return line


def _lines_of(division: Division, entry_id: str) -> list[Record]:
    lines = division.table(rules.PURCHASE_LINES).values()
    return [line for line in lines if line["EntryID"] == entry_id]


def divisions() -> list[Division]:
    """The seeded divisions, the current (default) one first."""
    return [
        _division(MAIN, "Lindeboom Advies B.V.", "NL"),
        _division(SISTER, "Lindeboom Advies België BV", "BE", customers=False),
        _division(NO_ACCESS, "Andere Onderneming B.V.", "NL", customers=False),
    ]
