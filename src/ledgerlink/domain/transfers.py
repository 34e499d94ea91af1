"""The transfer model (design §4–§5): external keys, transfers and their steps, the transfer
table's views, and product-number principles. Pure: no I/O."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ledgerlink.domain.errors import ValidationError
from ledgerlink.domain.invoices import Invoice, InvoiceLine, LineKind


class CustomerMaster(enum.StrEnum):
    """Who creates customers: the PSA (pushed with the first invoice), the ERP (imported and
    linked), or both (NAV)."""

    PSA = "psa"
    ERP = "erp"
    BOTH = "both"


class EntityType(enum.StrEnum):
    """What an external key links."""

    CUSTOMER = "customer"
    CONTACT = "contact"
    EMPLOYEE = "employee"
    PROJECT = "project"
    INVOICE = "invoice"
    EXPENSE = "expense"  # a PSA expense exported to the ERP (e.g. as a Fortnox voucher)


@dataclass(kw_only=True)
class ExternalKey:
    """(connection, entity type, local id) ↔ the ERP's id. ``ignored`` keeps a document out
    of transfers (then ``external_id`` may be empty)."""

    id: int | None = None
    connection_id: int
    entity_type: EntityType
    local_id: int
    external_id: str = ""
    ignored: bool = False


class TransferStatus(enum.StrEnum):
    """Status of one transfer (one transaction of the integration log)."""

    PENDING = "pending"
    SUCCESSFUL = "successful"
    PARTIALLY_FAILED = "partially_failed"
    FAILED = "failed"


class StepKind(enum.StrEnum):
    """The steps of a transfer, in the order they run."""

    CUSTOMER = "customer"
    PROJECT = "project"
    CONTACT = "contact"
    EMPLOYEE = "employee"
    INVOICE = "invoice"
    TOTALS = "totals"  # the ERP's totals read back and compared with ours


class StepStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCESSFUL = "successful"
    FAILED = "failed"
    SKIPPED = "skipped"


#: Steps whose failure fails the whole transfer; the others only make it partially failed
#: (the invoice still reaches the ERP, without that reference).
ESSENTIAL_STEPS = frozenset({StepKind.CUSTOMER, StepKind.INVOICE})


@dataclass(kw_only=True)
class TransferStep:
    """One row of the integration log: a step of a transfer."""

    id: int | None = None
    kind: StepKind
    status: StepStatus = StepStatus.PENDING
    attempts: int = 0
    message: str = ""
    erp_text: str = ""
    hint: str = ""
    external_id: str = ""
    finished_at: datetime | None = None


@dataclass(kw_only=True)
class Transfer:
    """One attempt to bring one posted document to the ERP (a transaction of the log)."""

    id: int | None = None
    connection_id: int
    invoice_id: int
    revision: int
    workflow_id: str
    status: TransferStatus = TransferStatus.PENDING
    message: str = ""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    resolved_at: datetime | None = None  # a user resolved what it left to fix
    steps: list[TransferStep] = field(default_factory=list)

    def step(self, kind: StepKind) -> TransferStep | None:
        return next((s for s in self.steps if s.kind is kind), None)


def transfer_status(steps: list[TransferStep]) -> TransferStatus:
    """The transaction status from its steps: any essential step failed → failed; any other
    step failed → partially failed; all done → successful; otherwise pending."""
    if any(s.status is StepStatus.FAILED and s.kind in ESSENTIAL_STEPS for s in steps):
        return TransferStatus.FAILED
    if any(s.status is StepStatus.PENDING for s in steps):
        return TransferStatus.PENDING
    if any(s.status is StepStatus.FAILED for s in steps):
        return TransferStatus.PARTIALLY_FAILED
    return TransferStatus.SUCCESSFUL


def workflow_id(connection_id: int, invoice_id: int, revision: int, retry: int = 0) -> str:
    """The durable workflow id of a transfer: ``transfer:{connection}:{document}:{revision}``;
    a retry the user asks for after a failure gets ``…:retry-{n}`` (the old id keeps its
    recorded outcome)."""
    base = f"transfer:{connection_id}:{invoice_id}:{revision}"
    return base if retry == 0 else f"{base}:retry-{retry}"


def correlation_reference(legal_entity_code: str, invoice: Invoice) -> str:
    """The reference written into the ERP's searchable field with every document, e.g.
    ``LL-NORDLYS-1001``. Posted documents never change, so one per document is enough; only
    letters, digits and dashes, so it needs no escaping in any ERP's filter syntax."""
    if invoice.number is None:
        raise ValidationError(f"{invoice.describe()} is not posted; only posted documents go out")
    code = "".join(c for c in legal_entity_code.upper() if c.isalnum())
    return f"LL-{code}-{invoice.number}"


class TransferView(enum.StrEnum):
    """The rows of the transfer table. ``attention`` cuts across the others: the documents
    whose last transfer failed or partially failed (totals that differ included) until a
    user resolves or ignores them (:func:`attention`)."""

    NON_TRANSFERRED = "non_transferred"
    TRANSFERRED = "transferred"
    IGNORED = "ignored"
    FAILED = "failed"
    ATTENTION = "attention"


def attention(*, key: ExternalKey | None, latest: Transfer | None) -> str:
    """What a user must look at for a posted document ("" when nothing): its last transfer
    failed, or partially failed — the ERP's totals differ, or a reference step failed — and
    no user resolved or ignored it."""
    if latest is None or latest.resolved_at is not None or (key is not None and key.ignored):
        return ""
    if latest.status is TransferStatus.FAILED:
        return "failed"
    if latest.status is TransferStatus.PARTIALLY_FAILED:
        totals = latest.step(StepKind.TOTALS)
        if totals is not None and totals.status is StepStatus.FAILED:
            return "totals differ"
        return "partially failed"
    return ""


def transfer_view(*, key: ExternalKey | None, latest: TransferStatus | None) -> TransferView:
    """Where a posted document shows in the transfer table."""
    if key is not None and key.ignored:
        return TransferView.IGNORED
    if key is not None and key.external_id:
        return TransferView.TRANSFERRED
    if latest in (TransferStatus.FAILED, TransferStatus.PARTIALLY_FAILED):
        return TransferView.FAILED
    return TransferView.NON_TRANSFERRED


@dataclass(frozen=True, kw_only=True)
class ProductNumberPrinciples:
    """Which ERP product number each kind of PSA line is sent with (design §5).

    ``by_kind`` maps a line kind to a product number; ``default`` serves every kind not
    mapped. A line that already carries a product number (a product line) keeps it. Text
    lines carry none.
    """

    by_kind: Mapping[LineKind, str] = field(default_factory=dict)
    default: str = ""

    def product_for(self, line: InvoiceLine) -> str:
        if line.kind is LineKind.TEXT:
            return ""
        if line.product_number:
            return line.product_number
        number = self.by_kind.get(line.kind) or self.default
        if not number:
            raise ValidationError(
                f"no product number for {line.kind.value} lines: set a product-number "
                f"principle for '{line.kind.value}' or a default"
            )
        return number

    def numbers_for(self, invoice: Invoice) -> tuple[str, ...]:
        """The product numbers ``invoice``'s lines are sent with, sorted, each once (a line
        without a principle is left out: the transfer reports it)."""
        numbers = set()
        for line in invoice.lines:
            try:
                numbers.add(self.product_for(line))
            except ValidationError:
                continue
        return tuple(sorted(numbers - {""}))

    def to_json(self) -> dict[str, str]:
        return {**{k.value: v for k, v in self.by_kind.items() if v}, "default": self.default}

    @classmethod
    def from_json(cls, data: Mapping[str, str]) -> ProductNumberPrinciples:
        by_kind = {}
        for name, number in data.items():
            if name == "default":
                continue
            try:
                by_kind[LineKind(name)] = number
            except ValueError:
                allowed = ", ".join(k.value for k in LineKind if k is not LineKind.TEXT)
                raise ValidationError(
                    f"'{name}' is not a line kind; use one of: {allowed}, default"
                ) from None
        return cls(by_kind=by_kind, default=data.get("default", ""))


@dataclass(kw_only=True)
class Connection:
    """A legal entity's connection to one ERP (design §5). ``credentials`` is ciphertext: only
    the engine's secret box opens it. ``settings`` are the connector's own (agreement,
    defaults); the engine reads only the fields named here."""

    id: int | None = None
    legal_entity_id: int
    erp: str
    credentials: str
    settings: dict[str, Any] = field(default_factory=dict)
    principles: ProductNumberPrinciples = field(default_factory=ProductNumberPrinciples)
    customer_master: CustomerMaster = CustomerMaster.PSA
    automatic_transfer: bool = False
    active: bool = True
    account_id: str = ""
    company_name: str = ""
    verified_at: datetime | None = None

    def describe(self) -> str:
        name = f" ({self.company_name})" if self.company_name else ""
        return f"{self.erp} connection #{self.id}{name}"
