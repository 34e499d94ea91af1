"""The Fortnox emulator as ``ledgerlink demo --erp fortnox`` meets it: a company kept in the
demo folder, consent given on the emulator's authorize page as the customer's administrator
would give it in a browser (the hub runs the authorization-code flow and keeps the tokens, as
with the real Fortnox), and an ERP user who books our drafts and pays two.

The settings are the Fortnox connector's setup values by their names (``base_url``,
``auth_url``, ``client_id``, ``scopes``), the client secret its credential.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx2

from ledgerlink.emulators._kit.rehearsal import EmulatedErp, Rehearsal, approve_in_browser
from ledgerlink.emulators._kit.serve import running
from ledgerlink.emulators.fortnox.emulator import FortnoxEmulator
from ledgerlink.emulators.fortnox.seed import PRODUCTS

CLIENT_ID, CLIENT_SECRET = "demo-client", "demo-secret"
SCOPES = (
    "companyinformation customer article invoice payment bookkeeping project costcenter "
    "settings inbox archive connectfile"
)


@contextmanager
def rehearse(folder: Path, _projects: Sequence[tuple[str, str]] = ()) -> Iterator[Rehearsal]:
    """The emulator on loopback, its company and grants kept in ``folder``."""
    emulator = FortnoxEmulator(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        state_file=folder / "fortnox-emulator.json",
    )
    with running(emulator.app) as url:
        yield Rehearsal(
            where="the Fortnox emulator",
            credentials={"client_secret": CLIENT_SECRET},
            settings={
                "client_id": CLIENT_ID,
                "scopes": SCOPES,
                "base_url": url,
                "auth_url": f"{url}/oauth-v1",
            },
            consent=approve_in_browser,
            erp_user=lambda agreed: _book_and_pay(url, agreed),
        )


def _json(response: httpx2.Response) -> Any:
    response.raise_for_status()
    return json.loads(response.text, parse_float=Decimal)


def _book_and_pay(url: str, agreed: Collection[str]) -> str:
    """Do what the ERP user does: book our unbooked invoices whose totals agree (correlation
        references ``agreed`` in ``ExternalInvoiceReference1``) and pay the two oldest invoices in
    full.
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
        oldest = sorted(
            (i for i in state if i["Booked"] and i["Total"] > 0),
            key=lambda i: int(i["DocumentNumber"]),
        )[:2]
        paid = 0
        # Always the same two: a second run finds them paid and pays nothing.
        for invoice in [i for i in oldest if i["Balance"] > 0]:
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
