"""The Exact Online emulator as ``ledgerlink demo --erp exact`` meets it: the Dutch division
kept in the demo folder, access granted through the emulator's consent page as the customer
would in a browser, the division's own customers numbered apart from the PSA's, cost centres
for the PSA's projects (the ERP user creates them by hand: the integration writes the project
number into the line's ``CostCenter``), and an ERP user who processes our invoices whose totals
agree and pays two.

In ``ledgerlink.emulators.registry``; the Exact ``ConnectorSpec`` lists ``exact`` in its
``demos``. The demo connects as to any OAuth2 ERP: the hub runs the code flow and ``consent``
approves on the emulator's page; the settings are named as the spec's setup fields, and the
ones beyond them (``vat_codes``) go to the connection's settings as they are. The tokens in the
credentials come from a grant made at start, for a caller that talks to the API directly; the
hub ignores them and makes its own grant.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx2

from ledgerlink.emulators._kit.rehearsal import EmulatedErp, Rehearsal, approve_in_browser
from ledgerlink.emulators._kit.serve import running
from ledgerlink.emulators.exact import rules
from ledgerlink.emulators.exact.emulator import ExactEmulator
from ledgerlink.emulators.exact.errors import ExactError
from ledgerlink.emulators.exact.model import RESOURCES
from ledgerlink.emulators.exact.seed import MAIN, seed_id

__all__ = ["EMULATED", "rehearse"]

CLIENT_ID, CLIENT_SECRET = "demo-exact-client", "demo-exact-secret"
REDIRECT = "http://127.0.0.1:1/exact/callback"
#: The seeded customers' codes in the demo's division: 1001 and 1002 are the sample
#: consultancy's customer numbers too, and an Exact account's code is its customer number.
DEMO_CODES = {"1001": "2001", "1002": "2002"}


@contextmanager
def rehearse(folder: Path, projects: Sequence[tuple[str, str]] = ()) -> Iterator[Rehearsal]:
    """The emulator on loopback, its divisions and tokens kept in ``folder``."""
    emulator = ExactEmulator(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        state_file=folder / "exact-emulator.json",
    )
    _number_apart(emulator)
    _cost_centres(emulator, projects)
    with running(emulator.app) as url:
        tokens = _grant_as_the_customer(url)
        yield Rehearsal(
            where="the Exact Online emulator",
            credentials={
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "access_token": tokens["access_token"],
                "refresh_token": tokens["refresh_token"],
            },
            settings={
                "base_url": url,
                "division": MAIN,
                "sales_journal": "70",
                # The seeded "Verlegd binnen EU 0%", as the consultant names it when connecting:
                # the sample consultancy's Danish and Swedish customers are EU reverse charge.
                "vat_codes": {"eu_reverse_charge": "4"},
            },
            consent=approve_in_browser,
            erp_user=lambda agreed: _process_and_pay(emulator, agreed),
        )


def _number_apart(emulator: ExactEmulator) -> None:
    """The demo company numbers its own customers from 2001, so that the PSA's (1001-1003)
    are new to it, as in an administration the integration is introduced to: the seeded
    accounts 1001 and 1002 get the codes of ``DEMO_CODES`` (once; the state file keeps them)."""
    division = emulator.state.divisions[MAIN]
    accounts = division.table(rules.ACCOUNTS)
    with emulator.state.change():
        for old, new in DEMO_CODES.items():
            account = accounts.get(seed_id(MAIN, "Accounts", old.rjust(18)))
            if account is not None and account["Code"].strip() == old:
                account["Code"] = new.rjust(18)
                division.stamp(account)


def _cost_centres(emulator: ExactEmulator, projects: Sequence[tuple[str, str]]) -> None:
    """What the ERP user sets up by hand: a cost centre per PSA project (codes are at most 8
    characters in Exact)."""
    division = emulator.state.divisions[MAIN]
    with emulator.state.change():
        for number, name in projects:
            try:
                rules.create(
                    division,
                    RESOURCES[rules.COSTCENTERS],
                    {"Code": number[:8], "Description": name[:100]},
                )
            except ExactError:
                continue  # made in an earlier run


def _grant_as_the_customer(url: str) -> dict[str, str]:
    """The code flow as the customer walks it in a browser, then the code exchanged."""
    with httpx2.Client(base_url=url, timeout=10) as browser:
        consent = browser.get(
            "/api/oauth2/auth",
            params={
                "client_id": CLIENT_ID,
                "redirect_uri": REDIRECT,
                "response_type": "code",
                "approve": "yes",
            },
        )
        code = parse_qs(urlsplit(consent.headers.get("location", "")).query).get("code", [""])[0]
        answer = browser.post(
            "/api/oauth2/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            },
        )
    if answer.status_code != 200:
        raise RuntimeError(f"the emulator's consent page did not grant access: {answer.text}")
    tokens: dict[str, str] = answer.json()
    return tokens


def _process_and_pay(emulator: ExactEmulator, agreed: Collection[str]) -> str:
    """Process the open invoices whose ``YourRef`` or ``Remarks`` is one of ``agreed`` (the
    correlation references of the drafts whose totals agree), then pay the two oldest."""
    division = emulator.state.divisions[MAIN]
    with emulator.state.change():
        invoices = sorted(
            division.table(rules.INVOICES).values(), key=lambda r: str(r.get("Created"))
        )
        processed = []
        for invoice in invoices:
            ours = {invoice.get("YourRef"), invoice.get("Remarks")} & set(agreed)
            if invoice["Status"] != rules.PROCESSED and ours:
                processed.append(rules.process(division, invoice["InvoiceID"]))
        paid = 0
        for invoice in [i for i in processed if i["AmountFC"] > 0][:2]:
            rules.pay(division, invoice["InvoiceID"], invoice["AmountFC"])
            paid += 1
    return f"Processed {len(processed)} invoices; registered {paid} full payments."


EMULATED = EmulatedErp(
    name="exact",
    title="Exact Online",
    country="NL",
    currency="EUR",
    products={
        "work": "WORK-DEV",
        "expense": "EXP",
        "travel": "TRAVEL",
        "mileage": "MILEAGE",
        "default": "EXP",
    },
    start=rehearse,
)
