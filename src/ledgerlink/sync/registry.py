"""Which connector serves a connection: a table from ERP name to a factory. The engine asks
the connector's capabilities, never its ERP name (design §6)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError as SchemaError

from ledgerlink.connectors.contract import ErpConnector
from ledgerlink.domain.errors import ValidationError
from ledgerlink.domain.transfers import Connection
from ledgerlink.store.database import Database
from ledgerlink.store.relay import RelayStore
from ledgerlink.sync.secrets import SecretBox


@dataclass(frozen=True, slots=True)
class HubServices:
    """What the hub lends connectors beyond credentials and settings: the relay through which
    FinancialHost agents fetch their requests (None where the hub has no database)."""

    relay: RelayStore | None = None


def hub_services(database: Database) -> HubServices:
    """The services of a hub on ``database``."""
    return HubServices(relay=RelayStore(database))


#: (credentials, connector settings, hub services) -> connector
ConnectorFactory = Callable[[dict[str, str], dict[str, Any], HubServices], ErpConnector]


def _economic(
    credentials: dict[str, str], settings: dict[str, Any], _services: HubServices
) -> ErpConnector:
    from ledgerlink.connectors.economic.connector import EconomicConnector  # noqa: PLC0415
    from ledgerlink.connectors.economic.settings import EconomicSettings  # noqa: PLC0415

    return EconomicConnector(
        app_secret_token=credentials["app_secret_token"],
        agreement_grant_token=credentials["agreement_grant_token"],
        settings=EconomicSettings.model_validate(settings),
    )


def _financialhost(
    credentials: dict[str, str], settings: dict[str, Any], services: HubServices
) -> ErpConnector:
    from ledgerlink.connectors.financialhost.connector import (  # noqa: PLC0415
        FinancialHostConnector,
    )

    return FinancialHostConnector.from_connection(credentials, settings, relay=services.relay)


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

    def __init__(self, secrets: SecretBox, *, services: HubServices | None = None) -> None:
        self._secrets = secrets
        self.services = services or HubServices()
        self._cache: dict[tuple[int, str, str], ErpConnector] = {}

    def build(
        self, erp: str, credentials: dict[str, str], settings: dict[str, Any]
    ) -> ErpConnector:
        """A new connector for ``erp`` (the caller closes it), e.g. to verify a connection.
        Settings or credentials the connector refuses raise :class:`ValidationError`."""
        factory = factory_for(erp)
        try:
            return factory(credentials, settings, self.services)
        except (SchemaError, ValueError, KeyError) as error:
            raise ValidationError(
                f"the {erp} connection's settings are not valid: {error}"
            ) from None

    def __call__(self, connection: Connection) -> ErpConnector:
        key = (
            connection.id or 0,
            connection.credentials,
            repr(sorted(connection.settings.items())),
        )
        connector = self._cache.get(key)
        if connector is None:
            connector = self.build(
                connection.erp, self._secrets.open(connection.credentials), connection.settings
            )
            self._cache[key] = connector
        return connector

    def close(self) -> None:
        for connector in self._cache.values():
            connector.close()
        self._cache.clear()
