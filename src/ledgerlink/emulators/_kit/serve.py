"""Serve emulator apps with uvicorn: on loopback in background threads (tests and demos), or
in the foreground until stopped (``ledgerlink emulate``). An ERP that listens on several ports
(NAV: SOAP and OData) has one app per port; each function takes them by name."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager, suppress
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
    # log_config=None: a library must not reconfigure the process's logging (uvicorn's default
    # config binds handlers to whatever sys.stderr is now, e.g. a test runner's closed capture).
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        log_level="warning",
        lifespan="off",
        access_log=False,
        ssl_certfile=str(tls[0]) if tls else None,
        ssl_keyfile=str(tls[1]) if tls else None,
    )
    server = uvicorn.Server(config)
    drop_filter = _HideInjectedDrops()
    logging.getLogger("uvicorn.error").addFilter(drop_filter)
    thread = threading.Thread(target=server.run, name=f"emulator-{host}:{port}", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + _STARTUP_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the emulator could not start on {host}:{port}")
            time.sleep(0.01)
        bound_port = server.servers[0].sockets[0].getsockname()[1]
        yield f"{'https' if tls else 'http'}://{host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=_STARTUP_TIMEOUT)
        logging.getLogger("uvicorn.error").removeFilter(drop_filter)


@contextmanager
def running_all(
    apps: Mapping[str, ASGIApp],
    *,
    host: str = "127.0.0.1",
    ports: Mapping[str, int] | None = None,
    tls: tuple[Path, Path] | None = None,
) -> Iterator[dict[str, str]]:
    """:func:`running` for each of ``apps``, each on its own port (``ports[name]``, a free one
    when absent); yield each app's base URL by name."""
    with ExitStack() as stack:
        yield {
            name: stack.enter_context(
                running(app, host=host, port=(ports or {}).get(name, 0), tls=tls)
            )
            for name, app in apps.items()
        }


def serve_forever(apps: Mapping[str, ASGIApp], *, host: str, ports: Mapping[str, int]) -> None:
    """Serve each of ``apps`` on ``ports[name]`` in this thread until Ctrl-C or SIGTERM (as
    ``uvicorn.run`` serves one app); a port that cannot be bound stops them all."""
    servers = [
        uvicorn.Server(uvicorn.Config(app, host=host, port=ports[name], log_level="warning"))
        for name, app in apps.items()
    ]

    async def serve_all() -> None:
        # Each server takes SIGINT/SIGTERM in turn: the last one started gets the signal, stops
        # and raises it again for the one before (uvicorn restores the handler it replaced).
        tasks = [asyncio.create_task(server.serve()) for server in servers]
        try:
            await asyncio.gather(*tasks)
        finally:
            for server in servers:
                server.should_exit = True

    with suppress(KeyboardInterrupt):
        asyncio.run(serve_all())
