"""The work that is billed: projects, time registrations and expenses."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ledgerlink.domain.errors import ValidationError
from ledgerlink.domain.money import Money, RoundingPoint, currency_code
from ledgerlink.domain.parties import optional_text, required_text
from ledgerlink.domain.vat import VatCategory

MAX_MINUTES_PER_REGISTRATION = 24 * 60

#: Work is dated in this range; a year like 0001 or 9999 is a typo, not work done.
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2099, 12, 31)


def work_day(day: date, what: str = "date") -> date:
    """``day`` when it lies between :data:`EARLIEST_DAY` and :data:`LATEST_DAY`."""
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ValidationError(
            f"{what} {day.isoformat()} is not between {EARLIEST_DAY} and {LATEST_DAY} "
            "(check the year)"
        )
    return day


def hourly_rate(rate: Money | None, what: str = "hourly rate") -> Money | None:
    """``rate`` unless it is negative (a zero rate is free work)."""
    if rate is not None and rate.amount < 0:
        raise ValidationError(f"{what} must not be negative (got {rate})")
    return rate


@dataclass(kw_only=True)
class Project:
    """A customer project. ``hourly_rate`` is the project's rate (used when a registration has
    none, or always when drafting with rates from the project); it is in the project currency."""

    id: int | None = None
    legal_entity_id: int
    number: str
    name: str
    customer_id: int
    currency: str
    manager_id: int | None = None
    department: str = ""
    hourly_rate: Money | None = None
    active: bool = True

    def __post_init__(self) -> None:
        self.number = required_text(self.number, "project number", max_length=30)
        self.name = required_text(self.name, "project name")
        self.currency = currency_code(self.currency)
        self.department = optional_text(self.department, "department", max_length=50)
        hourly_rate(self.hourly_rate, f"project {self.number}: hourly rate")
        if self.hourly_rate is not None and self.hourly_rate.currency != self.currency:
            raise ValidationError(
                f"project {self.number}: hourly rate is in {self.hourly_rate.currency}, "
                f"the project is in {self.currency}"
            )


@dataclass(kw_only=True)
class TimeRegistration:
    """Minutes an employee worked on a project on a day.

    ``ref`` is the source system's id; importing a file again with the same refs updates rows
    that are not yet invoiced instead of adding them twice. ``invoice_line_id`` is set while the
    registration is on an invoice (draft or posted); such a registration is never drafted again.
    """

    id: int | None = None
    ref: str | None = None
    employee_id: int
    project_id: int
    day: date
    minutes: int
    task: str = ""
    billable: bool = True
    hourly_rate: Money | None = None
    comment: str = ""
    invoice_line_id: int | None = None

    def __post_init__(self) -> None:
        if not 0 < self.minutes <= MAX_MINUTES_PER_REGISTRATION:
            raise ValidationError(
                f"minutes must be between 1 and {MAX_MINUTES_PER_REGISTRATION} (got {self.minutes})"
            )
        work_day(self.day)
        hourly_rate(self.hourly_rate)
        self.task = optional_text(self.task, "task", max_length=100)
        self.comment = optional_text(self.comment, "comment", max_length=1000)
        if self.ref is not None:
            self.ref = required_text(self.ref, "registration ref", max_length=64)

    @property
    def invoiced(self) -> bool:
        return self.invoice_line_id is not None


class ExpenseType(enum.StrEnum):
    """The kind of an expense; it becomes the kind of its invoice line."""

    EXPENSE = "expense"
    TRAVEL = "travel"
    MILEAGE = "mileage"


@dataclass(kw_only=True)
class Expense:
    """An outlay re-invoiced to the customer: ``quantity`` × ``unit_price`` (net, excl. VAT),
    e.g. 1 × 450.00 for a receipt or 120 km × 3.79 for mileage."""

    id: int | None = None
    ref: str | None = None
    employee_id: int
    project_id: int
    day: date
    expense_type: ExpenseType = ExpenseType.EXPENSE
    description: str
    quantity: Decimal = Decimal(1)
    unit: str = "pcs"
    unit_price: Money
    vat_category: VatCategory = VatCategory.STANDARD
    billable: bool = True
    receipt_file: str = ""
    invoice_line_id: int | None = None

    def __post_init__(self) -> None:
        self.description = required_text(self.description, "expense description", max_length=500)
        work_day(self.day)
        if self.quantity <= 0:
            raise ValidationError(f"expense quantity must be positive (got {self.quantity})")
        if self.unit_price.amount < 0:
            raise ValidationError("expense unit price must not be negative")
        self.unit = required_text(self.unit, "expense unit", max_length=20)
        try:
            self.unit_price.multiply(self.quantity, at=RoundingPoint.EXPENSE_AMOUNT)
        except ValidationError as error:
            raise ValidationError(f"expense quantity × unit price: {error}") from None
        self.receipt_file = optional_text(self.receipt_file, "receipt file", max_length=500)
        if self.ref is not None:
            self.ref = required_text(self.ref, "expense ref", max_length=64)

    @property
    def amount(self) -> Money:
        return self.unit_price.multiply(self.quantity, at=RoundingPoint.EXPENSE_AMOUNT)

    @property
    def invoiced(self) -> bool:
        return self.invoice_line_id is not None


@dataclass(kw_only=True)
class ProductNumber:
    """A product (item, article) as imported from an ERP; the ERP is its master."""

    id: int | None = None
    number: str
    name: str
    unit: str = ""
    sales_price: Money | None = None
    active: bool = True

    def __post_init__(self) -> None:
        self.number = required_text(self.number, "product number", max_length=50)
        self.name = required_text(self.name, "product name")
