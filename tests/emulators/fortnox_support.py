"""A Fortnox emulator in-process with tokens for every scope, for the Fortnox tests."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient

from ledgerlink.emulators._kit.oauth import basic_authorization
from ledgerlink.emulators.fortnox import FortnoxEmulator

REDIRECT = "http://127.0.0.1:8765/callback"
BASIC = {"Authorization": basic_authorization("ledgerlink", "fortnox-secret")}
SCOPES = (
    "companyinformation customer article invoice payment bookkeeping project costcenter "
    "salary settings inbox archive connectfile"
)


class Clock:
    """Epoch seconds a test moves on."""

    def __init__(self) -> None:
        self.now = 1_770_000_000.0

    def __call__(self) -> float:
        return self.now


def authorize(http: TestClient, *, scope: str = SCOPES, **extra: str) -> str:
    answer = http.get(
        "/oauth-v1/auth",
        params={
            "client_id": "ledgerlink",
            "redirect_uri": REDIRECT,
            "scope": scope,
            "state": "s",
            "access_type": "offline",
            "response_type": "code",
            "approve": "yes",
            **extra,
        },
        follow_redirects=False,
    )
    assert answer.status_code == 302, answer.text
    return parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]


def tokens(http: TestClient, *, scope: str = SCOPES, **extra: str) -> dict[str, Any]:
    code = authorize(http, scope=scope, **extra)
    answer = http.post(
        "/oauth-v1/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
        headers=BASIC,
    )
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()
    return document


def client(emulator: FortnoxEmulator) -> TestClient:
    """A client with a bearer token for every scope."""
    http = TestClient(emulator.app)
    http.headers["Authorization"] = f"Bearer {tokens(http)['access_token']}"
    return http


def fresh(*, clock: Clock | None = None) -> FortnoxEmulator:
    emulator = FortnoxEmulator(today=date(2026, 3, 15), clock=clock or Clock())
    emulator.limits.configure([], retry_after=False)  # limits are tested on their own
    return emulator


INVOICE = {
    "Invoice": {
        "CustomerNumber": "1",
        "ExternalInvoiceReference1": "ll:t1:inv-1:0",
        "YourReference": "Erik Ek",
        "OurReference": "Anna Berg",
        "InvoiceRows": [
            {"ArticleNumber": "WORK", "DeliveredQuantity": "2.5", "Price": 1150},
            {"Description": "Specifikation"},
            {"ArticleNumber": "EXP", "DeliveredQuantity": "1", "Price": 99.99},
        ],
    }
}
