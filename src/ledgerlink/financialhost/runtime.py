"""Running a host: load its plugin, make sure it has a certificate, serve it over HTTPS with
uvicorn (in the foreground for ``ledgerlink host serve``, or in a thread for tests and demos)."""

from __future__ import annotations

import importlib
import signal
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

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


def _uvicorn_config(host: Host, certificate: Certificate, port: int) -> uvicorn.Config:
    settings = host.settings
    extra: dict[str, Any] = {}
    if settings.client_ca_file:
        extra = {"ssl_ca_certs": str(settings.client_ca_file), "ssl_cert_reqs": ssl.CERT_REQUIRED}
    return uvicorn.Config(
        host.app,
        host=settings.host,
        port=port,
        ssl_certfile=str(certificate.cert_file),
        ssl_keyfile=str(certificate.key_file),
        log_config=None,
        log_level="warning",
        lifespan="off",
        access_log=False,
        # The host holds the ERP session; one process, one worker (Visma: one open company).
        workers=1,
        **extra,
    )


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
        uvicorn.Server(_uvicorn_config(host, certificate, settings.port)).run()
    finally:
        if agent is not None:
            agent.stop()
        host.stop()


def _exit_cleanly(_signum: int, _frame: object) -> None:
    raise SystemExit(0)


@contextmanager
def serving(host: Host, certificate: Certificate) -> Iterator[str]:
    """Serve ``host`` over HTTPS in a background thread; yield its base URL."""
    server = uvicorn.Server(_uvicorn_config(host, certificate, host.settings.port))
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
