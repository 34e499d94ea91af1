"""e-conomic (Visma e-conomic) connector over the legacy REST API."""

from __future__ import annotations

from ledgerlink.connectors.economic.connector import EconomicConnector
from ledgerlink.connectors.economic.grant import installation_url, parse_grant_token
from ledgerlink.connectors.economic.settings import EconomicSettings

__all__ = ["EconomicConnector", "EconomicSettings", "installation_url", "parse_grant_token"]
