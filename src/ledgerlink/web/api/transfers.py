"""Transfer state out: connections, the transfer table, the integration log; and starting
transfers of selected documents (queued for the workers: 202, with where to poll)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
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
from ledgerlink.web.api.schemas import (
    ConnectionOut,
    TransferOut,
    TransferRequestIn,
    TransferRowOut,
    TransfersStartedOut,
)
from ledgerlink.web.api.services import ApiServices

ConnectionId = Annotated[int, Path(ge=1, le=2**31 - 1)]
TransferId = Annotated[int, Path(ge=1, le=2**31 - 1)]
_FREE_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"  # no control characters (PostgreSQL: no NUL)


def transfer_href(connection_id: int, transfer_id: int) -> str:
    return f"/api/v1/connections/{connection_id}/transfers/{transfer_id}"


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


def _table(
    engine: Engine, connection_id: int, customer: str | None, where: table.TableFilter
) -> list[TransferRowOut]:
    with engine.uow() as uow:
        connection = uow.connections.get(connection_id)
        if customer:
            found = uow.customers.by_number(connection.legal_entity_id, customer)
            if found is None:
                raise NotFoundError(f"there is no customer {customer}")
            where = replace(where, customer_id=found.id)
    return [TransferRowOut.of(r) for r in table.transfer_table(engine, connection_id, where)]


def _log(engine: Engine, connection_id: int, number: int | None, limit: int) -> list[TransferOut]:
    invoice_id = None
    with engine.uow() as uow:
        connection = uow.connections.get(connection_id)
        if number is not None:
            found = uow.invoices.by_number(connection.legal_entity_id, number)
            if found is None:
                raise NotFoundError(f"there is no document {number}")
            invoice_id = found.id
    logged = table.integration_log(engine, connection_id, invoice_id=invoice_id, limit=limit)
    return _described(engine, connection_id, logged)


def _one(engine: Engine, connection_id: int, transfer_id: int) -> TransferOut:
    with engine.uow() as uow:
        uow.connections.get(connection_id)
        found = uow.transfers.get(transfer_id)
    if found.connection_id != connection_id:
        raise NotFoundError(f"connection {connection_id} has no transfer {transfer_id}")
    return _described(engine, connection_id, [found])[0]


def _start(services: ApiServices, connection_id: int, numbers: list[int]) -> TransfersStartedOut:
    engine = services.engine
    with engine.uow() as uow:
        uow.connections.get(connection_id)
    selected = transfers.select_documents(engine, connection_id, numbers or None)
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
        response_model=list[TransferRowOut],
        summary="The transfer table: posted documents and where each stands in the ERP",
    )
    async def transfer_table(
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
        _caller: Caller = read,
    ) -> list[TransferRowOut]:
        period = None
        if posted_from or posted_to:
            period = (posted_from or date.min, posted_to or date.max)
        where = table.TableFilter(
            views=tuple(view or ()),
            document_type=document_type,
            period=period,
            text=plain_text(text, "text"),
        )
        return await run_in_threadpool(_table, engine, connection_id, customer, where)

    @router.get(
        "/{connection_id}/transfers",
        response_model=list[TransferOut],
        summary="The integration log: transfers (newest first) with their steps",
    )
    async def integration_log(
        connection_id: ConnectionId,
        number: Annotated[
            int | None, Query(ge=1, le=2**53, description="Only this document (its number).")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        _caller: Caller = read,
    ) -> list[TransferOut]:
        return await run_in_threadpool(_log, engine, connection_id, number, limit)

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
