"""``ledgerlink serve`` and ``ledgerlink agents``: the hub's HTTPS endpoint — the web console,
and the relay where FinancialHost agents fetch their work — and what the hub knows of its
agents."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.text import Text

from ledgerlink.cli.context import UserError, state_of
from ledgerlink.cli.integration import engine_of, secrets_of, workers_of
from ledgerlink.cli.render import Column, Grid
from ledgerlink.domain.transfers import Transfer, TransferStatus
from ledgerlink.store.relay import Agent, RelayStore
from ledgerlink.sync.transfers import Progress
from ledgerlink.sync.workflows import Workers
from ledgerlink.web.app import create_app
from ledgerlink.web.console import ConsoleOptions

agents_app = typer.Typer(no_args_is_help=True, help="FinancialHost agents that call this hub.")


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8443,
    tls_cert: Annotated[Path | None, typer.Option(help="TLS certificate (PEM).")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="TLS private key (PEM).")] = None,
    behind_proxy: Annotated[
        bool,
        typer.Option(help="Serve plain HTTP on loopback for a TLS-terminating reverse proxy."),
    ] = False,
) -> None:
    """Serve the hub's endpoints until stopped.

    The web console is at / (users: 'ledgerlink users add'), the FinancialHost agent relay
    under /agent/v1. HTTPS with --tls-cert/--tls-key; --behind-proxy for a reverse proxy on
    the same machine that terminates TLS (the console's cookies are Secure either way)."""
    state = state_of(ctx)
    state.database.ensure_ready()
    if behind_proxy:
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise UserError("--behind-proxy serves plain HTTP, so only on loopback")
    elif tls_cert is None or tls_key is None:
        raise UserError("give --tls-cert and --tls-key (agents call the hub over HTTPS only)")
    engine = engine_of(state)
    runner = _QueueOnDemand(lambda: workers_of(state, engine))
    app = create_app(
        state.database, secrets_of(state), console=ConsoleOptions(engine=engine, runner=runner)
    )
    scheme = "http" if behind_proxy else "https"
    typer.echo(f"ledgerlink hub on {scheme}://{host}:{port} (console: /, agents: /agent/v1)")
    try:
        uvicorn.run(
            app,
            host=host,
            port=port,
            ssl_certfile=None if behind_proxy else str(tls_cert),
            ssl_keyfile=None if behind_proxy else str(tls_key),
            log_level="warning",
            proxy_headers=behind_proxy,
        )
    finally:
        runner.stop()
        engine.connectors.close()


class _QueueOnDemand:
    """The console's runner: the durable queue (DBOS workers, as 'transfers run' uses),
    started at the first transfer a user starts — a server nobody transfers from never
    becomes a worker."""

    def __init__(self, make: Callable[[], Workers]) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._workers: Workers | None = None

    def run(
        self, transfers: Sequence[Transfer], *, progress: Progress | None = None
    ) -> dict[int, TransferStatus]:
        with self._lock:
            if self._workers is None:
                workers = self._make()
                workers.start()
                self._workers = workers
        return self._workers.run(transfers, progress=progress)

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
