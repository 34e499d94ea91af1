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

**ERP mode** (``--erp fortnox``, ``--erp exact``; issue 13 item 5): posted invoices through the
real connectors and the engine to the ERP's own emulator (Fortnox: 25 per 5 s sliding, a bare
429; Exact: 60 per minute + 5,000 per day, fixed windows with ``X-RateLimit-*`` headers) on
PostgreSQL. A spawned process builds the data and connects with the code flow (tokens in the
token store); ``--processes`` worker processes each build the engine as ``ledgerlink worker``
does (``hub_environment``: the database-shared limiter, the token store) and run their share of
the transfers with ``transfer_documents`` + ``DirectRunner``. Reported per ERP: the API
requests the emulator answered, the share of the ERP's window used (Fortnox: arrival rate ÷ 25
per 5 s; Exact: requests per minute window ÷ 60 over the run's windows but the last), the
fullest window and the 429s (goal 0). Exact's windows are its real ones: 300 invoices take
about six minutes.

    .venv/bin/python bench/ratelimit.py --erp fortnox --erp exact [--invoices 300]
        [--exact-invoices 300] [--processes 2] [--write-readme]
"""

from __future__ import annotations

import argparse
import bisect
import json
import logging
import multiprocessing
import os
import platform
import re
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
from datetime import UTC, date, datetime
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
from ledgerlink.connectors.registry import spec_for
from ledgerlink.domain.entity import require_id
from ledgerlink.domain.invoices import LineKind
from ledgerlink.domain.transfers import ProductNumberPrinciples
from ledgerlink.emulators._kit.ratelimit import (
    LimitWindow,
    RateLimitMiddleware,
    RateLimits,
    bearer_token,
)
from ledgerlink.emulators._kit.rehearsal import approve_in_browser
from ledgerlink.emulators._kit.serve import running
from ledgerlink.emulators.exact import ExactEmulator, rules
from ledgerlink.emulators.exact.model import RESOURCES
from ledgerlink.emulators.exact.seed import MAIN
from ledgerlink.emulators.fortnox import FortnoxEmulator
from ledgerlink.psa import invoicing
from ledgerlink.psa.importing import ImportKind, import_rows
from ledgerlink.psa.sample import load_sample_data
from ledgerlink.store.database import Database, normalise_url
from ledgerlink.store.ratelimits import RateLimitStore
from ledgerlink.store.uow import UnitOfWork
from ledgerlink.sync import connections
from ledgerlink.sync.engine import Engine
from ledgerlink.sync.ratelimit import DEFAULT_MAX_SLEEP, DatabaseLimiter
from ledgerlink.sync.registry import ConnectorProvider, hub_environment
from ledgerlink.sync.secrets import SecretBox
from ledgerlink.sync.transfers import DirectRunner, transfer_documents

README = Path(__file__).with_name("README.md")
BEGIN, END = "<!-- bench:ratelimit:begin -->", "<!-- bench:ratelimit:end -->"
ERP_MARKERS = ("<!-- bench:ratelimit:erp:begin -->", "<!-- bench:ratelimit:erp:end -->")
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


# the ERP mode: invoices through the connectors and the engine -------------------------------
#
# ``--erp fortnox`` / ``--erp exact``: the real emulator (its own rate limits and signals) runs
# in this process behind a recorder; one process builds the data and connects (code flow into
# the token store); ``--processes`` worker processes each build the engine as ``ledgerlink
# worker`` does (``hub_environment``: the database-shared limiter, the token store) and run their
# share of the transfers with ``transfer_documents`` + ``DirectRunner``.

ERP_COLUMNS = (
    "ERP", "its windows", "invoices", "worker processes", "ERP requests (per invoice)",
    "wall time", "share of the window used", "fullest window", "429s", "transfers",
)  # fmt: skip
ERP_PERIOD = (date(2026, 8, 1), date(2026, 8, 31))
EMPLOYEE_INITIALS = ("AH", "MJ", "SL", "EK", "LV")  # the sample company's staff


@dataclass(frozen=True)
class ErpBench:
    """How one ERP is set up for the bench: the sample legal entity and the customer its
    invoices go to (the ones its integration test transfers), its setup values."""

    name: str
    country: str
    currency: str
    customer: str
    windows: str
    work_product: str
    extra_settings: dict[str, Any] = field(default_factory=dict)


ERPS = {
    "fortnox": ErpBench("fortnox", "SE", "SEK", "1002", "25 per 5 s sliding", "WORK"),
    "exact": ErpBench(
        "exact",
        "DK",
        "DKK",
        "1003",
        "60 per minute + 5,000 per day, fixed",
        "WORK-DEV",
        # Exact's code of reverse-charge sales within the EU (the customer is Dutch).
        extra_settings={"vat_codes": {"eu_reverse_charge": "4"}},
    ),
}


class Recorder:
    """ASGI wrapper: the arrival time, path and status of every API request (not the OAuth
    server's, not the admin routes')."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests: list[tuple[float, str, str, int]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or "oauth" in scope["path"] or "_emulator" in scope["path"]:
            await self.app(scope, receive, send)
            return
        arrived, status = time.time(), [0]

        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        await self.app(scope, receive, sending)
        self.requests.append((arrived, scope["method"], scope["path"], status[0]))


@contextmanager
def erp_emulator(erp: str, projects: list[str]) -> Iterator[tuple[str, Recorder]]:
    """The ERP's emulator with its real limits, behind a :class:`Recorder`, on loopback."""
    emulator: Any
    if erp == "fortnox":
        emulator = FortnoxEmulator(client_id="bench-fortnox", client_secret="bench-secret")
    else:
        emulator = ExactEmulator(client_id="bench-exact", client_secret="bench-secret")
        division = emulator.state.divisions[MAIN]
        division.settings.today = ERP_PERIOD[1].isoformat()
        with emulator.state.change():  # what the ERP user does by hand: a cost centre a project
            for number in projects:
                rules.create(
                    division, RESOURCES[rules.COSTCENTERS], {"Code": number, "Description": number}
                )
    recorder = Recorder(emulator.app)
    with running(recorder) as base_url:
        yield base_url, recorder


def erp_values(erp: str, base_url: str) -> dict[str, str]:
    """The setup values ``ledgerlink connect <erp>`` would be given for the emulator."""
    if erp == "fortnox":
        return {"client_id": "bench-fortnox", "client_secret": "bench-secret",
                "base_url": base_url, "auth_url": f"{base_url}/oauth-v1"}  # fmt: skip
    return {"client_id": "bench-exact", "client_secret": "bench-secret", "base_url": base_url,
            "division": str(MAIN)}  # fmt: skip


def project_numbers(invoices: int) -> list[str]:
    """One project per invoice (Exact cost-centre codes are at most 8 characters)."""
    return [f"B-{i:05d}" for i in range(invoices)]


def prepare_erp(url: str, key_file: str, erp: str, base_url: str, invoices: int) -> list[int]:
    """Load the sample company of the ERP's country, post ``invoices`` invoices (a project
    each, two lines, for the ERP's customer), connect with the code flow and import the
    product numbers; returns ``[connection id, invoice ids…]``."""

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    setup = ERPS[erp]
    database = Database(url)
    uow = UnitOfWork(database)
    entity_id = require_id(load_sample_data(uow, country=setup.country, currency=setup.currency)[0])
    numbers = project_numbers(invoices)
    rows: dict[ImportKind, list[dict[str, object]]] = {
        ImportKind.PROJECTS: [
            {
                "number": number,
                "name": f"Bench project {i}",
                "customer_number": setup.customer,
                "manager_initials": EMPLOYEE_INITIALS[i % 5],
                "hourly_rate": "100.00",
            }
            for i, number in enumerate(numbers)
        ],
        ImportKind.REGISTRATIONS: [
            {
                "ref": f"BENCH-{i:05d}-{k}",
                "date": date(2026, 8, 3 + k).isoformat(),
                "employee_initials": EMPLOYEE_INITIALS[(i + k) % 5],
                "project_number": number,
                "minutes": str(60 + 30 * k),
                "task": f"Task {k + 1}",
            }
            for i, number in enumerate(numbers)
            for k in range(2)
        ],
    }
    for kind, kind_rows in rows.items():
        report = import_rows(
            uow, legal_entity_id=entity_id, kind=kind, rows=list(enumerate(kind_rows, 2)),
            source="bench",
        )  # fmt: skip
        assert report.committed, report.errors[:3]
    ids = []
    for number in numbers:
        request = invoicing.DraftRequest(
            legal_entity_id=entity_id, project_number=number, period=ERP_PERIOD,
            invoice_date=ERP_PERIOD[1],
        )  # fmt: skip
        draft = invoicing.draft_invoice(uow, request)
        posted = invoicing.post_invoice(uow, require_id(draft), posting_date=ERP_PERIOD[1])
        ids.append(require_id(posted))
    secrets = SecretBox.from_key_file(Path(key_file), create=True)
    engine = Engine(
        database, ConnectorProvider(secrets, environment=hub_environment(database, secrets))
    )
    connection, _ = connections.connect_with_oauth(
        engine, secrets, spec_for(erp), erp_values(erp, base_url), legal_entity_id=entity_id,
        show_url=approve_in_browser, timeout=30, extra_settings=setup.extra_settings,
    )  # fmt: skip
    connection_id = require_id(connection)
    connections.import_products(engine, connection_id)
    work = setup.work_product  # an article or item the emulator's seed has
    connections.configure(
        engine, connection_id,
        principles=ProductNumberPrinciples(by_kind={LineKind.WORK: work}, default=work),
    )  # fmt: skip
    engine.connectors.close()
    database.dispose()
    return [connection_id, *ids]


def transfer_worker(args: argparse.Namespace) -> None:
    """One worker process: the engine as ``ledgerlink worker`` builds it, its share of the
    transfers through ``transfer_documents`` + ``DirectRunner``; prints one JSON line."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    database = Database(args.database_url)
    secrets = SecretBox.from_key_file(Path(args.key_file))
    # As the CLI builds it: the database-shared limiter (the longest wait it sleeps in a
    # worker is ``--max-sleep``, the product's 5 s by default) and the token store.
    limiter = DatabaseLimiter(RateLimitStore(database), max_sleep=args.max_sleep)
    environment = hub_environment(database, secrets, limiter=limiter)
    engine = Engine(database, ConnectorProvider(secrets, environment=environment))
    ids = [int(i) for i in args.ids.split(",")]
    print("ready", flush=True)
    sys.stdin.readline()
    began = time.time()
    statuses = transfer_documents(engine, DirectRunner(engine), args.connection_id, ids)
    ended = time.time()
    engine.connectors.close()
    database.dispose()
    counts = Counter(status.value for status in statuses.values())
    print(json.dumps({"statuses": dict(counts), "began": began, "ended": ended}), flush=True)


def fixed_windows(arrivals: list[float], seconds: float) -> list[int]:
    """Requests per fixed window (epoch-aligned, as Exact's minute), first to last."""
    if not arrivals:
        return []
    first = int(min(arrivals) // seconds)
    counts = Counter(int(t // seconds) - first for t in arrivals)
    return [counts.get(i, 0) for i in range(max(counts) + 1)]


def run_erp(erp: str, args: argparse.Namespace, log: Callable[[str], None]) -> list[str]:
    """Transfer ``args.invoices`` (Exact: ``args.exact_invoices``) invoices to ``erp``'s
    emulator on PostgreSQL with ``args.processes`` workers; the table row."""
    invoices = args.exact_invoices if erp == "exact" else args.invoices
    with (
        database("postgresql") as url,
        erp_emulator(erp, project_numbers(invoices)) as (base_url, recorder),
        tempfile.TemporaryDirectory(prefix="ledgerlink-bench-rl-") as folder,
    ):
        key_file = str(Path(folder) / "secret.key")
        spawn = multiprocessing.get_context("spawn")
        prepared = time.perf_counter()
        with spawn.Pool(1) as pool:
            connection_id, *ids = pool.apply(prepare_erp, (url, key_file, erp, base_url, invoices))
        took = time.perf_counter() - prepared
        log(f"{erp}: {invoices} invoices posted, connected, products imported in {took:.0f} s")
        setup_requests = len(recorder.requests)
        shares = [ids[i :: args.processes] for i in range(args.processes)]
        command = [sys.executable, str(Path(__file__).resolve()), "--transfer-worker",
                   "--database-url", url, "--key-file", key_file,
                   "--connection-id", str(connection_id),
                   "--max-sleep", str(args.max_sleep)]  # fmt: skip
        workers = [
            subprocess.Popen(
                [*command, "--ids", ",".join(map(str, share))],
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
            out, _ = process.communicate(timeout=600 + 2 * invoices)
            if process.returncode != 0:
                raise RuntimeError(f"a worker failed with exit code {process.returncode}")
            results.append(json.loads(out.strip().splitlines()[-1]))
        everything = list(recorder.requests)
    run = everything[setup_requests:]
    statuses = sum((Counter(r["statuses"]) for r in results), Counter[str]())
    refused = [r for r in run if r[3] == 429]
    admitted = sorted(r[0] for r in run if r[3] != 429)
    span = admitted[-1] - admitted[0]
    routes = Counter(
        f"{m} {re.sub(r'(?<=.)/[A-Z]*[0-9]+(?=/|$)', '/{n}', p)} {s}" for _, m, p, s in run
    )
    log(f"{erp}: routes {dict(routes)}")
    if erp == "fortnox":
        share = (len(admitted) - 1) / span * PERIOD / LIMIT
        fullest = f"{most_in_any_window(admitted)} of 25 in a 5 s window"
        share_text = f"{share:.1%}"
    else:
        # Every window the run used, setup requests in them included (they spend the same
        # budget); the last is the run's remainder and is left out of the share.
        fills = fixed_windows([r[0] for r in everything if r[3] != 429], 60.0)
        first_run_window = len(fills) - len(fixed_windows(admitted, 60.0))
        used = fills[first_run_window:]
        full = used[:-1] or used
        share_text = f"{sum(full) / (60 * len(full)):.1%} ({' + '.join(map(str, used))} per minute)"
        fullest = f"{max(used)} of 60 in a minute"
    log(f"{erp}: statuses {dict(statuses)}; {len(run)} requests, {len(refused)} refused")
    return [
        {"fortnox": "Fortnox", "exact": "Exact Online"}[erp],
        ERPS[erp].windows,
        str(invoices),
        f"{args.processes} (limiter sleeps ≤ {args.max_sleep:g} s)",
        f"{len(admitted)} ({len(admitted) / invoices:.2f})",
        f"{span:.1f} s",
        share_text,
        fullest,
        str(len(refused)),
        ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())),
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


def write_readme(text: str, readme: Path = README, markers: tuple[str, str] = (BEGIN, END)) -> None:
    """Replace what is between ``markers`` in ``readme`` with ``text``."""
    begin, end = markers
    content = readme.read_text(encoding="utf-8")
    head, rest = content.split(begin, 1)
    _, tail = rest.split(end, 1)
    readme.write_text(f"{head}{begin}\n{text}\n{end}{tail}", encoding="utf-8")


def erp_table(rows: list[list[str]]) -> str:
    """A markdown table with the ERP mode's columns."""
    lines = [f"| {' | '.join(ERP_COLUMNS)} |", f"|{'---|' * len(ERP_COLUMNS)}"]
    return "\n".join([*lines, *(f"| {' | '.join(row)} |" for row in rows)])


def erp_rows_in_readme(readme: Path = README) -> list[list[str]]:
    """The ERP mode's rows now in the README (another ERP's row is kept when one is run)."""
    content = readme.read_text(encoding="utf-8")
    begin, end = ERP_MARKERS
    if begin not in content:
        return []
    block = content.split(begin, 1)[1].split(end, 1)[0]
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in block.splitlines()
        if line.startswith("| ") and not line.startswith("| ERP |")
    ]
    return [row for row in rows if len(row) == len(ERP_COLUMNS)]


def erp_block_text(rows: list[list[str]], loads: tuple[float, float]) -> str:
    """What goes between the ERP mode's README markers."""
    today = datetime.now(UTC).date().isoformat()
    command = " ".join([".venv/bin/python", "bench/ratelimit.py", *sys.argv[1:]])
    return (
        f"{erp_table(rows)}\n\n"
        f"Last row measured on {today} on PostgreSQL. Machine: {machine()}; 1-minute load average "
        f"{loads[0]:.2f} at the start, {loads[1]:.2f} at the end (the machine is shared).\n\n"
        f"```sh\n{command}\n```"
    )


def main() -> None:
    """Parse the arguments; run a worker, the limiter benchmark on each database, or the ERP
    mode for each ``--erp``."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="requests (invoices) in all")
    parser.add_argument("--processes", type=int, default=2, help="worker processes")
    parser.add_argument("--threads", type=int, default=2, help="threads per worker process")
    parser.add_argument(
        "--database", action="append", choices=("postgresql", "sqlite"), help="repeat; both"
    )
    parser.add_argument(
        "--erp", action="append", choices=tuple(ERPS),
        help="transfer invoices to this ERP's emulator through the engine (repeat)",
    )  # fmt: skip
    parser.add_argument("--invoices", type=int, default=300, help="--erp: invoices (Fortnox)")
    parser.add_argument(
        "--exact-invoices", type=int, default=300, help="--erp exact: invoices (60 a minute)"
    )
    parser.add_argument(
        "--max-sleep", type=float, default=DEFAULT_MAX_SLEEP,
        help="--erp: the longest wait the workers' limiter sleeps (longer: the transfer defers)",
    )  # fmt: skip
    parser.add_argument("--write-readme", action="store_true", help="update bench/README.md")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--transfer-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--key-file", help=argparse.SUPPRESS)
    parser.add_argument("--connection-id", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--ids", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    if args.transfer_worker:
        transfer_worker(args)
        return
    load = os.getloadavg()[0]
    rows = []

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    if args.erp:
        print(erp_table([]), flush=True)
        for erp in args.erp:
            row = run_erp(erp, args, log)
            rows.append(row)
            print(f"| {' | '.join(row)} |", flush=True)
        if args.write_readme:
            kept = [row for row in erp_rows_in_readme() if row[0] not in {r[0] for r in rows}]
            merged = sorted([*kept, *rows], key=lambda row: row[0])
            write_readme(erp_block_text(merged, (load, os.getloadavg()[0])), markers=ERP_MARKERS)
            print(f"\nwrote {README}")
        return
    print(table([]), flush=True)
    for kind in args.database or ["postgresql", "sqlite"]:
        row = run(kind, args, log)
        rows.append(row)
        print(f"| {' | '.join(row)} |", flush=True)
    loads = (load, os.getloadavg()[0])
    if args.write_readme:
        write_readme(block_text(rows, loads))
        print(f"\nwrote {README}")


if __name__ == "__main__":
    main()
