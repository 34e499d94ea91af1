"""Benchmark: N posted invoices through the transfer engine to the e-conomic emulator.

Not a test. Three processes: the e-conomic emulator (``ledgerlink emulate economic`` on
loopback), a short-lived one that builds the data (database, sample company, N posted invoices,
the connection), and this one, which runs the transfers and is the only one measured for RSS.

The default mode is the product's normal path, as ``ledgerlink transfers run``: every transfer
is started, enqueued on the DBOS queue and run by the workers in this process
(``--no-durable``: ``Engine.transfer_now`` one invoice after the other, without DBOS). Then the
ERP requests the engine sent are replayed, in the same order, with a bare ``httpx2`` loop
against a fresh emulator: the baseline.

The engine is built as the CLI builds it (``hub_environment``: the connectors share the
database-backed rate limiter), and the measured run is wrapped in ``Database.count_statements``:
the SQL statements and commits *this process's engine* sends, split into the rate limiter's
(one locked transaction per ERP request) and the rest. DBOS's own statements on its system
database go through DBOS's engine and are not in the count.

    .venv/bin/python bench/transfer.py [--invoices 1000] [--lines 5] [--no-durable]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--write-readme]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import logging
import multiprocessing
import os
import platform
import re
import resource
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx2
import structlog
from dbos import DBOS
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ledgerlink.connectors._kit.limiter import LimiterKey
from ledgerlink.connectors.economic.connector import FAIR_USE
from ledgerlink.domain.billing import Grouping
from ledgerlink.domain.entity import require_id
from ledgerlink.domain.invoices import LineKind
from ledgerlink.domain.transfers import ProductNumberPrinciples, TransferStatus
from ledgerlink.psa import invoicing
from ledgerlink.psa.importing import ImportKind, import_rows
from ledgerlink.psa.sample import load_sample_data
from ledgerlink.store.database import Database, StatementCount, normalise_url
from ledgerlink.store.ratelimits import RateLimitStore
from ledgerlink.store.uow import UnitOfWork
from ledgerlink.sync import connections
from ledgerlink.sync.engine import BATCH, Engine
from ledgerlink.sync.ratelimit import DatabaseLimiter
from ledgerlink.sync.registry import ConnectorProvider, hub_environment
from ledgerlink.sync.secrets import SecretBox
from ledgerlink.sync.transfers import DirectRunner, transfer_documents
from ledgerlink.sync.workflows import WorkerOptions, Workers

APP, GRANT = "bench-app-secret", "bench-grant-token"
HEADERS = {"X-AppSecretToken": APP, "X-AgreementGrantToken": GRANT, "Accept": "application/json"}
PERIOD = (date(2026, 9, 1), date(2026, 9, 30))
EMPLOYEES = ("AH", "MJ", "SL", "EK", "LV")  # the sample company's staff
SAMPLE_CUSTOMERS = ("1001", "1002", "1003")  # DK/DKK, SE/SEK, NL/EUR
PRINCIPLES = ProductNumberPrinciples(by_kind={LineKind.WORK: "WORK-DEV"}, default="EXP")
README = Path(__file__).with_name("README.md")
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
COLUMNS = (
    "mode", "database", "invoices × lines", "invoices/s", "HTTP req/invoice",
    "SQL statements/invoice", "commits/invoice", "CPU/invoice", "latency p50 / p95",
    "run p50 / p95", "peak RSS", "baseline invoices/s", "engine/baseline time", "load",
)  # fmt: skip
VERSIONS = ("dbos", "sqlalchemy", "psycopg", "httpx2", "uvicorn")


@dataclass
class Measured:
    """What one run measured; times in seconds, RSS in MiB (this process's peak)."""

    mode: str
    database: str
    invoices: int
    lines: int
    seconds: float
    latencies: list[float]  # start of the transfer (enqueue) → finished
    runs: list[float]  # a worker took it → finished (= latencies without a queue)
    statuses: Counter[str]
    routes: Counter[str]
    rss_before: float
    rss_peak: float
    sql: SqlSplit = field(default_factory=lambda: SqlSplit(0, 0, 0, 0))
    cpu_seconds: float = 0.0  # this process (engine, DBOS workers) during the run
    loads: tuple[float, float] = (0.0, 0.0)  # 1-minute load average at start and end
    limiter_seconds: float = 0.0  # wall time inside the rate limiter's acquire()
    sql_kinds: Counter[str] = field(default_factory=Counter)
    baseline_seconds: float = 0.0
    baseline_mismatches: int = 0

    def row(self) -> list[str]:
        """The README/stdout table row."""
        requests = sum(self.routes.values())
        n, sql = self.invoices, self.sql
        return [
            self.mode,
            self.database,
            f"{n} × {self.lines}",
            f"{n / self.seconds:.1f}",
            f"{requests / n:.2f}",
            f"{(sql.statements - sql.limiter_statements) / n:.1f} + "
            f"{sql.limiter_statements / n:.1f} limiter",
            f"{(sql.commits - sql.limiter_commits) / n:.1f} + "
            f"{sql.limiter_commits / n:.1f} limiter",
            f"{self.cpu_seconds / n * 1000:.0f} ms",
            f"{_ms(self.latencies, 50)} / {_ms(self.latencies, 95)}",
            f"{_ms(self.runs, 50)} / {_ms(self.runs, 95)}",
            f"{self.rss_peak:.0f} MiB ({self.rss_before:.0f} before the run)",
            f"{n / self.baseline_seconds:.1f}",
            f"{self.seconds / self.baseline_seconds:.1f}×",
            f"{self.loads[0]:.1f} → {self.loads[1]:.1f}",
        ]


@dataclass(frozen=True)
class SqlSplit:
    """Statements and commits of a run, and how many of them were the rate limiter's."""

    statements: int
    commits: int
    limiter_statements: int
    limiter_commits: int

    @classmethod
    def of(cls, count: StatementCount, limiter_calls: int, *, sqlite: bool) -> SqlSplit:
        """Split ``count``: every limiter call is one transaction (one commit) whose statements
        name the ``rate_limits`` table, plus its ``BEGIN IMMEDIATE`` on SQLite."""
        named = sum("rate_limits" in text for text in count.texts)
        return cls(
            count.statements,
            count.commits,
            named + (limiter_calls if sqlite else 0),
            min(limiter_calls, count.commits),
        )


class TimedLimiter:
    """The shared database limiter, counting its calls and the wall time spent in them.

    It spends e-conomic's documented fair-use window only: the connector's burst window (300
    per 10 s, our own numbers for a limit e-conomic announced without any) would pace the run
    at about 20 requests a second and the figures would measure the window, not the engine —
    so the emulator's burst window is opened as wide (see :func:`emulator`)."""

    def __init__(self, inner: DatabaseLimiter) -> None:
        self.inner = inner
        self.calls = 0
        self.seconds = 0.0
        self._lock = threading.Lock()

    def acquire(self, key: LimiterKey) -> None:
        """Reserve a slot through the database (sleeping if the window says so)."""
        began = time.perf_counter()
        try:
            self.inner.acquire(replace(key, windows=(FAIR_USE,)))
        finally:
            with self._lock:
                self.calls += 1
                self.seconds += time.perf_counter() - began

    def defer(self, key: LimiterKey, seconds: float) -> None:
        """Pass the server's pause on (one transaction too)."""
        with self._lock:
            self.calls += 1
        self.inner.defer(key, seconds)


def _ms(values: list[float], percent: int) -> str:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(percent / 100 * len(ordered)) - 1))
    return f"{ordered[index] * 1000:.0f} ms"


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# the emulator ---------------------------------------------------------------------------------
@contextmanager
def emulator() -> Iterator[str]:
    """A fresh e-conomic emulator in its own process on loopback; yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [str(Path(sys.executable).with_name("ledgerlink")), "emulate", "economic"]
    command += ["--port", str(port), "--app-secret-token", APP, "--agreement-grant-token", GRANT]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx2.get(f"{base_url}/_emulator/journal", headers=HEADERS).raise_for_status()
                break
            except httpx2.HTTPError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the emulator did not start") from None
                time.sleep(0.1)
        settings = f"{base_url}/_emulator/settings"
        httpx2.put(
            settings, headers=HEADERS, json={"burstLimit": 1_000_000, "dailyLimit": 1_000_000}
        ).raise_for_status()
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=10)


def journal(base_url: str) -> list[dict[str, Any]]:
    """The emulator's request journal, oldest first."""
    response = httpx2.get(f"{base_url}/_emulator/journal", headers=HEADERS, timeout=60)
    entries: list[dict[str, Any]] = response.raise_for_status().json()["entries"]
    return entries


def route(entry: dict[str, Any]) -> str:
    """``GET /invoices/drafts/{n}``-style name of a journal entry."""
    return (
        f"{entry['method']} {re.sub(r'/[0-9A-Z-]*[0-9][0-9A-Z-]*(?=/|$)', '/{n}', entry['path'])}"
    )


def quiet_logs() -> None:
    """Log as the CLI does without ``--verbose``: warnings and up, to stderr."""
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=lambda *_: structlog.PrintLogger(sys.stderr),
    )


# the data (built in a child process, so it does not count against this one's RSS) --------------
def prepare(url: str, key_file: str, base_url: str, invoices: int, lines: int) -> list[int]:
    """Migrate, load the sample company, post the invoices, connect; returns
    ``[connection id, invoice ids…]``."""
    quiet_logs()
    database = Database(url)
    database.migrate()
    uow = UnitOfWork(database)
    entity_id = require_id(load_sample_data(uow)[0])
    extra = [f"{2000 + n}" for n in range(1, 8)]  # 10 customers in all
    rows: dict[ImportKind, list[dict[str, object]]] = {
        ImportKind.CUSTOMERS: [
            {"number": n, "name": f"Bench Kunde {n} ApS", "country": "DK", "currency": "DKK"}
            for n in extra
        ],
        ImportKind.PROJECTS: [
            {
                "number": f"B-{i:05d}",
                "name": f"Bench project {i}",
                "customer_number": (*SAMPLE_CUSTOMERS, *extra)[i % 10],
                "manager_initials": EMPLOYEES[i % len(EMPLOYEES)],
                "hourly_rate": f"{900 + i % 7 * 50}.00",
            }
            for i in range(invoices)
        ],
        ImportKind.REGISTRATIONS: [
            {
                "ref": f"BENCH-{i:05d}-{k}",
                "date": date(2026, 9, 1 + k % 28).isoformat(),
                "employee_initials": EMPLOYEES[k % len(EMPLOYEES)],
                "project_number": f"B-{i:05d}",
                "minutes": str(30 + (i * 37 + k * 53) % 450),
                "task": f"Task {k + 1}",  # one line per task
            }
            for i in range(invoices)
            for k in range(lines)
        ],
    }
    for kind, kind_rows in rows.items():
        report = import_rows(
            uow, legal_entity_id=entity_id, kind=kind, rows=list(enumerate(kind_rows, 2)),
            source="bench",
        )  # fmt: skip
        assert report.committed, report.errors[:3]
    ids = []
    for i in range(invoices):
        request = invoicing.DraftRequest(
            legal_entity_id=entity_id, project_number=f"B-{i:05d}", period=PERIOD,
            invoice_date=PERIOD[1], grouping=Grouping.TASK,
        )  # fmt: skip
        draft = invoicing.draft_invoice(uow, request)
        posted = invoicing.post_invoice(uow, require_id(draft), posting_date=PERIOD[1])
        ids.append(require_id(posted))
    secrets = SecretBox.from_key_file(Path(key_file), create=True)
    engine = Engine(database, ConnectorProvider(secrets))
    credentials = {"app_secret_token": APP, "agreement_grant_token": GRANT}
    connection, _ = connections.connect(
        engine, secrets, legal_entity_id=entity_id, erp="economic",
        credentials=credentials, settings={"base_url": base_url},
    )  # fmt: skip
    connection_id = require_id(connection)
    connections.import_products(engine, connection_id)
    connections.configure(engine, connection_id, principles=PRINCIPLES)
    engine.connectors.close()
    database.dispose()
    return [connection_id, *ids]


@contextmanager
def databases(url: str | None, workdir: Path) -> Iterator[tuple[str, WorkerOptions]]:
    """(app database URL, DBOS options): SQLite files in ``workdir``, or two fresh schemas on
    the PostgreSQL server at ``url`` (dropped at the end)."""
    if url is None:
        yield f"sqlite:///{workdir / 'app.db'}", WorkerOptions(f"sqlite:///{workdir / 'wf.db'}")
        return
    base, schema = normalise_url(url), f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    app = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield app.render_as_string(hide_password=False), WorkerOptions(base, f"{schema}_dbos")
    finally:
        with admin.begin() as connection:
            for name in (schema, f"{schema}_dbos"):
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        admin.dispose()


# the runs -------------------------------------------------------------------------------------
def run_direct(_workers: Workers, engine: Engine, connection_id: int, ids: list[int]) -> list[int]:
    """What ``ledgerlink transfers run`` does, without the queue: start all
    (``Engine.start_transfers``) and run them in this thread, in batches
    (``Engine.transfer_many``)."""
    transfer_documents(engine, DirectRunner(engine), connection_id, ids)
    return started_ids(engine, connection_id, ids)


def run_durable(workers: Workers, engine: Engine, connection_id: int, ids: list[int]) -> list[int]:
    """What ``ledgerlink transfers run`` does: start all, enqueue them, wait for all."""
    transfer_documents(engine, workers, connection_id, ids)
    return started_ids(engine, connection_id, ids)


def started_ids(engine: Engine, connection_id: int, ids: list[int]) -> list[int]:
    """The transfers of ``ids`` (after the run, so not counted)."""
    with engine.uow() as uow:
        latest = uow.transfers.latest_for_many(connection_id, ids)
    return [require_id(latest[i][0]) for i in ids]


def timings(
    engine: Engine, transfer_ids: list[int], *, durable: bool
) -> tuple[list[float], list[float], Counter[str]]:
    """From the integration log: start → finish of each transfer, and its status. From DBOS's
    step records (durable): the time of the batch step that ran the transfer ÷ the transfers
    it ran (a transfer run on its own: its workflow's first step started → last step done),
    i.e. without the queue."""
    latencies, runs, statuses = [], [], Counter[str]()
    per_transfer = batch_run_times() if durable else {}
    with engine.uow() as uow:
        for transfer_id in transfer_ids:
            transfer = uow.transfers.get(transfer_id)
            assert transfer.started_at is not None
            assert transfer.finished_at is not None
            latency = (transfer.finished_at - transfer.started_at).total_seconds()
            latencies.append(latency)
            statuses[transfer.status.value] += 1
            if not durable:
                runs.append(latency)
            elif transfer_id in per_transfer:
                runs.append(per_transfer[transfer_id])
            else:
                steps = DBOS.list_workflow_steps(transfer.workflow_id, load_output=False)
                first = min(s["started_at_epoch_ms"] or 0 for s in steps)
                last = max(s["completed_at_epoch_ms"] or 0 for s in steps)
                runs.append((last - first) / 1000)
    return latencies, runs, statuses


def batch_run_times() -> dict[int, float]:
    """Transfer id → its share of the batch step that ran it (seconds)."""
    shares: dict[int, float] = {}
    for flow in DBOS.list_workflows(workflow_id_prefix="batch:", load_output=False):
        carried = [t for t, _ in flow.input["args"][1]] if flow.input else []
        steps = [
            s
            for s in DBOS.list_workflow_steps(flow.workflow_id, load_output=False)
            if s["function_name"].endswith("_run_batch")
        ]
        for index, ran in enumerate(steps):
            chunk = carried[index * BATCH : (index + 1) * BATCH]
            took = ((ran["completed_at_epoch_ms"] or 0) - (ran["started_at_epoch_ms"] or 0)) / 1000
            shares.update({t: took / len(chunk) for t in chunk})
    return shares


def replay(base_url: str, entries: list[dict[str, Any]]) -> tuple[float, int]:
    """Send ``entries`` again with a bare client; returns (seconds, answers whose status
    differs from the engine's)."""
    mismatches = 0
    with httpx2.Client(base_url=base_url, headers=HEADERS, timeout=30) as client:
        started = time.perf_counter()
        for entry in entries:
            url = f"{entry['path']}?{entry['query']}" if entry["query"] else entry["path"]
            body = entry["body"]
            content = None if body is None else json.dumps(body).encode()
            headers = None if body is None else {"Content-Type": "application/json"}
            try:
                response = client.request(entry["method"], url, content=content, headers=headers)
            except httpx2.TransportError:
                mismatches += 1
                continue
            mismatches += response.status_code != entry["status"]
        return time.perf_counter() - started, mismatches


def measure(args: argparse.Namespace, workdir: Path) -> Measured:
    """Build the data, run the transfers (counting this process's SQL statements and CPU),
    replay the baseline."""
    mode = "durable (DBOS queue)" if args.durable else "direct (transfer_many)"
    database_name = "SQLite" if args.database_url is None else "PostgreSQL"
    key_file = workdir / "secret.key"
    with databases(args.database_url, workdir) as (url, options), emulator() as base_url:
        spawn = multiprocessing.get_context("spawn")
        with spawn.Pool(1) as pool:
            connection_id, *ids = pool.apply(
                prepare, (url, str(key_file), base_url, args.invoices, args.lines)
            )
        httpx2.delete(f"{base_url}/_emulator/journal", headers=HEADERS).raise_for_status()
        database = Database(url)
        limiter = TimedLimiter(DatabaseLimiter(RateLimitStore(database)))
        environment = hub_environment(database, limiter=limiter)  # as the CLI, with a meter
        secrets = SecretBox.from_key_file(key_file)
        engine = Engine(database, ConnectorProvider(secrets, environment=environment))
        workers = Workers(engine, options)
        if args.durable:
            workers.start()
        rss_before = _peak_rss_mib()
        load_before, cpu_before = os.getloadavg()[0], _cpu_seconds()
        started = time.perf_counter()
        try:
            run = run_durable if args.durable else run_direct
            profile = cProfile.Profile() if args.profile else None
            with database.count_statements() as count:
                if profile:
                    profile.enable()
                transfer_ids = run(workers, engine, connection_id, ids)
                if profile:
                    profile.disable()
                    profile.dump_stats(args.profile)
            seconds = time.perf_counter() - started
            cpu_seconds = _cpu_seconds() - cpu_before
            loads = (load_before, os.getloadavg()[0])
            rss_peak = _peak_rss_mib()
            sql = SqlSplit.of(count, limiter.calls, sqlite=database.is_sqlite)
            latencies, runs, statuses = timings(engine, transfer_ids, durable=args.durable)
        finally:
            workers.stop()
            engine.connectors.close()
            database.dispose()
        entries = journal(base_url)
    result = Measured(
        mode, database_name, args.invoices, args.lines, seconds, latencies, runs, statuses,
        Counter(route(e) for e in entries), rss_before, rss_peak, sql, cpu_seconds, loads,
    )  # fmt: skip
    result.limiter_seconds = limiter.seconds
    result.sql_kinds = Counter(statement_kind(t) for t in count.texts)
    with emulator() as fresh:
        result.baseline_seconds, result.baseline_mismatches = replay(fresh, entries)
    return result


# output ---------------------------------------------------------------------------------------
def table(rows: list[list[str]]) -> str:
    """A markdown table with the benchmark's columns."""
    lines = [f"| {' | '.join(COLUMNS)} |", f"|{'---|' * len(COLUMNS)}"]
    return "\n".join([*lines, *(f"| {' | '.join(row)} |" for row in rows)])


def statement_kind(text_: str) -> str:
    """``SELECT transfers``-style name of a SQL statement: its verb and first table."""
    words = text_.split()
    if not words:
        return "?"
    verb = words[0].upper()
    if verb in ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"):
        return " ".join(words[:2]).upper() if verb == "BEGIN" and len(words) > 1 else verb
    marker = {"SELECT": "FROM", "DELETE": "FROM", "INSERT": "INTO", "UPDATE": "UPDATE"}.get(verb)
    upper = [w.upper() for w in words]
    if marker is None or marker not in upper:
        return verb
    after = words[upper.index(marker) + 1] if upper.index(marker) + 1 < len(words) else "?"
    return f"{verb} {after.strip('(').split('.')[-1].strip(chr(34))}"


def merge_block(block: str, row: list[str], footer: str) -> str:
    """The README block with ``row`` in its table (replacing the row of the same mode and
    database; rows of an older column layout are dropped) and ``footer`` under it."""
    lines = [line.strip() for line in block.strip().splitlines()]
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in lines[2:]
        if line.startswith("|")
    ]
    rows = [r for r in rows if len(r) == len(COLUMNS) and r[:2] != row[:2]] + [row]
    rows.sort(key=lambda r: (r[1] != "SQLite", not r[0].startswith("durable")))
    return f"\n{table(rows)}\n\n{footer}\n"


def machine() -> str:
    """CPU count and model, memory, Python, SQLite and package versions."""
    cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if "model name" in line),
        platform.processor() or "unknown CPU",
    )
    memory = int(Path("/proc/meminfo").read_text().splitlines()[0].split()[1]) / 1024 / 1024
    packages = ", ".join(f"{name} {version(name)}" for name in VERSIONS)
    return (
        f"{os.cpu_count()} cores ({model}), {memory:.0f} GiB, {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}, SQLite "
        f"{sqlite3.sqlite_version}; {packages}"
    )


def write_readme(row: list[str], readme: Path = README) -> None:
    """Put ``row`` into the README's table (see :func:`merge_block`)."""
    text_ = readme.read_text(encoding="utf-8")
    head, rest = text_.split(BEGIN, 1)
    old, tail = rest.split(END, 1)
    today = datetime.now(UTC).date().isoformat()
    footer = f"Last row written on {today}. Machine: {machine()}."
    readme.write_text(f"{head}{BEGIN}{merge_block(old, row, footer)}{END}{tail}", encoding="utf-8")


def main() -> None:
    """Parse the arguments, run, print the table (and update the README)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=1000, help="posted invoices to transfer")
    parser.add_argument("--lines", type=int, default=5, help="lines per invoice")
    parser.add_argument(
        "--durable", action=argparse.BooleanOptionalAction, default=True,
        help="run through the DBOS queue and workers (default) or Engine.transfer_now",
    )  # fmt: skip
    parser.add_argument("--database-url", help="PostgreSQL URL (default: SQLite files)")
    parser.add_argument(
        "--profile", metavar="FILE", help="cProfile the measured run into FILE (slows it)"
    )
    parser.add_argument("--write-readme", action="store_true", help="update bench/README.md")
    args = parser.parse_args()
    quiet_logs()
    with tempfile.TemporaryDirectory(prefix="ledgerlink-bench-") as workdir:
        result = measure(args, Path(workdir))
    print(table([result.row()]))
    print(f"\ntransfers: {dict(result.statuses)}; {result.seconds:.1f} s in all")
    print(
        f"baseline: {result.baseline_seconds:.1f} s, {result.baseline_mismatches} statuses differ"
    )
    print("RSS: this process (engine, workers); emulator and data setup run in other processes")
    print(
        f"rate limiter: {result.limiter_seconds / result.invoices * 1000:.1f} ms per invoice "
        "in acquire() (wall time, all threads)"
    )
    print("SQL statements by kind (this process's engine; DBOS's system database not counted):")
    for name, count in result.sql_kinds.most_common():
        print(f"  {count:6d}  {count / result.invoices:5.2f}/invoice  {name}")
    print("ERP requests by route:")
    for name, count in result.routes.most_common():
        print(f"  {count:6d}  {count / result.invoices:5.2f}/invoice  {name}")
    if args.write_readme:
        write_readme(result.row())
    if set(result.statuses) != {TransferStatus.SUCCESSFUL.value}:
        sys.exit("not every transfer succeeded: the figures are not comparable")


if __name__ == "__main__":
    main()
