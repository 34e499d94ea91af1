"""Fortnox connector over the Fortnox REST API v3 (OAuth2)."""

from __future__ import annotations

from ledgerlink.connectors.fortnox.connector import FortnoxConnector
from ledgerlink.connectors.fortnox.settings import FortnoxSettings

__all__ = ["FortnoxConnector", "FortnoxSettings"]
