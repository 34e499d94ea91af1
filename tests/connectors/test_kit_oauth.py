"""The connector kit's OAuth2 client: PKCE, the authorization URL, token answers, the error
table of token endpoints, the client against the emulator's authorization server over real
HTTP, and RefreshingAuth's flow (expiry → refresh first; 401 → refresh once, resend once)."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
import structlog
from fastapi import Depends, FastAPI, Request
from starlette.responses import JSONResponse

from ledgerlink.connectors._kit.errors import ErrorTable
from ledgerlink.connectors._kit.oauth import (
    RECONNECT_HINT,
    ClientAuthMethod,
    OAuthClient,
    OAuthClientConfig,
    RefreshingAuth,
    TokenSet,
    pkce_challenge,
    pkce_pair,
    token_error,
)
from ledgerlink.connectors._kit.requestor import Requestor
from ledgerlink.connectors._kit.retry import RetryPolicy
from ledgerlink.connectors.contract import AuthExpired, Permanent, Transient
from ledgerlink.emulators._kit.oauth import (
    OAuthClientApp,
    OAuthServer,
    OAuthSettings,
    Principal,
    bearer,
    oauth_router,
)
from ledgerlink.emulators._kit.serve import running
from tests.connectors.echo_app import make_echo_app

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
SECRET = "client-secret-value"


def config(base: str, **changes: Any) -> OAuthClientConfig:
    made = OAuthClientConfig(
        erp="fortnox",
        authorize_url=f"{base}/oauth-v1/auth",
        token_url=f"{base}/oauth-v1/token",
        revoke_url=f"{base}/oauth-v1/revoke",
        client_id="app",
        client_secret=SECRET,
        scopes=("invoice", "customer"),
        authorize_params=(("access_type", "offline"), ("account_type", "service")),
    )
    return replace(made, **changes)


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


# pure pieces ------------------------------------------------------------------------------------


def test_pkce_matches_the_rfc_7636_example_and_pairs_are_fresh() -> None:
    assert (
        pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )
    verifier, challenge = pkce_pair()
    assert re.fullmatch(r"[A-Za-z0-9._~-]{43,128}", verifier)
    assert challenge == pkce_challenge(verifier)
    assert pkce_pair()[0] != verifier


def test_the_authorization_url_carries_state_pkce_scopes_and_extra_parameters() -> None:
    with OAuthClient(config("https://apps.example")) as client:
        request = client.authorization_url(redirect_uri="http://127.0.0.1:8765/callback")
        other = client.authorization_url(redirect_uri="http://127.0.0.1:8765/callback")
    assert request.url.startswith("https://apps.example/oauth-v1/auth?")
    assert "scope=invoice%20customer" in request.url
    query = query_of(request.url)
    assert query == {
        "client_id": "app",
        "redirect_uri": "http://127.0.0.1:8765/callback",
        "response_type": "code",
        "state": request.state,
        "scope": "invoice customer",
        "code_challenge": pkce_challenge(request.code_verifier or ""),
        "code_challenge_method": "S256",
        "access_type": "offline",
        "account_type": "service",
    }
    assert other.state != request.state
    assert other.code_verifier != request.code_verifier
    assert request.code_verifier is not None
    assert request.code_verifier not in repr(request)


def test_without_pkce_and_with_a_query_in_the_authorize_url() -> None:
    made = config("https://start.example", authorize_url="https://start.example/auth?lang=sv")
    with OAuthClient(replace(made, pkce=False, scopes=())) as client:
        request = client.authorization_url(
            redirect_uri="http://127.0.0.1/cb", state="fixed", params={"account_type": "user"}
        )
    query = query_of(request.url)
    assert request.code_verifier is None
    assert "code_challenge" not in query
    assert "scope" not in query
    assert query["lang"] == "sv"
    assert query["state"] == "fixed"
    assert query["account_type"] == "user"


def test_token_answers_become_token_sets() -> None:
    tokens = TokenSet.from_answer(
        {
            "access_token": "a",
            "refresh_token": "r",
            "expires_in": "600",
            "scope": "x y",
            "token_type": "bearer",
            "tenant": 42,
            "id_token": None,
        },
        now=NOW,
    )
    assert tokens.expires_at == NOW + timedelta(seconds=600)
    assert tokens.scope == "x y"
    assert tokens.extras == {"tenant": "42"}
    assert "'a'" not in repr(tokens)
    assert tokens.expires_within(0, now=NOW + timedelta(seconds=600))
    assert not tokens.expires_within(15, now=NOW + timedelta(seconds=584))
    assert tokens.expires_within(15, now=NOW + timedelta(seconds=585))
    kept = TokenSet.from_answer({"access_token": "a2"}, now=NOW, previous_refresh_token="r")
    assert kept.refresh_token == "r"
    assert kept.expires_at == NOW + timedelta(hours=1)
    for bad in (
        {"refresh_token": "r"},
        {"access_token": "a"},
        {"access_token": "a", "refresh_token": "r", "expires_in": "soon"},
    ):
        with pytest.raises(ValueError, match=r"access_token|refresh_token|expires_in"):
            TokenSet.from_answer(bad, now=NOW)


@pytest.mark.parametrize(
    ("status", "body", "expected", "hint"),
    [
        (
            400,
            {"error": "invalid_grant", "error_description": "Old refresh token used"},
            AuthExpired,
            RECONNECT_HINT,
        ),
        (
            400,
            {
                "error": "access_denied",
                "error_description": "Rate limit exceeded: access_token not expired",
            },
            Transient,
            "shortly before",
        ),
        (400, {"error": "access_denied"}, AuthExpired, RECONNECT_HINT),
        (401, {"error": "invalid_client"}, Permanent, "client secret"),
        (400, {"error": "unauthorized_client"}, Permanent, "client secret"),
        (401, "Unauthorized", Permanent, "client secret"),
        (400, {"error": "invalid_request"}, Permanent, ""),
        (429, {"message": "slow down"}, Transient, ""),
        (503, "<html>down</html>", Transient, ""),
        (500, None, Transient, ""),
    ],
)
def test_token_endpoint_errors_say_what_to_do(
    status: int, body: Any, expected: type[Exception], hint: str
) -> None:
    error = token_error("fortnox", status, body, retry_after="7")
    assert type(error) is expected
    assert error.status == status
    assert hint in error.hint
    if isinstance(body, dict) and "error" in body:
        assert body["error"] in error.erp_text
    if status == 429:
        assert isinstance(error, Transient)
        assert error.retry_after == 7


def test_a_refused_code_exchange_asks_to_start_again() -> None:
    error = token_error("exact", 400, {"error": "invalid_grant"}, action="code exchange")
    assert isinstance(error, AuthExpired)
    assert "start connecting again" in error.hint
    assert "code exchange" in str(error)


# the client against the emulator's authorization server ------------------------------------------


def fortnox_like(**changes: Any) -> OAuthSettings:
    settings = OAuthSettings(
        clients=(OAuthClientApp(client_id="app", client_secret=SECRET),),
        authorize_path="/oauth-v1/auth",
        token_path="/oauth-v1/token",
        revoke_path="/oauth-v1/revoke",
        client_auth=frozenset({"basic"}),
    )
    return replace(settings, **changes)


@dataclass
class Erp:
    """An emulated ERP: authorization server, a protected API and counters of its calls."""

    server: OAuthServer
    url: str
    calls: Counter[str]


def make_erp_app(server: OAuthServer, calls: Counter[str]) -> FastAPI:
    app = FastAPI()
    app.include_router(oauth_router(server))
    authorized = Depends(bearer(server))

    @app.middleware("http")
    async def count(request: Request, call_next: Any) -> Any:
        calls[request.url.path] += 1
        return await call_next(request)

    @app.get("/3/me")
    async def me(principal: Principal = authorized) -> dict[str, str]:
        return {"subject": principal.subject}

    @app.post("/3/echo")
    async def echo(request: Request, principal: Principal = authorized) -> JSONResponse:
        return JSONResponse({"body": (await request.body()).decode(), "who": principal.subject})

    @app.get("/3/never")
    async def never() -> JSONResponse:
        return JSONResponse({"message": "unauthorized"}, status_code=401)

    return app


@pytest.fixture(params=["basic", "form"])
def erp(request: pytest.FixtureRequest) -> Iterator[Erp]:
    server = OAuthServer(fortnox_like(client_auth=frozenset({request.param})))
    calls: Counter[str] = Counter()
    with running(make_erp_app(server, calls)) as url:
        yield Erp(server, url, calls)


def client_for(erp: Erp, **changes: Any) -> OAuthClient:
    method = ClientAuthMethod(next(iter(erp.server.settings.client_auth)))
    return OAuthClient(config(erp.url, client_auth=method, **changes))


def connect(erp: Erp, client: OAuthClient) -> TokenSet:
    """The code flow with a browser that approves at once."""
    request = client.authorization_url(redirect_uri="http://127.0.0.1:1/callback")
    answer = httpx2.get(f"{request.url}&approve=yes", follow_redirects=False)
    callback = query_of(answer.headers["location"])
    assert callback["state"] == request.state
    return client.exchange_code(
        code=callback["code"],
        redirect_uri=request.redirect_uri,
        code_verifier=request.code_verifier,
    )


def test_code_exchange_refresh_and_revoke_against_the_emulator(erp: Erp) -> None:
    with client_for(erp) as client:
        tokens = connect(erp, client)
        assert tokens.scope == "invoice customer"
        assert tokens.expires_at > datetime.now(UTC) + timedelta(minutes=59)
        fresh = client.refresh(tokens.refresh_token)
        assert fresh.refresh_token != tokens.refresh_token
        with pytest.raises(AuthExpired, match="Old refresh token used") as refused:
            client.refresh(tokens.refresh_token)
        assert refused.value.hint == RECONNECT_HINT
        client.revoke(fresh.refresh_token)
        with pytest.raises(AuthExpired):
            client.refresh(fresh.refresh_token)
    assert erp.server.counters["refresh_token.ok"] == 1


def test_a_wrong_client_secret_is_a_setup_problem(erp: Erp) -> None:
    with client_for(erp) as good:
        tokens = connect(erp, good)
    with (
        client_for(erp, client_secret="wrong") as client,
        pytest.raises(Permanent, match="invalid_client") as refused,
    ):
        client.refresh(tokens.refresh_token)
    assert "client secret" in refused.value.hint


def test_server_errors_and_no_answer_are_transient() -> None:
    app, _ = make_echo_app()
    with running(app) as url:
        storm = OAuthClient(config(url, token_url=f"{url}/token?status=503"))
        with storm, pytest.raises(Transient, match="HTTP 503"):
            storm.refresh("r")
        limited = OAuthClient(config(url, token_url=f"{url}/token?status=429&retry_after=3"))
        with limited, pytest.raises(Transient) as waited:
            limited.refresh("r")
        assert waited.value.retry_after == 3
        garbled = OAuthClient(config(url, token_url=f"{url}/token"))
        with garbled, pytest.raises(Permanent, match="no access_token"):
            garbled.refresh("r")
    with OAuthClient(config(url)) as gone, pytest.raises(Transient, match="ConnectError"):
        gone.refresh("r")


def test_no_secret_reaches_the_log(erp: Erp) -> None:
    with structlog.testing.capture_logs() as logs, client_for(erp) as client:
        tokens = connect(erp, client)
        fresh = client.refresh(tokens.refresh_token)
    text = repr(logs)
    assert logs
    for secret in (SECRET, tokens.refresh_token, tokens.access_token, fresh.refresh_token):
        assert secret not in text


# RefreshingAuth -----------------------------------------------------------------------------


class MemorySource:
    """A fake TokenSource: one token set in memory, refreshed through the real client."""

    def __init__(self, client: OAuthClient, tokens: TokenSet) -> None:
        self.client = client
        self.tokens = tokens
        self.refreshes = 0

    def current(self) -> TokenSet:
        return self.tokens

    def refresh(self, stale: TokenSet) -> TokenSet:
        if stale.access_token == self.tokens.access_token:
            self.refreshes += 1
            self.tokens = self.client.refresh(self.tokens.refresh_token)
        return self.tokens


@pytest.fixture
def fortnox() -> Iterator[Erp]:
    server = OAuthServer(fortnox_like())
    calls: Counter[str] = Counter()
    with running(make_erp_app(server, calls)) as url:
        yield Erp(server, url, calls)


@pytest.fixture
def source(fortnox: Erp) -> Iterator[MemorySource]:
    with client_for(fortnox) as client:
        yield MemorySource(client, connect(fortnox, client))


def api(erp: Erp, source: MemorySource) -> httpx2.Client:
    return httpx2.Client(base_url=erp.url, auth=RefreshingAuth(source), timeout=10)


def test_a_fresh_token_is_sent_as_is(fortnox: Erp, source: MemorySource) -> None:
    with api(fortnox, source) as client:
        assert client.get("/3/me").json() == {"subject": "tenant-1"}
    assert source.refreshes == 0
    assert fortnox.calls["/3/me"] == 1


def test_an_expiring_token_is_refreshed_before_sending(fortnox: Erp, source: MemorySource) -> None:
    old = source.tokens
    source.tokens = replace(old, expires_at=datetime.now(UTC) + timedelta(seconds=10))
    with api(fortnox, source) as client:
        assert client.get("/3/me").status_code == 200
    assert source.refreshes == 1
    assert source.tokens.access_token != old.access_token
    assert fortnox.calls["/3/me"] == 1  # no request went out with the old token
    assert fortnox.calls["/oauth-v1/token"] == 2  # the code exchange, then the refresh


def test_a_401_refreshes_once_and_resends_the_same_body(fortnox: Erp, source: MemorySource) -> None:
    fortnox.server.expire_access_tokens()
    with api(fortnox, source) as client:
        response = client.post("/3/echo", content=b'{"Invoice": {"CustomerNumber": "1"}}')
    assert response.status_code == 200
    assert response.json()["body"] == '{"Invoice": {"CustomerNumber": "1"}}'
    assert source.refreshes == 1
    assert fortnox.calls["/3/echo"] == 2


def test_a_second_401_goes_back_to_the_caller(fortnox: Erp, source: MemorySource) -> None:
    with api(fortnox, source) as client:
        response = client.get("/3/never")
    assert response.status_code == 401
    assert source.refreshes == 1
    assert fortnox.calls["/3/never"] == 2


def test_a_token_refreshed_for_expiry_is_not_refreshed_again_on_a_401(
    fortnox: Erp, source: MemorySource
) -> None:
    source.tokens = replace(source.tokens, expires_at=datetime.now(UTC))
    with api(fortnox, source) as client:
        assert client.get("/3/never").status_code == 401
    assert source.refreshes == 1
    assert fortnox.calls["/3/never"] == 1


def test_a_revoked_grant_raises_auth_expired_from_the_refresh(
    fortnox: Erp, source: MemorySource
) -> None:
    fortnox.server.revoke_all()
    with api(fortnox, source) as client, pytest.raises(AuthExpired, match="invalid_grant"):
        client.get("/3/me")
    assert fortnox.calls["/3/me"] == 1


def test_through_the_requestor_a_refused_connection_is_auth_expired(
    fortnox: Erp, source: MemorySource
) -> None:
    from ledgerlink.connectors._kit.http import build_client

    client = build_client(base_url=fortnox.url, auth=RefreshingAuth(source), erp="fortnox")
    requestor = Requestor(client=client, errors=ErrorTable(erp="fortnox"), retry=RetryPolicy())
    with client:
        assert requestor.json("GET", "/3/me") == {"subject": "tenant-1"}
        with pytest.raises(AuthExpired):
            requestor.request("GET", "/3/never")
    assert source.refreshes == 1
    assert fortnox.calls["/3/never"] == 2  # one send, one resend; AuthExpired is never retried


def test_refreshing_auth_refuses_an_async_client(fortnox: Erp, source: MemorySource) -> None:
    async def call() -> None:
        async with httpx2.AsyncClient(base_url=fortnox.url, auth=RefreshingAuth(source)) as client:
            await client.get("/3/me")

    with pytest.raises(RuntimeError, match="synchronous"):
        asyncio.run(call())
