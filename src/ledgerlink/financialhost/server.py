"""The FinancialHost server: the wire contract's operations as typed routes (so the OpenAPI
document at ``/openapi.json`` is the contract), behind the :class:`~.guard.Guard`.

``POST /v1/ops/{operation}``: reads answer 200 with their result. Writes answer with a
:class:`JobOutcome`: 200 once the job is done (succeeded or failed), 202 while it waits (the ERP
is unavailable, or it took longer than ``sync_wait_seconds``); ``job.status`` reads it later.
``GET /health`` is an unsigned liveness check for allow-listed addresses;
``POST /callback/v1/changes`` takes the ERP side's change reports.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from ledgerlink.financialhost.alerts import Alerter
from ledgerlink.financialhost.audit import AuditLog
from ledgerlink.financialhost.changes import ChangeFeed
from ledgerlink.financialhost.database import HostDatabase
from ledgerlink.financialhost.dispatch import Dispatcher
from ledgerlink.financialhost.guard import Guard, ReplayGuard
from ledgerlink.financialhost.jobs import IdempotencyConflict, JobQueue, Worker
from ledgerlink.financialhost.plugin import ErpPlugin, ErpRejected, PluginError
from ledgerlink.financialhost.settings import HostSettings
from ledgerlink.financialhost.vault import Vault
from ledgerlink.wire import callback
from ledgerlink.wire import operations as ops
from ledgerlink.wire.relay import AuditAnchor
from ledgerlink.wire.signing import SigningKey


def host_version() -> str:
    try:
        return version("ledgerlink")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


def _error(status: int, error: ops.WireError, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(
        ops.ErrorBody(error=error).model_dump(mode="json"), status_code=status, headers=headers
    )


class Host:
    """One FinancialHost: its database, audit log, job queue, worker and ASGI app."""

    def __init__(
        self,
        settings: HostSettings,
        plugin: ErpPlugin,
        *,
        vault: Vault | None = None,
        certificate_expires: datetime | None = None,
    ) -> None:
        self.settings = settings
        self.plugin = plugin
        self.vault = vault or Vault(settings.data_dir)
        self.certificate_expires = certificate_expires
        self.database = HostDatabase(settings.database_file)
        self.audit = AuditLog(self.database, settings.data_dir / "audit.head")
        self.changes = ChangeFeed(self.database)
        self.queue = JobQueue(self.database, self.audit, settings.retry)
        self.dispatcher = Dispatcher(plugin, self.changes, host_version=host_version())
        self.alerter = Alerter(
            settings.alerts,
            customer_name=settings.customer_name,
            vault=self.vault,
            audit=self.audit,
            certificate_expires=certificate_expires,
        )
        self.worker = Worker(self.queue, self.dispatcher.execute, alerter=self.alerter)
        self._erp_problem = ""
        self.app = Guard(
            self._build_app(),
            settings=settings,
            keys=self.signing_keys,
            callback_secrets=self.callback_secrets,
            replay=ReplayGuard(self.database),
            audit=self.audit,
            observer=self.alerter.observe,
        )

    # keys ---------------------------------------------------------------------------------

    def signing_keys(self) -> list[SigningKey]:
        """The hub keys this host accepts, newest first, with their secrets from the vault."""
        keys = self.vault.signing_keys()
        if not keys:
            raise RuntimeError("No hub key is configured; add one with 'ledgerlink host key add'.")
        return keys

    def callback_secrets(self) -> dict[str, str]:
        handle = self.settings.callback_handle
        secret = self.vault.find(f"callback:{handle}") if handle else None
        return {handle: secret} if handle and secret else {}

    # lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        self.audit.append(
            "host.started",
            version=host_version(),
            plugin=self.plugin.name,
            pending=self.queue.depth()[0],
        )
        self.alerter.start()
        self.worker.start()
        self.app.start()

    def stop(self) -> None:
        self.app.stop()
        self.worker.stop()
        self.alerter.stop()
        self.plugin.close()
        self.audit.append("host.stopped")
        self.database.close()

    # routes ---------------------------------------------------------------------------------

    def _build_app(self) -> FastAPI:
        app = FastAPI(
            title="ledgerlink FinancialHost",
            version=ops.WIRE_VERSION,
            description=(
                "Allow-listed, signed operations on the local ERP. Every request to "
                "/v1/ops/* carries X-FH-Key-Id, X-FH-Timestamp, X-FH-Nonce, X-FH-Transaction "
                "and X-FH-Signature (v1=HMAC-SHA256 over method, path, sorted query, "
                "timestamp, nonce, key id, transaction id and the body's SHA-256); answers "
                "are signed the same way."
            ),
            docs_url=None,
            redoc_url=None,
        )
        app.add_exception_handler(RequestValidationError, self._invalid)
        app.add_exception_handler(HTTPException, self._http_error)
        app.add_exception_handler(PluginError, self._plugin_error)
        app.add_exception_handler(IdempotencyConflict, self._conflict)
        app.add_exception_handler(LookupError, self._not_found)
        app.get("/health", tags=["host"])(self._health)
        app.post(callback.PATH, tags=["callback"], include_in_schema=False)(self._callback)
        for operation in ops.OPERATIONS.values():
            handler = self._handler(operation)
            app.post(
                f"/v1/ops/{operation.name}",
                name=operation.name,
                summary=operation.summary,
                tags=["writes" if operation.write else "reads"],
                response_model=ops.JobOutcome if operation.write else operation.result,
                responses={
                    401: {"model": ops.ErrorBody},
                    403: {"model": ops.ErrorBody},
                    413: {"model": ops.ErrorBody},
                    422: {"model": ops.ErrorBody},
                    503: {"model": ops.ErrorBody},
                    **(
                        {202: {"model": ops.JobOutcome}, 409: {"model": ops.ErrorBody}}
                        if operation.write
                        else {}
                    ),
                    **({404: {"model": ops.ErrorBody}} if operation.name == "job.status" else {}),
                },
            )(handler)
        return app

    def _handler(self, operation: ops.Operation) -> Callable[..., Any]:
        def handle(body: ops.WireModel) -> Any:
            if operation.write:
                return self._write(operation, body)
            return self._read(operation, body)

        # FastAPI reads the body's type from the signature; set it per operation.
        handle.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [
                inspect.Parameter(
                    "body", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=operation.request
                )
            ]
        )
        handle.__name__ = operation.name.replace(".", "_")
        return handle

    def _read(self, operation: ops.Operation, body: ops.WireModel) -> ops.WireModel:
        if operation.name == "host.health":
            return self.health()
        if operation.name == "host.version":
            return ops.VersionInfo(
                host_version=host_version(),
                plugin=self.plugin.name,
                erp_version=self._erp_version(),
            )
        if isinstance(body, ops.JobQuery):
            outcome = self.queue.get(body.idempotency_key)
            if outcome is None:
                raise LookupError(f"No job has the idempotency key '{body.idempotency_key}'.")
            return outcome
        result = self.dispatcher.read(operation.name, body)
        if operation.name != "changes.read":  # that one reads the host's table, not the ERP
            self.alerter.erp_available()
        if isinstance(result, ops.ConnectionInfo) and isinstance(body, ops.ConnectionTest):
            result = result.model_copy(update={"audit": self._anchor(body.audit_held_count)})
        return result

    def _anchor(self, held: int | None) -> AuditAnchor:
        """The audit head for the hub to keep, with the MAC of the record the hub holds."""
        head = self.audit.anchor()
        return AuditAnchor(
            count=head.count,
            mac=head.mac,
            held_count=held,
            held_mac=self.audit.mac_at(held) if held else "",
        )

    def _write(self, operation: ops.Operation, body: ops.WireModel) -> Response:
        key = getattr(body, "idempotency_key")  # noqa: B009 - every write model has one
        content = body.model_dump(mode="json")
        digest = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
        accepted = self.queue.accept(
            operation=operation.name, idempotency_key=key, digest=digest, body=content
        )
        outcome = self.queue.wait(accepted.outcome.job_id, self.settings.sync_wait_seconds)
        assert outcome is not None
        status = 202 if outcome.state is ops.JobState.PENDING else 200
        return JSONResponse(outcome.model_dump(mode="json"), status_code=status)

    def _erp_version(self) -> str:
        try:
            return str(self.dispatcher.call(self.plugin.erp_version))
        except PluginError as error:
            self._erp_problem = error.message
            return ""

    def health(self) -> ops.HealthReport:
        depth, oldest = self.queue.depth()
        try:
            self.dispatcher.call(self.plugin.test)
            reachable, problem = True, ""
        except PluginError as error:
            reachable = False
            problem = error.message + (f" ({error.erp_text})" if error.erp_text else "")
        return ops.HealthReport(
            status="ok" if reachable else "degraded",
            erp_reachable=reachable,
            erp_error=problem,
            queue_depth=depth,
            oldest_pending_seconds=oldest,
            host_version=host_version(),
            certificate_expires=self.certificate_expires,
        )

    async def _health(self) -> dict[str, str]:
        # async: answered on the event loop, never behind ERP calls waiting for a thread.
        return {"status": "ok", "version": host_version(), "time": datetime.now(UTC).isoformat()}

    async def _callback(self, request: Request) -> Response:
        # The guard has checked the signature and that the body is a batch.
        batch = callback.CallbackBatch.model_validate_json(await request.body())
        new = await anyio.to_thread.run_sync(self._store_changes, batch)
        return JSONResponse({"accepted": len(batch.changes), "new": new})

    def _store_changes(self, batch: callback.CallbackBatch) -> int:
        new = self.changes.store(batch)
        self.audit.append(
            "callback.changes",
            company=batch.company,
            received=len(batch.changes),
            new=new,
        )
        return new

    # errors ---------------------------------------------------------------------------------

    async def _invalid(self, _request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        problems = tuple(
            ops.FieldProblem(
                path=".".join(str(p) for p in e.get("loc", ()) if p != "body"),
                message=str(e.get("msg", "")),
                code=str(e.get("type", "")),
            )
            for e in error.errors()
        )
        return _error(
            422,
            ops.WireError(
                code=ops.ErrorCode.INVALID,
                message="The body does not match the operation's schema.",
                hint="Fix the fields listed and send the request again.",
                field_errors=problems[:50],
            ),
        )

    async def _plugin_error(self, _request: Request, error: Exception) -> Response:
        assert isinstance(error, PluginError)
        rejected = isinstance(error, ErpRejected)
        if rejected:
            self.alerter.erp_available()
        else:
            self.alerter.erp_unavailable(error.message, erp_text=error.erp_text)
        return _error(
            422 if rejected else 503,
            ops.WireError(
                code=ops.ErrorCode.ERP_REJECTED if rejected else ops.ErrorCode.ERP_UNAVAILABLE,
                message=error.message,
                erp_text=error.erp_text,
                hint=error.hint,
                field_errors=error.field_errors,
            ),
            headers=None if rejected else {"Retry-After": "30"},
        )

    async def _http_error(self, _request: Request, error: Exception) -> Response:
        """Starlette's own refusals (no such route, wrong method, a body it cannot parse) in
        the wire error body instead of ``{"detail": …}``."""
        assert isinstance(error, HTTPException)
        status = error.status_code
        code = ops.ErrorCode.NOT_FOUND if status in (404, 405) else ops.ErrorCode.INVALID
        return _error(status, ops.WireError(code=code, message=str(error.detail)[:500]))

    async def _not_found(self, _request: Request, error: Exception) -> Response:
        return _error(404, ops.WireError(code=ops.ErrorCode.NOT_FOUND, message=str(error)))

    async def _conflict(self, _request: Request, error: Exception) -> Response:
        return _error(409, ops.WireError(code=ops.ErrorCode.CONFLICT, message=str(error)))
