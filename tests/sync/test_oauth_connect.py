"""Connecting an OAuth2 ERP through the spec (credential kind OAuth2): the authorization-code
flow on a loopback redirect, the tokens in the token store, the connection holding only its
``token_ref``, and the connector the engine builds refreshing through the store.

The ERP is the emulator kit's OAuth server with one protected route; its connector is the
smallest one possible, built here from the kit (no ERP of the product is OAuth2 yet)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi import Depends, FastAPI
from pydantic import BaseModel

from ledgerlink.connectors._kit.http import build_client
from ledgerlink.connectors._kit.oauth import OAuthClient, OAuthClientConfig, RefreshingAuth
from ledgerlink.connectors.contract import ConnectionInfo, ErpConnector
from ledgerlink.connectors.spec import (
    ConnectorEnvironment,
    ConnectorSpec,
    CredentialKind,
    FieldTarget,
    SetupField,
)
from ledgerlink.connectors.testing import FULL, FakeConnector, FakeErp
from ledgerlink.domain.entity import require_id
from ledgerlink.emulators._kit.oauth import (
    OAuthClientApp,
    OAuthServer,
    OAuthSettings,
    Principal,
    bearer,
    oauth_router,
)
from ledgerlink.emulators._kit.serve import running
from ledgerlink.store.database import Database
from ledgerlink.store.tokens import TokenStore
from ledgerlink.store.uow import UnitOfWork
from ledgerlink.sync import connections
from ledgerlink.sync.engine import Engine
from ledgerlink.sync.registry import ConnectorProvider, hub_environment
from ledgerlink.sync.secrets import SecretBox
from tests.sample import load_sample_data
from tests.sync.test_oauth_processes import approve_in_browser

SECRET = "app-secret"
SETTINGS = OAuthSettings(
    clients=(OAuthClientApp(client_id="ledgerlink", client_secret=SECRET),),
    subjects=("tenant-7",),
    authorize_path="/oauth/auth",
    token_path="/oauth/token",
    revoke_path="/oauth/revoke",
    client_auth=frozenset({"basic"}),
    access_ttl=3600,
    title="Fortnox emulator",  # approve_in_browser checks the consent page's title
)


class OAuthErpSettings(BaseModel):
    base_url: str


class OAuthErpConnector(FakeConnector):
    """The fake ERP's behaviour, but verified over HTTP with the OAuth2 token."""

    def __init__(self, base_url: str, auth: RefreshingAuth) -> None:
        super().__init__(FakeErp(), capabilities=FULL)
        self._http = build_client(base_url=base_url, auth=auth, erp="oauth-erp")

    def verify(self) -> ConnectionInfo:
        answer = self._http.get("/me")
        answer.raise_for_status()
        return ConnectionInfo(
            company_name="OAuth ERP", account_id=answer.json()["tenant"], base_currency="DKK"
        )

    def close(self) -> None:
        self._http.close()


def client_config(values: Mapping[str, str]) -> OAuthClientConfig:
    base = values["base_url"]
    return OAuthClientConfig(
        erp="oauth-erp",
        authorize_url=f"{base}/oauth/auth",
        token_url=f"{base}/oauth/token",
        client_id=values["client_id"],
        client_secret=values["client_secret"],
    )


def build(
    credentials: Mapping[str, str], settings: Mapping[str, Any], env: ConnectorEnvironment
) -> ErpConnector:
    assert env.tokens is not None
    client = OAuthClient(client_config({**credentials, **settings}))
    source = env.tokens(credentials[connections.TOKEN_REF], client)
    return OAuthErpConnector(settings["base_url"], RefreshingAuth(source))


SPEC = ConnectorSpec(
    name="oauth-erp",
    display_name="OAuth ERP",
    credential_kind=CredentialKind.OAUTH2,
    setup=(
        SetupField(name="client_id", label="App id.", target=FieldTarget.CREDENTIAL),
        SetupField(
            name="client_secret", label="App secret.", target=FieldTarget.CREDENTIAL, secret=True
        ),
        SetupField(name="base_url", label="API.", target=FieldTarget.SETTING, required=True),
    ),
    settings_model=OAuthErpSettings,
    capabilities=FULL,
    factory=build,
    oauth=client_config,
)


@pytest.fixture
def server() -> OAuthServer:
    return OAuthServer(SETTINGS)


@pytest.fixture
def erp_url(server: OAuthServer) -> Iterator[str]:
    app = FastAPI()
    app.include_router(oauth_router(server))

    @app.get("/me")
    async def me(principal: Principal = Depends(bearer(server))) -> dict[str, str]:  # noqa: B008
        return {"tenant": principal.subject}

    with running(app) as url:
        yield url


def test_an_oauth2_erp_connects_through_the_spec_and_its_connector_refreshes_via_the_store(
    database: Database, tmp_path: Path, server: OAuthServer, erp_url: str
) -> None:
    entity, _ = load_sample_data(UnitOfWork(database))
    secrets = SecretBox.from_key_file(tmp_path / "secret.key", create=True)
    provider = ConnectorProvider(
        secrets, environment=hub_environment(database, secrets), specs={SPEC.name: SPEC}
    )
    engine = Engine(database, provider)
    shown: list[str] = []

    def user_approves(url: str) -> None:
        shown.append(url)
        approve_in_browser(url)

    values = {"client_id": "ledgerlink", "client_secret": SECRET, "base_url": erp_url}
    connection, info = connections.connect_with_oauth(
        engine,
        secrets,
        SPEC,
        values,
        legal_entity_id=require_id(entity),
        show_url=user_approves,
        timeout=10,
    )
    assert info.account_id == "tenant-7" and len(shown) == 1
    stored = secrets.open(connection.credentials)
    assert stored["token_ref"].startswith("oauth-erp:")
    assert "access_token" not in str(stored)  # the tokens live in the token store only
    tokens = TokenStore(database, secrets).load(stored["token_ref"])
    assert tokens is not None and tokens.version == 1

    server.expire_access_tokens()  # the ERP drops the access token: refresh, resend
    connector = engine.connectors(connection)
    assert connector.verify().account_id == "tenant-7"
    refreshed = TokenStore(database, secrets).load(stored["token_ref"])
    assert refreshed is not None and refreshed.version == 2
    assert refreshed.refresh_token != tokens.refresh_token
    engine.connectors.close()


def test_a_denied_grant_connects_nothing_and_keeps_no_tokens(
    database: Database, tmp_path: Path, erp_url: str
) -> None:
    entity, _ = load_sample_data(UnitOfWork(database))
    secrets = SecretBox.from_key_file(tmp_path / "secret.key", create=True)
    engine = Engine(
        database,
        ConnectorProvider(
            secrets, environment=hub_environment(database, secrets), specs={SPEC.name: SPEC}
        ),
    )

    def user_denies(url: str) -> None:
        with httpx2.Client(follow_redirects=True, timeout=10) as browser:
            browser.get(f"{url}&approve=no")

    values = {"client_id": "ledgerlink", "client_secret": SECRET, "base_url": erp_url}
    with pytest.raises(Exception, match="not connected"):
        connections.connect_with_oauth(
            engine,
            secrets,
            SPEC,
            values,
            legal_entity_id=require_id(entity),
            show_url=user_denies,
            timeout=10,
        )
    with UnitOfWork(database) as uow:
        assert uow.connections.list() == []
