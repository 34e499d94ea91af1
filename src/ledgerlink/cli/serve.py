"""``ledgerlink serve`` and ``ledgerlink agents``: the hub's HTTPS endpoint — the web console,
the JSON API, the relay where FinancialHost agents fetch their work, /health and /metrics —
and what the hub knows of its agents.

Served like a product (issue 14 item 11): HTTPS, or behind a reverse proxy whose address is
named (forwarded headers are honoured from it alone, never by default); an access log of JSON
lines without secrets; /metrics fed by this process's ERP requests and rate-limit waits and by
the database's integration log and queue."""

from __future__ import annotations

import ipaddress
import json
import logging
import threading
from collections.abc import Callable, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import structlog
import typer
import uvicorn
from dbos import error as dbos_errors
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError

from ledgerlink.cli.context import UserError, state_of
from ledgerlink.cli.integration import secrets_of
from ledgerlink.cli.render import Column, Grid
from ledgerlink.domain.transfers import Transfer, TransferStatus
from ledgerlink.store.database import Database
from ledgerlink.store.relay import Agent, RelayStore
from ledgerlink.sync.engine import Engine
from ledgerlink.sync.registry import ConnectorProvider, hub_environment
from ledgerlink.sync.secrets import SecretBox
from ledgerlink.sync.transfers import Progress
from ledgerlink.sync.workflows import WorkerOptions, Workers
from ledgerlink.web.access_log import served
from ledgerlink.web.app import create_app
from ledgerlink.web.console import ConsoleOptions
from ledgerlink.web.metrics import HubMetrics, MeteredLimiter, QueueDepth

agents_app = typer.Typer(no_args_is_help=True, help="FinancialHost agents that call this hub.")


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8443,
    tls_cert: Annotated[Path | None, typer.Option(help="TLS certificate (PEM).")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="TLS private key (PEM).")] = None,
    behind_proxy: Annotated[
        bool,
        typer.Option(
            help="Serve behind a reverse proxy that terminates TLS (plain HTTP on loopback, "
            "or HTTPS with --tls-cert/--tls-key); needs --trusted-proxy."
        ),
    ] = False,
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option(
            help="The proxy's address or network (e.g. 127.0.0.1, 10.0.0.0/24; repeat or "
            "separate with commas): X-Forwarded-For/-Proto are honoured from these alone."
        ),
    ] = None,
) -> None:
    """Serve the hub's endpoints until stopped.

    The web console is at / (users: 'ledgerlink users add'), the JSON API under /api/v1,
    the FinancialHost agent relay under /agent/v1, /health and /metrics (Prometheus; from
    this machine, or with an admin's API key). HTTPS with --tls-cert/--tls-key; behind a
    reverse proxy that terminates TLS, --behind-proxy and --trusted-proxy naming the proxy
    (the console's cookies are Secure either way). One JSON line per request goes to stdout
    (the access log: no header, cookie or form field in it)."""
    state = state_of(ctx)
    listening = listening_of(
        host=host,
        port=port,
        tls_cert=tls_cert,
        tls_key=tls_key,
        behind_proxy=behind_proxy,
        trusted_proxy=trusted_proxy or [],
    )
    state.database.ensure_ready()
    state.settings.data_dir.mkdir(parents=True, exist_ok=True)
    options = WorkerOptions(
        system_database_url=state.settings.effective_system_database_url,
        system_database_schema=state.settings.system_database_schema,
        receipts_dir=state.settings.data_dir / "receipts",
    )
    typer.echo(
        f"ledgerlink hub on {listening.url} (console: /, API: /api/v1, agents: /agent/v1, "
        "/health, /metrics)"
        + (f", behind {', '.join(listening.trusted_proxies)}" if listening.trusted_proxies else "")
    )
    run_hub(
        state.database,
        secrets_of(state),
        listening,
        worker_options=options,
        verbose=state.verbose,
    )


@dataclass(frozen=True, kw_only=True)
class Listening:
    """Where and how the hub listens: ``tls`` (certificate, key) or plain HTTP; forwarded
    headers honoured from ``trusted_proxies`` only; ``secure_cookies`` False only for the
    demo's console on loopback over plain HTTP."""

    host: str
    port: int
    tls: tuple[Path, Path] | None = None
    trusted_proxies: tuple[str, ...] = ()
    secure_cookies: bool = True

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}/"


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) is this machine's loopback."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _proxies(values: Sequence[str]) -> tuple[str, ...]:
    found: list[str] = []
    for value in (v.strip() for given in values for v in given.split(",")):
        if not value:
            continue
        if value == "*":
            raise UserError(
                "--trusted-proxy '*' would honour anyone's forwarded headers; name the "
                "proxy's address or network"
            )
        try:
            # uvicorn reads a network only in its strict form (10.0.0.0/24, not 10.0.0.7/24)
            # and takes anything it cannot read for a literal name: normalise or refuse here.
            found.append(
                str(ipaddress.ip_network(value, strict=False))
                if "/" in value
                else str(ipaddress.ip_address(value))
            )
        except ValueError:
            raise UserError(
                f"--trusted-proxy '{value}' is not an IP address or network "
                "(e.g. 127.0.0.1, 10.0.0.5 or 10.0.0.0/24)"
            ) from None
    return tuple(dict.fromkeys(found))


def listening_of(
    *,
    host: str,
    port: int,
    tls_cert: Path | None,
    tls_key: Path | None,
    behind_proxy: bool,
    trusted_proxy: Sequence[str],
) -> Listening:
    """The options of 'serve' as a :class:`Listening`; a bad combination is a one-line
    :class:`UserError` saying what to give instead."""
    if (tls_cert is None) != (tls_key is None):
        raise UserError("give both --tls-cert and --tls-key (the certificate and its key)")
    for flag, path in (("--tls-cert", tls_cert), ("--tls-key", tls_key)):
        if path is not None and not path.is_file():
            raise UserError(f"{flag} {path}: no such file")
    proxies = _proxies(trusted_proxy)
    if proxies and not behind_proxy:
        raise UserError(
            "--trusted-proxy goes with --behind-proxy (without a proxy no forwarded header "
            "is honoured)"
        )
    if behind_proxy and not proxies:
        raise UserError(
            "--behind-proxy needs --trusted-proxy with the proxy's address (e.g. "
            "--trusted-proxy 127.0.0.1): forwarded headers are honoured from named proxies only"
        )
    if tls_cert is None or tls_key is None:
        if not behind_proxy:
            raise UserError(
                "give --tls-cert and --tls-key to serve HTTPS, or --behind-proxy with "
                "--trusted-proxy behind a reverse proxy that terminates TLS"
            )
        if not is_loopback(host):
            raise UserError(
                "--behind-proxy without --tls-cert serves plain HTTP, so only on a loopback "
                "--host (127.0.0.1, ::1); for a proxy on another machine give --tls-cert and "
                "--tls-key too"
            )
    if not 0 < port < 65536:
        raise UserError(f"--port {port} is not a port (1-65535)")
    return Listening(
        host=host,
        port=port,
        tls=None if tls_cert is None or tls_key is None else (tls_cert, tls_key),
        trusted_proxies=proxies,
    )


def run_hub(
    database: Database,
    secrets: SecretBox,
    listening: Listening,
    *,
    worker_options: WorkerOptions,
    verbose: bool = False,
) -> None:
    """Serve the hub (console, API, relay, /health, /metrics) until stopped: transfers run
    on the durable queue, which this process joins at the first transfer a user or an API
    client starts; ERP requests and rate-limit waits are counted for /metrics; the access
    log goes to stdout."""
    depth = QueueDepth(worker_options)
    metrics = HubMetrics(database, queue_depth=depth)
    count_erp_requests(metrics, verbose=verbose)
    environment = hub_environment(database, secrets, limiter=MeteredLimiter(database, metrics))
    engine = Engine(database, ConnectorProvider(secrets, environment=environment))
    queue = QueueOnDemand(lambda: Workers(engine, worker_options))
    app = create_app(
        database,
        secrets,
        console=ConsoleOptions(
            engine=engine, runner=queue, secure_cookies=listening.secure_cookies
        ),
        submitter=queue,
        metrics=metrics,
    )
    cert, key = listening.tls or (None, None)
    try:
        uvicorn.run(
            served(app, trusted_proxies=listening.trusted_proxies),
            host=listening.host,
            port=listening.port,
            ssl_certfile=None if cert is None else str(cert),
            ssl_keyfile=None if key is None else str(key),
            log_level="warning",
            access_log=False,  # ours is the JSON one, without secrets
            # uvicorn would trust 127.0.0.1's forwarded headers by default: only named proxies.
            proxy_headers=False,
            server_header=False,
        )
    finally:
        queue.stop()
        engine.connectors.close()
        depth.close()


class _Serving:
    """Marks the structlog processors 'serve' adds (so a second serve replaces them)."""


class _ErpRequests(_Serving):
    def __init__(self, metrics: HubMetrics) -> None:
        self.metrics = metrics

    def __call__(
        self, logger: Any, method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        return self.metrics.observe_log(logger, method, event)


class _ErrorsOnly(_Serving):
    """Drops what the CLI does not print without --verbose (it prints errors only)."""

    def __call__(
        self, _logger: Any, method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        if method in ("debug", "info", "warning", "warn", "msg"):
            raise structlog.DropEvent
        return event


def count_erp_requests(metrics: HubMetrics, *, verbose: bool) -> None:
    """Let ``metrics`` count the ERP requests of the connectors built from now on: their HTTP
    client logs each answer at INFO, which the CLI's configuration filters out before any
    processor; so INFO passes the filter, is counted, and is dropped unless ``verbose``."""
    config = structlog.get_config()
    kept = [p for p in config["processors"] if not isinstance(p, _Serving)]
    mine: list[Any] = [_ErpRequests(metrics)] + ([] if verbose else [_ErrorsOnly()])
    structlog.configure(
        processors=[*mine, *kept],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.DEBUG if verbose else logging.INFO
        ),
    )


class QueueOnDemand:
    """The console's runner and the API's submitter: the durable queue (DBOS workers, as
    'transfers run' uses), joined at the first transfer a user or an API client starts — a
    server nobody transfers from never becomes a worker; once joined, this process runs the
    queue's work beside any 'ledgerlink worker' processes."""

    def __init__(self, make: Callable[[], Workers]) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._workers: Workers | None = None

    def _started(self) -> Workers:
        with self._lock:
            if self._workers is None:
                workers = self._make()
                workers.start()
                self._workers = workers
            return self._workers

    def run(
        self, transfers: Sequence[Transfer], *, progress: Progress | None = None
    ) -> dict[int, TransferStatus]:
        return self._started().run(transfers, progress=progress)

    def submit(self, transfers: Sequence[Transfer]) -> int:
        """Queue ``transfers`` (they start at once, here or in any worker); 0 when the queue
        cannot be reached (a worker's next round starts them)."""
        if not transfers:
            return 0
        try:
            self._started().enqueue_all(transfers)
        except (SQLAlchemyError, dbos_errors.DBOSException):
            logging.getLogger(__name__).warning("could not queue transfers", exc_info=True)
            return 0
        return len(transfers)

    def stop(self) -> None:
        with self._lock:
            if self._workers is not None:
                self._workers.stop()
                self._workers = None


@agents_app.command("list")
def agents_list(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (a list) for scripts.")
    ] = False,
) -> None:
    """The enrolled agents.

    When each last called, what its last heartbeat said and whether its audit log still
    holds what the hub saw (the count never goes back, the MAC chain agrees)."""
    state = state_of(ctx)
    state.database.ensure_ready()
    agents = RelayStore(state.database).agents()
    if as_json:
        typer.echo(json.dumps([_agent_json(agent) for agent in agents], indent=2))
        return
    grid = Grid(
        Column("agent", fixed=True),
        Column("last call", fixed=True),
        Column("ERP reachable", fixed=True),
        Column("jobs waiting", fixed=True, right=True),
        Column("version", fixed=True),
        "problem",
        "audit log",
        title="FinancialHost agents",
        empty="No agent has enrolled yet: 'ledgerlink connect financialhost --agent-id …'.",
    )
    now = datetime.now(UTC)
    for agent in agents:
        beat = agent.heartbeat or {}
        seen = (
            f"{(now - agent.last_seen).total_seconds():.0f} s ago" if agent.last_seen else "never"
        )
        grid.add_row(
            agent.agent_id,
            seen,
            _reachable(beat.get("erp_reachable")),
            str(beat.get("jobs_pending", "?")),
            str(beat.get("version", "")),
            str(beat.get("erp_problem", "")),
            _audit(agent),
        )
    state.console.print(grid)


def _agent_json(agent: Agent) -> dict[str, object]:
    return {
        "agent": agent.agent_id,
        "last_call": agent.last_seen.isoformat() if agent.last_seen else None,
        "heartbeat": agent.heartbeat,
        "audit_count": agent.audit_count,
        "audit_problem": agent.audit_problem or None,
        "audit_problem_at": (
            agent.audit_problem_at.isoformat() if agent.audit_problem_at else None
        ),
    }


def _audit(agent: Agent) -> Text:
    if agent.audit_problem:
        since = (
            agent.audit_problem_at.isoformat(timespec="seconds") if agent.audit_problem_at else ""
        )
        return Text.assemble((f"TAMPERED? {agent.audit_problem}", "red"), f" (since {since})")
    return Text("?" if agent.audit_count is None else f"{agent.audit_count} records, agrees")


def _reachable(value: object) -> str:
    return "yes" if value is True else "no" if value is False else "?"
