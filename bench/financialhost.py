"""Benchmark: the latency FinancialHost adds to a signed operation, and its operations/s.

Not a test. For each ERP (``--erp nav``, the default, and ``--erp visma``) it starts a real
``ledgerlink host serve`` process with that plugin and, in this process, the same plugin built
the way the host builds it (``runtime.load_plugin``) against the same ERP. Then it runs each
operation N times both ways:

* **through the host**: the hub's signing client (``connectors.financialhost.signed_client``,
  pinned self-signed certificate) POSTs the signed operation over HTTPS and checks the
  answer's signature, as the connector does;
* **direct**: the plugin method the host's dispatcher calls for that operation, i.e. the same
  ERP calls without signing, TLS, the guard, the audit log or the job queue.

The ERP is the NAV emulator (``ledgerlink emulate nav``) in a third process, shared by both
sides; for Visma the ADK is in-process (``EmulatedAdk``), so each side opens its own, identical
emulated company. Operations: ``customer.find`` (one existing customer), ``products.read`` (the
item list) and ``customer.upsert`` (a new customer each time, so it really writes); the two sides
run in alternating blocks, so both see the same ERP state and machine load. Two rows never
reach the ERP and show the host's own floor: ``GET /health`` (unsigned) and ``job.status``
(signed, answered from the host's database). Every answer is checked; a wrong one stops the
run. At the end the host's audit chain is verified.

    .venv/bin/python bench/financialhost.py [--erp nav] [--erp visma] [--operations 500]
        [--writes 200] [--clients 4] [--block 50] [--warmup 20] [--write-readme]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx2

import ledgerlink
from ledgerlink.connectors.financialhost import FinancialHostCredentials, FinancialHostSettings
from ledgerlink.connectors.financialhost.connector import signed_client
from ledgerlink.connectors.financialhost.connector import tls_context as connector_tls
from ledgerlink.emulators.visma import create_company
from ledgerlink.financialhost.audit import verify_chain
from ledgerlink.financialhost.database import HostDatabase
from ledgerlink.financialhost.plugin import ErpPlugin
from ledgerlink.financialhost.runtime import load_plugin
from ledgerlink.financialhost.settings import HostSettings
from ledgerlink.financialhost.tls import CERT_FILE
from ledgerlink.financialhost.vault import Vault
from ledgerlink.wire import operations as ops
from ledgerlink.wire.client import tls_context

README = Path(__file__).with_name("README.md")
BEGIN, END = "<!-- bench:financialhost:begin -->", "<!-- bench:financialhost:end -->"
COLUMNS = (
    "ERP", "operation", "N", "direct p50 / p99", "host p50 / p99", "added p50 / p99",
    "direct ops/s", "host ops/s", "host ops/s, {clients} clients", "host CPU/op",
)  # fmt: skip
KEY_ID = "hub-1"
NAV_USER, NAV_PASSWORD = "WEBSERVICE", "Passw0rd!"
NAV_COMPANY, NAV_INSTANCE = "CRONUS International Ltd.", "DynamicsNAV100"
EXISTING_CUSTOMER = {"nav": "10000", "visma": "2001"}  # in the emulators' seed data
HOME = {"nav": ("DK", "DKK"), "visma": ("SE", "SEK")}  # country, currency of new customers
ERP_LABELS = {"nav": "NAV (emulator)", "visma": "Visma (EmulatedAdk)"}
VERSIONS = ("ledgerlink", "uvicorn", "fastapi", "httpx2", "pydantic", "cryptography")


# statistics -----------------------------------------------------------------------------------
def percentile(values: Sequence[float], percent: float) -> float:
    """Nearest-rank percentile: the smallest value with at least ``percent`` % of the values at
    or below it (so p99 of 200 values is the 198th smallest)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = math.ceil(percent / 100 * len(ordered))
    return ordered[min(len(ordered), max(1, rank)) - 1]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _added(seconds: float) -> str:
    return f"{seconds * 1000:+.1f} ms"


@dataclass
class Side:
    """One way of running an operation: per-operation latencies (s) and the busy time of the
    blocks they ran in (s), from which the sequential rate follows."""

    latencies: list[float] = field(default_factory=list)
    busy: float = 0.0

    def p(self, percent: float) -> float:
        """The ``percent`` percentile latency in seconds."""
        return percentile(self.latencies, percent)

    @property
    def rate(self) -> float:
        """Operations per second, one client, back to back."""
        return len(self.latencies) / self.busy


@dataclass
class Measured:
    """One operation on one ERP, both ways, plus the host with several clients at once."""

    erp: str
    operation: str
    direct: Side
    host: Side
    host_cpu: float = 0.0  # CPU seconds the host process used during the host's blocks
    clients: int = 0
    concurrent: Side = field(default_factory=Side)

    def row(self) -> list[str]:
        """The README/stdout table row (operations that do not reach the ERP have no direct
        side: their added latency is the whole host latency)."""
        d, h = self.direct, self.host
        d50, d99 = (d.p(50), d.p(99)) if d.latencies else (0.0, 0.0)
        return [
            ERP_LABELS[self.erp],
            self.operation,
            str(len(h.latencies)),
            f"{_ms(d50)} / {_ms(d99)}" if d.latencies else "–",
            f"{_ms(h.p(50))} / {_ms(h.p(99))}",
            f"{_added(h.p(50) - d50)} / {_added(h.p(99) - d99)}",
            f"{d.rate:.0f}" if d.latencies else "–",
            f"{h.rate:.0f}",
            f"{self.concurrent.rate:.0f}" if self.concurrent.latencies else "–",
            _ms(self.host_cpu / len(h.latencies)),
        ]


# processes ------------------------------------------------------------------------------------
def free_port() -> int:
    """A free loopback TCP port (bound to port 0 and released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ledgerlink() -> str:
    return str(Path(sys.executable).with_name("ledgerlink"))


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGINT, as Ctrl-C (on SIGTERM uvicorn re-raises the signal after its shutdown, which
    kills the host before it records ``host.stopped``); SIGKILL if still running after 15 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def started(command: list[str], log_file: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` with its output in ``log_file``; stop it at the end, whatever happens."""
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            yield process
        finally:
            stop(process)


def wait_until(ready: Callable[[], bool], process: subprocess.Popen[bytes], log: Path) -> None:
    """Poll ``ready`` until it is true; fail if ``process`` exits or 30 s pass."""
    deadline = time.monotonic() + 30
    while not ready():
        if process.poll() is not None:
            raise RuntimeError(f"{log.stem} exited:\n{log.read_text(errors='replace')[-3000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{log.stem} did not start within 30 s (see {log})")
        time.sleep(0.1)


@contextmanager
def nav_emulator(workdir: Path) -> Iterator[dict[str, str]]:
    """``ledgerlink emulate nav`` on free loopback ports (SOAP and OData each on its own, as
    NAV serves them); yields the plugin's ``soap_url`` and ``odata_url``."""
    soap_port, odata_port = free_port(), free_port()
    log = workdir / "nav-emulator.log"
    command = [_ledgerlink(), "emulate", "nav", "--instance", NAV_INSTANCE]
    command += ["--soap-port", str(soap_port), "--odata-port", str(odata_port)]
    command += ["--user", NAV_USER, "--password", NAV_PASSWORD]
    root = f"http://127.0.0.1:{soap_port}"

    def ready() -> bool:
        try:
            url = f"{root}/{NAV_INSTANCE}/WS/SystemService"
            return httpx2.get(url, auth=(NAV_USER, NAV_PASSWORD), timeout=2).status_code == 200
        except httpx2.HTTPError:
            return False

    with started(command, log) as process:
        wait_until(ready, process, log)
        yield {
            "soap_url": f"{root}/{NAV_INSTANCE}/WS",
            "odata_url": f"http://127.0.0.1:{odata_port}/{NAV_INSTANCE}/ODataV4",
        }


@dataclass(frozen=True)
class RunningHost:
    """A ``ledgerlink host serve`` process: its URL, data folder, key secret, certificate."""

    url: str
    data_dir: Path
    secret: str
    certificate: str  # PEM
    process: subprocess.Popen[bytes]


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(str(value))  # a TOML basic string for these plain values


@contextmanager
def financial_host(
    folder: Path, *, plugin: str, plugin_settings: dict[str, Any], secrets: dict[str, str]
) -> Iterator[RunningHost]:
    """What ``ledgerlink host init`` and ``host secret set`` prepare (settings file, vault with
    the hub key and the ERP password; ``host serve`` makes the certificate on first run), then
    ``ledgerlink host serve`` on a free loopback port. Every other setting is the default."""
    port = free_port()
    data_dir = folder / "data"
    settings = folder / "financialhost.toml"
    folder.mkdir(parents=True)
    lines = [f'data_dir = "data"\nport = {port}\nplugin = "{plugin}"\n[{plugin}]']
    lines += [f"{name} = {_toml(value)}" for name, value in plugin_settings.items()]
    settings.write_text("\n".join(lines) + "\n", encoding="utf-8")
    vault = Vault(data_dir)
    secret = vault.add_key(KEY_ID)
    for name, value in secrets.items():
        vault.set(name, value)
    log = folder / "financialhost.log"
    command = [_ledgerlink(), "host", "serve", "--settings", str(settings)]
    url = f"https://127.0.0.1:{port}"
    cert = data_dir / CERT_FILE

    def ready() -> bool:
        if not cert.exists():
            return False
        try:
            with httpx2.Client(verify=tls_context(verify=cert), timeout=2) as http:
                return http.get(f"{url}/health").status_code == 200
        except (httpx2.HTTPError, ssl.SSLError):
            return False

    with started(command, log) as process:
        wait_until(ready, process, log)
        yield RunningHost(url, data_dir, secret, cert.read_text(encoding="utf-8"), process)


def peak_rss_mib(pid: int) -> float:
    """``VmHWM`` (peak resident set) of a running process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# the ERPs -------------------------------------------------------------------------------------
@dataclass
class Erp:
    """One ERP set up for the bench: the running host and the plugin for direct calls."""

    name: str
    host: RunningHost
    plugin: ErpPlugin


def build_direct(name: str, plugin_settings: dict[str, Any], folder: Path, **secrets: str) -> Any:
    """The plugin as ``ledgerlink host serve`` builds it (``runtime.load_plugin``), with its own
    vault and data folder."""
    vault = Vault(folder)
    for secret_name, value in secrets.items():
        vault.set(secret_name, value)
    settings = HostSettings(data_dir=folder, plugin=name, **{name: plugin_settings})  # type: ignore[arg-type]
    return load_plugin(settings, vault)


@contextmanager
def nav(workdir: Path) -> Iterator[Erp]:
    """The NAV emulator process, a host in front of it, and a direct NAV plugin."""
    with nav_emulator(workdir) as urls:
        settings = {**urls, "company": NAV_COMPANY, "username": NAV_USER}
        password = {"nav:password": NAV_PASSWORD}
        with financial_host(
            workdir / "host-nav", plugin="nav", plugin_settings=settings, secrets=password
        ) as host:
            plugin = build_direct("nav", settings, workdir / "direct-nav", **password)
            try:
                yield Erp("nav", host, plugin)
            finally:
                plugin.close()


@contextmanager
def visma(workdir: Path) -> Iterator[Erp]:
    """Two identical emulated Visma companies: one behind a host, one for direct calls (the
    ADK is in-process and opens one company per process)."""

    def company(side: str) -> dict[str, Any]:
        system, folder = workdir / f"visma-{side}" / "Gemensamma filer", workdir / f"visma-{side}"
        path = create_company(system, folder / "FTG1", name="Bench Konsult AB")
        return {
            "system_path": str(system),
            "company_path": str(path),
            "adk": "emulated",
            "auto_create_sellers": True,
        }

    with financial_host(
        workdir / "host-visma", plugin="visma", plugin_settings=company("host"), secrets={}
    ) as host:
        plugin = build_direct("visma", company("direct"), workdir / "direct-visma")
        try:
            yield Erp("visma", host, plugin)
        finally:
            plugin.close()


ERPS = {"nav": nav, "visma": visma}


# the operations -------------------------------------------------------------------------------
class WrongAnswer(RuntimeError):
    """An operation did not do what it should: the figures would be meaningless."""


class HubClient:
    """The hub's end of one connection to the host: the signing client as the connector builds
    it (pinned certificate), and a plain HTTPS client with the same TLS setup for ``/health``."""

    def __init__(self, host: RunningHost, erp: str) -> None:
        settings = FinancialHostSettings.model_validate(
            {"base_url": host.url, "erp_system": erp, "tls_certificate": host.certificate}
        )
        credentials = FinancialHostCredentials.model_validate(
            {"key_id": KEY_ID, "secret": host.secret}
        )
        self.signed = signed_client(settings, credentials)
        self.plain = httpx2.Client(
            base_url=host.url, verify=connector_tls(settings, credentials), timeout=60
        )

    def call(self, operation: str, request: ops.WireModel) -> dict[str, Any]:
        """A signed operation that must answer 200 (the answer's signature is checked)."""
        answer = self.signed.call(operation, request)
        if answer.status != 200:
            raise WrongAnswer(f"{operation} through the host: {answer.status} {answer.body}")
        return answer.body

    def close(self) -> None:
        """Close both clients' connections."""
        self.signed.close()
        self.plain.close()


def _check(ok: bool, what: str, answer: object) -> None:
    if not ok:
        raise WrongAnswer(f"{what}: {answer}")


def _new_customer(erp: str, tag: str, i: int) -> ops.CustomerUpsert:
    """A new customer; ``tag`` keeps the numbers of the two sides and of the warm-ups apart
    (``BH00000``: the host's first, ``BD00000``: the first direct one)."""
    country, currency = HOME[erp]
    number = f"B{tag}{i:05d}"
    customer = ops.WireCustomer(
        number=number,
        name=f"Bench Kunde {number}",
        address_lines=("Benchvej 1",),
        country=country,
        currency=currency,
        email=f"{number.lower()}@example.com",
    )
    return ops.CustomerUpsert(idempotency_key=f"bench-{number}", customer=customer)


def health_host(client: HubClient, _erp: Erp, _tag: str, _i: int) -> None:
    """``GET /health``: unsigned, no ERP call; TLS, HTTP and the ASGI stack only."""
    response = client.plain.get("/health")
    _check(response.status_code == 200, "GET /health", response.text)


def find_host(client: HubClient, erp: Erp, _tag: str, _i: int) -> None:
    """``customer.find`` of an existing customer through the host."""
    body = client.call("customer.find", ops.CustomerFind(number=EXISTING_CUSTOMER[erp.name]))
    _check(body.get("customer") is not None, "customer.find through the host", body)


def find_direct(erp: Erp, _tag: str, _i: int) -> None:
    """What the dispatcher calls for ``customer.find``."""
    found = erp.plugin.find_customer(EXISTING_CUSTOMER[erp.name])
    _check(found is not None, "customer.find direct", found)


def products_host(client: HubClient, _erp: Erp, _tag: str, _i: int) -> None:
    """``products.read`` (the plugin's default source: NAV items, Visma articles)."""
    body = client.call("products.read", ops.ProductsRead())
    _check(len(body.get("items", ())) > 0, "products.read through the host", body)


def products_direct(erp: Erp, _tag: str, _i: int) -> None:
    """What the dispatcher calls for ``products.read``."""
    products = erp.plugin.products(None)
    _check(len(products.items) > 0, "products.read direct", products)


def upsert_host(client: HubClient, erp: Erp, tag: str, i: int) -> None:
    """``customer.upsert`` of a new customer: the host stores the job, its worker runs it, and
    the answer (200) carries the finished job."""
    body = client.call("customer.upsert", _new_customer(erp.name, tag, i))
    done = body.get("state") == "succeeded" and (body.get("result") or {}).get("created")
    _check(bool(done), "customer.upsert through the host", body)


def upsert_direct(erp: Erp, tag: str, i: int) -> None:
    """What the job worker calls for ``customer.upsert``."""
    outcome = erp.plugin.upsert_customer(_new_customer(erp.name, tag, i).customer)
    _check(outcome.created, "customer.upsert direct", outcome)


def job_status_host(client: HubClient, _erp: Erp, _tag: str, _i: int) -> None:
    """``job.status`` of the host's first ``customer.upsert`` job: signed, answered from the
    host's own database (the connector sends one before every write)."""
    body = client.call("job.status", ops.JobQuery(idempotency_key="bench-BH00000"))
    _check(body.get("state") == "succeeded", "job.status", body)


@dataclass(frozen=True)
class Operation:
    """One row of the table: how to run call ``i`` through the host and, if the operation
    reaches the ERP, directly on the plugin; ``tag`` names the side (``H``, ``D``, ``W…``
    warm-ups, ``C…`` concurrent clients). A wrong answer stops the bench."""

    label: str
    host: Callable[[HubClient, Erp, str, int], None]
    direct: Callable[[Erp, str, int], None] | None = None
    write: bool = False


OPERATIONS = (
    Operation("GET /health (unsigned, no ERP call)", health_host),
    Operation("`customer.find`", find_host, find_direct),
    Operation("`products.read`", products_host, products_direct),
    Operation("`customer.upsert` (new customer)", upsert_host, upsert_direct, write=True),
    Operation("`job.status` (no ERP call)", job_status_host),
)


def host_cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed_block(call: Callable[[int], None], numbers: range, side: Side) -> None:
    """Run ``call(i)`` for each ``i`` back to back, recording each latency and the block's
    wall time."""
    block_started = time.perf_counter()
    for i in numbers:
        started_at = time.perf_counter()
        call(i)
        side.latencies.append(time.perf_counter() - started_at)
    side.busy += time.perf_counter() - block_started


def measure(erp: Erp, operation: Operation, args: argparse.Namespace) -> Measured:
    """Warm up, run the two sides in alternating blocks, then the host with several clients."""
    n = args.writes if operation.write else args.operations
    result = Measured(erp.name, operation.label, Side(), Side())
    pid = erp.host.process.pid
    client = HubClient(erp.host, erp.name)
    try:

        def through_host(tag: str) -> Callable[[int], None]:
            return lambda i: operation.host(client, erp, tag, i)

        def direct(tag: str) -> Callable[[int], None]:
            assert operation.direct is not None
            run = operation.direct
            return lambda i: run(erp, tag, i)

        # TLS handshake, connection pools, caches and lazy imports on both sides first.
        timed_block(through_host("WH"), range(args.warmup), Side())
        if operation.direct:
            timed_block(direct("WD"), range(args.warmup), Side())

        def host_block(numbers: range) -> None:
            cpu = host_cpu_seconds(pid)
            timed_block(through_host("H"), numbers, result.host)
            result.host_cpu += host_cpu_seconds(pid) - cpu

        def direct_block(numbers: range) -> None:
            if operation.direct:
                timed_block(direct("D"), numbers, result.direct)

        for block, start in enumerate(range(0, n, args.block)):
            numbers = range(start, min(n, start + args.block))
            order = (host_block, direct_block) if block % 2 == 0 else (direct_block, host_block)
            for run_block in order:
                run_block(numbers)
    finally:
        client.close()
    if args.clients > 1:
        result.clients = args.clients
        result.concurrent = concurrently(erp, operation, n, args.clients)
    return result


def concurrently(erp: Erp, operation: Operation, n: int, clients: int) -> Side:
    """``n`` calls through the host from ``clients`` threads, each with its own connection;
    the rate is ``n`` over the wall time from the common start to the last answer."""
    side = Side()
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    failures: list[BaseException] = []

    def work(k: int) -> None:
        client = HubClient(erp.host, erp.name)
        mine: list[float] = []
        try:
            operation.host(client, erp, "CW", k)  # the TLS handshake, outside the timed part
            start.wait()
            for i in range(k, n, clients):
                started_at = time.perf_counter()
                operation.host(client, erp, "C", i)
                mine.append(time.perf_counter() - started_at)
        except BaseException as error:  # raised again by the main thread
            failures.append(error)
            start.abort()
        finally:
            client.close()
            with lock:
                side.latencies.extend(mine)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    with suppress(threading.BrokenBarrierError):
        start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    side.busy = time.perf_counter() - began
    if failures:
        raise failures[0]
    return side


# output ---------------------------------------------------------------------------------------
def table(rows: list[list[str]], clients: int) -> str:
    """A markdown table with the benchmark's columns."""
    columns = [c.format(clients=clients) for c in COLUMNS]
    lines = [f"| {' | '.join(columns)} |", f"|{'---|' * len(columns)}"]
    return "\n".join([*lines, *(f"| {' | '.join(row)} |" for row in rows)])


def machine() -> str:
    """CPU count and model, memory, Python, SQLite, OpenSSL and package versions."""
    cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if "model name" in line),
        platform.processor() or "unknown CPU",
    )
    meminfo = Path("/proc/meminfo").read_text().splitlines()[0].split()
    memory = f"{int(meminfo[1]) / 1024 / 1024:.0f} GiB"
    packages = ", ".join(f"{name} {version(name)}" for name in VERSIONS)
    return (
        f"{os.cpu_count()} cores ({model}), {memory}, {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}, SQLite "
        f"{sqlite3.sqlite_version}, {ssl.OPENSSL_VERSION}; {packages}"
    )


def source_state() -> str:
    """The ledgerlink code measured: the repository's commit, and whether the imported package
    is this working tree with uncommitted changes under ``src/``."""
    repo = Path(__file__).resolve().parent.parent

    def git(*arguments: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(repo), *arguments], capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    package = Path(ledgerlink.__file__).resolve()
    if not package.is_relative_to(repo / "src"):
        return f"ledgerlink imported from {package.parent.parent} (the repository is at {commit})"
    dirty = bool(git("status", "--porcelain", "--", "src"))
    return f"ledgerlink at {commit}" + (" with uncommitted changes in src/" if dirty else "")


def command_line() -> str:
    """How this run was started, as a shell command from the repository root."""
    return " ".join([".venv/bin/python", "bench/financialhost.py", *sys.argv[1:]])


def block_text(rows: list[list[str]], args: argparse.Namespace, loads: tuple[float, float]) -> str:
    """What goes between the README markers: the table, the machine, the date, the command."""
    today = datetime.now(UTC).date().isoformat()
    return (
        f"{table(rows, args.clients)}\n\n"
        f"Measured on {today} with {args.operations} reads and {args.writes} "
        f"writes per operation (after {args.warmup} warm-up calls each way), blocks of "
        f"{args.block}, {args.clients} clients in the ops/s column that says so; "
        f"{source_state()}. Machine: {machine()}; 1-minute load average {loads[0]:.2f} at "
        f"the start, {loads[1]:.2f} at the end.\n\n"
        f"```sh\n{command_line()}\n```"
    )


def write_readme(text: str, readme: Path = README) -> None:
    """Replace what is between the FinancialHost markers in ``readme`` with ``text``; the rest
    of the file (the other benchmarks' sections) stays as it is."""
    content = readme.read_text(encoding="utf-8")
    head, rest = content.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}", encoding="utf-8")


def main() -> None:
    """Parse the arguments, run every ERP and operation, print the table (and the README)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--erp", action="append", choices=sorted(ERPS), help="ERP to measure (repeat; nav)"
    )
    parser.add_argument("--operations", type=int, default=500, help="calls per read operation")
    parser.add_argument("--writes", type=int, default=200, help="customer.upsert calls")
    parser.add_argument("--clients", type=int, default=4, help="threads for the last column")
    parser.add_argument("--block", type=int, default=50, help="calls per alternating block")
    parser.add_argument("--warmup", type=int, default=20, help="untimed calls each way first")
    parser.add_argument("--write-readme", action="store_true", help="update bench/README.md")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    results: list[Measured] = []
    notes: list[str] = []
    print(table([], args.clients), flush=True)
    for name in args.erp or ["nav"]:
        with tempfile.TemporaryDirectory(prefix="ledgerlink-bench-fh-") as workdir:
            with ERPS[name](Path(workdir)) as erp:
                for operation in OPERATIONS:
                    measured = measure(erp, operation, args)
                    results.append(measured)
                    print(f"| {' | '.join(measured.row())} |", flush=True)
                rss = peak_rss_mib(erp.host.process.pid)
            database = HostDatabase(erp.host.data_dir / "host.sqlite")  # the host has stopped
            try:
                report = verify_chain(database, erp.host.data_dir / "audit.head")
            finally:
                database.close()
            notes.append(
                f"{name}: host peak RSS {rss:.0f} MiB; audit log "
                f"{'intact' if report.intact else 'NOT intact'}, {report.records} records"
            )
    print()
    print(table([r.row() for r in results], args.clients))
    print("\n".join(["", *notes]))
    loads = (load, os.getloadavg()[0])
    print(f"load average (1 min): {loads[0]:.2f} at the start, {loads[1]:.2f} at the end")
    if args.write_readme:
        write_readme(block_text([r.row() for r in results], args, loads))
        print(f"\nwrote {README}")


if __name__ == "__main__":
    main()
