"""The web console (issue 14): sign-in, the connections, the transfer table and the integration
log, as server-rendered pages (Jinja2) with htmx for the parts that change in place.

Every page is a thin adapter over the use-cases in :mod:`ledgerlink.sync` (the CLI's too);
the rules live there. Nothing secret is rendered: a connection shows its ERP, company and
account, never its credentials or settings.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from ledgerlink.domain.entity import require_id
from ledgerlink.domain.errors import ConflictError, LedgerlinkError, NotFoundError
from ledgerlink.domain.transfers import Connection
from ledgerlink.domain.users import Permission
from ledgerlink.store.uow import UnitOfWork
from ledgerlink.sync import transfers
from ledgerlink.sync.engine import Engine
from ledgerlink.sync.registry import erp_title
from ledgerlink.sync.secrets import SecretBox
from ledgerlink.web import (
    customers_page,
    dashboard_page,
    formats,
    log_page,
    reconcile_page,
    saved_filters,
    setup_page,
    transfers_page,
    users_page,
)
from ledgerlink.web.auth import (
    CSRF_FIELD,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Forbidden,
    Guard,
    Reader,
    SignInRequired,
    same_token,
)
from ledgerlink.web.jobs import Background, Jobs
from ledgerlink.web.users import (
    Passwords,
    Principal,
    SignInPolicy,
    SignInRefused,
    sign_in,
    sign_out,
)

HERE = Path(__file__).parent
#: Console pages are never cached, framed or sniffed; scripts and styles only from here.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True, kw_only=True)
class ConsoleOptions:
    """How ``create_app`` builds the console.

    ``engine``/``runner``: the transfer engine and what runs transfers (``ledgerlink serve``
    passes the durable :class:`~ledgerlink.sync.workflows.Workers`); by default an engine over
    the app's database and a :class:`~ledgerlink.sync.transfers.DirectRunner`.
    ``secure_cookies`` False lets cookies travel over plain HTTP: for loopback tests only.
    ``failed_sign_in_delay``: seconds a refused sign-in waits before answering.
    ``background``: runs a transfer job (a thread pool by default)."""

    engine: Engine | None = None
    runner: transfers.Runner | None = None
    passwords: Passwords | None = None
    policy: SignInPolicy = field(default_factory=SignInPolicy)
    secure_cookies: bool = True
    failed_sign_in_delay: float = 0.5
    background: Background | None = None


class Console:
    """What the console's routes share (one per app; no module state)."""

    def __init__(self, engine: Engine, options: ConsoleOptions) -> None:
        self.engine = engine
        self.options = options
        self.passwords = options.passwords or Passwords()
        self.guard = Guard(self.uow)
        self.templates = Jinja2Templates(directory=HERE / "templates")
        self.templates.env.globals["erp_title"] = erp_title
        formats.install(self.templates.env)
        self.jobs = Jobs(
            engine, options.runner or transfers.DirectRunner(engine), options.background
        )

    def uow(self) -> UnitOfWork:
        return self.engine.uow()

    def page(
        self,
        request: Request,
        name: str,
        principal: Principal | None,
        *,
        status_code: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        """Render a template with what the layout needs (user, CSRF token, permissions, the
        reader's locale and time zone for the format filters)."""
        user = principal.user if principal else None
        reader = formats.preferences(
            user.locale if user else None,
            user.time_zone if user else None,
            request.headers.get("accept-language"),
        )
        values = {
            **formats.context(reader),
            "user": user,
            "csrf_token": principal.csrf_token if principal else "",
            "may_transfer": bool(principal and principal.user.role.may(Permission.TRANSFER)),
            "csrf_field": CSRF_FIELD,
            **context,
        }
        return self.templates.TemplateResponse(
            request, name, values, status_code=status_code, headers=SECURITY_HEADERS
        )

    def connections(self) -> list[ConnectionView]:
        with self.uow() as uow:
            found = uow.connections.list()
            entities = {e.id: e for e in uow.legal_entities.list()}
        views = []
        for c in found:
            entity = entities.get(c.legal_entity_id)
            views.append(
                ConnectionView(
                    id=require_id(c),
                    legal_entity=f"{entity.code} {entity.name}" if entity else "",
                    erp=c.erp,
                    erp_name=erp_title(c.erp),
                    company=c.company_name,
                    account=c.account_id,
                    customer_master=c.customer_master.value,
                    automatic=c.automatic_transfer,
                    active=c.active,
                    verified=c.verified_at is not None,
                )
            )
        return views

    def connection(self, connection_id: int | None) -> Connection:
        """The connection asked for, or the first one; NotFound when there is none."""
        with self.uow() as uow:
            if connection_id is not None:
                return uow.connections.get(connection_id)
            found = uow.connections.list()
        if not found:
            raise NotFoundError(
                "There is no connection yet: an admin connects one with 'ledgerlink connect <ERP>'."
            )
        return found[0]


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionView:
    """What a page shows of a connection: no credentials, no settings."""

    id: int
    legal_entity: str
    erp: str
    erp_name: str
    company: str
    account: str
    customer_master: str
    automatic: bool
    active: bool
    verified: bool


def _safe_next(target: str) -> str:
    """Only a path of this site (no scheme, no '//host'), else the start page."""
    if target.startswith("/") and not target.startswith(("//", "/\\")) and "\n" not in target:
        return target
    return "/"


def install_console(
    app: FastAPI, engine: Engine, options: ConsoleOptions, *, secrets: SecretBox | None = None
) -> Console:
    """Add the console's routes, static files and error pages to ``app`` (the connection
    setup's only with ``secrets``, which seal the credentials it stores)."""
    console = Console(engine, options)
    app.state.console_guard = console.guard
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    router = APIRouter(route_class=_route_class(console))
    _sign_in_routes(router, console)
    transfers_page.add_routes(router, console)
    log_page.add_routes(router, console)
    dashboard_page.add_routes(router, console)
    reconcile_page.add_routes(router, console)
    customers_page.add_routes(router, console)
    users_page.add_routes(router, console)
    saved_filters.add_routes(router, console)
    if secrets is not None:
        setup_page.add_routes(router, console, secrets)
    app.include_router(router)
    _error_pages(app, console)
    return console


def _sign_in_routes(router: APIRouter, console: Console) -> None:
    secure = console.options.secure_cookies

    @router.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(request: Request, next: str = "/") -> HTMLResponse:
        if console.guard.principal(request) is not None:
            return RedirectResponse(_safe_next(next), status_code=303)  # type: ignore[return-value]
        return _login_form(request, next=next)

    def _login_form(
        request: Request, *, next: str, error: str = "", status_code: int = 200
    ) -> HTMLResponse:
        token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)
        response = console.page(
            request,
            "login.html",
            None,
            status_code=status_code,
            login_token=token,
            next=_safe_next(next),
            error=error,
        )
        response.set_cookie(
            LOGIN_COOKIE, token, httponly=True, samesite="lax", secure=secure, path="/login"
        )
        return response

    @router.post("/login", include_in_schema=False)
    async def login(
        request: Request,
        name: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
        next: Annotated[str, Form()] = "/",
    ) -> Response:
        if not same_token(csrf_token, request.cookies.get(LOGIN_COOKIE, "")):
            return _login_form(
                request,
                next=next,
                error="The sign-in form expired; please try again.",
                status_code=403,
            )
        try:
            signed = await run_in_threadpool(
                sign_in,
                console.uow,
                console.passwords,
                name,
                password,
                policy=console.options.policy,
            )
        except SignInRefused as refused:
            await asyncio.sleep(console.options.failed_sign_in_delay)
            return _login_form(request, next=next, error=str(refused), status_code=401)
        response = RedirectResponse(_safe_next(next), status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            signed.token,
            max_age=int(console.options.policy.session_lifetime.total_seconds()),
            httponly=True,
            samesite="lax",
            secure=secure,
            path="/",
        )
        response.delete_cookie(LOGIN_COOKIE, path="/login")
        return response

    @router.post("/logout", include_in_schema=False)
    def logout(request: Request, principal: Reader) -> Response:
        sign_out(console.uow, request.cookies.get(SESSION_COOKIE, ""))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/", secure=secure, httponly=True)
        return response


def _error_pages(app: FastAPI, console: Console) -> None:
    @app.exception_handler(SignInRequired)
    def to_sign_in(request: Request, _error: SignInRequired) -> Response:
        target = request.url.path
        if request.url.query:
            target += f"?{request.url.query}"
        location = f"/login?next={quote(target if request.method == 'GET' else '/')}"
        if request.headers.get("HX-Request"):
            return Response(status_code=401, headers={"HX-Redirect": location})
        return RedirectResponse(location, status_code=303)

    @app.exception_handler(Forbidden)
    def forbidden(request: Request, error: Forbidden) -> Response:
        principal = console.guard.principal(request)
        return console.page(
            request,
            "error.html",
            principal,
            status_code=403,
            title="Not allowed",
            message=error.reason,
        )


def _route_class(console: Console) -> type[APIRoute]:
    """Console routes answer a use-case's refusal (a :class:`LedgerlinkError`: what is wrong
    and what to do) with an error page; the relay and the JSON API keep their own answers."""

    class ConsoleRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def route(request: Request) -> Response:
                try:
                    return await handler(request)
                except LedgerlinkError as error:
                    principal = await run_in_threadpool(console.guard.principal, request)
                    status = 400
                    if isinstance(error, NotFoundError):
                        status = 404
                    elif isinstance(error, ConflictError):
                        status = 409
                    return console.page(
                        request,
                        "error.html",
                        principal,
                        status_code=status,
                        title="Cannot do that",
                        message=str(error),
                    )

            return route

    return ConsoleRoute
