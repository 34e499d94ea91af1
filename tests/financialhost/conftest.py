"""A FinancialHost served over real HTTPS (self-signed certificate) with a fresh data folder."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
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

    def client(self, *keys: SigningKey, **options: Any) -> SignedClient:
        return SignedClient(
            self.url,
            keys=keys or (self.key,),
            verify=tls_context(verify=self.certificate.cert_file),
            **options,
        )


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
        yield LiveHost(host, url, certificate, SigningKey("hub-1", secret.encode()), plugin)
