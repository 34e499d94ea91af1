"""Discovery (``/``, ``/self``), the ``/echo`` test endpoint and the app-grant pages."""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ledgerlink.emulators.economic.filters import FieldKind
from ledgerlink.emulators.economic.http import (
    ApiError,
    Ctx,
    RequestContext,
    authenticate,
    json_response,
)

router = APIRouter()

RESOURCES = [
    "accounting-years",
    "accounts",
    "app-roles",
    "currencies",
    "customer-groups",
    "customers",
    "departmental-distributions",
    "departments",
    "employees",
    "invoices",
    "layouts",
    "payment-terms",
    "product-groups",
    "products",
    "self",
    "units",
    "vat-accounts",
    "vat-zones",
]
_EXPERIMENTAL = {"vat-zones", "departments", "departmental-distributions"}
ROLES = [(1, "SuperUser"), (2, "Bookkeeping"), (3, "Sales"), (4, "ProjectEmployee")]


@router.get("/")
async def root(ctx: Ctx) -> Response:
    """The resource list."""
    return json_response(
        {
            "apiName": "e-conomic REST API (ledgerlink emulator)",
            "resources": [
                {
                    "name": name,
                    "relativeUrl": f"/{name}",
                    "href": ctx.url(f"/{name}"),
                    "status": "experimental" if name in _EXPERIMENTAL else "stable",
                }
                for name in RESOURCES
            ],
            "self": ctx.url("/"),
        }
    )


APP_NUMBER = 1001
LANGUAGE = {"culture": "da-DK", "languageNumber": 1, "name": "Danish"}


def _application(ctx: RequestContext) -> dict[str, Any]:
    role = ctx.agreement.settings.app_role
    role_number = next((n for n, name in ROLES if name == role), 1)
    return {
        "appNumber": APP_NUMBER,
        "appPublicToken": ctx.emulator.app_public_token,
        "created": "2026-01-01",
        "name": "ledgerlink",
        "requiredRoles": [_role(ctx, role_number, role)],
        "self": ctx.url(f"/apps/{APP_NUMBER}"),
    }


def _modules(ctx: RequestContext) -> list[dict[str, Any]]:
    modules = [(1, "Departments")]
    if ctx.agreement.settings.project_module:
        modules.append((2, "Projects"))
    return [
        {"moduleNumber": number, "name": name, "self": ctx.url(f"/modules/{number}")}
        for number, name in modules
    ]


@router.get("/self")
async def self_(ctx: Ctx) -> Response:
    """The agreement, app, company and user behind the tokens."""
    agreement = ctx.agreement
    return json_response(
        {
            "agreementNumber": agreement.number,
            "agreementType": {"agreementTypeNumber": 1, "name": "denmark"},
            "application": _application(ctx),
            "bankInformation": {
                "bankAccountNumber": "1234567890",
                "bankName": "Danske Bank",
                "bankSortCode": "1551",
            },
            "canSendElectronicInvoice": not ctx.demo,
            "company": agreement.company,
            "companyAffiliation": "E-conomic",
            "modules": _modules(ctx),
            "settings": {"baseCurrency": agreement.base_currency},
            "signupDate": "2020-01-01",
            "user": {
                "agreementNumber": agreement.number,
                "email": agreement.company.get("email", "user@example.com"),
                "language": {**LANGUAGE, "self": ctx.url("/languages/1")},
                "loginId": "ADMIN",
                "name": "Administrator",
            },
            "userName": "Administrator",
            "self": ctx.url("/self"),
        }
    )


# The application, the modules and the language /self links to (the docs require those links
# and document no endpoints for them: each answers what /self shows of it).


@router.get("/apps/{number}")
async def application(ctx: Ctx, number: int) -> Response:
    """The app the tokens belong to."""
    if number != APP_NUMBER:
        raise ApiError(404, f"App {number} not found.")
    return json_response(_application(ctx))


@router.get("/modules/{number}")
async def module(ctx: Ctx, number: int) -> Response:
    """One of the agreement's active modules."""
    found = next((m for m in _modules(ctx) if m["moduleNumber"] == number), None)
    if found is None:
        raise ApiError(404, f"Module {number} is not active on this agreement.")
    return json_response(found)


@router.get("/languages/{number}")
async def language(ctx: Ctx, number: int) -> Response:
    """The user's language."""
    if number != LANGUAGE["languageNumber"]:
        raise ApiError(404, f"Language {number} not found.")
    return json_response({**LANGUAGE, "self": ctx.url(f"/languages/{number}")})


def _role(ctx: RequestContext, number: int, name: str) -> dict[str, Any]:
    return {"roleNumber": number, "name": name, "self": ctx.url(f"/app-roles/{number}")}


@router.get("/app-roles")
async def app_roles(ctx: Ctx) -> Response:
    """The app roles."""
    records = [_role(ctx, n, name) for n, name in ROLES]
    return ctx.collection(
        records, filterable={"roleNumber": FieldKind.INTEGER, "name": FieldKind.STRING}
    )


@router.get("/app-roles/{number}")
async def app_role(ctx: Ctx, number: int) -> Response:
    """One app role."""
    name = dict(ROLES).get(number)
    if name is None:
        raise ApiError(404, f"App role {number} not found.")
    return json_response(_role(ctx, number, name))


@router.api_route("/echo", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def echo(request: Request) -> Response:
    """Echo the request; ``?statuscode=x`` answers with that status."""
    context = authenticate(request)
    raw = request.query_params.get("statuscode")
    status = 200
    if raw is not None:
        if not raw.isdigit() or not 200 <= int(raw) <= 599:
            raise ApiError(400, "statuscode must be an HTTP status code between 200 and 599.")
        status = int(raw)
    body: Any = (await request.body()).decode("utf-8", errors="replace") or None
    if status == 204:
        return Response(status_code=204)
    return json_response(
        {
            "method": request.method,
            "query": dict(request.query_params),
            "body": body,
            "self": context.url("/echo"),
        },
        status,
    )


_FORM = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>e-conomic — grant access</title></head>
<body>
<h1>Grant access to {app}</h1>
<p>The app asks for access to your e-conomic agreement. Sign in to grant it.</p>
{error}
<form method="post">
  <input type="hidden" name="appPublicToken" value="{token}">
  <input type="hidden" name="redirectUrl" value="{redirect}">
  <label>Agreement number <input name="agreementNumber" required></label><br>
  <label>User ID <input name="userId" required></label><br>
  <label>Password <input name="password" type="password" required></label><br>
  <button type="submit">Grant access</button>
</form>
</body></html>
"""


def _form(token: str, redirect: str, error: str = "") -> HTMLResponse:
    return HTMLResponse(
        _FORM.format(
            app="ledgerlink",
            token=html.escape(token),
            redirect=html.escape(redirect),
            error=f'<p role="alert">{html.escape(error)}</p>' if error else "",
        )
    )


@router.get("/secure/api1/requestaccess.aspx", include_in_schema=False)
async def request_access(request: Request) -> Response:
    """The installation URL: a sign-in form that grants the app access to the agreement."""
    token = request.query_params.get("appPublicToken", "")
    redirect = request.query_params.get("redirectUrl", "")
    if not token or not redirect:
        return HTMLResponse("<p>appPublicToken and redirectUrl are required.</p>", status_code=400)
    return _form(token, redirect)


@router.post("/secure/api1/requestaccess.aspx", include_in_schema=False)
async def grant_access(request: Request) -> Response:
    """Check the sign-in, restore the grant and redirect with ``?token=<agreement grant token>``."""
    fields = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
    query = request.query_params
    token = fields.get("appPublicToken") or query.get("appPublicToken", "")
    redirect = fields.get("redirectUrl") or query.get("redirectUrl", "")
    emulator = request.app.state.emulator
    if token != emulator.app_public_token:
        return _form(token, redirect, "Unknown app.")
    agreement = emulator.state.main
    if (
        fields.get("agreementNumber", "").strip() != str(agreement.number)
        or not fields.get("userId")
        or not fields.get("password")
    ):
        return _form(token, redirect, "Wrong agreement number, user ID or password.")
    with emulator.state.lock:
        agreement.revoked = False
        emulator.state.save()
    parts = urlsplit(redirect)
    joined = "&".join(
        filter(None, [parts.query, urlencode({"token": emulator.agreement_grant_token})])
    )
    return RedirectResponse(urlunsplit(parts._replace(query=joined)), status_code=302)
