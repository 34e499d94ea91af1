"""Two worker processes share one ERP budget through PostgreSQL (design §6, issue 10 item 3).

A Fortnox-like emulator enforcing 25 requests per 5-second sliding window per token (a bare 429
beyond, as Fortnox answers) is served over real HTTP; two separate Python processes, two
threads each, send requests through ``build_client`` with the ``DatabaseLimiter`` on the same
PostgreSQL database. The emulator must see every request and refuse none, while the window is
actually saturated. The control run — the same processes with a per-process limiter — shows
the emulator refusing what a limiter that is not shared lets through.
"""

from __future__ import annotations

import bisect
import json
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import FastAPI

from ledgerlink.emulators._kit.ratelimit import (
    LimitWindow,
    RateLimitMiddleware,
    RateLimits,
    bearer_token,
)
from ledgerlink.emulators._kit.serve import running

ROOT = Path(__file__).resolve().parents[2]
LIMIT, PERIOD = 25, 5.0


@dataclass
class Emulator:
    base_url: str
    limits: RateLimits
    arrivals: list[float] = field(default_factory=list)

    def most_in_any_window(self) -> int:
        ordered = sorted(self.arrivals)
        return max(
            (i + 1 - bisect.bisect_right(ordered, t - PERIOD) for i, t in enumerate(ordered)),
            default=0,
        )


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    limits = RateLimits([LimitWindow(LIMIT, PERIOD)])
    app = FastAPI()
    lock = threading.Lock()
    arrivals: list[float] = []

    @app.post("/invoices", status_code=201)
    def create_invoice() -> dict[str, bool]:
        with lock:
            arrivals.append(time.time())
        return {"created": True}

    app.add_middleware(RateLimitMiddleware, limits=limits, token=bearer_token)
    with running(app) as base_url:
        yield Emulator(base_url, limits, arrivals)


def run_workers(emulator: Emulator, *options: str, requests: int) -> list[Counter[str]]:
    """Start two workers, let them go at once, and return each one's status counts."""
    emulator.limits.reset_counts()
    emulator.arrivals.clear()
    token = f"token-{uuid.uuid4().hex[:8]}"
    command = [
        *(sys.executable, "-m", "tests.sync.rate_limit_worker"),
        *("--base-url", emulator.base_url, "--token", token, "--requests", str(requests)),
        *options,
    ]
    workers = [
        subprocess.Popen(
            command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            assert worker.stdout.readline().strip() == "ready"
        results = []
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        for worker in workers:
            out, _ = worker.communicate(timeout=120)
            assert worker.returncode == 0
            results.append(Counter(json.loads(out.strip().splitlines()[-1])))
        return results
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()


def test_two_worker_processes_on_postgresql_get_no_429(
    emulator: Emulator, postgres_url: str
) -> None:
    started = time.monotonic()
    results = run_workers(emulator, "--database-url", postgres_url, requests=40)
    assert sum(results, Counter()) == Counter({"201": 80})
    assert all(result["201"] == 40 for result in results)
    assert emulator.limits.refused == 0
    assert len(emulator.arrivals) == 80
    # The window was really full: the limiter is not passing by leaving budget unused.
    assert emulator.most_in_any_window() >= LIMIT - 2
    assert time.monotonic() - started < 30


def test_control_a_limiter_per_process_is_refused(emulator: Emulator) -> None:
    # Each process keeps to 25 per 5 s on its own; together they reach 25 after about 2.6 s.
    results = run_workers(emulator, "--in-memory", requests=16)
    total = sum(results, Counter())
    assert total["429"] > 0
    assert total["429"] == emulator.limits.refused
    assert total["201"] == len(emulator.arrivals)
