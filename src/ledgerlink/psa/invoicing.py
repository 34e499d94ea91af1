"""Invoicing use-cases: draft from registrations, edit, post, credit, delete a draft.

Each function runs in its own unit of work and either commits everything or nothing.

Crediting and registrations: a credit note never silently makes the registrations and
expenses of the credited invoice invoiceable again — they stay marked as invoiced, so a
credited invoice cannot lead to double billing by accident. To bill the work again after a
*full* credit (e.g. the invoice went to the wrong customer), post the credit note with
``release_sources=True``; the release is explicit and the billing history is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ledgerlink.domain.billing import Grouping, RateSource, expense_lines, work_lines
from ledgerlink.domain.entity import require_id
from ledgerlink.domain.errors import NotFoundError, ValidationError
from ledgerlink.domain.invoices import (
    Invoice,
    InvoiceStatus,
    draft_credit_note,
    remaining_quantities,
)
from ledgerlink.domain.vat import vat_treatment
from ledgerlink.store.uow import UnitOfWork


@dataclass(frozen=True, kw_only=True)
class DraftRequest:
    """What to bill: a project's uninvoiced billable work in a period, and how."""

    legal_entity_id: int
    project_number: str
    period: tuple[date, date]
    invoice_date: date
    grouping: Grouping = Grouping.EMPLOYEE
    rate_source: RateSource = RateSource.REGISTRATION
    include_expenses: bool = True
    heading: str | None = None
    message: str = ""
    requisition_number: str = ""
    customer_reference: str = ""


def _period_label(period: tuple[date, date]) -> str:
    start, end = period
    if start.year == end.year and start.month == end.month:
        return start.strftime("%B %Y")
    return f"{start.isoformat()} – {end.isoformat()}"


def draft_invoice(uow: UnitOfWork, request: DraftRequest) -> Invoice:
    """Draft an invoice from ``request``; its registrations and expenses become invoiced."""
    start, end = request.period
    if end < start:
        raise ValidationError("the period ends before it starts")
    with uow:
        entity = uow.legal_entities.get(request.legal_entity_id)
        project = uow.projects.by_number(require_id(entity), request.project_number)
        if project is None or project.id is None:
            raise NotFoundError(f"project {request.project_number} does not exist")
        customer = uow.customers.get(project.customer_id)
        registrations = uow.registrations.list(
            project_id=project.id, period=request.period, billable_uninvoiced=True
        )
        expenses = (
            uow.expenses.list(
                project_id=project.id, period=request.period, billable_uninvoiced=True
            )
            if request.include_expenses
            else []
        )
        if not registrations and not expenses:
            raise ValidationError(
                f"project {project.number} has no uninvoiced billable registrations or expenses "
                f"from {start} to {end}"
            )
        employees = {e.id: e for e in uow.employees.list(require_id(entity)) if e.id is not None}
        label = _period_label(request.period)
        lines = work_lines(
            registrations,
            project=project,
            employees=employees,
            grouping=request.grouping,
            rate_source=request.rate_source,
            description_suffix=label,
        ) + expense_lines(expenses, project=project)
        manager = employees.get(project.manager_id) if project.manager_id else None
        invoice = Invoice(
            legal_entity_id=require_id(entity),
            customer_id=require_id(customer),
            currency=project.currency,
            invoice_date=request.invoice_date,
            due_date=customer.payment_terms.due_date(request.invoice_date),
            seller_country=entity.country,
            vat_treatment=vat_treatment(entity.country, customer.country, customer.vat_number),
            heading=request.heading if request.heading is not None else f"{project.name}, {label}",
            message=request.message,
            requisition_number=request.requisition_number,
            customer_reference=request.customer_reference,
            internal_reference=manager.initials if manager else "",
            project_id=project.id,
            lines=tuple(lines),
        )
        invoice.compute_totals()  # refuse now, not at posting, if a VAT rate is missing
        uow.invoices.add(invoice)
        uow.commit()
        return invoice


def post_invoice(
    uow: UnitOfWork, invoice_id: int, *, posting_date: date, release_sources: bool = False
) -> Invoice:
    """Post a draft invoice or credit note: number it from the legal entity's series.

    Posting a credit note moves the credited invoice to partially credited / credited;
    ``release_sources`` (only for a credit note that completes a full credit) makes the
    invoice's registrations and expenses invoiceable again.
    """
    with uow:
        invoice = uow.invoices.get(invoice_id)
        if invoice.status is not InvoiceStatus.DRAFT:
            raise ValidationError(f"{invoice.describe()} is already posted")
        original = None
        credited: dict[int, Decimal] = {}
        if invoice.is_credit_note:
            assert invoice.credits_invoice_id is not None
            original = uow.invoices.get(invoice.credits_invoice_id)
            credited = uow.invoices.credited_quantities(require_id(original), include_drafts=False)
            remaining = remaining_quantities(original, credited)
            for line in invoice.lines:
                if line.credits_position is None:
                    continue
                open_quantity = remaining.get(line.credits_position, Decimal(0))
                if abs(line.quantity) > abs(open_quantity):
                    raise ValidationError(
                        f"line {line.credits_position} of {original.describe()} has "
                        f"{open_quantity} left to credit; this credit note credits "
                        f"{-line.quantity}. Edit or delete the credit note"
                    )
                credited[line.credits_position] = (
                    credited.get(line.credits_position, Decimal(0)) - line.quantity
                )
        elif release_sources:
            raise ValidationError("only a credit note can release registrations")
        invoice.post(
            number=uow.legal_entities.take_invoice_number(invoice.legal_entity_id),
            posting_date=posting_date,
        )
        uow.invoices.save(invoice)
        if original is not None:
            original.record_credits(credited)
            uow.invoices.save(original)
            if release_sources:
                if original.status is not InvoiceStatus.CREDITED:
                    raise ValidationError(
                        "registrations can only be released when the invoice is fully credited"
                    )
                uow.invoices.release_sources(require_id(original))
        uow.commit()
        return invoice


def credit_invoice(
    uow: UnitOfWork,
    invoice_id: int,
    *,
    invoice_date: date,
    quantities: dict[int, Decimal] | None = None,
    heading: str | None = None,
) -> Invoice:
    """Draft a credit note of a posted invoice (everything still open, or the given line
    quantities by 1-based position). Post it with :func:`post_invoice`."""
    with uow:
        invoice = uow.invoices.get(invoice_id)
        credit_note = draft_credit_note(
            invoice,
            invoice_date=invoice_date,
            already_credited=uow.invoices.credited_quantities(invoice_id, include_drafts=True),
            quantities=quantities,
            heading=heading,
        )
        uow.invoices.add(credit_note)
        uow.commit()
        return credit_note


def delete_draft(uow: UnitOfWork, invoice_id: int) -> None:
    """Delete a draft; its registrations and expenses become invoiceable again."""
    with uow:
        uow.invoices.delete_draft(invoice_id)
        uow.commit()
