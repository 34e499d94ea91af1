"""Expense export (design §1: PSA expenses → ERP expense vouchers, Fortnox): the transaction
of the integration log one export of one expense is, its steps, and the correlation reference
that finds the ERP's voucher again. Pure: no I/O.

An expense is *exported* once the connection holds an :class:`~ledgerlink.domain.transfers.
ExternalKey` of type ``expense`` for it (design §5: one key table, no per-ERP columns); the
key's ``external_id`` is the ERP's voucher (Fortnox: series, number and financial year). The log
keeps every attempt: a failed export stays as it was and a retry is a new attempt, as a failed
transfer's retry is a new transfer.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from ledgerlink.domain.transfers import StepStatus, TransferStatus


class ExportStepKind(enum.StrEnum):
    """The steps of one expense export, in the order they run."""

    VOUCHER = "voucher"  # the voucher (debit expense account, credit settlement account)
    RECEIPT = "receipt"  # the receipt file uploaded and attached to the voucher


@dataclass(kw_only=True)
class ExpenseExportStep:
    """One row of the integration log: a step of an expense export."""

    id: int | None = None
    kind: ExportStepKind
    status: StepStatus = StepStatus.PENDING
    attempts: int = 0
    message: str = ""
    erp_text: str = ""
    hint: str = ""
    external_id: str = ""
    finished_at: datetime | None = None


@dataclass(kw_only=True)
class ExpenseExport:
    """One attempt to bring one PSA expense to the ERP (a transaction of the log).
    ``attempt`` counts from 0; a retry after a failure is attempt ``n + 1``."""

    id: int | None = None
    connection_id: int
    expense_id: int
    attempt: int = 0
    correlation: str
    status: TransferStatus = TransferStatus.PENDING
    message: str = ""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    steps: list[ExpenseExportStep] = field(default_factory=list)

    def step(self, kind: ExportStepKind) -> ExpenseExportStep | None:
        return next((s for s in self.steps if s.kind is kind), None)


def export_status(steps: list[ExpenseExportStep]) -> TransferStatus:
    """The transaction status from its steps: the voucher failed → failed; a step still
    pending → pending; the receipt failed (the voucher is in the ERP) → partially failed;
    otherwise successful."""
    by_kind = {s.kind: s.status for s in steps}
    if by_kind.get(ExportStepKind.VOUCHER) is StepStatus.FAILED:
        return TransferStatus.FAILED
    if any(s.status is StepStatus.PENDING for s in steps):
        return TransferStatus.PENDING
    if by_kind.get(ExportStepKind.RECEIPT) is StepStatus.FAILED:
        return TransferStatus.PARTIALLY_FAILED
    return TransferStatus.SUCCESSFUL


def expense_correlation(legal_entity_code: str, expense_id: int) -> str:
    """The reference written into the ERP's voucher so a lost answer can be found again, e.g.
    ``LL-NORDLYSSE-EXP17``: the legal entity's code and the PSA's expense id (an expense has
    no number of its own, and its source system's ``ref`` is optional). Letters, digits and
    dashes only, as invoice correlations, and no blank: it is matched as one word."""
    code = "".join(c for c in legal_entity_code.upper() if c.isalnum())
    return f"LL-{code}-EXP{expense_id}"
