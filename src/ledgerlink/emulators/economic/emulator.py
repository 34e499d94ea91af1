"""The :class:`EconomicEmulator`: state, middleware and routers assembled into one FastAPI app."""

from __future__ import annotations

from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from ledgerlink.emulators._kit.admin import kit_admin_router
from ledgerlink.emulators._kit.faults import FaultInjector, FaultMiddleware
from ledgerlink.emulators._kit.journal import JournalMiddleware, RequestJournal
from ledgerlink.emulators._kit.jsonio import dumps
from ledgerlink.emulators.economic.http import ApiError
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
from ledgerlink.emulators.economic.state import EconomicState

__all__ = ["EconomicEmulator"]


class EconomicEmulator:
    """A faithful local stand-in for the e-conomic legacy REST API.

    ``state_file`` (optional) keeps the main agreement in a JSON file: it is loaded when the
    emulator starts and rewritten after every write. The demo agreement is always fresh.
    """

    def __init__(
        self,
        *,
        app_secret_token: str = "app-secret",
        agreement_grant_token: str = "grant-token",
        app_public_token: str = "app-public",
        state_file: Path | None = None,
        agreement_number: int = 7_654_321,
        fault_seed: int = 0,
    ) -> None:
        self.app_secret_token = app_secret_token
        self.agreement_grant_token = agreement_grant_token
        self.app_public_token = app_public_token
        self.state = EconomicState.open(
            main_agreement(agreement_number=agreement_number),
            demo_agreement(),
            state_file=state_file,
        )
        self.faults = FaultInjector(seed=fault_seed)
        self.journal = RequestJournal()
        self.app = self._build_app()

    def _build_app(self) -> FastAPI:
        app = FastAPI(
            title="e-conomic REST API (ledgerlink emulator)",
            docs_url=None,
            redoc_url=None,
            openapi_url=None,
        )
        app.state.emulator = self
        app.add_exception_handler(ApiError, self._api_error)
        app.add_exception_handler(StarletteHTTPException, self._http_error)
        app.add_exception_handler(RequestValidationError, self._request_error)
        app.include_router(
            kit_admin_router(
                faults=self.faults,
                journal=self.journal,
                dependencies=[Depends(admin.admin_context)],
                error=lambda status, message: self._response(ApiError(status, message)),
            )
        )
        app.include_router(admin.router)
        for module in (root, customers, products, invoices, reference, accounting, projects):
            app.include_router(module.router)
        app.add_middleware(FaultMiddleware, injector=self.faults)
        app.add_middleware(JournalMiddleware, journal=self.journal)
        return app

    def _response(self, error: ApiError) -> Response:
        return Response(
            dumps(error.body(self.state.next_log_id())),
            status_code=error.status,
            media_type="application/json; charset=utf-8",
            headers=error.headers,
        )

    async def _api_error(self, _request: Request, error: Exception) -> Response:
        assert isinstance(error, ApiError)
        return self._response(error)

    async def _http_error(self, request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        if error.status_code == 405:
            message = f"The {request.method} method is not supported on this resource."
            hint = "PUT must be used with the full document; PATCH is not supported."
        elif error.status_code == 404:
            message, hint = "The resource was not found.", "Follow the links the API returns."
        else:
            message, hint = str(error.detail), None
        return self._response(ApiError(error.status_code, message, hint=hint))

    async def _request_error(self, request: Request, error: Exception) -> Response:
        # Path parameters of the wrong type (e.g. /customers/abc) name no resource.
        return self._response(ApiError(404, f"The resource {request.url.path} was not found."))
