"""Fixtures: an e-conomic emulator served over real HTTP on loopback, and clients for it.

Each test gets a fresh emulator; the loopback server in front of it is started once per module
(starting and stopping uvicorn costs about 0.2 s) and hands each request to the app of the
test that runs now.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from ledgerlink.emulators._kit.serve import running
from ledgerlink.emulators.economic import EconomicEmulator

TOKENS = {"X-AppSecretToken": "app-secret", "X-AgreementGrantToken": "grant-token"}


class CurrentApp:
    """An ASGI app that passes each request to ``app``, the running test's emulator."""

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert self.app is not None, "a request outside a test"
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def _server() -> Iterator[tuple[CurrentApp, str]]:
    current = CurrentApp()
    with running(current) as url:
        yield current, url


@pytest.fixture
def emulator() -> EconomicEmulator:
    emulator = EconomicEmulator(app_secret_token="app-secret", agreement_grant_token="grant-token")
    emulator.state.main.settings.today = "2026-03-15"
    return emulator


@pytest.fixture
def base_url(emulator: EconomicEmulator, _server: tuple[CurrentApp, str]) -> Iterator[str]:
    current, url = _server
    current.app = emulator.app
    try:
        yield url
    finally:
        current.app = None


@pytest.fixture
def api(base_url: str) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=base_url, headers=TOKENS, timeout=10) as client:
        yield client


@pytest.fixture
def anonymous(base_url: str) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=base_url, timeout=10) as client:
        yield client
