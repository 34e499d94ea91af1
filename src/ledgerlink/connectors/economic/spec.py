"""The e-conomic :class:`~ledgerlink.connectors.spec.ConnectorSpec`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledgerlink.connectors.contract import ErpConnector
from ledgerlink.connectors.economic.connector import EconomicConnector, capabilities_for
from ledgerlink.connectors.economic.settings import EconomicSettings
from ledgerlink.connectors.spec import (
    ConnectorEnvironment,
    ConnectorSpec,
    CredentialField,
    CredentialKind,
)


def build(
    credentials: Mapping[str, str], settings: Mapping[str, Any], env: ConnectorEnvironment
) -> ErpConnector:
    """An e-conomic connector for one agreement."""
    return EconomicConnector(
        app_secret_token=credentials["app_secret_token"],
        agreement_grant_token=credentials["agreement_grant_token"],
        settings=EconomicSettings.model_validate(dict(settings)),
        limiter=env.limiter,
        retry=env.retry,
    )


SPEC = ConnectorSpec(
    name="economic",
    display_name="e-conomic",
    credential_kind=CredentialKind.STATIC,
    credentials=(
        CredentialField(name="app_secret_token", help="The app's X-AppSecretToken."),
        CredentialField(
            name="agreement_grant_token",
            help="The agreement's X-AgreementGrantToken (from the app-grant page).",
        ),
    ),
    settings_model=EconomicSettings,
    capabilities=capabilities_for(EconomicSettings(project_module=True, expense_accounts=[1])),
    factory=build,
    emulator="economic",
    summary="Visma e-conomic over its REST API (customers, contacts, employees, projects, "
    "invoices and credit notes as drafts, balancing, expense import).",
)
