"""The agent relay's storage on SQLite and PostgreSQL: a job is offered once, only the leasing
agent can answer it, a caller that gives up learns whether the agent ever saw the job, and a
nonce is accepted once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from ledgerlink.store.database import Database
from ledgerlink.store.relay import ABANDONED, ANSWERED, LEASED, PENDING, RelayStore


def _request(n: int) -> dict[str, object]:
    return {"method": "POST", "path": f"/v1/ops/n{n}", "headers": {}, "body_b64": ""}


def _later(seconds: float = 60) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def test_jobs_are_leased_oldest_first_and_once(database: Database) -> None:
    relay = RelayStore(database)
    ids = [relay.submit("a", _request(n), deadline=_later()) for n in range(3)]
    relay.submit("b", _request(9), deadline=_later())  # another agent's
    first = relay.lease("a", limit=2)
    assert [job.job_id for job in first] == ids[:2]
    assert first[0].request == _request(0)
    assert first[0].deadline > datetime.now(UTC)
    assert [job.job_id for job in relay.lease("a", limit=5)] == ids[2:]
    assert relay.lease("a", limit=5) == []
    assert relay.outcome(ids[0]).state == LEASED


def test_concurrent_leases_never_hand_out_a_job_twice(database: Database) -> None:
    relay = RelayStore(database)
    ids = {relay.submit("a", _request(n), deadline=_later()) for n in range(40)}
    leased: list[str] = []
    lock = threading.Lock()

    def lease() -> None:
        while jobs := relay.lease("a", limit=3):
            with lock:
                leased.extend(job.job_id for job in jobs)

    threads = [threading.Thread(target=lease) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(leased) == sorted(ids)


def test_a_job_past_its_deadline_is_not_offered(database: Database) -> None:
    relay = RelayStore(database)
    relay.submit("a", _request(1), deadline=datetime.now(UTC) - timedelta(seconds=1))
    assert relay.lease("a", limit=5) == []


def test_only_the_leasing_agent_answers_and_only_once(database: Database) -> None:
    relay = RelayStore(database)
    job_id = relay.submit("a", _request(1), deadline=_later())
    response = {"status": 200, "headers": {}, "body_b64": "e30="}
    assert not relay.answer("a", job_id, response)  # not leased yet
    relay.lease("a", limit=1)
    assert not relay.answer("b", job_id, response)  # not b's job
    assert relay.answer("a", job_id, response)
    assert not relay.answer("a", job_id, response)  # answered already
    outcome = relay.outcome(job_id)
    assert (outcome.state, outcome.response) == (ANSWERED, response)


def test_giving_up_tells_whether_the_agent_saw_the_job(database: Database) -> None:
    relay = RelayStore(database)
    never = relay.submit("a", _request(1), deadline=_later())
    assert relay.abandon(never).state == PENDING
    assert relay.lease("a", limit=5) == []  # an abandoned job is not offered

    taken = relay.submit("a", _request(2), deadline=_later())
    relay.lease("a", limit=5)
    assert relay.abandon(taken).state == LEASED
    assert not relay.answer("a", taken, {"status": 200})  # too late: the hub tells the agent
    assert relay.outcome(taken).state == ABANDONED


def test_a_nonce_is_accepted_once(database: Database) -> None:
    relay = RelayStore(database)
    assert relay.remember_nonce("n-1", keep_for=timedelta(minutes=10))
    assert not relay.remember_nonce("n-1", keep_for=timedelta(minutes=10))
    assert relay.remember_nonce("n-2", keep_for=timedelta(minutes=10))


def test_enrolment_calls_and_heartbeats(database: Database) -> None:
    relay = RelayStore(database)
    relay.seen("ghost")  # an agent that is not enrolled leaves no trace
    assert relay.agent("ghost") is None
    relay.enrol("a", "sealed-1")
    agent = relay.agent("a")
    assert agent is not None and agent.last_seen is None and agent.credentials == "sealed-1"
    relay.seen("a", heartbeat={"erp_reachable": True, "jobs_pending": 2})
    relay.enrol("a", "sealed-2")  # a new key for a known agent
    agent = relay.agent("a")
    assert agent is not None and agent.credentials == "sealed-2"
    assert agent.last_seen is not None and agent.last_seen.tzinfo is not None
    assert agent.heartbeat == {"erp_reachable": True, "jobs_pending": 2}
    assert [a.agent_id for a in relay.agents()] == ["a"]


def test_old_jobs_are_purged_recent_ones_kept(database: Database) -> None:
    relay = RelayStore(database)
    old = relay.submit("a", _request(1), deadline=datetime.now(UTC) - timedelta(days=2))
    recent = relay.submit("a", _request(2), deadline=_later())
    assert relay.purge() == 1
    assert relay.outcome(old).state == ABANDONED  # gone: reads as given up
    assert relay.outcome(recent).state == PENDING
