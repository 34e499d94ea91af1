"""The Visma Administration ADK (``Adk.h``, ``AdkNet4Wrapper.Api``) as seen from Python.

* :mod:`.adk` — the :class:`~.adk.Adk` protocol (the real ADK function names), the record buffer
  :data:`~.adk.AdkData`, the ``ADK_ERROR`` struct :class:`~.adk.AdkError`, and for callers who
  prefer raising, :class:`~.adk.AdkFailure` and :func:`~.adk.check`;
* :mod:`.constants` — ``ADK_DB_*``, field ids, ``ADKE_*``/``ADKW_*``/``ADKI_*`` from ``Adk.h``.

The FinancialHost Visma plugin is written against it; the real binding
(``ledgerlink.financialhost.visma.dotnet``) and the emulated ADK (``ledgerlink.emulators.visma``)
implement it.
"""

from __future__ import annotations

from ledgerlink.interfaces.visma_adk.adk import Adk, AdkData, AdkError, AdkFailure, check

__all__ = ["Adk", "AdkData", "AdkError", "AdkFailure", "check"]
