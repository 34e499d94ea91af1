"""The emulator kit: what every ERP emulator is built from (none of it is one ERP's format).

* :mod:`.base` — :class:`~.base.Emulator` (app assembly: error envelope hook, journal, faults,
  the ERP's middleware, admin routes) and :class:`~.base.ErrorEnvelope`.
* :mod:`.state` — :class:`~.state.EmulatorState`: one lock, a state file of named parts.
* :mod:`.paging` — paging styles: numbered pages (skip-pages, page/limit), OData
  ``$skip``/``$top`` with ``@odata.nextLink`` or ``__next``, cursors.
* :mod:`.fields` — declarative field validation returning per-field problems.
* :mod:`.odatafilter` — OData ``$filter`` expressions (v2 and v4 literals) as predicates.
* :mod:`.oauth` — an OAuth2 authorization server (token endpoint, rotating refresh tokens) and
  its bearer check; :mod:`.ratelimit` — rate-limit windows as middleware; :mod:`.errorbudget`
  — a block for a client that makes too many failing calls.
* :mod:`.faults` — the fault injector and its ASGI middleware.
* :mod:`.journal` — the request journal and its ASGI middleware.
* :mod:`.admin` — the shared ``/_emulator/faults`` and ``/_emulator/journal`` routes.
* :mod:`.auth` — token comparison and header helpers.
* :mod:`.jsonio` — JSON with exact decimals.
* :mod:`.serve` — :func:`~.serve.running`, uvicorn on loopback in a background thread.
"""

from __future__ import annotations

from ledgerlink.emulators._kit.base import Emulator, ErrorEnvelope, Routes
from ledgerlink.emulators._kit.faults import FaultInjector, FaultMiddleware, FaultRule
from ledgerlink.emulators._kit.journal import JournalEntry, JournalMiddleware, RequestJournal
from ledgerlink.emulators._kit.state import EmulatorState

__all__ = [
    "Emulator",
    "EmulatorState",
    "ErrorEnvelope",
    "FaultInjector",
    "FaultMiddleware",
    "FaultRule",
    "JournalEntry",
    "JournalMiddleware",
    "RequestJournal",
    "Routes",
]
