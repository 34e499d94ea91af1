"""The NAV emulator's configuration: one server instance as data (:class:`NavConfig`)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from ledgerlink.emulators.nav.defaults import (
    default_codeunits,
    default_internal_tables,
    default_pages,
)
from ledgerlink.emulators.nav.schema import (
    CodeunitDef,
    Model,
    PageDef,
    TableDef,
    TableIds,
    UserDef,
)

__all__ = ["NavConfig"]


class NavConfig(Model):
    """One emulated NAV server instance.

    ``credential_type`` ``NavUserPassword`` accepts HTTP Basic with a user's password or access
    key; ``Windows`` answers every call with a 401 challenge (``Negotiate``, plus ``NTLM`` when
    ``windows_ntlm``) that the emulator cannot complete — useful to rehearse that failure.
    ``work_date`` pins NAV's work date (default: today). ``number_series`` maps a series role
    to the next number. ``change_log_tables`` are the tables whose OnInsert/OnModify/OnDelete
    write TimeLog change-log rows. The job queue runs on a timer only when
    ``job_queue_interval_seconds`` is set, and then only between ``job_queue_window`` hours.
    """

    server_instance: str = "DynamicsNAV100"
    companies: tuple[str, ...] = ("CRONUS International Ltd.", "TEST")
    default_company: str | None = None
    credential_type: Literal["NavUserPassword", "Windows"] = "NavUserPassword"
    windows_ntlm: bool = False
    users: tuple[UserDef, ...] = (UserDef(name="WEBSERVICE", password="Passw0rd!"),)
    work_date: date | None = None
    lcy_code: str = "DKK"
    global_dimension_1: str = "DEPARTMENT"
    global_dimension_2: str = "PROJECT"
    employee_templates: dict[str, dict[str, str]] = Field(
        default_factory=lambda: {
            "TIMELOG": {"Job_Title": "Consultant", "Global_Dimension_1_Code": "PROD"}
        }
    )
    number_series: dict[str, str] = Field(
        default_factory=lambda: {
            "customer": "C00010",
            "contact": "CT000010",
            "employee": "E0010",
            "sales_invoice": "103001",
            "sales_credit_memo": "104001",
            "posted_sales_invoice": "108001",
            "posted_sales_credit_memo": "109001",
        }
    )
    odata_max_page_size: int = 1000
    tables: TableIds = TableIds()
    pages: tuple[PageDef, ...] = ()
    internal_tables: tuple[TableDef, ...] = ()
    codeunits: tuple[CodeunitDef, ...] = ()
    change_log_tables: tuple[int, ...] = (18, 36, 37, 5050, 5200)
    callback_verify: bool | Path = True
    callback_timeout_seconds: float = 30.0
    job_queue_interval_seconds: float | None = None
    job_queue_window: tuple[int, int] = (6, 23)
    seed_data: bool = True
    version_text: str = "TimeLog NAV integration 1.2.3.10 (ledgerlink emulator)"

    @model_validator(mode="after")
    def _defaults(self) -> NavConfig:
        """Publish the default ``Tlp*`` services (over ``tables``) unless pages are given."""
        if not self.pages:
            object.__setattr__(self, "pages", default_pages(self.tables))
        if not self.internal_tables:
            object.__setattr__(self, "internal_tables", default_internal_tables(self.tables))
        if not self.codeunits:
            object.__setattr__(self, "codeunits", default_codeunits(self.version_text))
        if self.default_company is not None and self.default_company not in self.companies:
            raise ValueError(f"default_company {self.default_company!r} is not a company")
        return self

    def page(self, service_name: str) -> PageDef | None:
        """The page published as ``service_name`` (case-insensitive, as NAV matches)."""
        wanted = service_name.lower()
        return next((p for p in self.pages if p.service_name.lower() == wanted), None)

    def codeunit(self, service_name: str) -> CodeunitDef | None:
        """The codeunit published as ``service_name`` (case-insensitive)."""
        wanted = service_name.lower()
        return next((c for c in self.codeunits if c.service_name.lower() == wanted), None)

    def table(self, table_id: int) -> TableDef | None:
        """The definition of ``table_id``: the first page over it, else an internal table."""
        page = next((p for p in self.pages if p.table_id == table_id), None)
        if page is not None:
            return page.table()
        return next((t for t in self.internal_tables if t.table_id == table_id), None)

    def company(self, name: str) -> str | None:
        """The configured company called ``name`` (exact, as NAV compares), or ``None``."""
        return name if name in self.companies else None
