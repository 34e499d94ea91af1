"""The customers page (issue 14 item 6): a connection's PSA customers with their link state
(linked / not linked, as the reference product's green check and black dot), link to an ERP
customer by number, unlink, import from the ERP, and each customer's transfers (the transfer
table filtered by the customer). Finance acts; a viewer reads.

The rules live in :mod:`ledgerlink.sync.connections` (``ledgerlink sync customers`` imports
with the same use-case).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ledgerlink.domain.entity import require_id
from ledgerlink.domain.errors import ValidationError
from ledgerlink.sync import connections
from ledgerlink.sync.registry import erp_title
from ledgerlink.web.auth import Finance, Reader
from ledgerlink.web.setup_page import erp_call

if TYPE_CHECKING:
    from ledgerlink.web.console import Console


def add_routes(router: APIRouter, console: Console) -> None:
    engine = console.engine

    def back(connection_id: int, done: str) -> Response:
        return RedirectResponse(
            f"/connections/{connection_id}/customers?{urlencode({'done': done})}",
            status_code=303,
        )

    def erp_of(connection_id: int) -> str:
        return erp_title(console.connection(connection_id).erp)

    def render(request: Request, principal: Reader, connection_id: int | None) -> HTMLResponse:
        connection = console.connection(connection_id)
        links = connections.customer_links(engine, require_id(connection))
        return console.page(
            request,
            "customers.html",
            principal,
            connection=connection,
            connections=console.connections(),
            links=links,
            linked=sum(1 for link in links if link.linked),
            done=request.query_params.get("done", ""),
        )

    @router.get("/customers", response_class=HTMLResponse, include_in_schema=False)
    def customers_of_first(request: Request, principal: Reader) -> Response:
        chosen = request.query_params.get("connection")
        if chosen:
            if not chosen.isdigit():
                raise ValidationError(f"the connection must be a number, not '{chosen}'")
            return RedirectResponse(f"/connections/{chosen}/customers", status_code=303)
        return render(request, principal, None)

    @router.get(
        "/connections/{connection_id}/customers",
        response_class=HTMLResponse,
        include_in_schema=False,
    )
    def customers(request: Request, connection_id: int, principal: Reader) -> HTMLResponse:
        return render(request, principal, connection_id)

    @router.post("/connections/{connection_id}/customers/link", include_in_schema=False)
    async def link(
        connection_id: int,
        principal: Finance,
        customer: Annotated[str, Form()] = "",
        erp_number: Annotated[str, Form()] = "",
    ) -> Response:
        if not customer:
            raise ValidationError("choose the customer to link")
        found = await run_in_threadpool(
            erp_call,
            lambda: connections.link_customer(engine, connection_id, customer, erp_number),
            erp_of(connection_id),
        )
        return back(
            connection_id, f"customer {customer} linked to {found.number} {found.name}".strip()
        )

    @router.post("/connections/{connection_id}/customers/unlink", include_in_schema=False)
    async def unlink(
        connection_id: int, principal: Finance, customer: Annotated[str, Form()] = ""
    ) -> Response:
        if not customer:
            raise ValidationError("choose the customer to unlink")
        removed = await run_in_threadpool(
            connections.unlink_customer, engine, connection_id, customer
        )
        return back(
            connection_id,
            f"customer {customer} unlinked" if removed else f"customer {customer} was not linked",
        )

    @router.post("/connections/{connection_id}/customers/import", include_in_schema=False)
    async def import_customers(connection_id: int, principal: Finance) -> Response:
        report = await run_in_threadpool(
            erp_call,
            lambda: connections.import_customers(engine, connection_id),
            erp_of(connection_id),
        )
        said = (
            f"customers imported: {len(report.linked)} linked, {len(report.created)} created, "
            f"{report.unchanged} unchanged, {len(report.rejected)} not imported"
        )
        rejected = "; ".join(f"{number}: {reason}" for number, reason in report.rejected[:10])
        return back(connection_id, f"{said} ({rejected})" if rejected else said)
