"""Chart of accounts, accounting years (with ``closed``) and their entries (expense import)."""

from __future__ import annotations

import copy
from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from ledgerlink.emulators.economic.filters import FieldKind, SortKey
from ledgerlink.emulators.economic.http import ApiError, Ctx, RequestContext, json_response
from ledgerlink.emulators.economic.routers.invoices import project_ref

router = APIRouter()

STR, INT, NUM, DATE, BOOL = (
    FieldKind.STRING,
    FieldKind.INTEGER,
    FieldKind.NUMBER,
    FieldKind.DATE,
    FieldKind.BOOLEAN,
)
ACCOUNT_FILTERS = {
    "accountNumber": INT,
    "accountType": STR,
    "balance": NUM,
    "barred": BOOL,
    "blockDirectEntries": BOOL,
    "debitCredit": STR,
    "name": STR,
}
YEAR_FILTERS = {"closed": BOOL, "fromDate": DATE, "toDate": DATE, "year": STR}
ENTRY_FILTERS = {
    "amount": NUM,
    "amountInBaseCurrency": NUM,
    "currency": STR,
    "customer.customerNumber": INT,
    "date": DATE,
    "dueDate": DATE,
    "entryNumber": INT,
    "entryType": STR,
    "remainder": NUM,
    "remainderInBaseCurrency": NUM,
    "supplier.supplierNumber": INT,
    "supplierInvoiceNumber": STR,
    "text": STR,
    "voucherNumber": INT,
}


def render_account(ctx: RequestContext, stored: dict[str, Any]) -> dict[str, Any]:
    """An account as the API returns it."""
    number = stored["accountNumber"]
    document = copy.deepcopy(stored)
    if "vatAccount" in document:
        document["vatAccount"] = ctx.with_self(document["vatAccount"], "/vat-accounts", "vatCode")
    document["accountingYears"] = ctx.url(f"/accounts/{number}/accounting-years")
    document["self"] = ctx.url(f"/accounts/{number}")
    return document


def render_year(ctx: RequestContext, stored: dict[str, Any]) -> dict[str, Any]:
    """An accounting year as the API returns it (without the periods, totals and vouchers
    links: the emulator has no such resources, and a link must lead somewhere)."""
    path = f"/accounting-years/{stored['year']}"
    return {**copy.deepcopy(stored), "entries": ctx.url(f"{path}/entries"), "self": ctx.url(path)}


def _account_year(ctx: RequestContext, number: int, stored: dict[str, Any]) -> dict[str, Any]:
    path = f"/accounts/{number}/accounting-years/{stored['year']}"
    return {
        **render_year(ctx, stored),
        "entries": ctx.url(f"{path}/entries"),
        "self": ctx.url(path),
    }


def render_entry(ctx: RequestContext, stored: dict[str, Any], year: str) -> dict[str, Any]:
    """An entry as the API returns it."""
    document = copy.deepcopy(stored)
    document["account"] = ctx.with_self(document["account"], "/accounts", "accountNumber")
    if "vatAccount" in document:
        document["vatAccount"] = ctx.with_self(document["vatAccount"], "/vat-accounts", "vatCode")
    if "customer" in document:
        document["customer"] = ctx.with_self(document["customer"], "/customers", "customerNumber")
    if "bookedInvoice" in document:
        document["bookedInvoice"] = ctx.with_self(
            document["bookedInvoice"], "/invoices/booked", "bookedInvoiceNumber"
        )
    if "project" in document:
        document["project"] = project_ref(ctx, document["project"])
    document["self"] = ctx.url(f"/accounting-years/{year}/entries/{document['entryNumber']}")
    return document


def _year(ctx: RequestContext, year: str) -> dict[str, Any]:
    stored = ctx.agreement.get("accounting-years", year)
    if stored is None:
        raise ApiError(
            404,
            f"Accounting year {year} not found.",
            hint="Find a list of years at /accounting-years.",
        )
    return stored


def _entries(ctx: RequestContext, year: str, account: int | None = None) -> list[dict[str, Any]]:
    stored_year = _year(ctx, year)
    return [
        render_entry(ctx, e, year)
        for e in ctx.agreement.entries
        if stored_year["fromDate"] <= e["date"] <= stored_year["toDate"]
        and (account is None or e["account"]["accountNumber"] == account)
    ]


@router.get("/accounts")
async def list_accounts(ctx: Ctx) -> Response:
    """The chart of accounts."""
    with ctx.state.lock:
        records = [render_account(ctx, a) for a in ctx.agreement.table("accounts").values()]
    return ctx.collection(
        records, filterable=ACCOUNT_FILTERS, default_sort=[SortKey("accountNumber")]
    )


def _account(ctx: RequestContext, number: int) -> dict[str, Any]:
    stored = ctx.agreement.get("accounts", number)
    if stored is None:
        raise ApiError(404, f"Account {number} not found.")
    return stored


@router.get("/accounts/{number}")
async def get_account(ctx: Ctx, number: int) -> Response:
    """One account."""
    with ctx.state.lock:
        return json_response(render_account(ctx, _account(ctx, number)))


@router.get("/accounts/{number}/accounting-years")
async def account_years(ctx: Ctx, number: int) -> Response:
    """The accounting years of an account."""
    with ctx.state.lock:
        _account(ctx, number)
        records = [
            _account_year(ctx, number, y) for y in ctx.agreement.table("accounting-years").values()
        ]
    return ctx.collection(records, filterable=YEAR_FILTERS, default_sort=[SortKey("fromDate")])


@router.get("/accounts/{number}/accounting-years/{year}")
async def account_year(ctx: Ctx, number: int, year: str) -> Response:
    """One accounting year of an account."""
    with ctx.state.lock:
        _account(ctx, number)
        return json_response(_account_year(ctx, number, _year(ctx, year)))


@router.get("/accounts/{number}/accounting-years/{year}/entries")
async def account_entries(ctx: Ctx, number: int, year: str) -> Response:
    """Entries on one account in one accounting year (cursor with ``entryNumber$gt:``)."""
    with ctx.state.lock:
        _account(ctx, number)
        records = _entries(ctx, year, number)
    return ctx.collection(records, filterable=ENTRY_FILTERS, default_sort=[SortKey("entryNumber")])


@router.get("/accounting-years")
async def list_years(ctx: Ctx) -> Response:
    """The accounting years."""
    with ctx.state.lock:
        records = [render_year(ctx, y) for y in ctx.agreement.table("accounting-years").values()]
    return ctx.collection(records, filterable=YEAR_FILTERS, default_sort=[SortKey("fromDate")])


@router.get("/accounting-years/{year}")
async def get_year(ctx: Ctx, year: str) -> Response:
    """One accounting year."""
    with ctx.state.lock:
        return json_response(render_year(ctx, _year(ctx, year)))


@router.get("/accounting-years/{year}/entries")
async def year_entries(ctx: Ctx, year: str) -> Response:
    """Every entry of an accounting year."""
    with ctx.state.lock:
        records = _entries(ctx, year)
    return ctx.collection(records, filterable=ENTRY_FILTERS, default_sort=[SortKey("entryNumber")])


@router.get("/accounting-years/{year}/entries/{number}")
async def get_entry(ctx: Ctx, year: str, number: int) -> Response:
    """One entry."""
    with ctx.state.lock:
        found = next((e for e in _entries(ctx, year) if e["entryNumber"] == number), None)
    if found is None:
        raise ApiError(404, f"Entry {number} not found in {year}.")
    return json_response(found)
