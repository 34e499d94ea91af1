"""Seed data: a Danish agreement (base DKK) ready for a PSA integration, and the demo agreement.

The main agreement carries a small chart of accounts, VAT accounts, VAT zones, payment terms,
layouts, customer and product groups, product numbers with departmental distributions,
currencies with fixed exchange rates, units, departments, employees, accounting years 2024
(closed) to 2027 and finance entries on expense accounts (2800 range) in 2026.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ledgerlink.emulators.economic.state import Agreement

__all__ = ["EXCHANGE_RATES", "VAT_RATES", "demo_agreement", "main_agreement"]

Document = dict[str, Any]

# Cost in DKK of 100 units; fixed so totals are reproducible (the real API uses daily rates).
EXCHANGE_RATES = {
    "DKK": Decimal("100"),
    "EUR": Decimal("746.10"),
    "SEK": Decimal("68.50"),
    "NOK": Decimal("64.20"),
    "USD": Decimal("690.50"),
    "GBP": Decimal("872.40"),
}
# VAT rate per VAT zone for a Danish agreement: only domestic sales carry Danish VAT.
VAT_RATES = {1: Decimal("25"), 2: Decimal("0"), 3: Decimal("0"), 4: Decimal("0")}

_CURRENCIES = [
    ("DKK", "208", "Danske kroner"),
    ("EUR", "978", "Euro"),
    ("SEK", "752", "Svenske kroner"),
    ("NOK", "578", "Norske kroner"),
    ("USD", "840", "US dollar"),
    ("GBP", "826", "Britiske pund"),
]
_ACCOUNTS: list[tuple[int, str, str, str, str | None]] = [
    (1000, "Omsætning", "headingStart", "credit", None),
    (1010, "Salg af ydelser m/moms", "profitAndLoss", "credit", "S25"),
    (1020, "Salg af ydelser til EU", "profitAndLoss", "credit", None),
    (1030, "Salg af ydelser udland", "profitAndLoss", "credit", None),
    (1040, "Viderefakturerede udlæg", "profitAndLoss", "credit", "S25"),
    (1310, "Vareforbrug", "profitAndLoss", "debit", "I25"),
    (2200, "Lønninger", "profitAndLoss", "debit", None),
    (2800, "Rejseudgifter", "profitAndLoss", "debit", "I25"),
    (2810, "Kørselsgodtgørelse", "profitAndLoss", "debit", None),
    (2820, "Projektudlæg", "profitAndLoss", "debit", "I25"),
    (2850, "Småanskaffelser", "profitAndLoss", "debit", "I25"),
    (5600, "Debitorer", "status", "debit", None),
    (5820, "Bank", "status", "debit", None),
    (6900, "Salgsmoms", "status", "credit", None),
    (6910, "Købsmoms", "status", "debit", None),
]
_YEARS = [("2024", True), ("2025", False), ("2026", False), ("2027", False)]


def _table(rows: list[Document], key: str) -> dict[str, Document]:
    return {str(row[key]): row for row in rows}


def _reference_tables(agreement: Agreement) -> None:
    tables = agreement.tables
    tables["currencies"] = _table(
        [{"code": c, "isoNumber": n, "name": name} for c, n, name in _CURRENCIES], "code"
    )
    tables["vat-zones"] = _table(
        [
            {
                "vatZoneNumber": 1,
                "name": "Domestic",
                "enabledForCustomer": True,
                "enabledForSupplier": True,
            },
            {
                "vatZoneNumber": 2,
                "name": "EU",
                "enabledForCustomer": True,
                "enabledForSupplier": True,
            },
            {
                "vatZoneNumber": 3,
                "name": "Abroad",
                "enabledForCustomer": True,
                "enabledForSupplier": True,
            },
            {
                "vatZoneNumber": 4,
                "name": "Domestic exempt",
                "enabledForCustomer": True,
                "enabledForSupplier": True,
            },
        ],
        "vatZoneNumber",
    )
    tables["vat-types"] = _table(
        [{"vatTypeNumber": 1, "name": "Salgsmoms"}, {"vatTypeNumber": 2, "name": "Købsmoms"}],
        "vatTypeNumber",
    )
    tables["vat-accounts"] = _table(
        [
            {
                "vatCode": "S25",
                "name": "Salgsmoms 25%",
                "ratePercentage": Decimal("25"),
                "account": {"accountNumber": 6900},
                "vatType": {"vatTypeNumber": 1, "name": "Salgsmoms"},
            },
            {
                "vatCode": "I25",
                "name": "Købsmoms 25%",
                "ratePercentage": Decimal("25"),
                "account": {"accountNumber": 6910},
                "vatType": {"vatTypeNumber": 2, "name": "Købsmoms"},
            },
        ],
        "vatCode",
    )
    accounts = []
    for number, name, kind, debit_credit, vat in _ACCOUNTS:
        account: Document = {
            "accountNumber": number,
            "accountType": kind,
            "balance": Decimal("0.00"),
            "debitCredit": debit_credit,
            "name": name,
        }
        if vat:
            account["vatAccount"] = {"vatCode": vat}
        accounts.append(account)
    tables["accounts"] = _table(accounts, "accountNumber")
    tables["payment-terms"] = _table(
        [
            {
                "paymentTermsNumber": 1,
                "name": "Netto 14 dage",
                "paymentTermsType": "net",
                "daysOfCredit": 14,
            },
            {
                "paymentTermsNumber": 2,
                "name": "Netto 30 dage",
                "paymentTermsType": "net",
                "daysOfCredit": 30,
            },
            {
                "paymentTermsNumber": 3,
                "name": "Løbende måned + 30 dage",
                "paymentTermsType": "invoiceMonth",
                "daysOfCredit": 30,
            },
            {
                "paymentTermsNumber": 4,
                "name": "Forfaldsdato",
                "paymentTermsType": "dueDate",
                "daysOfCredit": 0,
            },
        ],
        "paymentTermsNumber",
    )
    tables["layouts"] = _table(
        [
            {"layoutNumber": 1, "name": "Standardfaktura"},
            {"layoutNumber": 2, "name": "Faktura (engelsk)"},
        ],
        "layoutNumber",
    )
    tables["customer-groups"] = _table(
        [
            {
                "customerGroupNumber": 1,
                "name": "Indenlandske kunder",
                "account": {"accountNumber": 5600},
                "layout": {"layoutNumber": 1},
            },
            {
                "customerGroupNumber": 2,
                "name": "Udenlandske kunder",
                "account": {"accountNumber": 5600},
                "layout": {"layoutNumber": 2},
            },
        ],
        "customerGroupNumber",
    )
    tables["product-groups"] = _table(
        [
            {"productGroupNumber": 1, "name": "Ydelser", "_salesAccounts": [1010, 1020, 1030]},
            {"productGroupNumber": 2, "name": "Udlæg og rejser", "_salesAccounts": [1040]},
            {"productGroupNumber": 3, "name": "Varer", "_salesAccounts": [1010]},
        ],
        "productGroupNumber",
    )
    tables["units"] = _table(
        [
            {"unitNumber": 1, "name": "stk."},
            {"unitNumber": 2, "name": "timer"},
            {"unitNumber": 3, "name": "km"},
            {"unitNumber": 4, "name": "dag"},
        ],
        "unitNumber",
    )
    tables["departments"] = _table(
        [
            {"departmentNumber": 1, "name": "Udvikling"},
            {"departmentNumber": 2, "name": "Rådgivning"},
            {"departmentNumber": 3, "name": "Administration"},
        ],
        "departmentNumber",
    )
    tables["departmental-distributions"] = _table(
        [
            {
                "departmentalDistributionNumber": 1,
                "name": "Udvikling",
                "distributionType": "department",
                "distributions": [
                    {"department": {"departmentNumber": 1}, "percentage": Decimal("100")}
                ],
            },
            {
                "departmentalDistributionNumber": 2,
                "name": "Rådgivning",
                "distributionType": "department",
                "distributions": [
                    {"department": {"departmentNumber": 2}, "percentage": Decimal("100")}
                ],
            },
            {
                "departmentalDistributionNumber": 3,
                "name": "Administration",
                "distributionType": "department",
                "distributions": [
                    {"department": {"departmentNumber": 3}, "percentage": Decimal("100")}
                ],
            },
            {
                "departmentalDistributionNumber": 4,
                "name": "Udvikling/Rådgivning 50/50",
                "distributionType": "distribution",
                "distributions": [
                    {"department": {"departmentNumber": 1}, "percentage": Decimal("50")},
                    {"department": {"departmentNumber": 2}, "percentage": Decimal("50")},
                ],
            },
        ],
        "departmentalDistributionNumber",
    )
    tables["employee-groups"] = _table(
        [
            {"employeeGroupNumber": 1, "name": "Medarbejdere"},
            {"employeeGroupNumber": 2, "name": "Konsulenter"},
        ],
        "employeeGroupNumber",
    )
    tables["accounting-years"] = _table(
        [
            {"year": year, "fromDate": f"{year}-01-01", "toDate": f"{year}-12-31", "closed": closed}
            for year, closed in _YEARS
        ],
        "year",
    )
    agreement.counters.update({"draft": 1, "booked": 1, "entry": 1, "contact": 1, "voucher": 1})


def _product(  # noqa: PLR0917 - seed rows read best positionally
    number: str, name: str, group: int, price: str, cost: str, unit: int, distribution: int | None
) -> Document:
    product: Document = {
        "productNumber": number,
        "name": name,
        "productGroup": {"productGroupNumber": group},
        "salesPrice": Decimal(price),
        "costPrice": Decimal(cost),
        "recommendedPrice": Decimal(price),
        "unit": {"unitNumber": unit},
        "lastUpdated": "2026-01-02",
    }
    if distribution is not None:
        product["departmentalDistribution"] = {"departmentalDistributionNumber": distribution}
    return product


def _customer(  # noqa: PLR0917 - seed rows read best positionally
    number: int, name: str, group: int, currency: str, zone: int, terms: int, **extra: Any
) -> Document:
    return {
        "customerNumber": number,
        "name": name,
        "customerGroup": {"customerGroupNumber": group},
        "currency": currency,
        "vatZone": {"vatZoneNumber": zone},
        "paymentTerms": {"paymentTermsNumber": terms},
        "layout": {"layoutNumber": 1 if zone == 1 else 2},
        "balance": Decimal("0.00"),
        "lastUpdated": "2026-01-02",
        **extra,
    }


def _entry(  # noqa: PLR0917 - seed rows read best positionally
    number: int,
    account: int,
    day: str,
    amount: str,
    text: str,
    voucher: int,
    project: int | None = None,
) -> Document:
    entry: Document = {
        "entryNumber": number,
        "entryType": "financeVoucher",
        "account": {"accountNumber": account},
        "date": day,
        "amount": Decimal(amount),
        "amountInBaseCurrency": Decimal(amount),
        "currency": "DKK",
        "text": text,
        "voucherNumber": voucher,
    }
    if project is not None:
        entry["project"] = {"projectNumber": project}
    return entry


def main_agreement(*, agreement_number: int = 7_654_321) -> Agreement:
    """The agreement the app's grant points at."""
    agreement = Agreement(
        number=agreement_number,
        company={
            "name": "Ledgerlink Consulting ApS",
            "addressLine1": "Havnegade 12",
            "zip": "1058",
            "city": "København K",
            "country": "Danmark",
            "companyIdentificationNumber": "12345678",
            "email": "bogholderi@ledgerlink.example",
            "phoneNumber": "+45 70 20 30 40",
            "attention": "Bodil Bogholder",
            "website": "https://ledgerlink.example",
        },
    )
    _reference_tables(agreement)
    t = agreement.tables
    t["projectgroups"] = _table(
        [
            {"number": 1, "name": "Kundeprojekter", "type": 2, "objectVersion": "1"},
            {"number": 2, "name": "Interne projekter", "type": 1, "objectVersion": "1"},
        ],
        "number",
    )
    t["products"] = _table(
        [
            _product("WORK-DEV", "Udvikling", 1, "1150.00", "450.00", 2, 1),
            _product("WORK-PM", "Projektledelse", 1, "1250.00", "500.00", 2, 2),
            _product("WORK-SUPPORT", "Support", 1, "950.00", "400.00", 2, 1),
            _product("WORK-ADVISORY", "Rådgivning", 1, "1450.00", "550.00", 2, 2),
            _product("EXP", "Viderefakturerede udlæg", 2, "0.00", "0.00", 1, 3),
            _product("TRAVEL", "Rejseudgifter", 2, "0.00", "0.00", 1, 3),
            _product("MILEAGE", "Kørsel", 2, "3.79", "3.79", 3, 3),
            _product("TRAINING", "Kursusdag", 1, "7500.00", "2500.00", 4, 4),
            _product("LICENSE", "Softwarelicens", 3, "500.00", "300.00", 1, None),
            _product("CABLE 1.5M_USB/C", "USB-C kabel 1,5 m", 3, "149.00", "60.00", 1, None),
        ],
        "productNumber",
    )
    t["customers"] = _table(
        [
            # 9001, far from a PSA's usual numbering: the rehearsal agreement has one customer
            # of its own, which the customer import links or reports.
            _customer(
                9001,
                "Nordisk Byg A/S",
                1,
                "DKK",
                1,
                2,
                address="Industrivej 4",
                zip="8000",
                city="Aarhus C",
                country="Danmark",
                corporateIdentificationNumber="29876543",
                email="faktura@nordiskbyg.example",
            ),
            _customer(
                9002,
                "Hansen & Co ApS",
                1,
                "DKK",
                1,
                1,
                address="Torvet 1",
                zip="5000",
                city="Odense C",
                country="Danmark",
                corporateIdentificationNumber="31234567",
            ),
            _customer(
                9003,
                "Berlin Consulting GmbH",
                2,
                "EUR",
                2,
                3,
                address="Friedrichstraße 10",
                zip="10117",
                city="Berlin",
                country="Tyskland",
            ),
        ],
        "customerNumber",
    )
    t["contacts"] = {
        "1": {
            "customerContactNumber": 1,
            "customer": {"customerNumber": 9001},
            "name": "Karen Kirk",
            "email": "karen@nordiskbyg.example",
            "phone": "+45 20 30 40 50",
            "sortKey": 1,
        },
    }
    t["employees"] = _table(
        [
            {
                "employeeNumber": 1,
                "name": "Anne Andersen",
                "email": "aa@ledgerlink.example",
                "employeeGroup": {"employeeGroupNumber": 1},
            },
            {
                "employeeNumber": 2,
                "name": "Bo Berg",
                "email": "bb@ledgerlink.example",
                "employeeGroup": {"employeeGroupNumber": 2},
            },
        ],
        "employeeNumber",
    )
    agreement.entries = [
        _entry(1, 2800, "2026-01-12", "1840.00", "Flybillet København-Aarhus, projekt 17", 1, 17),
        _entry(2, 2810, "2026-01-15", "379.00", "Kørsel 100 km", 2, 17),
        _entry(3, 2820, "2026-02-03", "2500.00", "Hotel 2 nætter", 3, 18),
        _entry(4, 2850, "2026-02-10", "899.00", "Headset", 4),
        _entry(5, 2800, "2026-03-02", "640.00", "Togbillet", 5, 18),
        _entry(6, 2800, "2025-11-20", "1200.00", "Taxa og tog", 6),
    ]
    agreement.counters.update({"entry": 7, "voucher": 7, "contact": 2, "booked": 1001})
    return agreement


def demo_agreement() -> Agreement:
    """The separate, read-only demo agreement (``demo``/``demo`` tokens or ``?demo=true``)."""
    agreement = Agreement(
        number=1,
        company={
            "name": "Demo Company",
            "addressLine1": "Demovej 1",
            "zip": "2000",
            "city": "Frederiksberg",
            "country": "Danmark",
            "attention": "Demo",
        },
    )
    _reference_tables(agreement)
    t = agreement.tables
    t["projectgroups"] = _table(
        [
            {"number": 1, "name": "Kundeprojekter", "type": 2, "objectVersion": "1"},
            {"number": 2, "name": "Interne projekter", "type": 1, "objectVersion": "1"},
        ],
        "number",
    )
    t["products"] = _table(
        [
            _product(str(n), f"Demo product {n}", 1 + n % 3, f"{n * 10}.00", f"{n * 4}.00", 1, None)
            for n in range(50, 62)
        ],
        "productNumber",
    )
    t["customers"] = _table(
        [
            _customer(n, f"Demo customer {n}", 1, "DKK", 1, 1, city="Frederiksberg")
            for n in range(1, 26)
        ],
        "customerNumber",
    )
    t["employees"] = _table(
        [
            {
                "employeeNumber": 1,
                "name": "Demo Employee",
                "employeeGroup": {"employeeGroupNumber": 1},
            }
        ],
        "employeeNumber",
    )
    agreement.entries = [_entry(1, 2800, "2026-01-05", "100.00", "Demo expense", 1)]
    agreement.counters.update({"entry": 2, "voucher": 2, "booked": 1})
    return agreement
