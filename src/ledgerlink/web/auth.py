"""Who a console request comes from, and whether it may do what it asks (issue 14 item 1).

Every console route depends on :meth:`Guard.allow` with the permission it needs: no session
→ the sign-in page (303; an htmx request gets ``HX-Redirect``), a role without the permission
→ 403. Every unsafe method (POST …) from a cookie session must carry the session's CSRF token,
as the form field ``csrf_token`` or the header ``X-CSRF-Token`` (htmx sends it from
``hx-headers`` on ``<body>``); the cookie is SameSite=Lax besides.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from ledgerlink.domain.users import Permission
from ledgerlink.web.users import Principal, UowFactory, session_of

SESSION_COOKIE = "ledgerlink_session"
LOGIN_COOKIE = "ledgerlink_login"  # the sign-in form's own CSRF token (no session yet)
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SignInRequired(Exception):
    """No valid session: the browser is sent to the sign-in page."""


class Forbidden(Exception):
    """Signed in, but the role does not allow it (or the CSRF token is missing/wrong)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def same_token(sent: str | None, expected: str) -> bool:
    return bool(sent) and bool(expected) and hmac.compare_digest(str(sent), expected)


async def csrf_sent(request: Request) -> str | None:
    """The CSRF token a request carries: the header (htmx) or the form field."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


async def require_csrf(request: Request, principal: Principal) -> None:
    """Refuse an unsafe request whose CSRF token is not the session's."""
    if request.method in SAFE_METHODS:
        return
    if not same_token(await csrf_sent(request), principal.csrf_token):
        raise Forbidden(
            "The form has expired or did not come from this console; reload the page and try again."
        )


class Guard:
    """The console's access rules over the sessions in the database (one per app, kept in
    ``app.state.console_guard``)."""

    def __init__(self, uow: UowFactory) -> None:
        self._uow = uow

    def principal(self, request: Request) -> Principal | None:
        return session_of(self._uow, request.cookies.get(SESSION_COOKIE, ""))


def guard_of(request: Request) -> Guard:
    guard = getattr(request.app.state, "console_guard", None)
    if not isinstance(guard, Guard):
        raise RuntimeError("the console is not installed in this app (install_console)")
    return guard


def allow(permission: Permission) -> Callable[..., Awaitable[Principal]]:
    """A dependency that returns the request's principal when its role has ``permission``
    (and, for an unsafe method, the CSRF token is right)."""

    async def signed_in(request: Request) -> Principal:
        principal = await run_in_threadpool(guard_of(request).principal, request)
        if principal is None:
            raise SignInRequired()
        await require_csrf(request, principal)
        if not principal.user.role.may(permission):
            raise Forbidden(
                f"Your role ({principal.user.role.value}) may not do this: it needs the "
                f"'{permission.value}' permission."
            )
        return principal

    return signed_in


#: Route parameters: the signed-in user who may read / transfer / administer.
Reader = Annotated[Principal, Depends(allow(Permission.READ))]
Finance = Annotated[Principal, Depends(allow(Permission.TRANSFER))]
Admin = Annotated[Principal, Depends(allow(Permission.ADMINISTER))]
