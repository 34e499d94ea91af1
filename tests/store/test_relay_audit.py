"""The hub keeps each agent's audit anchor (design §10, issue 11 item 2): a host's audit count
never goes back and its MAC chain runs through the record the hub saw; the first disagreement
stays on the agent until it is enrolled again."""

from __future__ import annotations

from ledgerlink.store.database import Database
from ledgerlink.store.relay import RelayStore


def keep(
    relay: RelayStore, count: int, mac: str, held: int | None = None, held_mac: str = ""
) -> str:
    assert relay.keep_audit("a", count=count, mac=mac, held_count=held, held_mac=held_mac) == count
    agent = relay.agent("a")
    assert agent is not None and agent.audit_count == count
    return agent.audit_problem


def test_a_growing_log_whose_chain_agrees_is_no_problem(database: Database) -> None:
    relay = RelayStore(database)
    relay.enrol("a", "sealed")
    assert keep(relay, 5, "m5") == ""
    assert keep(relay, 5, "m5") == ""
    assert keep(relay, 9, "m9", held=5, held_mac="m5") == ""
    assert keep(relay, 12, "m12", held=3, held_mac="stale ack") == ""  # nothing to check


def test_the_count_going_backwards_is_kept_as_the_agents_problem(database: Database) -> None:
    relay = RelayStore(database)
    relay.enrol("a", "sealed")
    keep(relay, 5, "m5")
    assert keep(relay, 3, "m3") == "the host's audit count went backwards: 5 -> 3 records"
    assert "went backwards" in keep(relay, 4, "m4", held=3, held_mac="m3")  # until re-enrolled
    relay.enrol("a", "new key")
    assert keep(relay, 1, "n1") == ""


def test_a_chain_that_disagrees_with_what_the_hub_saw(database: Database) -> None:
    relay = RelayStore(database)
    relay.enrol("a", "sealed")
    keep(relay, 5, "m5")
    assert "record 5 is not the one the hub saw" in keep(relay, 5, "other")

    relay.enrol("a", "new key")
    keep(relay, 5, "m5")
    assert "record 5 is not the one the hub saw (rewritten" in keep(relay, 8, "x", 5, "forged")


def test_an_unknown_agent_keeps_nothing(database: Database) -> None:
    assert (
        RelayStore(database).keep_audit("b", count=1, mac="m", held_count=None, held_mac="") is None
    )
