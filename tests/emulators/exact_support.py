"""Helpers for the Exact Online emulator's tests: a settable clock, an emulator in-process and
a signed-in API client."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient

from ledgerlink.emulators._kit.jsonio import dumps
from ledgerlink.emulators._kit.oauth import basic_authorization
from ledgerlink.emulators.exact import ExactEmulator
from ledgerlink.emulators.exact.seed import MAIN

REDIRECT = "http://127.0.0.1:9/callback"
CLIENT = {"client_id": "exact-client", "client_secret": "exact-secret"}
ADMIN = {"Authorization": basic_authorization("exact-client", "exact-secret")}
DIVISION = f"/api/v1/{MAIN}"
START = 1_796_666_400.0  # 2026-12-07 06:40 UTC: a whole minute, mid-day


@dataclass
class Clock:
    """Epoch seconds that a test moves on."""

    now: float = START

    def __call__(self) -> float:
        return self.now


@dataclass
class Session:
    """An emulator, its in-process client and the tokens of one grant."""

    emulator: ExactEmulator
    client: TestClient
    clock: Clock
    tokens: dict[str, Any] = field(default_factory=dict)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['access_token']}"}

    def get(self, path: str, **params: str) -> Any:
        return self.client.get(path, params=params, headers=self.auth)

    def post(self, path: str, body: Any) -> Any:
        # The kit's JSON writer: Decimal amounts go out as exact JSON numbers.
        headers = {**self.auth, "Content-Type": "application/json"}
        return self.client.post(path, content=dumps(body), headers=headers)

    def refresh(self) -> Any:
        answer = self.client.post(
            "/api/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": self.tokens["refresh_token"],
                **CLIENT,
            },
        )
        if answer.status_code == 200:
            self.tokens = answer.json()
        return answer


def sign_in(client: TestClient, credentials: dict[str, str] = CLIENT) -> dict[str, Any]:
    """The code flow as a browser and a connector walk it: consent, then code → tokens."""
    consent = client.get(
        "/api/oauth2/auth",
        params={
            "client_id": credentials["client_id"],
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "approve": "yes",
            "state": "s1",
        },
        follow_redirects=False,
    )
    assert consent.status_code == 302
    code = parse_qs(urlsplit(consent.headers["location"]).query)["code"][0]
    answer = client.post(
        "/api/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            **credentials,
        },
    )
    assert answer.status_code == 200, answer.text
    tokens: dict[str, Any] = answer.json()
    return tokens


def session(**settings: Any) -> Session:
    """A fresh emulator (today pinned to 2026-03-15) and a signed-in client."""
    clock = Clock()
    emulator = ExactEmulator(clock=clock, **settings)
    emulator.state.divisions[MAIN].settings.today = "2026-03-15"
    client = TestClient(emulator.app)
    return Session(emulator, client, clock, sign_in(client))


def message(answer: Any) -> str:
    """The text of an Exact error body (and a check that the body has Exact's shape)."""
    error = answer.json()["error"]
    assert error["code"] == ""
    assert error["message"]["lang"] == ""
    text: str = error["message"]["value"]
    return text
