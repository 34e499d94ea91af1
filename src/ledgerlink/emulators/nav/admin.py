"""Admin routes that simulate the NAV user's work (see the package docstring for the list).

Bodies and answers are JSON; record fields use the web-service field names and the stored
forms (options as SOAP enum names such as ``Credit_Memo``, dates ``YYYY-MM-DD``).
"""

from __future__ import annotations

import asyncio
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from ledgerlink.emulators._kit.admin import ADMIN_PREFIX
from ledgerlink.emulators._kit.jsonio import dumps, loads
from ledgerlink.emulators.nav.errors import Failure, NavError
from ledgerlink.emulators.nav.http import authenticate_basic, emulator_of
from ledgerlink.emulators.nav.jobqueue import run_change_handler
from ledgerlink.emulators.nav.logic import Books
from ledgerlink.emulators.nav.state import Record
from ledgerlink.emulators.nav.values import from_json

__all__ = ["admin_error", "router"]

router = APIRouter(prefix=ADMIN_PREFIX, dependencies=[Depends(authenticate_basic)])


def _json(document: Any, status: int = 200) -> Response:
    return Response(dumps(document), status_code=status, media_type="application/json")


def admin_error(status: int, message: str, code: str = "BadRequest") -> Response:
    """An admin-route error body ``{"error": {"code", "message"}}``."""
    return _json({"error": {"code": code, "message": message}}, status)


def _plain(record: Record) -> dict[str, Any]:
    return {key: value for key, value in record.items() if not key.startswith("$")}


async def _body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return loads(raw)
    except ValueError:
        raise NavError(Failure.BAD_REQUEST, "The body is not valid JSON.") from None


def _objects(document: Any) -> list[dict[str, Any]]:
    items = document if isinstance(document, list) else [document]
    if not all(isinstance(item, dict) for item in items):
        raise NavError(Failure.BAD_REQUEST, "Send a JSON object or a list of objects.")
    return items


def _books(request: Request, company: str) -> Books:
    emulator = emulator_of(request)
    if emulator.config.company(company) is None:
        raise NavError(Failure.RECORD_NOT_FOUND, f'The company "{company}" does not exist.')
    return emulator.books(company)


def _values(books: Books, table_id: int, document: dict[str, Any]) -> dict[str, Any]:
    table = books.definition(table_id)
    values = {}
    for name, value in document.items():
        field = table.field(name)
        if field is None:
            raise NavError(Failure.BAD_REQUEST, f"{name} is not a field of table {table.name}.")
        values[name] = from_json(field, value)
    return values


def insert_as_user(books: Books, table_id: int, values: dict[str, Any]) -> Record:
    """Insert a record as the NAV user would (field validation, OnInsert, change log)."""
    table = books.definition(table_id)
    record = books.new_record(table_id)
    for name in table.primary_key:
        if name in values:
            record[name] = values[name]
    for field in table.fields:
        if field.name in values and field.name not in table.primary_key:
            books.validate(table_id, record, field.name, values[field.name])
    return books.insert(table_id, record)


def _locate(books: Books, table_id: int, values: dict[str, Any]) -> Record:
    key = tuple(values.get(name, "") for name in books.definition(table_id).primary_key)
    record = books.get(table_id, key)
    if record is None:
        raise books.not_found(table_id, key)
    return record


@router.get("/companies/{company}/records/{table_id}")
async def list_records(request: Request, company: str, table_id: int) -> Response:
    """Every record of a table (FlowFields calculated)."""
    with emulator_of(request).state.lock:
        books = _books(request, company)
        books.definition(table_id)
        rows = [_plain(books.calc_fields(table_id, r)) for r in books.rows(table_id)]
    return _json({"records": rows})


@router.post("/companies/{company}/records/{table_id}")
async def insert_records(request: Request, company: str, table_id: int) -> Response:
    """Insert records as the NAV user (an object or a list; change log written)."""
    document = await _body(request)
    emulator = emulator_of(request)
    with emulator.state.lock:
        books = _books(request, company)
        with books.transaction():
            created = [
                insert_as_user(books, table_id, _values(books, table_id, item))
                for item in _objects(document)
            ]
        emulator.state.save()
        return _json({"records": [_plain(books.calc_fields(table_id, r)) for r in created]}, 201)


@router.post("/companies/{company}/records/{table_id}/modify")
async def modify_record(request: Request, company: str, table_id: int) -> Response:
    """Modify a record as the NAV user: the primary-key fields name it, the others change."""
    document = await _body(request)
    emulator = emulator_of(request)
    with emulator.state.lock:
        books = _books(request, company)
        with books.transaction():
            values = _values(books, table_id, _objects(document)[0])
            old = _locate(books, table_id, values)
            record = dict(old)
            table = books.definition(table_id)
            for field in table.fields:
                if field.name in values and field.name not in table.primary_key:
                    books.validate(table_id, record, field.name, values[field.name])
            books.modify(table_id, record, old)
        emulator.state.save()
        return _json(_plain(books.calc_fields(table_id, record)))


@router.post("/companies/{company}/records/{table_id}/delete")
async def delete_record(request: Request, company: str, table_id: int) -> Response:
    """Delete a record as the NAV user (the body names it by its primary-key fields)."""
    document = await _body(request)
    emulator = emulator_of(request)
    with emulator.state.lock:
        books = _books(request, company)
        with books.transaction():
            values = _values(books, table_id, _objects(document)[0])
            books.delete(table_id, _locate(books, table_id, values))
        emulator.state.save()
    return Response(status_code=204)


@router.post("/companies/{company}/sales-documents/{document_type}/{number}/post")
async def post_document(
    request: Request, company: str, document_type: str, number: str
) -> Response:
    """Sales-Post an unposted ``Invoice`` or ``Credit_Memo``; answer the posted document."""
    if document_type not in ("Invoice", "Credit_Memo"):
        raise NavError(Failure.BAD_REQUEST, "The document type is Invoice or Credit_Memo.")
    emulator = emulator_of(request)
    with emulator.state.lock:
        books = _books(request, company)
        with books.transaction():
            posted = books.post(document_type, number)
        emulator.state.save()
        return _json(
            {
                "posted_no": posted["No"],
                "document_type": document_type,
                "pre_assigned_no": posted["Pre_Assigned_No"],
                "amount": posted["Amount"],
                "amount_including_vat": posted["Amount_Including_VAT"],
                "remaining_amount": posted["Remaining_Amount"],
                "record": _plain(posted),
            },
            201,
        )


@router.post("/companies/{company}/posted/{number}/payments")
async def pay(request: Request, company: str, number: str) -> Response:
    """Register a payment ``{"amount": "123.45"}`` (a refund for a credit memo)."""
    document = await _body(request)
    try:
        amount = Decimal(str(document["amount"]))
    except (KeyError, TypeError, InvalidOperation):
        raise NavError(Failure.BAD_REQUEST, 'Send {"amount": "<decimal>"}.') from None
    emulator = emulator_of(request)
    with emulator.state.lock:
        books = _books(request, company)
        with books.transaction():
            posted = books.pay(number, amount)
        emulator.state.save()
        return _json(
            {
                "no": posted["No"],
                "remaining_amount": posted["Remaining_Amount"],
                "closed": posted["Closed"],
            }
        )


@router.post("/companies/{company}/expenses")
async def add_expenses(request: Request, company: str) -> Response:
    """Add TimeLog Expense Entries (an object or a list; ``Entry_No`` is assigned)."""
    document = await _body(request)
    emulator = emulator_of(request)
    with emulator.state.lock:
        books = _books(request, company)
        table_id = books.ids.expense_entry
        with books.transaction():
            created = [
                books.add_expense(_values(books, table_id, item)) for item in _objects(document)
            ]
        emulator.state.save()
        return _json({"records": [_plain(r) for r in created]}, 201)


@router.post("/job-queue/run")
async def run_job_queue(request: Request) -> Response:
    """Run the change handler now (every company, or ``?company=``)."""
    emulator = emulator_of(request)
    wanted = request.query_params.get("company")
    companies = [wanted] if wanted else list(emulator.config.companies)
    for company in companies:
        _books(request, company)
    results = [
        await asyncio.to_thread(run_change_handler, emulator, company) for company in companies
    ]
    return _json({"results": [result.to_json() for result in results]})


@router.get("/job-queue")
async def job_queue(request: Request) -> Response:
    """The job queue entry of every company, with the number of unprocessed changes."""
    emulator = emulator_of(request)
    entries = []
    with emulator.state.lock:
        for company in emulator.config.companies:
            books = emulator.books(company)
            pending = sum(1 for row in books.rows(books.ids.change_log) if not row.get("Processed"))
            entries.append(
                {
                    "company": company,
                    "object": "Tlp Change Handler",
                    **books.company.job_queue.to_json(),
                    "pending": pending,
                }
            )
    return _json({"entries": entries})
