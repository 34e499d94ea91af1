"""The :class:`EconomicEmulator`: the kit's base with e-conomic's state, routers and errors."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from fastapi import Depends, Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.responses import Response

from ledgerlink.emulators._kit.base import Emulator, ErrorEnvelope
from ledgerlink.emulators._kit.ratelimit import (
    Admission,
    RateLimitMiddleware,
    RateLimits,
    header_token,
)
from ledgerlink.emulators.economic.http import ApiError, answer_text
from ledgerlink.emulators.economic.routers import (
    accounting,
    admin,
    customers,
    invoices,
    products,
    projects,
    reference,
    root,
)
from ledgerlink.emulators.economic.seed import demo_agreement, main_agreement
from ledgerlink.emulators.economic.state import EconomicState, rate_windows

__all__ = ["EconomicEmulator"]


class EconomicEmulator(Emulator):
    """A faithful local stand-in for the e-conomic legacy REST API.

    ``state_file`` (optional) keeps the main agreement in a JSON file: it is loaded when the
    emulator starts and rewritten after every write. The demo agreement is always fresh.

    e-conomic's rate limits are on (``limits``, per ``X-AgreementGrantToken``; the numbers are
    the main agreement's settings, :func:`~.state.rate_windows`): a call beyond them answers
    429 in e-conomic's envelope, with ``Retry-After`` unless switched off. ``clock`` (epoch
    seconds) is what they count with.
    """

    state: EconomicState

    def __init__(
        self,
        *,
        app_secret_token: str = "app-secret",
        agreement_grant_token: str = "grant-token",
        app_public_token: str = "app-public",
        state_file: Path | None = None,
        agreement_number: int = 7_654_321,
        fault_seed: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app_secret_token = app_secret_token
        self.agreement_grant_token = agreement_grant_token
        self.app_public_token = app_public_token
        state = EconomicState(
            main_agreement(agreement_number=agreement_number),
            demo_agreement(),
            state_file=state_file,
        )
        super().__init__(state=state, fault_seed=fault_seed)
        settings = state.main.settings
        self.limits = RateLimits(
            rate_windows(settings), retry_after=settings.retry_after_on_limit, clock=clock
        )
        errors = EconomicErrors(state)
        self.app = self.assemble(
            title="e-conomic REST API (ledgerlink emulator)",
            errors=errors,
            handlers={ApiError: errors.api_error},
            admin_dependencies=[Depends(admin.admin_context)],
            middleware=[
                Middleware(
                    RateLimitMiddleware,
                    limits=self.limits,
                    token=header_token("X-AgreementGrantToken"),
                    body=errors.rate_limited,
                )
            ],
            routers=[
                admin.router,
                root.router,
                customers.router,
                products.router,
                invoices.router,
                reference.router,
                accounting.router,
                projects.router,
            ],
        )


class EconomicErrors(ErrorEnvelope):
    """e-conomic's error body (``message``, ``developerHint``, ``logId``, ``httpStatusCode``…)."""

    def __init__(self, state: EconomicState) -> None:
        self._state = state

    def response(self, error: ApiError) -> Response:
        """The answer for ``error``, numbered with the next ``logId``."""
        return Response(
            answer_text(error.body(self._state.next_log_id())),
            status_code=error.status,
            media_type="application/json; charset=utf-8",
            headers=error.headers,
        )

    def rate_limited(self, _admission: Admission) -> Mapping[str, Any]:
        """The body of a 429 from the rate limits (the middleware adds Retry-After)."""
        error = ApiError(
            429,
            "Too many requests: the rate limit of this agreement is reached.",
            hint="Slow down and retry after the time in the Retry-After header.",
        )
        return error.body(self._state.next_log_id())

    def api_error(self, _request: Request, error: Exception) -> Response:
        """The handler of :class:`~.http.ApiError`."""
        assert isinstance(error, ApiError)
        return self.response(error)

    def render(self, request: Request, status: int, message: str) -> Response:
        """An error without hint."""
        return self.response(ApiError(status, message))

    def injected(self, request: Request, status: int, message: str) -> Response:
        """An injected 5xx or 429, in e-conomic's envelope (the injector adds Retry-After)."""
        return self.response(ApiError(status, message))

    def http_error(self, request: Request, error: StarletteHTTPException) -> Response:
        """405 and 404 with e-conomic's texts and hints."""
        if error.status_code == 405:
            message = f"The {request.method} method is not supported on this resource."
            hint = "PUT must be used with the full document; PATCH is not supported."
        elif error.status_code == 404:
            message, hint = "The resource was not found.", "Follow the links the API returns."
        else:
            message, hint = str(error.detail), None
        return self.response(ApiError(error.status_code, message, hint=hint))
