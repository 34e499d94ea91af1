"""What the company's users do in Fortnox, as admin routes (never faulted, journaled or
rate-limited): book an invoice, register a payment, lock a period, change settings, withdraw
the integration's consent or let its access tokens run out."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from ledgerlink.emulators._kit.jsonio import loads
from ledgerlink.emulators.fortnox import errors
from ledgerlink.emulators.fortnox.invoices import book, pay, render
from ledgerlink.emulators.fortnox.wire import company, emulator, public, reply

__all__ = ["router"]

router = APIRouter(prefix="/_emulator")


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        document = loads(raw) if raw.strip() else {}
    except ValueError:
        raise errors.invalid("The body must be JSON.", errors.BAD_JSON) from None
    if not isinstance(document, dict):
        raise errors.invalid("The body must be a JSON object.", errors.NO_DATA)
    return document


def _invoice(request: Request, number: str) -> dict[str, Any]:
    invoice = company(request).get("invoices", number)
    if invoice is None:
        raise errors.not_found("fakturan")
    return invoice


@router.get("/invoices")
async def every_invoice(request: Request) -> Response:
    """Every invoice, oldest first, as the user's invoice list shows them (no paging)."""
    books = company(request)
    ordered = sorted(books.table("invoices").values(), key=lambda i: int(i["DocumentNumber"]))
    return reply({"Invoices": [render(request, invoice) for invoice in ordered]})


@router.post("/invoices/{number}/bookkeep")
async def bookkeep(request: Request, number: str) -> Response:
    """Book an invoice as the ERP user would (the same rules as the API's bookkeep)."""
    with emulator(request).state.change():
        invoice = _invoice(request, number)
        book(company(request), invoice)
    return reply({"Invoice": render(request, invoice)})


@router.post("/invoices/{number}/payments")
async def register_payment(request: Request, number: str) -> Response:
    """``{"amount": "123.45", "date": "2026-03-01"}``; no amount pays the whole balance."""
    body = await _body(request)
    books = company(request)
    with emulator(request).state.change():
        invoice = _invoice(request, number)
        amount = Decimal(str(body.get("amount", invoice["Balance"])))
        day = str(body.get("date") or books.settings.current_date().isoformat())
        payment = pay(books, invoice, amount, day)
    return reply({"InvoicePayment": public(payment), "Invoice": render(request, invoice)})


@router.put("/lockedperiod")
async def lock_period(request: Request) -> Response:
    """``{"EndDate": "2026-01-31"}`` locks up to and including that day; ``null`` unlocks."""
    body = await _body(request)
    end = body.get("EndDate")
    with emulator(request).state.change():
        company(request).settings.locked_until = str(end) if end else None
    return reply({"LockedPeriod": {"EndDate": end} if end else {}})


_SETTINGS = {"easyVat": "easy_vat", "lockedUntil": "locked_until", "today": "today"}


@router.get("/settings")
async def read_settings(request: Request) -> Response:
    settings = company(request).settings
    return reply({api: getattr(settings, name) for api, name in _SETTINGS.items()})


@router.put("/settings")
async def change_settings(request: Request) -> Response:
    """``{"easyVat": true, "lockedUntil": null, "today": "2026-03-15"}`` (any of them)."""
    body = await _body(request)
    strange = sorted(set(body) - set(_SETTINGS))
    if strange:
        raise errors.invalid(f"Unknown settings: {', '.join(strange)}", errors.BAD_FIELD_NAME)
    settings = company(request).settings
    with emulator(request).state.change():
        for api, value in body.items():
            setattr(settings, _SETTINGS[api], value)
    return await read_settings(request)


@router.post("/consents/revoke")
async def revoke_consent(request: Request) -> Response:
    """The customer removes the integration in Fortnox: every token ends."""
    return reply({"grantsEnded": emulator(request).oauth.revoke_all()})


@router.post("/tokens/expire")
async def expire_tokens(request: Request) -> Response:
    """Let every access token run out now (refresh tokens stay valid)."""
    return reply({"accessTokensExpired": emulator(request).oauth.expire_access_tokens()})
