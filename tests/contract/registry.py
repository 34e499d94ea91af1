"""The connectors the contract suite runs against, each with its emulator.

An :class:`ErpCase` says how to start the ERP (its emulator, and for NAV and Visma a real
FinancialHost process in front of it) and a connector pointed at it, which seed data to use (an
existing customer and product number), and how to play the ERP user (book a document, register
a payment). ``start`` yields the ERP's location (a URL or a company folder) and the connector.
Adding an ERP means adding one entry to :data:`CASES`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx2

from ledgerlink.connectors.contract import ErpConnector
from ledgerlink.connectors.economic import EconomicConnector, EconomicSettings
from ledgerlink.emulators._kit.serve import running
from ledgerlink.emulators.economic import EconomicEmulator
from ledgerlink.emulators.nav import NavEmulator
from ledgerlink.emulators.visma import (
    book_invoice,
    create_company,
    register_payment,
)
from ledgerlink.financialhost.vault import Vault
from ledgerlink.wire.signing import SigningKey
from tests.connectors.financialhost_support import connector_for_agent, connector_for_host
from tests.contract.host_process import KEY_ID, host_process
from tests.contract.hub_relay import hub_relay


@dataclass(frozen=True)
class ErpCase:
    name: str
    start: Callable[[Path], AbstractContextManager[tuple[str, ErpConnector]]]
    existing_customer: str
    product: str
    new_customer_number: str
    book: Callable[[str, str], str]  # (location, document external id) → booked number
    pay: Callable[[str, str, str], None]  # (location, booked number, amount)


ECONOMIC_APP = "app-secret"
ECONOMIC_GRANT = "grant-token"
_ECONOMIC_ADMIN = {"X-AppSecretToken": ECONOMIC_APP, "X-AgreementGrantToken": ECONOMIC_GRANT}


def economic_connector(base_url: str, **settings: Any) -> EconomicConnector:
    return EconomicConnector(
        app_secret_token=ECONOMIC_APP,
        agreement_grant_token=ECONOMIC_GRANT,
        settings=EconomicSettings(base_url=base_url, **settings),
    )


def economic_admin(base_url: str, path: str, body: dict[str, Any] | None = None) -> Any:
    response = httpx2.post(f"{base_url}/_emulator{path}", headers=_ECONOMIC_ADMIN, json=body or {})
    response.raise_for_status()
    return response.json() if response.content else None


def _economic_book(base_url: str, draft_number: str) -> str:
    booked = economic_admin(base_url, f"/invoices/drafts/{draft_number}/book")
    return str(booked["bookedInvoiceNumber"])


def _economic_pay(base_url: str, booked_number: str, amount: str) -> None:
    economic_admin(base_url, f"/invoices/booked/{booked_number}/payments", {"amount": amount})


@contextmanager
def _economic(_folder: Path) -> Iterator[tuple[str, ErpConnector]]:
    emulator = EconomicEmulator(app_secret_token=ECONOMIC_APP, agreement_grant_token=ECONOMIC_GRANT)
    with running(emulator.app) as base_url:
        connector = economic_connector(base_url)
        try:
            yield base_url, connector
        finally:
            connector.close()


@contextmanager
def _visma(folder: Path) -> Iterator[tuple[str, ErpConnector]]:
    """Visma Administration (EmulatedAdk on a company folder) behind a FinancialHost process."""
    company = create_company(folder / "Gemensamma filer", folder / "FTG1", name="Kontrakt AB")
    settings = {
        "system_path": str(folder / "Gemensamma filer"),
        "company_path": str(company),
        "adk": "emulated",
        "auto_create_sellers": True,
    }
    with host_process(folder / "host", plugin="visma", plugin_settings=settings) as host:
        connector = connector_for_host(
            host.url, key=host.key, certificate_file=host.certificate_file, erp_system="visma"
        )
        try:
            yield str(company), connector
        finally:
            connector.close()


def _visma_book(company: str, document_number: str) -> str:
    book_invoice(company, int(document_number))
    return document_number  # Visma keeps the number when it books


def _visma_pay(company: str, document_number: str, amount: str) -> None:
    register_payment(company, int(document_number), float(Decimal(amount)))


NAV_USER, NAV_PASSWORD = "WEBSERVICE", "Passw0rd!"
NAV_COMPANY = "CRONUS International Ltd."


def nav_admin(base_url: str, path: str, body: dict[str, Any] | None = None) -> Any:
    response = httpx2.post(
        f"{base_url}/_emulator{path}", auth=(NAV_USER, NAV_PASSWORD), json=body or {}
    )
    response.raise_for_status()
    return response.json() if response.content else None


@contextmanager
def _nav(folder: Path) -> Iterator[tuple[str, ErpConnector]]:
    """Dynamics NAV (the emulator on loopback) behind a FinancialHost process."""
    emulator = NavEmulator()
    with (
        running(emulator.app) as root,
        host_process(
            folder / "host",
            plugin="nav",
            plugin_settings=_nav_settings(root),
            secrets={"nav:password": NAV_PASSWORD},
        ) as host,
    ):
        connector = connector_for_host(
            host.url, key=host.key, certificate_file=host.certificate_file, erp_system="nav"
        )
        try:
            yield root, connector
        finally:
            connector.close()
            emulator.close()


def _nav_settings(root: str) -> dict[str, Any]:
    return {"base_url": f"{root}/DynamicsNAV100", "company": NAV_COMPANY, "username": NAV_USER}


@contextmanager
def _nav_agent(folder: Path) -> Iterator[tuple[str, ErpConnector]]:
    """Dynamics NAV behind a FinancialHost process in outbound agent mode: the host calls the
    hub's relay (HTTPS) for the connector's requests; nothing connects to the host."""
    emulator = NavEmulator()
    with running(emulator.app) as root, hub_relay(folder / "hub") as hub:
        secret = Vault(folder / "host" / "data").add_key(KEY_ID)
        hub.enrol(SigningKey(KEY_ID, secret.encode()))
        with host_process(
            folder / "host",
            plugin="nav",
            plugin_settings=_nav_settings(root),
            secrets={"nav:password": NAV_PASSWORD},
            mode="agent",
            agent=hub.agent_settings(),
        ) as host:
            connector = connector_for_agent(hub, key=host.key, erp_system="nav")
            try:
                yield root, connector
            finally:
                connector.close()
                emulator.close()


def _nav_book(root: str, draft_number: str) -> str:
    company = quote(NAV_COMPANY, safe="")
    posted = nav_admin(root, f"/companies/{company}/sales-documents/Invoice/{draft_number}/post")
    return str(posted["posted_no"])


def _nav_pay(root: str, posted_number: str, amount: str) -> None:
    company = quote(NAV_COMPANY, safe="")
    nav_admin(root, f"/companies/{company}/posted/{posted_number}/payments", {"amount": amount})


CASES = [
    ErpCase(
        name="economic",
        start=_economic,
        existing_customer="9001",
        product="WORK-DEV",
        new_customer_number="4242",
        book=_economic_book,
        pay=_economic_pay,
    ),
    ErpCase(
        name="visma",
        start=_visma,
        existing_customer="2001",
        product="KONSULT",
        new_customer_number="4242",
        book=_visma_book,
        pay=_visma_pay,
    ),
    ErpCase(
        name="nav",
        start=_nav,
        existing_customer="10000",
        product="70000",
        new_customer_number="4242",
        book=_nav_book,
        pay=_nav_pay,
    ),
    ErpCase(
        name="nav-agent",
        start=_nav_agent,
        existing_customer="10000",
        product="70000",
        new_customer_number="4242",
        book=_nav_book,
        pay=_nav_pay,
    ),
]
