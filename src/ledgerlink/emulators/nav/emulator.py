"""The :class:`NavEmulator`: the kit's base with NAV's configuration, state, routers and errors."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from ledgerlink.emulators._kit.admin import ADMIN_PREFIX
from ledgerlink.emulators._kit.base import Emulator, ErrorEnvelope
from ledgerlink.emulators.nav import admin, odata, soap
from ledgerlink.emulators.nav.config import NavConfig
from ledgerlink.emulators.nav.errors import NavError
from ledgerlink.emulators.nav.http import Unauthorized, authenticate_basic, unauthorized_response
from ledgerlink.emulators.nav.jobqueue import JobQueueTimer, RunResult, run_change_handler
from ledgerlink.emulators.nav.logic import Books
from ledgerlink.emulators.nav.seed import seed_company
from ledgerlink.emulators.nav.state import Company, NavState

__all__ = ["NavEmulator"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class NavEmulator(Emulator):
    """A faithful local stand-in for a Dynamics NAV 2017 server instance's web services.

    ``config`` describes the server (defaults: instance ``DynamicsNAV100``, companies
    ``CRONUS International Ltd.`` and ``TEST``, NavUserPassword with user ``WEBSERVICE`` /
    ``Passw0rd!``, the TimeLog ``Tlp*`` services). ``state_file`` keeps every company in a
    JSON file: loaded at start, rewritten after every write. ``clock`` returns the current
    (aware) time; the job-queue timer runs only when ``config.job_queue_interval_seconds`` is
    set — call :meth:`close` to stop it.
    """

    state: NavState

    def __init__(
        self,
        *,
        config: NavConfig | None = None,
        state_file: Path | None = None,
        fault_seed: int = 0,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.config = config or NavConfig()
        self.clock = clock
        fresh = {}
        for name in self.config.companies:
            company = Company(name=name)
            if self.config.seed_data:
                seed_company(self._books(company))
            fresh[name] = company
        super().__init__(state=NavState(fresh, state_file=state_file), fault_seed=fault_seed)
        # NAV serves SOAP and OData on two ports (7047 and 7048 by default), each its own base
        # URL; the admin routes answer on both.
        self.apps = {
            "soap": self._app("SOAP", NavErrors(odata_port=False), soap.router),
            "odata": self._app("OData V4", NavErrors(odata_port=True), odata.router),
        }
        self._timer: JobQueueTimer | None = None
        if self.config.job_queue_interval_seconds:
            self._timer = JobQueueTimer(
                self,
                interval=self.config.job_queue_interval_seconds,
                window=self.config.job_queue_window,
            )
            self._timer.start()

    def _app(self, protocol: str, errors: NavErrors, router: APIRouter) -> FastAPI:
        return self.assemble(
            title=f"Dynamics NAV {protocol} web services (ledgerlink emulator)",
            errors=errors,
            handlers={
                NavError: errors.nav_error,
                soap.SoapNotFound: errors.soap_not_found,
                odata.ODataError: errors.odata_error,
                Unauthorized: errors.unauthorized,
            },
            admin_dependencies=[Depends(authenticate_basic)],
            routers=[admin.router, router],
        )

    def _books(self, company: Company) -> Books:
        return Books(self.config, company, now=self.clock)

    def books(self, company: str) -> Books:
        """The business logic of ``company`` (hold ``state.lock`` while using it)."""
        return self._books(self.state.companies[company])

    def run_job_queue(self, company: str | None = None) -> list[RunResult]:
        """Run the "Tlp Change Handler" now for ``company`` (default: every company)."""
        companies = [company] if company else list(self.config.companies)
        return [run_change_handler(self, name) for name in companies]

    def close(self) -> None:
        """Stop the job-queue timer, if running."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def base_urls(self, roots: Mapping[str, str]) -> dict[str, str]:
        """The SOAP and OData base URLs (and the admin routes', on the SOAP port) given the root
        URL each of :attr:`apps` is served at (e.g. ``{"soap": "http://127.0.0.1:7047",
        "odata": "http://127.0.0.1:7048"}``)."""
        instance = self.config.server_instance
        return {
            "soap": f"{roots['soap']}/{instance}/WS",
            "odata": f"{roots['odata']}/{instance}/ODataV4",
            "admin": f"{roots['soap']}{ADMIN_PREFIX}",
        }


class NavErrors(ErrorEnvelope):
    """NAV's answers: OData errors on the OData port, SOAP faults and plain text on the SOAP
    port, ``{"error": {"code", "message"}}`` on the admin routes."""

    def __init__(self, *, odata_port: bool) -> None:
        self.odata_port = odata_port

    def nav_error(self, request: Request, error: Exception) -> Response:
        """A C/AL or platform error, in the shape of the protocol it came through."""
        assert isinstance(error, NavError)
        path = request.url.path
        if path.startswith(ADMIN_PREFIX):
            failure = error.failure
            return admin.admin_error(failure.odata_status, error.message, failure.odata_code)
        if self.odata_port:
            return odata.error_response(
                error.failure.odata_status, error.failure.odata_code, error.message
            )
        return soap.fault_response(error)

    def odata_error(self, _request: Request, error: Exception) -> Response:
        """An OData protocol error."""
        assert isinstance(error, odata.ODataError)
        return odata.error_response(error.status, error.code, error.message)

    def soap_not_found(self, _request: Request, error: Exception) -> Response:
        """A SOAP service or operation that does not exist."""
        assert isinstance(error, soap.SoapNotFound)
        return soap.fault_response(error)

    def unauthorized(self, _request: Request, error: Exception) -> Response:
        """401 with the challenges of the credential type."""
        assert isinstance(error, Unauthorized)
        return unauthorized_response(error)

    def render(self, request: Request, status: int, message: str) -> Response:
        """The kit raises errors of its own only on the admin routes."""
        return admin.admin_error(status, message)

    def http_error(self, request: Request, error: StarletteHTTPException) -> Response:
        """An OData error on the OData port, plain text on the SOAP port (as HTTP.sys
        answers)."""
        if self.odata_port:
            return odata.error_response(
                error.status_code, "BadRequest_ResourceNotFound", str(error.detail)
            )
        return Response(str(error.detail), status_code=error.status_code, media_type="text/plain")

    def invalid_request(self, request: Request, error: RequestValidationError) -> Response:
        """Plain text 404: the path names no resource."""
        return Response(
            f"The resource {request.url.path} was not found.",
            status_code=404,
            media_type="text/plain",
        )
