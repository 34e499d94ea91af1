"""Rate-limit budgets in the database, on SQLite and PostgreSQL: a budget's row is created on
first use even when several callers race for it, each update runs under the row's lock (no
lost update, no overlap), and a change that returns nothing writes nothing."""

from __future__ import annotations

import threading
import time

from ledgerlink.store.database import Database
from ledgerlink.store.ratelimits import RateLimitRecord, RateLimitStore


def test_first_use_creates_the_budget_and_the_change_is_kept(database: Database) -> None:
    store = RateLimitStore(database)
    assert store.read("fortnox", "c1") == RateLimitRecord()
    seen: list[RateLimitRecord] = []

    def change(record: RateLimitRecord) -> tuple[RateLimitRecord | None, str]:
        seen.append(record)
        return RateLimitRecord(42, {"sliding 25/5s": (1_000_001, 0)}), "done"

    assert store.update("fortnox", "c1", change) == "done"
    assert seen == [RateLimitRecord()]
    assert store.read("fortnox", "c1") == RateLimitRecord(42, {"sliding 25/5s": (1_000_001, 0)})
    assert store.read("fortnox", "c2") == RateLimitRecord()
    assert store.read("exact", "c1") == RateLimitRecord()


def test_a_change_that_returns_nothing_writes_nothing(database: Database) -> None:
    store = RateLimitStore(database)
    store.update("exact", "c", lambda _: (RateLimitRecord(7, {"fixed 60/60s": (60, 3)}), None))
    assert store.update("exact", "c", lambda record: (None, record.paused_until)) == 7
    assert store.read("exact", "c") == RateLimitRecord(7, {"fixed 60/60s": (60, 3)})


def test_concurrent_updates_are_serialised_from_the_first_use(database: Database) -> None:
    store = RateLimitStore(database)
    start = threading.Barrier(6)
    errors: list[BaseException] = []

    def bump(record: RateLimitRecord) -> tuple[RateLimitRecord, None]:
        return RateLimitRecord(record.paused_until + 1, record.marks), None

    def worker() -> None:
        try:
            start.wait()
            for _ in range(10):
                store.update("dinero", "org-1", bump)
        except BaseException as error:  # reported below, with the test's failure
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.read("dinero", "org-1").paused_until == 60


def test_the_row_stays_locked_while_a_change_runs(database: Database) -> None:
    store = RateLimitStore(database)
    store.update("fortnox", "c", lambda _: (RateLimitRecord(1), None))
    spans: dict[str, tuple[float, float]] = {}
    first_inside = threading.Event()

    def slow(record: RateLimitRecord) -> tuple[RateLimitRecord, None]:
        entered = time.monotonic()
        first_inside.set()
        time.sleep(0.3)
        spans["slow"] = (entered, time.monotonic())
        return RateLimitRecord(record.paused_until + 1), None

    def quick(record: RateLimitRecord) -> tuple[RateLimitRecord, int]:
        spans["quick"] = (time.monotonic(), time.monotonic())
        return RateLimitRecord(record.paused_until * 10), record.paused_until

    holder = threading.Thread(target=store.update, args=("fortnox", "c", slow))
    holder.start()
    assert first_inside.wait(10)
    seen = store.update("fortnox", "c", quick)
    holder.join()
    assert seen == 2  # the quick change saw the slow one's write ...
    assert spans["quick"][0] >= spans["slow"][1]  # ... because it waited for its commit
    assert store.read("fortnox", "c").paused_until == 20
