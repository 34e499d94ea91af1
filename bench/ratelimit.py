"""Benchmark: how much of an ERP's rate-limit window the database-shared limiter uses.

Not a test. A Fortnox-like emulator (25 requests per 5-second sliding window per token, a bare
429 beyond) runs in this process; N worker processes (default 2, with 2 threads each) send one
request per invoice (default 300 in all) through the connectors' ``build_client`` with the
``DatabaseLimiter`` on one database, PostgreSQL or SQLite, as ``ledgerlink worker`` processes
would. Reported per database:

* **share of the window used** — the emulator's arrival rate from the first request to the
  last, as requests per 5 s, ÷ 25 (the limiter's ceiling is 25 / 5.25 s = 95.2 % with the
  default 0.25 s margin);
* **most in any 5 s** — the fullest sliding window the emulator saw (never above 25);
* **429s** — refused requests (a 429 is counted, not retried);
* **limiter cost per request** — wall time in ``acquire()`` less the time it slept, p50 / p99
  (each thread's first call, which opens its database connection, shown apart), and the SQL
  statements and commits the limiter issued per request (SQLAlchemy events in the workers).

    .venv/bin/python bench/ratelimit.py [--requests 300] [--processes 2] [--threads 2]
        [--database postgresql] [--database sqlite] [--write-readme]
"""

from __future__ import annotations

import argparse
import bisect
import json
import logging
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx2
import structlog
from fastapi import FastAPI
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from ledgerlink.connectors._kit.http import build_client
from ledgerlink.connectors._kit.limiter import LimiterKey, Window
from ledgerlink.emulators._kit.ratelimit import (
    LimitWindow,
    RateLimitMiddleware,
    RateLimits,
    bearer_token,
)
from ledgerlink.emulators._kit.serve import running
from ledgerlink.store.database import Database, normalise_url
from ledgerlink.store.ratelimits import RateLimitStore
from ledgerlink.sync.ratelimit import DatabaseLimiter

README = Path(__file__).with_name("README.md")
BEGIN, END = "<!-- bench:ratelimit:begin -->", "<!-- bench:ratelimit:end -->"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
LIMIT, PERIOD = 25, 5.0
WINDOWS = (Window(LIMIT, PERIOD),)
COLUMNS = (
    "database", "requests", "processes × threads", "wall time", "share of the window used",
    "most in any 5 s", "429s", "limiter cost p50 / p99", "first call (connects)",
    "SQL statements / request",
    "commits / request",
)  # fmt: skip
VERSIONS = ("sqlalchemy", "psycopg", "httpx2", "uvicorn", "fastapi")


# the worker process ---------------------------------------------------------------------------
class Bearer(httpx2.Auth):
    """The access token in an ``Authorization: Bearer`` header."""

    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


class TimedLimiter:
    """Wraps the limiter to measure each ``acquire`` less the time it slept (per thread); a
    thread's first call, which also opens its database connection, is kept apart."""

    def __init__(self, inner: DatabaseLimiter, slept: threading.local) -> None:
        self.inner = inner
        self.slept = slept
        self.costs: list[float] = []
        self.first_costs: list[float] = []
        self.defers = 0
        self._lock = threading.Lock()

    def acquire(self, key: LimiterKey) -> None:
        """Acquire through the database limiter and record its cost."""
        self.slept.seconds = 0.0
        began = time.perf_counter()
        self.inner.acquire(key)
        cost = time.perf_counter() - began - self.slept.seconds
        first = not getattr(self.slept, "warm", False)
        self.slept.warm = True
        with self._lock:
            (self.first_costs if first else self.costs).append(cost)

    def defer(self, key: LimiterKey, seconds: float) -> None:
        """Pass the server's pause on (and count it)."""
        with self._lock:
            self.defers += 1
        self.inner.defer(key, seconds)


def worker(args: argparse.Namespace) -> None:
    """Send ``args.requests`` requests on ``args.threads`` threads; print one JSON line."""
    # The client logs every exchange to stdout; unread, a full pipe would stall this process.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    database = Database(args.database_url)
    counts = Counter[str]()

    @event.listens_for(database.engine, "before_cursor_execute")
    def statement(*_: Any) -> None:
        counts["statements"] += 1

    @event.listens_for(database.engine, "commit")
    def commit(*_: Any) -> None:
        counts["commits"] += 1

    slept = threading.local()

    def sleep(seconds: float) -> None:
        began = time.perf_counter()
        time.sleep(seconds)
        slept.seconds += time.perf_counter() - began

    limiter = TimedLimiter(
        DatabaseLimiter(RateLimitStore(database), sleep=sleep, max_sleep=60.0), slept
    )
    key = LimiterKey.for_secret("fortnox", args.token, windows=WINDOWS)
    client = build_client(
        base_url=args.base_url, auth=Bearer(args.token), limiter=limiter, limiter_key=key
    )
    statuses = Counter[int]()
    lock = threading.Lock()

    def send(count: int) -> None:
        for n in range(count):
            status = client.post("/invoices", json={"invoice": n}).status_code
            with lock:
                statuses[status] += 1

    shares = [
        args.requests // args.threads + (i < args.requests % args.threads)
        for i in range(args.threads)
    ]
    threads = [threading.Thread(target=send, args=(share,)) for share in shares]
    print("ready", flush=True)
    sys.stdin.readline()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    client.close()
    database.dispose()
    result = {
        "statuses": {str(k): v for k, v in statuses.items()},
        "costs": limiter.costs,
        "first_costs": limiter.first_costs,
        "defers": limiter.defers,
        "statements": counts["statements"],
        "commits": counts["commits"],
    }
    print(json.dumps(result), flush=True)


# the bench process ----------------------------------------------------------------------------
@dataclass
class Emulator:
    """The emulator's address, its windows and the arrival time of every admitted request."""

    base_url: str
    limits: RateLimits
    arrivals: list[float] = field(default_factory=list)


@contextmanager
def emulator() -> Iterator[Emulator]:
    """A Fortnox-like ``POST /invoices`` behind 25 requests per 5 s sliding, per token."""
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


@contextmanager
def database(kind: str) -> Iterator[str]:
    """A migrated database: a fresh schema on the PostgreSQL server (dropped at the end) or an
    SQLite file in a temporary folder."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="ledgerlink-bench-rl-") as folder:
            url = f"sqlite:///{Path(folder) / 'ledgerlink.db'}"
            Database(url).migrate()
            yield url
        return
    base = normalise_url(os.environ.get("LEDGERLINK_BENCH_POSTGRES_URL", POSTGRES))
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    rendered = scoped.render_as_string(hide_password=False)
    try:
        migrated = Database(rendered)
        migrated.migrate()
        migrated.dispose()
        yield rendered
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def most_in_any_window(arrivals: list[float]) -> int:
    """The most requests any ``PERIOD``-long sliding window held."""
    ordered = sorted(arrivals)
    return max(
        (i + 1 - bisect.bisect_right(ordered, t - PERIOD) for i, t in enumerate(ordered)),
        default=0,
    )


def percentile(values: list[float], percent: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(percent / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def run(kind: str, args: argparse.Namespace, log: Callable[[str], None]) -> list[str]:
    """One measured run on database ``kind``; the table row."""
    with database(kind) as url, emulator() as emu:
        token = f"bench-{uuid.uuid4().hex[:8]}"
        shares = [
            args.requests // args.processes + (i < args.requests % args.processes)
            for i in range(args.processes)
        ]
        command = [sys.executable, str(Path(__file__).resolve()), "--worker",
                   "--base-url", emu.base_url, "--token", token, "--database-url", url,
                   "--threads", str(args.threads)]  # fmt: skip
        workers = [
            subprocess.Popen(
                [*command, "--requests", str(share)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for share in shares
        ]
        for process in workers:
            assert process.stdout is not None
            if process.stdout.readline().strip() != "ready":
                raise RuntimeError("a worker did not start")
        for process in workers:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        results = []
        for process in workers:
            out, _ = process.communicate(timeout=30 + args.requests)
            if process.returncode != 0:
                raise RuntimeError(f"a worker failed with exit code {process.returncode}")
            results.append(json.loads(out.strip().splitlines()[-1]))
    statuses = sum((Counter(r["statuses"]) for r in results), Counter[str]())
    costs = [cost for r in results for cost in r["costs"]]
    first = [cost for r in results for cost in r["first_costs"]]
    sent = sum(statuses.values())
    arrivals = sorted(emu.arrivals)
    span = arrivals[-1] - arrivals[0]
    share = (len(arrivals) - 1) / span * PERIOD / LIMIT
    log(
        f"{kind}: {sent} sent, statuses {dict(statuses)}, {len(arrivals)} admitted, "
        f"{emu.limits.refused} refused, defers {sum(r['defers'] for r in results)}, "
        f"mean limiter cost {statistics.fmean(costs) * 1000:.2f} ms"
    )
    return [
        "PostgreSQL" if kind == "postgresql" else "SQLite",
        str(sent),
        f"{args.processes} × {args.threads}",
        f"{span:.1f} s",
        f"{share:.1%}",
        str(most_in_any_window(arrivals)),
        str(statuses.get("429", 0)),
        f"{percentile(costs, 50) * 1000:.1f} ms / {percentile(costs, 99) * 1000:.1f} ms",
        f"{statistics.fmean(first) * 1000:.0f} ms",
        f"{sum(r['statements'] for r in results) / sent:.2f}",
        f"{sum(r['commits'] for r in results) / sent:.2f}",
    ]


# output ---------------------------------------------------------------------------------------
def table(rows: list[list[str]]) -> str:
    """A markdown table with the benchmark's columns."""
    lines = [f"| {' | '.join(COLUMNS)} |", f"|{'---|' * len(COLUMNS)}"]
    return "\n".join([*lines, *(f"| {' | '.join(row)} |" for row in rows)])


def machine() -> str:
    """CPU count and model, memory, Python, SQLite, PostgreSQL and package versions."""
    cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if "model name" in line),
        platform.processor() or "unknown CPU",
    )
    memory = int(Path("/proc/meminfo").read_text().splitlines()[0].split()[1]) / 1024 / 1024
    packages = ", ".join(f"{name} {version(name)}" for name in VERSIONS)
    try:
        admin = create_engine(normalise_url(POSTGRES))
        with admin.connect() as connection:
            server = str(connection.execute(text("SHOW server_version")).scalar())
        admin.dispose()
    except Exception:  # the PostgreSQL rows say it anyway
        server = "not reachable"
    return (
        f"{os.cpu_count()} cores ({model}), {memory:.0f} GiB, {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}, SQLite "
        f"{sqlite3.sqlite_version}, PostgreSQL {server} (local); {packages}"
    )


def block_text(rows: list[list[str]], loads: tuple[float, float]) -> str:
    """What goes between the README markers: the table, the date, the machine, the command."""
    today = datetime.now(UTC).date().isoformat()
    command = " ".join([".venv/bin/python", "bench/ratelimit.py", *sys.argv[1:]])
    return (
        f"{table(rows)}\n\n"
        f"Measured on {today}. Machine: {machine()}; 1-minute load average {loads[0]:.2f} at "
        f"the start, {loads[1]:.2f} at the end (the machine is shared).\n\n"
        f"```sh\n{command}\n```"
    )


def write_readme(text: str, readme: Path = README) -> None:
    """Replace what is between this benchmark's markers in ``readme`` with ``text``."""
    content = readme.read_text(encoding="utf-8")
    head, rest = content.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}", encoding="utf-8")


def main() -> None:
    """Parse the arguments; run the worker, or the benchmark on each database."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="requests (invoices) in all")
    parser.add_argument("--processes", type=int, default=2, help="worker processes")
    parser.add_argument("--threads", type=int, default=2, help="threads per worker process")
    parser.add_argument(
        "--database", action="append", choices=("postgresql", "sqlite"), help="repeat; both"
    )
    parser.add_argument("--write-readme", action="store_true", help="update bench/README.md")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    load = os.getloadavg()[0]
    rows = []
    print(table([]), flush=True)
    for kind in args.database or ["postgresql", "sqlite"]:
        row = run(kind, args, lambda line: print(line, file=sys.stderr, flush=True))
        rows.append(row)
        print(f"| {' | '.join(row)} |", flush=True)
    loads = (load, os.getloadavg()[0])
    if args.write_readme:
        write_readme(block_text(rows, loads))
        print(f"\nwrote {README}")


if __name__ == "__main__":
    main()
