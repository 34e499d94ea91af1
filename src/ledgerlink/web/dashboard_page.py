"""The dashboard, the console's start page (issue 14 item 2): per legal entity, each
connection with its state (connected, active, or disabled until setup is complete), its
counts per transfer view, the documents needing attention, a chart of transfers per day by
outcome over the last 30 days (inline SVG drawn here, no script), the rate-limit budget used
today, and for a FinancialHost connection its agent's last heartbeat.

Whether setup is complete is the setup wizard's own rule (:func:`ledgerlink.sync.connections.
setup_steps`: the steps an integration needs before it can be activated). Reading
(:func:`dashboard`) is kept apart from the pure pieces (:func:`chart_of`,
:func:`budget_lines`, :func:`agent_state`) that decide what is shown.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ledgerlink.connectors.registry import spec_for
from ledgerlink.connectors.spec import CredentialKind
from ledgerlink.domain.entity import require_id
from ledgerlink.domain.errors import LedgerlinkError, ValidationError
from ledgerlink.domain.transfers import Connection, TransferStatus, TransferView
from ledgerlink.store.ratelimits import RateLimitRecord, RateLimitStore
from ledgerlink.store.relay import Agent, RelayStore
from ledgerlink.sync import connections, table
from ledgerlink.sync.agents import agent_of
from ledgerlink.web.auth import Reader

if TYPE_CHECKING:
    from ledgerlink.web.console import ConnectionView, Console

#: Days the chart covers (today included).
CHART_DAYS = 30
#: The documents needing attention listed per connection (the transfer table has them all).
ATTENTION_SHOWN = 10
#: An agent heartbeats every 30 s by default (FinancialHost's ``heartbeat_seconds``); this
#: long without one is a problem (four missed, so one slow beat is not an alarm).
MISSED_HEARTBEAT = timedelta(minutes=2)
#: The chart's outcomes, bottom to top.
OUTCOMES = (
    TransferStatus.SUCCESSFUL,
    TransferStatus.PARTIALLY_FAILED,
    TransferStatus.FAILED,
    TransferStatus.PENDING,
)
VIEWS = (
    (TransferView.NON_TRANSFERRED, "Non-transferred"),
    (TransferView.TRANSFERRED, "Transferred"),
    (TransferView.IGNORED, "Ignored"),
    (TransferView.FAILED, "Failed"),
    (TransferView.ATTENTION, "Attention"),
)


# the pure pieces --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Segment:
    """One outcome's part of a day's bar, in the SVG's coordinates."""

    status: TransferStatus
    count: int
    x: int
    y: float
    height: float


@dataclass(frozen=True, slots=True)
class DayBar:
    day: date
    x: int
    counts: Mapping[TransferStatus, int]
    segments: tuple[Segment, ...]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def title(self) -> str:
        said = ", ".join(
            f"{self.counts[s]} {s.value.replace('_', ' ')}" for s in OUTCOMES if self.counts.get(s)
        )
        return f"{self.day.isoformat()}: {said or 'no transfers'}"


@dataclass(frozen=True, slots=True)
class Chart:
    """Transfers per day by outcome: bars of ``bar_width`` with ``gap`` between them in a
    ``width`` × ``height`` box (the tallest day fills it)."""

    days: tuple[DayBar, ...]
    highest: int
    width: int
    height: int
    bar_width: int

    @property
    def total(self) -> int:
        return sum(d.total for d in self.days)


def chart_of(
    transfers: Iterable[tuple[datetime, TransferStatus]],
    *,
    today: date,
    days: int = CHART_DAYS,
    bar_width: int = 12,
    gap: int = 3,
    height: int = 100,
) -> Chart:
    """The chart of the transfers started on each of the ``days`` days up to ``today`` (UTC
    days; a transfer's outcome is its status now)."""
    first = today - timedelta(days=days - 1)
    counts: dict[date, Counter[TransferStatus]] = {
        first + timedelta(days=i): Counter() for i in range(days)
    }
    for started, status in transfers:
        aware = started if started.tzinfo is not None else started.replace(tzinfo=UTC)
        day = aware.astimezone(UTC).date()
        if day in counts:
            counts[day][status] += 1
    highest = max((sum(c.values()) for c in counts.values()), default=0)
    bars = []
    for index, (day, counted) in enumerate(sorted(counts.items())):
        x = index * (bar_width + gap)
        top = float(height)
        segments = []
        for status in OUTCOMES:
            count = counted.get(status, 0)
            if not count:
                continue
            part = height * count / highest
            top -= part
            segments.append(Segment(status, count, x, round(max(top, 0.0), 2), round(part, 2)))
        bars.append(DayBar(day, x, dict(counted), tuple(segments)))
    return Chart(tuple(bars), highest, days * (bar_width + gap) - gap, height, bar_width)


_WINDOW = re.compile(r"^(sliding|fixed) (\d+)/([0-9.e+]+)s(?:@(-?[0-9.e+]+))?$")
_DAY = 86_400


def budget_lines(record: RateLimitRecord, now: datetime) -> tuple[tuple[str, ...], bool]:
    """What a stored budget tells of its use: one line per window (and the ERP's pause), and
    whether any of them counts today's calls (only a fixed daily window does: a sliding
    window keeps only the moment its next call fits)."""
    lines = []
    counts_today = False
    at = int(now.timestamp() * 1_000_000)
    if record.paused_until > at:
        until = datetime.fromtimestamp(record.paused_until / 1_000_000, UTC)
        lines.append(f"paused at the ERP's request until {until:%H:%M:%S} UTC")
    for ident, (first, second) in sorted(record.marks.items()):
        parsed = _WINDOW.match(ident)
        if parsed is None:
            lines.append(f"{ident}: not a window this console knows")
            continue
        kind, calls, seconds, offset = parsed.groups()
        limit, period = int(calls), float(seconds)
        if kind == "sliding":
            busy = first - at
            state = f"next call fits in {busy / 1_000_000:.1f} s" if busy > 0 else "a call fits now"
            lines.append(
                f"{limit:,} per {period:g} s (sliding): {state}; a sliding window keeps no "
                "count, so it cannot tell today's use"
            )
            continue
        span = round(period * 1_000_000)
        shift = round(float(offset or 0) * 1_000_000)
        begins = shift + (at - shift) // span * span
        used = second if first == begins else 0
        since = datetime.fromtimestamp(begins / 1_000_000, UTC)
        share = f" ({used / limit:.0%})" if limit else ""
        if round(period) == _DAY:
            counts_today = True
            lines.append(
                f"today (since {since:%Y-%m-%d %H:%M} UTC): {used:,} of {limit:,} calls{share}"
            )
        else:
            lines.append(
                f"{limit:,} per {period:g} s (fixed): {used:,} used in the window since "
                f"{since:%H:%M:%S} UTC{share}"
            )
    return tuple(lines), counts_today


@dataclass(frozen=True, slots=True)
class Budget:
    """One stored budget (ERP × credential fingerprint) and what it tells."""

    credential: str
    lines: tuple[str, ...]
    counts_today: bool


@dataclass(frozen=True, slots=True)
class AgentState:
    """A FinancialHost connection's agent: its last heartbeat and what is wrong."""

    agent_id: str
    heartbeat_at: datetime | None
    ago: str
    version: str
    problems: tuple[str, ...]


def _ago(moment: datetime, now: datetime) -> str:
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    if seconds < 2 * _DAY:
        return f"{seconds // 3600} h ago"
    return f"{seconds // _DAY} days ago"


def agent_state(agent_id: str, agent: Agent | None, now: datetime) -> AgentState:
    """The agent's last heartbeat, and a problem for each thing that needs someone: never
    enrolled or heard from, heartbeats missed, the ERP out of its reach, its audit log not
    agreeing with what the hub saw."""
    if agent is None:
        return AgentState(agent_id, None, "never", "", ("the agent has not enrolled",))
    problems = []
    beat = agent.heartbeat or {}
    if agent.heartbeat_at is None:
        problems.append("no heartbeat received yet")
        ago = "never"
    else:
        ago = _ago(agent.heartbeat_at, now)
        if now - agent.heartbeat_at > MISSED_HEARTBEAT:
            problems.append(
                f"missed heartbeats: the last came {ago} (expected every 30 s or so); "
                "check that the FinancialHost service runs and reaches the hub"
            )
    if beat.get("erp_reachable") is False:
        problems.append(
            f"the agent cannot reach the ERP: {beat.get('erp_problem') or 'no reason given'}"
        )
    if agent.audit_problem:
        problems.append(f"its audit log does not agree with the hub's: {agent.audit_problem}")
    return AgentState(
        agent_id, agent.heartbeat_at, ago, str(beat.get("version", "")), tuple(problems)
    )


# reading ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AttentionRow:
    document: str
    customer: str
    reason: str
    transfer_id: int | None


@dataclass(frozen=True, slots=True)
class ConnectionBoard:
    """One connection on the dashboard."""

    connection: ConnectionView
    gaps: tuple[str, ...]
    counts: Mapping[TransferView, int]
    attention: tuple[AttentionRow, ...]
    chart: Chart
    budgets: tuple[Budget, ...]
    shared_budget: bool  # other connections to the same ERP: budgets are per credential
    financialhost: bool
    agent: AgentState | None

    @property
    def ready(self) -> bool:
        return self.connection.active and not self.gaps

    @property
    def attention_total(self) -> int:
        return self.counts.get(TransferView.ATTENTION, 0)

    @property
    def budget_counts_today(self) -> bool:
        return any(b.counts_today for b in self.budgets)


@dataclass(frozen=True, slots=True)
class EntityBoard:
    code: str
    name: str
    connections: list[ConnectionBoard] = field(default_factory=list)


def _is_financialhost(connection: Connection) -> bool:
    if agent_of(connection.settings):
        return True
    try:
        return spec_for(connection.erp).credential_kind is CredentialKind.FINANCIALHOST
    except ValidationError:
        return False


def setup_gaps(console: Console, connection_id: int) -> tuple[str, ...]:
    """The setup steps an integration needs that are not done yet (empty: complete)."""
    try:
        steps = connections.setup_steps(console.engine, connection_id)
    except LedgerlinkError as error:  # e.g. credentials sealed with another key
        return (f"the connection cannot be checked: {error}",)
    return tuple(f"{s.title}: {s.summary}" for s in steps if s.required and not s.done)


def _board(
    console: Console, view: ConnectionView, connection: Connection, now: datetime, shared: bool
) -> ConnectionBoard:
    engine = console.engine
    connection_id = view.id
    cutoff = datetime.combine(
        now.date() - timedelta(days=CHART_DAYS - 1), datetime.min.time(), tzinfo=UTC
    )
    with console.uow() as uow:
        started = uow.dashboard.transfer_outcomes(connection_id, since=cutoff)
        credentials = uow.dashboard.budget_credentials(connection.erp)
    rows = table.transfer_table(engine, connection_id)
    counts: Counter[TransferView] = Counter(r.view for r in rows)
    needing = [r for r in rows if r.attention]
    counts[TransferView.ATTENTION] = len(needing)
    store = RateLimitStore(engine.database)
    budgets = []
    for credential in credentials:
        lines, today = budget_lines(store.read(connection.erp, credential), now)
        budgets.append(Budget(credential, lines, today))
    financialhost = _is_financialhost(connection)
    agent_id = agent_of(connection.settings)
    agent = (
        agent_state(agent_id, RelayStore(engine.database).agent(agent_id), now)
        if agent_id
        else None
    )
    return ConnectionBoard(
        connection=view,
        gaps=setup_gaps(console, connection_id),
        counts=dict(counts),
        attention=tuple(
            AttentionRow(
                r.invoice.describe(),
                f"{r.customer_number} {r.customer_name}",
                r.attention,
                r.latest.id if r.latest else None,
            )
            for r in needing[:ATTENTION_SHOWN]
        ),
        chart=chart_of(started, today=now.date()),
        budgets=tuple(budgets),
        shared_budget=shared,
        financialhost=financialhost,
        agent=agent,
    )


def dashboard(console: Console, now: datetime) -> list[EntityBoard]:
    """Every legal entity with its connections' boards (entities without one included)."""
    views = console.connections()
    with console.uow() as uow:
        entities = uow.legal_entities.list()
        stored = {require_id(c): c for c in uow.connections.list()}
    per_erp = Counter(c.erp for c in stored.values())
    boards = {require_id(e): EntityBoard(e.code, e.name) for e in entities}
    for view in views:
        connection = stored[view.id]
        board = boards.get(connection.legal_entity_id)
        if board is None:
            continue
        board.connections.append(
            _board(console, view, connection, now, per_erp[connection.erp] > 1)
        )
    return list(boards.values())


def add_routes(router: APIRouter, console: Console) -> None:
    @router.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request, principal: Reader) -> HTMLResponse:
        now = datetime.now(UTC)
        return console.page(
            request,
            "dashboard.html",
            principal,
            entities=dashboard(console, now),
            views=VIEWS,
            outcomes=OUTCOMES,
            now=now,
        )
