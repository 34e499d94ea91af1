"""The transfer table page (issue 14 item 3): a connection's posted documents by view, with
the reference product's filters; Transfer / Ignore / Preview / Resolve on the selected rows,
and the progress of a transfer while it runs (htmx polls the integration log).

Everything is decided by :mod:`ledgerlink.sync.transfers` and :mod:`ledgerlink.sync.table`;
this module reads the form, calls them and renders what they return.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ledgerlink.connectors._kit.requestor import decode_json, encode_json
from ledgerlink.domain.entity import require_id
from ledgerlink.domain.errors import NotFoundError, ValidationError
from ledgerlink.domain.invoices import DocumentType
from ledgerlink.domain.transfers import Connection, Transfer, TransferView
from ledgerlink.sync import table, transfers
from ledgerlink.web.auth import Finance, Reader
from ledgerlink.web.form_values import iso_date, whole_number

if TYPE_CHECKING:
    from ledgerlink.web.console import Console
    from ledgerlink.web.jobs import Job

VIEWS = (
    (TransferView.NON_TRANSFERRED, "Non-transferred"),
    (TransferView.TRANSFERRED, "Transferred"),
    (TransferView.IGNORED, "Ignored"),
    (TransferView.FAILED, "Failed"),
    (TransferView.ATTENTION, "Attention"),
)
#: Views whose rows can be sent (pre-selected, as in the reference product).
SENDABLE = (TransferView.NON_TRANSFERRED, TransferView.FAILED, TransferView.ATTENTION)
#: The page's name among the saved filters.
PAGE = "transfers"


@dataclass(frozen=True, slots=True)
class Filters:
    """The table's filters as the page's query string gives them."""

    connection: int | None
    view: TransferView
    customer: str
    document_type: str
    posted_from: str
    posted_to: str
    text: str
    entity: int | None = None  # the legal entity whose connections the picker offers

    def query(self, **override: str) -> str:
        values = {
            "entity": "" if self.entity is None else str(self.entity),
            "connection": "" if self.connection is None else str(self.connection),
            "view": self.view.value,
            "customer": self.customer,
            "type": self.document_type,
            "from": self.posted_from,
            "to": self.posted_to,
            "q": self.text,
            **override,
        }
        return urlencode({k: v for k, v in values.items() if v})


def filters_of(params: Any) -> Filters:
    view_name = params.get("view") or TransferView.NON_TRANSFERRED.value
    try:
        view = TransferView(view_name)
    except ValueError:
        raise ValidationError(f"there is no view '{view_name}'") from None
    document_type = params.get("type") or ""
    if document_type and document_type not in {t.value for t in DocumentType}:
        raise ValidationError(f"'{document_type}' is not a document type")
    return Filters(
        connection=whole_number(params.get("connection"), "the connection"),
        view=view,
        customer=(params.get("customer") or "").strip(),
        document_type=document_type,
        posted_from=params.get("from") or "",
        posted_to=params.get("to") or "",
        text=(params.get("q") or "").strip(),
        entity=whole_number(params.get("entity"), "the legal entity"),
    )


def saved_query(params: Any) -> str:
    """The page's filter as it is saved: read (and refused) as the page reads it."""
    filters = filters_of(params)
    iso_date(filters.posted_from, "'Posted from'")
    iso_date(filters.posted_to, "'Posted to'")
    return filters.query()


@dataclass(frozen=True, slots=True)
class EntityChoice:
    """A legal entity in the page's picker (only those with a connection)."""

    id: int
    code: str
    name: str


def chosen_connection(console: Console, filters: Filters) -> tuple[Connection, list[EntityChoice]]:
    """The connection the page shows and the legal entities to pick from. A connection is a
    legal entity × ERP: with ``entity`` given, the connection must be one of that entity's
    (else its first one is shown: the user just picked another entity); without it, the
    connection asked for (or the first one) decides the entity."""
    with console.uow() as uow:
        found = uow.connections.list()
        entities = uow.legal_entities.list()
    having = {c.legal_entity_id for c in found}
    choices = [EntityChoice(require_id(e), e.code, e.name) for e in entities if e.id in having]
    if filters.entity is None:
        return console.connection(filters.connection), choices
    if filters.entity not in having:
        raise NotFoundError(
            f"legal entity #{filters.entity} has no connection: pick one of the list"
        )
    of_entity = [c for c in found if c.legal_entity_id == filters.entity]
    wanted = [c for c in of_entity if c.id == filters.connection]
    return (wanted or of_entity)[0], choices


def table_filter(
    console: Console, connection_id: int, filters: Filters, *, views: bool
) -> table.TableFilter:
    """The use-case's filter from the page's (a customer by its number)."""
    customer_id = None
    if filters.customer:
        legal_entity = console.connection(connection_id).legal_entity_id
        with console.uow() as uow:
            found = uow.customers.by_number(legal_entity, filters.customer)
        if found is None:
            raise NotFoundError(f"there is no customer {filters.customer}")
        customer_id = found.id
    start = iso_date(filters.posted_from, "'Posted from'")
    end = iso_date(filters.posted_to, "'Posted to'")
    return table.TableFilter(
        views=(filters.view,) if views else (),
        customer_id=customer_id,
        document_type=DocumentType(filters.document_type) if filters.document_type else None,
        period=(start or date.min, end or date.max) if start or end else None,
        text=filters.text,
    )


def add_routes(router: APIRouter, console: Console) -> None:
    engine = console.engine

    @router.get("/transfers", response_class=HTMLResponse, include_in_schema=False)
    def transfer_table(request: Request, principal: Reader) -> HTMLResponse:
        filters = filters_of(request.query_params)
        connection, entities = chosen_connection(console, filters)
        connection_id = require_id(connection)
        filters = replace(filters, connection=connection_id, entity=connection.legal_entity_id)
        everything = table.transfer_table(
            engine, connection_id, table_filter(console, connection_id, filters, views=False)
        )
        counts = Counter(r.view for r in everything)
        counts[TransferView.ATTENTION] = sum(1 for r in everything if r.attention)
        rows = table.transfer_table(
            engine, connection_id, table_filter(console, connection_id, filters, views=True)
        )
        with console.uow() as uow:
            customers = uow.customers.list(connection.legal_entity_id)
            of_entity = {require_id(c) for c in uow.connections.list(connection.legal_entity_id)}
            saved = uow.saved_filters.list(require_id(principal.user), PAGE)
        return console.page(
            request,
            "transfers.html",
            principal,
            connection=connection,
            connections=[c for c in console.connections() if c.id in of_entity],
            entities=entities,
            saved_filters=saved,
            saved_page=PAGE,
            saved_path="/transfers",
            saved_query=filters.query(),
            filters=filters,
            views=VIEWS,
            counts=counts,
            rows=rows,
            customers=customers,
            sendable=filters.view in SENDABLE,
            done=request.query_params.get("done", ""),
        )

    async def selection(request: Request) -> tuple[int, list[int], Filters]:
        form = await request.form()
        connection_id = whole_number(str(form.get("connection") or ""), "the connection")
        if connection_id is None:
            raise ValidationError("no connection given")
        numbers = [whole_number(str(n), "a document number") for n in form.getlist("invoice")]
        chosen = [n for n in numbers if n is not None]
        if not chosen:
            raise ValidationError("select at least one document")
        back = filters_of(form)
        return connection_id, chosen, replace(back, connection=connection_id)

    def back_to(filters: Filters, done: str) -> Response:
        return RedirectResponse(f"/transfers?{filters.query(done=done)}", status_code=303)

    @router.post("/transfers/transfer", include_in_schema=False)
    async def transfer(request: Request, principal: Finance) -> Response:
        connection_id, numbers, _ = await selection(request)
        invoice_ids = await run_in_threadpool(
            transfers.select_documents, engine, connection_id, numbers
        )
        job = console.jobs.start(connection_id, require_id(principal.user), invoice_ids)
        return RedirectResponse(f"/transfers/jobs/{job.id}", status_code=303)

    @router.post("/transfers/ignore", include_in_schema=False)
    async def ignore(request: Request, principal: Finance) -> Response:
        connection_id, numbers, filters = await selection(request)
        count = await run_in_threadpool(transfers.ignore_documents, engine, connection_id, numbers)
        return back_to(filters, f"{count} document(s) ignored")

    @router.post("/transfers/unignore", include_in_schema=False)
    async def unignore(request: Request, principal: Finance) -> Response:
        connection_id, numbers, filters = await selection(request)
        count = await run_in_threadpool(
            lambda: transfers.ignore_documents(engine, connection_id, numbers, ignored=False)
        )
        return back_to(filters, f"{count} document(s) let in again")

    @router.post("/transfers/resolve", include_in_schema=False)
    async def resolve(request: Request, principal: Finance) -> Response:
        connection_id, numbers, filters = await selection(request)
        count = await run_in_threadpool(transfers.resolve_documents, engine, connection_id, numbers)
        return back_to(filters, f"{count} document(s) resolved")

    @router.post("/transfers/preview", response_class=HTMLResponse, include_in_schema=False)
    async def preview(request: Request, principal: Finance) -> HTMLResponse:
        connection_id, numbers, filters = await selection(request)
        previews = await run_in_threadpool(preview_documents, console, connection_id, numbers)
        return console.page(
            request,
            "preview.html",
            principal,
            connection=console.connection(connection_id),
            previews=previews,
            back=f"/transfers?{filters.query()}",
        )

    _job_routes(router, console)


def _job_routes(router: APIRouter, console: Console) -> None:

    @router.get("/transfers/jobs/{job_id}", response_class=HTMLResponse, include_in_schema=False)
    def job_page(request: Request, job_id: str, principal: Reader) -> HTMLResponse:
        job = _job(console, job_id)
        return console.page(
            request,
            "job.html",
            principal,
            connection=console.connection(job.connection_id),
            **progress_of(console, job),
        )

    @router.get(
        "/transfers/jobs/{job_id}/progress", response_class=HTMLResponse, include_in_schema=False
    )
    def job_progress(request: Request, job_id: str, principal: Reader) -> HTMLResponse:
        job = _job(console, job_id)
        return console.page(request, "_progress.html", principal, **progress_of(console, job))


def _job(console: Console, job_id: str) -> Job:
    job = console.jobs.get(job_id)
    if job is None:
        raise NotFoundError(
            "there is no such transfer run in this server (it may have restarted): the "
            "integration log has every transfer"
        )
    return job


@dataclass(frozen=True, slots=True)
class PreviewRequest:
    method: str
    path: str
    purpose: str
    body: str


@dataclass(frozen=True, slots=True)
class PreviewStepView:
    kind: str
    summary: str
    requests: tuple[PreviewRequest, ...]


@dataclass(frozen=True, slots=True)
class DocumentPreview:
    title: str
    steps: tuple[PreviewStepView, ...]


def preview_documents(
    console: Console, connection_id: int, numbers: list[int]
) -> list[DocumentPreview]:
    """The engine's preview of each selected document: what each step would do and the
    exact requests (nothing sent, nothing recorded)."""
    engine = console.engine
    selected = transfers.select_documents(engine, connection_id, numbers)
    with engine.uow() as uow:
        titles = {i: uow.invoices.head(i).describe() for i in selected}
    previews = []
    for invoice_id in selected:
        steps = tuple(
            PreviewStepView(
                step.kind.value,
                step.summary,
                tuple(
                    PreviewRequest(
                        request.method,
                        request.path,
                        request.purpose,
                        json.dumps(
                            decode_json(encode_json(request.body)),
                            indent=2,
                            default=str,
                            ensure_ascii=False,
                        ),
                    )
                    for request in step.requests
                ),
            )
            for step in engine.preview(connection_id, invoice_id)
        )
        previews.append(DocumentPreview(titles[invoice_id], steps))
    return previews


def progress_of(console: Console, job: Job) -> dict[str, Any]:
    """How far a transfer run is: the runner's count and, per document, its newest
    transaction in the integration log since the run started."""
    logged = table.integration_log(
        console.engine, job.connection_id, limit=max(50, 3 * len(job.invoice_ids))
    )
    wanted = set(job.invoice_ids)
    newest: dict[int, Transfer] = {}
    for transfer in logged:  # newest first
        started = transfer.started_at
        if (
            transfer.invoice_id in wanted
            and transfer.invoice_id not in newest
            and (started is None or _aware(started) >= job.started_at.replace(microsecond=0))
        ):
            newest[transfer.invoice_id] = transfer
    with console.uow() as uow:
        titles = {i: uow.invoices.head(i).describe() for i in job.invoice_ids}
    documents = [(titles[i], newest.get(i)) for i in job.invoice_ids]
    return {"job": job, "documents": documents}


def _aware(moment: datetime) -> datetime:
    # SQLite gives naive datetimes back; every stored one is UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
