"""The reconciliation page (issue 14 item 7): a connection's PSA totals against the ERP's over
a period of posting dates, by status and by customer, every difference with a link to its
document's log (or its row in the transfer table when it was never transferred), and the
same report as CSV. Everything is computed by :mod:`ledgerlink.sync.reconcile`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ledgerlink.domain.entity import require_id
from ledgerlink.domain.transfers import TransferView
from ledgerlink.sync import reconcile
from ledgerlink.sync.reconcile import DocumentLine, ReconcileStatus
from ledgerlink.web.auth import Reader
from ledgerlink.web.form_values import iso_date, whole_number

if TYPE_CHECKING:
    from ledgerlink.web.console import Console


@dataclass(frozen=True, slots=True)
class ReconcileForm:
    """The page's query: connection and period (``from``/``to`` as typed)."""

    connection: int | None
    start: str
    end: str

    def query(self, **override: str) -> str:
        values = {
            "connection": "" if self.connection is None else str(self.connection),
            "from": self.start,
            "to": self.end,
            **override,
        }
        return urlencode({k: v for k, v in values.items() if v})

    def period(self) -> reconcile.Period:
        return reconcile.Period(
            start=iso_date(self.start, "'From'"), end=iso_date(self.end, "'To'")
        )


def form_of(params: Any) -> ReconcileForm:
    return ReconcileForm(
        connection=whole_number(params.get("connection"), "the connection"),
        start=(params.get("from") or "").strip(),
        end=(params.get("to") or "").strip(),
    )


def document_link(connection_id: int, line: DocumentLine) -> str:
    """Where a document's story is: its newest transaction in the log, or — never
    transferred — its row in the transfer table."""
    facts = line.facts
    if facts.transfer_id is not None:
        return "/log?" + urlencode({"connection": connection_id, "transaction": facts.transfer_id})
    view = facts.view if facts.view is not TransferView.ATTENTION else TransferView.FAILED
    return "/transfers?" + urlencode(
        {"connection": connection_id, "view": view.value, "q": facts.number}
    )


def _report(console: Console, form: ReconcileForm) -> reconcile.Reconciliation:
    connection_id = require_id(console.connection(form.connection))
    return reconcile.reconciliation(console.uow, connection_id, form.period())


def add_routes(router: APIRouter, console: Console) -> None:
    @router.get("/reconcile", response_class=HTMLResponse, include_in_schema=False)
    def reconcile_page(request: Request, principal: Reader) -> HTMLResponse:
        form = form_of(request.query_params)
        report = _report(console, form)
        form = ReconcileForm(report.connection_id, form.start, form.end)
        return console.page(
            request,
            "reconcile.html",
            principal,
            connection=console.connection(report.connection_id),
            connections=console.connections(),
            form=form,
            report=report,
            statuses=tuple(ReconcileStatus),
            link=lambda line: document_link(report.connection_id, line),
        )

    @router.get("/reconcile.csv", include_in_schema=False)
    def reconcile_export(request: Request, principal: Reader) -> Response:
        report = _report(console, form_of(request.query_params))
        return Response(
            reconcile.to_csv([report]),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": (
                    f'attachment; filename="reconciliation-connection-{report.connection_id}.csv"'
                ),
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )
