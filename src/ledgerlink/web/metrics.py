"""``/health`` and ``/metrics`` (issue 14 item 11): what an operator's monitoring asks the hub.

``/health`` answers at once: it reads nothing from any ERP, only whether the hub's database
answers a ``SELECT 1`` (within :data:`HEALTH_TIMEOUT`); 200 when it does, 503 when not.

``/metrics`` is the Prometheus text format (``prometheus_client``), with metrics of two kinds:

* **counted from the database at scrape time**, so the work of every worker process on every
  machine is in them: transfers and expense exports by outcome (the integration log), and the
  durable queue's depth (DBOS's workflows waiting or running, read from its system database).
  ``ledgerlink serve`` alone serves these;
* **counted in each process** (the help text says so): ERP requests by answer status (the
  connectors' HTTP client logs each answer; :meth:`HubMetrics.observe_log` counts the log
  events) and the shared rate limiter's waits (:class:`MeteredLimiter`). ``ledgerlink serve``
  serves its own (its requests and those of the workers it runs); a ``ledgerlink worker``
  started apart serves its own with ``--metrics-port`` (:func:`serve_process_metrics`, no
  database-counted family there). Prometheus scrapes serve and each worker as separate
  targets, and the sum over the targets counts every request once: the way Prometheus
  expects separate processes to be watched.

Who may read ``/metrics`` of ``serve``: a scraper on this machine (a loopback peer whose
request did not come through a proxy), or anyone sending an admin's API key
(``Authorization: Bearer …``). The counts name ERPs and connections, not customers or
documents, but they are still the business's activity, so they are not public. A worker's
endpoint has no sign-in: it listens on loopback unless ``--metrics-host`` says otherwise, and
then the network (a firewall) must keep it to the scraper.
"""

from __future__ import annotations

import asyncio
import ipaddress
import threading
import time
from collections.abc import Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from dbos import DBOSClient
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CollectorRegistry, Counter, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from ledgerlink import __version__
from ledgerlink.connectors._kit.limiter import LimiterKey
from ledgerlink.connectors.contract import Transient
from ledgerlink.domain.users import Permission
from ledgerlink.store.api_keys import ApiKeyStore
from ledgerlink.store.database import Database
from ledgerlink.store.ratelimits import RateLimitStore
from ledgerlink.store.tables import ConnectionRow, ExpenseExportRow, TransferRow
from ledgerlink.sync.ratelimit import DatabaseLimiter
from ledgerlink.sync.workflows import Runtime, WorkerOptions, Workers

#: Seconds /health waits for the database before it answers 503.
HEALTH_TIMEOUT = 2.0
#: The DBOS workflow states that are queue depth (as ``Workers.pending_count`` counts them).
_WAITING = ["PENDING", "ENQUEUED", "DELAYED"]
#: Headers a reverse proxy adds: a request carrying one came through a proxy, not from here.
_FORWARDED = (b"x-forwarded-for", b"x-forwarded-proto", b"forwarded", b"x-real-ip")


class QueueDepth:
    """How many workflows are waiting or running on the durable queue, in all processes.

    Asked of DBOS itself when this process runs the workers (``Workers.pending_count``), else
    of its system database through a :class:`DBOSClient` made at the first scrape. ``None``
    when the system database cannot be read; 0 when no worker ever created it."""

    def __init__(self, options: WorkerOptions) -> None:
        self._options = options
        self._lock = threading.Lock()
        self._client: DBOSClient | None = None

    def __call__(self) -> int | None:
        if Runtime.launched:
            return Workers.pending_count()
        url = self._options.system_database_url
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").exists():
            return 0  # SQLite would create an empty file: no worker has run here yet
        try:
            with self._lock:
                if self._client is None:
                    self._client = DBOSClient(
                        system_database_url=url,
                        dbos_system_schema=self._options.system_database_schema or "dbos",
                        lazy=True,
                        # An unreachable database is a missing number, not a scrape that hangs.
                        retry_connection_errors=False,
                        observability_query_timeout_sec=HEALTH_TIMEOUT,
                    )
                client = self._client
            found = client.list_workflows(status=_WAITING, load_input=False, load_output=False)
        except Exception:  # DBOS wraps database errors in its own; any of them: no number
            return None
        return len(found)

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.destroy()
                self._client = None


class _IntegrationLog(Collector):
    """The numbers read from the databases at each scrape."""

    def __init__(self, database: Database, queue: Callable[[], int | None] | None) -> None:
        self._database = database
        self._queue = queue

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "ledgerlink_database_up",
            "1 when the hub's database answered this scrape, 0 when it did not.",
        )
        try:
            transfers, exports = self._counts()
        except SQLAlchemyError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield transfers
        yield exports
        if self._queue is not None:
            try:
                depth = self._queue()
            except Exception:  # DBOS's own errors included: the scrape goes on without it
                depth = None
            if depth is not None:
                queue = GaugeMetricFamily(
                    "ledgerlink_queue_depth",
                    "Workflows (transfer batches, transfers, pulls) waiting, delayed or "
                    "running on the durable queue, in every worker process (DBOS's system "
                    "database).",
                )
                queue.add_metric([], depth)
                yield queue

    def _counts(self) -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        labels = ["erp", "connection", "status"]
        transfers = GaugeMetricFamily(
            "ledgerlink_transfers",
            "Transfers of invoices and credit notes in the integration log, by connection and "
            "outcome (pending, successful, partially_failed, failed); every process's, read "
            "from the database at scrape time.",
            labels=labels,
        )
        exports = GaugeMetricFamily(
            "ledgerlink_expense_exports",
            "Expense exports in the integration log, by connection and outcome; every "
            "process's, read from the database at scrape time.",
            labels=labels,
        )
        with self._database.engine.connect() as connection:
            for family, table in ((transfers, TransferRow), (exports, ExpenseExportRow)):
                rows = connection.execute(
                    sa.select(ConnectionRow.erp, table.connection_id, table.status, sa.func.count())
                    .join(ConnectionRow, ConnectionRow.id == table.connection_id)
                    .group_by(ConnectionRow.erp, table.connection_id, table.status)
                    .order_by(table.connection_id, table.status)
                )
                for erp, connection_id, status, count in rows:
                    family.add_metric([erp, str(connection_id), status], count)
        return transfers, exports


class HubMetrics:
    """The hub's metrics: one registry per app (no module state), the collectors over the
    database, and this process's counters (fed by :meth:`observe_log` and
    :class:`MeteredLimiter`).

    ``database``: the hub's, whose integration log (and ``queue_depth``) each scrape reads;
    None in a worker started apart, whose endpoint has this process's counters alone (the
    database's numbers are serve's, so a sum over the scrape targets counts nothing twice)."""

    def __init__(
        self, database: Database | None, *, queue_depth: Callable[[], int | None] | None = None
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        if database is not None:
            self.registry.register(_IntegrationLog(database, queue_depth))
        process = " Counted in this process only: 'ledgerlink serve' counts its own and its "
        process += "workers', each 'ledgerlink worker --metrics-port' its own; sum the targets."
        self.erp_requests = Counter(
            "ledgerlink_erp_requests",
            "HTTP requests to ERPs by ERP and answer: the HTTP status, or the transport "
            "error's name when no answer came (ConnectTimeout, ReadTimeout, ...)." + process,
            ["erp", "status"],
            registry=self.registry,
        )
        self.rate_limit_waits = Counter(
            "ledgerlink_rate_limit_waits",
            "ERP requests the shared rate limiter made wait for a free slot." + process,
            ["erp"],
            registry=self.registry,
        )
        self.rate_limit_wait_seconds = Counter(
            "ledgerlink_rate_limit_wait_seconds",
            "Seconds ERP requests slept waiting for the shared rate limiter." + process,
            ["erp"],
            registry=self.registry,
        )
        self.rate_limit_deferrals = Counter(
            "ledgerlink_rate_limit_deferrals",
            "ERP requests whose next free slot was too far away to sleep for: their transfer "
            "went back to the queue to resume after the wait." + process,
            ["erp"],
            registry=self.registry,
        )
        self.rate_limit_server_pauses = Counter(
            "ledgerlink_rate_limit_server_pauses",
            "Pauses an ERP asked for (429, Retry-After, X-RateLimit-Remaining: 0)." + process,
            ["erp"],
            registry=self.registry,
        )

    def render(self, accept: str = "") -> tuple[bytes, str]:
        """Every metric (reads the database) in the format the scraper's ``Accept`` header
        asks for (Prometheus text 0.0.4 by default, OpenMetrics when asked), and its content
        type."""
        encode, content_type = choose_encoder(accept)
        return encode(self.registry), content_type

    def observe_log(
        self, _logger: Any, _method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        """A structlog processor: counts the connectors' HTTP client's log events, one per
        ERP answer (``http.response``) or request without an answer (``http.failed``), and
        passes every event on unchanged."""
        name = event.get("event")
        if name == "http.response":
            self.erp_requests.labels(str(event.get("erp", "")), str(event.get("status"))).inc()
        elif name == "http.failed":
            self.erp_requests.labels(str(event.get("erp", "")), str(event.get("error"))).inc()
        return event


class MeteredLimiter:
    """The rate limiter every worker process shares through the database
    (:class:`~ledgerlink.sync.ratelimit.DatabaseLimiter`), counting in ``metrics`` what it
    makes this process do: wait (and for how long), hand a transfer back to the queue, pause
    because the ERP asked."""

    def __init__(self, database: Database, metrics: HubMetrics) -> None:
        self._metrics = metrics
        self._slept = threading.local()
        self.inner = DatabaseLimiter(RateLimitStore(database), sleep=self._sleep)

    def _sleep(self, seconds: float) -> None:
        self._slept.seconds = getattr(self._slept, "seconds", 0.0) + seconds
        time.sleep(seconds)

    def acquire(self, key: LimiterKey) -> None:
        self._slept.seconds = 0.0
        try:
            self.inner.acquire(key)
        except Transient:
            self._metrics.rate_limit_deferrals.labels(key.erp).inc()
            raise
        finally:
            slept = float(getattr(self._slept, "seconds", 0.0))
            if slept > 0:
                self._metrics.rate_limit_waits.labels(key.erp).inc()
                self._metrics.rate_limit_wait_seconds.labels(key.erp).inc(slept)

    def defer(self, key: LimiterKey, seconds: float) -> None:
        self._metrics.rate_limit_server_pauses.labels(key.erp).inc()
        self.inner.defer(key, seconds)


class MetricsEndpoint:
    """One process's counters of ``metrics`` served over HTTP on ``host``:``port`` (0: a free
    port) by prometheus_client's own server, in a daemon thread, until :meth:`close`. What
    ``ledgerlink worker --metrics-port`` serves; an ``OSError`` when the port cannot be had."""

    def __init__(self, metrics: HubMetrics, *, host: str, port: int) -> None:
        self._server, self._thread = start_http_server(port, addr=host, registry=metrics.registry)

    @property
    def url(self) -> str:
        """Where a scraper finds the metrics (any path answers; ``/metrics`` by convention)."""
        address = self._server.server_address
        host = str(address[0])
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{address[1]}/metrics"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_local(request: Request) -> bool:
    """Whether the request comes from this machine and not through a proxy (a proxy on this
    machine relays everyone's requests from a loopback address)."""
    if request.client is None or not _loopback(request.client.host):
        return False
    return not any(name in _FORWARDED for name, _ in request.scope.get("headers", ()))


def serving_router(database: Database, metrics: HubMetrics) -> APIRouter:
    """``GET /health`` and ``GET /metrics`` (see the module docstring)."""
    router = APIRouter()
    keys = ApiKeyStore(database)

    def database_answers() -> bool:
        try:
            with database.engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    async def health(_request: Request) -> Response:
        try:
            reachable = await asyncio.wait_for(
                run_in_threadpool(database_answers), timeout=HEALTH_TIMEOUT
            )
        except TimeoutError:
            reachable = False
        return JSONResponse(
            {
                "status": "ok" if reachable else "unavailable",
                "database": "reachable" if reachable else "unreachable",
                "version": __version__,
            },
            status_code=200 if reachable else 503,
            headers={"Cache-Control": "no-store"},
        )

    async def scrape(request: Request) -> Response:
        if not is_local(request):
            refused = await run_in_threadpool(_refusal, request, keys)
            if refused is not None:
                return refused
        body, content_type = await run_in_threadpool(
            metrics.render, request.headers.get("accept", "")
        )
        return Response(body, headers={"Content-Type": content_type})

    # Plain routes, not the console's: neither takes a session, each has its own rule.
    router.add_route("/health", health, methods=["GET"], include_in_schema=False)
    router.add_route("/metrics", scrape, methods=["GET"], include_in_schema=False)
    return router


def _refusal(request: Request, keys: ApiKeyStore) -> Response | None:
    """None when the request carries an admin's API key, else the answer that refuses it."""
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return PlainTextResponse(
            "/metrics is served to this machine, or with an admin's API key "
            "(Authorization: Bearer <key>).\n",
            status_code=403,
        )
    caller = keys.authenticate(key.strip())
    if caller is None:
        return PlainTextResponse(
            "The API key is not valid.\n",
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="ledgerlink", error="invalid_token"'},
        )
    if not caller.role.may(Permission.ADMINISTER):
        return PlainTextResponse(
            f"/metrics needs an admin's API key; {caller.user_name} is {caller.role.value}.\n",
            status_code=403,
        )
    return None
