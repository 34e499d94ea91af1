"""What an emulated ERP offers ``ledgerlink demo`` (design §6–§7): a company to rehearse on.

Each emulator package declares one :class:`EmulatedErp`: its name (the one a
``ConnectorSpec`` lists in ``demos``, and ``ledgerlink emulate <name>``), the product numbers
its seeded company has for each kind of invoice line, and how to start it. Started, it is a
:class:`Rehearsal`: the credentials and settings a connection to it needs (or, for an
on-premise ERP, the settings and secrets of the FinancialHost plugin of the same name), and
what the ERP's user does after a transfer — book the drafts whose totals agree, register
payments — as the emulator's admin routes allow. An OAuth2 ERP's rehearsal grants nothing by
itself: the hub runs the authorization-code flow as for the real ERP, and the rehearsal's
``consent`` answers the authorize page in its place. The emulated company has a country and a
currency; the demo bills from a PSA legal entity of the same country and currency (a Visma
Administration company is Swedish). The demo itself (cli) knows no ERP: it reads these and the
spec.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx2


@dataclass(frozen=True, slots=True, kw_only=True)
class Rehearsal:
    """A started emulated ERP. ``where`` names it for the user; ``credentials`` and
    ``settings`` are a connection's setup values (for a FinancialHost ERP: the plugin's
    settings, and ``secrets`` what the host keeps in its vault); ``erp_user`` does what the
    ERP's user does — books the documents whose correlation references it is given (those
    whose totals agree; the others stay drafts) — and says what it did in one sentence;
    ``notes`` are shown after connecting.

    ``consent`` (an OAuth2 ERP): given the authorize URL the hub would show the user, it does
    what the customer's administrator does in a browser — approves on the emulator's consent
    page and follows the redirect to the hub's ``redirect_uri`` (the hub's loopback receiver),
    which then trades the code for tokens. Settings that are not among the connector's setup
    fields (e.g. the division or company the customer picks) become the connection's
    settings as they are."""

    where: str
    credentials: Mapping[str, str] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    erp_user: Callable[[Collection[str]], str] | None = None
    consent: Callable[[str], None] | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class EmulatedErp:
    """An emulated ERP the demo can rehearse on. ``country`` and ``currency``: the seeded
    company's (the demo's legal entity must match them). ``products``: the seeded company's
    product number per invoice line kind (``work``, ``expense``, ``travel``, ``mileage``) and
    ``default``. ``start(folder, projects)`` runs it with its state kept in ``folder`` (a
    second run meets the same company) until the block ends; ``projects`` (number, name) are
    the PSA's, for an ERP whose user creates projects by hand."""

    name: str
    title: str
    country: str
    currency: str
    products: Mapping[str, str]
    start: Callable[[Path, Sequence[tuple[str, str]]], AbstractContextManager[Rehearsal]]


def approve_in_browser(authorize_url: str, *, subject: str | None = None) -> None:
    """Answer the kit's authorize page (:mod:`.oauth`) at ``authorize_url`` as a user who
    approves (for ``subject``, the account the page offers, when given), and follow the
    redirect to the application's ``redirect_uri`` as a browser does. A page that does not
    redirect, or a redirect the application does not accept, is a :class:`RuntimeError`
    with the page's text."""
    extra = {"approve": "yes", **({"subject": subject} if subject else {})}
    separator = "&" if urlsplit(authorize_url).query else "?"
    with httpx2.Client(timeout=30) as browser:
        page = browser.get(f"{authorize_url}{separator}{urlencode(extra)}")
        location = page.headers.get("location", "")
        if page.status_code != 302 or not location:
            raise RuntimeError(f"the consent page did not redirect: {_text(page)}")
        landed = browser.get(location)
        if landed.status_code != 200:
            raise RuntimeError(
                f"the application refused the redirect (HTTP {landed.status_code}): {_text(landed)}"
            )


def _text(response: httpx2.Response) -> str:
    return " ".join(response.text.split())[:200] or f"HTTP {response.status_code}"
