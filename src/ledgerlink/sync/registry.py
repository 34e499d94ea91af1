"""Which connector serves a connection: the spec table's factories, with what the hub lends
them (design §6). The engine asks the connector's capabilities, never its ERP name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError as SchemaError

from ledgerlink.connectors._kit.limiter import RateLimiter
from ledgerlink.connectors._kit.oauth import OAuthClient, TokenSource
from ledgerlink.connectors._kit.retry import RetryPolicy
from ledgerlink.connectors.contract import ErpConnector
from ledgerlink.connectors.registry import spec_for
from ledgerlink.connectors.spec import ConnectorEnvironment, ConnectorSpec, TokenSources
from ledgerlink.domain.errors import ValidationError
from ledgerlink.domain.transfers import Connection
from ledgerlink.store.database import Database
from ledgerlink.store.ratelimits import RateLimitStore
from ledgerlink.store.relay import AuditAnchorStore, RelayStore
from ledgerlink.store.tokens import TokenStore
from ledgerlink.sync.oauth import DatabaseTokenSource
from ledgerlink.sync.ratelimit import DatabaseLimiter
from ledgerlink.sync.secrets import SecretBox


def erp_title(erp: str) -> str:
    """The name people use for the ERP a connection stores as ``erp`` ("e-conomic" for
    ``economic``): its spec's display name."""
    try:
        return spec_for(erp).display_name
    except ValidationError:
        return erp


def hub_environment(
    database: Database,
    secrets: SecretBox | None = None,
    *,
    retry: RetryPolicy | None = None,
    limiter: RateLimiter | None = None,
) -> ConnectorEnvironment:
    """What a hub on ``database`` lends its connectors: the retry policy, the rate limiter
    every worker process shares through ``database`` (unless another is given), the OAuth2
    token store (tokens sealed by ``secrets``) and the agent relay (through which
    FinancialHost agents fetch their requests). Without ``secrets`` there is no token store."""
    tokens: TokenSources | None = None
    if secrets is not None:
        store = TokenStore(database, secrets)

        def tokens(credential_id: str, client: OAuthClient) -> TokenSource:
            return DatabaseTokenSource(store=store, client=client, credential_id=credential_id)

    return ConnectorEnvironment(
        retry=retry,
        limiter=limiter if limiter is not None else DatabaseLimiter(RateLimitStore(database)),
        tokens=tokens,
        services={"relay": RelayStore(database), "audit_anchors": AuditAnchorStore(database)},
    )


class ConnectorProvider:
    """Builds (once per connection and process) the connector for a connection."""

    def __init__(
        self,
        secrets: SecretBox,
        *,
        environment: ConnectorEnvironment | None = None,
        specs: Mapping[str, ConnectorSpec] | None = None,
    ) -> None:
        """``specs``: specs to use instead of the product's table (a fake ERP in tests)."""
        self._secrets = secrets
        self.environment = environment or ConnectorEnvironment()
        self._specs = dict(specs or {})
        self._cache: dict[tuple[int, str, str], ErpConnector] = {}

    def build(
        self, erp: str, credentials: Mapping[str, str], settings: Mapping[str, Any]
    ) -> ErpConnector:
        """A new connector for ``erp`` (the caller closes it), e.g. to verify a connection.
        Settings or credentials the connector refuses raise :class:`ValidationError`."""
        spec = self._specs.get(erp) or spec_for(erp)
        try:
            return spec.factory(credentials, settings, self.environment)
        except (SchemaError, ValueError, KeyError) as error:
            raise ValidationError(
                f"the {spec.display_name} connection's settings are not valid: {error}"
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
