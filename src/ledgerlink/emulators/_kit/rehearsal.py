"""What an emulated ERP offers ``ledgerlink demo`` (design §6–§7): a company to rehearse on.

Each emulator package declares one :class:`EmulatedErp`: its name (the one a
``ConnectorSpec`` lists in ``demos``, and ``ledgerlink emulate <name>``), the product numbers
its seeded company has for each kind of invoice line, and how to start it. Started, it is a
:class:`Rehearsal`: the credentials and settings a connection to it needs (or, for an
on-premise ERP, the settings and secrets of the FinancialHost plugin of the same name), and
what the ERP's user does after a transfer — book the drafts whose totals agree, register
payments — as the emulator's admin routes allow. The emulated company has a country and a
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


@dataclass(frozen=True, slots=True, kw_only=True)
class Rehearsal:
    """A started emulated ERP. ``where`` names it for the user; ``credentials`` and
    ``settings`` are a connection's setup values (for a FinancialHost ERP: the plugin's
    settings, and ``secrets`` what the host keeps in its vault); ``erp_user`` does what the
    ERP's user does — books the documents whose correlation references it is given (those
    whose totals agree; the others stay drafts) — and says what it did in one sentence;
    ``notes`` are shown after connecting."""

    where: str
    credentials: Mapping[str, str] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    erp_user: Callable[[Collection[str]], str] | None = None
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
