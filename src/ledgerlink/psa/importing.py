"""Importing PSA data from CSV and JSON files (formats documented in the README).

Every row is validated; a rejected row is reported with its line number and the reason.
By default an import is all-or-nothing: one rejected row and nothing is kept. With
``partial=True`` the valid rows are kept and the rejected ones reported. Rows are upserts by
their natural key (customer number, initials, project number, registration/expense ``ref``),
so importing the same file twice changes nothing.
"""

from __future__ import annotations

import csv
import enum
import io
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from ledgerlink.domain.entity import require_id
from ledgerlink.domain.errors import LedgerlinkError, ValidationError
from ledgerlink.domain.money import Money, currency_code, to_decimal
from ledgerlink.domain.parties import Address, Contact, Customer, Employee, PaymentTerms
from ledgerlink.domain.vat import VatCategory
from ledgerlink.domain.work import Expense, ExpenseType, Project, TimeRegistration
from ledgerlink.store.repositories import Change
from ledgerlink.store.uow import UnitOfWork


class ImportKind(enum.StrEnum):
    CUSTOMERS = "customers"
    CONTACTS = "contacts"
    EMPLOYEES = "employees"
    PROJECTS = "projects"
    REGISTRATIONS = "registrations"
    EXPENSES = "expenses"


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    message: str


@dataclass
class ImportReport:
    """What an import did. ``committed`` is False when nothing was kept."""

    kind: ImportKind
    source: str
    rows: int = 0
    changes: dict[Change, int] = field(default_factory=lambda: dict.fromkeys(Change, 0))
    errors: list[RowError] = field(default_factory=list)
    committed: bool = False

    @property
    def accepted(self) -> int:
        return sum(self.changes.values())


# reading files ------------------------------------------------------------------------------
def read_rows(path: Path) -> list[tuple[int, dict[str, object]]]:
    """(line number, row) pairs from a ``.csv`` or ``.json`` file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ValidationError(f"{path} does not exist") from None
    except UnicodeDecodeError:
        raise ValidationError(f"{path} is not UTF-8 text") from None
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return list(_csv_rows(text))
    if suffix == ".json":
        return list(_json_rows(text, path))
    raise ValidationError(f"{path.name}: use a .csv or .json file")


def _csv_rows(text: str) -> Iterator[tuple[int, dict[str, object]]]:
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text.split("\n", 1)[0], delimiters=",;\t"
        )
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    for row in reader:
        extra = row.pop(None, None)
        values: dict[str, object] = {
            (key or "").strip(): (value or "") for key, value in row.items()
        }
        if extra:
            values["\0extra"] = extra
        yield reader.line_num, values


def _json_rows(text: str, path: Path) -> Iterator[tuple[int, dict[str, object]]]:
    """Decode a JSON array item by item, so each item's line number is known."""
    decoder = json.JSONDecoder(parse_float=Decimal)
    position = _skip_space(text, 0)
    if not text.startswith("[", position):
        raise ValidationError(f"{path.name}: a JSON import file holds an array of objects")
    position = _skip_space(text, position + 1)
    while not text.startswith("]", position):
        line = text.count("\n", 0, position) + 1
        try:
            item, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            raise ValidationError(f"{path.name} line {error.lineno}: {error.msg}") from None
        if not isinstance(item, dict):
            raise ValidationError(f"{path.name} line {line}: each item must be an object")
        yield line, item
        position = _skip_space(text, position)
        if text.startswith(",", position):
            position = _skip_space(text, position + 1)
        elif not text.startswith("]", position):
            line = text.count("\n", 0, position) + 1
            raise ValidationError(f"{path.name} line {line}: expected ',' or ']'")


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


# typed access to a row ----------------------------------------------------------------------
class _Row:
    """One row; each accessor names the column when its value is wrong."""

    def __init__(self, values: Mapping[str, object]) -> None:
        self._values = values

    def raw(self, column: str) -> str:
        value = self._values.get(column)
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value).strip()

    def text(self, column: str) -> str:
        value = self.raw(column)
        if not value:
            raise ValidationError(f"{column} is required")
        return value

    def optional(self, column: str) -> str | None:
        return self.raw(column) or None

    def day(self, column: str) -> date:
        value = self.text(column)
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValidationError(
                f"{column} '{value}' is not a date in the form YYYY-MM-DD"
            ) from None

    def decimal(self, column: str, default: Decimal | None = None) -> Decimal:
        value = self.raw(column)
        if not value:
            if default is None:
                raise ValidationError(f"{column} is required")
            return default
        if "," in value and "." not in value:
            value = value.replace(",", ".")  # decimal comma, as Danish/Swedish spreadsheets write
        try:
            return to_decimal(value)
        except ValidationError:
            raise ValidationError(f"{column} '{value}' is not a number") from None

    def integer(self, column: str) -> int:
        value = self.decimal(column)
        if value != value.to_integral_value():
            raise ValidationError(f"{column} '{value}' must be a whole number")
        return int(value)

    def boolean(self, column: str, *, default: bool) -> bool:
        value = self.raw(column).lower()
        if not value:
            return default
        if value in ("true", "yes", "y", "1", "ja", "x"):
            return True
        if value in ("false", "no", "n", "0", "nej"):
            return False
        raise ValidationError(f"{column} '{value}' is not true/false")

    def money(self, column: str, currency: str) -> Money | None:
        value = self.raw(column)
        if not value:
            return None
        try:
            return Money(self.decimal(column), currency)
        except ValidationError as error:
            raise ValidationError(f"{column}: {error}") from None


# one importer per kind ----------------------------------------------------------------------
@dataclass
class _Context:
    uow: UnitOfWork
    legal_entity_id: int

    def customer(self, number: str) -> Customer:
        customer = self.uow.customers.by_number(self.legal_entity_id, number)
        if customer is None:
            raise ValidationError(f"customer {number} does not exist; import it first")
        return customer

    def employee(self, initials: str) -> Employee:
        employee = self.uow.employees.by_initials(self.legal_entity_id, initials)
        if employee is None:
            raise ValidationError(f"employee {initials.upper()} does not exist; import it first")
        return employee

    def project(self, number: str) -> Project:
        project = self.uow.projects.by_number(self.legal_entity_id, number)
        if project is None:
            raise ValidationError(f"project {number} does not exist; import it first")
        return project


def _customer(row: _Row, ctx: _Context) -> Change:
    terms = row.raw("payment_terms")
    customer = Customer(
        legal_entity_id=ctx.legal_entity_id,
        number=row.text("number"),
        name=row.text("name"),
        address=Address(
            lines=(row.raw("address1"), row.raw("address2"), row.raw("address3")),
            postal_code=row.raw("postal_code"),
            city=row.raw("city"),
            country=row.text("country"),
        ),
        vat_number=row.raw("vat_number"),
        registration_number=row.raw("registration_number"),
        ean=row.raw("ean"),
        currency=row.text("currency"),
        payment_terms=PaymentTerms.parse(terms) if terms else PaymentTerms(),
        email=row.raw("email"),
        phone=row.raw("phone"),
        website=row.raw("website"),
    )
    return ctx.uow.customers.save(customer)


def _contact(row: _Row, ctx: _Context) -> Change:
    customer = ctx.customer(row.text("customer_number"))
    contact = Contact(
        customer_id=require_id(customer),
        name=row.text("name"),
        email=row.raw("email"),
        phone=row.raw("phone"),
        title=row.raw("title"),
    )
    return ctx.uow.contacts.save(contact)


def _employee(row: _Row, ctx: _Context) -> Change:
    employee = Employee(
        legal_entity_id=ctx.legal_entity_id,
        initials=row.text("initials"),
        name=row.text("name"),
        email=row.raw("email"),
        department=row.raw("department"),
    )
    return ctx.uow.employees.save(employee)


def _project(row: _Row, ctx: _Context) -> Change:
    customer = ctx.customer(row.text("customer_number"))
    currency = currency_code(row.raw("currency") or customer.currency)
    manager = row.optional("manager_initials")
    project = Project(
        legal_entity_id=ctx.legal_entity_id,
        number=row.text("number"),
        name=row.text("name"),
        customer_id=require_id(customer),
        currency=currency,
        manager_id=require_id(ctx.employee(manager)) if manager else None,
        department=row.raw("department"),
        hourly_rate=row.money("hourly_rate", currency),
    )
    return ctx.uow.projects.save(project)


def _minutes(row: _Row) -> int:
    if row.raw("minutes"):
        return row.integer("minutes")
    hours = row.decimal("hours") * 60
    if hours != hours.to_integral_value():
        raise ValidationError(f"hours '{row.raw('hours')}' is not a whole number of minutes")
    return int(hours)


def _registration(row: _Row, ctx: _Context) -> Change:
    project = ctx.project(row.text("project_number"))
    if not row.raw("minutes") and not row.raw("hours"):
        raise ValidationError("minutes (or hours) is required")
    registration = TimeRegistration(
        ref=row.optional("ref"),
        employee_id=require_id(ctx.employee(row.text("employee_initials"))),
        project_id=require_id(project),
        day=row.day("date"),
        minutes=_minutes(row),
        task=row.raw("task"),
        billable=row.boolean("billable", default=True),
        hourly_rate=row.money("hourly_rate", project.currency),
        comment=row.raw("comment"),
    )
    return ctx.uow.registrations.save(ctx.legal_entity_id, registration)


def _expense(row: _Row, ctx: _Context) -> Change:
    project = ctx.project(row.text("project_number"))
    currency = currency_code(row.raw("currency") or project.currency)
    expense_type = _choice(ExpenseType, row, "type", ExpenseType.EXPENSE)
    price = row.money("unit_price", currency)
    if price is None:
        raise ValidationError("unit_price is required")
    expense = Expense(
        ref=row.optional("ref"),
        employee_id=require_id(ctx.employee(row.text("employee_initials"))),
        project_id=require_id(project),
        day=row.day("date"),
        expense_type=expense_type,
        description=row.text("description"),
        quantity=row.decimal("quantity", Decimal(1)),
        unit=row.raw("unit") or ("km" if expense_type is ExpenseType.MILEAGE else "pcs"),
        unit_price=price,
        vat_category=_choice(VatCategory, row, "vat_category", VatCategory.STANDARD),
        billable=row.boolean("billable", default=True),
        receipt_file=row.raw("receipt_file"),
    )
    return ctx.uow.expenses.save(ctx.legal_entity_id, expense)


_Choice = TypeVar("_Choice", bound=enum.StrEnum)


def _choice(kind: type[_Choice], row: _Row, column: str, default: _Choice) -> _Choice:
    value = row.raw(column).lower()
    if not value:
        return default
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise ValidationError(f"{column} '{value}' is not one of: {allowed}") from None


@dataclass(frozen=True)
class _Format:
    required: tuple[str, ...]
    optional: tuple[str, ...]
    key: tuple[str, ...]
    load: Callable[[_Row, _Context], Change]


#: The columns of each kind (CSV headers = JSON keys). Documented in the README.
FORMATS: dict[ImportKind, _Format] = {
    ImportKind.CUSTOMERS: _Format(
        ("number", "name", "country", "currency"),
        ("address1", "address2", "address3", "postal_code", "city", "vat_number",
         "registration_number", "ean", "payment_terms", "email", "phone", "website"),
        ("number",),
        _customer,
    ),
    ImportKind.CONTACTS: _Format(
        ("customer_number", "name"), ("email", "phone", "title"), ("customer_number", "name"),
        _contact,
    ),
    ImportKind.EMPLOYEES: _Format(
        ("initials", "name"), ("email", "department"), ("initials",), _employee
    ),
    ImportKind.PROJECTS: _Format(
        ("number", "name", "customer_number"),
        ("manager_initials", "department", "hourly_rate", "currency"),
        ("number",),
        _project,
    ),
    ImportKind.REGISTRATIONS: _Format(
        ("date", "employee_initials", "project_number"),
        ("ref", "minutes", "hours", "task", "billable", "hourly_rate", "comment"),
        ("ref",),
        _registration,
    ),
    ImportKind.EXPENSES: _Format(
        ("date", "employee_initials", "project_number", "description", "unit_price"),
        ("ref", "type", "quantity", "unit", "currency", "vat_category", "billable",
         "receipt_file"),
        ("ref",),
        _expense,
    ),
}  # fmt: skip


def _column_errors(kind: ImportKind, columns: set[str]) -> list[str]:
    fmt = FORMATS[kind]
    problems = []
    missing = [c for c in fmt.required if c not in columns]
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}")
    unknown = sorted(columns - set(fmt.required) - set(fmt.optional) - {"\0extra"})
    if unknown:
        known = ", ".join(fmt.required + fmt.optional)
        problems.append(f"unknown column(s): {', '.join(unknown)} (known: {known})")
    if "\0extra" in columns:
        problems.append("more values than columns")
    return problems


def import_rows(
    uow: UnitOfWork,
    *,
    legal_entity_id: int,
    kind: ImportKind,
    rows: list[tuple[int, dict[str, object]]],
    source: str,
    partial: bool = False,
) -> ImportReport:
    """Validate and store ``rows``; see the module docstring for all-or-nothing."""
    report = ImportReport(kind=kind, source=source, rows=len(rows))
    fmt = FORMATS[kind]
    seen: dict[tuple[str, ...], int] = {}
    with uow:
        ctx = _Context(uow, legal_entity_id)
        for line, values in rows:
            row = _Row(values)
            problems = _column_errors(kind, set(values))
            if problems:
                report.errors.append(RowError(line, "; ".join(problems)))
                continue
            # Compare keys as they are stored: initials in upper case.
            key = tuple(
                row.raw(column).upper() if column.endswith("initials") else row.raw(column)
                for column in fmt.key
            )
            if all(key) and key in seen:
                report.errors.append(
                    RowError(
                        line, f"{', '.join(fmt.key)} {'/'.join(key)} is also on line {seen[key]}"
                    )
                )
                continue
            if all(key):
                seen[key] = line
            try:
                with uow.savepoint():
                    change = fmt.load(row, ctx)
            except LedgerlinkError as error:
                report.errors.append(RowError(line, str(error)))
                continue
            report.changes[change] += 1
        if report.errors and not partial:
            uow.rollback()
            report.changes = dict.fromkeys(Change, 0)
            return report
        uow.commit()
        report.committed = True
    return report


def import_file(
    uow: UnitOfWork, *, legal_entity_id: int, kind: ImportKind, path: Path, partial: bool = False
) -> ImportReport:
    """Import a ``.csv`` or ``.json`` file of ``kind``."""
    return import_rows(
        uow,
        legal_entity_id=legal_entity_id,
        kind=kind,
        rows=read_rows(path),
        source=str(path),
        partial=partial,
    )
