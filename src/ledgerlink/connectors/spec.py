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
from typing import Any, Protocol, TypeVar, cast

from pydantic import BaseModel

from ledgerlink.connectors._kit.limiter import RateLimiter
from ledgerlink.connectors._kit.oauth import OAuthClient, OAuthClientConfig, TokenSource
from ledgerlink.connectors._kit.retry import RetryPolicy
from ledgerlink.connectors.contract import Capabilities, ErpConnector

_T = TypeVar("_T")

#: The credential an OAuth2 connection keeps: the id of its tokens in the hub's token store.
TOKEN_REF = "token_ref"


class CredentialKind(enum.StrEnum):
    """How a connection proves who it is."""

    STATIC = "static"  # tokens or keys the user copies in (e-conomic's app and grant tokens)
    OAUTH2 = "oauth2"  # authorization-code flow; tokens kept and refreshed by the hub
    FINANCIALHOST = "financialhost"  # a signing key shared with the customer's FinancialHost


class FieldTarget(enum.StrEnum):
    """Where a setup field's value goes."""

    CREDENTIAL = "credential"  # encrypted with the connection's credentials
    SETTING = "setting"  # the connector's settings (validated by its settings model)
    FLOW = "flow"  # only for obtaining a credential (e.g. where the grant page lives)


@dataclass(frozen=True, slots=True, kw_only=True)
class SetupField:
    """One value a user gives when connecting, as a command-line option or a form field.

    ``secret``: asked without echo and never shown again; ``from_file``: the command line
    takes a file and stores its text (a PEM certificate); ``flags``: the command-line
    spellings (default ``--name-with-dashes``); ``choices``: the allowed values."""

    name: str
    label: str
    target: FieldTarget
    secret: bool = False
    required: bool = False
    from_file: bool = False
    flags: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    default: str | None = None

    @property
    def cli_flags(self) -> tuple[str, ...]:
        return self.flags or (f"--{self.name.replace('_', '-')}",)


def oauth_app_fields(app: str) -> tuple[SetupField, SetupField]:
    """The two setup fields every OAuth2 ERP asks for: the registered app's client id (a
    setting) and its client secret (a credential); ``app`` names the app, e.g. "The Fortnox
    app"."""
    return (
        SetupField(
            name="client_id",
            label=f"{app}'s client id.",
            target=FieldTarget.SETTING,
            required=True,
        ),
        SetupField(
            name="client_secret",
            label=f"{app}'s client secret.",
            target=FieldTarget.CREDENTIAL,
            secret=True,
            required=True,
        ),
    )


@dataclass(frozen=True, slots=True)
class GrantRequest:
    """Where to send the user to grant access (and the state to expect back)."""

    url: str
    state: str = ""


class AuthorizeFlow(Protocol):
    """How a credential the user cannot type is obtained: the user opens :meth:`begin`'s URL,
    grants access, and the ERP redirects to ``redirect_uri`` with a query that
    :meth:`complete` turns into credentials. The CLI receives the redirect on a loopback
    address; the web console on its own callback route."""

    #: The credential this flow provides (asked for only when it is not given).
    credential: str

    def begin(self, values: Mapping[str, str], redirect_uri: str) -> GrantRequest: ...

    def complete(self, query: Mapping[str, str]) -> dict[str, str]: ...


#: (credential id, OAuth client) → the token source an OAuth2 connector authenticates with
TokenSources = Callable[[str, OAuthClient], TokenSource]


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectorEnvironment:
    """What the hub lends the connectors it builds (see the module docstring). ``tokens``
    gives an OAuth2 connector the hub's token store for its credential (refreshes serialised
    across processes)."""

    retry: RetryPolicy | None = None
    limiter: RateLimiter | None = None
    tokens: TokenSources | None = None
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
    ``demos`` names the emulated ERPs this connector can rehearse on (``ledgerlink demo --erp
    <name>``, ``ledgerlink emulate <name>``; several for FinancialHost, one per plugin); the hub
    never imports emulators, so the CLI finds them by name in the emulators' registry.
    ``authorize`` obtains a credential the user cannot type (e-conomic's app grant); ``oauth``
    (credential kind OAuth2) is the app's OAuth2 registration built from the setup values:
    connecting runs the authorization-code flow and keeps the tokens in the hub's token store,
    the connection holds only the credential's ``token_ref``.
    """

    name: str
    display_name: str
    credential_kind: CredentialKind
    setup: tuple[SetupField, ...]
    settings_model: type[BaseModel]
    capabilities: Capabilities
    factory: ConnectorFactory
    authorize: AuthorizeFlow | None = None
    oauth: Callable[[Mapping[str, str]], OAuthClientConfig] | None = None
    account_label: str = "account"  # what the ERP calls what credentials open ("agreement")
    demos: tuple[str, ...] = ()
    summary: str = ""

    def fields(self, target: FieldTarget) -> tuple[SetupField, ...]:
        return tuple(f for f in self.setup if f.target is target)

    def split(self, values: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
        """A form's values as (credentials, settings); flow-only values are dropped."""
        credentials = {
            f.name: values[f.name]
            for f in self.fields(FieldTarget.CREDENTIAL)
            if values.get(f.name)
        }
        settings = {
            f.name: values[f.name] for f in self.fields(FieldTarget.SETTING) if values.get(f.name)
        }
        return credentials, settings

    def validate_settings(self, settings: Mapping[str, Any]) -> BaseModel:
        """The settings as the connector reads them (raises pydantic's ValidationError)."""
        return self.settings_model.model_validate(dict(settings))
