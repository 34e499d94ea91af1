"""Admin routes that simulate the ERP user's work (see the package docstring for the list)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from ledgerlink.emulators._kit.admin import ADMIN_PREFIX
from ledgerlink.emulators.economic import fields as f
from ledgerlink.emulators.economic.calc import exchange_rate
from ledgerlink.emulators.economic.http import (
    ApiError,
    RequestContext,
    Validation,
    authenticate,
    json_response,
)
from ledgerlink.emulators.economic.routers.accounting import render_entry, render_year
from ledgerlink.emulators.economic.routers.invoices import (
    book_draft,
    register_payment,
    render_booked,
)
from ledgerlink.emulators.economic.state import SETTING_NAMES, rate_windows

router = APIRouter(prefix=ADMIN_PREFIX)


async def admin_context(request: Request) -> RequestContext:
    """The same two tokens as the API (the demo tokens are refused); never rate-limited."""
    context = authenticate(request, admin=True)
    if context.demo:
        raise ApiError(403, "Admin routes are not available on the demo agreement.")
    return context


async def _body(request: Request) -> dict[str, Any]:
    context = await admin_context(request)
    return await context.body() if (await request.body()).strip() else {}


@router.post("/invoices/drafts/{number}/book")
async def admin_book(request: Request, number: int) -> Response:
    """Book a draft as the ERP user would (optional ``{"bookWithNumber": n}``)."""
    ctx = await admin_context(request)
    body = await _body(request)
    v = Validation()
    book_with = f.integer(body, "bookWithNumber", v, minimum=1)
    v.raise_if_any()
    with ctx.state.lock:
        stored = book_draft(ctx, number, book_with)
        ctx.commit()
        return json_response(render_booked(ctx, stored), 201)


@router.post("/invoices/booked/{number}/payments")
async def admin_payment(request: Request, number: int) -> Response:
    """Register a payment ``{"amount": "123.45"}``; the full remainder makes the invoice paid."""
    ctx = await admin_context(request)
    body = await _body(request)
    try:
        amount = Decimal(str(body["amount"]))
    except (KeyError, InvalidOperation):
        raise ApiError(400, 'Send {"amount": "<decimal>"}.') from None
    with ctx.state.lock:
        stored = register_payment(ctx, number, amount)
        ctx.commit()
        return json_response(render_booked(ctx, stored))


@router.post("/grants/revoke", status_code=204)
async def admin_revoke(request: Request) -> Response:
    """Revoke the agreement's grant: every API call answers 401 until it is granted again."""
    ctx = await admin_context(request)
    with ctx.state.lock:
        ctx.agreement.revoked = True
        ctx.commit()
    return Response(status_code=204)


@router.post("/grants/restore", status_code=204)
async def admin_restore(request: Request) -> Response:
    """Undo a revoke (the grant page does the same)."""
    ctx = await admin_context(request)
    with ctx.state.lock:
        ctx.agreement.revoked = False
        ctx.commit()
    return Response(status_code=204)


async def _set_year_closed(request: Request, year: str, *, closed: bool) -> Response:
    ctx = await admin_context(request)
    with ctx.state.lock:
        stored = ctx.agreement.get("accounting-years", year)
        if stored is None:
            raise ApiError(404, f"Accounting year {year} not found.")
        stored["closed"] = closed
        ctx.commit()
        return json_response(render_year(ctx, stored))


@router.post("/accounting-years/{year}/close")
async def admin_close_year(request: Request, year: str) -> Response:
    """Close an accounting year: nothing dated in it can be drafted or booked any more."""
    return await _set_year_closed(request, year, closed=True)


@router.post("/accounting-years/{year}/open")
async def admin_open_year(request: Request, year: str) -> Response:
    """Reopen a closed accounting year, as the ERP user can in e-conomic's settings."""
    return await _set_year_closed(request, year, closed=False)


@router.post("/currencies")
async def admin_add_currency(request: Request) -> Response:
    """Add a currency to the agreement, as the ERP user does in e-conomic's settings (the API
    itself has no POST /currencies): ``{"code": "CHF", "exchangeRate": 780.00, "name"?,
    "isoNumber"?}``; ``exchangeRate`` is the cost in the base currency of 100 units."""
    ctx = await admin_context(request)
    body = await _body(request)
    v = Validation()
    code = f.text(body, "code", v, required=True, min_length=3, max_length=3)
    rate = f.number(body, "exchangeRate", v, required=True)
    name = f.text(body, "name", v, max_length=50)
    iso_number = f.text(body, "isoNumber", v, max_length=3)
    if code is not None and not code.isalpha():
        v.add(("code",), "code must be three letters (ISO 4217).", value=code)
    if rate is not None and rate <= 0:
        v.add(("exchangeRate",), "exchangeRate must be positive.", value=rate)
    with ctx.state.lock:
        if code is not None and ctx.agreement.get("currencies", code.upper()) is not None:
            v.add(("code",), f"The currency {code.upper()} already exists.", value=code)
        v.raise_if_any()
        assert code is not None
        assert rate is not None
        stored: dict[str, Any] = {
            "code": code.upper(),
            "name": name or code.upper(),
            "_exchangeRate": rate,
        }
        if iso_number:
            stored["isoNumber"] = iso_number
        ctx.agreement.table("currencies")[code.upper()] = stored
        ctx.commit()
        return json_response({**stored, "self": ctx.url(f"/currencies/{code.upper()}")}, 201)


@router.post("/entries")
async def admin_entry(request: Request) -> Response:
    """Post a finance entry: ``{"account", "date", "amount", "text"?, "currency"?, "project"?}``."""
    ctx = await admin_context(request)
    body = await _body(request)
    agreement = ctx.agreement
    v = Validation()
    with ctx.state.lock:
        account = f.integer(body, "account", v, required=True)
        if account is not None and agreement.get("accounts", account) is None:
            v.add(("account",), "account does not exist.", code="E06000", value=account)
        day = f.iso_date(body, "date", v, required=True)
        text = f.text(body, "text", v, max_length=255) or ""
        currency = (f.text(body, "currency", v, max_length=3) or agreement.base_currency).upper()
        project = f.integer(body, "project", v, minimum=1)
        entry_type = f.text(body, "entryType", v) or "financeVoucher"
        try:
            amount = Decimal(str(body.get("amount")))
        except InvalidOperation:
            v.add(("amount",), "amount must be a decimal.", value=body.get("amount"))
            amount = Decimal("0")
        year = None
        if day is not None:
            year = next(
                (
                    y
                    for y in agreement.table("accounting-years").values()
                    if y["fromDate"] <= day <= y["toDate"]
                ),
                None,
            )
            if year is None:
                v.add(("date",), f"No accounting year exists for the date {day}.", value=day)
            elif year.get("closed"):
                v.add(("date",), f"The accounting year {year['year']} is closed.", value=day)
        v.raise_if_any()
        assert year is not None
        assert day is not None
        rate = exchange_rate(agreement, currency)
        entry: dict[str, Any] = {
            "entryNumber": agreement.next_number("entry"),
            "entryType": entry_type,
            "account": {"accountNumber": account},
            "date": day,
            "amount": amount,
            "amountInBaseCurrency": f.money(amount * rate / 100),
            "currency": currency,
            "text": text,
            "voucherNumber": f.integer(body, "voucherNumber", v)
            or agreement.next_number("voucher"),
        }
        if project is not None:
            entry["project"] = {"projectNumber": project}
        agreement.entries.append(entry)
        ctx.commit()
        return json_response(render_entry(ctx, entry, year["year"]), 201)


@router.get("/settings")
async def admin_get_settings(request: Request) -> Response:
    """The agreement's switches."""
    ctx = await admin_context(request)
    return JSONResponse(ctx.agreement.settings.to_json())


@router.put("/settings")
async def admin_settings(request: Request) -> Response:
    """Change switches, e.g. ``{"projectModule": true, "burstLimit": 300}`` (the rate limits'
    counts start over)."""
    ctx = await admin_context(request)
    body = await _body(request)
    unknown = set(body) - set(SETTING_NAMES)
    if unknown:
        raise ApiError(400, f"Unknown settings: {', '.join(sorted(unknown))}.")
    changes = {SETTING_NAMES[key]: value for key, value in body.items()}
    with ctx.state.lock:
        settings = replace(ctx.agreement.settings, **changes)
        try:
            windows = rate_windows(settings)
        except (TypeError, ValueError) as problem:
            raise ApiError(400, f"Invalid rate limit: {problem}.") from None
        ctx.agreement.settings = settings
        ctx.emulator.limits.configure(windows, retry_after=settings.retry_after_on_limit)
        ctx.commit()
        return JSONResponse(settings.to_json())
