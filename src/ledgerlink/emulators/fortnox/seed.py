"""The company a new Fortnox emulator holds: a Swedish consultancy keeping its books in SEK
with a BAS chart of accounts, articles for each kind of invoice line, voucher series, three
financial years around today, a project and a few expenses already booked (vouchers in
series A on travel and representation accounts, for expense import)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from ledgerlink.emulators.fortnox.state import Company, Document

__all__ = [
    "CURRENCY_RATES",
    "EXPENSE_ACCOUNTS",
    "EXPENSE_SERIES",
    "PRODUCTS",
    "SWEDISH_COUNTRY_NAMES",
    "seeded_company",
]

#: The seeded article number per kind of invoice line (the demo's product numbers).
PRODUCTS = {
    "work": "WORK",
    "expense": "EXP",
    "travel": "TRAVEL",
    "mileage": "MILEAGE",
    "default": "EXP",
}

#: What Fortnox's exchange-rate service would say: SEK for one unit (the connector sends only
#: the currency; Fortnox decides the rate, fact sheet §1.3).
CURRENCY_RATES = {
    "SEK": Decimal("1"),
    "EUR": Decimal("11.20"),
    "DKK": Decimal("1.50"),
    "NOK": Decimal("0.98"),
    "USD": Decimal("10.40"),
    "GBP": Decimal("13.10"),
}

#: Country names as Fortnox wants them: in Swedish (fact sheet §1.3, §1.4), with their codes.
SWEDISH_COUNTRY_NAMES = {
    "Sverige": "SE",
    "Danmark": "DK",
    "Norge": "NO",
    "Finland": "FI",
    "Island": "IS",
    "Tyskland": "DE",
    "Nederländerna": "NL",
    "Belgien": "BE",
    "Frankrike": "FR",
    "Spanien": "ES",
    "Italien": "IT",
    "Polen": "PL",
    "Estland": "EE",
    "Storbritannien": "GB",
    "Irland": "IE",
    "Österrike": "AT",
    "Schweiz": "CH",
    "USA": "US",
}

_ACCOUNTS: tuple[tuple[int, str, str | None], ...] = (
    (1510, "Kundfordringar", None),
    (1930, "Företagskonto / checkkonto / affärskonto", None),
    (2440, "Leverantörsskulder", None),
    (2611, "Utgående moms på försäljning inom Sverige, 25 %", "MP1"),
    (2621, "Utgående moms på försäljning inom Sverige, 12 %", "MP2"),
    (2631, "Utgående moms på försäljning inom Sverige, 6 %", "MP3"),
    (2641, "Debiterad ingående moms", "I"),
    (2890, "Övriga kortfristiga skulder", None),
    (3001, "Försäljning inom Sverige, 25 % moms", "MP1"),
    (3002, "Försäljning inom Sverige, 12 % moms", "MP2"),
    (3003, "Försäljning inom Sverige, 6 % moms", "MP3"),
    (3004, "Försäljning inom Sverige, momsfri", None),
    (3105, "Försäljning varor till land utanför EU", None),
    (3308, "Försäljning tjänster till annat EU-land", None),
    (3740, "Öres- och kronutjämning", None),
    (4010, "Inköp material och varor", None),
    (5410, "Förbrukningsinventarier", None),
    (5611, "Drivmedel för personbilar", None),
    (5800, "Resekostnader", None),
    (5810, "Biljetter", None),
    (5831, "Kost och logi i Sverige", None),
    (6071, "Representation, avdragsgill", None),
    (6110, "Kontorsmateriel", None),
    (6212, "Mobiltelefon", None),
    (6540, "IT-tjänster", None),
    (6990, "Övriga externa kostnader", None),  # where an exported "expense" is booked
    (7331, "Skattefria bilersättningar", None),
)

_ARTICLES: tuple[tuple[str, str, str, str, str], ...] = (
    ("WORK", "Konsulttimme", "tim", "1150.00", "SERVICE"),
    ("EXP", "Utlägg", "st", "0", "SERVICE"),
    ("TRAVEL", "Resekostnader", "st", "0", "SERVICE"),
    ("MILEAGE", "Milersättning", "mil", "25.00", "SERVICE"),
)

_SERIES = (
    ("A", "Redovisning"),
    ("B", "Kundfakturor"),
    ("C", "Kundinbetalningar"),
    ("D", "Leverantörsfakturor"),
    ("E", "Leverantörsutbetalningar"),
    ("U", "Utlägg"),
)

STAMP = "2025-01-01 00:00:00"

#: The journal and accounts the seeded expenses are booked in (expense import reads them).
EXPENSE_SERIES = "A"
EXPENSE_ACCOUNTS = (5800, 5831, 6071)
#: The seeded expenses: (month-day, text, [(account, debit − credit, project)]).
_EXPENSES: tuple[tuple[str, str, tuple[tuple[int, str, str], ...]], ...] = (
    (
        "01-15",
        "Utlägg: tåg Stockholm–Göteborg",
        ((5800, "1200.00", "100"), (2641, "72.00", ""), (2890, "-1272.00", "")),
    ),
    (
        "01-20",
        "Utlägg: hotell och kundmiddag",
        (
            (5831, "1500.00", "100"),
            (6071, "800.00", ""),
            (2641, "276.00", ""),
            (2890, "-2576.00", ""),
        ),
    ),
)


def _customers() -> list[Document]:
    base: Document = {
        "Active": True,
        "Currency": "SEK",
        "TermsOfPayment": "30",
        "Type": "COMPANY",
        "_modified": STAMP,
    }
    return [
        {
            **base,
            "CustomerNumber": "1",
            "Name": "Byggbolaget i Norden AB",
            "OrganisationNumber": "556036-0793",
            "VATNumber": "SE556036079301",
            "VATType": "SEVAT",
            "Address1": "Sveavägen 1",
            "ZipCode": "111 57",
            "City": "Stockholm",
            "Country": "Sverige",
            "CountryCode": "SE",
            "Email": "faktura@byggbolaget.se",
        },
        {
            **base,
            "CustomerNumber": "2",
            "Name": "Hansen & Co ApS",
            "VATNumber": "DK12345678",
            "VATType": "EUREVERSEDVAT",
            "Address1": "Strøget 10",
            "ZipCode": "1160",
            "City": "København",
            "Country": "Danmark",
            "CountryCode": "DK",
            "Currency": "DKK",
        },
    ]


def seeded_company(*, today: date | None = None) -> Company:
    """A fresh company; its financial years are last, this and next calendar year."""
    year = (today or datetime.now(ZoneInfo("Europe/Stockholm")).date()).year
    company = Company(
        information={
            "CompanyName": "Nordlys Konsult AB",
            "OrganizationNumber": "559123-4560",
            "Address": "Drottninggatan 12",
            "ZipCode": "111 51",
            "City": "Stockholm",
            "CountryCode": "SE",
            "VisitAddress": "Drottninggatan 12",
            "VisitZipCode": "111 51",
            "VisitCity": "Stockholm",
            "VisitCountryCode": "SE",
            "DatabaseNumber": 1_234_567,
        }
    )
    for number, description, vat_code in _ACCOUNTS:
        company.table("accounts")[str(number)] = {
            "Number": number,
            "Description": description,
            "Active": True,
            "VATCode": vat_code or "",
            "SRU": 0,
            "Year": 2,
            "BalanceBroughtForward": Decimal("0.00"),
            "CostCenterSettings": "ALLOWED",
            "ProjectSettings": "ALLOWED",
            "_modified": STAMP,
        }
    for article, description, unit, price, kind in _ARTICLES:
        company.table("articles")[article] = {
            "ArticleNumber": article,
            "Description": description,
            "Unit": unit,
            "SalesPrice": Decimal(price),
            "Type": kind,
            "VAT": Decimal("25"),
            "SalesAccount": 3001,
            "EUAccount": 3308,
            "ExportAccount": 3105,
            "Active": True,
            "Housework": False,
            "_modified": STAMP,
        }
    for index, offset in enumerate((-1, 0, 1), start=1):
        company.table("financialyears")[str(index)] = {
            "Id": index,
            "FromDate": f"{year + offset}-01-01",
            "ToDate": f"{year + offset}-12-31",
            "AccountChartType": "BAS 2024",
            "AccountingMethod": "ACCRUAL",
        }
    company.counters["financialyears"] = 4
    for code, description in _SERIES:
        company.table("voucherseries")[code] = {
            "Code": code,
            "Description": description,
            "Manual": code in ("A", "U"),
            "Year": 2,
        }
    for customer in _customers():
        company.table("customers")[customer["CustomerNumber"]] = customer
        company.used_customer_numbers.append(customer["CustomerNumber"])
    company.table("costcenters")["ADM"] = {
        "Code": "ADM",
        "Description": "Administration",
        "Active": True,
        "Note": "",
    }
    company.table("projects")["100"] = {
        "ProjectNumber": "100",
        "Description": "Intern administration",
        "ProjectLeader": "Anna Berg",
        "Status": "ONGOING",
        "StartDate": f"{year}-01-01",
        "_modified": STAMP,
    }
    _book_expenses(company, year=year, year_id=2)
    company.table("employees")["1"] = {
        "EmployeeId": "1",
        "FirstName": "Anna",
        "LastName": "Berg",
        "FullName": "Anna Berg",
        "Email": "anna.berg@nordlys.se",
        "Inactive": False,
    }
    return company


def _book_expenses(company: Company, *, year: int, year_id: int) -> None:
    """The seeded expenses as vouchers of series :data:`EXPENSE_SERIES` in this year."""
    for number, (day, text, rows) in enumerate(_EXPENSES, start=1):
        shaped = []
        for account, amount, project in rows:
            value = Decimal(amount)
            shaped.append(
                {
                    "Account": account,
                    "Debit": max(value, Decimal("0.00")),
                    "Credit": max(-value, Decimal("0.00")),
                    "Description": text if account in EXPENSE_ACCOUNTS else "",
                    "Project": project,
                    "CostCenter": "",
                    "TransactionInformation": "",
                    "Quantity": Decimal(0),
                    "Removed": False,
                }
            )
        key = f"{year_id}:{EXPENSE_SERIES}:{number}"
        company.table("vouchers")[key] = {
            "VoucherSeries": EXPENSE_SERIES,
            "VoucherNumber": number,
            "Year": year_id,
            "Description": text,
            "TransactionDate": f"{year}-{day}",
            "Comments": "",
            "CostCenter": "",
            "Project": "",
            "ReferenceType": "MANUAL",
            "ReferenceNumber": "",
            "ApprovalState": 0,
            "VoucherRows": shaped,
            "_modified": STAMP,
        }
    company.counters[f"voucher:{year_id}:{EXPENSE_SERIES}"] = len(_EXPENSES) + 1
