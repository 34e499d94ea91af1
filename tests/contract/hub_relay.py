"""The hub side of outbound agent mode for tests: a migrated hub database, its secret box, and
the hub's web application (the agent relay) served over real HTTPS on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ledgerlink.emulators._kit.serve import running
from ledgerlink.financialhost.tls import ensure_certificate
from ledgerlink.store.database import Database
from ledgerlink.store.relay import RelayStore
from ledgerlink.sync.agents import enrol
from ledgerlink.sync.secrets import SecretBox
from ledgerlink.web.app import create_app
from ledgerlink.wire.signing import SigningKey

AGENT_ID = "customer-erp"


@dataclass(frozen=True)
class HubRelay:
    url: str
    certificate_file: Path
    database: Database
    relay: RelayStore
    secrets: SecretBox

    def enrol(self, key: SigningKey, agent_id: str = AGENT_ID) -> None:
        enrol(
            self.relay,
            self.secrets,
            agent_id,
            {"key_id": key.key_id, "secret": key.secret.decode()},
        )

    def agent_settings(self, agent_id: str = AGENT_ID, **changes: object) -> dict[str, object]:
        """The ``[agent]`` settings of a host that calls this hub (short waits for tests)."""
        return {
            "hub_url": self.url,
            "agent_id": agent_id,
            "verify": str(self.certificate_file),
            "poll_seconds": 0.1,
            "lease_seconds": 2.0,
            "heartbeat_seconds": 1.0,
        } | changes


@contextmanager
def hub_relay(
    folder: Path, database: Database | None = None, *, port: int = 0
) -> Iterator[HubRelay]:
    """Serve the hub's app over HTTPS with a self-signed certificate in ``folder`` (the same
    folder gives the same certificate and secret key again: a restarted hub)."""
    folder.mkdir(parents=True, exist_ok=True)
    owned = database is None
    if database is None:
        database = Database(f"sqlite:///{folder / 'hub.db'}")
        database.migrate()
    secrets = SecretBox.from_key_file(folder / "secret.key", create=True)
    certificate = ensure_certificate(
        data_dir=folder / "tls", cert_file=None, key_file=None, hostnames=["127.0.0.1"]
    )
    app = create_app(database, secrets)
    try:
        with running(app, tls=(certificate.cert_file, certificate.key_file), port=port) as url:
            yield HubRelay(url, certificate.cert_file, database, RelayStore(database), secrets)
    finally:
        if owned:
            database.dispose()
