"""The NAV emulator as ``ledgerlink demo --erp nav`` meets it: CRONUS on two ports (SOAP and
OData, as NAV serves them), its state kept in the demo folder, reached through the
FinancialHost ``nav`` plugin; the NAV user posts our drafts and pays two invoices."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx2

from ledgerlink.emulators._kit.rehearsal import EmulatedErp, Rehearsal
from ledgerlink.emulators._kit.serve import running_all
from ledgerlink.emulators.nav.emulator import NavEmulator

USER, PASSWORD = "WEBSERVICE", "Passw0rd!"
COMPANY = "CRONUS International Ltd."
OURS = "LL-"


@contextmanager
def rehearse(folder: Path, _projects: Sequence[tuple[str, str]] = ()) -> Iterator[Rehearsal]:
    """The emulator on loopback (SOAP and OData each on a port of its own)."""
    emulator = NavEmulator(state_file=folder / "nav-emulator.json")
    try:
        with running_all(emulator.apps) as roots:
            urls = emulator.base_urls(roots)
            yield Rehearsal(
                where="the Dynamics NAV emulator",
                settings={
                    "soap_url": urls["soap"],
                    "odata_url": urls["odata"],
                    "company": COMPANY,
                    "username": USER,
                },
                secrets={"nav:password": PASSWORD},
                erp_user=lambda agreed: _post_and_pay(urls["admin"], agreed),
            )
    finally:
        emulator.close()


def _post_and_pay(admin_url: str, agreed: Collection[str]) -> str:
    """As the NAV user: post our drafts whose totals agree (correlation references
    ``agreed``), then pay the two oldest posted invoices in full."""
    admin = f"{admin_url}/companies/{quote(COMPANY, safe='')}"
    wanted = {reference.upper() for reference in agreed}
    with httpx2.Client(auth=(USER, PASSWORD), timeout=60) as http:
        drafts = _records(http, f"{admin}/records/36")
        ours = [d for d in drafts if str(d.get("External_Document_No", "")).upper() in wanted]
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
    return f"Posted {len(ours)} drafts in NAV; registered {paid} full payments."


def _records(http: httpx2.Client, url: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = http.get(url).raise_for_status().json()["records"]
    return records


def _ours(record: dict[str, Any]) -> bool:
    return str(record.get("External_Document_No", "")).upper().startswith(OURS)


def _amount(record: dict[str, Any], field: str) -> Decimal:
    return Decimal(str(record.get(field) or "0"))


EMULATED = EmulatedErp(
    name="nav",
    title="Dynamics NAV",
    country="DK",
    currency="DKK",
    products={"work": "70000", "expense": "70001", "travel": "70001", "default": "70001"},
    start=rehearse,
)
