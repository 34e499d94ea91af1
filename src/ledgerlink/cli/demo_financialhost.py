"""Dynamics NAV and Visma Administration in ``ledgerlink demo --erp nav|visma``: the ERP's
stand-in (the NAV emulator on loopback, or an emulated Visma company folder), a FinancialHost
in front of it (HTTPS with its self-signed certificate, signed requests, audit log), and the hub
connected to that host. Everything is kept in the demo folder, so a second run transfers nothing
twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx2
from rich.console import Console

from ledgerlink.cli.demo_transfer import DemoErp
from ledgerlink.domain.invoices import LineKind
from ledgerlink.domain.transfers import ProductNumberPrinciples
from ledgerlink.emulators._kit.serve import running_all
from ledgerlink.emulators.nav import NavEmulator
from ledgerlink.emulators.visma import (
    EmulatedAdk,
    book_invoice,
    create_company,
    create_project,
    register_payment,
)
from ledgerlink.financialhost.audit import verify_chain
from ledgerlink.financialhost.runtime import build_host, serving
from ledgerlink.financialhost.server import Host
from ledgerlink.financialhost.settings import HostSettings
from ledgerlink.financialhost.vault import Vault
from ledgerlink.interfaces.visma_adk import constants as adk
from ledgerlink.psa.sample import sample_projects
from ledgerlink.wire.client import tls_context

KEY_ID = "hub-1"
NAV_USER, NAV_PASSWORD = "WEBSERVICE", "Passw0rd!"
NAV_COMPANY = "CRONUS International Ltd."
OURS = "LL-"

NAV_PRINCIPLES = ProductNumberPrinciples(
    by_kind={LineKind.WORK: "70000", LineKind.EXPENSE: "70001", LineKind.TRAVEL: "70001"},
    default="70001",
)
VISMA_PRINCIPLES = ProductNumberPrinciples(
    by_kind={
        LineKind.WORK: "KONSULT",
        LineKind.EXPENSE: "UTLAGG",
        LineKind.TRAVEL: "RESA",
        LineKind.MILEAGE: "MIL",
    },
    default="UTLAGG",
)


@contextmanager
def _host(
    folder: Path, plugin: str, plugin_settings: dict[str, Any], secrets: dict[str, str]
) -> Iterator[tuple[Host, str, str, str]]:
    """A FinancialHost in a thread: (host, base URL, key secret, certificate PEM)."""
    settings = HostSettings(
        data_dir=folder,
        port=0,
        plugin=plugin,
        **{plugin: plugin_settings},  # type: ignore[arg-type]
    )
    vault = Vault(folder)
    secret = vault.find(f"key:{KEY_ID}") or vault.add_key(KEY_ID)
    for name, value in secrets.items():
        vault.set(name, value)
    host, certificate = build_host(settings)
    with serving(host, certificate) as url:
        yield host, url, secret, certificate.cert_file.read_text(encoding="utf-8")


def _epilogue(host: Host, url: str, pem_file: Path) -> Callable[[Console], None]:
    def show(console: Console) -> None:
        console.rule("10. FinancialHost")
        with httpx2.Client(verify=tls_context(verify=pem_file)) as http:
            refused = http.post(f"{url}/v1/ops/customer.upsert", json={"customer": {}})
        console.print(
            f"An unsigned request to the host was refused: HTTP {refused.status_code} "
            f"({refused.json()['error']['message']})"
        )
        report = verify_chain(host.database, host.settings.data_dir / "audit.head")
        state = "intact" if report.intact else "NOT intact"
        console.print(
            f"Audit log {state}: {report.records} hash-chained records "
            f"(check it any time with 'ledgerlink host audit verify')."
        )

    return show


def _demo_erp(
    *,
    title: str,
    system: str,
    host: Host,
    url: str,
    secret: str,
    pem: str,
    principles: ProductNumberPrinciples,
    erp_user: Callable[[Console], None],
    notes: tuple[str, ...] = (),
) -> DemoErp:
    return DemoErp(
        title=title,
        erp="financialhost",
        credentials={"key_id": KEY_ID, "secret": secret},
        settings={"base_url": url, "erp_system": system, "tls_certificate": pem},
        principles=principles,
        where=f"FinancialHost {url} (signed HTTPS, pinned certificate)",
        erp_user=erp_user,
        epilogue=_epilogue(host, url, host.settings.data_dir / "tls-cert.pem"),
        notes=notes,
    )


# NAV -----------------------------------------------------------------------------------------


@contextmanager
def nav_demo(demo_dir: Path) -> Iterator[DemoErp]:
    """The NAV emulator (state in the demo folder) behind a FinancialHost."""
    emulator = NavEmulator(state_file=demo_dir / "nav-emulator.json")
    try:
        with running_all(emulator.apps) as roots:
            urls = emulator.base_urls(roots)
            settings = {
                "soap_url": urls["soap"],
                "odata_url": urls["odata"],
                "company": NAV_COMPANY,
                "username": NAV_USER,
            }
            with _host(
                demo_dir / "financialhost-nav", "nav", settings, {"nav:password": NAV_PASSWORD}
            ) as (host, url, secret, pem):
                yield _demo_erp(
                    title="Dynamics NAV",
                    system="nav",
                    host=host,
                    url=url,
                    secret=secret,
                    pem=pem,
                    principles=NAV_PRINCIPLES,
                    erp_user=lambda console: _nav_post_and_pay(console, urls["admin"]),
                )
    finally:
        emulator.close()


def _nav_post_and_pay(console: Console, admin_url: str) -> None:
    """As the NAV user: post our drafts, then pay the two oldest posted invoices in full."""
    admin = f"{admin_url}/companies/{quote(NAV_COMPANY, safe='')}"
    with httpx2.Client(auth=(NAV_USER, NAV_PASSWORD), timeout=60) as http:
        ours = [d for d in _records(http, f"{admin}/records/36") if _ours(d)]
        for draft in ours:
            kind = "Credit_Memo" if "Credit" in str(draft["Document_Type"]) else "Invoice"
            http.post(f"{admin}/sales-documents/{kind}/{draft['No']}/post").raise_for_status()
        posted = [p for p in _records(http, f"{admin}/records/112") if _ours(p)]
        paid = 0
        # The two oldest invoices are paid once; a second demo run pays nothing more.
        if not any(_amount(p, "Remaining_Amount") == 0 for p in posted):
            for invoice in posted[:2]:
                http.post(
                    f"{admin}/posted/{invoice['No']}/payments",
                    json={"amount": str(_amount(invoice, "Amount_Including_VAT"))},
                ).raise_for_status()
                paid += 1
    console.print(f"Posted {len(ours)} drafts in NAV; registered {paid} full payments.")


def _records(http: httpx2.Client, url: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = http.get(url).raise_for_status().json()["records"]
    return records


def _ours(record: dict[str, Any]) -> bool:
    return str(record.get("External_Document_No", "")).upper().startswith(OURS)


def _amount(record: dict[str, Any], field: str) -> Decimal:
    return Decimal(str(record.get(field) or "0"))


def _money(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


# Visma ---------------------------------------------------------------------------------------


@contextmanager
def visma_demo(demo_dir: Path) -> Iterator[DemoErp]:
    """An emulated Visma Administration company behind a FinancialHost."""
    system, company = demo_dir / "visma" / "Gemensamma filer", demo_dir / "visma" / "FTG1"
    notes: tuple[str, ...] = ()
    if not company.exists():
        create_company(system, company, name="Nordlys Konsult AB", parties=False)
        # Visma has no project API: the ERP user creates the projects by hand.
        for number, name in sample_projects():
            create_project(company, number, name)
        notes = (
            "In Visma the projects were created by hand first (Visma cannot take them from "
            "the PSA): " + ", ".join(number for number, _ in sample_projects()),
        )
    settings = {
        "system_path": str(system),
        "company_path": str(company),
        "adk": "emulated",
        "auto_create_sellers": True,
    }
    with _host(demo_dir / "financialhost-visma", "visma", settings, {}) as (
        host,
        url,
        secret,
        pem,
    ):
        yield _demo_erp(
            title="Visma Administration",
            system="visma",
            host=host,
            url=url,
            secret=secret,
            pem=pem,
            principles=VISMA_PRINCIPLES,
            erp_user=lambda console: _visma_book_and_pay(console, system, company),
            notes=notes,
        )


def _visma_invoices(system: Path, company: Path) -> list[tuple[int, Decimal, Decimal, bool]]:
    """(number, total, balance, printed) of the invoices this integration made."""
    api = EmulatedAdk()
    if api.AdkOpen(str(system), str(company)).lRc != adk.ADKE_OK:
        raise RuntimeError(f"the Visma company {company} does not open")
    found = []
    head = api.AdkCreateData(adk.ADK_DB_INVOICE_HEAD)
    try:
        error = api.AdkFirst(head)
        while error.lRc == adk.ADKE_OK:
            _, reference = api.AdkGetStr(head, adk.ADK_OOI_HEAD_CUSTOMER_ORDER_NUMBER)
            if reference.startswith(OURS):
                _, number = api.AdkGetDouble(head, adk.ADK_OOI_HEAD_DOCUMENT_NUMBER)
                _, total = api.AdkGetDouble(head, adk.ADK_OOI_HEAD_TOTAL_AMOUNT)
                _, balance = api.AdkGetDouble(head, adk.ADK_OOI_HEAD_BALANCE)
                _, printed = api.AdkGetBool(head, adk.ADK_OOI_HEAD_DOCUMENT_PRINTED)
                found.append((int(number), _money(total), _money(balance), bool(printed)))
            error = api.AdkNext(head)
    finally:
        api.AdkDeleteStruct(head)
        api.AdkClose()
    return found


def _visma_book_and_pay(console: Console, system: Path, company: Path) -> None:
    """As the Visma user: book our invoices, then pay the two oldest in full."""
    invoices = _visma_invoices(system, company)
    to_book = [number for number, _, _, printed in invoices if not printed]
    for number in to_book:
        book_invoice(company, number)
    paid = 0
    # The two oldest invoices are paid once; a second demo run pays nothing more.
    if not any(balance == 0 for _, _, balance, _ in invoices):
        # Credit notes (negative totals) can get any number: pay the two oldest invoices.
        for number, total, _, _ in sorted(i for i in invoices if i[1] > 0)[:2]:
            register_payment(company, number, float(total))
            paid += 1
    console.print(f"Booked {len(to_book)} invoices in Visma; registered {paid} full payments.")
