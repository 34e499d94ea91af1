"""The :class:`FortnoxEmulator`: the kit's base with Fortnox's OAuth server, rate limit,
state, routes and error envelope."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.middleware import Middleware

from ledgerlink.emulators._kit.base import Emulator, Routes
from ledgerlink.emulators._kit.oauth import (
    BearerRejected,
    OAuthClientApp,
    OAuthServer,
    OAuthSettings,
    oauth_router,
)
from ledgerlink.emulators._kit.ratelimit import (
    Admission,
    LimitWindow,
    RateLimitMiddleware,
    RateLimits,
)
from ledgerlink.emulators.fortnox import admin, errors, invoices, ledger
from ledgerlink.emulators.fortnox.errors import FortnoxError, FortnoxErrors, error_body
from ledgerlink.emulators.fortnox.registers import REGISTERS, register_router
from ledgerlink.emulators.fortnox.seed import seeded_company
from ledgerlink.emulators.fortnox.state import FortnoxState

__all__ = ["SCOPES", "FortnoxEmulator", "rate_window"]

#: The scope each resource needs (Fortnox's scope names; fact sheet §1.1, developer docs).
SCOPES = {
    "/3/customers": "customer",
    "/3/articles": "article",
    "/3/invoicepayments": "payment",
    "/3/invoices": "invoice",
    "/3/accounts": "bookkeeping",
    "/3/vouchers": "bookkeeping",
    "/3/voucherseries": "bookkeeping",
    "/3/financialyears": "bookkeeping",
    "/3/projects": "project",
    "/3/costcenters": "costcenter",
    "/3/employees": "salary",
    "/3/inbox": "inbox",
    "/3/archive": "archive",
    "/3/voucherfileconnections": "connectfile",
    "/3/companyinformation": "companyinformation",
    "/3/settings": "settings",
}


def rate_window() -> LimitWindow:
    """Fortnox's limit: 25 requests in any 5 seconds per access token (300 a minute per
    client id and tenant), sliding, a bare 429 with no rate-limit headers (fortnox.se
    "Rate-Limits for Fortnox API")."""
    return LimitWindow(25, 5.0)


def _rate_limited(_admission: Admission) -> Mapping[str, Any]:
    # Fortnox documents the status only; the body is ours, in its envelope.
    return error_body(
        "Too many requests. The rate limit is 25 requests per 5 seconds.", errors.TOO_MANY_REQUESTS
    )


def _scope_of(path: str) -> str | None:
    found = [prefix for prefix in SCOPES if path == prefix or path.startswith(prefix + "/")]
    return SCOPES[max(found, key=len)] if found else None


class FortnoxEmulator(Emulator):
    """A faithful local stand-in for the Fortnox API (``/3/…``) and its OAuth server
    (``/oauth-v1/…``); see the package docstring."""

    state: FortnoxState

    def __init__(
        self,
        *,
        client_id: str = "ledgerlink",
        client_secret: str = "fortnox-secret",
        redirect_uris: Sequence[str] = (),
        state_file: Path | None = None,
        fault_seed: int = 0,
        clock: Callable[[], float] = time.time,
        today: date | None = None,
    ) -> None:
        state = FortnoxState(seeded_company(today=today), state_file=state_file)
        super().__init__(state=state, fault_seed=fault_seed)
        if today is not None:
            state.company.settings.today = today.isoformat()
        self.oauth = OAuthServer(
            OAuthSettings(
                clients=(
                    OAuthClientApp(
                        client_id=client_id,
                        client_secret=client_secret,
                        redirect_uris=tuple(redirect_uris),
                    ),
                ),
                subjects=(str(state.company.information["DatabaseNumber"]),),
                authorize_path="/oauth-v1/auth",
                token_path="/oauth-v1/token",
                revoke_path="/oauth-v1/revoke",
                client_auth=frozenset({"basic"}),
                code_ttl=600,
                access_ttl=3600,
                # 45 days (Fortnox's authorization docs); a Fortnox FAQ says 31 (fact sheet).
                refresh_ttl=45 * 86400,
                # A spent refresh token coming back ends the grant: the user is logged out.
                revoke_family_on_reuse=True,
                grant_params=frozenset({"account_type"}),
                title="Fortnox (ledgerlink emulator)",
            ),
            clock=clock,
            lock=state.lock,
            on_change=state.save,
        )
        state.add_part("oauth", dump=self.oauth.snapshot, load=self.oauth.restore)
        self.limits = RateLimits([rate_window()], clock=clock)
        api = APIRouter()
        for register in REGISTERS:
            api.include_router(register_router(register))
        api.include_router(invoices.router)
        api.include_router(ledger.router)
        envelope = FortnoxErrors()
        self.app = self.assemble(
            title="Fortnox API (ledgerlink emulator)",
            errors=envelope,
            handlers={FortnoxError: FortnoxErrors.handle},
            middleware=[Middleware(RateLimitMiddleware, limits=self.limits, body=_rate_limited)],
            routers=[
                oauth_router(self.oauth),
                admin.router,
                Routes(api, dependencies=[Depends(self._authenticate)]),
            ],
        )

    async def _authenticate(self, request: Request) -> None:
        """The bearer check: 401 with Fortnox's login codes, 403 without the scope."""
        header = request.headers.get("authorization")
        try:
            principal = self.oauth.authenticate(header, scope=_scope_of(request.url.path))
        except BearerRejected as rejected:
            if rejected.status == 403:
                raise FortnoxError(
                    403, errors.MISSING_SCOPE, f"Saknar behörighet: {rejected.reason}"
                ) from None
            if rejected.error == "invalid_request":
                raise FortnoxError(
                    401,
                    errors.MISSING_TOKEN,
                    "Kan inte logga in, access-token eller client-secret saknas(2).",
                ) from None
            raise FortnoxError(401, errors.INVALID_LOGIN, "Ogiltig inloggning") from None
        request.state.principal = principal
