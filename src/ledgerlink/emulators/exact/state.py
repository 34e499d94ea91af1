"""The Exact emulator's state: divisions (companies), each with its tables, counters, locked
periods and the settings an administrator can change; kept in the state file as ``divisions``.

Records are dicts in their stored form (see :mod:`.model`); tables are keyed by the record's
key as a string. The state's one lock guards all of it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ledgerlink.emulators._kit.state import EmulatorState

__all__ = ["Division", "DivisionSettings", "ExactState"]

Record = dict[str, Any]


@dataclass
class DivisionSettings:
    """What an administrator (or a test) switches with ``PUT /_emulator/{division}/settings``.

    ``invalid_vat_numbers``: numbers the Chamber-of-Commerce check refuses (the real check asks
    VIES; an emulator cannot, so failing numbers are configured). ``today``: pins the date.
    """

    invalid_vat_numbers: list[str] = field(default_factory=lambda: ["NL000000000B00"])
    today: str | None = None

    def current_date(self) -> date:
        """The emulator's "today"."""
        if self.today:
            return date.fromisoformat(self.today)
        return datetime.now().date()  # noqa: DTZ005 - Exact's dates are the company's local time


@dataclass
class Division:
    """One Exact Online division (company)."""

    code: int
    description: str
    country: str
    currency: str
    tables: dict[str, dict[str, Record]] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    locked_periods: list[str] = field(default_factory=list)
    settings: DivisionSettings = field(default_factory=DivisionSettings)

    def table(self, path: str) -> dict[str, Record]:
        """The records of a resource (created empty on first use)."""
        return self.tables.setdefault(path, {})

    def next_number(self, counter: str, *, start: int = 1) -> int:
        """The next value of a counter (never reused)."""
        value = self.counters.get(counter, start)
        self.counters[counter] = value + 1
        return value

    def stamp(self, record: Record) -> None:
        """Give a new or changed record its next row version (``Timestamp``, which the
        ``sync/…`` endpoints filter on; any growing Int64 will do)."""
        record["Timestamp"] = self.next_number("timestamp", start=1_000_001)

    def period_locked(self, day: date) -> bool:
        """Whether the financial period of ``day`` (a calendar month here) is locked."""
        return f"{day.year}-{day.month:02d}" in self.locked_periods

    def to_json(self) -> dict[str, Any]:
        """The state file's form."""
        return {**asdict(self), "settings": asdict(self.settings)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Division:
        """Inverse of :meth:`to_json`."""
        return cls(**{**data, "settings": DivisionSettings(**data["settings"])})


class ExactState(EmulatorState):
    """Every division, by code; ``accessible`` are the ones the emulated user may open."""

    def __init__(
        self, divisions: list[Division], *, accessible: set[int], state_file: Path | None
    ) -> None:
        super().__init__(path=state_file)
        self.divisions = {division.code: division for division in divisions}
        self.accessible = accessible
        self.current = divisions[0].code
        self.add_part("divisions", dump=self._dump, load=self._load)

    def _dump(self) -> dict[str, Any]:
        return {
            "current": self.current,
            "divisions": [division.to_json() for division in self.divisions.values()],
        }

    def _load(self, data: dict[str, Any]) -> None:
        self.current = data["current"]
        loaded = [Division.from_json(item) for item in data["divisions"]]
        self.divisions = {division.code: division for division in loaded}
