"""Building a FinancialHost connector for a running host: for the connector tests here, and
for the contract suite's NAV / Visma cases once their plugins run against the emulators."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ledgerlink.connectors.financialhost import (
    FinancialHostConnector,
    FinancialHostCredentials,
    FinancialHostSettings,
)
from ledgerlink.wire.signing import SigningKey
from tests.contract.hub_relay import AGENT_ID, HubRelay
from tests.financialhost.conftest import LiveHost


def connector_for_host(
    base_url: str,
    *,
    key: SigningKey,
    certificate_file: Path,
    erp_system: str = "nav",
    credentials: dict[str, str] | None = None,
    **settings: Any,
) -> FinancialHostConnector:
    """A connector for the host at ``base_url``, signing with ``key`` and trusting only the
    host's certificate in ``certificate_file``. ``settings`` override the connector settings
    (short waits suit tests: ``job_wait_seconds``, ``poll_interval_seconds``)."""
    fields: dict[str, Any] = {
        "base_url": base_url,
        "erp_system": erp_system,
        "tls_certificate": certificate_file.read_text(encoding="utf-8"),
        "job_wait_seconds": 1.0,
        "poll_interval_seconds": 0.05,
        "timeout_seconds": 10.0,
    }
    secrets = {"key_id": key.key_id, "secret": key.secret.decode()} | (credentials or {})
    return FinancialHostConnector(
        credentials=FinancialHostCredentials.model_validate(secrets),
        settings=FinancialHostSettings.model_validate(fields | settings),
    )


def connector_for_agent(
    hub: HubRelay, *, key: SigningKey, erp_system: str = "nav", **settings: Any
) -> FinancialHostConnector:
    """A connector for a host in agent mode that calls ``hub``: its requests wait in the hub's
    relay until the host fetches them."""
    fields: dict[str, Any] = {
        "agent_id": AGENT_ID,
        "erp_system": erp_system,
        "job_wait_seconds": 1.0,
        "poll_interval_seconds": 0.05,
        "timeout_seconds": 10.0,
    }
    return FinancialHostConnector(
        credentials=FinancialHostCredentials(key_id=key.key_id, secret=key.secret.decode()),
        settings=FinancialHostSettings.model_validate(fields | settings),
        relay=hub.relay,
    )


def connector_for(live: LiveHost, **settings: Any) -> FinancialHostConnector:
    """A connector for a host started with ``tests.financialhost.conftest.start_host``."""
    return connector_for_host(
        live.url, key=live.key, certificate_file=live.certificate.cert_file, **settings
    )
