"""The e-conomic emulator's state: agreements with their documents, counters and settings.

Documents are kept as JSON-like dicts in their stored form (money as ``Decimal``, dates as ISO
strings, references as ``{"customerNumber": 1}``); the routers add links when rendering. Keys
starting with ``_`` are internal and never rendered. The state's one lock guards all of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ledgerlink.emulators._kit.ratelimit import LimitWindow
from ledgerlink.emulators._kit.state import EmulatorState, Tables

__all__ = ["Agreement", "EconomicState", "Settings", "rate_windows"]

Document = dict[str, Any]


@dataclass
class Settings:
    """Switches an ERP administrator (or a test) can flip through ``PUT /_emulator/settings``."""

    project_module: bool = False
    #: Fair use: calls per 24 hours per agreement (e-conomic's fair use policy).
    daily_limit: int = 50_000
    #: The token-bucket limit e-conomic rolls out from December 2025 — announced by a third
    #: party (Apideck's integration guide); e-conomic has published no numbers, so these are
    #: ours: at most ``burst_limit`` calls in any ``burst_seconds`` per agreement.
    burst_limit: int = 300
    burst_seconds: float = 10.0
    #: Whether a 429 carries Retry-After (optional, unverified: the fact sheet §2.6).
    retry_after_on_limit: bool = True
    app_role: str = "SuperUser"
    today: str | None = None

    def current_date(self) -> date:
        """The emulator's "today" (pinned by ``today`` for deterministic runs)."""
        if self.today:
            return date.fromisoformat(self.today)
        # e-conomic's day boundary is Danish local time.
        return datetime.now(ZoneInfo("Europe/Copenhagen")).date()

    def to_json(self) -> dict[str, Any]:
        """The admin route's view (API spelling)."""
        return {api: getattr(self, name) for api, name in SETTING_NAMES.items()}


def rate_windows(settings: Settings) -> tuple[LimitWindow, LimitWindow]:
    """e-conomic's limits per agreement (counted per grant token), both sliding, no headers
    (none are documented): the announced token bucket as "at most ``burst_limit`` calls in any
    ``burst_seconds``" — a client that keeps to that keeps to a bucket of that size refilled at
    that rate — and fair use, ``daily_limit`` calls in any 24 hours (a client that keeps to a
    sliding day keeps to a calendar one too)."""
    return (
        LimitWindow(int(settings.burst_limit), float(settings.burst_seconds)),
        LimitWindow(int(settings.daily_limit), 24 * 3600.0),
    )


SETTING_NAMES = {
    "projectModule": "project_module",
    "dailyLimit": "daily_limit",
    "burstLimit": "burst_limit",
    "burstSeconds": "burst_seconds",
    "retryAfterOnLimit": "retry_after_on_limit",
    "appRole": "app_role",
    "today": "today",
}


@dataclass
class Agreement(Tables):
    """One e-conomic agreement (company) and everything in it."""

    number: int
    company: Document
    base_currency: str = "DKK"
    tables: dict[str, dict[str, Document]] = field(default_factory=dict)
    entries: list[Document] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)
    settings: Settings = field(default_factory=Settings)
    revoked: bool = False

    def to_json(self) -> dict[str, Any]:
        """Serialisable form (persistence)."""
        return {
            "number": self.number,
            "company": self.company,
            "baseCurrency": self.base_currency,
            "tables": self.tables,
            "entries": self.entries,
            "counters": self.counters,
            "settings": self.settings.to_json(),
            "revoked": self.revoked,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Agreement:
        """Inverse of :meth:`to_json`."""
        settings = Settings(**{SETTING_NAMES[k]: v for k, v in data["settings"].items()})
        return cls(
            number=data["number"],
            company=data["company"],
            base_currency=data["baseCurrency"],
            tables=data["tables"],
            entries=data["entries"],
            counters=data["counters"],
            settings=settings,
            revoked=data["revoked"],
        )


class EconomicState(EmulatorState):
    """The main agreement (kept in the state file as ``main``) and the separate demo agreement."""

    def __init__(self, main: Agreement, demo: Agreement, *, state_file: Path | None) -> None:
        super().__init__(path=state_file)
        self.main = main
        self.demo = demo
        self.log_sequence = 0
        self.add_part("main", dump=self._dump_main, load=self._load_main)

    def _dump_main(self) -> dict[str, Any]:
        return self.main.to_json()

    def _load_main(self, data: dict[str, Any]) -> None:
        self.main = Agreement.from_json(data)

    def next_log_id(self) -> int:
        """A sequence number for ``logId`` (deterministic per run)."""
        with self.lock:
            self.log_sequence += 1
            return self.log_sequence
