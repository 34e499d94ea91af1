"""The e-conomic emulator's state: agreements with their documents, counters and settings.

Documents are kept as JSON-like dicts in their stored form (money as ``Decimal``, dates as ISO
strings, references as ``{"customerNumber": 1}``); the routers add links when rendering. Keys
starting with ``_`` are internal and never rendered. The state's one lock guards all of it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ledgerlink.emulators._kit.state import EmulatorState

__all__ = ["Agreement", "EconomicState", "Settings"]

Document = dict[str, Any]


@dataclass
class Settings:
    """Switches an ERP administrator (or a test) can flip through ``PUT /_emulator/settings``."""

    project_module: bool = False
    daily_limit: int = 50_000
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


SETTING_NAMES = {
    "projectModule": "project_module",
    "dailyLimit": "daily_limit",
    "retryAfterOnLimit": "retry_after_on_limit",
    "appRole": "app_role",
    "today": "today",
}


@dataclass
class Agreement:
    """One e-conomic agreement (company) and everything in it."""

    number: int
    company: Document
    base_currency: str = "DKK"
    tables: dict[str, dict[str, Document]] = field(default_factory=dict)
    entries: list[Document] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)
    settings: Settings = field(default_factory=Settings)
    revoked: bool = False
    fair_use_window_start: float = 0.0
    fair_use_calls: int = 0

    def table(self, name: str) -> dict[str, Document]:
        """The named table (created empty on first use), keyed by the id as a string."""
        return self.tables.setdefault(name, {})

    def get(self, name: str, key: object) -> Document | None:
        """One document of a table, or ``None``."""
        return self.tables.get(name, {}).get(str(key))

    def next_number(self, counter: str, *, start: int = 1) -> int:
        """The next value of a counter (never reused)."""
        value = self.counters.get(counter, start)
        self.counters[counter] = value + 1
        return value

    def count_call(self, now: float) -> int:
        """Count one API call in the rolling 24-hour fair-use window; return the count."""
        if now - self.fair_use_window_start >= 86_400:
            self.fair_use_window_start = now
            self.fair_use_calls = 0
        self.fair_use_calls += 1
        return self.fair_use_calls

    def seconds_until_window_resets(self, now: float) -> int:
        """Seconds until the fair-use window starts over."""
        return max(1, int(self.fair_use_window_start + 86_400 - now))

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

    @staticmethod
    def now() -> float:
        """Wall-clock seconds (the fair-use window)."""
        return time.time()
