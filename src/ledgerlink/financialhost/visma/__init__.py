"""Visma Administration for FinancialHost: the ADK interface, its implementations and the plugin.

* :mod:`.adk` — the :class:`~.adk.Adk` protocol (real ADK function names), :class:`~.adk.AdkError`,
  :class:`~.adk.AdkFailure` and :func:`~.adk.check`;
* :mod:`.constants` — ``ADK_DB_*``, field ids, ``ADKE_*``/``ADKW_*``/``ADKI_*`` from ``Adk.h``;
* :mod:`.emulated` — :class:`~.emulated.EmulatedAdk` over SQLite, and :mod:`.emulated_admin` for
  the ERP user's side (demo company, booking, payments, licence faults);
* :mod:`.dotnet` — :class:`~.dotnet.DotNetAdk`, the real ``AdkNet4Wrapper.dll`` via pythonnet
  (Windows only, untested here);
* :mod:`.plugin` — :class:`~.plugin.VismaPlugin`, the host's ERP plugin (:func:`build_plugin`),
  with its pure :mod:`.mapping` and :mod:`.settings`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ledgerlink.financialhost.vault import Vault
from ledgerlink.financialhost.visma.adk import Adk, AdkData, AdkError, AdkFailure, check
from ledgerlink.financialhost.visma.dotnet import DotNetAdk
from ledgerlink.financialhost.visma.emulated import EmulatedAdk
from ledgerlink.financialhost.visma.plugin import VismaPlugin
from ledgerlink.financialhost.visma.pool import ExpensePool
from ledgerlink.financialhost.visma.settings import VismaSettings

__all__ = [
    "Adk",
    "AdkData",
    "AdkError",
    "AdkFailure",
    "EmulatedAdk",
    "VismaPlugin",
    "VismaSettings",
    "build_plugin",
    "check",
]

POOL_FILE = "visma-expense-pool.sqlite"


def build_plugin(config: dict[str, Any], *, vault: Vault, data_dir: Path) -> VismaPlugin:
    """The plugin from the ``[visma]`` settings section (``load_plugin`` calls this).

    The ADK is created on first use, so a host on a machine without Visma still starts and
    reports the ERP as unavailable. The Visma password is the vault secret ``visma:password``.
    """
    settings = VismaSettings.model_validate(config)
    factory: type[EmulatedAdk] | type[DotNetAdk] = (
        EmulatedAdk if settings.adk == "emulated" else DotNetAdk
    )
    pool = ExpensePool(settings.expense_state_file or Path(data_dir) / POOL_FILE)
    return VismaPlugin(
        settings,
        adk_factory=factory,
        pool=pool,
        password=lambda: vault.find("visma:password"),
    )
