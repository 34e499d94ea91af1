"""Running a host: load its plugin, make sure it has a certificate, serve it over HTTPS with
uvicorn (in the foreground for ``ledgerlink host serve``, or in a thread for tests and demos)."""

from __future__ import annotations

import asyncio
import importlib
import math
import signal
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from ledgerlink.financialhost.agent import Agent
from ledgerlink.financialhost.plugin import ErpPlugin
from ledgerlink.financialhost.server import Host
from ledgerlink.financialhost.settings import HostSettings
from ledgerlink.financialhost.tls import Certificate, ensure_certificate
from ledgerlink.financialhost.vault import Vault

_PLUGINS = {
    "nav": "ledgerlink.financialhost.nav",
    "visma": "ledgerlink.financialhost.visma",
}


def load_plugin(settings: HostSettings, vault: Vault) -> ErpPlugin:
    """The configured plugin, built from its settings section (``[nav]`` / ``[visma]``) by the
    plugin package's ``build_plugin(config, *, vault, data_dir)``."""
    module = importlib.import_module(_PLUGINS[settings.plugin])
    plugin: ErpPlugin = module.build_plugin(
        settings.plugin_settings, vault=vault, data_dir=settings.data_dir
    )
    return plugin


def certificate_for(settings: HostSettings) -> Certificate:
    return ensure_certificate(
        data_dir=settings.data_dir,
        cert_file=settings.tls_cert_file,
        key_file=settings.tls_key_file,
        hostnames=settings.certificate_hostnames,
    )


#: Seconds a connection may sit idle between two requests.
KEEP_ALIVE_SECONDS = 5


def _h11_with_deadline(seconds: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol with a deadline for each request's line and headers: uvicorn
    has none (its keep-alive timeout starts only after a first answer and stops at the first
    byte), so a client sending nothing, or a header a byte at a time, held a connection for
    as long as it liked. The body has its own deadline in the guard."""

    class DeadlineH11(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def handle_events(self) -> None:
            cycle = self.cycle
            super().handle_events()
            if self.cycle is not cycle:  # a request's headers are complete
                self._disarm()

        def on_response_complete(self) -> None:
            self._arm()  # before: the base class may start a pipelined request (disarming)
            super().on_response_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(seconds, self._expire)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expire(self) -> None:
            if not self.transport.is_closing():
                self.transport.close()

    return DeadlineH11


class _Server(uvicorn.Server):
    """uvicorn's server with a deadline for the TLS handshake: asyncio's default is 60 s and
    uvicorn has no setting for it, so the loop's ``create_server`` is given one."""

    def __init__(self, config: uvicorn.Config, *, handshake_seconds: float) -> None:
        super().__init__(config)
        self._handshake_seconds = handshake_seconds

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        loop = asyncio.get_running_loop()  # this server's own loop (Server.run makes it)
        loop.create_server = partial(  # type: ignore[method-assign]
            loop.create_server, ssl_handshake_timeout=self._handshake_seconds
        )
        await super().startup(sockets)


def _server(host: Host, certificate: Certificate, port: int, *, shutdown_seconds: int) -> _Server:
    settings = host.settings
    extra: dict[str, Any] = {}
    if settings.client_ca_file:
        extra = {"ssl_ca_certs": str(settings.client_ca_file), "ssl_cert_reqs": ssl.CERT_REQUIRED}
    config = uvicorn.Config(
        host.app,
        host=settings.host,
        port=port,
        ssl_certfile=str(certificate.cert_file),
        ssl_keyfile=str(certificate.key_file),
        log_config=None,
        log_level="warning",
        lifespan="off",
        access_log=False,
        # X-Forwarded-For is the guard's to judge, from the proxies the settings trust; uvicorn
        # would take it from any local process (its default trusts 127.0.0.1).
        proxy_headers=False,
        forwarded_allow_ips="",
        loop="asyncio",
        http=_h11_with_deadline(settings.header_timeout_seconds),
        ws="none",
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        # Stop within this time even while a client holds a connection open.
        timeout_graceful_shutdown=shutdown_seconds,
        # The host holds the ERP session; one process, one worker (Visma: one open company).
        workers=1,
        **extra,
    )
    return _Server(config, handshake_seconds=settings.header_timeout_seconds)


def build_host(settings: HostSettings, plugin: ErpPlugin | None = None) -> tuple[Host, Certificate]:
    vault = Vault(settings.data_dir)
    certificate = certificate_for(settings)
    plugin = plugin or load_plugin(settings, vault)
    host = Host(settings, plugin, vault=vault, certificate_expires=certificate.expires)
    return host, certificate


def serve_forever(settings: HostSettings) -> None:
    """``ledgerlink host serve``: run until interrupted; pending jobs survive a restart. In
    agent mode the agent fetches the hub's requests while the listener (loopback only) takes
    the ERP's callbacks."""
    host, certificate = build_host(settings)
    agent = Agent(host, settings.agent) if settings.mode == "agent" else None
    host.start()
    if agent is not None:
        agent.start()
    # uvicorn shuts down on SIGTERM, then raises the signal again; with Python's default
    # handler that kills the process before the lines below run (no AdkClose, no final audit
    # record). Turned into SystemExit, the service manager's stop is a clean stop.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    try:
        # Requests in progress may finish: a write waits up to sync_wait_seconds.
        grace = math.ceil(settings.sync_wait_seconds) + 5
        _server(host, certificate, settings.port, shutdown_seconds=grace).run()
    finally:
        if agent is not None:
            agent.stop()
        host.stop()


def _exit_cleanly(_signum: int, _frame: object) -> None:
    raise SystemExit(0)


@contextmanager
def serving(host: Host, certificate: Certificate) -> Iterator[str]:
    """Serve ``host`` over HTTPS in a background thread; yield its base URL."""
    server = _server(host, certificate, host.settings.port, shutdown_seconds=1)
    thread = threading.Thread(target=server.run, name="financialhost", daemon=True)
    host.start()
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("FinancialHost could not start")
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"https://{host.settings.host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        host.stop()
