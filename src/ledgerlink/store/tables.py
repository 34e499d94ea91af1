"""SQLAlchemy tables of the hub. Money is kept as integer minor units next to its currency;
quantities, rates and percentages as exact decimal text; never a float column."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from ledgerlink.store.types import ExactDecimal

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class LegalEntityRow(Base):
    __tablename__ = "legal_entities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    country: Mapped[str] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(String(3))
    vat_number: Mapped[str] = mapped_column(String(40), default="")
    registration_number: Mapped[str] = mapped_column(String(40), default="")
    next_invoice_number: Mapped[int] = mapped_column(BigInteger, default=1)


class CustomerRow(Base):
    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("legal_entity_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    legal_entity_id: Mapped[int] = mapped_column(ForeignKey("legal_entities.id"))
    number: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(255))
    address_line1: Mapped[str] = mapped_column(String(255), default="")
    address_line2: Mapped[str] = mapped_column(String(255), default="")
    address_line3: Mapped[str] = mapped_column(String(255), default="")
    postal_code: Mapped[str] = mapped_column(String(30), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    country: Mapped[str] = mapped_column(String(2))
    vat_number: Mapped[str] = mapped_column(String(40), default="")
    registration_number: Mapped[str] = mapped_column(String(40), default="")
    ean: Mapped[str] = mapped_column(String(13), default="")
    currency: Mapped[str] = mapped_column(String(3))
    payment_terms_kind: Mapped[str] = mapped_column(String(20))
    payment_terms_days: Mapped[int] = mapped_column(Integer)
    email: Mapped[str] = mapped_column(String(255), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    website: Mapped[str] = mapped_column(String(255), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class ContactRow(Base):
    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("customer_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(255), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    title: Mapped[str] = mapped_column(String(100), default="")


class EmployeeRow(Base):
    __tablename__ = "employees"
    __table_args__ = (UniqueConstraint("legal_entity_id", "initials"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    legal_entity_id: Mapped[int] = mapped_column(ForeignKey("legal_entities.id"))
    initials: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(255), default="")
    department: Mapped[str] = mapped_column(String(50), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ProjectRow(Base):
    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("legal_entity_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    legal_entity_id: Mapped[int] = mapped_column(ForeignKey("legal_entities.id"))
    number: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(255))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    currency: Mapped[str] = mapped_column(String(3))
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    department: Mapped[str] = mapped_column(String(50), default="")
    hourly_rate_minor: Mapped[int | None] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class TimeRegistrationRow(Base):
    __tablename__ = "time_registrations"
    __table_args__ = (
        UniqueConstraint("legal_entity_id", "ref"),
        Index("ix_time_registrations_project_day", "project_id", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    legal_entity_id: Mapped[int] = mapped_column(ForeignKey("legal_entities.id"))
    ref: Mapped[str | None] = mapped_column(String(64))
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    day: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int] = mapped_column(Integer)
    task: Mapped[str] = mapped_column(String(100), default="")
    billable: Mapped[bool] = mapped_column(Boolean, default=True)
    hourly_rate_minor: Mapped[int | None] = mapped_column(BigInteger)
    rate_currency: Mapped[str | None] = mapped_column(String(3))
    comment: Mapped[str] = mapped_column(Text, default="")
    invoice_line_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_lines.id"), index=True)


class ExpenseRow(Base):
    __tablename__ = "expenses"
    __table_args__ = (
        UniqueConstraint("legal_entity_id", "ref"),
        Index("ix_expenses_project_day", "project_id", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    legal_entity_id: Mapped[int] = mapped_column(ForeignKey("legal_entities.id"))
    ref: Mapped[str | None] = mapped_column(String(64))
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    day: Mapped[date] = mapped_column(Date)
    expense_type: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal)
    unit: Mapped[str] = mapped_column(String(20))
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    vat_category: Mapped[str] = mapped_column(String(20))
    billable: Mapped[bool] = mapped_column(Boolean, default=True)
    receipt_file: Mapped[str] = mapped_column(String(500), default="")
    invoice_line_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_lines.id"), index=True)


class InvoiceRow(Base):
    __tablename__ = "invoices"
    __table_args__ = (UniqueConstraint("legal_entity_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    legal_entity_id: Mapped[int] = mapped_column(ForeignKey("legal_entities.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    document_type: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), index=True)
    number: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    invoice_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    posting_date: Mapped[date | None] = mapped_column(Date)
    tax_date: Mapped[date] = mapped_column(Date)
    seller_country: Mapped[str] = mapped_column(String(2))
    vat_treatment: Mapped[str] = mapped_column(String(30))
    heading: Mapped[str] = mapped_column(String(500), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    requisition_number: Mapped[str] = mapped_column(String(100), default="")
    customer_reference: Mapped[str] = mapped_column(String(100), default="")
    internal_reference: Mapped[str] = mapped_column(String(100), default="")
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"))
    credits_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    net_minor: Mapped[int | None] = mapped_column(BigInteger)
    vat_minor: Mapped[int | None] = mapped_column(BigInteger)
    gross_minor: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    lines: Mapped[list[InvoiceLineRow]] = relationship(
        order_by="InvoiceLineRow.position", cascade="all, delete-orphan"
    )
    vat_lines: Mapped[list[InvoiceVatLineRow]] = relationship(
        order_by="InvoiceVatLineRow.category", cascade="all, delete-orphan"
    )


class InvoiceLineRow(Base):
    __tablename__ = "invoice_lines"
    __table_args__ = (UniqueConstraint("invoice_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal)
    unit: Mapped[str] = mapped_column(String(20), default="")
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    discount_percent: Mapped[Decimal] = mapped_column(ExactDecimal)
    vat_category: Mapped[str] = mapped_column(String(20))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"))
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    product_number: Mapped[str] = mapped_column(String(50), default="")
    credits_position: Mapped[int | None] = mapped_column(Integer)

    sources: Mapped[list[InvoiceLineSourceRow]] = relationship(cascade="all, delete-orphan")


class InvoiceLineSourceRow(Base):
    """Which registrations and expenses a line billed (kept even after a credit note releases
    them, so the history of a registration stays readable)."""

    __tablename__ = "invoice_line_sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_id: Mapped[int] = mapped_column(
        ForeignKey("invoice_lines.id", ondelete="CASCADE"), index=True
    )
    time_registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("time_registrations.id"), index=True
    )
    expense_id: Mapped[int | None] = mapped_column(ForeignKey("expenses.id"), index=True)


class InvoiceVatLineRow(Base):
    __tablename__ = "invoice_vat_lines"

    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), primary_key=True
    )
    category: Mapped[str] = mapped_column(String(20), primary_key=True)
    percent: Mapped[Decimal] = mapped_column(ExactDecimal)
    net_minor: Mapped[int] = mapped_column(BigInteger)
    vat_minor: Mapped[int] = mapped_column(BigInteger)


# integration (design §5): connections, external keys, transfers and their log, pulls ------------


class ConnectionRow(Base):
    """A legal entity's connection to one ERP. ``credentials`` is ciphertext (never plain)."""

    __tablename__ = "connections"
    __table_args__ = (UniqueConstraint("legal_entity_id", "erp"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    legal_entity_id: Mapped[int] = mapped_column(ForeignKey("legal_entities.id"))
    erp: Mapped[str] = mapped_column(String(30))
    credentials: Mapped[str] = mapped_column(Text)
    settings: Mapped[str] = mapped_column(Text, default="{}")
    principles: Mapped[str] = mapped_column(Text, default="{}")
    customer_master: Mapped[str] = mapped_column(String(10), default="psa")
    automatic_transfer: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    account_id: Mapped[str] = mapped_column(String(100), default="")
    company_name: Mapped[str] = mapped_column(String(255), default="")
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ExternalKeyRow(Base):
    __tablename__ = "external_keys"
    __table_args__ = (UniqueConstraint("connection_id", "entity_type", "local_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"))
    entity_type: Mapped[str] = mapped_column(String(20))
    local_id: Mapped[int] = mapped_column(Integer)
    external_id: Mapped[str] = mapped_column(String(100), default="")
    ignored: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class ProductNumberRow(Base):
    """A product number imported from the ERP (the ERP is the master)."""

    __tablename__ = "product_numbers"
    __table_args__ = (UniqueConstraint("connection_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"))
    number: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(300), default="")
    unit: Mapped[str] = mapped_column(String(50), default="")
    department: Mapped[str] = mapped_column(String(50), default="")
    barred: Mapped[bool] = mapped_column(Boolean, default=False)


class TransferRow(Base):
    """One transfer of one document: a transaction of the integration log."""

    __tablename__ = "transfers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"))
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    workflow_id: Mapped[str] = mapped_column(String(120), unique=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    message: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: When a user resolved what this transfer left to fix (it leaves the attention view).
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    steps: Mapped[list[TransferStepRow]] = relationship(
        order_by="TransferStepRow.id", cascade="all, delete-orphan"
    )


class TransferStepRow(Base):
    __tablename__ = "transfer_steps"
    __table_args__ = (UniqueConstraint("transfer_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transfer_id: Mapped[int] = mapped_column(ForeignKey("transfers.id"))
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    erp_text: Mapped[str] = mapped_column(Text, default="")
    hint: Mapped[str] = mapped_column(Text, default="")
    external_id: Mapped[str] = mapped_column(String(100), default="")
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ExpenseExportRow(Base):
    """One export of one PSA expense to the ERP (an expense voucher): a transaction of the
    integration log. A retry after a failure is a new row with the next ``attempt``."""

    __tablename__ = "expense_exports"
    __table_args__ = (UniqueConstraint("connection_id", "expense_id", "attempt"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"))
    expense_id: Mapped[int] = mapped_column(ForeignKey("expenses.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    correlation: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), index=True)
    message: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    steps: Mapped[list[ExpenseExportStepRow]] = relationship(
        order_by="ExpenseExportStepRow.id", cascade="all, delete-orphan"
    )


class ExpenseExportStepRow(Base):
    __tablename__ = "expense_export_steps"
    __table_args__ = (UniqueConstraint("export_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    export_id: Mapped[int] = mapped_column(ForeignKey("expense_exports.id"))
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    erp_text: Mapped[str] = mapped_column(Text, default="")
    hint: Mapped[str] = mapped_column(Text, default="")
    external_id: Mapped[str] = mapped_column(String(100), default="")
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ErpDocumentRow(Base):
    """What the ERP holds for a transferred document: balancing state (design §5)."""

    __tablename__ = "erp_documents"
    __table_args__ = (UniqueConstraint("connection_id", "invoice_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"))
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"))
    correlation: Mapped[str] = mapped_column(String(100), index=True)
    external_id: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    booked_number: Mapped[str] = mapped_column(String(50), default="")
    currency: Mapped[str] = mapped_column(String(3))
    gross_minor: Mapped[int] = mapped_column(BigInteger)
    remainder_minor: Mapped[int | None] = mapped_column(BigInteger)
    paid: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the ERP's posting date, once booked (from balancing)
    booked_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class SyncCursorRow(Base):
    """Where an incremental pull stopped; committed with the rows it produced."""

    __tablename__ = "sync_cursors"
    __table_args__ = (UniqueConstraint("connection_id", "stream"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"))
    stream: Mapped[str] = mapped_column(String(30))
    cursor: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class ErpExpenseRow(Base):
    """An expense entry imported from the ERP (excl. VAT), once per ERP entry."""

    __tablename__ = "erp_expenses"
    __table_args__ = (UniqueConstraint("connection_id", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"))
    external_id: Mapped[str] = mapped_column(String(50))
    day: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    base_currency: Mapped[str] = mapped_column(String(3))
    base_amount_minor: Mapped[int] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(String(255), default="")
    voucher_number: Mapped[str] = mapped_column(String(50), default="")
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"))
    account: Mapped[str] = mapped_column(String(30), default="")


# the FinancialHost agent relay (design §10: outbound agent mode) --------------------------------


class RelayJobRow(Base):
    """A signed request waiting for, leased by or answered by a FinancialHost agent.
    ``state``: pending → leased → answered, or abandoned when its caller stopped waiting."""

    __tablename__ = "relay_jobs"
    __table_args__ = (Index("ix_relay_jobs_agent_id_state", "agent_id", "state"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agent_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(10))
    request: Mapped[str] = mapped_column(Text)
    response: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    leased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RelayAgentRow(Base):
    """An enrolled agent: its key (``credentials``, ciphertext), when it last called the hub,
    its last heartbeat (JSON) and its audit anchor."""

    __tablename__ = "relay_agents"

    agent_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    credentials: Mapped[str] = mapped_column(Text)
    enrolled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat: Mapped[str] = mapped_column(Text, default="")
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The host's audit anchor (design §10): its record count and newest MAC as last reported,
    # and the first disagreement seen (count backwards, chain replaced), kept until re-enrolment.
    audit_count: Mapped[int | None] = mapped_column(Integer)
    audit_mac: Mapped[str | None] = mapped_column(String(64))
    audit_problem: Mapped[str] = mapped_column(Text, default="")
    audit_problem_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class HostAuditAnchorRow(Base):
    """The audit anchor of a FinancialHost the hub calls directly (inbound mode), by the host's
    base URL: its record count and newest MAC as ``connection.test`` last answered, and the
    first disagreement seen (design §10). Agents keep theirs in ``relay_agents``."""

    __tablename__ = "host_audit_anchors"

    host: Mapped[str] = mapped_column(String(300), primary_key=True)
    audit_count: Mapped[int | None] = mapped_column(Integer)
    audit_mac: Mapped[str | None] = mapped_column(String(64))
    audit_problem: Mapped[str] = mapped_column(Text, default="")
    audit_problem_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RelayNonceRow(Base):
    """Nonces of agent requests, remembered past the signature window (replay protection that
    every hub process shares)."""

    __tablename__ = "relay_nonces"

    nonce: Mapped[str] = mapped_column(String(100), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


# rate limits shared by every worker process (design §6) -----------------------------------------


class RateLimitRow(Base):
    """One rate-limit budget per (ERP, credential fingerprint): a server-requested pause and
    each window's O(1) mark as JSON (``{"sliding 25/5s": [tat, 0], ...}``). Times are integer
    microseconds since the epoch. Locked for the one short transaction of each reservation."""

    __tablename__ = "rate_limits"

    erp: Mapped[str] = mapped_column(String(40), primary_key=True)
    credential: Mapped[str] = mapped_column(String(64), primary_key=True)
    paused_until: Mapped[int] = mapped_column(BigInteger, default=0)
    marks: Mapped[str] = mapped_column(Text, default="{}")


# OAuth2 tokens (design §6) -----------------------------------------------------------------------


class OAuthTokenRow(Base):
    """One OAuth2 credential's token set, sealed (``sealed`` is ciphertext). Only the access
    token's expiry is in clear. ``version`` counts writes; the row is locked while a process
    refreshes, so a rotated refresh token is never presented twice."""

    __tablename__ = "oauth_tokens"

    credential_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    sealed: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# Worker processes (design §8) --------------------------------------------------------------------


class WorkerRow(Base):
    """One running worker process, by its DBOS executor id: where it runs and when it last
    said it was alive. A worker whose process is gone (same host) or that has not been seen
    for a while is dead, and a live worker recovers the workflows it left."""

    __tablename__ = "workers"

    executor_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# Console users and their sessions (issue 14) -----------------------------------------------------


class UserRow(Base):
    """A console user. ``password_hash`` is an argon2 PHC string; ``failed_sign_ins`` and
    ``locked_until`` slow down guessing a password."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_sign_in: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    locale: Mapped[str | None] = mapped_column(String(20), nullable=True)
    time_zone: Mapped[str | None] = mapped_column(String(64), nullable=True)


class SavedFilterRow(Base):
    """A user's named filter of a console page (``page``: e.g. ``transfers``, ``log``), kept
    as the page's query string."""

    __tablename__ = "saved_filters"
    __table_args__ = (UniqueConstraint("user_id", "page", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    page: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(80))
    query: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebSessionRow(Base):
    """A signed-in browser. Only the SHA-256 of the cookie's random token is kept, so a copy
    of the database opens no session; ``csrf_token`` is what its forms must send back."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


# JSON API keys and idempotency (issue 14 item 8) ------------------------------------------------


class ApiKeyRow(Base):
    """A user's API key. Only the SHA-256 of the key is kept (the key is shown once, when it
    is made); ``prefix`` is its first characters, shown to tell keys apart. A revoked key
    stays listed with ``revoked_at``."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(20), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class IdempotencyKeyRow(Base):
    """A POST's ``Idempotency-Key`` per user: the SHA-256 of the request it came with and,
    once answered, the answer (status, content type, Location, body) to give again. A row
    without ``status`` is a request still running. Kept 24 hours."""

    __tablename__ = "idempotency_keys"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    content_type: Mapped[str] = mapped_column(String(100), default="")
    location: Mapped[str] = mapped_column(String(500), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
