"""The FinancialHost :class:`~ledgerlink.connectors.spec.ConnectorSpec`: Dynamics NAV and
Visma Administration on the customer's server (the setting ``erp_system`` says which)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledgerlink.connectors.contract import ErpConnector
from ledgerlink.connectors.financialhost.connector import FinancialHostConnector, capabilities_for
from ledgerlink.connectors.financialhost.relay import RelayQueue
from ledgerlink.connectors.financialhost.settings import FinancialHostSettings
from ledgerlink.connectors.spec import (
    ConnectorEnvironment,
    ConnectorSpec,
    CredentialField,
    CredentialKind,
)

#: The hub service through which hosts in outbound agent mode are reached.
RELAY_SERVICE = "relay"


def build(
    credentials: Mapping[str, str], settings: Mapping[str, Any], env: ConnectorEnvironment
) -> ErpConnector:
    """A connector for one FinancialHost (called directly, or through the relay)."""
    return FinancialHostConnector.from_connection(
        credentials,
        settings,
        relay=env.service(RELAY_SERVICE, RelayQueue),  # type: ignore[type-abstract]
        retry=env.retry,
    )


SPEC = ConnectorSpec(
    name="financialhost",
    display_name="FinancialHost (Dynamics NAV, Visma Administration)",
    credential_kind=CredentialKind.FINANCIALHOST,
    credentials=(
        CredentialField(
            name="key_id", help="The hub key's id ('ledgerlink host init').", secret=False
        ),
        CredentialField(name="secret", help="The hub key's secret."),
    ),
    settings_model=FinancialHostSettings,
    capabilities=capabilities_for("nav"),
    factory=build,
    emulator="nav",
    summary="Dynamics NAV or Visma Administration on the customer's own server, through "
    "ledgerlink's signed FinancialHost (inbound HTTPS or outbound agent mode).",
)
