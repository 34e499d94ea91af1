"""The hub holds each agent's audit anchor (design §10, issue 11 item 2): the agent's heartbeat
carries the head's count and MAC and the MAC of the record the hub acknowledged last, so a log
put back from an older copy, or rewritten by someone with the key, shows at the hub; 'ledgerlink
agents list' says so."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledgerlink.cli.app import app
from ledgerlink.store.relay import Agent, RelayStore
from tests.contract.hub_relay import AGENT_ID, HubRelay, hub_relay
from tests.financialhost.test_host_agent import AgentHost, _start_agent_host


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubRelay]:
    with hub_relay(tmp_path / "hub") as relay:
        yield relay


@pytest.fixture
def agent_host(tmp_path: Path, hub: HubRelay) -> Iterator[AgentHost]:
    yield from _start_agent_host(tmp_path, hub)


def wait_for(relay: RelayStore, what: str, seen: Callable[[Agent], bool]) -> Agent:
    deadline = time.monotonic() + 10
    while (agent := relay.agent(AGENT_ID)) is None or not seen(agent):
        assert time.monotonic() < deadline, f"the hub never saw {what}: {agent}"
        time.sleep(0.1)
    return agent


def test_the_hub_keeps_the_anchor_and_sees_a_chain_that_disagrees(
    agent_host: AgentHost, tmp_path: Path
) -> None:
    audit = agent_host.host.audit
    relay = agent_host.hub.relay
    seen = wait_for(relay, "the audit count", lambda a: a.audit_count is not None)
    assert seen.audit_count is not None and 0 < seen.audit_count <= audit.anchor().count
    assert seen.audit_problem == ""

    # The host's record the hub acknowledged is no longer the one it saw (a log put back from
    # an older copy and grown since, or rewritten with the key): the next heartbeat says so.
    real = audit.mac_at
    audit.mac_at = lambda seq: "f" * 64  # type: ignore[method-assign]
    try:
        flagged = wait_for(relay, "the disagreement", lambda a: a.audit_problem != "")
    finally:
        audit.mac_at = real  # type: ignore[method-assign]
    assert "the host's audit chain disagrees: record" in flagged.audit_problem

    listed = CliRunner().invoke(
        app,
        ["--data-dir", str(tmp_path / "cli"), "--database-url", agent_host.hub.database.url,
         "agents", "list"],
        env={"COLUMNS": "400"},
    )  # fmt: skip
    assert listed.exit_code == 0, listed.output
    assert "TAMPERED? the host's audit chain disagrees" in listed.output
