"""The e-conomic :class:`~ledgerlink.connectors.spec.ConnectorSpec`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledgerlink.connectors.contract import ErpConnector
from ledgerlink.connectors.economic.connector import EconomicConnector, capabilities_for
from ledgerlink.connectors.economic.grant import (
    DEFAULT_GRANT_BASE,
    installation_url,
    parse_grant_token,
)
from ledgerlink.connectors.economic.settings import LEGACY_REST_URL, EconomicSettings
from ledgerlink.connectors.spec import (
    ConnectorEnvironment,
    ConnectorSpec,
    CredentialKind,
    FieldTarget,
    GrantRequest,
    SetupField,
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


class AppGrant:
    """e-conomic's app-grant flow: the customer opens the installation URL, approves the app,
    and e-conomic redirects with ``?token=<agreement grant token>``."""

    credential = "agreement_grant_token"

    def begin(self, values: Mapping[str, str], redirect_uri: str) -> GrantRequest:
        base = values.get("grant_page") or DEFAULT_GRANT_BASE
        return GrantRequest(
            installation_url(values.get("app_public_token", ""), redirect_uri, base=base)
        )

    def complete(self, query: Mapping[str, str]) -> dict[str, str]:
        return {self.credential: parse_grant_token(f"?token={query.get('token', '')}")}


SPEC = ConnectorSpec(
    name="economic",
    display_name="e-conomic",
    credential_kind=CredentialKind.STATIC,
    setup=(
        SetupField(
            name="app_secret_token",
            label="The app's X-AppSecretToken.",
            target=FieldTarget.CREDENTIAL,
            secret=True,
            required=True,
        ),
        SetupField(
            name="agreement_grant_token",
            label="The agreement's X-AgreementGrantToken (else the grant flow runs).",
            target=FieldTarget.CREDENTIAL,
            secret=True,
            flags=("--grant-token",),
        ),
        SetupField(
            name="base_url",
            label="REST API base URL (an emulator's, to rehearse).",
            target=FieldTarget.SETTING,
            flags=("--url",),
            default=LEGACY_REST_URL,
        ),
        SetupField(
            name="app_public_token",
            label="The app's public token (for the grant flow).",
            target=FieldTarget.SETTING,
        ),
        SetupField(
            name="grant_page",
            label="Where the grant page lives (default: secure.e-conomic.com).",
            target=FieldTarget.FLOW,
        ),
    ),
    authorize=AppGrant(),
    account_label="agreement",
    settings_model=EconomicSettings,
    capabilities=capabilities_for(EconomicSettings(project_module=True, expense_accounts=[1])),
    factory=build,
    demos=("economic",),
    summary="Visma e-conomic over its REST API (customers, contacts, employees, projects, "
    "invoices and credit notes as drafts, balancing, expense import).",
)
