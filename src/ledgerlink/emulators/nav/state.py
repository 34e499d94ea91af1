"""The NAV emulator's state: per company, its tables (records as dicts), number series, the
row-version counter and the job queue entry, on the kit's state (one lock, the state file).

A record is a ``dict`` of web-service field names to stored values (see :mod:`.values`); keys
starting with ``$`` are internal (``$version``, the row timestamp behind Key and ETag).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ledgerlink.emulators._kit.state import EmulatorState

__all__ = ["Company", "JobQueueEntry", "NavState", "Record"]

Record = dict[str, Any]

_FIRST_VERSION = 1_000_000


@dataclass
class JobQueueEntry:
    """The "Tlp Change Handler" job queue entry of one company (Status Ready / Error)."""

    status: str = "Ready"
    error_message: str = ""
    last_run: str = ""
    last_sent: int = 0
    runs: int = 0

    def to_json(self) -> dict[str, Any]:
        """The admin route's (and the state file's) form."""
        return asdict(self)


@dataclass
class Company:
    """One NAV company: tables keyed by table number, then by the primary key as JSON."""

    name: str
    tables: dict[str, dict[str, Record]] = field(default_factory=dict)
    series: dict[str, str] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    version: int = _FIRST_VERSION
    job_queue: JobQueueEntry = field(default_factory=JobQueueEntry)

    def table(self, table_id: int) -> dict[str, Record]:
        """The rows of ``table_id`` (created empty on first use)."""
        return self.tables.setdefault(str(table_id), {})

    def next_version(self) -> int:
        """A new row timestamp (strictly increasing within the company)."""
        self.version += 1
        return self.version

    def next_counter(self, name: str) -> int:
        """The next value of an auto-increment counter (``Entry No.``), starting at 1."""
        value = self.counters.get(name, 0) + 1
        self.counters[name] = value
        return value

    def to_json(self) -> dict[str, Any]:
        """Serialisable form (persistence)."""
        return {
            "name": self.name,
            "tables": self.tables,
            "series": self.series,
            "counters": self.counters,
            "version": self.version,
            "job_queue": self.job_queue.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Company:
        """Inverse of :meth:`to_json`."""
        return cls(
            name=data["name"],
            tables=data["tables"],
            series=data["series"],
            counters=data["counters"],
            version=data["version"],
            job_queue=JobQueueEntry(**data["job_queue"]),
        )


class NavState(EmulatorState):
    """Every company of the server instance (kept in the state file as ``companies``).

    Companies are loaded from the state file when it has them; companies configured since the
    file was written start fresh, and stored companies no longer configured are dropped.
    """

    def __init__(self, companies: dict[str, Company], *, state_file: Path | None) -> None:
        super().__init__(path=state_file)
        self.companies = dict(companies)
        self.add_part("companies", dump=self._dump, load=self._load)

    def _dump(self) -> list[dict[str, Any]]:
        return [company.to_json() for company in self.companies.values()]

    def _load(self, stored: list[dict[str, Any]]) -> None:
        for data in stored:
            if data["name"] in self.companies:
                self.companies[data["name"]] = Company.from_json(data)
