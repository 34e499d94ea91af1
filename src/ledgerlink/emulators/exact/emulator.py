"""The :class:`ExactEmulator`: the kit's base with Exact's OAuth server, rate limits, state,
routes and error envelope."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

from fastapi import Depends
from starlette.middleware import Middleware
from starlette.types import Scope

from ledgerlink.emulators._kit.base import Emulator, Routes
from ledgerlink.emulators._kit.errorbudget import ErrorBudget, ErrorBudgetMiddleware
from ledgerlink.emulators._kit.oauth import (
    BearerRejected,
    OAuthClientApp,
    OAuthServer,
    OAuthSettings,
    bearer,
    oauth_router,
)
from ledgerlink.emulators._kit.ratelimit import (
    LimitKind,
    LimitWindow,
    RateLimitMiddleware,
    RateLimits,
    bearer_token,
)
from ledgerlink.emulators.exact import admin, api, seed
from ledgerlink.emulators.exact.errors import BLOCKED, ExactError, ExactErrors, body
from ledgerlink.emulators.exact.state import ExactState

__all__ = ["ExactEmulator", "rate_windows"]

_DIVISION = re.compile(r"^/api/v1/(\d+)/")
_ENDPOINT = re.compile(r"^/api/v1/[^/]+/([^(]*)")


def rate_windows(*, minutely: int, daily: int) -> tuple[LimitWindow, LimitWindow]:
    """Exact's limits per app × division, each with its header family (epoch-ms resets).

    Both are fixed windows: the ``-Reset`` headers name one moment when the whole budget
    returns, which a sliding window has not. The day is counted from midnight UTC — Exact
    does not say which midnight (the Dutch one is 1-2 h earlier); a client that keeps to the
    headers keeps to either.
    """
    return (
        LimitWindow(minutely, 60, LimitKind.FIXED, headers="X-RateLimit-Minutely"),
        LimitWindow(daily, 86_400, LimitKind.FIXED, headers="X-RateLimit"),
    )


def _rejection(rejected: BearerRejected) -> Exception:
    return ExactError(rejected.status, rejected.reason)


class ExactEmulator(Emulator):
    """A faithful local stand-in for the Exact Online REST API (see the package docstring).

    ``client_id``/``client_secret`` is the registered app (also the admin routes' Basic
    credentials); ``redirect_uris`` empty accepts any loopback redirect. ``clock`` (epoch
    seconds) drives token lifetimes, rate-limit windows and the error budget.

    The error budget (``error_limit``, ``None`` for none): more than 10 answers 400, 401,
    403 or 404 per app, user, division and endpoint in an hour block that key for an hour
    (Exact's July 2021 limits as quoted on forums.invantive.com; the block "gradually
    increases" on repeat, which we leave out). The block's answer is not documented: ours is
    429 with "API rate limit exceeded" (the text 1Archive's help shows for it). A 401 for an
    unknown or expired token names no user and is not counted.
    """

    state: ExactState

    def __init__(
        self,
        *,
        client_id: str = "exact-client",
        client_secret: str = "exact-secret",
        redirect_uris: tuple[str, ...] = (),
        state_file: Path | None = None,
        minutely_limit: int = 60,
        daily_limit: int = 5_000,
        min_refresh_interval: float | None = 570.0,
        error_limit: int | None = 10,
        fault_seed: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        state = ExactState(
            seed.divisions(), accessible={seed.MAIN, seed.SISTER}, state_file=state_file
        )
        super().__init__(state=state, fault_seed=fault_seed)
        app = OAuthClientApp(
            client_id=client_id, client_secret=client_secret, redirect_uris=redirect_uris
        )
        self.oauth = OAuthServer(
            OAuthSettings(
                clients=(app,),
                subjects=("demo@lindeboom.example",),
                authorize_path="/api/oauth2/auth",
                token_path="/api/oauth2/token",
                revoke_path=None,
                # Exact's docs send the client credentials in the form (fact sheet §2.2).
                client_auth=frozenset({"form"}),
                code_ttl=180.0,
                access_ttl=600.0,
                # Unused refresh tokens expire after 30 days (Invantive, Airbyte; §2.2).
                refresh_ttl=30 * 86_400.0,
                # A new access token only when the old one is (nearly) spent: Exact refuses
                # a refresh within ~9.5 minutes (websmurf/laravel-exact-online#31; §2.2).
                min_refresh_interval=min_refresh_interval,
                expires_in_as_text=True,
                title="Exact Online",
            ),
            clock=clock,
            lock=state.lock,
            on_change=state.save,
        )
        state.add_part("oauth", dump=self.oauth.snapshot, load=self.oauth.restore)
        self.limits = RateLimits(
            rate_windows(minutely=minutely_limit, daily=daily_limit), clock=clock
        )
        self.error_budget = ErrorBudget(
            max_errors=error_limit or 1, seconds=3600, block_seconds=3600, clock=clock
        )
        budget = [
            Middleware(
                ErrorBudgetMiddleware,
                budget=self.error_budget,
                key=self._error_key,
                body=lambda _until: body(BLOCKED),
            )
        ]
        errors = ExactErrors()
        self.app = self.assemble(
            title="Exact Online REST API (ledgerlink emulator)",
            errors=errors,
            handlers={ExactError: errors.exact_error},
            admin_dependencies=[Depends(admin.admin_guard)],
            middleware=[
                *(budget if error_limit is not None else []),
                Middleware(
                    RateLimitMiddleware,
                    limits=self.limits,
                    token=self._budget,
                    body=errors.rate_limited,
                ),
            ],
            routers=[
                Routes(admin.router, [Depends(admin.admin_guard)]),
                oauth_router(self.oauth),
                Routes(api.router, [Depends(bearer(self.oauth, rejection=_rejection))]),
            ],
        )

    def _error_key(self, scope: Scope) -> str | None:
        budget = self._budget(scope)
        endpoint = _ENDPOINT.match(scope["path"])
        if budget is None or endpoint is None:
            return None
        principal = self.oauth.authenticate(f"Bearer {bearer_token(scope)}")
        return f"{budget}:{principal.subject}:{endpoint.group(1)}"

    def _budget(self, scope: Scope) -> str | None:
        """Whose budget a request spends: the app's, in the division it calls (``current/Me``
        counts in the current division). Calls without a valid token are not counted."""
        token = bearer_token(scope)
        if token is None:
            return None
        try:
            principal = self.oauth.authenticate(f"Bearer {token}")
        except BearerRejected:
            return None
        match = _DIVISION.match(scope["path"])
        division = match.group(1) if match else str(self.state.current)
        return f"{principal.client_id}:{division}"
