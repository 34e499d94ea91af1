"""Microsoft Dynamics NAV for FinancialHost: the :class:`~.plugin.NavPlugin` over NAV's SOAP
page services and OData V4 (:mod:`.client`), with its pure :mod:`.mapping` and
:mod:`.settings` (the ``[nav]`` section)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ledgerlink.financialhost.nav.client import NavClient
from ledgerlink.financialhost.nav.plugin import NavPlugin
from ledgerlink.financialhost.nav.settings import NavSettings
from ledgerlink.financialhost.vault import Vault

__all__ = ["NavClient", "NavPlugin", "NavSettings", "build_plugin"]


def build_plugin(config: dict[str, Any], *, vault: Vault, data_dir: Path) -> NavPlugin:
    """The plugin from the ``[nav]`` settings section (``load_plugin`` calls this). The
    password or web-service access key is the vault secret ``nav:password``."""
    settings = NavSettings.model_validate(config)
    client = NavClient(
        soap_url=settings.soap_url,
        odata_url=settings.odata_url,
        company=settings.company,
        username=settings.username,
        password=vault.get("nav:password"),
        timeout_seconds=settings.timeout_seconds,
        page_size=settings.page_size,
    )
    return NavPlugin(settings, client=client, data_dir=data_dir)
