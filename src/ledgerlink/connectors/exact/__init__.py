"""Exact Online connector over the Exact Online REST API (OData v2, OAuth2)."""

from __future__ import annotations

from ledgerlink.connectors.exact.connector import ExactConnector
from ledgerlink.connectors.exact.settings import ExactSettings

__all__ = ["ExactConnector", "ExactSettings"]
