"""The dashboard (issue 14 item 2): the pure pieces (the chart, what a rate-limit
budget can tell, an agent's heartbeat), and the page over the engine's hub and the fake ERP on
both databases: the connection's state, counts per view, a failed document needing attention,
the chart's bars, setup not complete, a FinancialHost agent's heartbeat."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from ledgerlink.connectors.contract import Permanent
from ledgerlink.domain.entity import require_id
from ledgerlink.domain.transfers import ProductNumberPrinciples, TransferStatus
from ledgerlink.domain.users import Role
from ledgerlink.store.database import Database
from ledgerlink.store.ratelimits import RateLimitRecord
from ledgerlink.store.relay import Agent, RelayStore
from ledgerlink.sync import connections
from ledgerlink.web.dashboard_page import (
    MISSED_HEARTBEAT,
    agent_state,
    budget_lines,
    chart_of,
)
from tests.web.support import Console, build_console

NOW = datetime(2026, 12, 7, 15, 30, tzinfo=UTC)
MICROS = 1_000_000


# the pure pieces ------------------------------------------------------------------------------


def test_the_chart_stacks_each_days_outcomes_over_thirty_days() -> None:
    today = date(2026, 12, 7)
    noon = datetime(2026, 12, 7, 12, tzinfo=UTC)
    transfers = [
        (noon, TransferStatus.SUCCESSFUL),
        (noon, TransferStatus.SUCCESSFUL),
        (noon, TransferStatus.FAILED),
        (noon - timedelta(days=1), TransferStatus.PARTIALLY_FAILED),
        (noon.replace(tzinfo=None) - timedelta(days=29), TransferStatus.SUCCESSFUL),  # naive UTC
        (noon - timedelta(days=30), TransferStatus.FAILED),  # before the chart's first day
    ]
    chart = chart_of(transfers, today=today)
    assert len(chart.days) == 30 and chart.days[0].day == date(2026, 11, 8)
    assert (chart.total, chart.highest) == (5, 3)
    last = chart.days[-1]
    assert [(s.status, s.count) for s in last.segments] == [
        (TransferStatus.SUCCESSFUL, 2),
        (TransferStatus.FAILED, 1),
    ]
    ok, failed = last.segments
    # The tallest day fills the box.
    assert ok.y + ok.height == pytest.approx(chart.height) and failed.y == 0
    assert last.title() == "2026-12-07: 2 successful, 1 failed"
    assert chart.days[5].title().endswith("no transfers") and chart.days[5].segments == ()
    assert chart_of([], today=today).highest == 0


def test_a_daily_window_tells_todays_use_and_a_sliding_one_says_it_cannot() -> None:
    day_start = int(datetime(2026, 12, 7, tzinfo=UTC).timestamp()) * MICROS
    minute_start = int(datetime(2026, 12, 7, 15, 30, tzinfo=UTC).timestamp()) * MICROS
    exact = RateLimitRecord(
        marks={"fixed 5000/86400s": (day_start, 1234), "fixed 60/60s": (minute_start, 7)}
    )
    lines, today = budget_lines(exact, NOW)
    assert today
    assert "today (since 2026-12-07 00:00 UTC): 1,234 of 5,000 calls (25%)" in lines
    assert any("7 used in the window since 15:30:00 UTC" in line for line in lines)
    yesterday = RateLimitRecord(marks={"fixed 5000/86400s": (day_start - 86_400 * MICROS, 4999)})
    assert "0 of 5,000 calls" in budget_lines(yesterday, NOW)[0][0]
    ahead = int(NOW.timestamp() * MICROS) + 2 * MICROS
    fortnox = RateLimitRecord(paused_until=ahead, marks={"sliding 25/5s": (ahead, 0)})
    lines, today = budget_lines(fortnox, NOW)
    assert not today
    assert lines[0] == "paused at the ERP's request until 15:30:02 UTC"
    assert "next call fits in 2.0 s" in lines[1] and "cannot tell today's use" in lines[1]


def test_a_missed_heartbeat_an_unreachable_erp_and_a_disagreeing_audit_log_are_problems() -> None:
    def agent(beat_at: datetime | None, **beat: object) -> Agent:
        return Agent("a1", "sealed", beat_at, {"version": "1.2", **beat}, beat_at)

    fine = agent_state("a1", agent(NOW - timedelta(seconds=20), erp_reachable=True), NOW)
    assert fine.problems == () and fine.ago == "20 s ago" and fine.version == "1.2"
    late = agent_state("a1", agent(NOW - MISSED_HEARTBEAT - timedelta(minutes=10)), NOW)
    assert late.problems[0].startswith("missed heartbeats: the last came 12 min ago")
    cut_off = agent_state("a1", agent(NOW, erp_reachable=False, erp_problem="NAV is down"), NOW)
    assert cut_off.problems == ("the agent cannot reach the ERP: NAV is down",)
    silent = agent_state("a1", agent(None), NOW)
    assert silent.problems == ("no heartbeat received yet",) and silent.ago == "never"
    assert agent_state("a1", None, NOW).problems == ("the agent has not enrolled",)
    tampered = Agent("a1", "s", NOW, {}, NOW, 5, "count went back from 9 to 5")
    assert "does not agree" in agent_state("a1", tampered, NOW).problems[0]


# the page ---------------------------------------------------------------------------------------


@pytest.fixture
def console(database: Database, tmp_path: Path) -> Console:
    return build_console(database, tmp_path)


def test_the_dashboard_shows_counts_a_failed_document_and_the_days_bars(console: Console) -> None:
    failing, fine = console.hub.invoices
    console.hub.erp.fail("create_document", Permanent("Kunden mangler", hint="Add it"))
    for invoice in (failing, fine):
        started = console.hub.engine.start_transfer(console.connection_id, require_id(invoice))
        console.hub.engine.transfer_now(require_id(started))
    with console.client(Role.VIEWER) as browser:
        page = browser.http.get("/")
    assert page.status_code == 200
    text = page.text
    assert "Connection established" in text and "Integration active" in text
    assert "NORDLYS" in text  # the legal entity's heading
    counts = dict(
        re.findall(r'view=(\w+)" class="view-\w+">[^<]+<span class="count">(\d+)</span>', text)
    )
    assert counts == {
        "non_transferred": "0",
        "transferred": "1",
        "ignored": "0",
        "failed": "1",
        "attention": "1",
    }
    failed_log = re.search(
        rf'<a href="/log\?connection={console.connection_id}&amp;transaction=(\d+)">'
        rf"invoice {failing.number}</a>",
        text,
    )
    assert failed_log, text
    assert 'class="status failed">failed<' in text
    today = datetime.now(UTC).date().isoformat()
    assert f"<title>{today}: 1 successful, 1 failed</title>" in text
    assert 'class="bar successful"' in text and 'class="bar failed"' in text
    assert "<script" not in text.split("<main>")[1]  # the chart is SVG, no script
    assert "No call to fake recorded in the shared budget yet" in text  # the fake has no limiter
    assert "FinancialHost agent" not in text  # not a FinancialHost connection


def test_an_agent_connection_without_principles_shows_setup_missing_and_its_heartbeat(
    console: Console,
) -> None:
    connections.configure(
        console.hub.engine,
        console.connection_id,
        principles=ProductNumberPrinciples(),
        settings={"agent_id": "nav-agent-7"},
    )
    relay = RelayStore(console.database)
    relay.enrol("nav-agent-7", "sealed")
    relay.seen("nav-agent-7", heartbeat={"version": "2.0", "erp_reachable": True})
    with console.client(Role.VIEWER) as browser:
        text = browser.http.get("/").text
    # The setup wizard's rule (sync.connections.setup_steps): principles are a required step.
    assert "Disabled until setup is complete" in text
    assert "Product-number principles and defaults: missing or not imported: work" in text
    assert "Integration active" not in text
    assert "An admin completes the setup" in text  # a viewer is not sent to the wizard
    assert "FinancialHost agent" in text
    assert "<code>nav-agent-7</code> (version 2.0)" in text
    assert "Heartbeats arriving" in text
