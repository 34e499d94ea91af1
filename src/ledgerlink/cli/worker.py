"""``ledgerlink worker``: a process that runs transfers and pulls from the durable queue, on
this machine or any other sharing the hub's databases; with ``--metrics-port`` it serves its
own Prometheus metrics (issue 14 item 11), as each process Prometheus watches does."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

import structlog
import typer

from ledgerlink.cli.context import UserError, state_of
from ledgerlink.cli.integration import secrets_of, workers_of
from ledgerlink.cli.serve import count_erp_requests, is_loopback
from ledgerlink.store.database import Database
from ledgerlink.sync.engine import Engine
from ledgerlink.sync.registry import ConnectorProvider, hub_environment
from ledgerlink.sync.worker import run_worker
from ledgerlink.web.metrics import HubMetrics, MeteredLimiter, MetricsEndpoint


@dataclass(frozen=True, slots=True)
class WorkerMetrics:
    """A worker's metrics: the counters, the limiter that counts its waits (its connectors
    use it), and the URL they are served at."""

    metrics: HubMetrics
    limiter: MeteredLimiter
    url: str


@contextmanager
def worker_metrics(
    database: Database, *, host: str, port: int, verbose: bool = False
) -> Iterator[WorkerMetrics]:
    """Serve this process's counters (ERP requests by status, rate-limit waits) on
    ``host``:``port`` (0: a free port) while the block runs; the connectors built inside it
    with its ``limiter`` are counted. The database-counted families are not served here
    (``ledgerlink serve`` has them), so serve plus every worker add up without counting
    twice. A port that cannot be had is a one-line :class:`UserError`."""
    if not 0 <= port < 65536:
        raise UserError(f"--metrics-port {port} is not a port (1-65535, or 0 for a free one)")
    metrics = HubMetrics(None)
    try:
        endpoint = MetricsEndpoint(metrics, host=host, port=port)
    except OSError as error:
        raise UserError(
            f"cannot serve metrics on {host}:{port} ({error.strerror or error}); "
            "choose another --metrics-port or --metrics-host"
        ) from None
    saved = structlog.get_config()
    try:
        count_erp_requests(metrics, verbose=verbose)
        yield WorkerMetrics(metrics, MeteredLimiter(database, metrics), endpoint.url)
    finally:
        structlog.configure(**saved)
        endpoint.close()


def worker(
    ctx: typer.Context,
    until_idle: Annotated[
        bool, typer.Option(help="Stop when no transfer or pull is waiting (after recovering).")
    ] = False,
    interval: Annotated[float, typer.Option(help="Seconds between rounds.")] = 30,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            help="Serve this worker's Prometheus metrics on this port (ERP requests by "
            "status, rate-limit waits: counted in this process). Transfers by outcome and "
            "queue depth are read from the database by 'ledgerlink serve' only, so scraping "
            "serve and each worker adds up without counting twice."
        ),
    ] = None,
    metrics_host: Annotated[
        str,
        typer.Option(
            help="Interface the metrics listen on. The endpoint has no sign-in: beyond "
            "loopback, only the scraper may reach it (a firewall)."
        ),
    ] = "127.0.0.1",
) -> None:
    """Run transfers and pulls until stopped.

    It recovers the transfers a stopped worker left, runs the transfers queued by posting,
    and every round starts the transfers of posted documents of connections with automatic
    transfer and pulls balancing and expenses."""
    state = state_of(ctx)
    state.database.ensure_ready()
    secrets = secrets_of(state)
    with _metrics_if(state.database, metrics_port, metrics_host, state.verbose) as metered:
        if metered is not None:
            state.console.print(f"Metrics of this worker: {metered.url}")
            if not is_loopback(metrics_host):
                state.console.print(
                    f"The metrics listen on {metrics_host} without sign-in: let only the "
                    "scraper reach that port."
                )
        environment = hub_environment(
            state.database, secrets, limiter=metered.limiter if metered else None
        )
        engine = Engine(state.database, ConnectorProvider(secrets, environment=environment))
        workers = workers_of(state, engine)
        stop = threading.Event()
        with _stopped_by_sigterm(stop, state.console.print):
            workers.start()
            try:
                run_worker(
                    engine,
                    workers,
                    until_idle=until_idle,
                    interval=interval,
                    stop=stop,
                    on_idle=lambda: state.console.print("No transfers waiting; stopping."),
                )
            finally:
                workers.stop()
                engine.connectors.close()


@contextmanager
def _stopped_by_sigterm(stop: threading.Event, say: Callable[[str], None]) -> Iterator[None]:
    """SIGTERM (``systemctl stop``, ``docker stop``, Kubernetes) stops the worker as Ctrl-C
    does: no new work, the running transfers get a grace period, and what is left is
    recovered by the next worker. Only the main thread can take signals; elsewhere nothing
    changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _on_sigterm(_signum: int, _frame: object) -> None:
        say("Stopping (SIGTERM): finishing what is running; the next worker recovers the rest.")
        stop.set()

    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _metrics_if(
    database: Database, port: int | None, host: str, verbose: bool
) -> Iterator[WorkerMetrics | None]:
    if port is None:
        yield None
        return
    with worker_metrics(database, host=host, port=port, verbose=verbose) as metered:
        yield metered
