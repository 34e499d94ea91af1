"""Actions on selected documents of a connection, as the console's transfer table has them
(issue 14 items 3 and 8): ignore, let in again, resolve, preview. Each calls the use-case the
console calls (:mod:`ledgerlink.sync.transfers`, :meth:`Engine.preview
<ledgerlink.sync.engine.Engine.preview>`) and needs the finance permission, as the console's
buttons do. Transfer itself is ``POST /connections/{id}/transfers`` (:mod:`.transfers`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool

from ledgerlink.connectors._kit.requestor import encode_json
from ledgerlink.domain.users import Permission
from ledgerlink.store.api_keys import Caller
from ledgerlink.sync import table, transfers
from ledgerlink.sync.engine import Engine
from ledgerlink.web.api.auth import Authenticator
from ledgerlink.web.api.schemas import (
    DocumentPreviewOut,
    DocumentsChangedOut,
    DocumentsIn,
    PlannedRequestOut,
    PreviewIn,
    PreviewOut,
    PreviewStepOut,
    TransferRowOut,
)
from ledgerlink.web.api.services import ApiServices
from ledgerlink.web.api.transfers import ConnectionId, documents_named

#: A use-case that changes the numbered documents of a connection and says how many.
Change = Callable[[Engine, int, Sequence[int]], int]


def _once(numbers: Sequence[int]) -> list[int]:
    """The numbers in the order given, each once (a number named twice is one document)."""
    return list(dict.fromkeys(numbers))


def _changed(
    engine: Engine, connection_id: int, numbers: Sequence[int], change: Change
) -> DocumentsChangedOut:
    numbers = _once(numbers)
    count = documents_named(engine, connection_id, lambda: change(engine, connection_id, numbers))
    wanted = set(numbers)
    rows = [r for r in table.transfer_table(engine, connection_id) if r.invoice.number in wanted]
    return DocumentsChangedOut(changed=count, documents=[TransferRowOut.of(r) for r in rows])


def _ignore(engine: Engine, connection_id: int, numbers: Sequence[int]) -> int:
    return transfers.ignore_documents(engine, connection_id, numbers)


def _let_in(engine: Engine, connection_id: int, numbers: Sequence[int]) -> int:
    return transfers.ignore_documents(engine, connection_id, numbers, ignored=False)


def _preview(engine: Engine, connection_id: int, numbers: Sequence[int]) -> PreviewOut:
    """The engine's preview of each document (in the table's order, as a transfer sends them):
    each step and its exact requests. Nothing is sent and nothing recorded."""
    selected = documents_named(
        engine,
        connection_id,
        lambda: transfers.select_documents(engine, connection_id, _once(numbers)),
    )
    with engine.uow() as uow:
        heads = uow.invoices.heads(selected)
    documents = []
    for invoice_id in selected:
        steps = [
            PreviewStepOut(
                step=step.kind,
                summary=step.summary,
                requests=[
                    PlannedRequestOut(
                        method=request.method,
                        path=request.path,
                        purpose=request.purpose,
                        body=None
                        if request.body is None
                        else encode_json(request.body).decode("utf-8"),
                    )
                    for request in step.requests
                ],
            )
            for step in engine.preview(connection_id, invoice_id)
        ]
        head = heads[invoice_id]
        documents.append(
            DocumentPreviewOut(
                invoice_id=head.id,
                number=head.number,
                title=head.describe(),
                steps=steps,
            )
        )
    return PreviewOut(documents=documents)


def actions_router(services: ApiServices, auth: Authenticator, route_class: type[Any]) -> APIRouter:
    """``/connections/{id}/documents/{ignore,unignore,resolve,preview}``."""
    router = APIRouter(prefix="/connections", route_class=route_class, tags=["Transfers"])
    finance = Depends(auth.require(Permission.TRANSFER))
    engine = services.engine
    unknown = "An unknown number is a 404 naming it, and nothing is changed."

    @router.post(
        "/{connection_id}/documents/ignore",
        response_model=DocumentsChangedOut,
        summary="Ignore documents: they are not transferred (the 'ignored' view)",
        description="A document already in the ERP cannot be ignored (422). " + unknown,
    )
    async def ignore(
        connection_id: ConnectionId, body: DocumentsIn, _caller: Caller = finance
    ) -> DocumentsChangedOut:
        return await run_in_threadpool(_changed, engine, connection_id, body.numbers, _ignore)

    @router.post(
        "/{connection_id}/documents/unignore",
        response_model=DocumentsChangedOut,
        summary="Let ignored documents in again (back to 'non-transferred' or 'failed')",
        description=unknown,
    )
    async def unignore(
        connection_id: ConnectionId, body: DocumentsIn, _caller: Caller = finance
    ) -> DocumentsChangedOut:
        return await run_in_threadpool(_changed, engine, connection_id, body.numbers, _let_in)

    @router.post(
        "/{connection_id}/documents/resolve",
        response_model=DocumentsChangedOut,
        summary="Resolve documents that need attention (the ERP side was fixed or accepted)",
        description="Each must need attention: its last transfer failed or partially failed, "
        "or the totals differ (422 otherwise). " + unknown,
    )
    async def resolve(
        connection_id: ConnectionId, body: DocumentsIn, _caller: Caller = finance
    ) -> DocumentsChangedOut:
        return await run_in_threadpool(
            _changed, engine, connection_id, body.numbers, transfers.resolve_documents
        )

    @router.post(
        "/{connection_id}/documents/preview",
        response_model=PreviewOut,
        summary="Preview transfers: each step and the exact requests it would send",
        description="Nothing is sent to the ERP and nothing recorded; the answer lists, per "
        "document and step, each request's method, path and body exactly as a transfer would "
        "send them now. " + unknown,
    )
    async def preview(
        connection_id: ConnectionId, body: PreviewIn, _caller: Caller = finance
    ) -> PreviewOut:
        return await run_in_threadpool(_preview, engine, connection_id, body.numbers)

    return router
