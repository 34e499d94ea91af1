"""Exact Online's daily cap is respected across worker processes (issue 13 item 5).

The Exact emulator is configured with a small daily cap (``daily_limit``; the real one is
5,000 per app × division) and its minute window as Exact's (60). Two separate Python processes,
two threads each, send more requests in all than the cap allows, through the connectors'
``build_client`` with the ``DatabaseLimiter`` on one database (SQLite file and PostgreSQL) and
the budget key the Exact connector uses (app × division, its minute window, and a day window of
the emulator's cap — the connector's own ``DAY`` scaled down as the emulator is). The emulator
must admit exactly the cap and refuse nothing: no daily-cap 429 ever reaches it. Every request
beyond the cap fails in the client before it is sent, with a ``Transient`` whose wait is the
time until the day's budget returns (the next midnight UTC, where the emulator's day and the
limiter's both turn) and whose text says so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from ledgerlink.connectors._kit.oauth import OAuthClient
from ledgerlink.connectors.exact.spec import oauth_config
from ledgerlink.emulators._kit.serve import running
from ledgerlink.emulators.exact import ExactEmulator
from ledgerlink.emulators.exact.seed import MAIN
from ledgerlink.store.database import Database

ROOT = Path(__file__).resolve().parents[2]
CLIENT, SECRET = "ledgerlink-daily-cap", "daily-cap-secret"
CAP = 30
PER_PROCESS = 24  # 48 asked for in all: 18 beyond the cap
REDIRECT = "http://127.0.0.1:9/callback"

WORKER = r"""
import json, logging, os, sys, threading, time
import httpx2, structlog
from ledgerlink.connectors._kit.http import build_client
from ledgerlink.connectors._kit.limiter import LimiterKey, Window, WindowKind
from ledgerlink.connectors.contract import Transient
from ledgerlink.connectors.exact.connector import ERP, MINUTE
from ledgerlink.store.database import Database
from ledgerlink.store.ratelimits import RateLimitStore
from ledgerlink.sync.ratelimit import DatabaseLimiter

env = os.environ
# The client logs every exchange to stdout; unread, a full pipe would stall this process.
structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
day = Window(max_calls=int(env["CAP"]), seconds=86_400, kind=WindowKind.FIXED)
key = LimiterKey.for_secret(ERP, env["BUDGET"], windows=(MINUTE, day))
limiter = DatabaseLimiter(RateLimitStore(Database(env["DATABASE_URL"])))


class Bearer(httpx2.Auth):
    def auth_flow(self, request):
        request.headers["Authorization"] = "Bearer " + env["TOKEN"]
        yield request


client = build_client(base_url=env["BASE_URL"], auth=Bearer(), limiter=limiter, limiter_key=key)
statuses, refusals, lock = {}, [], threading.Lock()


def send(count):
    for _ in range(count):
        try:
            status = str(client.get(env["PATH"]).status_code)
        except Transient as error:
            with lock:
                refusals.append({"message": str(error), "hint": error.hint,
                                 "retry_after": error.retry_after, "at": time.time()})
            continue
        with lock:
            statuses[status] = statuses.get(status, 0) + 1


requests = int(env["REQUESTS"])
threads = [threading.Thread(target=send, args=(requests // 2 + i * (requests % 2),))
           for i in range(2)]
print("ready", flush=True)
sys.stdin.readline()
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
client.close()
print(json.dumps({"statuses": statuses, "refusals": refusals}), flush=True)
"""


@dataclass
class Exact:
    emulator: ExactEmulator
    base_url: str
    token: str


@pytest.fixture(scope="module")
def exact() -> Iterator[Exact]:
    """The Exact emulator with a daily cap of ``CAP`` (its minute window as Exact's) and an
    access token granted through the connector's OAuth client config."""
    emulator = ExactEmulator(client_id=CLIENT, client_secret=SECRET, daily_limit=CAP)
    with running(emulator.app) as base_url:
        values = {"client_id": CLIENT, "client_secret": SECRET, "base_url": base_url}
        with OAuthClient(oauth_config(values)) as oauth:
            request = oauth.authorization_url(redirect_uri=REDIRECT, params={"approve": "yes"})
            answer = httpx2.get(request.url, follow_redirects=False)
            assert answer.status_code == 302, answer.text
            code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
            tokens = oauth.exchange_code(code=code, redirect_uri=REDIRECT)
        yield Exact(emulator, base_url, tokens.access_token)


def run_workers(exact: Exact, database_url: str, budget: str) -> list[dict[str, Any]]:
    """Two processes, released together, each sending ``PER_PROCESS`` requests."""
    env = {
        **os.environ,
        "BASE_URL": exact.base_url,
        "TOKEN": exact.token,
        "DATABASE_URL": database_url,
        "BUDGET": budget,
        "CAP": str(CAP),
        "REQUESTS": str(PER_PROCESS),
        "PATH": f"/api/v1/{MAIN}/logistics/Items",
    }
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER],
            env=env,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            line = worker.stdout.readline()
            assert line.strip() == "ready", line or worker.communicate()[1]
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        results = []
        for worker in workers:
            out, err = worker.communicate(timeout=60)
            assert worker.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
        return results
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()


@pytest.mark.store
def test_two_processes_never_pass_exacts_daily_cap(exact: Exact, database: Database) -> None:
    emulator = exact.emulator
    emulator.limits.reset_counts()  # the module's emulator: each database starts a new day
    # A budget of its own per run: the limiter's row starts empty on either database.
    budget = f"{CLIENT}:{MAIN}:{database.url.split(':', 1)[0]}"
    started = time.monotonic()

    results = run_workers(exact, database.url, budget)

    statuses = sum((Counter(r["statuses"]) for r in results), Counter[str]())
    refusals = [refusal for r in results for refusal in r["refusals"]]
    # The emulator admitted the day's budget and refused nothing: no daily-cap 429.
    assert emulator.limits.refused == 0
    assert emulator.limits.admitted == CAP
    assert statuses == Counter({"200": CAP})
    # Both processes spent the shared budget; the rest never left the client.
    assert all(r["statuses"] for r in results)
    assert len(refusals) == 2 * PER_PROCESS - CAP
    # ...and each says when the day's budget comes back: at the next midnight UTC.
    for refusal in refusals:
        midnight = datetime.fromtimestamp(refusal["at"], UTC).date() + timedelta(days=1)
        until = datetime.combine(midnight, datetime.min.time(), UTC).timestamp() - refusal["at"]
        assert refusal["retry_after"] == pytest.approx(until, abs=2.0)
        assert f"the next request fits in {refusal['retry_after']:.1f} s" in refusal["message"]
        assert "resumes by itself" in refusal["hint"]
    assert time.monotonic() - started < 60  # refused at once, not slept through
