"""Bearer authentication with a user's API key, and the role check of each route.

The key's user's *current* role applies (a changed role or a disabled user counts at once):
``viewer`` reads, ``finance`` also transfers, ``admin`` also writes PSA data and invoices
(:class:`~ledgerlink.domain.users.Permission`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from ledgerlink.domain.users import Permission
from ledgerlink.store.api_keys import ApiKeyStore, Caller
from ledgerlink.web.api.problems import ApiProblem

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="ledgerlink"'}
_STATE = "ledgerlink_caller"

bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="API key",
    description="An API key: 'ledgerlink users api-key create NAME --user USER' makes one.",
)


class Authenticator:
    """Finds the caller of a request by its ``Authorization: Bearer <key>`` header."""

    def __init__(self, keys: ApiKeyStore) -> None:
        self._keys = keys

    async def caller(self, request: Request) -> Caller:
        """The request's caller (once per request), or a 401 problem."""
        known = getattr(request.state, _STATE, None)
        if isinstance(known, Caller):
            return known
        header = request.headers.get("authorization", "")
        scheme, _, key = header.partition(" ")
        if not header:
            raise ApiProblem(
                "unauthorized",
                "send an API key as 'Authorization: Bearer <key>'",
                headers=_CHALLENGE,
            )
        if scheme.lower() != "bearer" or not key.strip():
            raise ApiProblem(
                "unauthorized",
                "the Authorization header must be 'Bearer <key>'",
                headers=_CHALLENGE,
            )
        caller = await run_in_threadpool(self._keys.authenticate, key.strip())
        if caller is None:
            raise ApiProblem(
                "unauthorized",
                "the API key is not valid: unknown, revoked, or its user is disabled",
                headers={"WWW-Authenticate": 'Bearer realm="ledgerlink", error="invalid_token"'},
            )
        setattr(request.state, _STATE, caller)
        return caller

    def require(self, permission: Permission) -> Callable[..., Awaitable[Caller]]:
        """A dependency: the caller, whose role must allow ``permission`` (else 403)."""

        async def allowed(
            request: Request,
            _credentials: HTTPAuthorizationCredentials | None = Depends(bearer),  # noqa: B008
        ) -> Caller:
            caller = await self.caller(request)
            if not caller.role.may(permission):
                raise ApiProblem(
                    "forbidden",
                    f"user {caller.user_name} has the role {caller.role.value}, which may not "
                    f"{_SAID[permission]}",
                )
            return caller

        return allowed


_SAID = {
    Permission.READ: "read",
    Permission.TRANSFER: "start transfers",
    Permission.ADMINISTER: "write PSA data or invoices",
}
