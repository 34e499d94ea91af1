"""Benchmark: scale-out — 20 connections × 30 invoices on PostgreSQL, run by 1, 2 and 4
``ledgerlink worker`` processes against e-conomic emulators that answer after 150 ms.

Not a test: run it by hand (see bench/README.md). For each worker count, from scratch:

1. Two fresh PostgreSQL schemas: the app's tables, and DBOS's (``LEDGERLINK_SYSTEM_DATABASE_
   SCHEMA``); both dropped at the end.
2. An emulator process serving one :class:`EconomicEmulator` per connection (one e-conomic
   agreement each, with its own grant token) on its own loopback port, each behind the kit's
   :class:`RateLimitMiddleware` counting per ``X-AgreementGrantToken`` (default: e-conomic's
   documented fair use, 50 000 calls per 24 h) and a tap that records when every request
   arrived and how it was answered.
3. The data, built in a child process with the PSA use-cases: 20 legal entities, each with
   3 customers, 3 employees, one project and one posted invoice per invoice wanted; each
   legal entity connected (``connections.connect``, automatic transfer on) to its agreement,
   product numbers imported. Every invoice's transfer is started and queued as posting does
   (``Submitter``), so the workers find a full queue.
4. The latency switched on (the fault injector's ``slow_seconds`` on every API path), then N
   ``ledgerlink worker --until-idle`` processes started at once, with
   ``LEDGERLINK_DATABASE_URL``, ``LEDGERLINK_SYSTEM_DATABASE_URL`` and
   ``LEDGERLINK_SYSTEM_DATABASE_SCHEMA`` on the PostgreSQL server. A sampler in this process
   reads the CPU time of the workers, of the emulator process, of the PostgreSQL backends
   serving this run (found by ``application_name``) and of the whole machine every 0.2 s.
5. Checks: every invoice exactly once in its agreement (the drafts' ``references.other``
   against the correlation references), every transfer successful, the most requests any
   connection had admitted in any window, the 429s.

    .venv/bin/python bench/scale.py [--workers 1 2 4] [--connections 20] [--invoices 30]
        [--latency 0.15] [--window 50000/86400] [--no-automatic] [--write-readme]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing
import os
import platform
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib.metadata import version
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

import structlog
import uvicorn
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine as SqlEngine
from sqlalchemy.engine import make_url

from ledgerlink.domain.billing import Grouping
from ledgerlink.domain.entity import require_id
from ledgerlink.domain.invoices import LineKind
from ledgerlink.domain.parties import LegalEntity
from ledgerlink.domain.transfers import ProductNumberPrinciples, Transfer, correlation_reference
from ledgerlink.emulators._kit.ratelimit import (
    LimitWindow,
    RateLimitMiddleware,
    RateLimits,
    header_token,
)
from ledgerlink.emulators.economic import EconomicEmulator
from ledgerlink.psa import invoicing
from ledgerlink.psa.importing import ImportKind, import_rows
from ledgerlink.psa.setup import create_legal_entity
from ledgerlink.store.database import Database
from ledgerlink.store.uow import UnitOfWork
from ledgerlink.sync import connections
from ledgerlink.sync.engine import Engine
from ledgerlink.sync.registry import ConnectorProvider
from ledgerlink.sync.secrets import SecretBox
from ledgerlink.sync.workflows import ROUND_STREAMS, Submitter, WorkerOptions, Workers

BENCH = Path(__file__).resolve().parent
README = BENCH / "README.md"
BEGIN, END = "<!-- bench:scale:begin -->", "<!-- bench:scale:end -->"
COLD = ("<!-- bench:scale-cold:begin -->", "<!-- bench:scale-cold:end -->")
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
APP = "scale-app-secret"
PERIOD = (date(2026, 9, 1), date(2026, 9, 30))
CUSTOMERS, EMPLOYEES = 3, ("AH", "MJ", "SL")
TOKEN_HEADER = "X-AgreementGrantToken"
SAMPLE_EVERY = 0.2
IDLE_SECONDS = 3.0
VERSIONS = ("dbos", "sqlalchemy", "psycopg", "httpx2", "uvicorn", "fastapi")
COLUMNS = (
    "workers", "connections × invoices", "invoices/s", "vs 1 worker", "transfer span",
    "workflow runs (invoices each)", "run p50 / p95", "HTTP req/invoice", "exactly once in the ERP",
    "transfers run twice", "most requests per connection in 1 s / 5 s / window", "429s",
    "load",
)  # fmt: skip
CPU_COLUMNS = (
    "workers", "workers' CPU/invoice", "PostgreSQL CPU/invoice (backends + server)",
    "emulator CPU/invoice", "bench process CPU/invoice", "machine busy (of 2 cores)",
    "others' CPU/invoice", "idle workers' CPU (polling)", "DB connections (peak)",
)  # fmt: skip


def grant_token(index: int) -> str:
    """The agreement grant token of connection ``index`` (its e-conomic agreement)."""
    return f"scale-grant-{index:02d}"


def parse_window(value: str) -> tuple[int, float]:
    """``"25/5"`` → 25 calls per 5 seconds."""
    calls, _, seconds = value.partition("/")
    window = int(calls), float(seconds)
    if window[0] < 1 or window[1] <= 0:
        raise ValueError(f"a window is CALLS/SECONDS with both positive, not {value!r}")
    return window


def quiet_logs() -> None:
    """Warnings and up, to stderr (the CLI's default)."""
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=lambda *_: structlog.PrintLogger(sys.stderr),
    )


# the emulators (their own process) ------------------------------------------------------------
class Tap:
    """ASGI wrapper: when each API request arrived and which status it got (admin aside)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.arrivals: list[tuple[float, int]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_emulator"):
            await self.app(scope, receive, send)
            return
        arrived, status = time.time(), 0

        async def tapped(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, tapped)
        finally:
            self.arrivals.append((arrived, status))


def serve_emulators(count: int, window: tuple[int, float], pipe: Pipe) -> None:
    """The emulator process: ``count`` e-conomic agreements on as many ports, one event loop.

    Commands on ``pipe``: ``("go", latency)`` switches the latency on and forgets what setup
    sent; ``("report",)`` answers what each agreement saw since; ``("stop",)`` ends.
    """
    emulators = [
        EconomicEmulator(
            app_secret_token=APP,
            agreement_grant_token=grant_token(i),
            agreement_number=1_000_001 + i,
        )
        for i in range(count)
    ]
    limits = [RateLimits([LimitWindow(window[0], window[1])]) for _ in emulators]
    taps = [
        Tap(RateLimitMiddleware(e.app, limits=lim, token=header_token(TOKEN_HEADER)))
        for e, lim in zip(emulators, limits, strict=True)
    ]
    servers = [
        uvicorn.Server(
            uvicorn.Config(
                tap,
                host="127.0.0.1",
                port=0,
                log_config=None,
                log_level="warning",
                lifespan="off",
                access_log=False,
            )
        )
        for tap in taps
    ]

    async def serve() -> None:
        await asyncio.gather(*(server.serve() for server in servers))

    loop = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    loop.start()
    deadline = time.monotonic() + 30
    while not all(server.started for server in servers):
        if time.monotonic() > deadline or not loop.is_alive():
            pipe.send(RuntimeError("the emulators did not start"))
            return
        time.sleep(0.02)
    pipe.send([server.servers[0].sockets[0].getsockname()[1] for server in servers])
    cpu_start = 0.0
    while True:
        command = pipe.recv()
        if command[0] == "go":
            for emulator, lim, tap in zip(emulators, limits, taps, strict=True):
                emulator.faults.set("", slow_seconds=command[1])
                emulator.journal.clear()
                lim.reset_counts()
                tap.arrivals.clear()
            cpu_start = _own_cpu()
            pipe.send("ok")
        elif command[0] == "report":
            pipe.send(
                {
                    "cpu": _own_cpu() - cpu_start,
                    "agreements": [
                        _agreement_report(emulator, lim, tap)
                        for emulator, lim, tap in zip(emulators, limits, taps, strict=True)
                    ],
                }
            )
        else:
            for server in servers:
                server.should_exit = True
            loop.join(timeout=10)
            pipe.send("stopped")
            return


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _agreement_report(emulator: Any, limits: Any, tap: Tap) -> dict[str, Any]:
    with emulator.state.lock:
        drafts = list(emulator.state.main.table("drafts").values())
    routes = Counter(route(entry.method, entry.path) for entry in emulator.journal.entries)
    return {
        "arrivals": list(tap.arrivals),
        "refused": limits.refused,
        "routes": dict(routes),
        "references": [d.get("references", {}).get("other", "") for d in drafts],
    }


def route(method: str, path: str) -> str:
    """``GET /customers/{n}``-style name of a request."""
    parts = ["{n}" if any(c.isdigit() for c in part) else part for part in path.split("/")]
    return f"{method} {'/'.join(parts)}"


class Emulators:
    """The emulator process, seen from here."""

    def __init__(self, count: int, window: tuple[int, float]) -> None:
        spawn = multiprocessing.get_context("spawn")
        self._pipe, child = spawn.Pipe()
        self.process = spawn.Process(target=serve_emulators, args=(count, window, child))
        self.process.start()
        answer = self._pipe.recv()
        if isinstance(answer, Exception):
            raise answer
        self.ports: list[int] = answer

    @property
    def pid(self) -> int:
        assert self.process.pid is not None
        return self.process.pid

    def ask(self, *command: Any) -> Any:
        self._pipe.send(command)
        return self._pipe.recv()

    def stop(self) -> None:
        if self.process.is_alive():
            with suppress(OSError, EOFError):
                self.ask("stop")
            self.process.join(timeout=10)
            if self.process.is_alive():
                self.process.terminate()
                self.process.join()


# the data (built in a child process) ----------------------------------------------------------
@dataclass(frozen=True)
class Setup:
    """Where and what to build (handed to the child process that builds it)."""

    app_url: str
    system_url: str
    system_schema: str
    key_file: str
    ports: list[int]
    invoices: int
    lines: int
    automatic: bool
    queue: bool  # start and queue the transfers here (cold start), or leave them (warm workers)


def entity_rows(code: str, invoices: int, lines: int) -> dict[ImportKind, list[dict[str, object]]]:
    """A legal entity's customers, employees, one project per invoice and its registrations."""
    customers = [f"{100 + k}" for k in range(CUSTOMERS)]
    return {
        ImportKind.CUSTOMERS: [
            {"number": n, "name": f"{code} Kunde {n} ApS", "country": "DK", "currency": "DKK"}
            for n in customers
        ],
        ImportKind.EMPLOYEES: [
            {"initials": i, "name": f"{code} Medarbejder {i}"} for i in EMPLOYEES
        ],
        ImportKind.PROJECTS: [
            {
                "number": f"S-{i:04d}",
                "name": f"{code} project {i}",
                "customer_number": customers[i % CUSTOMERS],
                "manager_initials": EMPLOYEES[i % len(EMPLOYEES)],
                "hourly_rate": f"{900 + i % 7 * 50}.00",
            }
            for i in range(invoices)
        ],
        ImportKind.REGISTRATIONS: [
            {
                "ref": f"{code}-{i:04d}-{k}",
                "date": date(2026, 9, 1 + k % 28).isoformat(),
                "employee_initials": EMPLOYEES[k % len(EMPLOYEES)],
                "project_number": f"S-{i:04d}",
                "minutes": str(30 + (i * 37 + k * 53) % 450),
                "task": f"Task {k + 1}",
            }
            for i in range(invoices)
            for k in range(lines)
        ],
    }


def prepare(setup: Setup) -> tuple[list[dict[str, Any]], list[tuple[int, int]]]:
    """Migrate; per port one legal entity with its data, posted invoices and a connection;
    with ``setup.queue`` start every transfer and queue it for the workers. Returns per
    connection its id, token and the correlation references of its invoices, and the
    (connection, invoice) pairs whose transfers are still to start."""
    quiet_logs()
    database = Database(setup.app_url)
    database.migrate()
    uow = UnitOfWork(database)
    secrets = SecretBox.from_key_file(Path(setup.key_file), create=True)
    engine = Engine(database, ConnectorProvider(secrets))
    principles = ProductNumberPrinciples(by_kind={LineKind.WORK: "WORK-DEV"}, default="EXP")
    made, transfers, waiting = [], [], []
    for index, port in enumerate(setup.ports):
        code = f"LE{index + 1:02d}"
        entity = create_legal_entity(
            uow, LegalEntity(code=code, name=f"Scale {code} ApS", country="DK", currency="DKK")
        )
        entity_id = require_id(entity)
        rows = entity_rows(code, setup.invoices, setup.lines)
        for kind, kind_rows in rows.items():
            report = import_rows(
                uow, legal_entity_id=entity_id, kind=kind, rows=list(enumerate(kind_rows, 2)),
                source="bench",
            )  # fmt: skip
            assert report.committed, report.errors[:3]
        posted = []
        for i in range(setup.invoices):
            request = invoicing.DraftRequest(
                legal_entity_id=entity_id, project_number=f"S-{i:04d}", period=PERIOD,
                invoice_date=PERIOD[1], grouping=Grouping.TASK,
            )  # fmt: skip
            draft = invoicing.draft_invoice(uow, request)
            posted.append(invoicing.post_invoice(uow, require_id(draft), posting_date=PERIOD[1]))
        connection, _ = connections.connect(
            engine, secrets, legal_entity_id=entity_id, erp="economic",
            credentials={"app_secret_token": APP, "agreement_grant_token": grant_token(index)},
            settings={"base_url": f"http://127.0.0.1:{port}"},
            automatic_transfer=setup.automatic,
        )  # fmt: skip
        connection_id = require_id(connection)
        connections.import_products(engine, connection_id)
        connections.configure(engine, connection_id, principles=principles)
        waiting += [(connection_id, require_id(invoice)) for invoice in posted]
        made.append(
            {
                "id": connection_id,
                "token": grant_token(index),
                "correlations": [correlation_reference(code, invoice) for invoice in posted],
            }
        )
    engine.connectors.close()
    # DBOS makes its tables when it first launches; the submitter needs them to queue.
    options = WorkerOptions(setup.system_url, setup.system_schema)
    workers = Workers(engine, options)
    workers.start()
    workers.stop()
    if not setup.queue:
        database.dispose()
        return made, waiting
    transfers = [engine.start_transfer(c, i) for c, i in waiting]
    database.dispose()
    queued = Submitter(options).submit(transfers)
    assert queued == len(transfers), f"only {queued} of {len(transfers)} transfers queued"
    return made, []


@contextmanager
def schemas(url: str) -> Iterator[tuple[str, str, str, str]]:
    """(app URL, system database URL, DBOS schema, the run's application_name): a fresh app
    schema and a DBOS schema name on the server at ``url``; both dropped at the end."""
    tag = f"scale_{uuid.uuid4().hex[:10]}"
    base = make_url(url).set(drivername="postgresql+psycopg")
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{tag}"'))
    app = base.update_query_dict({"options": f"-csearch_path={tag}", "application_name": tag})
    system = base.update_query_dict({"application_name": tag})
    try:
        yield (
            app.render_as_string(hide_password=False),
            system.render_as_string(hide_password=False),
            f"{tag}_dbos",
            tag,
        )
    finally:
        with admin.begin() as connection:
            for name in (tag, f"{tag}_dbos"):
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        admin.dispose()


# CPU sampling ---------------------------------------------------------------------------------
TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float | None:
    """User + system CPU seconds of a live process (``None`` once it is gone)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy since boot (all cores)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / TICK


@dataclass
class Samples:
    """CPU seconds by group (``workers``, ``postgres``, ``emulator``, ``machine``) over time;
    a process that ended keeps its last value, so the groups only grow."""

    times: list[float] = field(default_factory=list)
    values: list[dict[str, float]] = field(default_factory=list)
    peak_connections: int = 0

    def add(self, at: float, value: dict[str, float]) -> None:
        self.times.append(at)
        self.values.append(value)

    def between(self, start: float, end: float) -> dict[str, float]:
        """CPU seconds each group used from ``start`` to ``end`` (nearest samples before)."""
        return cpu_between(self.times, self.values, start, end)


def cpu_between(
    times: Sequence[float], values: Sequence[Mapping[str, float]], start: float, end: float
) -> dict[str, float]:
    """The growth of each group from the last sample at or before ``start`` (or the first
    sample) to the last at or before ``end``, and the ``seconds`` between those samples
    (pure)."""
    if not times:
        return {}
    first_at = max(bisect_right(times, start) - 1, 0)
    last_at = max(bisect_right(times, end) - 1, 0)
    first, last = values[first_at], values[last_at]
    grown = {key: last[key] - first.get(key, 0.0) for key in last}
    return {**grown, "seconds": times[last_at] - times[first_at]}


class Sampler:
    """Reads the CPU time of the workers, the emulator process, this run's PostgreSQL
    backends and the machine every ``SAMPLE_EVERY`` seconds, in a thread."""

    def __init__(self, admin: SqlEngine, tag: str, emulator_pid: int) -> None:
        self.admin, self.tag, self.emulator_pid = admin, tag, emulator_pid
        self.workers: list[int] = []
        self.samples = Samples()
        self._last: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY):
            self._sample()

    def _sample(self) -> None:
        with self.admin.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT pid, application_name = :tag, backend_type = 'client backend' "
                    "FROM pg_stat_activity WHERE pid IS NOT NULL"
                ),
                {"tag": self.tag},
            ).all()
        backends = [pid for pid, ours, _ in rows if ours]
        server = [pid for pid, _, client in rows if not client]  # WAL writer, checkpointer, …
        self.samples.peak_connections = max(self.samples.peak_connections, len(backends))
        groups = (("workers", self.workers), ("postgres", backends), ("pgserver", server))
        for kind, pids in groups:
            for pid in pids:
                cpu = process_cpu(pid)
                if cpu is not None:
                    self._last[f"{kind}:{pid}"] = cpu
        value = {"workers": 0.0, "postgres": 0.0, "pgserver": 0.0}
        for key, cpu in self._last.items():
            value[key.split(":")[0]] += cpu
        value["emulator"] = process_cpu(self.emulator_pid) or 0.0
        value["bench"] = process_cpu(os.getpid()) or 0.0
        value["machine"] = machine_busy()
        self.samples.add(time.time(), value)


# one run ----------------------------------------------------------------------------------------
@dataclass
class Run:
    """What one worker count measured."""

    workers: int
    connections: int
    invoices: int  # per connection
    window: tuple[int, float]
    wall: float  # workers started → the last one exited
    span: tuple[float, float]  # first transfer workflow started → last one finished (epoch s)
    #: per transfer workflow that ran (not folded into another): started → finished
    runs: list[float]
    workflows: Counter[str]  # DBOS status of the transfer workflows
    statuses: Counter[str]  # the transfers' status in the app database
    routes: Counter[str]
    exactly_once: int
    duplicates: int
    missing: int
    run_twice: int  # transfers whose invoice step was started more than once
    dispatched_twice: int  # transfer workflows DBOS dispatched more than once
    most: tuple[int, int, int]  # most requests one connection had admitted in 1 s, 5 s, window
    refused: int
    cpu: dict[str, float]  # CPU seconds in the span, by group
    emulator_cpu: float  # the emulator process, whole run
    peak_connections: int
    loads: tuple[float, float]
    exit_codes: list[int]
    problems: Counter[str] = field(default_factory=Counter)
    idle_cpu: float | None = None  # warm workers and their backends, idle: cores busy

    @property
    def total(self) -> int:
        return self.connections * self.invoices

    @property
    def rate(self) -> float:
        return self.total / (self.span[1] - self.span[0])

    def row(self, base_rate: float) -> list[str]:
        """The README/stdout row of the main table."""
        requests = sum(self.routes.values())
        window = f"{self.window[0]}/{_seconds(self.window[1])}"
        return [
            str(self.workers),
            f"{self.connections} × {self.invoices}",
            f"{self.rate:.1f}",
            f"{self.rate / base_rate:.2f}×",
            f"{self.span[1] - self.span[0]:.1f} s",
            f"{len(self.runs)} ({self.total / len(self.runs):.1f})",
            f"{percentile(self.runs, 50) * 1000:.0f} ms / "
            f"{percentile(self.runs, 95) * 1000:.0f} ms",
            f"{requests / self.total:.2f}",
            f"{self.exactly_once} of {self.total}"
            + (f" ({self.duplicates} duplicated, {self.missing} missing)" if self.duplicates
               or self.missing else ""),
            f"{self.dispatched_twice} dispatched, {self.run_twice} invoice steps",
            f"{self.most[0]} / {self.most[1]} / {self.most[2]} (limit {window})",
            str(self.refused),
            f"{self.loads[0]:.1f} → {self.loads[1]:.1f}",
        ]  # fmt: skip

    def cpu_row(self) -> list[str]:
        """The row of the where-the-time-goes table (CPU during the transfer span)."""
        seconds = self.span[1] - self.span[0]
        cpu, n = self.cpu, self.total
        known = ("workers", "postgres", "pgserver", "emulator", "bench")
        others = max(cpu.get("machine", 0) - sum(cpu.get(k, 0) for k in known), 0.0)
        cores = os.cpu_count() or 1
        idle = f"{self.idle_cpu * 100:.0f} % of a core" if self.idle_cpu is not None else "–"
        return [
            str(self.workers),
            _per(cpu.get("workers", 0), n),
            f"{_per(cpu.get('postgres', 0), n)} + {_per(cpu.get('pgserver', 0), n)}",
            _per(cpu.get("emulator", 0), n),
            _per(cpu.get("bench", 0), n),
            f"{cpu.get('machine', 0) / seconds / cores * 100:.0f} %",
            _per(others, n),
            idle,
            str(self.peak_connections),
        ]


def _per(seconds: float, count: int) -> str:
    return f"{seconds / count * 1000:.0f} ms"


def _seconds(value: float) -> str:
    return f"{value:g} s"


def percentile(values: Sequence[float], percent: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(percent / 100 * len(ordered)) - 1))
    return ordered[index]


def most_in_any_window(arrivals: Sequence[float], seconds: float) -> int:
    """The most arrivals in any half-open window ``[t, t + seconds)`` (pure)."""
    ordered = sorted(arrivals)
    most, first = 0, 0
    for last, at in enumerate(ordered):
        while ordered[first] <= at - seconds:
            first += 1
        most = max(most, last - first + 1)
    return most


def exactly_once(expected: Sequence[str], found: Sequence[str]) -> tuple[int, int, int]:
    """(references found exactly once, extra copies of expected ones, expected ones missing);
    a reference nobody expected counts as a duplicate (pure)."""
    counts = Counter(found)
    once = sum(counts[ref] == 1 for ref in expected)
    missing = sum(counts[ref] == 0 for ref in expected)
    wanted = set(expected)
    duplicates = sum(n - 1 for ref, n in counts.items() if ref in wanted and n > 1)
    duplicates += sum(n for ref, n in counts.items() if ref not in wanted)
    return once, duplicates, missing


def worker_environment(workdir: Path, setup: Setup) -> dict[str, str]:
    """The environment of a ``ledgerlink worker`` in this benchmark."""
    return {
        **os.environ,
        "LEDGERLINK_DATA_DIR": str(workdir),
        "LEDGERLINK_KEY_FILE": setup.key_file,
        "LEDGERLINK_DATABASE_URL": setup.app_url,
        "LEDGERLINK_SYSTEM_DATABASE_URL": setup.system_url,
        "LEDGERLINK_SYSTEM_DATABASE_SCHEMA": setup.system_schema,
    }


def start_workers(
    count: int,
    environment: dict[str, str],
    workdir: Path,
    *,
    until_idle: bool = True,
) -> list[subprocess.Popen[bytes]]:
    """``count`` real ``ledgerlink worker`` processes (``--until-idle``, or running until
    stopped with rounds 10 minutes apart), logging to files; each is its own DBOS executor
    (the product gives every worker its own id)."""
    command = [str(Path(sys.executable).with_name("ledgerlink")), "worker"]
    command += ["--until-idle"] if until_idle else ["--interval", "600"]
    processes = []
    for n in range(count):
        env = environment
        log = (workdir / f"worker-{n + 1}.log").open("wb")
        processes.append(subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT))
        log.close()
    return processes


def wait_for(processes: list[subprocess.Popen[bytes]], timeout: float) -> list[int]:
    """Wait for every worker (killing the ones still running after ``timeout``); their exit
    codes."""
    deadline = time.monotonic() + timeout
    codes = []
    for process in processes:
        try:
            codes.append(process.wait(timeout=max(deadline - time.monotonic(), 0.1)))
        except subprocess.TimeoutExpired:
            process.kill()
            codes.append(process.wait())
    return codes


@dataclass
class Observed:
    """What a run leaves behind, read after the workers are gone."""

    wall: float
    codes: list[int]
    loads: tuple[float, float]
    report: dict[str, Any]  # the emulator process's
    flows: list[tuple[str, int | None, int]]  # transfer workflows: status, started, updated (ms)
    statuses: dict[str, int]
    run_twice: int
    dispatched_twice: int = 0
    problems: Counter[str] = field(default_factory=Counter)  # unsuccessful transfers' messages
    idle_cpu: float | None = None


def measure(args: argparse.Namespace, workers: int) -> Run:
    """One worker count, from fresh schemas and fresh emulators."""
    window = parse_window(args.window)
    with (
        tempfile.TemporaryDirectory(prefix="ledgerlink-scale-") as folder,
        schemas(args.database_url) as (app_url, system_url, system_schema, tag),
    ):
        workdir = Path(folder)
        emulators = Emulators(args.connections, window)
        admin = create_engine(make_url(args.database_url).set(drivername="postgresql+psycopg"))
        try:
            print(f"  {workers} worker(s): building the data …", flush=True)
            setup = Setup(
                app_url, system_url, system_schema, str(workdir / "secret.key"),
                emulators.ports, args.invoices, args.lines,
                automatic=args.automatic and not args.warm, queue=not args.warm,
            )  # fmt: skip
            with multiprocessing.get_context("spawn").Pool(1) as pool:
                made, waiting = pool.apply(prepare, (setup,))
            emulators.ask("go", args.latency)
            print(f"  {workers} worker(s): transferring …", flush=True)
            fleet = Fleet(
                workers, worker_environment(workdir, setup), workdir,
                timeout=args.timeout,
            )  # fmt: skip
            with Sampler(admin, tag, emulators.pid) as sampler:
                if args.warm:
                    queue = Queue(admin, system_schema, WorkerOptions(system_url, system_schema))
                    post = Posting(setup, waiting)
                    observed = fleet.warm(
                        sampler, queue, post, pulls=len(ROUND_STREAMS) * args.connections
                    )
                else:
                    observed = fleet.cold(sampler)
            observed.report = emulators.ask("report")
            read_results(admin, tag, system_schema, observed)
        finally:
            emulators.stop()
            admin.dispose()
    return summarise(
        args, workers, window=window, made=made, observed=observed, samples=sampler.samples
    )


@dataclass
class Queue:
    """The run's DBOS tables, read directly, and how to put transfers on its queue."""

    admin: SqlEngine
    schema: str
    options: WorkerOptions

    def unfinished(self, name: str) -> tuple[int, int]:
        """(workflows named ``…name``, those not finished yet)."""
        with self.admin.connect() as connection:
            row = connection.execute(
                text(
                    "SELECT count(*), count(*) FILTER (WHERE status NOT IN ('SUCCESS', 'ERROR', "
                    f"'CANCELLED', 'MAX_RECOVERY_ATTEMPTS_EXCEEDED')) FROM \"{self.schema}\"."
                    "workflow_status WHERE name LIKE :name"
                ),
                {"name": f"%{name}"},
            ).one()
        return int(row[0]), int(row[1])


def wait_until(ready: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``ready`` every 0.2 s until it holds, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.2)


@dataclass
class Posting:
    """Starts the transfers of posted invoices in this process (warm runs)."""

    setup: Setup
    waiting: list[tuple[int, int]]

    def start(self) -> list[Transfer]:
        """``Engine.start_transfer`` for every (connection, invoice), as posting does."""
        database = Database(self.setup.app_url)
        secrets = SecretBox.from_key_file(Path(self.setup.key_file))
        engine = Engine(database, ConnectorProvider(secrets))
        try:
            return [engine.start_transfer(c, i) for c, i in self.waiting]
        finally:
            database.dispose()


@dataclass
class Fleet:
    """N ``ledgerlink worker`` processes and how a run uses them."""

    count: int
    environment: dict[str, str]
    workdir: Path
    timeout: float

    def cold(self, sampler: Sampler) -> Observed:
        """Cold start on a full queue: ``--until-idle`` workers started at once, waited for."""
        load_before, started = os.getloadavg()[0], time.time()
        processes = start_workers(self.count, self.environment, self.workdir)
        sampler.workers = [p.pid for p in processes]
        codes = self._finish(processes, wait_for(processes, self.timeout))
        return Observed(
            time.time() - started, codes, (load_before, os.getloadavg()[0]), {}, [], {}, 0
        )

    def warm(self, sampler: Sampler, queue: Queue, post: Posting, *, pulls: int) -> Observed:
        """Warm workers: started (rounds 10 min apart) and waited for until every one has
        run its first round's ``pulls`` pulls; then the transfers are started and queued at
        once from this process (as ``transfers run`` or posting from another process does);
        the workers are stopped with SIGINT (Ctrl-C) when every transfer workflow has
        finished."""
        processes = start_workers(
            self.count, self.environment, self.workdir, until_idle=False
        )  # fmt: skip
        sampler.workers = [p.pid for p in processes]
        try:
            wait_until(
                lambda: queue.unfinished("pull_workflow") == (pulls * self.count, 0),
                120,
                "the workers' first rounds",
            )
            idle_from = time.time()
            time.sleep(IDLE_SECONDS)  # what idle workers cost: polling the queue
            idle = sampler.samples.between(idle_from, time.time())
            idle_cpu = (idle.get("workers", 0) + idle.get("postgres", 0)) / idle["seconds"]
            load_before, started = os.getloadavg()[0], time.time()
            transfers = post.start()
            queued = Submitter(queue.options).submit(transfers)
            assert queued == len(transfers), f"only {queued} of {len(transfers)} queued"

            def all_done() -> bool:
                flows, left = queue.unfinished("transfer_workflow")
                return flows >= len(transfers) and not left

            wait_until(all_done, self.timeout, "the transfers")
            wall = time.time() - started
            loads = (load_before, os.getloadavg()[0])
        finally:
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGINT)
        codes = self._finish(processes, wait_for(processes, 60))
        observed = Observed(wall, codes, loads, {}, [], {}, 0)
        observed.idle_cpu = idle_cpu
        return observed

    def _finish(self, processes: list[subprocess.Popen[bytes]], codes: list[int]) -> list[int]:
        """Kill what still runs; show what a worker logged if it looks wrong."""
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        for n in range(self.count):
            log = (self.workdir / f"worker-{n + 1}.log").read_text(errors="replace")
            if "Traceback" in log or "rror" in log:
                print(f"  worker {n + 1} logged:\n{log[-3000:]}", file=sys.stderr)
        return codes


def read_results(admin: SqlEngine, tag: str, system_schema: str, observed: Observed) -> None:
    """The transfer workflows' DBOS records, the transfers' statuses and the invoice steps
    that were started more than once."""
    with admin.connect() as connection:
        observed.flows = [
            (row[0], row[1], row[2])
            for row in connection.execute(
                text(
                    f'SELECT status, started_at_epoch_ms, updated_at FROM "{system_schema}"'
                    ".workflow_status WHERE name LIKE '%transfer_workflow'"
                )
            )
        ]
        observed.dispatched_twice = sum(
            row[0] > 1
            for row in connection.execute(
                text(
                    f'SELECT recovery_attempts FROM "{system_schema}".workflow_status '
                    "WHERE name LIKE '%transfer_workflow'"
                )
            )
        )
        observed.statuses = {
            row[0]: row[1]
            for row in connection.execute(
                text(f'SELECT status, count(*) FROM "{tag}".transfers GROUP BY status')
            )
        }
        observed.problems = Counter(
            f"{row[0]}: {row[1][:160]}"
            for row in connection.execute(
                text(
                    f"SELECT status, message FROM \"{tag}\".transfers WHERE status != 'successful'"
                )
            )
        )
        observed.run_twice = connection.execute(
            text(
                f'SELECT count(*) FROM "{tag}".transfer_steps '
                "WHERE kind = 'invoice' AND attempts > 1"
            )
        ).scalar_one()


def summarise(
    args: argparse.Namespace,
    workers: int,
    *,
    window: tuple[int, float],
    made: list[dict[str, Any]],
    observed: Observed,
    samples: Samples,
) -> Run:
    """The run's figures and checks from what it left behind."""
    done = [(s / 1000, u / 1000) for _, s, u in observed.flows if s is not None]
    if not done:
        raise RuntimeError("no transfer workflow ran")
    span = (min(s for s, _ in done), max(u for _, u in done))
    by_token = {a["token"]: a for a in made}
    once = duplicates = missing = refused = 0
    most = [0, 0, 0]
    routes: Counter[str] = Counter()
    for index, seen in enumerate(observed.report["agreements"]):
        expected = by_token[grant_token(index)]["correlations"]
        o, d, m = exactly_once(expected, seen["references"])
        once, duplicates, missing = once + o, duplicates + d, missing + m
        admitted = [at for at, status in seen["arrivals"] if status != 429]
        refused += sum(status == 429 for _, status in seen["arrivals"])
        for k, seconds in enumerate((1.0, 5.0, window[1])):
            most[k] = max(most[k], most_in_any_window(admitted, seconds))
        routes.update(seen["routes"])
    return Run(
        workers=workers, connections=args.connections, invoices=args.invoices, window=window,
        wall=observed.wall, span=span, runs=[u - s for s, u in done],
        workflows=Counter(status for status, _, _ in observed.flows),
        statuses=Counter(observed.statuses), routes=routes, exactly_once=once,
        duplicates=duplicates, missing=missing, run_twice=observed.run_twice,
        dispatched_twice=observed.dispatched_twice,
        most=(most[0], most[1], most[2]), refused=refused, cpu=samples.between(*span),
        emulator_cpu=observed.report["cpu"], peak_connections=samples.peak_connections,
        loads=observed.loads, exit_codes=observed.codes, problems=observed.problems,
        idle_cpu=observed.idle_cpu,
    )  # fmt: skip


# output ---------------------------------------------------------------------------------------
def table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A markdown table."""
    lines = [f"| {' | '.join(columns)} |", f"|{'---|' * len(columns)}"]
    return "\n".join([*lines, *(f"| {' | '.join(row)} |" for row in rows)])


def tables(runs: Sequence[Run]) -> str:
    """The two tables of a benchmark run: throughput and checks, and CPU by process."""
    base = runs[0].rate if runs else 1.0
    return (
        f"{table(COLUMNS, [r.row(base) for r in runs])}\n\n"
        "CPU during the transfer span, per invoice:\n\n"
        f"{table(CPU_COLUMNS, [r.cpu_row() for r in runs])}"
    )


def machine() -> str:
    """CPU count and model, memory, PostgreSQL, Python and package versions."""
    cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if "model name" in line),
        platform.processor() or "unknown CPU",
    )
    memory = int(Path("/proc/meminfo").read_text().splitlines()[0].split()[1]) / 1024 / 1024
    packages = ", ".join(f"{name} {version(name)}" for name in VERSIONS)
    return (
        f"{os.cpu_count()} cores ({model}), {memory:.0f} GiB, {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}; {packages}"
    )


def source_state() -> str:
    """The ledgerlink code measured: the repository's commit, and whether ``src/`` had
    uncommitted changes (other people's work in a shared tree)."""
    repo = BENCH.parent

    def git(*arguments: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(repo), *arguments], capture_output=True, text=True, check=False
        )
        return done.stdout.rstrip("\n")

    commit = git("rev-parse", "--short", "HEAD").strip() or "unknown"
    changed = git("status", "--porcelain", "--", "src").splitlines()
    if not changed:
        return f"ledgerlink at {commit}"
    names = ", ".join(line[3:].removeprefix("src/ledgerlink/") for line in changed)
    return f"ledgerlink at {commit} with uncommitted changes in {names}"


def block_text(runs: Sequence[Run], args: argparse.Namespace, server: str, source: str) -> str:
    """What goes between the README markers."""
    today = datetime.now(UTC).date().isoformat()
    command = " ".join([".venv/bin/python", "bench/scale.py", *sys.argv[1:]])
    if args.warm:
        how = (
            "warm workers (running before the transfers were queued, stopped with SIGINT), "
            "connections manual"
        )
    else:
        how = (
            "cold start ('--until-idle' workers started at once on a full queue), connections "
            + ("automatic" if args.automatic else "manual")
        )
    return (
        f"{tables(runs)}\n\n"
        f"Measured on {today}: {args.connections} connections × {args.invoices} invoices × "
        f"{args.lines} lines, {args.latency * 1000:.0f} ms added to every ERP request, {how}; "
        f"PostgreSQL {server} (local); {source}. Machine: {machine()}.\n\n"
        f"```sh\n{command}\n```"
    )


def write_readme(
    block: str, readme: Path = README, markers: tuple[str, str] = (BEGIN, END)
) -> None:
    """Replace what is between this benchmark's markers in the README."""
    begin, end = markers
    text_ = readme.read_text(encoding="utf-8")
    head, rest = text_.split(begin, 1)
    _, tail = rest.split(end, 1)
    readme.write_text(f"{head}{begin}\n{block}\n{end}{tail}", encoding="utf-8")


def main() -> None:
    """Parse the arguments, run each worker count, print the tables (and update the README)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--invoices", type=int, default=30, help="posted invoices per connection")
    parser.add_argument("--lines", type=int, default=5, help="lines per invoice")
    parser.add_argument("--latency", type=float, default=0.15, help="seconds per ERP request")
    parser.add_argument(
        "--window", default="50000/86400",
        help="the per-token window the emulators enforce, CALLS/SECONDS (default: e-conomic's "
        "fair use)",
    )  # fmt: skip
    parser.add_argument(
        "--automatic", action=argparse.BooleanOptionalAction, default=True,
        help="connections with automatic transfer (the workers' rounds look for waiting "
        "documents too)",
    )  # fmt: skip
    parser.add_argument(
        "--warm", action=argparse.BooleanOptionalAction, default=True,
        help="workers already running when the transfers are queued (default), or "
        "--no-warm: '--until-idle' workers started at once on a full queue",
    )  # fmt: skip
    parser.add_argument("--database-url", default=DEFAULT_URL, help="the PostgreSQL server")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per worker count")
    parser.add_argument("--write-readme", action="store_true", help="update bench/README.md")
    args = parser.parse_args()
    parse_window(args.window)
    quiet_logs()
    admin = create_engine(make_url(args.database_url).set(drivername="postgresql+psycopg"))
    with admin.connect() as connection:
        server = str(connection.execute(text("SHOW server_version")).scalar_one())
    admin.dispose()
    source = source_state()  # before the runs: others may commit meanwhile
    runs = []
    for count in args.workers:
        run = measure(args, count)
        runs.append(run)
        print(tables([run]).split("\n\nCPU")[0].splitlines()[-1], flush=True)
        span = "queued → all finished" if args.warm else "workers started → last exited"
        print(
            f"  wall {run.wall:.1f} s ({span}), exit codes "
            f"{run.exit_codes}; workflows {dict(run.workflows)}; transfers "
            f"{dict(run.statuses)}; emulator CPU {run.emulator_cpu:.1f} s",
            flush=True,
        )
        print("  ERP requests by route: " + json.dumps(dict(run.routes.most_common())), flush=True)
        for problem, times in run.problems.most_common(5):
            print(f"  {times} transfer(s) {problem}", flush=True)
    print()
    print(tables(runs))
    if args.write_readme:
        block = block_text(runs, args, server, source)
        write_readme(block, markers=(BEGIN, END) if args.warm else COLD)
    bad = [
        r.workers
        for r in runs
        if r.duplicates
        or r.missing
        or set(r.statuses) != {"successful"}
        or set(r.exit_codes) - {0, 130}  # 130: stopped with SIGINT (warm workers)
    ]
    if bad:
        sys.exit(f"worker counts {bad}: not every invoice went exactly once, or a worker failed")


if __name__ == "__main__":
    main()
