"""The emulator base: what every ERP emulator is assembled from.

An ERP package subclasses :class:`Emulator`, keeps its data in a subclass of
:class:`~.state.EmulatorState`, renders errors with a subclass of :class:`ErrorEnvelope` and
calls :meth:`Emulator.assemble` with its routers. The base adds what every emulator shares:

* the ERP's exception handlers, and the kit's own errors (unknown path, wrong method, a path
  parameter of the wrong type, a bad admin request, an injected fault) rendered through the
  envelope, so every answer has the ERP's shape;
* the request journal (outermost: it sees every request), the fault injector, then the
  middleware the ERP adds (rate-limit windows, …), then the routes;
* the shared ``/_emulator/faults`` and ``/_emulator/journal`` routes, guarded by the ERP's
  admin dependencies;
* routers with their own dependencies (an OAuth bearer check on the API, none on the token
  endpoint), app-wide dependencies, and the state file written once at start, so a state file
  that cannot be written fails the start rather than the first write.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.params import Depends
from fastapi.routing import APIRouter
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.responses import JSONResponse, Response

from ledgerlink.emulators._kit.admin import kit_admin_router
from ledgerlink.emulators._kit.faults import FaultInjector, FaultMiddleware, injected_response
from ledgerlink.emulators._kit.journal import JournalMiddleware, RequestJournal
from ledgerlink.emulators._kit.state import EmulatorState

__all__ = ["Emulator", "ErrorEnvelope", "ErrorHandler", "Routes"]

ErrorHandler = Callable[[Request, Exception], Response]
"""Renders one exception type an ERP's routes raise (e.g. e-conomic's ``ApiError``)."""


class ErrorEnvelope:
    """How one ERP answers the errors the kit meets; an ERP package overrides what differs.

    The defaults answer ``{"message": ...}`` as JSON, and the kit's own body for faults.
    """

    def render(self, request: Request, status: int, message: str) -> Response:
        """An error answer with ``status`` and ``message`` (the kit's admin routes use it)."""
        return JSONResponse({"message": message}, status_code=status)

    def http_error(self, request: Request, error: StarletteHTTPException) -> Response:
        """No route for the path (404), a method the path does not take (405), or any other
        ``HTTPException``."""
        return self.render(request, error.status_code, str(error.detail))

    def invalid_request(self, request: Request, error: RequestValidationError) -> Response:
        """A request whose path parameters do not bind (``/customers/abc`` where the number is
        an integer): such a path names no resource, so 404 by default."""
        return self.render(request, 404, f"The resource {request.url.path} was not found.")

    def injected(self, request: Request, status: int, message: str) -> Response:
        """An injected 5xx or 429 (the fault injector adds ``Retry-After``)."""
        return injected_response(request, status, message)


@dataclass(frozen=True)
class Routes:
    """A router and the dependencies that guard it (e.g. an OAuth bearer check on the API)."""

    router: APIRouter
    dependencies: Sequence[Depends] = ()


def _handler(render: ErrorHandler) -> Callable[[Request, Exception], Awaitable[Response]]:
    # Starlette runs a plain function handler in a worker thread; rendering an error needs none.
    async def handle(request: Request, error: Exception) -> Response:
        return render(request, error)

    return handle


class Emulator:
    """Base of every ERP emulator: its state, fault injector, request journal and app.

    A subclass builds its state, calls ``super().__init__`` and sets ``self.app`` from
    :meth:`assemble` — or, for an ERP that listens on several ports, one app per port, each
    from :meth:`assemble` (they share the state, the fault injector and the journal; serve them
    with :func:`~.serve.running_all`). Route code finds the emulator as
    ``request.app.state.emulator``.
    """

    app: FastAPI

    def __init__(self, *, state: EmulatorState, fault_seed: int = 0) -> None:
        self.state = state
        self.faults = FaultInjector(seed=fault_seed)
        self.journal = RequestJournal()

    def assemble(
        self,
        *,
        title: str,
        errors: ErrorEnvelope,
        routers: Sequence[APIRouter | Routes],
        handlers: Mapping[type[Exception], ErrorHandler] | None = None,
        admin_dependencies: Sequence[Depends] = (),
        middleware: Sequence[Middleware] = (),
        dependencies: Sequence[Depends] = (),
    ) -> FastAPI:
        """The emulator's FastAPI app.

        ``routers`` are included in order, after the kit's admin routes (an ERP's own admin
        routes carry their own guard). ``handlers`` render the ERP's exceptions.
        ``admin_dependencies`` guard ``/_emulator/faults`` and ``/_emulator/journal``.
        ``middleware`` (outermost first) runs inside the journal and the fault injector, so a
        fault that never reached the server is not counted by, say, a rate-limit window.
        ``dependencies`` apply to every route.
        """
        app = FastAPI(
            title=title,
            docs_url=None,
            redoc_url=None,
            openapi_url=None,
            dependencies=list(dependencies),
        )
        app.state.emulator = self
        for kind, render in (handlers or {}).items():
            app.add_exception_handler(kind, _handler(render))

        def http_error(request: Request, error: Exception) -> Response:
            assert isinstance(error, StarletteHTTPException)
            return errors.http_error(request, error)

        def invalid_request(request: Request, error: Exception) -> Response:
            assert isinstance(error, RequestValidationError)
            return errors.invalid_request(request, error)

        app.add_exception_handler(StarletteHTTPException, _handler(http_error))
        app.add_exception_handler(RequestValidationError, _handler(invalid_request))
        app.include_router(
            kit_admin_router(
                faults=self.faults,
                journal=self.journal,
                dependencies=admin_dependencies,
                error=errors.render,
            )
        )
        for routes in routers:
            if isinstance(routes, Routes):
                app.include_router(routes.router, dependencies=list(routes.dependencies))
            else:
                app.include_router(routes)
        for layer in reversed(middleware):
            app.add_middleware(layer.cls, *layer.args, **layer.kwargs)
        app.add_middleware(FaultMiddleware, injector=self.faults, render=errors.injected)
        app.add_middleware(JournalMiddleware, journal=self.journal)
        self.state.save()
        return app

    def close(self) -> None:
        """Stop background work the emulator runs (none by default)."""
