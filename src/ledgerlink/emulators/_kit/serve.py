"""Serve emulator apps with uvicorn: on loopback in background threads (tests and demos), or
in the foreground until stopped (``ledgerlink emulate``). An ERP that listens on several ports
(NAV: SOAP and OData) has one app per port; each function takes them by name."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from ledgerlink.emulators._kit.faults import ConnectionDropped

__all__ = ["running", "running_all", "serve_forever"]

_STARTUP_TIMEOUT = 10.0


class _HideInjectedDrops(logging.Filter):
    """Injected connection drops are intended; uvicorn would log each as an ASGI crash."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ConnectionDropped)


@contextmanager
def running(
    app: ASGIApp,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    tls: tuple[Path, Path] | None = None,
) -> Iterator[str]:
    """Serve ``app`` over real HTTP (HTTPS with ``tls``: certificate and key files) until the
    block ends; yield its base URL.

    ``port=0`` picks a free port. The server stops (and its thread is joined) on exit.
    """
    with running_all({"app": app}, host=host, ports={"app": port}, tls=tls) as urls:
        yield urls["app"]


@contextmanager
def running_all(
    apps: Mapping[str, ASGIApp],
    *,
    host: str = "127.0.0.1",
    ports: Mapping[str, int] | None = None,
    tls: tuple[Path, Path] | None = None,
) -> Iterator[dict[str, str]]:
    """:func:`running` for each of ``apps``, each on its own port (``ports[name]``, a free one
    when absent), in one background thread; yield each app's base URL by name."""
    # log_config=None: a library must not reconfigure the process's logging (uvicorn's default
    # config binds handlers to whatever sys.stderr is now, e.g. a test runner's closed capture).
    servers = {
        name: uvicorn.Server(
            uvicorn.Config(
                app,
                host=host,
                port=(ports or {}).get(name, 0),
                log_config=None,
                log_level="warning",
                lifespan="off",
                access_log=False,
                ssl_certfile=str(tls[0]) if tls else None,
                ssl_keyfile=str(tls[1]) if tls else None,
            )
        )
        for name, app in apps.items()
    }
    drop_filter = _HideInjectedDrops()
    logging.getLogger("uvicorn.error").addFilter(drop_filter)
    thread = threading.Thread(
        target=asyncio.run, args=(_serve(servers.values()),), name=f"emulator-{host}", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + _STARTUP_TIMEOUT
        while not all(server.started for server in servers.values()):
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the emulator could not start on {host} ({dict(ports or {})})")
            time.sleep(0.01)
        scheme = "https" if tls else "http"
        yield {
            name: f"{scheme}://{host}:{server.servers[0].sockets[0].getsockname()[1]}"
            for name, server in servers.items()
        }
    finally:
        for server in servers.values():
            server.should_exit = True
        thread.join(timeout=_STARTUP_TIMEOUT)
        logging.getLogger("uvicorn.error").removeFilter(drop_filter)


async def _serve(
    servers: Iterable[uvicorn.Server], sockets: list[socket.socket] | None = None
) -> None:
    """Run ``servers`` (on ``sockets``, one each, when given) until each stops; one that fails
    stops the others too. In the main thread each takes SIGINT/SIGTERM in turn: the last one
    started gets the signal, stops and raises it again for the one before (uvicorn restores
    the handler it replaced)."""
    servers = list(servers)
    bound = [[sock] for sock in sockets] if sockets else [None] * len(servers)
    try:
        await asyncio.gather(*(s.serve(sockets=b) for s, b in zip(servers, bound, strict=True)))
    finally:
        for server in servers:
            server.should_exit = True


def serve_forever(apps: Mapping[str, ASGIApp], *, host: str, ports: Mapping[str, int]) -> None:
    """Serve each of ``apps`` on ``ports[name]`` in this thread until Ctrl-C or SIGTERM (as
    ``uvicorn.run`` serves one app). Every port is bound first: one in use is an error line
    and exit code 3 before anything is served."""
    configs = [
        uvicorn.Config(app, host=host, port=ports[name], log_level="warning")
        for name, app in apps.items()
    ]
    sockets = [config.bind_socket() for config in configs]
    with suppress(KeyboardInterrupt):
        asyncio.run(_serve([uvicorn.Server(config) for config in configs], sockets))
