"""The Fortnox emulator as ``ledgerlink demo --erp fortnox`` would meet it: a company kept in
the demo folder, consent given through the emulator's authorize page as the customer's
administrator would give it, and an ERP user who books our drafts and pays two.

Not yet in :mod:`ledgerlink.emulators.registry`: the demo then needs a Fortnox
``ConnectorSpec``, which the Fortnox connector (issue 13, next increment) brings.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2

from ledgerlink.emulators._kit.oauth import basic_authorization
from ledgerlink.emulators._kit.rehearsal import EmulatedErp, Rehearsal
from ledgerlink.emulators._kit.serve import running
from ledgerlink.emulators.fortnox.emulator import FortnoxEmulator
from ledgerlink.emulators.fortnox.seed import PRODUCTS

CLIENT_ID, CLIENT_SECRET = "demo-client", "demo-secret"
REDIRECT = "http://127.0.0.1:1/fortnox/callback"
SCOPES = (
    "companyinformation customer article invoice payment bookkeeping project costcenter "
    "settings inbox archive connectfile"
)


@contextmanager
def rehearse(folder: Path, _projects: Sequence[tuple[str, str]] = ()) -> Iterator[Rehearsal]:
    """The emulator on loopback, its company and tokens kept in ``folder``."""
    emulator = FortnoxEmulator(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        state_file=folder / "fortnox-emulator.json",
    )
    with running(emulator.app) as url:
        tokens = consent(url)
        yield Rehearsal(
            where="the Fortnox emulator",
            credentials={
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "refresh_token": tokens["refresh_token"],
            },
            settings={"base_url": url, "oauth_base_url": url},
            erp_user=lambda agreed: _book_and_pay(url, agreed),
        )


def consent(url: str, *, service: bool = False) -> dict[str, Any]:
    """Give consent as the customer's administrator would, and trade the code for tokens."""
    params = {
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT,
        "scope": SCOPES,
        "state": "demo",
        "access_type": "offline",
        "response_type": "code",
        "approve": "yes",
    }
    if service:
        params["account_type"] = "service"
    with httpx2.Client(base_url=url, timeout=10) as browser:
        answer = browser.get("/oauth-v1/auth", params=params)
        code = parse_qs(urlsplit(answer.headers.get("location", "")).query).get("code", [""])[0]
        if answer.status_code != 302 or not code:
            raise RuntimeError(f"the emulator's consent page gave no code: {answer.text[:200]}")
        tokens = browser.post(
            "/oauth-v1/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
            headers={"Authorization": basic_authorization(CLIENT_ID, CLIENT_SECRET)},
        )
        tokens.raise_for_status()
        document: dict[str, Any] = tokens.json()
        return document


def _json(response: httpx2.Response) -> Any:
    response.raise_for_status()
    return json.loads(response.text, parse_float=Decimal)


def _book_and_pay(url: str, agreed: Collection[str]) -> str:
    """Do what the ERP user does: book our unbooked invoices whose totals agree (correlation
    references ``agreed`` in ``ExternalInvoiceReference1``) and pay the two oldest in full.
    Admin routes only, so the connector's tokens and rate budget are left alone."""
    with httpx2.Client(base_url=url, timeout=30) as admin:
        state = _json(admin.get("/_emulator/invoices"))["Invoices"]
        booked = 0
        for invoice in state:
            draft = not invoice["Booked"] and not invoice["Cancelled"]
            if draft and invoice.get("ExternalInvoiceReference1", "") in agreed:
                number = invoice["DocumentNumber"]
                admin.post(f"/_emulator/invoices/{number}/bookkeep").raise_for_status()
                booked += 1
        state = _json(admin.get("/_emulator/invoices"))["Invoices"]
        paid = 0
        for invoice in [i for i in state if i["Booked"] and i["Balance"] > 0][:2]:
            admin.post(
                f"/_emulator/invoices/{invoice['DocumentNumber']}/payments", json={}
            ).raise_for_status()
            paid += 1
    return f"Booked {booked} invoices; registered {paid} full payments."


EMULATED = EmulatedErp(
    name="fortnox",
    title="Fortnox",
    country="SE",
    currency="SEK",
    products=PRODUCTS,
    start=rehearse,
)
