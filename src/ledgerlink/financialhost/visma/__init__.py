"""Visma Administration for FinancialHost: the plugin and the real ADK binding.

* :mod:`.plugin` — :class:`~.plugin.VismaPlugin`, the host's ERP plugin (:func:`build_plugin`),
  with its pure :mod:`.mapping` and :mod:`.settings`; it is written against the ADK interface in
  :mod:`ledgerlink.interfaces.visma_adk` (protocol, ``ADK_DB_*``/``ADKE_*`` constants);
* :mod:`.dotnet` — :class:`~.dotnet.DotNetAdk`, the real ``AdkNet4Wrapper.dll`` via pythonnet
  (Windows only, untested here): ``[visma] adk = "dotnet"``.

Any other ``adk`` name is looked up in the ``ledgerlink.visma_adk`` entry point group: the
distribution registers ``emulated`` = :class:`ledgerlink.emulators.visma.EmulatedAdk` there, so
``adk = "emulated"`` runs the host on the Visma twin without FinancialHost importing the
emulators.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from ledgerlink.financialhost.vault import Vault
from ledgerlink.financialhost.visma.dotnet import DotNetAdk
from ledgerlink.financialhost.visma.plugin import VismaPlugin
from ledgerlink.financialhost.visma.pool import ExpensePool
from ledgerlink.financialhost.visma.settings import VismaSettings
from ledgerlink.interfaces.visma_adk import Adk

__all__ = ["ADK_ENTRY_POINTS", "VismaPlugin", "VismaSettings", "adk_factory", "build_plugin"]

POOL_FILE = "visma-expense-pool.sqlite"
ADK_ENTRY_POINTS = "ledgerlink.visma_adk"


def adk_factory(name: str) -> Callable[[], Adk]:
    """What makes the ADK named ``name``: ``dotnet`` is the real binding; other names are
    entry points of the ``ledgerlink.visma_adk`` group (a missing one raises when called)."""
    if name == "dotnet":
        return DotNetAdk

    def load() -> Adk:
        found = entry_points(group=ADK_ENTRY_POINTS, name=name)
        if not found:
            raise LookupError(
                f"no ADK named {name!r} is installed (entry point group {ADK_ENTRY_POINTS})"
            )
        factory: Callable[[], Adk] = next(iter(found)).load()
        return factory()

    return load


def build_plugin(config: dict[str, Any], *, vault: Vault, data_dir: Path) -> VismaPlugin:
    """The plugin from the ``[visma]`` settings section (``load_plugin`` calls this).

    The ADK is created on first use, so a host on a machine without Visma still starts and
    reports the ERP as unavailable. The Visma password is the vault secret ``visma:password``.
    """
    settings = VismaSettings.model_validate(config)
    pool = ExpensePool(settings.expense_state_file or Path(data_dir) / POOL_FILE)
    return VismaPlugin(
        settings,
        adk_factory=adk_factory(settings.adk),
        pool=pool,
        password=lambda: vault.find("visma:password"),
    )
