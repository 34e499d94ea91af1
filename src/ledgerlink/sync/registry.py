"""Which connector serves a connection: a table from ERP name to a factory. The engine asks
the connector's capabilities, never its ERP name (design §6)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ledgerlink.connectors.contract import ErpConnector
from ledgerlink.domain.errors import ValidationError
from ledgerlink.domain.transfers import Connection
from ledgerlink.sync.secrets import SecretBox

#: (credentials, connector settings) -> connector
ConnectorFactory = Callable[[dict[str, str], dict[str, Any]], ErpConnector]


def _economic(credentials: dict[str, str], settings: dict[str, Any]) -> ErpConnector:
    from ledgerlink.connectors.economic.connector import EconomicConnector  # noqa: PLC0415
    from ledgerlink.connectors.economic.settings import EconomicSettings  # noqa: PLC0415

    return EconomicConnector(
        app_secret_token=credentials["app_secret_token"],
        agreement_grant_token=credentials["agreement_grant_token"],
        settings=EconomicSettings.model_validate(settings),
    )


def _financialhost(credentials: dict[str, str], settings: dict[str, Any]) -> ErpConnector:
    from ledgerlink.connectors.financialhost.connector import (  # noqa: PLC0415
        FinancialHostConnector,
    )

    return FinancialHostConnector.from_connection(credentials, settings)


FACTORIES: dict[str, ConnectorFactory] = {
    "economic": _economic,
    "financialhost": _financialhost,
}


def supported_erps() -> list[str]:
    return sorted(FACTORIES)


def factory_for(erp: str) -> ConnectorFactory:
    try:
        return FACTORIES[erp]
    except KeyError:
        raise ValidationError(
            f"'{erp}' is not a supported ERP; choose one of: {', '.join(supported_erps())}"
        ) from None


class ConnectorProvider:
    """Builds (once per connection and process) the connector for a connection."""

    def __init__(self, secrets: SecretBox) -> None:
        self._secrets = secrets
        self._cache: dict[tuple[int, str, str], ErpConnector] = {}

    def __call__(self, connection: Connection) -> ErpConnector:
        key = (
            connection.id or 0,
            connection.credentials,
            repr(sorted(connection.settings.items())),
        )
        connector = self._cache.get(key)
        if connector is None:
            factory = factory_for(connection.erp)
            connector = factory(self._secrets.open(connection.credentials), connection.settings)
            self._cache[key] = connector
        return connector

    def close(self) -> None:
        for connector in self._cache.values():
            connector.close()
        self._cache.clear()
