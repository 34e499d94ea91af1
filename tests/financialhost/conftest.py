"""A FinancialHost served over real HTTPS (self-signed certificate) with a fresh data folder."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ledgerlink.financialhost.runtime import build_host, serving
from ledgerlink.financialhost.server import Host
from ledgerlink.financialhost.settings import HostSettings
from ledgerlink.financialhost.tls import Certificate
from ledgerlink.financialhost.vault import Vault
from ledgerlink.wire.client import SignedClient, tls_context
from ledgerlink.wire.signing import SigningKey
from tests.financialhost.fakes import MemoryPlugin


@dataclass
class LiveHost:
    host: Host
    url: str
    certificate: Certificate
    key: SigningKey
    plugin: MemoryPlugin
    clients: list[SignedClient] = field(default_factory=list)

    def client(self, *keys: SigningKey, **options: Any) -> SignedClient:
        """A hub-side client; closed when the host stops, if the test has not closed it."""
        client = SignedClient(
            self.url,
            keys=keys or (self.key,),
            verify=tls_context(verify=self.certificate.cert_file),
            **options,
        )
        self.clients.append(client)
        return client


def host_settings(data_dir: Path, **changes: Any) -> HostSettings:
    fields: dict[str, Any] = {
        "data_dir": data_dir,
        "port": 0,
        "sync_wait_seconds": 2.0,
        "callback_handle": "nav",
        "retry": {"initial": 0.2, "maximum": 1.0, "jitter": 0.0},
    }
    return HostSettings(**(fields | changes))


@pytest.fixture
def live_host(tmp_path: Path) -> Iterator[LiveHost]:
    yield from start_host(tmp_path)


def start_host(tmp_path: Path, **changes: Any) -> Iterator[LiveHost]:
    settings = host_settings(tmp_path / "host", **changes)
    vault = Vault(settings.data_dir)
    secret = vault.find("key:hub-1") or vault.add_key("hub-1")  # a restart keeps its keys
    vault.set("callback:nav", "callback-secret")
    plugin = MemoryPlugin()
    host, certificate = build_host(settings, plugin)
    with serving(host, certificate) as url:
        live = LiveHost(host, url, certificate, SigningKey("hub-1", secret.encode()), plugin)
        try:
            yield live
        finally:
            # A client's open keep-alive connection holds the server's stop up for the whole
            # 10 s join timeout (24 s of test_erp_down_the_write_waits_..., twice 10 s).
            for client in live.clients:
                client.close()
