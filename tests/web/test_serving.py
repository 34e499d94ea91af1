"""The hub served like a product (issue 14 item 11): /metrics in the Prometheus format, counted
from the integration log (every process's work) and from this process's ERP requests and
rate-limit waits, served to this machine or an admin's API key only; /health; an access log
of JSON lines with no secret in it; forwarded headers honoured from the named proxy alone;
the API's transfers handed to the queue; 'serve''s options refused in one line; and
'demo --serve' in one real process."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
import structlog
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from ledgerlink.cli.app import app as cli
from ledgerlink.cli.serve import QueueOnDemand, count_erp_requests, listening_of
from ledgerlink.connectors._kit.errors import ErrorTable
from ledgerlink.connectors._kit.http import build_client
from ledgerlink.connectors._kit.limiter import LimiterKey, Window
from ledgerlink.connectors._kit.requestor import Requestor
from ledgerlink.connectors._kit.retry import RetryPolicy
from ledgerlink.connectors.contract import Permanent, Transient, Uncertain
from ledgerlink.connectors.testing import FakeErp
from ledgerlink.domain.entity import require_id
from ledgerlink.domain.transfers import Transfer, TransferStatus
from ledgerlink.domain.users import Role
from ledgerlink.store.api_keys import ApiKeyStore
from ledgerlink.store.database import Database
from ledgerlink.store.uow import UnitOfWork
from ledgerlink.sync.secrets import SecretBox
from ledgerlink.sync.transfers import DirectRunner
from ledgerlink.sync.workflows import WorkerOptions, Workers
from ledgerlink.web.access_log import json_logger, safe_query, served
from ledgerlink.web.app import create_app
from ledgerlink.web.console import ConsoleOptions
from ledgerlink.web.metrics import HubMetrics, MeteredLimiter, QueueDepth, serving_router
from ledgerlink.web.users import add_user
from tests.sync.test_engine import Hub, build_hub
from tests.web.support import CHEAP, CSRF_INPUT, PASSWORD, Browser

LOCAL = ("127.0.0.1", 50123)
FAR = ("203.0.113.7", 40000)


class RecordingQueue:
    def __init__(self) -> None:
        self.submitted: list[int] = []

    def submit(self, transfers: Sequence[Transfer]) -> int:
        self.submitted.extend(require_id(t) for t in transfers)
        return len(transfers)


@dataclass
class Served:
    app: FastAPI
    hub: Hub
    metrics: HubMetrics
    queue: RecordingQueue
    keys: dict[Role, str]
    log: io.StringIO

    def client(
        self,
        peer: tuple[str, int] = LOCAL,
        *,
        proxies: Sequence[str] = (),
        base_url: str = "https://testserver",
    ) -> TestClient:
        """The app as 'serve' runs it (access log, named proxies), called from ``peer``."""
        asgi = served(self.app, trusted_proxies=proxies, log=json_logger(self.log))
        return TestClient(asgi, base_url=base_url, client=peer, follow_redirects=False)

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.getvalue().splitlines() if line]


@pytest.fixture
def hub_app(database: Database, tmp_path: Path) -> Served:
    hub = build_hub(database, tmp_path, FakeErp())
    secrets = SecretBox.from_key_file(tmp_path / "secret.key", create=False)
    metrics = HubMetrics(database, queue_depth=lambda: 3)
    queue = RecordingQueue()
    app = create_app(
        database,
        secrets,
        console=ConsoleOptions(
            engine=hub.engine,
            runner=DirectRunner(hub.engine),
            passwords=CHEAP,
            failed_sign_in_delay=0,
            background=lambda work: work(),
        ),
        submitter=queue,
        metrics=metrics,
    )
    keys = {}
    for role in Role:
        add_user(lambda: UnitOfWork(database), CHEAP, role.value, role, PASSWORD)
        _, keys[role] = ApiKeyStore(database).create(role.value, f"{role.value} monitoring")
    return Served(app, hub, metrics, queue, keys, io.StringIO())


def _sample(text: str, name: str, **labels: str) -> float | None:
    """The value of the sample ``name{labels}`` in a Prometheus text page."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        found = re.fullmatch(r"([a-z_]+)(?:\{(.*)\})? (\S+)", line)
        assert found, line
        have = dict(re.findall(r'(\w+)="([^"]*)"', found[2] or ""))
        if found[1] == name and have == labels:
            return float(found[3])
    return None


# /metrics ----------------------------------------------------------------------------------


def test_metrics_after_transfers_count_the_integration_log_by_outcome(hub_app: Served) -> None:
    hub = hub_app.hub
    assert hub.transfer(hub.invoices[0]) is TransferStatus.SUCCESSFUL
    hub.erp.fail("create_document", Permanent("Kunden er spærret"))
    assert hub.transfer(hub.invoices[1]) is TransferStatus.FAILED
    with hub_app.client(LOCAL) as http:
        answer = http.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    page = answer.text
    connection = str(hub.connection_id)
    for status, count in (("successful", 1), ("failed", 1)):
        assert (
            _sample(page, "ledgerlink_transfers", erp="fake", connection=connection, status=status)
            == count
        ), page
    assert _sample(page, "ledgerlink_database_up") == 1
    assert _sample(page, "ledgerlink_queue_depth") == 3
    # Counted in this process only, and the help text says so.
    help_line = next(line for line in page.splitlines() if "HELP ledgerlink_erp_requests" in line)
    assert "in this process only" in help_line
    assert "# TYPE ledgerlink_rate_limit_waits_total counter" in page


def test_metrics_are_refused_from_another_machine_without_an_admin_key(hub_app: Served) -> None:
    with hub_app.client(FAR) as http:
        anonymous = http.get("/metrics")
        viewer = http.get(
            "/metrics", headers={"Authorization": f"Bearer {hub_app.keys[Role.VIEWER]}"}
        )
        wrong = http.get("/metrics", headers={"Authorization": "Bearer llk_not-a-key"})
        admin = http.get(
            "/metrics", headers={"Authorization": f"Bearer {hub_app.keys[Role.ADMIN]}"}
        )
    assert anonymous.status_code == 403 and "ledgerlink_" not in anonymous.text
    assert viewer.status_code == 403 and "admin" in viewer.text
    assert wrong.status_code == 401
    assert admin.status_code == 200 and "ledgerlink_transfers" in admin.text
    # A loopback peer that relays for someone else (a proxy on this machine) is not local.
    with hub_app.client(LOCAL) as http:
        relayed = http.get("/metrics", headers={"X-Forwarded-For": "198.51.100.1"})
    assert relayed.status_code == 403


def test_erp_requests_are_counted_by_status_from_the_http_clients_log(
    database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    metrics = HubMetrics(database)
    saved = structlog.get_config()
    answers: Iterator[int | None] = iter([200, 429, 200, None])

    def erp(request: httpx2.Request) -> httpx2.Response:
        status = next(answers)
        if status is None:
            raise httpx2.ReadTimeout("no answer", request=request)
        return httpx2.Response(status, json={})

    try:
        count_erp_requests(metrics, verbose=False)
        # The connectors' own requestor and client, sending once each (no retry).
        requestor = Requestor(
            client=build_client(
                base_url="https://erp.test",
                auth=None,
                transport=httpx2.MockTransport(erp),
                erp="fortnox",
            ),
            errors=ErrorTable(erp="fortnox"),
            retry=RetryPolicy(attempts=1),
        )
        for _ in range(4):
            with contextlib.suppress(Transient, Uncertain):
                requestor.request("GET", "/3/invoices", params={"access_token": "not-logged"})
    finally:
        structlog.configure(**saved)
    page = metrics.render()[0].decode()
    assert _sample(page, "ledgerlink_erp_requests_total", erp="fortnox", status="200") == 2
    assert _sample(page, "ledgerlink_erp_requests_total", erp="fortnox", status="429") == 1
    assert _sample(page, "ledgerlink_erp_requests_total", erp="fortnox", status="ReadTimeout") == 1
    # Counted, and still not printed: without --verbose the CLI prints errors only.
    printed = capsys.readouterr()
    assert "http." not in printed.out + printed.err


def test_the_shared_limiter_s_waits_and_deferrals_are_counted(database: Database) -> None:
    metrics = HubMetrics(database)
    limiter = MeteredLimiter(database, metrics)
    quick = LimiterKey("exact", "c1", (Window(1, 0.2, margin=0),))
    limiter.acquire(quick)
    limiter.acquire(quick)  # waits for the window's next slot
    daily = LimiterKey("exact", "c2", (Window(1, 3600, margin=0),))
    limiter.acquire(daily)
    with pytest.raises(Transient):
        limiter.acquire(daily)  # an hour away: back to the queue
    limiter.defer(quick, 0.01)
    page = metrics.render()[0].decode()
    assert _sample(page, "ledgerlink_rate_limit_waits_total", erp="exact") == 1
    seconds = _sample(page, "ledgerlink_rate_limit_wait_seconds_total", erp="exact")
    assert seconds is not None and 0.05 < seconds <= 0.25
    assert _sample(page, "ledgerlink_rate_limit_deferrals_total", erp="exact") == 1
    assert _sample(page, "ledgerlink_rate_limit_server_pauses_total", erp="exact") == 1


def test_queue_depth_is_zero_before_any_worker_made_the_queue(tmp_path: Path) -> None:
    depth = QueueDepth(WorkerOptions(system_database_url=f"sqlite:///{tmp_path / 'wf.db'}"))
    assert depth() == 0
    assert not (tmp_path / "wf.db").exists()  # a scrape creates nothing
    depth.close()


def test_queue_depth_is_read_from_dbos_with_workers_here_and_from_its_database_without(
    database: Database, tmp_path: Path
) -> None:
    hub = build_hub(database, tmp_path, FakeErp())
    options = WorkerOptions(system_database_url=f"sqlite:///{tmp_path / 'wf.db'}")
    depth = QueueDepth(options)
    metrics = HubMetrics(database, queue_depth=depth)
    workers = Workers(hub.engine, options)
    workers.start()
    try:
        hub.erp.fail("create_document", Transient("fake ERP: daily cap", retry_after=3600))
        transfer = hub.engine.start_transfer(hub.connection_id, require_id(hub.invoices[0]))
        assert workers.run([transfer], follow=0) == {require_id(transfer): TransferStatus.PENDING}
        with_workers = _sample(metrics.render()[0].decode(), "ledgerlink_queue_depth")
    finally:
        workers.stop()
    # This process no longer runs DBOS: the same number from the system database.
    without = _sample(metrics.render()[0].decode(), "ledgerlink_queue_depth")
    depth.close()
    assert with_workers == without == 1  # the deferred run, delayed an hour


# /health -----------------------------------------------------------------------------------


def test_health_says_whether_the_database_answers(database: Database) -> None:
    def probe(db: Database) -> tuple[int, dict[str, Any]]:
        app = FastAPI()
        app.include_router(serving_router(db, HubMetrics(db)))
        with TestClient(app) as http:
            answer = http.get("/health")
        return answer.status_code, answer.json()

    status, body = probe(database)
    assert status == 200 and body["database"] == "reachable" and body["status"] == "ok"
    gone = Database("postgresql://nobody@127.0.0.1:1/none")
    started = time.monotonic()
    status, body = probe(gone)
    assert status == 503 and body["database"] == "unreachable"
    assert time.monotonic() - started < 5
    gone.dispose()


# access log --------------------------------------------------------------------------------


def test_access_log_lines_carry_no_secret(hub_app: Served) -> None:
    api_key = hub_app.keys[Role.FINANCE]
    with hub_app.client(LOCAL) as http:
        browser = Browser(http)
        browser.sign_in("finance", PASSWORD)
        session = http.cookies.get("ledgerlink_session")
        assert session
        http.get(
            "/transfers", params={"token": "query-token-1", "code": "oauth-code-2", "q": "Nordlys"}
        )
        base = f"/api/v1/connections/{hub_app.hub.connection_id}"
        listed = http.get(base + "/documents", headers={"Authorization": f"Bearer {api_key}"})
        assert listed.status_code == 200
        refused = http.post(
            "/login",
            data={"name": "viewer", "password": "wrong-password-3", "csrf_token": "x"},
            headers={"Authorization": "Basic c2VjcmV0LWJhc2ljLTQ="},
        )
        assert refused.status_code == 403
    raw = hub_app.log.getvalue()
    for secret in (
        PASSWORD,
        api_key,
        session,
        "query-token-1",
        "oauth-code-2",
        "wrong-password-3",
        "c2VjcmV0LWJhc2ljLTQ=",
    ):
        assert secret not in raw, secret
    lines = hub_app.lines()
    assert all(line["event"] == "http.access" for line in lines)
    assert all(
        set(line) >= {"method", "path", "status", "duration_ms", "peer", "user", "time"}
        for line in lines
    )
    sign_in = next(line for line in lines if line["method"] == "POST" and line["status"] == 303)
    assert sign_in["path"] == "/login" and sign_in["user"] is None
    table = next(line for line in lines if line["path"] == "/transfers")
    assert table["user"] == "finance" and table["status"] == 200
    assert "token=***" in table["query"] and "code=***" in table["query"]
    assert "q=Nordlys" in table["query"]
    api = next(line for line in lines if line["path"].startswith("/api/v1"))
    assert api["user"] == "finance" and api["status"] == 200 and api["peer"] == "127.0.0.1"


def test_safe_query_keeps_harmless_values_and_hides_secret_ones() -> None:
    query = b"view=failed&api_key=k1&state=s2&password=p3&connection=4"
    assert safe_query(query) == "view=failed&api_key=***&state=***&password=***&connection=4"


# forwarded headers -------------------------------------------------------------------------

FORWARDED = {"X-Forwarded-For": "198.51.100.20", "X-Forwarded-Proto": "https"}


def test_forwarded_headers_are_honoured_from_the_named_proxy_only(hub_app: Served) -> None:
    proxy = ("10.0.0.5", 41000)
    stranger = ("10.0.0.9", 41000)
    with hub_app.client(stranger, proxies=["10.0.0.5"], base_url="http://hub") as http:
        assert http.get("/login", headers=FORWARDED).status_code == 200
    with hub_app.client(proxy, proxies=["10.0.0.5"], base_url="http://hub") as http:
        page = http.get("/login", headers=FORWARDED)
        assert page.status_code == 200
    # Nothing named: not even loopback is trusted.
    with hub_app.client(LOCAL, base_url="http://hub") as http:
        assert http.get("/login", headers=FORWARDED).status_code == 200
    untrusted, trusted, unnamed = hub_app.lines()
    assert (untrusted["peer"], untrusted["scheme"]) == ("10.0.0.9", "http")
    assert (trusted["peer"], trusted["scheme"]) == ("198.51.100.20", "https")
    assert (unnamed["peer"], unnamed["scheme"]) == ("127.0.0.1", "http")
    # The console's cookies stay Secure whatever scheme the hop to the hub had.
    assert "secure" in page.headers["set-cookie"].lower()
    assert CSRF_INPUT.search(page.text)


def test_addresses_the_app_builds_carry_the_browser_s_scheme_behind_the_proxy() -> None:
    """What the console's redirects and the OAuth callback address are made from."""
    app = FastAPI()

    @app.get("/where", name="where")
    def where(request: Request) -> str:
        return str(request.url_for("where"))

    asgi = served(app, trusted_proxies=["10.0.0.5"], log=json_logger(io.StringIO()))
    with TestClient(asgi, base_url="http://hub.example", client=("10.0.0.5", 1)) as http:
        assert http.get("/where", headers=FORWARDED).json() == "https://hub.example/where"
    with TestClient(asgi, base_url="http://hub.example", client=("10.0.0.6", 1)) as http:
        assert http.get("/where", headers=FORWARDED).json() == "http://hub.example/where"


def test_a_network_names_its_proxies() -> None:
    listening = listening_of(
        host="127.0.0.1",
        port=8080,
        tls_cert=None,
        tls_key=None,
        behind_proxy=True,
        trusted_proxy=["10.0.0.7/24, 127.0.0.1", "::1"],
    )
    assert listening.trusted_proxies == ("10.0.0.0/24", "127.0.0.1", "::1")
    assert listening.url == "http://127.0.0.1:8080/"
    app = FastAPI()

    @app.get("/")
    def home() -> str:
        return "hub"

    log = io.StringIO()
    asgi = served(app, trusted_proxies=listening.trusted_proxies, log=json_logger(log))
    with TestClient(asgi, client=("10.0.0.42", 1)) as http:
        http.get("/", headers=FORWARDED)
    assert json.loads(log.getvalue())["peer"] == "198.51.100.20"


# the API's transfers -----------------------------------------------------------------------


def test_the_api_hands_started_transfers_to_the_queue(hub_app: Served) -> None:
    finance = {"Authorization": f"Bearer {hub_app.keys[Role.FINANCE]}"}
    number = hub_app.hub.invoices[0].number
    with hub_app.client(LOCAL) as http:
        started = http.post(
            f"/api/v1/connections/{hub_app.hub.connection_id}/transfers",
            json={"numbers": [number]},
            headers=finance,
        )
    assert started.status_code == 202, started.text
    assert started.json()["queued"] is True
    assert len(hub_app.queue.submitted) == 1


class _Workers:
    def __init__(self) -> None:
        self.started = 0
        self.queued: list[list[int]] = []
        self.stopped = False

    def start(self) -> None:
        self.started += 1

    def enqueue_all(self, transfers: Sequence[Transfer]) -> dict[int, str]:
        self.queued.append([require_id(t) for t in transfers])
        return {}

    def stop(self) -> None:
        self.stopped = True


def test_serve_s_queue_joins_the_workers_at_the_first_submit_and_queues_at_once() -> None:
    workers = _Workers()
    queue = QueueOnDemand(lambda: workers)  # type: ignore[arg-type,return-value]
    assert queue.submit([]) == 0 and workers.started == 0
    transfers = [
        Transfer(id=7, connection_id=1, invoice_id=3, revision=1, workflow_id="transfer:1:3:1")
    ]
    assert queue.submit(transfers) == 1
    assert queue.submit(transfers) == 1
    assert workers.started == 1 and workers.queued == [[7], [7]]
    queue.stop()
    assert workers.stopped


# serve's options ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "said"),
    [
        ([], "give --tls-cert and --tls-key to serve HTTPS, or --behind-proxy"),
        (["--tls-cert", "{cert}"], "give both --tls-cert and --tls-key"),
        (["--tls-cert", "{missing}", "--tls-key", "{cert}"], "no such file"),
        (["--behind-proxy"], "--behind-proxy needs --trusted-proxy"),
        (["--trusted-proxy", "127.0.0.1", "--tls-cert", "{cert}", "--tls-key", "{cert}"],
         "--trusted-proxy goes with --behind-proxy"),
        (["--behind-proxy", "--trusted-proxy", "*"], "would honour anyone's"),
        (["--behind-proxy", "--trusted-proxy", "proxy.internal"], "not an IP address"),
        (["--behind-proxy", "--trusted-proxy", "10.0.0.5", "--host", "0.0.0.0"],
         "only on a loopback --host"),
    ],
)  # fmt: skip
def test_serve_refuses_a_bad_combination_in_one_line(
    tmp_path: Path, args: list[str], said: str
) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("not read before the options are checked")
    given = [a.format(cert=cert, missing=tmp_path / "missing.pem") for a in args]
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "serve", *given])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and said in lines[0], lines


# ledgerlink demo --serve -------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def demo_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    port = _free_port()
    child = subprocess.Popen(
        [sys.executable, "-c", "from ledgerlink.cli.app import main; main()",
         "--data-dir", str(tmp_path), "demo", "--psa-only", "--serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    lines: list[str] = []
    try:
        yield child, lines
    finally:
        child.send_signal(signal.SIGINT)
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def test_demo_serve_prints_the_console_and_a_one_time_password_and_keeps_serving(
    demo_process: tuple[subprocess.Popen[str], list[str]],
) -> None:
    child, lines = demo_process
    assert child.stdout is not None
    url = password = None
    deadline = time.monotonic() + 60
    while password is None:
        assert time.monotonic() < deadline, "".join(lines)
        line = child.stdout.readline()
        assert line or child.poll() is None, "".join(lines)
        lines.append(line)
        if found := re.search(r"Web console: (http://127\.0\.0\.1:\d+/)", line):
            url = found[1]
        if found := re.search(r"one-time password (\S+)", line):
            password = found[1]
    assert url is not None
    with httpx2.Client(base_url=url, timeout=5) as http:
        while True:
            try:
                health = http.get("/health")
                break
            except httpx2.TransportError:
                assert time.monotonic() < deadline and child.poll() is None, "".join(lines)
                time.sleep(0.1)
        assert health.json()["database"] == "reachable"
        browser = Browser(http)
        assert browser.sign_in("admin", password).status_code == 303  # type: ignore[attr-defined]
        assert http.get("/").status_code == 200
        assert "ledgerlink_database_up 1.0" in http.get("/metrics").text
