"""Serve an ASGI app with uvicorn on loopback in a background thread (for tests and demos)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from ledgerlink.emulators._kit.faults import ConnectionDropped

__all__ = ["running"]

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
