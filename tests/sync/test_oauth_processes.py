"""OAuth2 end to end: the authorization-code flow through a loopback redirect into the token
store, and eight separate processes refreshing one credential at once against an emulator
whose refresh tokens are single use — on SQLite (a file) and on PostgreSQL.

The eight-process race runs against three authorization servers: the kit's generic one, and
the real Fortnox and Exact Online emulators with their own token endpoints and rules (Fortnox:
HTTP Basic client authentication, a spent refresh token ends the grant; Exact: credentials in
the form, 600-second access tokens, a refresh within ~9.5 minutes of the last refused). For
the two ERPs every process is what a ``ledgerlink worker`` holds: the connector built by its
spec's factory (its ``oauth_config``) with the hub's environment, whose token source is the
:class:`DatabaseTokenSource` over the :class:`TokenStore`; the race is the connector's own
``verify``. One emulator per ERP serves the whole module (its clock moves on for each race).

The kit's emulator is strict: presenting a spent refresh token answers ``invalid_grant`` *and*
ends the whole grant (``revoke_family_on_reuse``), so one unserialised refresh anywhere would
leave the stored token dead. The last test shows that without the store's lock that is what
happens.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from cryptography.fernet import Fernet
from fastapi import Depends, FastAPI

from ledgerlink.connectors._kit.http import build_client
from ledgerlink.connectors._kit.oauth import (
    OAuthClient,
    OAuthClientConfig,
    RefreshingAuth,
)
from ledgerlink.connectors.contract import AuthExpired
from ledgerlink.connectors.registry import spec_for
from ledgerlink.emulators._kit.oauth import (
    OAuthClientApp,
    OAuthServer,
    OAuthSettings,
    Principal,
    bearer,
    oauth_router,
)
from ledgerlink.emulators._kit.serve import running
from ledgerlink.emulators.exact import ExactEmulator
from ledgerlink.emulators.exact.seed import MAIN as EXACT_DIVISION
from ledgerlink.emulators.fortnox import FortnoxEmulator
from ledgerlink.store.database import Database
from ledgerlink.store.tokens import TokenStore
from ledgerlink.sync.oauth import (
    AuthorizationFailed,
    DatabaseTokenSource,
    LoopbackReceiver,
    PendingAuthorization,
    authorize_via_loopback,
    begin_authorization,
    complete_authorization,
    to_stored,
)
from ledgerlink.sync.secrets import SecretBox

PROCESSES = 8
CREDENTIAL = "fortnox:connection-1"
SECRET = "fortnox-client-secret"
ROOT = Path(__file__).resolve().parents[2]

SETTINGS = OAuthSettings(
    clients=(OAuthClientApp(client_id="ledgerlink", client_secret=SECRET),),
    subjects=("tenant-7",),
    authorize_path="/oauth-v1/auth",
    token_path="/oauth-v1/token",
    revoke_path="/oauth-v1/revoke",
    client_auth=frozenset({"basic"}),
    access_ttl=3600,
    revoke_family_on_reuse=True,
    title="Fortnox emulator",
)


class Clock:
    """The emulator's clock, moved by the test (epoch seconds)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def emulator_app(server: OAuthServer) -> FastAPI:
    app = FastAPI()
    app.include_router(oauth_router(server))
    authorized = Depends(bearer(server))

    @app.get("/3/me")
    async def me(principal: Principal = authorized) -> dict[str, str]:
        return {"tenant": principal.subject}

    return app


def client_config(base_url: str) -> OAuthClientConfig:
    return OAuthClientConfig(
        erp="fortnox",
        authorize_url=f"{base_url}/oauth-v1/auth",
        token_url=f"{base_url}/oauth-v1/token",
        revoke_url=f"{base_url}/oauth-v1/revoke",
        client_id="ledgerlink",
        client_secret=SECRET,
        scopes=("companyinformation",),
        authorize_params=(("access_type", "offline"),),
    )


@dataclass
class Erp:
    """An authorization server under test. ``name`` is ``kit`` (the generic emulator above,
    reached with :func:`client_config`) or an ERP whose spec builds the OAuth client from
    ``values`` (its setup values) and whose connector the worker processes build; ``ping``
    is a read that needs a valid access token."""

    server: OAuthServer
    clock: Clock
    url: str
    name: str = "kit"
    values: dict[str, str] = field(default_factory=dict)
    access_ttl: float = SETTINGS.access_ttl
    ping: str = "/3/me"

    def config(self) -> OAuthClientConfig:
        if self.name == "kit":
            return client_config(self.url)
        oauth = spec_for(self.name).oauth
        assert oauth is not None
        return oauth(self.values)

    def expire(self) -> None:
        """Let the ERP's clock pass every access token it has issued (and Exact's minimum
        interval between refreshes)."""
        self.clock.offset += self.access_ttl + 1


@pytest.fixture
def erp() -> Iterator[Erp]:
    clock = Clock()
    server = OAuthServer(SETTINGS, clock=clock)
    with running(emulator_app(server)) as url:
        yield Erp(server, clock, url)


@pytest.fixture(scope="module")
def fortnox() -> Iterator[Erp]:
    """The Fortnox emulator (its own ``/oauth-v1`` server: Basic client authentication,
    3,600 s access tokens, a spent refresh token ends the grant), for the whole module."""
    clock = Clock()
    emulator = FortnoxEmulator(client_id="ledgerlink", client_secret=SECRET, clock=clock)
    with running(emulator.app) as url:
        values = {"client_id": "ledgerlink", "client_secret": SECRET, "base_url": url,
                  "auth_url": f"{url}/oauth-v1"}  # fmt: skip
        yield Erp(emulator.oauth, clock, url, "fortnox", values, 3600.0, "/3/me")


@pytest.fixture(scope="module")
def exact() -> Iterator[Erp]:
    """The Exact Online emulator (``/api/oauth2``: credentials in the form, 600 s access
    tokens, no refresh within 570 s of the last), for the whole module."""
    clock = Clock()
    emulator = ExactEmulator(client_id="ledgerlink-exact", client_secret=SECRET, clock=clock)
    with running(emulator.app) as url:
        values = {"client_id": "ledgerlink-exact", "client_secret": SECRET, "base_url": url,
                  "division": str(EXACT_DIVISION)}  # fmt: skip
        yield Erp(emulator.oauth, clock, url, "exact", values, 600.0, "/api/v1/current/Me")


def approve_in_browser(url: str) -> None:
    """What the user does: open the URL, press Approve; the browser follows the redirect."""
    with httpx2.Client(timeout=10, follow_redirects=False) as browser:
        page = browser.get(url)
        assert page.status_code == 200
        assert "<form" in page.text
        redirect = browser.get(f"{url}&approve=yes")
        assert redirect.status_code == 302
        landed = browser.get(redirect.headers["location"])
        assert landed.status_code == 200
        assert "connected" in landed.text


# the authorization-code flow -----------------------------------------------------------------


@pytest.mark.store
def test_connect_through_the_loopback_redirect_then_refresh_on_a_401(
    database: Database, erp: Erp
) -> None:
    store = TokenStore(database, SecretBox(Fernet.generate_key()))
    shown: list[str] = []

    def show_url(url: str) -> None:
        shown.append(url)
        approve_in_browser(url)

    with OAuthClient(client_config(erp.url)) as client:
        tokens = authorize_via_loopback(
            client, store, credential_id=CREDENTIAL, show_url=show_url, timeout=10
        )
        assert "Fortnox emulator" in httpx2.get(shown[0]).text
        assert "access_type=offline" in shown[0]
        assert "code_challenge=" in shown[0]
        stored = store.load(CREDENTIAL)
        assert stored is not None
        assert stored.access_token == tokens.access_token
        assert stored.version == 1

        source = DatabaseTokenSource(store=store, client=client, credential_id=CREDENTIAL)
        with build_client(base_url=erp.url, auth=RefreshingAuth(source), erp="fortnox") as api:
            assert api.get("/3/me").json() == {"tenant": "tenant-7"}
            erp.server.expire_access_tokens()
            assert api.get("/3/me").status_code == 200
    refreshed = store.load(CREDENTIAL)
    assert refreshed is not None
    assert refreshed.version == 2
    assert refreshed.refresh_token != tokens.refresh_token
    assert erp.server.counters["refresh_token.ok"] == 1


@pytest.mark.store
def test_the_web_console_can_keep_the_pending_authorization_and_complete_it_later(
    database: Database, erp: Erp
) -> None:
    store = TokenStore(database, SecretBox(Fernet.generate_key()))
    callback_route = "https://hub.example/oauth/callback"
    with OAuthClient(client_config(erp.url)) as client:
        pending = begin_authorization(client, credential_id=CREDENTIAL, redirect_uri=callback_route)
        kept = json.loads(json.dumps(pending.to_dict()))
        answer = httpx2.get(f"{pending.url}&approve=yes", follow_redirects=False)
        query = dict(httpx2.URL(answer.headers["location"]).params)

        forged = {**query, "state": "someone-elses"}
        with pytest.raises(AuthorizationFailed, match="state mismatch"):
            complete_authorization(client, store, PendingAuthorization.from_dict(kept), forged)
        assert store.load(CREDENTIAL) is None

        tokens = complete_authorization(client, store, PendingAuthorization.from_dict(kept), query)
    stored = store.load(CREDENTIAL)
    assert stored is not None
    assert stored.access_token == tokens.access_token
    assert stored.refresh_token == tokens.refresh_token


@pytest.mark.store
def test_a_denied_or_missing_answer_fails_clearly(database: Database, erp: Erp) -> None:
    store = TokenStore(database, SecretBox(Fernet.generate_key()))
    with OAuthClient(client_config(erp.url)) as client:
        pending = begin_authorization(
            client, credential_id=CREDENTIAL, redirect_uri="http://127.0.0.1:1/cb"
        )
        answer = httpx2.get(f"{pending.url}&approve=no", follow_redirects=False)
        denied = dict(httpx2.URL(answer.headers["location"]).params)
        with pytest.raises(AuthorizationFailed, match="did not grant access"):
            complete_authorization(client, store, pending, denied)
        with pytest.raises(AuthorizationFailed, match="no authorization code"):
            complete_authorization(client, store, pending, {"state": pending.state})
        with pytest.raises(AuthExpired, match="invalid_grant"):
            complete_authorization(
                client, store, pending, {"state": pending.state, "code": "made-up"}
            )
    assert store.load(CREDENTIAL) is None


def test_the_loopback_receiver_ignores_strangers_and_gives_up_in_time() -> None:
    with LoopbackReceiver() as receiver:
        receiver.expect("expected-state")
        base = receiver.redirect_uri
        assert base.startswith("http://127.0.0.1:")
        assert base.endswith("/callback")
        with httpx2.Client(timeout=5) as browser:
            assert browser.get(base.replace("/callback", "/favicon.ico")).status_code == 404
            assert browser.get(base, params={"code": "x", "state": "forged"}).status_code == 400
            with pytest.raises(AuthorizationFailed, match="no answer arrived"):
                receiver.wait(0.2)
            ok = browser.get(base, params={"code": "the-code", "state": "expected-state"})
            assert ok.status_code == 200
            assert (
                browser.get(base, params={"code": "y", "state": "expected-state"}).status_code
                == 200
            )
        assert receiver.wait(1) == {"code": "the-code", "state": "expected-state"}


@pytest.mark.store
def test_a_credential_that_was_never_connected_asks_to_connect(
    database: Database, erp: Erp
) -> None:
    store = TokenStore(database, SecretBox(Fernet.generate_key()))
    with OAuthClient(client_config(erp.url)) as client:
        source = DatabaseTokenSource(store=store, client=client, credential_id="nobody")
        with (
            build_client(base_url=erp.url, auth=RefreshingAuth(source)) as api,
            pytest.raises(AuthExpired, match="no OAuth tokens"),
        ):
            api.get("/3/me")


# eight processes, one credential --------------------------------------------------------------

WORKER = r"""
import json, os, sys
from dataclasses import replace
from ledgerlink.connectors._kit.http import build_client
from ledgerlink.connectors._kit.oauth import OAuthClient, OAuthClientConfig, RefreshingAuth
from ledgerlink.connectors.contract import ConnectorError
from ledgerlink.connectors.registry import spec_for
from ledgerlink.connectors.spec import TOKEN_REF
from ledgerlink.store.database import Database
from ledgerlink.store.tokens import TokenStore
from ledgerlink.sync.oauth import DatabaseTokenSource, from_stored, to_stored
from ledgerlink.sync.registry import hub_environment
from ledgerlink.sync.secrets import SecretBox

env = os.environ
database = Database(env["OAUTH_TEST_DB"])
secrets = SecretBox(env["OAUTH_TEST_KEY"].encode())
store = TokenStore(database, secrets)
credential = env["OAUTH_TEST_CREDENTIAL"]


class Unserialised:
    # What a connector without the store's lock would do: read, refresh, save.
    def __init__(self, client):
        self.client = client
        self.tokens = from_stored(store.load(credential))

    def current(self):
        return self.tokens

    def refresh(self, stale):
        fresh = self.client.refresh(stale.refresh_token)
        store.save(credential, to_stored(fresh))
        return fresh


def make_source(credential_id, client):
    if env["OAUTH_TEST_MODE"] == "serialised":
        return DatabaseTokenSource(store=store, client=client, credential_id=credential_id)
    return Unserialised(client)


if env["OAUTH_TEST_ERP"] == "kit":
    source = make_source(
        credential, OAuthClient(OAuthClientConfig(**json.loads(env["OAUTH_TEST_CONFIG"])))
    )
    api = build_client(base_url=env["OAUTH_TEST_URL"], auth=RefreshingAuth(source), erp="fortnox")

    def call():
        return {"status": api.get("/3/me").status_code}

else:
    # As a worker process builds it: the spec's factory (its oauth_config) with the hub's
    # environment (database-shared limiter), the token source over the token store.
    sources = []

    def tokens(credential_id, client):
        sources.append(make_source(credential_id, client))
        return sources[-1]

    environment = replace(hub_environment(database, secrets), tokens=tokens)
    values = json.loads(env["OAUTH_TEST_VALUES"])
    credentials = {"client_secret": values.pop("client_secret"), TOKEN_REF: credential}
    connector = spec_for(env["OAUTH_TEST_ERP"]).factory(credentials, values, environment)
    (source,) = sources

    def call():
        info = connector.verify()
        return {"status": 200, "account": info.account_id}

source.current()  # every process holds the stale token before any of them refreshes
print("ready", flush=True)
sys.stdin.readline()
try:
    result = call()
except ConnectorError as error:
    result = {"error": type(error).__name__, "message": str(error)}
print(json.dumps(result), flush=True)
"""


def connect_and_expire(erp: Erp, store: TokenStore, *, client_side: bool) -> str:
    """Connect the credential (code flow), then let its access token run out at the ERP.
    With ``client_side`` the stored expiry says so too (refresh before sending); without it
    the store still believes the token is good (401, then refresh). Returns the old token."""
    with OAuthClient(erp.config()) as client:
        tokens = authorize_via_loopback(
            client, store, credential_id=CREDENTIAL, show_url=approve_in_browser, timeout=10
        )
    erp.expire()
    if client_side:
        expired = replace(to_stored(tokens), expires_at=datetime.now(UTC) - timedelta(minutes=1))
        store.save(CREDENTIAL, expired)
    return tokens.access_token


def run_workers(
    erp: Erp, database: Database, key: bytes, *, mode: str
) -> tuple[list[dict[str, Any]], float]:
    """Start the processes, let each import, connect and read the stale token, then release
    them together. Returns their results and the seconds from release to the last answer."""
    config = erp.config()
    env = {
        **os.environ,
        "OAUTH_TEST_DB": database.url,
        "OAUTH_TEST_KEY": key.decode(),
        "OAUTH_TEST_URL": erp.url,
        "OAUTH_TEST_CREDENTIAL": CREDENTIAL,
        "OAUTH_TEST_MODE": mode,
        "OAUTH_TEST_ERP": erp.name,
        "OAUTH_TEST_VALUES": json.dumps(erp.values),
        "OAUTH_TEST_CONFIG": json.dumps(
            {
                "erp": config.erp,
                "authorize_url": config.authorize_url,
                "token_url": config.token_url,
                "client_id": config.client_id,
                "client_secret": config.client_secret,
            }
        ),
    }
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER],
            env=env,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            line = worker.stdout.readline()
            assert line.strip() == "ready", line or worker.communicate()[1]
        released = time.monotonic()
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        results = []
        for worker in workers:
            out, err = worker.communicate(timeout=30)
            assert worker.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
        return results, time.monotonic() - released
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()


# Each race starts eight Python processes (about 1 s of imports each, on two cores): the kit's
# server runs both ways a token can be found expired, each ERP the way its connector meets it
# most — Fortnox's hour-long token refused by the ERP (its 401 envelope, then refresh), Exact's
# 600-second token seen expired in the store (refresh before sending, where Exact's minimum
# interval between refreshes also applies). The refresh under the lock is the same code.
RACES = [
    pytest.param("erp", "in the store", id="kit-in the store"),
    pytest.param("erp", "only at the ERP", id="kit-only at the ERP"),
    pytest.param("fortnox", "only at the ERP", id="fortnox-only at the ERP"),
    pytest.param("exact", "in the store", id="exact-in the store"),
]


@pytest.mark.store
@pytest.mark.parametrize(("server", "expired"), RACES)
def test_eight_processes_refresh_one_credential_once(
    database: Database, server: str, expired: str, request: pytest.FixtureRequest
) -> None:
    erp: Erp = request.getfixturevalue(server)
    key = Fernet.generate_key()
    store = TokenStore(database, SecretBox(key))
    old_access = connect_and_expire(erp, store, client_side=expired == "in the store")
    before = Counter(erp.server.counters)

    results, race_seconds = run_workers(erp, database, key, mode="serialised")

    assert [r.get("status") for r in results] == [200] * PROCESSES, (
        f"after {race_seconds:.1f} s: {results}"
    )
    counters = Counter(erp.server.counters)
    counters.subtract(before)
    # Nothing refused at the token endpoint: no spent token presented, no refresh too early.
    assert {k: v for k, v in counters.items() if k.startswith("refresh_token.") and v} == {
        "refresh_token.ok": 1
    }
    stored = store.load(CREDENTIAL)
    assert stored is not None
    # connect = 1, (the test's expired copy = 2,) the one refresh = +1
    assert stored.version == (3 if expired == "in the store" else 2)
    assert stored.access_token != old_access
    with build_client(
        base_url=erp.url, headers={"Authorization": f"Bearer {stored.access_token}"}, auth=None
    ) as api:
        assert api.get(erp.ping).status_code == 200
    erp.expire()  # Exact refuses a refresh within ~9.5 minutes of the last one
    with OAuthClient(erp.config()) as client:
        assert client.refresh(stored.refresh_token).access_token  # the stored one is the live one


def test_without_the_lock_the_same_race_loses_the_grant(
    erp: Erp, sqlite_template: Path, tmp_path: Path
) -> None:
    path = tmp_path / "unserialised.db"
    shutil.copy(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    key = Fernet.generate_key()
    store = TokenStore(database, SecretBox(key))
    try:
        connect_and_expire(erp, store, client_side=True)
        results, _ = run_workers(erp, database, key, mode="unserialised")
    finally:
        database.dispose()
    counters = erp.server.counters
    assert counters["refresh_token.ok"] == 1
    assert counters["refresh_token.invalid_grant"] == PROCESSES - 1
    assert [r.get("error") for r in results].count("AuthExpired") >= PROCESSES - 1
    stored = store.load(CREDENTIAL)
    assert stored is not None
    with build_client(
        base_url=erp.url, headers={"Authorization": f"Bearer {stored.access_token}"}, auth=None
    ) as api:
        assert api.get("/3/me").status_code == 401
