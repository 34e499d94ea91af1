"""A new SaaS ERP's emulator assembled from the kit alone — a Fortnox-shaped one: the base,
an OAuth server and bearer check sharing the state's lock and file, a 25-per-5-s sliding
window, page/limit paging and declarative field validation, every error in the ERP's own
``ErrorInformation`` envelope."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import APIRouter, Depends, Request
from fastapi.testclient import TestClient
from starlette.middleware import Middleware
from starlette.responses import JSONResponse, Response

from ledgerlink.emulators._kit.base import Emulator, ErrorEnvelope, Routes
from ledgerlink.emulators._kit.fields import Field, check
from ledgerlink.emulators._kit.oauth import (
    BearerRejected,
    OAuthClientApp,
    OAuthServer,
    OAuthSettings,
    basic_authorization,
    bearer,
    oauth_router,
    pkce_challenge,
)
from ledgerlink.emulators._kit.paging import PageLimit, PagingError
from ledgerlink.emulators._kit.ratelimit import LimitWindow, RateLimitMiddleware, RateLimits
from ledgerlink.emulators._kit.state import EmulatorState

REDIRECT = "http://127.0.0.1:8765/callback"
VERIFIER = "v" * 43
OAUTH = OAuthSettings(
    clients=(OAuthClientApp(client_id="app", client_secret="s3cret", redirect_uris=(REDIRECT,)),),
    subjects=("tenant-1",),
    authorize_path="/oauth-v1/auth",
    token_path="/oauth-v1/token",
    revoke_path="/oauth-v1/revoke",
    client_auth=frozenset({"basic"}),
    access_ttl=3600,
)
CUSTOMER = (
    Field("CustomerNumber", read_only=True),
    Field("Name", required=True, max_length=1024),
    Field("Email", max_length=1024),
)


class FortnoxError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class FortnoxErrors(ErrorEnvelope):
    """``{"ErrorInformation": {"error": 1, "message", "code"}}``."""

    def render(self, request: Request, status: int, message: str, code: int = 0) -> Response:
        body = {"ErrorInformation": {"error": 1, "message": message, "code": code}}
        return JSONResponse(body, status_code=status)

    def fortnox(self, request: Request, error: Exception) -> Response:
        assert isinstance(error, FortnoxError)
        return self.render(request, error.status, error.message, error.code)


class Books(EmulatorState):
    def __init__(self, path: Path | None) -> None:
        super().__init__(path=path)
        self.customers: dict[str, dict[str, Any]] = {}
        self.add_part("customers", dump=lambda: self.customers, load=self._load)

    def _load(self, data: dict[str, dict[str, Any]]) -> None:
        self.customers = data


def books(request: Request) -> Books:
    state: Books = request.app.state.emulator.state
    return state


api = APIRouter(prefix="/3")


@api.get("/customers")
async def list_customers(request: Request) -> dict[str, Any]:
    try:
        window = PageLimit().read(request.query_params)
    except PagingError as problem:
        raise FortnoxError(400, 2000588, str(problem)) from None
    with books(request).lock:
        customers = sorted(books(request).customers.values(), key=lambda c: c["CustomerNumber"])
    return {
        "MetaInformation": PageLimit.meta_information(window, len(customers)),
        "Customers": list(window.slice(customers)),
    }


@api.post("/customers", status_code=201)
async def create_customer(request: Request) -> dict[str, Any]:
    body = (await request.json()).get("Customer", {})
    problems = check(body, CUSTOMER)
    if problems:
        raise FortnoxError(400, 2000359, problems[0].message)
    state = books(request)
    with state.change():
        number = str(len(state.customers) + 1)
        state.customers[number] = {"CustomerNumber": number, **body}
    return {"Customer": state.customers[number]}


class Fortnoxish(Emulator):
    """The whole emulator: everything ERP-specific is above; this is the assembly."""

    state: Books

    def __init__(self, *, state_file: Path | None = None) -> None:
        super().__init__(state=Books(state_file))
        self.oauth = OAuthServer(OAUTH, lock=self.state.lock, on_change=self.state.save)
        self.state.add_part("oauth", dump=self.oauth.snapshot, load=self.oauth.restore)
        errors = FortnoxErrors()

        def refused(rejected: BearerRejected) -> Exception:
            return FortnoxError(rejected.status, 2000311, rejected.reason)

        self.app = self.assemble(
            title="Fortnox-shaped emulator (test)",
            errors=errors,
            handlers={FortnoxError: errors.fortnox},
            routers=[
                oauth_router(self.oauth),
                Routes(api, dependencies=[Depends(bearer(self.oauth, rejection=refused))]),
            ],
            middleware=[Middleware(RateLimitMiddleware, limits=RateLimits([LimitWindow(25, 5)]))],
        )


def access_token(http: TestClient) -> dict[str, Any]:
    authorize = http.get(
        OAUTH.authorize_path,
        params={
            "client_id": "app",
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "state": "s",
            "code_challenge": pkce_challenge(VERIFIER),
            "code_challenge_method": "S256",
            "approve": "yes",
        },
    )
    assert authorize.status_code == 302, authorize.text
    code = parse_qs(urlsplit(authorize.headers["location"]).query)["code"][0]
    answer = http.post(
        OAUTH.token_path,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": VERIFIER,
        },
        headers={"Authorization": basic_authorization("app", "s3cret")},
    )
    assert answer.status_code == 200, answer.text
    tokens: dict[str, Any] = answer.json()
    return tokens


@pytest.fixture
def http(tmp_path: Path) -> Iterator[TestClient]:
    app = Fortnoxish(state_file=tmp_path / "fortnox.json").app
    with TestClient(app, follow_redirects=False) as client:
        yield client


def test_oauth_bearer_paging_validation_and_envelope_from_kit_parts(http: TestClient) -> None:
    refused = http.get("/3/customers")
    assert refused.status_code == 401
    assert refused.json()["ErrorInformation"]["code"] == 2000311
    auth = {"Authorization": f"Bearer {access_token(http)['access_token']}"}
    for n in range(3):
        created = http.post("/3/customers", json={"Customer": {"Name": f"Kund {n}"}}, headers=auth)
        assert created.status_code == 201
    invalid = http.post("/3/customers", json={"Customer": {"Email": "x@y.se"}}, headers=auth)
    assert invalid.status_code == 400
    assert invalid.json() == {
        "ErrorInformation": {"error": 1, "message": "Name is required.", "code": 2000359}
    }
    page = http.get("/3/customers", params={"page": "2", "limit": "2"}, headers=auth).json()
    assert page["MetaInformation"] == {
        "@TotalResources": 3,
        "@TotalPages": 2,
        "@CurrentPage": 2,
    }
    assert [c["Name"] for c in page["Customers"]] == ["Kund 2"]
    bad_page = http.get("/3/customers", params={"limit": "501"}, headers=auth)
    assert bad_page.json()["ErrorInformation"]["message"] == "limit must be between 1 and 500"
    missing = http.get("/3/nothing", headers=auth)
    assert missing.json() == {"ErrorInformation": {"error": 1, "message": "Not Found", "code": 0}}


def test_the_sliding_window_answers_a_bare_429_after_25_calls_in_5_seconds(
    http: TestClient,
) -> None:
    auth = {"Authorization": f"Bearer {access_token(http)['access_token']}"}
    statuses = [http.get("/3/customers", headers=auth).status_code for _ in range(26)]
    assert statuses == [200] * 25 + [429]


def test_tokens_and_data_survive_a_restart_in_one_state_file(tmp_path: Path) -> None:
    path = tmp_path / "fortnox.json"
    with TestClient(Fortnoxish(state_file=path).app, follow_redirects=False) as http:
        tokens = access_token(http)
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        http.post("/3/customers", json={"Customer": {"Name": "Kvar"}}, headers=auth)
    with TestClient(Fortnoxish(state_file=path).app, follow_redirects=False) as http:
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert [c["Name"] for c in http.get("/3/customers", headers=auth).json()["Customers"]] == [
            "Kvar"
        ]
