"""The emulators' OAuth2 authorization server: consent, codes, client authentication, PKCE,
rotating single-use refresh tokens, expiry on an injected clock, Exact's too-early refusal,
revocation, the bearer check, saving state, and one winner among concurrent refreshes."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from ledgerlink.emulators._kit.oauth import (
    OAuthClientApp,
    OAuthServer,
    OAuthSettings,
    Principal,
    basic_authorization,
    bearer,
    oauth_router,
    pkce_challenge,
)
from ledgerlink.emulators._kit.serve import running
from ledgerlink.emulators._kit.state import EmulatorState

REDIRECT = "http://127.0.0.1:8765/callback"
VERIFIER = "v" * 43 + "-._~0123456789"
BASIC = basic_authorization("app", "s3cret")

# Fortnox: Basic client authentication, /oauth-v1/ paths, 1 h access tokens.
FORTNOX_LIKE = OAuthSettings(
    clients=(OAuthClientApp(client_id="app", client_secret="s3cret", redirect_uris=(REDIRECT,)),),
    subjects=("tenant-1", "tenant-2"),
    authorize_path="/oauth-v1/auth",
    token_path="/oauth-v1/token",
    revoke_path="/oauth-v1/revoke",
    client_auth=frozenset({"basic"}),
    access_ttl=3600,
    refresh_ttl=45 * 86400,
    scopes=frozenset({"invoice", "customer"}),
    title="Fortnox emulator",
)
# Exact Online: credentials in the form, 600 s tokens, no refresh before 9.5 minutes.
EXACT_LIKE = OAuthSettings(
    clients=(OAuthClientApp(client_id="app", client_secret="s3cret"),),
    subjects=("division-1",),
    authorize_path="/api/oauth2/auth",
    token_path="/api/oauth2/token",
    revoke_path=None,
    client_auth=frozenset({"form"}),
    access_ttl=600,
    min_refresh_interval=570,
    expires_in_as_text=True,
)


class Clock:
    """A clock the test moves by hand (epoch seconds)."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_app(server: OAuthServer) -> FastAPI:
    app = FastAPI()
    app.include_router(oauth_router(server))
    authorized = Depends(bearer(server))
    may_invoice = Depends(bearer(server, scope="invoice"))

    @app.get("/3/me")
    async def me(principal: Principal = authorized) -> dict[str, Any]:
        return {"subject": principal.subject, "client": principal.client_id}

    @app.get("/3/invoices")
    async def invoices(principal: Principal = may_invoice) -> dict[str, Any]:
        return {"subject": principal.subject}

    return app


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def server(clock: Clock) -> OAuthServer:
    return OAuthServer(FORTNOX_LIKE, clock=clock)


@pytest.fixture
def http(server: OAuthServer) -> Iterator[TestClient]:
    with TestClient(make_app(server), follow_redirects=False) as client:
        yield client


def authorize_params(settings: OAuthSettings = FORTNOX_LIKE, **extra: str) -> dict[str, str]:
    params = {
        "client_id": "app",
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "state": "xyz",
        "scope": "invoice customer",
        "code_challenge": pkce_challenge(VERIFIER),
        "code_challenge_method": "S256",
        "access_type": "offline",
    }
    if settings.scopes is None:
        del params["scope"]
    params.update(extra)
    return {k: v for k, v in params.items() if v != "-"}


def redirected(response: httpx2.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def get_code(http: TestClient, settings: OAuthSettings = FORTNOX_LIKE, **extra: str) -> str:
    answer = redirected(
        http.get(
            settings.authorize_path,
            params={**authorize_params(settings, **extra), "approve": "yes"},
        )
    )
    assert answer["state"] == "xyz"
    return answer["code"]


def token(
    http: TestClient,
    form: dict[str, str],
    settings: OAuthSettings = FORTNOX_LIKE,
    *,
    basic: str | None = BASIC,
) -> httpx2.Response:
    headers = {"Authorization": basic} if basic else {}
    if "form" in settings.client_auth and basic is None:
        form = {**form, "client_id": "app", "client_secret": "s3cret"}
    return http.post(settings.token_path, data=form, headers=headers)


def exchange(
    http: TestClient, settings: OAuthSettings = FORTNOX_LIKE, **extra: str
) -> dict[str, Any]:
    basic = BASIC if "basic" in settings.client_auth else None
    code = get_code(http, settings, **extra)
    response = token(
        http,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": VERIFIER,
        },
        settings,
        basic=basic,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def refresh(
    http: TestClient, refresh_token: str, settings: OAuthSettings = FORTNOX_LIKE
) -> httpx2.Response:
    basic = BASIC if "basic" in settings.client_auth else None
    return token(
        http, {"grant_type": "refresh_token", "refresh_token": refresh_token}, settings, basic=basic
    )


def me(http: TestClient, access_token: str) -> httpx2.Response:
    return http.get("/3/me", headers={"Authorization": f"Bearer {access_token}"})


# authorize ------------------------------------------------------------------------------------


def test_the_consent_page_names_the_client_and_posts_the_request_back(http: TestClient) -> None:
    page = http.get(FORTNOX_LIKE.authorize_path, params=authorize_params())
    assert page.status_code == 200
    assert "Fortnox emulator" in page.text
    assert "<b>app</b>" in page.text
    assert 'name="state" value="xyz"' in page.text
    assert '<option value="tenant-2">' in page.text


def test_approving_the_consent_form_redirects_with_a_code_for_the_chosen_subject(
    http: TestClient,
) -> None:
    form = {**authorize_params(), "subject": "tenant-2", "decision": "approve"}
    answer = redirected(http.post(FORTNOX_LIKE.authorize_path, data=form))
    assert answer["state"] == "xyz"
    tokens = token(
        http,
        {
            "grant_type": "authorization_code",
            "code": answer["code"],
            "redirect_uri": REDIRECT,
            "code_verifier": VERIFIER,
        },
    ).json()
    assert me(http, tokens["access_token"]).json() == {"subject": "tenant-2", "client": "app"}


def test_denying_redirects_with_access_denied_and_the_state(http: TestClient) -> None:
    form = {**authorize_params(), "decision": "deny"}
    answer = redirected(http.post(FORTNOX_LIKE.authorize_path, data=form))
    assert answer["error"] == "access_denied"
    assert answer["state"] == "xyz"
    assert "code" not in answer
    answer = redirected(
        http.get(FORTNOX_LIKE.authorize_path, params={**authorize_params(), "approve": "no"})
    )
    assert answer["error"] == "access_denied"


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"client_id": "stranger"}, "Unknown client_id"),
        ({"redirect_uri": "http://evil/"}, "redirect_uri"),
    ],
)
def test_an_unknown_client_or_redirect_is_never_redirected_to(
    http: TestClient, change: dict[str, str], why: str
) -> None:
    response = http.get(
        FORTNOX_LIKE.authorize_path, params={**authorize_params(), **change, "approve": "yes"}
    )
    assert response.status_code == 400
    assert why in response.text
    assert "location" not in response.headers


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"scope": "invoice salary"}, "invalid_scope"),
        ({"subject": "tenant-9"}, "invalid_request"),
    ],
)
def test_bad_authorization_requests_are_redirected_with_the_error(
    http: TestClient, change: dict[str, str], error: str
) -> None:
    response = http.get(
        FORTNOX_LIKE.authorize_path, params={**authorize_params(), **change, "approve": "yes"}
    )
    answer = redirected(response)
    assert answer["error"] == error
    assert "code" not in answer


def test_pkce_can_be_required(clock: Clock) -> None:
    server = OAuthServer(replace(FORTNOX_LIKE, require_pkce=True), clock=clock)
    with TestClient(make_app(server), follow_redirects=False) as http:
        params = authorize_params(code_challenge="-", code_challenge_method="-")
        answer = redirected(
            http.get(FORTNOX_LIKE.authorize_path, params={**params, "approve": "yes"})
        )
        assert answer["error"] == "invalid_request"


# the code grant --------------------------------------------------------------------------------


def test_a_code_buys_tokens_once(http: TestClient, server: OAuthServer) -> None:
    code = get_code(http)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": VERIFIER,
    }
    first = token(http, form)
    assert first.status_code == 200
    body = first.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "invoice customer"
    assert body["access_token"] != body["refresh_token"]
    assert first.headers["cache-control"] == "no-store"
    again = token(http, form)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert server.counters["authorization_code.ok"] == 1
    assert server.counters["authorization_code.invalid_grant"] == 1


def test_a_code_expires_after_ten_minutes(http: TestClient, clock: Clock) -> None:
    code = get_code(http)
    clock.advance(601)
    response = token(
        http,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": VERIFIER,
        },
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "change",
    [
        {"code_verifier": "w" * 43},
        {"code_verifier": ""},
        {"code_verifier": "short"},
        {"redirect_uri": "http://127.0.0.1:8765/other"},
    ],
)
def test_the_code_grant_checks_pkce_and_the_redirect(
    http: TestClient, change: dict[str, str]
) -> None:
    form = {
        "grant_type": "authorization_code",
        "code": get_code(http),
        "redirect_uri": REDIRECT,
        "code_verifier": VERIFIER,
        **change,
    }
    response = token(http, form)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_without_a_challenge_no_verifier_is_needed(http: TestClient) -> None:
    code = get_code(http, code_challenge="-", code_challenge_method="-")
    response = token(
        http, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    )
    assert response.status_code == 200


# client authentication -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "extra", "status", "error"),
    [
        ({}, {}, 401, "invalid_client"),
        ({"Authorization": basic_authorization("app", "wrong")}, {}, 401, "invalid_client"),
        ({"Authorization": basic_authorization("other", "s3cret")}, {}, 401, "invalid_client"),
        ({"Authorization": "Basic %%%"}, {}, 401, "invalid_client"),
        ({}, {"client_id": "app", "client_secret": "s3cret"}, 401, "invalid_client"),
        (
            {"Authorization": BASIC},
            {"client_id": "app", "client_secret": "s3cret"},
            400,
            "invalid_request",
        ),
    ],
)
def test_a_basic_only_server_refuses_other_client_authentication(
    http: TestClient, headers: dict[str, str], extra: dict[str, str], status: int, error: str
) -> None:
    response = http.post(
        FORTNOX_LIKE.token_path,
        data={"grant_type": "refresh_token", "refresh_token": "x", **extra},
        headers=headers,
    )
    assert response.status_code == status
    assert response.json()["error"] == error


def test_a_form_only_server_takes_the_credentials_in_the_body(clock: Clock) -> None:
    server = OAuthServer(EXACT_LIKE, clock=clock)
    with TestClient(make_app(server), follow_redirects=False) as http:
        body = exchange(http, EXACT_LIKE)
        assert body["expires_in"] == "600"
        refused = http.post(
            EXACT_LIKE.token_path,
            data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
            headers={"Authorization": BASIC},
        )
        assert refused.status_code == 401
        assert refused.json()["error"] == "invalid_client"


def test_the_token_endpoint_wants_a_form_body(http: TestClient) -> None:
    response = http.post(
        FORTNOX_LIKE.token_path,
        content=json.dumps({"grant_type": "refresh_token"}),
        headers={"Authorization": BASIC, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    unsupported = token(http, {"grant_type": "password"})
    assert unsupported.json()["error"] == "unsupported_grant_type"


# refresh tokens ---------------------------------------------------------------------------------


def test_a_refresh_rotates_and_the_old_refresh_token_is_dead(http: TestClient) -> None:
    first = exchange(http)
    second = refresh(http, first["refresh_token"])
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert rotated["access_token"] != first["access_token"]
    reused = refresh(http, first["refresh_token"])
    assert reused.status_code == 400
    assert reused.json() == {
        "error": "invalid_grant",
        "error_description": "Old refresh token used",
    }
    third = refresh(http, rotated["refresh_token"])
    assert third.status_code == 200
    assert me(http, third.json()["access_token"]).status_code == 200


def test_reuse_can_log_the_user_out(clock: Clock) -> None:
    server = OAuthServer(replace(FORTNOX_LIKE, revoke_family_on_reuse=True), clock=clock)
    with TestClient(make_app(server), follow_redirects=False) as http:
        first = exchange(http)
        rotated = refresh(http, first["refresh_token"]).json()
        assert refresh(http, first["refresh_token"]).json()["error"] == "invalid_grant"
        assert me(http, rotated["access_token"]).status_code == 401
        assert refresh(http, rotated["refresh_token"]).json()["error"] == "invalid_grant"


def test_access_and_refresh_tokens_expire_on_the_clock(http: TestClient, clock: Clock) -> None:
    body = exchange(http)
    clock.advance(3599)
    assert me(http, body["access_token"]).status_code == 200
    clock.advance(1)
    expired = me(http, body["access_token"])
    assert expired.status_code == 401
    assert expired.json()["detail"] == "The access token has expired."
    assert 'error="invalid_token"' in expired.headers["www-authenticate"]
    fresh = refresh(http, body["refresh_token"]).json()
    assert me(http, fresh["access_token"]).status_code == 200
    clock.advance(45 * 86400)
    stale = refresh(http, fresh["refresh_token"])
    assert stale.status_code == 400
    assert stale.json()["error"] == "invalid_grant"


def test_exact_refuses_a_refresh_before_nine_and_a_half_minutes(clock: Clock) -> None:
    server = OAuthServer(EXACT_LIKE, clock=clock)
    with TestClient(make_app(server), follow_redirects=False) as http:
        body = exchange(http, EXACT_LIKE)
        clock.advance(60)
        early = refresh(http, body["refresh_token"], EXACT_LIKE)
        assert early.status_code == 400
        assert early.json() == {
            "error": "access_denied",
            "error_description": "Rate limit exceeded: access_token not expired",
        }
        clock.advance(511)
        # The refusal did not spend the refresh token.
        later = refresh(http, body["refresh_token"], EXACT_LIKE)
        assert later.status_code == 200


# revoke and bearer ------------------------------------------------------------------------------


def test_revoking_the_refresh_token_ends_the_grant(http: TestClient) -> None:
    body = exchange(http)
    response = http.post(
        FORTNOX_LIKE.revoke_path or "",
        data={"token_type_hint": "refresh_token", "token": body["refresh_token"]},
        headers={"Authorization": BASIC},
    )
    assert response.json() == {"revoked": True}
    assert me(http, body["access_token"]).status_code == 401
    assert refresh(http, body["refresh_token"]).json()["error"] == "invalid_grant"


def test_revoke_all_and_expire_access_tokens_simulate_the_erp_user(
    http: TestClient, server: OAuthServer
) -> None:
    body = exchange(http)
    assert server.expire_access_tokens() == 1
    assert me(http, body["access_token"]).status_code == 401
    fresh = refresh(http, body["refresh_token"]).json()
    assert me(http, fresh["access_token"]).status_code == 200
    assert server.revoke_all(subject="tenant-2") == 0
    assert server.revoke_all(subject="tenant-1") == 1
    assert me(http, fresh["access_token"]).status_code == 401


def test_the_bearer_check(http: TestClient) -> None:
    body = exchange(http, scope="customer")
    assert http.get("/3/me").status_code == 401
    assert http.get("/3/me", headers={"Authorization": "Basic abc"}).status_code == 401
    assert me(http, "nonsense").status_code == 401
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    refused = http.get("/3/invoices", headers=headers)
    assert refused.status_code == 403
    assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]
    allowed = exchange(http)
    assert (
        http.get(
            "/3/invoices", headers={"Authorization": f"Bearer {allowed['access_token']}"}
        ).status_code
        == 200
    )


# state ------------------------------------------------------------------------------------------


def test_the_state_survives_a_json_round_trip(http: TestClient, clock: Clock) -> None:
    changes: list[int] = []
    server = OAuthServer(FORTNOX_LIKE, clock=clock, on_change=lambda: changes.append(1))
    with TestClient(make_app(server), follow_redirects=False) as first:
        body = exchange(first)
        rotated = refresh(first, body["refresh_token"]).json()
        pending_code = get_code(first)
    assert len(changes) >= 4
    saved = json.loads(json.dumps(server.snapshot()))
    reborn = OAuthServer(FORTNOX_LIKE, clock=clock, state=saved)
    with TestClient(make_app(reborn), follow_redirects=False) as second:
        assert me(second, rotated["access_token"]).status_code == 200
        assert refresh(second, body["refresh_token"]).json()["error_description"] == (
            "Old refresh token used"
        )
        assert refresh(second, rotated["refresh_token"]).status_code == 200
        code_grant = token(
            second,
            {
                "grant_type": "authorization_code",
                "code": pending_code,
                "redirect_uri": REDIRECT,
                "code_verifier": VERIFIER,
            },
        )
        assert code_grant.status_code == 200
    assert reborn.counters["refresh_token.ok"] == 2


def test_the_tokens_live_in_the_emulators_state_file(clock: Clock, tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    state = EmulatorState(path=path)
    server = OAuthServer(FORTNOX_LIKE, clock=clock, lock=state.lock, on_change=state.save)
    state.add_part("oauth", dump=server.snapshot, load=server.restore)
    with TestClient(make_app(server), follow_redirects=False) as http:
        rotated = refresh(http, exchange(http)["refresh_token"]).json()
    assert oct(path.stat().st_mode & 0o777) == "0o600"

    restarted = EmulatorState(path=path)
    reborn = OAuthServer(FORTNOX_LIKE, clock=clock, lock=restarted.lock, on_change=restarted.save)
    restarted.add_part("oauth", dump=reborn.snapshot, load=reborn.restore)
    with TestClient(make_app(reborn), follow_redirects=False) as http:
        assert me(http, rotated["access_token"]).status_code == 200
        assert refresh(http, rotated["refresh_token"]).status_code == 200


# concurrency ------------------------------------------------------------------------------------


def test_of_concurrent_refreshes_with_one_token_exactly_one_wins(
    server: OAuthServer, http: TestClient
) -> None:
    body = exchange(http)
    statuses: list[int] = []
    errors: list[str] = []
    barrier = threading.Barrier(8)
    with running(make_app(server)) as url:

        def spend() -> None:
            with httpx2.Client(base_url=url, timeout=10) as client:
                barrier.wait()
                response = client.post(
                    FORTNOX_LIKE.token_path,
                    data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
                    headers={"Authorization": BASIC},
                )
                statuses.append(response.status_code)
                if response.status_code != 200:
                    errors.append(response.json()["error"])

        threads = [threading.Thread(target=spend) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(statuses) == [200] + [400] * 7
    assert errors == ["invalid_grant"] * 7
    assert server.counters["refresh_token.ok"] == 1
