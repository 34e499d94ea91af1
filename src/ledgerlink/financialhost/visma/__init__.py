"""Visma Administration for FinancialHost: the ADK interface and its implementations.

* :mod:`.adk` — the :class:`~.adk.Adk` protocol (real ADK function names), :class:`~.adk.AdkError`,
  :class:`~.adk.AdkFailure` and :func:`~.adk.check`;
* :mod:`.constants` — ``ADK_DB_*``, field ids, ``ADKE_*``/``ADKW_*``/``ADKI_*`` from ``Adk.h``;
* :mod:`.emulated` — :class:`~.emulated.EmulatedAdk` over SQLite, and :mod:`.emulated_admin` for
  the ERP user's side (demo company, booking, payments, licence faults);
* :mod:`.dotnet` — :class:`~.dotnet.DotNetAdk`, the real ``AdkNet4Wrapper.dll`` via pythonnet
  (Windows only, untested here).
"""

from __future__ import annotations

from ledgerlink.financialhost.visma.adk import Adk, AdkData, AdkError, AdkFailure, check
from ledgerlink.financialhost.visma.emulated import EmulatedAdk

__all__ = ["Adk", "AdkData", "AdkError", "AdkFailure", "EmulatedAdk", "check"]
