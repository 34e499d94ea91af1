"""The integration log page (issue 14 item 4): one row per transaction (a transfer), green /
yellow / red by status, expanding (htmx) to its steps with the ERP's own text and the hint;
filters (connection, transaction number, period, full text), status toggles, CSV export.

The transactions come from :func:`ledgerlink.sync.table.integration_log` (newest first, the
newest :data:`WINDOW` of the connection); the filters narrow what it returned.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ledgerlink.domain.entity import require_id
from ledgerlink.domain.errors import NotFoundError, ValidationError
from ledgerlink.domain.transfers import Transfer, TransferStatus, TransferStep
from ledgerlink.sync import table
from ledgerlink.web.auth import Reader

if TYPE_CHECKING:
    from ledgerlink.web.console import Console

#: How many of a connection's newest transactions the page searches.
WINDOW = 1000
STATUSES = (
    (TransferStatus.PENDING, "Pending"),
    (TransferStatus.FAILED, "Failed"),
    (TransferStatus.PARTIALLY_FAILED, "Partially failed"),
    (TransferStatus.SUCCESSFUL, "Successful"),
)
#: A CSV cell starting with one of these is a formula to a spreadsheet: an ERP's error text
#: must never run as one (OWASP "CSV injection").
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class LogFilters:
    connection: int | None
    transaction: int | None
    posted_from: date | None  # the day the transaction started
    posted_to: date | None
    text: str
    statuses: tuple[TransferStatus, ...]

    def query(self) -> str:
        pairs = [
            ("connection", "" if self.connection is None else str(self.connection)),
            ("transaction", "" if self.transaction is None else str(self.transaction)),
            ("from", self.posted_from.isoformat() if self.posted_from else ""),
            ("to", self.posted_to.isoformat() if self.posted_to else ""),
            ("q", self.text),
        ]
        pairs += [("status", s.value) for s in self.statuses]
        return urlencode([(k, v) for k, v in pairs if v])


def _int(value: str | None, what: str) -> int | None:
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise ValidationError(f"{what} must be a number, not '{value}'") from None


def _date(value: str | None, what: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{what} must be a date (YYYY-MM-DD), not '{value}'") from None


def log_filters(params: Any) -> LogFilters:
    chosen = params.getlist("status")
    statuses = []
    for name in chosen:
        try:
            statuses.append(TransferStatus(name))
        except ValueError:
            raise ValidationError(f"there is no status '{name}'") from None
    return LogFilters(
        connection=_int(params.get("connection"), "the connection"),
        transaction=_int(params.get("transaction"), "the transaction number"),
        posted_from=_date(params.get("from"), "'From'"),
        posted_to=_date(params.get("to"), "'To'"),
        text=(params.get("q") or "").strip(),
        statuses=tuple(statuses) or tuple(s for s, _ in STATUSES),
    )


@dataclass(frozen=True, slots=True)
class LogEntry:
    """A transaction of the log with the document it carried."""

    transfer: Transfer
    document: str  # e.g. "invoice 1001"
    number: int | None
    customer: str


def log_entries(console: Console, filters: LogFilters) -> tuple[int, list[LogEntry]]:
    """The connection's transactions that pass the filters (connection id, entries)."""
    connection = console.connection(filters.connection)
    connection_id = require_id(connection)
    logged = table.integration_log(console.engine, connection_id, limit=WINDOW)
    with console.uow() as uow:
        documents = {require_id(i): i for i in uow.invoices.list(connection.legal_entity_id)}
        customers = {require_id(c): c for c in uow.customers.list(connection.legal_entity_id)}
    entries = []
    needle = filters.text.casefold()
    for transfer in logged:
        if transfer.status not in filters.statuses:
            continue
        if filters.transaction is not None and transfer.id != filters.transaction:
            continue
        day = _day(transfer.started_at)
        if filters.posted_from and (day is None or day < filters.posted_from):
            continue
        if filters.posted_to and (day is None or day > filters.posted_to):
            continue
        invoice = documents.get(transfer.invoice_id)
        customer = customers.get(invoice.customer_id) if invoice else None
        entry = LogEntry(
            transfer=transfer,
            document=invoice.describe() if invoice else f"document #{transfer.invoice_id}",
            number=invoice.number if invoice else None,
            customer=f"{customer.number} {customer.name}" if customer else "",
        )
        if needle and needle not in _searchable(entry).casefold():
            continue
        entries.append(entry)
    return connection_id, entries


def _day(moment: datetime | None) -> date | None:
    if moment is None:
        return None
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).date()


def _searchable(entry: LogEntry) -> str:
    parts = [str(entry.transfer.id), entry.document, entry.customer, entry.transfer.message]
    for step in entry.transfer.steps:
        parts += [step.kind.value, step.message, step.erp_text, step.hint, step.external_id]
    return "\n".join(parts)


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA) else text


def log_csv(entries: list[LogEntry]) -> str:
    """One line per step (a transaction without steps gets one line), UTC times."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "transaction",
            "document",
            "customer",
            "status",
            "started (UTC)",
            "finished (UTC)",
            "step",
            "step status",
            "message",
            "ERP text",
            "hint",
        ]
    )
    for entry in entries:
        transfer = entry.transfer
        head = [
            transfer.id,
            entry.document,
            entry.customer,
            transfer.status.value,
            _utc(transfer.started_at),
            _utc(transfer.finished_at),
        ]
        steps: list[TransferStep | None] = [*transfer.steps] or [None]
        for step in steps:
            tail = (
                ["", "", transfer.message, "", ""]
                if step is None
                else [step.kind.value, step.status.value, step.message, step.erp_text, step.hint]
            )
            writer.writerow([_cell(v) for v in head + tail])
    return out.getvalue()


def _utc(moment: datetime | None) -> str:
    if moment is None:
        return ""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="seconds")


def add_routes(router: APIRouter, console: Console) -> None:

    @router.get("/log", response_class=HTMLResponse, include_in_schema=False)
    def log_page(request: Request, principal: Reader) -> HTMLResponse:
        filters = log_filters(request.query_params)
        connection_id, entries = log_entries(console, filters)
        filters = LogFilters(
            connection_id,
            filters.transaction,
            filters.posted_from,
            filters.posted_to,
            filters.text,
            filters.statuses,
        )
        return console.page(
            request,
            "log.html",
            principal,
            connection=console.connection(connection_id),
            connections=console.connections(),
            filters=filters,
            statuses=STATUSES,
            entries=entries,
            window=WINDOW,
        )

    @router.get("/log.csv", include_in_schema=False)
    def log_export(request: Request, principal: Reader) -> Response:
        filters = log_filters(request.query_params)
        connection_id, entries = log_entries(console, filters)
        return Response(
            log_csv(entries),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": (
                    f'attachment; filename="integration-log-connection-{connection_id}.csv"'
                ),
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    @router.get("/log/{transfer_id}/steps", response_class=HTMLResponse, include_in_schema=False)
    def log_steps(request: Request, transfer_id: int, principal: Reader) -> HTMLResponse:
        with console.uow() as uow:
            try:
                transfer = uow.transfers.get(transfer_id)
            except NotFoundError:
                raise NotFoundError(f"there is no transaction {transfer_id}") from None
        return console.page(request, "_steps.html", principal, transfer=transfer)
