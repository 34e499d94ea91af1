"""The FinancialHost :class:`~ledgerlink.connectors.spec.ConnectorSpec`: Dynamics NAV and
Visma Administration on the customer's server (the setting ``erp_system`` says which)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledgerlink.connectors.contract import ErpConnector
from ledgerlink.connectors.financialhost.connector import FinancialHostConnector, capabilities_for
from ledgerlink.connectors.financialhost.relay import AuditAnchors, RelayQueue
from ledgerlink.connectors.financialhost.settings import FinancialHostSettings
from ledgerlink.connectors.spec import (
    ConnectorEnvironment,
    ConnectorSpec,
    CredentialKind,
    FieldTarget,
    SetupField,
)

#: The hub service through which hosts in outbound agent mode are reached.
RELAY_SERVICE = "relay"
#: The hub service that keeps the audit anchors of hosts it calls directly.
ANCHORS_SERVICE = "audit_anchors"


def build(
    credentials: Mapping[str, str], settings: Mapping[str, Any], env: ConnectorEnvironment
) -> ErpConnector:
    """A connector for one FinancialHost (called directly, or through the relay)."""
    return FinancialHostConnector.from_connection(
        credentials,
        settings,
        relay=env.service(RELAY_SERVICE, RelayQueue),  # type: ignore[type-abstract]
        anchors=env.service(ANCHORS_SERVICE, AuditAnchors),  # type: ignore[type-abstract]
        retry=env.retry,
    )


SPEC = ConnectorSpec(
    name="financialhost",
    display_name="FinancialHost (Dynamics NAV, Visma Administration)",
    credential_kind=CredentialKind.FINANCIALHOST,
    setup=(
        SetupField(
            name="erp_system",
            label="The ERP behind the host: nav or visma.",
            target=FieldTarget.SETTING,
            required=True,
            flags=("--erp",),
            choices=("nav", "visma"),
        ),
        SetupField(
            name="key_id",
            label="The hub key's id ('ledgerlink host init').",
            target=FieldTarget.CREDENTIAL,
            required=True,
        ),
        SetupField(
            name="secret",
            label="The hub key's secret.",
            target=FieldTarget.CREDENTIAL,
            secret=True,
            required=True,
        ),
        SetupField(
            name="base_url",
            label="The host's https:// address (a host that listens).",
            target=FieldTarget.SETTING,
            flags=("--url",),
        ),
        SetupField(
            name="tls_certificate",
            label="PEM file of the host's certificate to trust.",
            target=FieldTarget.SETTING,
            from_file=True,
            flags=("--certificate",),
        ),
        SetupField(
            name="agent_id",
            label="Instead of --url: the id of a host in agent mode.",
            target=FieldTarget.SETTING,
        ),
    ),
    settings_model=FinancialHostSettings,
    capabilities=capabilities_for("nav"),
    factory=build,
    account_label="company",
    demos=("nav", "visma"),
    summary="Dynamics NAV or Visma Administration on the customer's own server, through "
    "ledgerlink's signed FinancialHost (inbound HTTPS or outbound agent mode).",
)
