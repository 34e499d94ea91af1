"""The integration log page (issue 14 item 4): one row per transaction (a transfer), green /
yellow / red by status, expanding (htmx) to its steps with the ERP's own text and the hint;
filters (connection, transaction number, period, full text), status toggles, CSV export.

The filters are the use-case's (:func:`ledgerlink.sync.table.log_entries`, which the JSON API
calls too): the page reads them from the query string and shows the newest :data:`WINDOW`
transactions that pass them.
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
from ledgerlink.domain.transfers import TransferStatus, TransferStep
from ledgerlink.sync import table
from ledgerlink.sync.table import LogEntry, LogFilter
from ledgerlink.web.auth import Reader
from ledgerlink.web.form_values import iso_date, whole_number

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
#: The page's name among the saved filters.
PAGE = "log"
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

    def where(self) -> LogFilter:
        """The use-case's filter (every status chosen: no status filter)."""
        period = None
        if self.posted_from or self.posted_to:
            period = (self.posted_from or date.min, self.posted_to or date.max)
        everything = set(self.statuses) == {s for s, _ in STATUSES}
        return LogFilter(
            transaction_id=self.transaction,
            period=period,
            text=self.text,
            statuses=() if everything else self.statuses,
        )


def log_filters(params: Any) -> LogFilters:
    chosen = params.getlist("status")
    statuses = []
    for name in chosen:
        try:
            statuses.append(TransferStatus(name))
        except ValueError:
            raise ValidationError(f"there is no status '{name}'") from None
    filters = LogFilters(
        connection=whole_number(params.get("connection"), "the connection"),
        transaction=whole_number(params.get("transaction"), "the transaction number"),
        posted_from=iso_date(params.get("from"), "'From'"),
        posted_to=iso_date(params.get("to"), "'To'"),
        text=(params.get("q") or "").strip(),
        statuses=tuple(statuses) or tuple(s for s, _ in STATUSES),
    )
    filters.where()  # refuses what the use-case would (a period that ends before it starts)
    return filters


def saved_query(params: Any) -> str:
    """The page's filter as it is saved: read (and refused) as the page reads it."""
    return log_filters(params).query()


def log_entries(console: Console, filters: LogFilters) -> tuple[int, list[LogEntry]]:
    """The connection's transactions that pass the filters (connection id, entries): the
    newest :data:`WINDOW` of them, found by the use-case."""
    connection_id = require_id(console.connection(filters.connection))
    return connection_id, table.log_entries(
        console.engine, connection_id, filters.where(), limit=WINDOW
    )


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
        with console.uow() as uow:
            saved = uow.saved_filters.list(require_id(principal.user), PAGE)
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
            saved_filters=saved,
            saved_page=PAGE,
            saved_path="/log",
            saved_query=filters.query(),
            done=request.query_params.get("done", ""),
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
