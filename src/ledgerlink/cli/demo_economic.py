"""e-conomic in ``ledgerlink demo`` (the steps are in :mod:`ledgerlink.cli.demo_transfer`).

By default it rehearses against the e-conomic emulator on loopback (state kept in the demo
directory, so a second run meets the same agreement and transfers nothing twice); with
``--economic-url`` and the two tokens it uses an e-conomic that is already running — the real
one included (then nothing is booked or paid on its behalf).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
from rich.console import Console

from ledgerlink.cli.demo_transfer import DemoErp
from ledgerlink.domain.invoices import LineKind
from ledgerlink.domain.transfers import ProductNumberPrinciples
from ledgerlink.emulators._kit.serve import running
from ledgerlink.emulators.economic import EconomicEmulator

PRINCIPLES = ProductNumberPrinciples(
    by_kind={
        LineKind.WORK: "WORK-DEV",
        LineKind.EXPENSE: "EXP",
        LineKind.TRAVEL: "TRAVEL",
        LineKind.MILEAGE: "MILEAGE",
    },
    default="EXP",
)
APP_SECRET, GRANT, APP_PUBLIC = "demo-app-secret", "demo-grant", "demo-app-public"


@dataclass(frozen=True)
class EconomicTarget:
    """Where the demo sends its invoices; ``url`` None: the emulator on loopback."""

    url: str | None = None
    app_secret_token: str = ""
    agreement_grant_token: str = ""


@dataclass(frozen=True)
class _Live:
    url: str
    app_secret_token: str
    agreement_grant_token: str
    emulated: bool


@contextmanager
def _economic(target: EconomicTarget, demo_dir: Path) -> Iterator[_Live]:
    if target.url:
        yield _Live(target.url, target.app_secret_token, target.agreement_grant_token, False)
        return
    emulator = EconomicEmulator(
        app_secret_token=APP_SECRET,
        agreement_grant_token=GRANT,
        app_public_token=APP_PUBLIC,
        state_file=demo_dir / "economic-emulator.json",
    )
    with running(emulator.app) as url:
        yield _Live(url, APP_SECRET, _grant_as_the_customer(url, emulator), True)


def _grant_as_the_customer(url: str, emulator: EconomicEmulator) -> str:
    """Walk the app-grant flow as the customer would in a browser: open the installation URL,
    sign in, and take the token from the redirect."""
    redirect = "http://127.0.0.1:1/granted"
    with httpx2.Client(base_url=url, timeout=10) as browser:
        page = browser.get(
            "/secure/api1/requestaccess.aspx",
            params={"appPublicToken": APP_PUBLIC, "redirectUrl": redirect},
        )
        page.raise_for_status()
        answer = browser.post(
            "/secure/api1/requestaccess.aspx",
            data={
                "appPublicToken": APP_PUBLIC,
                "redirectUrl": redirect,
                "agreementNumber": str(emulator.state.main.number),
                "userId": "demo",
                "password": "demo",
            },
        )
    location = answer.headers.get("location", "")
    token = parse_qs(urlsplit(location).query).get("token", [""])[0]
    if answer.status_code != 302 or not token:
        raise RuntimeError(f"the emulator's grant page did not grant access: {answer.text[:200]}")
    return token


@contextmanager
def economic_demo(target: EconomicTarget, demo_dir: Path) -> Iterator[DemoErp]:
    """The e-conomic :class:`DemoErp` (the emulator on loopback unless ``target.url``)."""
    with _economic(target, demo_dir) as live:
        yield DemoErp(
            title="e-conomic",
            erp="economic",
            credentials={
                "app_secret_token": live.app_secret_token,
                "agreement_grant_token": live.agreement_grant_token,
            },
            settings={"base_url": live.url, "app_public_token": APP_PUBLIC},
            principles=PRINCIPLES,
            where="the e-conomic emulator" if live.emulated else live.url,
            erp_user=(lambda console: _book_and_pay(console, live)) if live.emulated else None,
        )


def _json(response: httpx2.Response) -> Any:
    response.raise_for_status()
    return json.loads(response.text, parse_float=Decimal)


def _book_and_pay(console: Console, live: _Live) -> None:
    """Do what the ERP user does: book our drafts, and pay the two oldest invoices."""
    headers = {
        "X-AppSecretToken": live.app_secret_token,
        "X-AgreementGrantToken": live.agreement_grant_token,
    }
    ours = re.compile(r"^LL-")
    with httpx2.Client(base_url=live.url, headers=headers, timeout=30) as api:
        drafts = _json(api.get("/invoices/drafts", params={"pagesize": "1000"}))["collection"]
        booked = 0
        for draft in sorted(drafts, key=lambda d: d["draftInvoiceNumber"]):
            if ours.match(draft.get("references", {}).get("other", "")):
                api.post(
                    f"/_emulator/invoices/drafts/{draft['draftInvoiceNumber']}/book"
                ).raise_for_status()
                booked += 1
        invoices = _json(
            api.get("/invoices/booked", params={"pagesize": "1000", "sort": "bookedInvoiceNumber"})
        )["collection"]
        paid = 0
        for invoice in [i for i in invoices if i.get("grossAmount", 0) > 0][:2]:
            remainder = invoice.get("remainder", 0)
            if remainder > 0:
                api.post(
                    f"/_emulator/invoices/booked/{invoice['bookedInvoiceNumber']}/payments",
                    json={"amount": str(remainder)},
                ).raise_for_status()
                paid += 1
    console.print(f"Booked {booked} drafts; registered {paid} full payments.")
