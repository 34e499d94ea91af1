"""A worker started apart serves its own metrics (``ledgerlink worker --metrics-port``, issue
14 item 11): the counters of its process (ERP requests by status, rate-limit waits) on a port
of its own, and not the families ``ledgerlink serve`` reads from the database — so a scrape
of serve and of each worker adds up without counting anything twice."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx2
import pytest
import stamina
from typer.testing import CliRunner

from ledgerlink.cli.app import app as cli
from ledgerlink.cli.context import UserError
from ledgerlink.cli.worker import worker_metrics
from ledgerlink.connectors.contract import Transient
from ledgerlink.connectors.registry import spec_for
from ledgerlink.emulators._kit.serve import running
from ledgerlink.emulators.economic import EconomicEmulator
from ledgerlink.store.database import Database
from ledgerlink.sync.registry import hub_environment
from tests.web.test_serving import _sample

DATABASE_COUNTED = ("ledgerlink_transfers", "ledgerlink_expense_exports", "ledgerlink_queue_depth")


@pytest.fixture
def emulator() -> Iterator[tuple[EconomicEmulator, str]]:
    erp = EconomicEmulator(app_secret_token="app-secret", agreement_grant_token="grant-token")
    with running(erp.app) as base_url:
        yield erp, base_url


def test_a_worker_serves_its_erp_requests_and_waits_and_not_the_database_s_numbers(
    database: Database, emulator: tuple[EconomicEmulator, str]
) -> None:
    erp, base_url = emulator
    with worker_metrics(database, host="127.0.0.1", port=0) as metered:
        assert metered.url.startswith("http://127.0.0.1:") and metered.url.endswith("/metrics")
        # The worker's wiring: its connectors get the limiter that counts its waits.
        connector = spec_for("economic").factory(
            {"app_secret_token": "app-secret", "agreement_grant_token": "grant-token"},
            {"base_url": base_url},
            hub_environment(database, limiter=metered.limiter),
        )
        try:
            connector.verify()
            erp.faults.set("/self", rate_limit_rate=1.0, retry_after=0)
            with stamina.set_testing(True, attempts=1), pytest.raises(Transient):
                connector.verify()
        finally:
            connector.close()
        page = httpx2.get(metered.url).text
    assert _sample(page, "ledgerlink_erp_requests_total", erp="economic", status="200") == 1
    assert _sample(page, "ledgerlink_erp_requests_total", erp="economic", status="429") == 1
    assert "# TYPE ledgerlink_rate_limit_waits_total counter" in page
    help_line = next(line for line in page.splitlines() if "HELP ledgerlink_erp_requests" in line)
    assert "--metrics-port" in help_line
    for family in (*DATABASE_COUNTED, "ledgerlink_database_up"):
        assert f"# TYPE {family} " not in page, family
    # The endpoint is gone with the block.
    with pytest.raises(httpx2.TransportError):
        httpx2.get(metered.url, timeout=2)


def test_a_port_already_taken_is_one_line_saying_what_to_do(database: Database) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with (
            pytest.raises(UserError, match=r"choose another --metrics-port"),
            worker_metrics(database, host="127.0.0.1", port=port),
        ):
            pass
    with (
        pytest.raises(UserError, match="is not a port"),
        worker_metrics(database, host="::1", port=70000),
    ):
        pass


def test_the_worker_command_offers_the_metrics_port_and_says_what_is_on_serve_only() -> None:
    answer = CliRunner().invoke(cli, ["worker", "--help"], env={"COLUMNS": "200"})
    assert answer.exit_code == 0, answer.output
    text = " ".join(answer.output.split())
    assert "--metrics-port" in text and "--metrics-host" in text
    assert "'ledgerlink serve' only" in text
