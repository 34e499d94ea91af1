"""The Exact Online :class:`~ledgerlink.connectors.spec.ConnectorSpec`: OAuth2 (authorization
code; the client id and secret in the token request's form; 600-second access tokens and
single-use rotating refresh tokens), the app's client id and secret, the country host, the
division and the sales journal given when connecting."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledgerlink.connectors._kit.oauth import ClientAuthMethod, OAuthClient, OAuthClientConfig
from ledgerlink.connectors.contract import ErpConnector
from ledgerlink.connectors.exact.connector import CAPABILITIES, ExactConnector
from ledgerlink.connectors.exact.settings import API_URL, DEFAULT_SALES_JOURNAL, ExactSettings
from ledgerlink.connectors.spec import (
    TOKEN_REF,
    ConnectorEnvironment,
    ConnectorSpec,
    CredentialKind,
    FieldTarget,
    SetupField,
    oauth_app_fields,
)

#: Exact's access tokens live 600 s (fact sheet §2.2) when an answer does not say.
ACCESS_TOKEN_SECONDS = 600.0


def oauth_config(values: Mapping[str, Any]) -> OAuthClientConfig:
    """The app's OAuth2 registration from the setup values (or a connection's credentials
    and settings): ``/api/oauth2/auth`` and ``/api/oauth2/token`` on the country host,
    client credentials in the form (fact sheet §2.2). Exact documents no scopes, no PKCE and
    no revocation endpoint."""
    base = str(values.get("base_url") or API_URL).rstrip("/")
    return OAuthClientConfig(
        erp="Exact Online",
        authorize_url=f"{base}/api/oauth2/auth",
        token_url=f"{base}/api/oauth2/token",
        client_id=str(values["client_id"]),
        client_secret=str(values["client_secret"]),
        client_auth=ClientAuthMethod.FORM,
        pkce=False,
        default_expires_in=ACCESS_TOKEN_SECONDS,
    )


def build(
    credentials: Mapping[str, str], settings: Mapping[str, Any], env: ConnectorEnvironment
) -> ErpConnector:
    """An Exact Online connector for one division, its tokens from the hub's token store."""
    parsed = ExactSettings.model_validate(dict(settings))
    if env.tokens is None:
        raise ValueError("Exact Online connects with OAuth2 and needs the hub's token store")
    oauth = OAuthClient(oauth_config({**settings, **credentials}))
    return ExactConnector(
        settings=parsed,
        tokens=env.tokens(credentials[TOKEN_REF], oauth),
        oauth=oauth,
        limiter=env.limiter,
        retry=env.retry,
    )


SPEC = ConnectorSpec(
    name="exact",
    display_name="Exact Online",
    credential_kind=CredentialKind.OAUTH2,
    setup=(
        *oauth_app_fields("The Exact Online app"),
        SetupField(
            name="division",
            label="The Exact division (company code) to transfer into; connecting with one the "
            "user cannot open lists the ones they can.",
            target=FieldTarget.SETTING,
            required=True,
        ),
        SetupField(
            name="sales_journal",
            label="Sales journal code for invoices (needs variable currency for foreign "
            "currencies).",
            target=FieldTarget.SETTING,
            default=DEFAULT_SALES_JOURNAL,
        ),
        SetupField(
            name="base_url",
            label="Exact Online host of the country (https://start.exactonline.nl, .be, .de, "
            ".co.uk, .com, .fr, .es), or an emulator's to rehearse.",
            target=FieldTarget.SETTING,
            flags=("--url",),
            default=API_URL,
        ),
    ),
    oauth=oauth_config,
    account_label="division",
    settings_model=ExactSettings,
    capabilities=CAPABILITIES,
    factory=build,
    summary="Exact Online over its REST API with OAuth2 (customers both ways, contacts, items "
    "as product numbers, sales invoices and credit notes, project number as cost centre, "
    "balancing from the receivables list).",
    demos=("exact",),
)
