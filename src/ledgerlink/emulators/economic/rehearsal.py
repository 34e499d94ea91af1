"""The e-conomic emulator as ``ledgerlink demo --erp economic`` meets it: an agreement whose
state is kept in the demo folder, access granted through the emulator's grant page as the
customer would grant it in a browser, and an ERP user who books our drafts and pays two."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2

from ledgerlink.emulators._kit.rehearsal import EmulatedErp, Rehearsal
from ledgerlink.emulators._kit.serve import running
from ledgerlink.emulators.economic.emulator import EconomicEmulator

APP_SECRET, APP_PUBLIC = "demo-app-secret", "demo-app-public"


@contextmanager
def rehearse(folder: Path, _projects: Sequence[tuple[str, str]] = ()) -> Iterator[Rehearsal]:
    """The emulator on loopback, its agreement kept in ``folder``."""
    emulator = EconomicEmulator(
        app_secret_token=APP_SECRET,
        agreement_grant_token="demo-grant",
        app_public_token=APP_PUBLIC,
        state_file=folder / "economic-emulator.json",
    )
    with running(emulator.app) as url:
        grant = _grant_as_the_customer(url, emulator)
        yield Rehearsal(
            where="the e-conomic emulator",
            credentials={"app_secret_token": APP_SECRET, "agreement_grant_token": grant},
            settings={"base_url": url, "app_public_token": APP_PUBLIC},
            erp_user=lambda agreed: _book_and_pay(url, grant, agreed),
        )


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


def _json(response: httpx2.Response) -> Any:
    response.raise_for_status()
    return json.loads(response.text, parse_float=Decimal)


def _book_and_pay(url: str, grant: str, agreed: Collection[str]) -> str:
    """Do what the ERP user does: book our drafts whose totals agree (correlation references
    ``agreed``), and pay the two oldest invoices."""
    headers = {"X-AppSecretToken": APP_SECRET, "X-AgreementGrantToken": grant}
    with httpx2.Client(base_url=url, headers=headers, timeout=30) as api:
        drafts = _json(api.get("/invoices/drafts", params={"pagesize": "1000"}))["collection"]
        booked = 0
        for draft in sorted(drafts, key=lambda d: d["draftInvoiceNumber"]):
            if draft.get("references", {}).get("other", "") in agreed:
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
    return f"Booked {booked} drafts; registered {paid} full payments."


EMULATED = EmulatedErp(
    name="economic",
    title="e-conomic",
    country="DK",
    currency="DKK",
    products={
        "work": "WORK-DEV",
        "expense": "EXP",
        "travel": "TRAVEL",
        "mileage": "MILEAGE",
        "default": "EXP",
    },
    start=rehearse,
)
