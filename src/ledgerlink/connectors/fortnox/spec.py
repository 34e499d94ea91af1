"""The Fortnox :class:`~ledgerlink.connectors.spec.ConnectorSpec`: OAuth2 (authorization code,
HTTP Basic client authentication at the token endpoint, single-use rotating refresh tokens),
the app's client id, secret and scopes given when connecting."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledgerlink.connectors._kit.oauth import ClientAuthMethod, OAuthClient, OAuthClientConfig
from ledgerlink.connectors.contract import ErpConnector
from ledgerlink.connectors.fortnox.connector import CAPABILITIES, FortnoxConnector
from ledgerlink.connectors.fortnox.settings import (
    API_URL,
    AUTH_URL,
    DEFAULT_SCOPES,
    FortnoxSettings,
)
from ledgerlink.connectors.spec import (
    TOKEN_REF,
    ConnectorEnvironment,
    ConnectorSpec,
    CredentialKind,
    FieldTarget,
    SetupField,
    oauth_app_fields,
)

_TRUE = frozenset({"1", "true", "yes", "on"})


def oauth_config(values: Mapping[str, Any]) -> OAuthClientConfig:
    """The app's OAuth2 registration from the setup values (or a connection's credentials
    and settings): Fortnox's ``/oauth-v1`` endpoints under ``auth_url``, Basic client
    authentication, ``access_type=offline`` (a refresh token), and
    ``account_type=service`` for a service account. Fortnox documents no PKCE."""
    auth = str(values.get("auth_url") or AUTH_URL).rstrip("/")
    params = [("access_type", "offline")]
    if str(values.get("service_account", "")).strip().lower() in _TRUE:
        params.append(("account_type", "service"))
    return OAuthClientConfig(
        erp="Fortnox",
        authorize_url=f"{auth}/auth",
        token_url=f"{auth}/token",
        revoke_url=f"{auth}/revoke",
        client_id=str(values["client_id"]),
        client_secret=str(values["client_secret"]),
        client_auth=ClientAuthMethod.BASIC,
        scopes=tuple(str(values.get("scopes") or DEFAULT_SCOPES).split()),
        pkce=False,
        authorize_params=tuple(params),
        default_expires_in=3600.0,
    )


def build(
    credentials: Mapping[str, str], settings: Mapping[str, Any], env: ConnectorEnvironment
) -> ErpConnector:
    """A Fortnox connector for one company, its tokens from the hub's token store."""
    parsed = FortnoxSettings.model_validate(dict(settings))
    if env.tokens is None:
        raise ValueError("Fortnox connects with OAuth2 and needs the hub's token store")
    credential = credentials[TOKEN_REF]
    oauth = OAuthClient(oauth_config({**settings, **credentials}))
    return FortnoxConnector(
        settings=parsed,
        tokens=env.tokens(credential, oauth),
        credential=credential,
        oauth=oauth,
        limiter=env.limiter,
        retry=env.retry,
    )


SPEC = ConnectorSpec(
    name="fortnox",
    display_name="Fortnox",
    credential_kind=CredentialKind.OAUTH2,
    setup=(
        *oauth_app_fields("The Fortnox app"),
        SetupField(
            name="scopes",
            label="Scopes to ask for, space-separated.",
            target=FieldTarget.SETTING,
            default=DEFAULT_SCOPES,
        ),
        SetupField(
            name="base_url",
            label="API base URL (an emulator's, to rehearse).",
            target=FieldTarget.SETTING,
            flags=("--url",),
            default=API_URL,
        ),
        SetupField(
            name="auth_url",
            label="OAuth2 base URL (an emulator's /oauth-v1, to rehearse).",
            target=FieldTarget.SETTING,
            default=AUTH_URL,
        ),
        SetupField(
            name="service_account",
            label="Connect as Fortnox's service account (true/false).",
            target=FieldTarget.SETTING,
            choices=("true", "false"),
            default="false",
        ),
        SetupField(
            name="expense_import_series",
            label="Voucher series (journal) expenses are imported from, e.g. A; empty: no "
            "expense import.",
            target=FieldTarget.SETTING,
        ),
        SetupField(
            name="expense_import_accounts",
            label="Accounts whose voucher rows are imported as expenses, e.g. 5800 5831.",
            target=FieldTarget.SETTING,
        ),
        SetupField(
            name="expense_voucher_series",
            label="Voucher series (journal) PSA expenses are exported to, with their "
            "receipts, e.g. U; empty: no expense export.",
            target=FieldTarget.SETTING,
        ),
    ),
    oauth=oauth_config,
    account_label="company",
    settings_model=FortnoxSettings,
    capabilities=CAPABILITIES,
    factory=build,
    demos=("fortnox",),
    summary="Fortnox over its REST API v3 with OAuth2 (customers both ways, articles as "
    "product numbers, projects, invoices and credit invoices as drafts, balancing, expense "
    "import from a journal).",
)
