"""FinancialHost agents known to the hub (outbound agent mode, design §10).

A connection whose settings name an ``agent_id`` reaches its host through the hub's relay
instead of calling it. The agent signs its calls to the hub with the key the connection signs
its requests with, so enrolling an agent is storing that key (sealed like any credentials)
under the agent's id. :func:`enrol` runs when such a connection is connected, before the
connection is verified, because the verification itself travels through the agent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledgerlink.store.relay import RelayStore
from ledgerlink.sync.secrets import SecretBox
from ledgerlink.wire.signing import SigningKey

AGENT_SETTING = "agent_id"


def agent_of(settings: Mapping[str, Any]) -> str:
    """The agent a connection's settings name ('' for a connection that calls its ERP)."""
    return str(settings.get(AGENT_SETTING) or "")


def enrol(
    relay: RelayStore, secrets: SecretBox, agent_id: str, credentials: dict[str, str]
) -> None:
    """Let ``agent_id`` call the hub, signing with the key in ``credentials``."""
    relay.enrol(
        agent_id,
        secrets.seal({"key_id": credentials["key_id"], "secret": credentials["secret"]}),
    )


class AgentKeys:
    """The signing keys an agent's calls are checked with (for the hub's relay endpoint)."""

    def __init__(self, relay: RelayStore, secrets: SecretBox) -> None:
        self._relay = relay
        self._secrets = secrets

    def __call__(self, agent_id: str) -> list[SigningKey]:
        agent = self._relay.agent(agent_id)
        if agent is None:
            return []
        credentials = self._secrets.open(agent.credentials)
        return [SigningKey(credentials["key_id"], credentials["secret"].encode())]
