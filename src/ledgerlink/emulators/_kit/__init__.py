"""The emulator kit: pieces every ERP emulator is built from.

* :mod:`.filters` — the ``filter=``/``sort=`` grammar (parser, evaluator, formatter).
* :mod:`.paging` — page requests and the collection envelope.
* :mod:`.faults` — the fault injector and its ASGI middleware.
* :mod:`.journal` — the request journal and its ASGI middleware.
* :mod:`.admin` — the shared ``/_emulator/faults`` and ``/_emulator/journal`` routes.
* :mod:`.auth` — token comparison and header helpers.
* :mod:`.jsonio` — JSON with exact decimals.
* :mod:`.serve` — :func:`~.serve.running`, uvicorn on loopback in a background thread.
"""

from __future__ import annotations

from ledgerlink.emulators._kit.faults import FaultInjector, FaultMiddleware, FaultRule
from ledgerlink.emulators._kit.journal import JournalEntry, JournalMiddleware, RequestJournal

__all__ = [
    "FaultInjector",
    "FaultMiddleware",
    "FaultRule",
    "JournalEntry",
    "JournalMiddleware",
    "RequestJournal",
]
