"""The Fortnox emulator's state: one company (a Fortnox tenant) and its registers.

Documents are kept in their wire form (PascalCase, money as ``Decimal``, dates as ISO
strings); keys starting with ``_`` are the emulator's own (``_modified``: when the document last
changed, for ``lastmodified``) and are never rendered. The state's one lock guards all of it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ledgerlink.emulators._kit.state import EmulatorState, Tables

__all__ = ["Company", "Document", "FortnoxState", "Settings"]

Document = dict[str, Any]
_STOCKHOLM = ZoneInfo("Europe/Stockholm")


@dataclass
class Settings:
    """What the company's administrator (or a test) sets through ``PUT /_emulator/settings``."""

    #: EasyVat ("Enkel moms"): a row with its own VAT rate must name an account (2004167).
    easy_vat: bool = True
    #: Bookkeeping is locked up to and including this date (``None``: nothing is locked).
    locked_until: str | None = None
    #: The emulator's "today" (pinned for deterministic runs; else Swedish local date).
    today: str | None = None

    def current_date(self) -> date:
        """Today in Stockholm, or the pinned date."""
        return date.fromisoformat(self.today) if self.today else datetime.now(_STOCKHOLM).date()


@dataclass
class Company(Tables):
    """One Fortnox company: its information, registers, counters and settings."""

    information: Document
    tables: dict[str, dict[str, Document]] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    #: Every customer number ever used: Fortnox keeps a deleted customer's number reserved.
    used_customer_numbers: list[str] = field(default_factory=list)
    files: dict[str, Document] = field(default_factory=dict)
    settings: Settings = field(default_factory=Settings)

    def now(self) -> str:
        """The time a change is stamped with (``YYYY-MM-DD HH:MM:SS``, Swedish local time)."""
        moment = datetime.now(_STOCKHOLM)
        if self.settings.today:
            moment = datetime.combine(date.fromisoformat(self.settings.today), moment.time())
        return moment.strftime("%Y-%m-%d %H:%M:%S")

    def to_json(self) -> dict[str, Any]:
        """The state file's form."""
        return {
            "information": self.information,
            "tables": self.tables,
            "counters": self.counters,
            "usedCustomerNumbers": self.used_customer_numbers,
            "files": self.files,
            "settings": asdict(self.settings),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Company:
        """Inverse of :meth:`to_json`."""
        return cls(
            information=data["information"],
            tables=data["tables"],
            counters=data["counters"],
            used_customer_numbers=data["usedCustomerNumbers"],
            files=data["files"],
            settings=Settings(**data["settings"]),
        )


class FortnoxState(EmulatorState):
    """The company, kept in the state file as ``company``."""

    def __init__(self, company: Company, *, state_file: Path | None) -> None:
        super().__init__(path=state_file)
        self.company = company
        self.add_part("company", dump=self.company_json, load=self._load)

    def company_json(self) -> dict[str, Any]:
        return self.company.to_json()

    def _load(self, data: dict[str, Any]) -> None:
        self.company = Company.from_json(data)
