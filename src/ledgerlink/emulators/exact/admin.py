"""The ERP user's and the administrator's work, as admin routes under ``/_emulator`` (guarded by
the app's client credentials as HTTP Basic; never rate-limited, faulted or journaled)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from ledgerlink.emulators._kit.auth import tokens_match
from ledgerlink.emulators._kit.jsonio import dumps, loads
from ledgerlink.emulators._kit.oauth import basic_authorization
from ledgerlink.emulators.exact import rules
from ledgerlink.emulators.exact.errors import ExactError
from ledgerlink.emulators.exact.state import Division, ExactState

__all__ = ["admin_guard", "router"]

router = APIRouter(prefix="/_emulator")
JSON = "application/json; charset=utf-8"


async def admin_guard(request: Request) -> None:
    """Admin routes take the app's ``client_id:client_secret`` as HTTP Basic."""
    emulator = request.app.state.emulator
    expected = basic_authorization(emulator.client_id, emulator.client_secret)
    if not tokens_match(request.headers.get("authorization"), expected):
        raise ExactError(401, "The admin routes take the app's client credentials (Basic).")


def _division(request: Request, code: int) -> tuple[ExactState, Division]:
    state: ExactState = request.app.state.emulator.state
    if code not in state.divisions:
        raise ExactError(404, f"Division {code} does not exist.")
    return state, state.divisions[code]


async def _document(request: Request) -> dict[str, Any]:
    try:
        document = loads(await request.body() or b"{}")
    except ValueError:
        raise ExactError(400, "The request body is not valid JSON.") from None
    if not isinstance(document, dict):
        raise ExactError(400, "The request body must be a JSON object.")
    return document


def _json(document: Any) -> Response:
    return Response(dumps(document), media_type=JSON)


@router.post("/{code}/salesinvoices/{invoice}/process")
async def process(request: Request, code: int, invoice: str) -> Response:
    """Process (book) an invoice: number, status 50, open item."""
    state, division = _division(request, code)
    with state.change():
        record = rules.process(division, invoice.lower())
    return _json({"InvoiceID": record["InvoiceID"], "InvoiceNumber": record["InvoiceNumber"]})


@router.post("/{code}/salesinvoices/{invoice}/payments")
async def payment(request: Request, code: int, invoice: str) -> Response:
    """Register a payment ``{"amount": "121.00"}``."""
    state, division = _division(request, code)
    try:
        amount = Decimal(str((await _document(request)).get("amount")))
    except InvalidOperation:
        raise ExactError(400, "amount must be a decimal number.") from None
    with state.change():
        left = rules.pay(division, invoice.lower(), amount)
    return _json({"open": left})


@router.post("/{code}/periods/{year}/{period}/{action}")
async def period(request: Request, code: int, year: int, period: int, action: str) -> Response:
    """Lock or unlock a financial period (``action`` ``lock`` or ``unlock``)."""
    state, division = _division(request, code)
    if action not in ("lock", "unlock") or not 1 <= period <= 12:
        raise ExactError(404, "Use /periods/{year}/{1-12}/lock or /unlock.")
    name = f"{year}-{period:02d}"
    with state.change():
        if action == "lock" and name not in division.locked_periods:
            division.locked_periods.append(name)
        if action == "unlock" and name in division.locked_periods:
            division.locked_periods.remove(name)
    return _json({"locked": sorted(division.locked_periods)})


@router.get("/{code}/settings")
async def get_settings(request: Request, code: int) -> Response:
    """``{"invalidVatNumbers": [...], "today": "2026-03-15"}``."""
    _, division = _division(request, code)
    settings = division.settings
    return _json({"invalidVatNumbers": settings.invalid_vat_numbers, "today": settings.today})


@router.put("/{code}/settings")
async def put_settings(request: Request, code: int) -> Response:
    """Change the settings (the members given)."""
    state, division = _division(request, code)
    document = await _document(request)
    with state.change():
        if "invalidVatNumbers" in document:
            division.settings.invalid_vat_numbers = [str(n) for n in document["invalidVatNumbers"]]
        if "today" in document:
            division.settings.today = document["today"]
    return await get_settings(request, code)


@router.post("/tokens/expire")
async def expire_tokens(request: Request) -> Response:
    """Let every access token run out now (refresh tokens stay valid)."""
    return _json({"expired": request.app.state.emulator.oauth.expire_access_tokens()})


@router.post("/tokens/revoke")
async def revoke_tokens(request: Request) -> Response:
    """End every grant: the user withdrew the app's access (reconnect needed)."""
    return _json({"revoked": request.app.state.emulator.oauth.revoke_all()})


@router.delete("/ratelimits", status_code=204)
async def reset_rate_limits(request: Request) -> Response:
    """Forget the rate-limit counts and the error budget's counts and blocks."""
    request.app.state.emulator.limits.reset_counts()
    request.app.state.emulator.error_budget.reset()
    return Response(status_code=204)
