"""What the hub knows of an ERP integration, as data: the :class:`ConnectorSpec` (design §6).

One spec per ERP is the only place an ERP is named outside its own packages. ``connect``, the
demo, the web console's setup and the contract suite read the spec table
(:mod:`ledgerlink.connectors.registry`); none of them branches on an ERP's name.

A connector is built by its spec's factory from the connection's decrypted credentials, its
settings and a :class:`ConnectorEnvironment`: what the hub lends every connector (the retry
policy, the shared rate limiter) plus named services only some kinds need — the FinancialHost
relay is one, asked for by that factory alone.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from pydantic import BaseModel

from ledgerlink.connectors._kit.limiter import RateLimiter
from ledgerlink.connectors._kit.retry import RetryPolicy
from ledgerlink.connectors.contract import Capabilities, ErpConnector

_T = TypeVar("_T")


class CredentialKind(enum.StrEnum):
    """How a connection proves who it is."""

    STATIC = "static"  # tokens or keys the user copies in (e-conomic's app and grant tokens)
    OAUTH2 = "oauth2"  # authorization-code flow; tokens kept and refreshed by the hub
    FINANCIALHOST = "financialhost"  # a signing key shared with the customer's FinancialHost


@dataclass(frozen=True, slots=True, kw_only=True)
class CredentialField:
    """One credential a user provides (``secret``: never shown again once stored)."""

    name: str
    help: str
    secret: bool = True
    required: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectorEnvironment:
    """What the hub lends the connectors it builds (see the module docstring)."""

    retry: RetryPolicy | None = None
    limiter: RateLimiter | None = None
    services: Mapping[str, object] = field(default_factory=dict)

    def service(self, name: str, kind: type[_T]) -> _T | None:
        """The hub service ``name`` (typed as ``kind`` by the asking factory), if the hub has
        one; ``kind`` is a Protocol the service satisfies."""
        del kind
        return cast("_T | None", self.services.get(name))


#: (decrypted credentials, settings, environment) → connector
ConnectorFactory = Callable[
    [Mapping[str, str], Mapping[str, Any], ConnectorEnvironment], ErpConnector
]


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectorSpec:
    """One ERP integration as the hub sees it.

    ``capabilities`` is what the connector can do at most (a connection's settings may narrow
    it; the built connector's own ``capabilities`` are what the engine plans with).
    ``emulator`` names its emulator (``ledgerlink emulate <name>``); the hub never imports
    emulators, so the CLI maps the name to the emulator.
    """

    name: str
    display_name: str
    credential_kind: CredentialKind
    credentials: tuple[CredentialField, ...]
    settings_model: type[BaseModel]
    capabilities: Capabilities
    factory: ConnectorFactory
    emulator: str = ""
    summary: str = ""

    def validate_settings(self, settings: Mapping[str, Any]) -> BaseModel:
        """The settings as the connector reads them (raises pydantic's ValidationError)."""
        return self.settings_model.model_validate(dict(settings))
