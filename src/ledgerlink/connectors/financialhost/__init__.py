"""FinancialHost connector: Dynamics NAV and Visma Administration on the customer's server,
through ledgerlink's signed, allow-listed FinancialHost middleware."""

from __future__ import annotations

from ledgerlink.connectors.financialhost.connector import (
    FinancialHostConnector,
    capabilities_for,
)
from ledgerlink.connectors.financialhost.mapping import ErpChange
from ledgerlink.connectors.financialhost.settings import (
    FinancialHostCredentials,
    FinancialHostSettings,
)

__all__ = [
    "ErpChange",
    "FinancialHostConnector",
    "FinancialHostCredentials",
    "FinancialHostSettings",
    "capabilities_for",
]
