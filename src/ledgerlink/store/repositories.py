"""Repositories: domain objects in, domain objects out. Rows never leave this module."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from ledgerlink.domain.errors import ConflictError, ImmutableError, NotFoundError
from ledgerlink.domain.invoices import (
    DocumentTotals,
    DocumentType,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
)
from ledgerlink.domain.money import Money
from ledgerlink.domain.parties import (
    Address,
    Contact,
    Customer,
    Employee,
    LegalEntity,
    PaymentTerms,
    PaymentTermsKind,
)
from ledgerlink.domain.vat import VatCategory, VatLine, VatTreatment
from ledgerlink.domain.work import Expense, ExpenseType, Project, TimeRegistration
from ledgerlink.store.tables import (
    Base,
    ContactRow,
    CustomerRow,
    EmployeeRow,
    ExpenseRow,
    InvoiceLineRow,
    InvoiceLineSourceRow,
    InvoiceRow,
    InvoiceVatLineRow,
    LegalEntityRow,
    ProjectRow,
    TimeRegistrationRow,
)


def _money(minor: int | None, currency: str | None) -> Money | None:
    if minor is None or currency is None:
        return None
    return Money.from_minor_units(minor, currency)


def _minor(money: Money | None) -> int | None:
    return None if money is None else money.minor_units


_Row = TypeVar("_Row", bound=Base)


class Change(enum.StrEnum):
    """What an upsert did."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


def _get_row(session: Session, table: type[_Row], row_id: int | None, what: str) -> _Row:
    row = session.get(table, row_id) if row_id is not None else None
    if row is None:
        raise NotFoundError(f"{what} #{row_id} does not exist")
    return row


def _rows_by_id(session: Session, table: type[_Row], ids: Iterable[int]) -> list[_Row]:
    wanted = sorted(set(ids))
    if not wanted:
        return []
    return list(session.scalars(select(table).where(table.id.in_(wanted))))  # type: ignore[attr-defined]


# legal entities -----------------------------------------------------------------------------
def _legal_entity(row: LegalEntityRow) -> LegalEntity:
    return LegalEntity(
        id=row.id,
        code=row.code,
        name=row.name,
        country=row.country,
        currency=row.currency,
        vat_number=row.vat_number,
        registration_number=row.registration_number,
        next_invoice_number=row.next_invoice_number,
    )


class LegalEntityRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, entity: LegalEntity) -> LegalEntity:
        if self.by_code(entity.code) is not None:
            raise ConflictError(f"legal entity {entity.code} already exists")
        row = LegalEntityRow(
            code=entity.code,
            name=entity.name,
            country=entity.country,
            currency=entity.currency,
            vat_number=entity.vat_number,
            registration_number=entity.registration_number,
            next_invoice_number=entity.next_invoice_number,
        )
        self._session.add(row)
        self._session.flush()
        entity.id = row.id
        return entity

    def get(self, entity_id: int) -> LegalEntity:
        row = _get_row(self._session, LegalEntityRow, entity_id, "legal entity")
        return _legal_entity(row)

    def by_code(self, code: str) -> LegalEntity | None:
        row = self._session.scalar(
            select(LegalEntityRow).where(LegalEntityRow.code == code.strip().upper())
        )
        return None if row is None else _legal_entity(row)

    def list(self) -> list[LegalEntity]:
        rows = self._session.scalars(select(LegalEntityRow).order_by(LegalEntityRow.code))
        return [_legal_entity(row) for row in rows]

    def take_invoice_number(self, entity_id: int) -> int:
        """Atomically hand out the next number of the entity's series (safe across processes:
        a single UPDATE … RETURNING, which both SQLite and PostgreSQL serialise)."""
        number = self._session.execute(
            update(LegalEntityRow)
            .where(LegalEntityRow.id == entity_id)
            .values(next_invoice_number=LegalEntityRow.next_invoice_number + 1)
            .returning(LegalEntityRow.next_invoice_number)
        ).scalar_one_or_none()
        if number is None:
            raise NotFoundError(f"legal entity #{entity_id} does not exist")
        return int(number) - 1


# customers and contacts ---------------------------------------------------------------------
def _customer(row: CustomerRow) -> Customer:
    return Customer(
        id=row.id,
        legal_entity_id=row.legal_entity_id,
        number=row.number,
        name=row.name,
        address=Address(
            lines=(row.address_line1, row.address_line2, row.address_line3),
            postal_code=row.postal_code,
            city=row.city,
            country=row.country,
        ),
        vat_number=row.vat_number,
        registration_number=row.registration_number,
        ean=row.ean,
        currency=row.currency,
        payment_terms=PaymentTerms(
            PaymentTermsKind(row.payment_terms_kind), row.payment_terms_days
        ),
        email=row.email,
        phone=row.phone,
        website=row.website,
        active=row.active,
    )


def _write_customer(row: CustomerRow, customer: Customer) -> None:
    lines = [*customer.address.lines, "", "", ""]
    row.legal_entity_id = customer.legal_entity_id
    row.number = customer.number
    row.name = customer.name
    row.address_line1, row.address_line2, row.address_line3 = lines[0], lines[1], lines[2]
    row.postal_code = customer.address.postal_code
    row.city = customer.address.city
    row.country = customer.address.country
    row.vat_number = customer.vat_number
    row.registration_number = customer.registration_number
    row.ean = customer.ean
    row.currency = customer.currency
    row.payment_terms_kind = customer.payment_terms.kind.value
    row.payment_terms_days = customer.payment_terms.days
    row.email = customer.email
    row.phone = customer.phone
    row.website = customer.website
    row.active = customer.active


class CustomerRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def save(self, customer: Customer) -> Change:
        """Insert, or update the customer with the same number in the legal entity."""
        row = self._session.scalar(
            select(CustomerRow).where(
                CustomerRow.legal_entity_id == customer.legal_entity_id,
                CustomerRow.number == customer.number,
            )
        )
        if row is not None and _customer(row) == replace(customer, id=row.id):
            customer.id = row.id
            return Change.UNCHANGED
        change = Change.CREATED if row is None else Change.UPDATED
        if row is None:
            row = CustomerRow()
            self._session.add(row)
        _write_customer(row, customer)
        self._session.flush()
        customer.id = row.id
        return change

    def get(self, customer_id: int) -> Customer:
        row = _get_row(self._session, CustomerRow, customer_id, "customer")
        return _customer(row)

    def get_many(self, customer_ids: Iterable[int]) -> dict[int, Customer]:
        """Several customers by id in one query (an unknown id is left out)."""
        return {
            row.id: _customer(row) for row in _rows_by_id(self._session, CustomerRow, customer_ids)
        }

    def by_number(self, legal_entity_id: int, number: str) -> Customer | None:
        row = self._session.scalar(
            select(CustomerRow).where(
                CustomerRow.legal_entity_id == legal_entity_id, CustomerRow.number == number
            )
        )
        return None if row is None else _customer(row)

    def list(self, legal_entity_id: int) -> list[Customer]:
        rows = self._session.scalars(
            select(CustomerRow)
            .where(CustomerRow.legal_entity_id == legal_entity_id)
            .order_by(CustomerRow.number)
        )
        return [_customer(row) for row in rows]


def _contact(row: ContactRow) -> Contact:
    return Contact(
        id=row.id,
        customer_id=row.customer_id,
        name=row.name,
        email=row.email,
        phone=row.phone,
        title=row.title,
    )


class ContactRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def save(self, contact: Contact) -> Change:
        """Insert, or update the contact with the same name at the same customer."""
        row = self._session.scalar(
            select(ContactRow).where(
                ContactRow.customer_id == contact.customer_id, ContactRow.name == contact.name
            )
        )
        if row is not None and _contact(row) == replace(contact, id=row.id):
            contact.id = row.id
            return Change.UNCHANGED
        change = Change.CREATED if row is None else Change.UPDATED
        if row is None:
            row = ContactRow(customer_id=contact.customer_id, name=contact.name)
            self._session.add(row)
        row.email, row.phone, row.title = contact.email, contact.phone, contact.title
        self._session.flush()
        contact.id = row.id
        return change

    def get(self, contact_id: int) -> Contact:
        return _contact(_get_row(self._session, ContactRow, contact_id, "contact"))

    def for_customer(self, customer_id: int) -> list[Contact]:
        rows = self._session.scalars(
            select(ContactRow)
            .where(ContactRow.customer_id == customer_id)
            .order_by(ContactRow.name)
        )
        return [_contact(row) for row in rows]


# employees and projects ---------------------------------------------------------------------
def _employee(row: EmployeeRow) -> Employee:
    return Employee(
        id=row.id,
        legal_entity_id=row.legal_entity_id,
        initials=row.initials,
        name=row.name,
        email=row.email,
        department=row.department,
        active=row.active,
    )


class EmployeeRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def save(self, employee: Employee) -> Change:
        """Insert, or update the employee with the same initials in the legal entity."""
        row = self._session.scalar(
            select(EmployeeRow).where(
                EmployeeRow.legal_entity_id == employee.legal_entity_id,
                EmployeeRow.initials == employee.initials,
            )
        )
        if row is not None and _employee(row) == replace(employee, id=row.id):
            employee.id = row.id
            return Change.UNCHANGED
        change = Change.CREATED if row is None else Change.UPDATED
        if row is None:
            row = EmployeeRow(legal_entity_id=employee.legal_entity_id, initials=employee.initials)
            self._session.add(row)
        row.name, row.email = employee.name, employee.email
        row.department, row.active = employee.department, employee.active
        self._session.flush()
        employee.id = row.id
        return change

    def get(self, employee_id: int) -> Employee:
        row = _get_row(self._session, EmployeeRow, employee_id, "employee")
        return _employee(row)

    def by_initials(self, legal_entity_id: int, initials: str) -> Employee | None:
        row = self._session.scalar(
            select(EmployeeRow).where(
                EmployeeRow.legal_entity_id == legal_entity_id,
                EmployeeRow.initials == initials.strip().upper(),
            )
        )
        return None if row is None else _employee(row)

    def by_initials_many(
        self, legal_entity_id: int, initials: Iterable[str]
    ) -> dict[str, Employee]:
        """The employees of the legal entity with these initials (one query), by initials."""
        wanted = sorted({i.strip().upper() for i in initials if i.strip()})
        if not wanted:
            return {}
        rows = self._session.scalars(
            select(EmployeeRow).where(
                EmployeeRow.legal_entity_id == legal_entity_id, EmployeeRow.initials.in_(wanted)
            )
        )
        return {row.initials: _employee(row) for row in rows}

    def list(self, legal_entity_id: int) -> list[Employee]:
        rows = self._session.scalars(
            select(EmployeeRow)
            .where(EmployeeRow.legal_entity_id == legal_entity_id)
            .order_by(EmployeeRow.initials)
        )
        return [_employee(row) for row in rows]


def _project(row: ProjectRow) -> Project:
    return Project(
        id=row.id,
        legal_entity_id=row.legal_entity_id,
        number=row.number,
        name=row.name,
        customer_id=row.customer_id,
        currency=row.currency,
        manager_id=row.manager_id,
        department=row.department,
        hourly_rate=_money(row.hourly_rate_minor, row.currency),
        active=row.active,
    )


class ProjectRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def save(self, project: Project) -> Change:
        """Insert, or update the project with the same number in the legal entity."""
        row = self._session.scalar(
            select(ProjectRow).where(
                ProjectRow.legal_entity_id == project.legal_entity_id,
                ProjectRow.number == project.number,
            )
        )
        if row is not None and _project(row) == replace(project, id=row.id):
            project.id = row.id
            return Change.UNCHANGED
        change = Change.CREATED if row is None else Change.UPDATED
        if row is None:
            row = ProjectRow(legal_entity_id=project.legal_entity_id, number=project.number)
            self._session.add(row)
        elif row.currency != project.currency and self._has_invoices(row.id):
            raise ConflictError(
                f"project {project.number} has been invoiced in {row.currency}; "
                "its currency can no longer change"
            )
        row.name, row.customer_id, row.currency = (
            project.name,
            project.customer_id,
            project.currency,
        )
        row.manager_id, row.department = project.manager_id, project.department
        row.hourly_rate_minor = _minor(project.hourly_rate)
        row.active = project.active
        self._session.flush()
        project.id = row.id
        return change

    def _has_invoices(self, project_id: int) -> bool:
        return (
            self._session.scalar(
                select(func.count())
                .select_from(InvoiceRow)
                .where(InvoiceRow.project_id == project_id)
            )
            or 0
        ) > 0

    def get(self, project_id: int) -> Project:
        row = _get_row(self._session, ProjectRow, project_id, "project")
        return _project(row)

    def get_many(self, project_ids: Iterable[int]) -> dict[int, Project]:
        """Several projects by id in one query (an unknown id is left out)."""
        return {
            row.id: _project(row) for row in _rows_by_id(self._session, ProjectRow, project_ids)
        }

    def by_number(self, legal_entity_id: int, number: str) -> Project | None:
        row = self._session.scalar(
            select(ProjectRow).where(
                ProjectRow.legal_entity_id == legal_entity_id, ProjectRow.number == number.strip()
            )
        )
        return None if row is None else _project(row)

    def list(self, legal_entity_id: int) -> list[Project]:
        rows = self._session.scalars(
            select(ProjectRow)
            .where(ProjectRow.legal_entity_id == legal_entity_id)
            .order_by(ProjectRow.number)
        )
        return [_project(row) for row in rows]


# registrations and expenses -----------------------------------------------------------------
def _registration(row: TimeRegistrationRow) -> TimeRegistration:
    return TimeRegistration(
        id=row.id,
        ref=row.ref,
        employee_id=row.employee_id,
        project_id=row.project_id,
        day=row.day,
        minutes=row.minutes,
        task=row.task,
        billable=row.billable,
        hourly_rate=_money(row.hourly_rate_minor, row.rate_currency),
        comment=row.comment,
        invoice_line_id=row.invoice_line_id,
    )


def _write_registration(row: TimeRegistrationRow, registration: TimeRegistration) -> None:
    row.ref = registration.ref
    row.employee_id = registration.employee_id
    row.project_id = registration.project_id
    row.day = registration.day
    row.minutes = registration.minutes
    row.task = registration.task
    row.billable = registration.billable
    row.hourly_rate_minor = _minor(registration.hourly_rate)
    row.rate_currency = registration.hourly_rate.currency if registration.hourly_rate else None
    row.comment = registration.comment


def _expense(row: ExpenseRow) -> Expense:
    return Expense(
        id=row.id,
        ref=row.ref,
        employee_id=row.employee_id,
        project_id=row.project_id,
        day=row.day,
        expense_type=ExpenseType(row.expense_type),
        description=row.description,
        quantity=row.quantity,
        unit=row.unit,
        unit_price=Money.from_minor_units(row.unit_price_minor, row.currency),
        vat_category=VatCategory(row.vat_category),
        billable=row.billable,
        receipt_file=row.receipt_file,
        invoice_line_id=row.invoice_line_id,
    )


def _write_expense(row: ExpenseRow, expense: Expense) -> None:
    row.ref = expense.ref
    row.employee_id = expense.employee_id
    row.project_id = expense.project_id
    row.day = expense.day
    row.expense_type = expense.expense_type.value
    row.description = expense.description
    row.quantity = expense.quantity
    row.unit = expense.unit
    row.unit_price_minor = expense.unit_price.minor_units
    row.currency = expense.unit_price.currency
    row.vat_category = expense.vat_category.value
    row.billable = expense.billable
    row.receipt_file = expense.receipt_file


class TimeRegistrationRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def save(self, legal_entity_id: int, registration: TimeRegistration) -> Change:
        """Insert; with a ``ref`` already known, update it unless it is on an invoice."""
        row = None
        if registration.ref is not None:
            row = self._session.scalar(
                select(TimeRegistrationRow).where(
                    TimeRegistrationRow.legal_entity_id == legal_entity_id,
                    TimeRegistrationRow.ref == registration.ref,
                )
            )
        if row is not None:
            stored = _registration(row)
            if stored == replace(registration, id=row.id, invoice_line_id=row.invoice_line_id):
                registration.id, registration.invoice_line_id = row.id, row.invoice_line_id
                return Change.UNCHANGED
            if stored.invoiced:
                raise ConflictError(
                    f"registration {registration.ref} is already invoiced and cannot change; "
                    "credit the invoice first"
                )
        change = Change.CREATED if row is None else Change.UPDATED
        if row is None:
            row = TimeRegistrationRow(legal_entity_id=legal_entity_id)
            self._session.add(row)
        _write_registration(row, registration)
        self._session.flush()
        registration.id = row.id
        return change

    def get(self, registration_id: int) -> TimeRegistration:
        row = _get_row(self._session, TimeRegistrationRow, registration_id, "time registration")
        return _registration(row)

    def list(
        self,
        *,
        project_id: int | None = None,
        period: tuple[date, date] | None = None,
        billable_uninvoiced: bool = False,
        legal_entity_id: int | None = None,
    ) -> list[TimeRegistration]:
        query = select(TimeRegistrationRow).order_by(
            TimeRegistrationRow.day, TimeRegistrationRow.id
        )
        query = _filter_work(query, TimeRegistrationRow, project_id, period, legal_entity_id)
        if billable_uninvoiced:
            query = query.where(
                TimeRegistrationRow.billable.is_(True),
                TimeRegistrationRow.invoice_line_id.is_(None),
            )
        return [_registration(row) for row in self._session.scalars(query)]

    def attach(self, registration_ids: Sequence[int], line_id: int) -> None:
        """Put registrations on an invoice line; refuse if any is already on one."""
        _attach(self._session, TimeRegistrationRow, "registration", registration_ids, line_id)


class ExpenseRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def save(self, legal_entity_id: int, expense: Expense) -> Change:
        """Insert; with a ``ref`` already known, update it unless it is on an invoice."""
        row = None
        if expense.ref is not None:
            row = self._session.scalar(
                select(ExpenseRow).where(
                    ExpenseRow.legal_entity_id == legal_entity_id, ExpenseRow.ref == expense.ref
                )
            )
        if row is not None:
            stored = _expense(row)
            if stored == replace(expense, id=row.id, invoice_line_id=row.invoice_line_id):
                expense.id, expense.invoice_line_id = row.id, row.invoice_line_id
                return Change.UNCHANGED
            if stored.invoiced:
                raise ConflictError(
                    f"expense {expense.ref} is already invoiced and cannot change; "
                    "credit the invoice first"
                )
        change = Change.CREATED if row is None else Change.UPDATED
        if row is None:
            row = ExpenseRow(legal_entity_id=legal_entity_id)
            self._session.add(row)
        _write_expense(row, expense)
        self._session.flush()
        expense.id = row.id
        return change

    def list(
        self,
        *,
        project_id: int | None = None,
        period: tuple[date, date] | None = None,
        billable_uninvoiced: bool = False,
        legal_entity_id: int | None = None,
    ) -> list[Expense]:
        query = select(ExpenseRow).order_by(ExpenseRow.day, ExpenseRow.id)
        query = _filter_work(query, ExpenseRow, project_id, period, legal_entity_id)
        if billable_uninvoiced:
            query = query.where(ExpenseRow.billable.is_(True), ExpenseRow.invoice_line_id.is_(None))
        return [_expense(row) for row in self._session.scalars(query)]

    def attach(self, expense_ids: Sequence[int], line_id: int) -> None:
        """Put expenses on an invoice line; refuse if any is already on one."""
        _attach(self._session, ExpenseRow, "expense", expense_ids, line_id)


_WorkRow = TypeVar("_WorkRow", TimeRegistrationRow, ExpenseRow)


def _filter_work(
    query: Select[_WorkRow],
    table: type[_WorkRow],
    project_id: int | None,
    period: tuple[date, date] | None,
    legal_entity_id: int | None,
) -> Select[_WorkRow]:
    if project_id is not None:
        query = query.where(table.project_id == project_id)
    if period is not None:
        query = query.where(table.day >= period[0], table.day <= period[1])
    if legal_entity_id is not None:
        query = query.where(table.legal_entity_id == legal_entity_id)
    return query


def _attach(
    session: Session,
    table: type[TimeRegistrationRow] | type[ExpenseRow],
    what: str,
    ids: Sequence[int],
    line_id: int,
) -> None:
    if not ids:
        return
    # Conditional update: of two concurrent drafts, only one can take a registration.
    result = session.execute(
        update(table)
        .where(table.id.in_(ids), table.invoice_line_id.is_(None))
        .values(invoice_line_id=line_id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != len(set(ids)):  # type: ignore[attr-defined]
        raise ConflictError(
            f"some {what}s were put on another invoice meanwhile; draft the invoice again"
        )


# invoices -----------------------------------------------------------------------------------
def _line(row: InvoiceLineRow, currency: str, *, sources: bool = True) -> InvoiceLine:
    return InvoiceLine(
        id=row.id,
        kind=LineKind(row.kind),
        description=row.description,
        quantity=row.quantity,
        unit=row.unit,
        unit_price=Money.from_minor_units(row.unit_price_minor, currency),
        discount_percent=row.discount_percent,
        vat_category=VatCategory(row.vat_category),
        project_id=row.project_id,
        employee_id=row.employee_id,
        product_number=row.product_number,
        credits_position=row.credits_position,
        time_registration_ids=tuple(
            sorted(s.time_registration_id for s in row.sources if s.time_registration_id)
        )
        if sources
        else (),
        expense_ids=tuple(sorted(s.expense_id for s in row.sources if s.expense_id))
        if sources
        else (),
    )


def _invoice(row: InvoiceRow, *, sources: bool = True) -> Invoice:
    currency = row.currency
    totals = None
    if row.net_minor is not None and row.vat_minor is not None and row.gross_minor is not None:
        totals = DocumentTotals(
            net=Money.from_minor_units(row.net_minor, currency),
            vat_lines=tuple(
                VatLine(
                    category=VatCategory(v.category),
                    percent=v.percent,
                    net=Money.from_minor_units(v.net_minor, currency),
                    vat=Money.from_minor_units(v.vat_minor, currency),
                )
                for v in sorted(
                    row.vat_lines, key=lambda v: list(VatCategory).index(VatCategory(v.category))
                )
            ),
            vat=Money.from_minor_units(row.vat_minor, currency),
            gross=Money.from_minor_units(row.gross_minor, currency),
        )
    return Invoice(
        id=row.id,
        legal_entity_id=row.legal_entity_id,
        customer_id=row.customer_id,
        document_type=DocumentType(row.document_type),
        number=row.number,
        currency=currency,
        invoice_date=row.invoice_date,
        due_date=row.due_date,
        posting_date=row.posting_date,
        tax_date=row.tax_date,
        seller_country=row.seller_country,
        vat_treatment=VatTreatment(row.vat_treatment),
        heading=row.heading,
        message=row.message,
        requisition_number=row.requisition_number,
        customer_reference=row.customer_reference,
        internal_reference=row.internal_reference,
        contact_id=row.contact_id,
        project_id=row.project_id,
        credits_invoice_id=row.credits_invoice_id,
        revision=row.revision,
        lines=tuple(_line(line, currency, sources=sources) for line in row.lines),
        totals=totals,
        status=InvoiceStatus(row.status),
    )


def _write_invoice(row: InvoiceRow, invoice: Invoice) -> None:
    assert invoice.tax_date is not None
    row.legal_entity_id = invoice.legal_entity_id
    row.customer_id = invoice.customer_id
    row.document_type = invoice.document_type.value
    row.status = invoice.status.value
    row.number = invoice.number
    row.currency = invoice.currency
    row.invoice_date = invoice.invoice_date
    row.due_date = invoice.due_date
    row.posting_date = invoice.posting_date
    row.tax_date = invoice.tax_date
    row.seller_country = invoice.seller_country
    row.vat_treatment = invoice.vat_treatment.value
    row.heading = invoice.heading
    row.message = invoice.message
    row.requisition_number = invoice.requisition_number
    row.customer_reference = invoice.customer_reference
    row.internal_reference = invoice.internal_reference
    row.contact_id = invoice.contact_id
    row.project_id = invoice.project_id
    row.credits_invoice_id = invoice.credits_invoice_id
    row.revision = invoice.revision
    totals = invoice.totals
    row.net_minor = _minor(totals.net) if totals else None
    row.vat_minor = _minor(totals.vat) if totals else None
    row.gross_minor = _minor(totals.gross) if totals else None
    row.vat_lines = (
        [
            InvoiceVatLineRow(
                category=v.category.value,
                percent=v.percent,
                net_minor=v.net.minor_units,
                vat_minor=v.vat.minor_units,
            )
            for v in totals.vat_lines
        ]
        if totals
        else []
    )


def _line_row(position: int, line: InvoiceLine) -> InvoiceLineRow:
    return InvoiceLineRow(
        position=position,
        kind=line.kind.value,
        description=line.description,
        quantity=line.quantity,
        unit=line.unit,
        unit_price_minor=line.unit_price.minor_units,
        discount_percent=line.discount_percent,
        vat_category=line.vat_category.value,
        project_id=line.project_id,
        employee_id=line.employee_id,
        product_number=line.product_number,
        credits_position=line.credits_position,
        sources=[InvoiceLineSourceRow(time_registration_id=i) for i in line.time_registration_ids]
        + [InvoiceLineSourceRow(expense_id=i) for i in line.expense_ids],
    )


@dataclass(frozen=True, slots=True)
class InvoiceHead:
    """What deciding about a document needs, without its lines (one query)."""

    id: int
    legal_entity_id: int
    document_type: DocumentType
    status: InvoiceStatus
    number: int | None
    revision: int

    def describe(self) -> str:
        kind = "credit note" if self.document_type is DocumentType.CREDIT_NOTE else "invoice"
        return f"{kind} {self.number}" if self.number is not None else f"draft {kind} #{self.id}"


class InvoiceRepository:
    """Invoices and credit notes. A posted document's content is never written again."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def _load(self, *, sources: bool = True) -> Select[InvoiceRow]:
        if not sources:  # one statement: lines and VAT lines joined
            return select(InvoiceRow).options(
                joinedload(InvoiceRow.lines),
                joinedload(InvoiceRow.vat_lines),
            )
        return select(InvoiceRow).options(
            selectinload(InvoiceRow.lines).selectinload(InvoiceLineRow.sources),
            selectinload(InvoiceRow.vat_lines),
        )

    def add(self, invoice: Invoice) -> Invoice:
        """Insert a new draft; lines get ids and their registrations/expenses are attached."""
        if invoice.status.is_posted:
            raise ImmutableError("only drafts are added; posting happens on a stored draft")
        row = InvoiceRow()
        _write_invoice(row, invoice)
        row.lines = [_line_row(p, line) for p, line in enumerate(invoice.lines, start=1)]
        self._session.add(row)
        self._session.flush()
        self._attach_sources(row)
        loaded = self.get(row.id)
        invoice.id = loaded.id
        invoice.lines = loaded.lines
        return invoice

    def _attach_sources(self, row: InvoiceRow) -> None:
        for line in row.lines:
            registration_ids = [
                s.time_registration_id for s in line.sources if s.time_registration_id
            ]
            expense_ids = [s.expense_id for s in line.sources if s.expense_id]
            _attach(self._session, TimeRegistrationRow, "registration", registration_ids, line.id)
            _attach(self._session, ExpenseRow, "expense", expense_ids, line.id)

    def save(self, invoice: Invoice) -> None:
        """Write back a draft (header and lines), a draft being posted (header: number,
        posting date, totals, status), or a posted document's status change."""
        row = _get_row(self._session, InvoiceRow, invoice.id, "invoice")
        if InvoiceStatus(row.status).is_posted:
            # Only the status may move on (posted → partially credited → credited); a stale
            # draft copy or a changed copy of a posted document is refused, not dropped.
            stored = _invoice(row)
            if not invoice.status.is_posted or replace(invoice, status=stored.status) != stored:
                raise ImmutableError(
                    f"{stored.describe()} is posted and cannot be changed; "
                    "make the correction with a credit note"
                )
            row.status = invoice.status.value
            self._session.flush()
            return
        if invoice.status.is_posted:
            stored_lines = [replace(line, id=None) for line in _invoice(row).lines]
            if stored_lines != [replace(line, id=None) for line in invoice.lines]:
                raise ConflictError(
                    f"{invoice.describe()}: the lines changed since the draft was saved; "
                    "save the draft, then post it"
                )
            _write_invoice(row, invoice)
            self._session.flush()
            return
        self._release(row)
        _write_invoice(row, invoice)
        row.lines.clear()
        self._session.flush()
        row.lines = [_line_row(p, line) for p, line in enumerate(invoice.lines, start=1)]
        self._session.flush()
        self._attach_sources(row)
        invoice.lines = self.get(row.id).lines

    def _release(self, row: InvoiceRow) -> None:
        line_ids = [line.id for line in row.lines]
        if not line_ids:
            return
        for table in (TimeRegistrationRow, ExpenseRow):
            self._session.execute(
                update(table)
                .where(table.invoice_line_id.in_(line_ids))
                .values(invoice_line_id=None)
                .execution_options(synchronize_session=False)
            )

    def release_sources(self, invoice_id: int) -> int:
        """Make the registrations and expenses billed by ``invoice_id`` invoiceable again
        (used only on an explicit request when fully crediting). Returns how many."""
        row = _get_row(self._session, InvoiceRow, invoice_id, "invoice")
        line_ids = [line.id for line in row.lines]
        released = 0
        for table in (TimeRegistrationRow, ExpenseRow):
            result = self._session.execute(
                update(table)
                .where(table.invoice_line_id.in_(line_ids))
                .values(invoice_line_id=None)
                .execution_options(synchronize_session=False)
            )
            released += int(result.rowcount)  # type: ignore[attr-defined]
        return released

    def delete_draft(self, invoice_id: int) -> None:
        """Delete a draft and make its registrations and expenses invoiceable again."""
        row = _get_row(self._session, InvoiceRow, invoice_id, "invoice")
        if InvoiceStatus(row.status).is_posted:
            raise ImmutableError(
                f"invoice {row.number} is posted and cannot be deleted; credit it instead"
            )
        self._release(row)
        self._session.delete(row)
        self._session.flush()

    def get(self, invoice_id: int, *, sources: bool = True) -> Invoice:
        """The document; ``sources=False`` leaves out which registrations and expenses each
        line bills (one query less, for readers that only send the document on)."""
        found = self._session.execute(
            self._load(sources=sources).where(InvoiceRow.id == invoice_id)
        )
        row = found.unique().scalar_one_or_none()
        if row is None:
            raise NotFoundError(f"invoice #{invoice_id} does not exist")
        return _invoice(row, sources=sources)

    def get_many(self, invoice_ids: Iterable[int]) -> dict[int, Invoice]:
        """Several documents by id, without their lines' sources, in one query (an unknown
        id is left out)."""
        ids = sorted(set(invoice_ids))
        if not ids:
            return {}
        found = self._session.execute(self._load(sources=False).where(InvoiceRow.id.in_(ids)))
        return {row.id: _invoice(row, sources=False) for row in found.unique().scalars()}

    def head(self, invoice_id: int) -> InvoiceHead:
        """The document's :class:`InvoiceHead`."""
        found = self._session.execute(
            select(
                InvoiceRow.legal_entity_id,
                InvoiceRow.document_type,
                InvoiceRow.status,
                InvoiceRow.number,
                InvoiceRow.revision,
            ).where(InvoiceRow.id == invoice_id)
        ).first()
        if found is None:
            raise NotFoundError(f"invoice #{invoice_id} does not exist")
        entity, kind, status, number, revision = found
        return InvoiceHead(
            invoice_id, entity, DocumentType(kind), InvoiceStatus(status), number, revision
        )

    def heads(self, invoice_ids: Iterable[int]) -> dict[int, InvoiceHead]:
        """The :class:`InvoiceHead` of several documents in one query (an unknown id is left
        out)."""
        ids = sorted(set(invoice_ids))
        if not ids:
            return {}
        found = self._session.execute(
            select(
                InvoiceRow.id,
                InvoiceRow.legal_entity_id,
                InvoiceRow.document_type,
                InvoiceRow.status,
                InvoiceRow.number,
                InvoiceRow.revision,
            ).where(InvoiceRow.id.in_(ids))
        )
        return {
            row_id: InvoiceHead(
                row_id, entity, DocumentType(kind), InvoiceStatus(status), number, revision
            )
            for row_id, entity, kind, status, number, revision in found
        }

    def by_number(self, legal_entity_id: int, number: int) -> Invoice | None:
        row = self._session.scalar(
            self._load().where(
                InvoiceRow.legal_entity_id == legal_entity_id, InvoiceRow.number == number
            )
        )
        return None if row is None else _invoice(row)

    def list(
        self,
        legal_entity_id: int,
        *,
        statuses: Iterable[InvoiceStatus] = (),
        document_type: DocumentType | None = None,
        customer_id: int | None = None,
        period: tuple[date, date] | None = None,
        text: str | None = None,
    ) -> list[Invoice]:
        """Documents of a legal entity; ``period`` filters on the posting date."""
        query = self._load().where(InvoiceRow.legal_entity_id == legal_entity_id)
        wanted = [status.value for status in statuses]
        if wanted:
            query = query.where(InvoiceRow.status.in_(wanted))
        if document_type is not None:
            query = query.where(InvoiceRow.document_type == document_type.value)
        if customer_id is not None:
            query = query.where(InvoiceRow.customer_id == customer_id)
        if period is not None:
            query = query.where(
                InvoiceRow.posting_date >= period[0], InvoiceRow.posting_date <= period[1]
            )
        if text:
            pattern = f"%{text.strip()}%"
            query = query.join(CustomerRow, CustomerRow.id == InvoiceRow.customer_id).where(
                or_(CustomerRow.name.ilike(pattern), InvoiceRow.heading.ilike(pattern))
                if not text.strip().isdigit()
                else InvoiceRow.number == int(text.strip())
            )
        query = query.order_by(InvoiceRow.number.is_(None), InvoiceRow.number, InvoiceRow.id)
        return [_invoice(row) for row in self._session.scalars(query)]

    def credited_quantities(
        self, invoice_id: int, *, include_drafts: bool, excluding: int | None = None
    ) -> dict[int, Decimal]:
        """Per line position of ``invoice_id``: the quantity its credit notes credit."""
        query = (
            select(InvoiceLineRow.credits_position, InvoiceLineRow.quantity)
            .join(InvoiceRow, InvoiceRow.id == InvoiceLineRow.invoice_id)
            .where(
                InvoiceRow.credits_invoice_id == invoice_id,
                InvoiceLineRow.credits_position.is_not(None),
            )
        )
        if not include_drafts:
            query = query.where(InvoiceRow.status != InvoiceStatus.DRAFT.value)
        if excluding is not None:
            query = query.where(InvoiceRow.id != excluding)
        credited: dict[int, Decimal] = {}
        for position, quantity in self._session.execute(query):
            assert position is not None
            credited[position] = credited.get(position, Decimal(0)) - quantity
        return credited
