"""Structured access logs (issue 14 item 11), and the forwarded headers of a named proxy.

:class:`AccessLog` is an ASGI middleware writing one JSON line per HTTP request (structlog):
method, path, query (secret-looking values replaced by ``***``), status, duration, peer,
scheme and the signed-in user's name. Never a header, a cookie or a body: the Authorization
header, session cookies and sign-in forms cannot leak through it because it does not read
them. The user is what the request's own authentication found: the JSON API's caller, or the
console's session as :class:`NamingGuard` notes it (no second database query).

:func:`served` is the app as ``ledgerlink serve`` runs it: the access log inside uvicorn's
``ProxyHeadersMiddleware`` when proxies are named, so ``X-Forwarded-For`` / ``-Proto`` are
honoured from those peers alone (never by default), and the log, the console's cookies and
redirects and ``/metrics``' loopback rule all see the original client and scheme.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO, cast
from urllib.parse import parse_qsl, urlencode

import structlog
from fastapi import FastAPI, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from structlog.typing import FilteringBoundLogger
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from ledgerlink.connectors._kit.http import REDACTED, is_secret_name
from ledgerlink.web.auth import Guard
from ledgerlink.web.users import Principal, UowFactory

#: Where a request's user name is noted for the access log (in the ASGI scope's state).
USER_STATE = "ledgerlink_user"
#: The JSON API notes its caller here (:class:`ledgerlink.web.api.auth.Authenticator`).
API_CALLER_STATE = "ledgerlink_caller"
#: Query parameters whose values are secrets though their names do not say so (OAuth2's
#: authorization code and state, signatures) — besides every name the HTTP client redacts.
SECRET_PARAMETERS = frozenset({"code", "state", "sig", "signature", "nonce", "ticket"})


def json_logger(stream: TextIO | None = None) -> FilteringBoundLogger:
    """A structlog logger writing JSON lines to ``stream`` (stdout by default), whatever the
    process's structlog configuration says (the CLI's prints errors only)."""
    logger = structlog.wrap_logger(
        structlog.PrintLogger(stream if stream is not None else sys.stdout),
        processors=[
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
            structlog.processors.add_log_level,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
    )
    return cast(FilteringBoundLogger, logger)


def note_user(scope: Scope, name: str) -> None:
    """Note the request's user for the access log."""
    scope.setdefault("state", {})[USER_STATE] = name


def _secret(name: str) -> bool:
    return is_secret_name(name) or name.lower() in SECRET_PARAMETERS


def safe_query(query: bytes) -> str:
    """The query string with every secret-looking value replaced by ``***``."""
    if not query:
        return ""
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    return urlencode([(k, REDACTED if _secret(k) else v) for k, v in pairs], safe="*/:,")


def _user(scope: Scope) -> str | None:
    state = scope.get("state") or {}
    named = state.get(USER_STATE)
    if isinstance(named, str):
        return named
    caller = state.get(API_CALLER_STATE)
    name = getattr(caller, "user_name", None)
    return name if isinstance(name, str) else None


class AccessLog:
    """ASGI middleware: one ``http.access`` JSON line per HTTP request (see the module
    docstring); other scopes (lifespan) pass through."""

    def __init__(self, app: ASGIApp, *, log: FilteringBoundLogger | None = None) -> None:
        self.app = app
        self.log = log if log is not None else json_logger()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The app writes the user into this dict (request.state); mounted apps share it.
        scope.setdefault("state", {})
        started = time.perf_counter()
        status = 500  # an exception before the answer started is a 500 to the client

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            client = scope.get("client")
            fields: dict[str, Any] = {
                "method": scope.get("method", ""),
                "path": scope.get("path", ""),
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "peer": client[0] if client else None,
                "scheme": scope.get("scheme", "http"),
                "user": _user(scope),
            }
            query = safe_query(scope.get("query_string", b""))
            if query:
                fields["query"] = query
            self.log.info("http.access", **fields)


class NamingGuard(Guard):
    """The console's guard, noting the signed-in user of each request it lets through for
    the access log (the session is looked up once, by the route's own check)."""

    def principal(self, request: Request) -> Principal | None:
        found = super().principal(request)
        if found is not None:
            note_user(request.scope, found.user.name)
        return found


def name_console_users(app: FastAPI, uow: UowFactory) -> None:
    """Make the console's routes (``install_console`` done) note their user for the access
    log: they find their guard in ``app.state``."""
    app.state.console_guard = NamingGuard(uow)


def served(
    app: ASGIApp, *, trusted_proxies: Sequence[str] = (), log: FilteringBoundLogger | None = None
) -> ASGIApp:
    """``app`` with its access log, behind the forwarded headers of ``trusted_proxies``
    (addresses or networks; none: forwarded headers are ignored)."""
    logged: ASGIApp = AccessLog(app, log=log)
    if not trusted_proxies:
        return logged
    # uvicorn types the ASGI scope and messages more narrowly than Starlette; the same calls.
    proxied = ProxyHeadersMiddleware(cast(Any, logged), trusted_hosts=list(trusted_proxies))
    return cast(ASGIApp, proxied)
