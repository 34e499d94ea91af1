"""The ERP user's side of the emulated Visma Administration (not part of the ADK).

Creates demo companies, books invoices, registers payments, adds projects, säljare and countries,
and injects licence faults — what a Visma user or an outage does while the integration runs.
Every function opens the company file itself, so it may run in another process than the
:class:`~.adk.EmulatedAdk` that uses the company.

The seeded demo company (``seed=True``):

* currencies SEK (base, unit 1), EUR and USD (unit 1), DKK (unit 100: rates per 100 DKK);
* country codes SE DK NO FI DE GB US NL; payment terms ``10``, ``30`` (days net) and ``K``
  (kontant); units ``st`` ``tim`` ``mil`` ``km``;
* säljare ``AA`` Anna Andersson, ``BB`` Bo Berg, ``CL`` Carl Lind;
* profit centres ``100`` Stockholm, ``200`` Göteborg, ``300`` Malmö;
* accounts 1510 1930 2611 3041 3043 3044 3308 5800 6540; article accounting codes ``TJ25``
  (3041, VAT code 1 = 25 %), ``TJ06`` (3043, VAT code 3 = 6 %), ``MF`` (3044, VAT code 0);
* articles ``KONSULT`` (tim, 1 200.00, TJ25), ``RESA`` (st, 0.00, TJ06), ``MIL`` (mil, 65.00,
  TJ25), ``UTLAGG`` (st, 0.00, MF), ``LICENS`` (st, 500.00, TJ25);
* customers ``1001`` Kund AB (SE, SEK, seller AA), ``1002`` Nordisk Handel AB (SE, SEK, BB),
  ``2001`` Dansk Rådgivning ApS (DK, DKK, EU customer, CL);
* projects ``P100`` Webbprojekt (1001), ``P200`` Rådgivning DK (2001), ``INTERN`` (no customer);
* suppliers ``501`` SJ AB, ``502`` Taxi Stockholm AB, ``503`` Clas Ohlson AB and three supplier
  invoices for the expense pool (numbers 1–3; projects P100, P100, P200).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import date
from pathlib import Path

from ledgerlink.emulators.visma._engine import (
    COMPANY_FILE,
    FAULT_FILE,
    HOLD_FILE,
    Company,
    Fields,
    Reject,
    date_to_long,
    today,
)
from ledgerlink.emulators.visma._schema import DATABASES
from ledgerlink.emulators.visma._texts import text_for
from ledgerlink.interfaces.visma_adk import constants as c

LICENCE_FAULTS = frozenset({c.ADKE_INVALID_NET_LICENCE, c.ADKE_TOO_MANY_LICENCE})


class AdminRefused(Exception):
    """The emulated ERP refused an admin action; ``code`` is the ``ADKE_*`` reason."""

    def __init__(self, code: int) -> None:
        super().__init__(f"{code}: {text_for(code)}")
        self.code = code


def _open(company_path: str | Path) -> Company:
    folder = Path(company_path)
    if not is_company(folder):
        raise AdminRefused(c.ADKE_INVALID_PATH_COMPANY)
    return Company(folder)


def _add(company: Company, db_id: int, values: Fields, rows: list[Fields] | None = None) -> str:
    try:
        return company.add(DATABASES[db_id], values, rows)
    except Reject as reject:
        raise AdminRefused(reject.code) from reject


def create_company(
    system_path: str | Path,
    company_path: str | Path,
    *,
    name: str,
    seed: bool = True,
    parties: bool = True,
    users: Mapping[str, str] | None = None,
) -> Path:
    """Create the "Gemensamma filer" folder (if needed) and a company folder with its file.

    ``seed``: the reference data (articles, currencies, countries, säljare, payment terms …);
    ``parties``: also the demo customers, their projects and supplier invoices (a company that
    will take its customers from the PSA starts without them).

    ``users`` (name → password) activates Visma's login: ``AdkOpen`` then answers
    ``ADKE_LOGIN_DENIED`` and ``AdkOpen2`` needs a matching pair. Returns the company folder.
    """
    Path(system_path).mkdir(parents=True, exist_ok=True)
    folder = Path(company_path)
    folder.mkdir(parents=True, exist_ok=True)
    company = Company(folder)
    try:
        company.create_schema()
        with company.transaction():
            company.set_meta("users", json.dumps(dict(users or {})))
        prm: Fields = {
            c.ADK_PRM_NAME: name,
            c.ADK_PRM_ORGANISATION_NUMBER: "556677-8899",
            c.ADK_PRM_CODE_OF_CURRENCY: "SEK",
        }
        _add(company, c.ADK_DB_PRM, prm)
        if seed:
            _seed(company, parties=parties)
    finally:
        company.close()
    return folder


def is_company(company_path: str | Path) -> bool:
    """Whether ``company_path`` holds an emulated company (made by :func:`create_company`)."""
    return (Path(company_path) / COMPANY_FILE).is_file()


def book_invoice(company_path: str | Path, document_number: int) -> None:
    """The ERP user books the invoice: it is in the ledger and edits answer 24 from now on."""
    company = _open(company_path)
    try:
        stored = company.get(c.ADK_DB_INVOICE_HEAD, str(document_number))
        if stored is None:
            raise AdminRefused(c.ADKE_NOT_FOUND)
        if stored.hidden.get("cancelled"):
            raise AdminRefused(c.ADKE_EDIT_DENIED_OBLITERATED)
        company.set_invoice_state(document_number, in_ledger=True, booked=True)
    finally:
        company.close()


def register_payment(
    company_path: str | Path,
    document_number: int,
    amount: float,
    *,
    payment_date: date | None = None,
) -> int:
    """A customer payment of ``amount`` (invoice currency) arrives; returns the payment number.

    The invoice must be in the ledger (booked or printed); its ``BALANCE`` drops by ``amount``.
    """
    company = _open(company_path)
    try:
        key = _add(
            company,
            c.ADK_DB_CUSTOMERPAYMENT,
            {
                c.ADK_CUSTOMERPAYMENT_INVOICE_NUMBER: float(document_number),
                c.ADK_CUSTOMERPAYMENT_AMOUNT_CURRENCY: float(amount),
                c.ADK_CUSTOMERPAYMENT_DATE: date_to_long(payment_date or today()),
                c.ADK_CUSTOMERPAYMENT_PAYTEXT: "Bankgiro",
            },
        )
    finally:
        company.close()
    return int(key)


def set_licence_fault(company_path: str | Path, code: int | None) -> None:
    """Inject (``ADKE_INVALID_NET_LICENCE``/``ADKE_TOO_MANY_LICENCE``) or clear a licence fault.

    The fault is a file in the company folder, so every process sees it: ``AdkOpen`` answers the
    code and an open session answers ``ADKE_NO_DB_OPEN`` until it is cleared.
    """
    path = Path(company_path) / FAULT_FILE
    if code is None:
        path.unlink(missing_ok=True)
        return
    if code not in LICENCE_FAULTS:
        raise ValueError(f"not a licence fault: {code}")
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"lRc": code}), encoding="utf-8")
    os.replace(temporary, path)


def set_offline(company_path: str | Path, on: bool) -> None:
    """Simulate "ERP down" (invalid network licence) or bring it back."""
    set_licence_fault(company_path, c.ADKE_INVALID_NET_LICENCE if on else None)


def set_hold_after_add(company_path: str | Path, seconds: float) -> None:
    """Make ``AdkAdd`` wait ``seconds`` after committing (0 clears it): a process killed in
    that time has written the record without knowing it."""
    path = Path(company_path) / HOLD_FILE
    if not seconds:
        path.unlink(missing_ok=True)
        return
    path.write_text(json.dumps({"seconds": seconds}), encoding="utf-8")


def create_project(
    company_path: str | Path,
    code: str,
    name: str,
    *,
    customer_number: str = "",
    closed: bool = False,
) -> None:
    """The ERP user creates a project (projects must exist before invoices refer to them)."""
    company = _open(company_path)
    try:
        _add(
            company,
            c.ADK_DB_PROJECT,
            {
                c.ADK_PROJECT_CODE_OF_PROJECT: code,
                c.ADK_PROJECT_NAME: name,
                c.ADK_PROJECT_CUSTOMER_NUMBER: customer_number,
                c.ADK_PROJECT_CLOSED: closed,
                c.ADK_PROJECT_DATE_OF_BEGINNING: date_to_long(today()),
            },
        )
    finally:
        company.close()


def create_seller(company_path: str | Path, sign: str, name: str) -> None:
    """The ERP user adds a säljare (Arkiv > Inställningar > Företag > Referens), by initials."""
    company = _open(company_path)
    try:
        _add(company, c.ADK_DB_CODE_OF_SELLER, _seller(sign, name))
    finally:
        company.close()


def add_country(company_path: str | Path, code: str, name: str) -> None:
    """The ERP user adds an ISO-2 country code."""
    company = _open(company_path)
    try:
        _add(company, c.ADK_DB_CODE_OF_COUNTRY_CODE, _country(code, name))
    finally:
        company.close()


def _seller(sign: str, name: str) -> Fields:
    return {
        c.ADK_CODE_OF_SELLER_SIGN: sign,
        c.ADK_CODE_OF_SELLER_NAME: name,
        c.ADK_CODE_OF_SELLER_SELLER: True,
        c.ADK_CODE_OF_SELLER_REF: True,
    }


def _country(code: str, name: str) -> Fields:
    return {
        c.ADK_CODE_OF_COUNTRY_CODE_CODE: code,
        c.ADK_CODE_OF_COUNTRY_CODE_COUNTRY: name,
        c.ADK_CODE_OF_COUNTRY_CODE_ISO: True,
    }


COUNTRIES = {
    "SE": "Sverige",
    "DK": "Danmark",
    "NO": "Norge",
    "FI": "Finland",
    "DE": "Tyskland",
    "GB": "Storbritannien",
    "US": "USA",
    "NL": "Nederländerna",
}
CURRENCIES = {  # code: (country, unit, sell, buy)
    "SEK": ("Sverige", 1.0, 1.0, 1.0),
    "EUR": ("EMU", 1.0, 11.5, 11.4),
    "USD": ("USA", 1.0, 10.5, 10.4),
    "DKK": ("Danmark", 100.0, 154.2, 153.8),
}
TERMS = {
    "10": ("10 dagar netto", 10),
    "14": ("14 dagar netto", 14),
    "20": ("20 dagar netto", 20),
    "30": ("30 dagar netto", 30),
    "K": ("Kontant", 0),
}
UNITS = {"st": "Styck", "tim": "Timmar", "mil": "Mil", "km": "Kilometer"}
ACCOUNTS = {
    "1510": "Kundfordringar",
    "1930": "Företagskonto",
    "2611": "Utgående moms 25 %",
    "3041": "Försäljning tjänster 25 %",
    "3043": "Försäljning tjänster 6 %",
    "3044": "Försäljning momsfri",
    "3308": "Försäljning tjänster till annat EU-land",
    "5800": "Resekostnader",
    "6540": "IT-tjänster",
}
ARTICLE_ACCOUNTS = {  # code: (text, sales account, VAT code)
    "TJ25": ("Tjänster 25 %", "3041", "1"),
    "TJ06": ("Resor 6 %", "3043", "3"),
    "MF": ("Momsfritt", "3044", "0"),
}
ARTICLES = {  # number: (name, unit, price, accounting code)
    "KONSULT": ("Konsulttimme", "tim", 1200.0, "TJ25"),
    "RESA": ("Resekostnad", "st", 0.0, "TJ06"),
    "MIL": ("Milersättning", "mil", 65.0, "TJ25"),
    "UTLAGG": ("Utlägg", "st", 0.0, "MF"),
    "LICENS": ("Licens", "st", 500.0, "TJ25"),
}
SELLERS = {"AA": "Anna Andersson", "BB": "Bo Berg", "CL": "Carl Lind"}
PROFIT_CENTRES = {"100": "Stockholm", "200": "Göteborg", "300": "Malmö"}


def _seed(company: Company, *, parties: bool) -> None:
    """Fill a new company with the demo data listed in the module docstring."""
    for code, name in COUNTRIES.items():
        _add(company, c.ADK_DB_CODE_OF_COUNTRY_CODE, _country(code, name))
    for code, (country, factor, sell, buy) in CURRENCIES.items():
        _add(
            company,
            c.ADK_DB_CODE_OF_CURRENCY,
            {
                c.ADK_CODE_OF_CURRENCY_CODE: code,
                c.ADK_CODE_OF_CURRENCY_COUNTRY: country,
                c.ADK_CODE_OF_CURRENCY_UNIT: factor,
                c.ADK_CODE_OF_CURRENCY_SELL: sell,
                c.ADK_CODE_OF_CURRENCY_BUY: buy,
                c.ADK_CODE_OF_CURRENCY_DATE_OF_REGISTRATION: date_to_long(today()),
            },
        )
    for code, (text, days) in TERMS.items():
        _add(
            company,
            c.ADK_DB_CODE_OF_TERMS_OF_PAYMENT,
            {c.ADK_CODE_OF_TERMS_OF_PAYMENT_CODE: code, c.ADK_CODE_OF_TERMS_OF_PAYMENT_TEXT: text},
        )
        with company.transaction():
            stored = company.get(c.ADK_DB_CODE_OF_TERMS_OF_PAYMENT, code)
            assert stored is not None
            stored.hidden["days"] = days
            company.put(c.ADK_DB_CODE_OF_TERMS_OF_PAYMENT, code, stored)
    for code, text in UNITS.items():
        _add(
            company,
            c.ADK_DB_CODE_OF_UNIT,
            {c.ADK_CODE_OF_UNIT_CODE: code, c.ADK_CODE_OF_UNIT_TEXT: text},
        )
    for number, text in ACCOUNTS.items():
        _add(company, c.ADK_DB_ACCOUNT, {c.ADK_ACCOUNT_NUMBER: number, c.ADK_ACCOUNT_TEXT: text})
    for code, (text, account, vat) in ARTICLE_ACCOUNTS.items():
        _add(
            company,
            c.ADK_DB_CODE_OF_ARTICLE_ACCOUNT,
            {
                c.ADK_CODE_OF_ARTICLE_ACCOUNT_CODE: code,
                c.ADK_CODE_OF_ARTICLE_ACCOUNT_TEXT: text,
                c.ADK_CODE_OF_ARTICLE_ACCOUNT_SALES: account,
                c.ADK_CODE_OF_ARTICLE_ACCOUNT_VAT: vat,
            },
        )
    for number, (name, unit, price, accounting) in ARTICLES.items():
        _add(
            company,
            c.ADK_DB_ARTICLE,
            {
                c.ADK_ARTICLE_NUMBER: number,
                c.ADK_ARTICLE_NAME: name,
                c.ADK_ARTICLE_UNIT_CODE: unit,
                c.ADK_ARTICLE_PRICE: price,
                c.ADK_ARTICLE_ACCOUNTING_CODE: accounting,
            },
        )
    for sign, name in SELLERS.items():
        _add(company, c.ADK_DB_CODE_OF_SELLER, _seller(sign, name))
    for code, name in PROFIT_CENTRES.items():
        _add(
            company,
            c.ADK_DB_CODE_OF_PROFIT_CENTRE,
            {c.ADK_CODE_OF_PROFIT_CENTRE_CODE: code, c.ADK_CODE_OF_PROFIT_CENTRE_NAME: name},
        )
    if parties:
        _seed_parties(company)


def _seed_parties(company: Company) -> None:
    customers = [
        ("1001", "Kund AB", "Storgatan 1", "111 22", "Stockholm", "SE", "SEK", "AA", "556000-0001"),
        ("1002", "Nordisk Handel AB", "Hamngatan 5", "411 06", "Göteborg", "SE", "SEK", "BB", ""),
        (
            "2001",
            "Dansk Rådgivning ApS",
            "Vesterbrogade 3",
            "1620",
            "København",
            "DK",
            "DKK",
            "CL",
            "",
        ),
    ]
    for number, name, address, zipcode, city, country, currency, seller, org in customers:
        _add(
            company,
            c.ADK_DB_CUSTOMER,
            {
                c.ADK_CUSTOMER_NUMBER: number,
                c.ADK_CUSTOMER_NAME: name,
                c.ADK_CUSTOMER_MAILING_ADDRESS: address,
                c.ADK_CUSTOMER_ZIPCODE: zipcode,
                c.ADK_CUSTOMER_CITY: city,
                c.ADK_CUSTOMER_CODE_OF_COUNTRY: country,
                c.ADK_CUSTOMER_CODE_OF_CURRENCY: currency,
                c.ADK_CUSTOMER_CODE_OF_TERMS_OF_PAYMENT: "30",
                c.ADK_CUSTOMER_SELLER: seller,
                c.ADK_CUSTOMER_ORGANISATION_NUMBER: org,
                c.ADK_CUSTOMER_EU_CUSTOMER: country != "SE",
                c.ADK_CUSTOMER_VAT_NUMBER: "DK12345678" if country == "DK" else "",
            },
        )
    projects = [("P100", "Webbprojekt", "1001"), ("P200", "Rådgivning DK", "2001")]
    projects.append(("INTERN", "Interna projekt", ""))
    for code, name, customer in projects:
        _add(
            company,
            c.ADK_DB_PROJECT,
            {
                c.ADK_PROJECT_CODE_OF_PROJECT: code,
                c.ADK_PROJECT_NAME: name,
                c.ADK_PROJECT_CUSTOMER_NUMBER: customer,
            },
        )
    suppliers = {"501": "SJ AB", "502": "Taxi Stockholm AB", "503": "Clas Ohlson AB"}
    for number, name in suppliers.items():
        _add(
            company,
            c.ADK_DB_SUPPLIER,
            {c.ADK_SUPPLIER_NUMBER: number, c.ADK_SUPPLIER_NAME: name},
        )
    invoices = [
        ("501", "SJ-4711", 1250.0, 70.75, "P100", "Tåg Stockholm–Göteborg, kundmöte"),
        ("502", "T-99812", 480.0, 27.17, "P100", "Taxi till kund"),
        ("503", "CO-12345", 2400.0, 480.0, "P200", "Nätverkskablar till kund"),
    ]
    for supplier, invoice_number, total, vat, project, note in invoices:
        _add(
            company,
            c.ADK_DB_SUPPLIER_INVOICE_HEAD,
            {
                c.ADK_SUP_INV_HEAD_SUPPLIER_NUMBER: supplier,
                c.ADK_SUP_INV_HEAD_INVOICE_NUMBER: invoice_number,
                c.ADK_SUP_INV_HEAD_INVOICE_DATE: date_to_long(today()),
                c.ADK_SUP_INV_HEAD_TOTAL: total,
                c.ADK_SUP_INV_HEAD_VAT_AMOUNT: vat,
                c.ADK_SUP_INV_HEAD_PROJECT: project,
                c.ADK_SUP_INV_HEAD_NOTE1: note,
            },
        )
