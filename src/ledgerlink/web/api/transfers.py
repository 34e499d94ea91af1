"""Transfer state out: connections, the transfer table and the integration log (a page at a
time, :mod:`.pagination`); and starting transfers of selected documents (queued for the
workers: 202, with where to poll — :func:`_start` says why)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from ledgerlink.domain.entity import require_id
from ledgerlink.domain.errors import NotFoundError, ValidationError
from ledgerlink.domain.invoices import DocumentType
from ledgerlink.domain.parties import plain_text
from ledgerlink.domain.transfers import Transfer, TransferStatus, TransferView
from ledgerlink.domain.users import Permission
from ledgerlink.store.api_keys import Caller
from ledgerlink.sync import table, transfers
from ledgerlink.sync.engine import Engine
from ledgerlink.web.api.auth import Authenticator
from ledgerlink.web.api.pagination import (
    DEFAULT_LIMIT,
    LINK_HEADER,
    Cursor,
    Limit,
    cursor_parts,
    next_link,
)
from ledgerlink.web.api.schemas import (
    ConnectionOut,
    TransferOut,
    TransferPage,
    TransferRequestIn,
    TransferRowOut,
    TransferRowPage,
    TransfersStartedOut,
)
from ledgerlink.web.api.services import ApiServices

ConnectionId = Annotated[int, Path(ge=1, le=2**31 - 1)]
TransferId = Annotated[int, Path(ge=1, le=2**31 - 1)]
T = TypeVar("T")
_FREE_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"  # no control characters (PostgreSQL: no NUL)


def transfer_href(connection_id: int, transfer_id: int) -> str:
    return f"/api/v1/connections/{connection_id}/transfers/{transfer_id}"


def documents_named(engine: Engine, connection_id: int, work: Callable[[], T]) -> T:
    """``work``'s answer; a document it does not find (the connection was checked first) is a
    404 that says where the numbers are."""
    with engine.uow() as uow:
        uow.connections.get(connection_id)
    try:
        return work()
    except NotFoundError as error:
        raise NotFoundError(
            f"{error}; GET /api/v1/connections/{connection_id}/documents lists the posted "
            "documents and their numbers"
        ) from None


def _described(engine: Engine, connection_id: int, found: list[Transfer]) -> list[TransferOut]:
    """Transfers as answered: each with its document's number and its href."""
    with engine.uow() as uow:
        heads = uow.invoices.heads({t.invoice_id for t in found})
    return [
        TransferOut.of(
            t,
            heads[t.invoice_id].number if t.invoice_id in heads else None,
            transfer_href(connection_id, require_id(t)),
        )
        for t in found
    ]


def _connections(engine: Engine) -> list[ConnectionOut]:
    with engine.uow() as uow:
        return [
            ConnectionOut(
                id=require_id(c),
                legal_entity_id=c.legal_entity_id,
                erp=c.erp,
                company_name=c.company_name,
                active=c.active,
                automatic_transfer=c.automatic_transfer,
                verified_at=c.verified_at,
            )
            for c in uow.connections.list()
        ]


def _rows(
    engine: Engine, connection_id: int, customer: str | None, where: table.TableFilter
) -> list[table.TransferRow]:
    with engine.uow() as uow:
        connection = uow.connections.get(connection_id)
        if customer:
            found = uow.customers.by_number(connection.legal_entity_id, customer)
            if found is None:
                raise NotFoundError(
                    f"there is no customer {customer}; give a customer_number of the table's rows"
                )
            where = replace(where, customer_id=found.id)
    return table.transfer_table(engine, connection_id, where)


#: Where an unnumbered row would sort (posted documents have numbers; the store puts any
#: without one last).
_NO_NUMBER = 2**63


def _table_key(row: table.TransferRow) -> tuple[int, int]:
    """The table's order: document number, then id (as the store lists them)."""
    number = row.invoice.number
    return (_NO_NUMBER if number is None else number, require_id(row.invoice))


def _table_page(
    engine: Engine,
    connection_id: int,
    *,
    customer: str | None,
    where: table.TableFilter,
    after: tuple[int, ...] | None,
    limit: int,
) -> tuple[list[TransferRowOut], str | None]:
    """A page of the table after the row keyed ``after``, and the cursor of the following
    page (None: this is the last). The table is built whole by the use-case (its views need
    every document's transfers), so a page is a slice of it by key."""
    rows = sorted(_rows(engine, connection_id, customer, where), key=_table_key)
    if after is not None:
        rows = [r for r in rows if _table_key(r) > after]
    page = rows[:limit]
    following = None
    if len(rows) > limit:
        number, invoice_id = _table_key(page[-1])
        following = f"{number}.{invoice_id}"
    return [TransferRowOut.of(r) for r in page], following


def _log_page(
    engine: Engine,
    connection_id: int,
    *,
    number: int | None,
    before: int | None,
    limit: int,
) -> tuple[list[TransferOut], str | None]:
    """A page of the log (newest first): the transfers older than the cursor — the last
    transfer the previous page answered — and the cursor of the following page (None: this
    is the last). One query per page however deep, and transfers started meanwhile (newer,
    so above the cursor) neither repeat nor shift a row."""
    invoice_id = None
    with engine.uow() as uow:
        connection = uow.connections.get(connection_id)
        if number is not None:
            found = uow.invoices.by_number(connection.legal_entity_id, number)
            if found is None:
                raise NotFoundError(
                    f"there is no document {number}; GET /api/v1/connections/{connection_id}"
                    "/documents lists the posted documents and their numbers"
                )
            invoice_id = found.id
    logged = table.integration_log(
        engine,
        connection_id,
        limit=limit + 1,
        where=table.LogFilter(invoice_id=invoice_id, before=before),
    )
    page = logged[:limit]
    following = str(require_id(page[-1])) if len(logged) > limit else None
    return _described(engine, connection_id, page), following


def _one(engine: Engine, connection_id: int, transfer_id: int) -> TransferOut:
    with engine.uow() as uow:
        uow.connections.get(connection_id)
        found = uow.transfers.get(transfer_id)
    if found.connection_id != connection_id:
        raise NotFoundError(f"connection {connection_id} has no transfer {transfer_id}")
    return _described(engine, connection_id, [found])[0]


def _start(services: ApiServices, connection_id: int, numbers: list[int]) -> TransfersStartedOut:
    """Start the documents' transfers and put them on the durable queue: the API answers 202
    with each transfer's href, and does not run them the way the console's jobs do.

    Why: a transfer can take minutes (an ERP's rate limit, a ``Retry-After`` deferral, a slow
    FinancialHost agent), longer than an HTTP client, proxy or load balancer holds a request
    open. The console's jobs live in one server process's memory (their id means nothing after
    a restart or to another process), while a started transfer is a row anyone may poll: its
    href, the log and the table show its state from the moment it starts, whichever worker runs
    it. A client that retries the POST (with the same Idempotency-Key it gets the same transfer
    ids; without one, a pending or successful transfer is given back, not started again) cannot
    send a document twice. The same use-cases run as in the console: ``select_documents``
    picks the documents and the engine starts them; the queue (the console's own runner under
    ``ledgerlink serve``) sends them.
    """
    engine = services.engine
    selected = documents_named(
        engine,
        connection_id,
        lambda: transfers.select_documents(engine, connection_id, numbers or None),
    )
    if not selected:
        raise ValidationError(
            "nothing to transfer: every posted document is transferred or ignored"
        )
    started = engine.start_transfers(connection_id, selected)
    waiting = [t for t in started if t.status is TransferStatus.PENDING]
    queued = not waiting
    if waiting and services.submitter is not None:
        queued = services.submitter.submit(waiting) == len(waiting)
    return TransfersStartedOut(queued=queued, transfers=_described(engine, connection_id, started))


def transfers_router(
    services: ApiServices, auth: Authenticator, route_class: type[Any]
) -> APIRouter:
    """``/connections`` and what hangs under it."""
    router = APIRouter(prefix="/connections", route_class=route_class, tags=["Transfers"])
    read = Depends(auth.require(Permission.READ))
    transfer = Depends(auth.require(Permission.TRANSFER))
    engine = services.engine

    @router.get("", response_model=list[ConnectionOut], summary="The connections to ERPs")
    async def list_connections(_caller: Caller = read) -> list[ConnectionOut]:
        return await run_in_threadpool(_connections, engine)

    @router.get(
        "/{connection_id}/documents",
        response_model=TransferRowPage,
        summary="The transfer table: posted documents and where each stands in the ERP",
        description="Ordered by document number, a page at a time: follow `next` (or the "
        "`Link` header) until it is null.",
        responses={200: {"headers": LINK_HEADER}},
    )
    async def transfer_table(
        request: Request,
        response: Response,
        connection_id: ConnectionId,
        *,
        view: Annotated[list[TransferView] | None, Query(description="Repeat for several.")] = None,
        customer: Annotated[
            str | None, Query(max_length=100, pattern=_FREE_TEXT, description="Customer number.")
        ] = None,
        document_type: Annotated[DocumentType | None, Query(alias="type")] = None,
        posted_from: date | None = None,
        posted_to: date | None = None,
        text: Annotated[str, Query(max_length=200, pattern=_FREE_TEXT)] = "",
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
        _caller: Caller = read,
    ) -> TransferRowPage:
        after = cursor_parts(cursor, 2)
        period = None
        if posted_from or posted_to:
            period = (posted_from or date.min, posted_to or date.max)
        where = table.TableFilter(
            views=tuple(view or ()),
            document_type=document_type,
            period=period,
            text=plain_text(text, "text"),
        )
        items, following = await run_in_threadpool(
            _table_page,
            engine,
            connection_id,
            customer=customer,
            where=where,
            after=after,
            limit=limit,
        )
        return TransferRowPage(
            items=items, limit=limit, next=next_link(request, response, following)
        )

    @router.get(
        "/{connection_id}/transfers",
        response_model=TransferPage,
        summary="The integration log: transfers (newest first) with their steps",
        description="Newest first, a page at a time: follow `next` (or the `Link` header) "
        "until it is null. Transfers started while a client walks the log do not shift it.",
        responses={200: {"headers": LINK_HEADER}},
    )
    async def integration_log(
        request: Request,
        response: Response,
        connection_id: ConnectionId,
        *,
        number: Annotated[
            int | None, Query(ge=1, le=2**53, description="Only this document (its number).")
        ] = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
        _caller: Caller = read,
    ) -> TransferPage:
        before = cursor_parts(cursor, 1)
        items, following = await run_in_threadpool(
            _log_page,
            engine,
            connection_id,
            number=number,
            before=None if before is None else before[0],
            limit=limit,
        )
        return TransferPage(items=items, limit=limit, next=next_link(request, response, following))

    @router.get(
        "/{connection_id}/transfers/{transfer_id}",
        response_model=TransferOut,
        summary="One transfer with its steps (poll it while it is pending)",
    )
    async def get_transfer(
        connection_id: ConnectionId, transfer_id: TransferId, _caller: Caller = read
    ) -> TransferOut:
        return await run_in_threadpool(_one, engine, connection_id, transfer_id)

    @router.post(
        "/{connection_id}/transfers",
        status_code=202,
        response_model=TransfersStartedOut,
        summary="Transfer posted documents: started and queued for the workers",
        description="Each document gets a transfer (one already pending or successful is "
        "given back, not started again). The answer is at once (202): poll each transfer's "
        "href, or the log, until it is no longer pending. Location names the transfer when "
        "there is one, else the log.",
    )
    async def start_transfers(
        connection_id: ConnectionId,
        body: TransferRequestIn,
        response: Response,
        _caller: Caller = transfer,
    ) -> TransfersStartedOut:
        answer = await run_in_threadpool(_start, services, connection_id, body.numbers)
        only = answer.transfers[0].href if len(answer.transfers) == 1 else None
        response.headers["Location"] = only or f"/api/v1/connections/{connection_id}/transfers"
        return answer

    return router
