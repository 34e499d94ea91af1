"""Turning billable work into invoice lines (pure rules; the use-case lives in ``psa``).

Rules (also in the README):

* **Grouping**: one work line per employee, per task, or one line for the project. Within a
  group, registrations with different hourly rates become separate lines (a line has one price).
* **Rate**: ``registration`` takes each registration's own rate and falls back to the project's;
  ``project`` always takes the project's rate. A registration without any rate stops the draft.
* **Hours**: the minutes of a line are summed first, then converted: hours = minutes / 60,
  rounded half up to 2 decimals (RoundingPoint.HOURS). The line amount is hours × rate, rounded
  half up to the minor unit (RoundingPoint.LINE_AMOUNT) — exactly what an ERP recomputes.
* **Expenses**: one line per expense, with its own quantity, unit, price and VAT category.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from ledgerlink.domain.errors import ValidationError
from ledgerlink.domain.invoices import InvoiceLine, LineKind
from ledgerlink.domain.money import Money
from ledgerlink.domain.parties import Employee
from ledgerlink.domain.work import Expense, ExpenseType, Project, TimeRegistration

HOURS_QUANTUM = Decimal("0.01")

_EXPENSE_LINE_KIND = {
    ExpenseType.EXPENSE: LineKind.EXPENSE,
    ExpenseType.TRAVEL: LineKind.TRAVEL,
    ExpenseType.MILEAGE: LineKind.MILEAGE,
}


class Grouping(enum.StrEnum):
    EMPLOYEE = "employee"
    TASK = "task"
    ONE_LINE = "one"


class RateSource(enum.StrEnum):
    REGISTRATION = "registration"
    PROJECT = "project"


def hours_from_minutes(minutes: int) -> Decimal:
    """Minutes → hours, rounded half up to 2 decimals (RoundingPoint.HOURS)."""
    return (Decimal(minutes) / 60).quantize(HOURS_QUANTUM, rounding=ROUND_HALF_UP)


def _rate(registration: TimeRegistration, project: Project, source: RateSource) -> Money:
    rate = (
        project.hourly_rate
        if source is RateSource.PROJECT
        else registration.hourly_rate or project.hourly_rate
    )
    where = registration.ref or f"#{registration.id}"
    if rate is None:
        raise ValidationError(
            f"registration {where} on {registration.day} has no hourly rate and project "
            f"{project.number} has none either; set a rate on the project"
        )
    if rate.currency != project.currency:
        raise ValidationError(
            f"registration {where} is priced in {rate.currency}, project {project.number} "
            f"is invoiced in {project.currency}"
        )
    return rate


@dataclass(frozen=True, slots=True)
class _Group:
    label: str
    employee_id: int | None
    rate: Money


def work_lines(
    registrations: Iterable[TimeRegistration],
    *,
    project: Project,
    employees: Mapping[int, Employee],
    grouping: Grouping,
    rate_source: RateSource,
    description_suffix: str = "",
) -> list[InvoiceLine]:
    """Work lines for ``registrations`` of ``project`` (all billable, none invoiced)."""
    groups: dict[_Group, list[TimeRegistration]] = {}
    for registration in registrations:
        if not registration.billable or registration.invoiced:
            raise ValidationError(
                f"registration {registration.ref or registration.id} is not billable or is "
                "already on an invoice"
            )
        rate = _rate(registration, project, rate_source)
        employee = employees[registration.employee_id]
        if grouping is Grouping.EMPLOYEE:
            key = _Group(f"{employee.name} ({employee.initials})", employee.id, rate)
        elif grouping is Grouping.TASK:
            key = _Group(registration.task or "General", None, rate)
        else:
            key = _Group("Consulting", None, rate)
        groups.setdefault(key, []).append(registration)
    lines = []
    for key in sorted(groups, key=lambda g: (g.label, g.rate.amount)):
        members = groups[key]
        minutes = sum(r.minutes for r in members)
        suffix = f", {description_suffix}" if description_suffix else ""
        lines.append(
            InvoiceLine(
                kind=LineKind.WORK,
                description=f"{project.name}: {key.label}{suffix}",
                quantity=hours_from_minutes(minutes),
                unit="hours",
                unit_price=key.rate,
                project_id=project.id,
                employee_id=key.employee_id,
                time_registration_ids=tuple(sorted(r.id for r in members if r.id is not None)),
            )
        )
    return lines


def expense_lines(expenses: Iterable[Expense], *, project: Project) -> list[InvoiceLine]:
    """One line per expense, priced in the project's currency."""
    lines = []
    for expense in sorted(expenses, key=lambda e: (e.day, e.id or 0)):
        if expense.unit_price.currency != project.currency:
            raise ValidationError(
                f"expense {expense.ref or expense.id} ({expense.description}) is in "
                f"{expense.unit_price.currency}, project {project.number} is invoiced in "
                f"{project.currency}; enter the re-invoiced amount in {project.currency}"
            )
        if not expense.billable or expense.invoiced:
            raise ValidationError(
                f"expense {expense.ref or expense.id} is not billable or is already on an invoice"
            )
        lines.append(
            InvoiceLine(
                kind=_EXPENSE_LINE_KIND[expense.expense_type],
                description=f"{expense.description} ({expense.day.isoformat()})",
                quantity=expense.quantity,
                unit=expense.unit,
                unit_price=expense.unit_price,
                vat_category=expense.vat_category,
                project_id=project.id,
                employee_id=expense.employee_id,
                expense_ids=(expense.id,) if expense.id is not None else (),
            )
        )
    return lines
