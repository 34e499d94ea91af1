"""Fixtures: an e-conomic emulator served over real HTTP on loopback, and clients for it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest

from ledgerlink.emulators._kit.serve import running
from ledgerlink.emulators.economic import EconomicEmulator

TOKENS = {"X-AppSecretToken": "app-secret", "X-AgreementGrantToken": "grant-token"}


@pytest.fixture
def emulator() -> EconomicEmulator:
    emulator = EconomicEmulator(app_secret_token="app-secret", agreement_grant_token="grant-token")
    emulator.state.main.settings.today = "2026-03-15"
    return emulator


@pytest.fixture
def base_url(emulator: EconomicEmulator) -> Iterator[str]:
    with running(emulator.app) as url:
        yield url


@pytest.fixture
def api(base_url: str) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=base_url, headers=TOKENS, timeout=10) as client:
        yield client


@pytest.fixture
def anonymous(base_url: str) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=base_url, timeout=10) as client:
        yield client
