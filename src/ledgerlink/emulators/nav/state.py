"""The NAV emulator's state: per company, its tables (records as dicts), number series, the
row-version counter and the job queue entry; one lock; optional JSON persistence.

A record is a ``dict`` of web-service field names to stored values (see :mod:`.values`); keys
starting with ``$`` are internal (``$version``, the row timestamp behind Key and ETag).
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

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
        return {
            "status": self.status,
            "error_message": self.error_message,
            "last_run": self.last_run,
            "last_sent": self.last_sent,
            "runs": self.runs,
        }


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


def _encode(value: object) -> object:
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    raise TypeError(f"{type(value).__name__} is not serialisable")


def _decode(document: dict[str, Any]) -> object:
    if set(document) == {"$decimal"}:
        return Decimal(document["$decimal"])
    return document


class NavState:
    """Every company of the server instance, one re-entrant lock, optional persistence."""

    def __init__(self, companies: dict[str, Company], *, state_file: Path | None) -> None:
        self.lock = threading.RLock()
        self.companies = companies
        self.state_file = state_file

    @classmethod
    def open(cls, fresh: dict[str, Company], *, state_file: Path | None) -> NavState:
        """Load the companies from ``state_file`` when it exists, else start from ``fresh``
        (companies configured since the file was written start fresh too)."""
        companies = dict(fresh)
        if state_file is not None and state_file.exists():
            data = json.loads(state_file.read_text(encoding="utf-8"), object_hook=_decode)
            for stored in data["companies"]:
                if stored["name"] in companies:
                    companies[stored["name"]] = Company.from_json(stored)
        state = cls(companies, state_file=state_file)
        state.save()
        return state

    def save(self) -> None:
        """Write every company to the state file (atomically); no-op without one."""
        if self.state_file is None:
            return
        with self.lock:
            document = {"companies": [c.to_json() for c in self.companies.values()]}
            text = json.dumps(document, default=_encode, indent=1)
            temporary = self.state_file.with_name(self.state_file.name + ".tmp")
            temporary.write_text(text, encoding="utf-8")
            os.replace(temporary, self.state_file)
