"""The worker registry, on SQLite and PostgreSQL: a worker is dead when its process is gone
(same host) or it has not been seen for a while (any host); each dead worker is claimed once,
a live one never, and a worker never claims itself."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from ledgerlink.store.database import Database
from ledgerlink.store.workers import WorkerIdentity, WorkerRegistry

STALE = timedelta(seconds=60)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_a_dead_process_on_this_host_is_claimed_once_and_a_live_one_never(
    database: Database,
) -> None:
    clock = Clock()
    running = {101, 102}
    registry = WorkerRegistry(database, clock=clock, process_exists=running.__contains__)
    me = WorkerIdentity("here-101", "here", 101)
    beside = WorkerIdentity("here-102", "here", 102)
    killed = WorkerIdentity("here-103", "here", 103)
    for worker in (me, beside, killed):
        registry.alive(worker)

    assert registry.claim_dead(me, stale_after=STALE) == ["here-103"]
    assert registry.claim_dead(me, stale_after=STALE) == []  # claimed once
    assert (
        WorkerRegistry(database, clock=clock, process_exists=running.__contains__).claim_dead(
            beside, stale_after=STALE
        )
        == []
    )  # the other live worker finds nothing either


def test_a_worker_elsewhere_is_dead_only_when_not_seen_for_stale_after(database: Database) -> None:
    clock = Clock()
    registry = WorkerRegistry(database, clock=clock, process_exists=lambda _pid: False)
    me = WorkerIdentity("here-1", "here", 1)
    there = WorkerIdentity("there-7", "there", 7)
    registry.alive(there)
    registry.alive(me)

    clock.now += STALE - timedelta(seconds=1)
    registry.alive(me)
    assert registry.claim_dead(me, stale_after=STALE) == []  # its pid means nothing here
    clock.now += timedelta(seconds=2)
    assert registry.claim_dead(me, stale_after=STALE) == ["there-7"]


def test_a_beat_keeps_a_worker_alive_and_leaving_removes_it(database: Database) -> None:
    clock = Clock()
    registry = WorkerRegistry(database, clock=clock, process_exists=lambda _pid: True)
    me = WorkerIdentity("here-1", "here", 1)
    other = WorkerIdentity("there-2", "there", 2)
    registry.alive(other)
    clock.now += STALE * 2
    registry.alive(other)  # beats again: seen now
    assert registry.claim_dead(me, stale_after=STALE) == []
    registry.leave(other)
    clock.now += STALE * 2
    assert registry.claim_dead(me, stale_after=STALE) == []  # gone cleanly: nothing to claim


def test_this_process_has_an_executor_id_of_its_own() -> None:
    me = WorkerIdentity.of_this_process()
    assert me.pid == os.getpid()
    assert me.executor_id.startswith(f"{me.host}-{me.pid}-")
    assert me.executor_id != "local"
