"""Importing PSA data from CSV and JSON files (formats documented in the README).

A file is checked as a whole first: readable UTF-8, well-formed CSV whose header names known
columns once each, or one JSON array of flat objects (no duplicate keys, no NaN, nothing after
the array), and at least one row. A file that fails is refused with one ``ValidationError``
saying where and what to fix, and nothing is imported.

Then every row is validated; a rejected row is reported once, with its line number and every
problem found in it. By default an import is all-or-nothing: one rejected row and nothing is
kept. With ``partial=True`` the valid rows are kept and the rejected ones reported. Rows are
upserts by their natural key (customer number, initials, project number, registration/expense
``ref``), so importing the same file twice changes nothing.

Text values that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return) are refused, not stored: the PSA has no spreadsheet export to
escape them in, and the ERPs it feeds have theirs.
"""

from __future__ import annotations

import csv
import enum
import io
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from ledgerlink.domain import identifiers
from ledgerlink.domain.entity import require_id
from ledgerlink.domain.errors import LedgerlinkError, ValidationError
from ledgerlink.domain.money import Money, currency_code, to_decimal
from ledgerlink.domain.parties import (
    Address,
    Contact,
    Customer,
    Employee,
    PaymentTerms,
    plain_text,
)
from ledgerlink.domain.vat import VatCategory
from ledgerlink.domain.work import Expense, ExpenseType, Project, TimeRegistration, work_day
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


Rows = Sequence[tuple[int, Mapping[str, object]]]

#: No column holds more (a registration's comment: 1,000); a longer value is refused unread.
MAX_VALUE_LENGTH = 1000
_EXTRA = "\0extra"  # the key of the values beyond a CSV row's header (never a column name)


def _shown(value: str) -> str:
    """``value`` quoted for a message, cut to a readable length."""
    return f"'{value}'" if len(value) <= 40 else f"'{value[:40]}…'"


# reading files ------------------------------------------------------------------------------
def read_rows(path: Path, kind: ImportKind) -> list[tuple[int, dict[str, object]]]:
    """(line number, row) pairs from a ``.csv`` or ``.json`` file holding rows of ``kind``."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise ValidationError(f"{path.name}: use a .csv or .json file")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ValidationError(f"{path} does not exist") from None
    except IsADirectoryError:
        raise ValidationError(
            f"{path} is a folder; give the path of a .csv or .json file"
        ) from None
    except OSError as error:
        raise ValidationError(f"{path} cannot be read ({error.strerror})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ValidationError(
            f"{path.name} line {line}: not UTF-8 text; save the file as UTF-8"
        ) from None
    if suffix == ".csv":
        rows = list(_csv_rows(text, path.name, kind))
    else:
        rows = list(_json_rows(text, path.name))
    if not rows:
        raise ValidationError(f"{path.name} has no rows; nothing to import")
    return rows


def _csv_rows(text: str, name: str, kind: ImportKind) -> Iterator[tuple[int, dict[str, object]]]:
    first_line = text[: text.find("\n")] if "\n" in text else text
    # The header names known columns, which hold none of these: the most frequent separates.
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    line = 0  # the last line read; a row starts on the next
    try:
        header = next(reader, None)
        if header is None:
            return
        line = reader.line_num
        columns = [column.strip() for column in header]
        problems = _header_problems(kind, columns)
        if problems:
            raise ValidationError(f"{name} header (line 1): {'; '.join(problems)}")
        for values in reader:
            row_line, line = line + 1, reader.line_num
            if not values:
                continue  # a blank line
            row: dict[str, object] = dict(zip(columns, values, strict=False))
            if len(values) > len(columns):
                row[_EXTRA] = values[len(columns) :]
            yield row_line, row
    except csv.Error as error:
        raise ValidationError(f"{name} line {line + 1}: {_csv_problem(error)}") from None


def _csv_problem(error: csv.Error) -> str:
    text = str(error)
    if text == "unexpected end of data":
        return 'a quoted value is not closed; add the closing "'
    if text.startswith("field larger than field limit"):
        limit = csv.field_size_limit()
        return f"a value is longer than {limit:,} characters; is a closing quote missing?"
    if "expected after" in text:
        return f'text after a closing quote ({text}); quote the whole value, doubling any " in it'
    return f"not readable as CSV ({text})"


def _header_problems(kind: ImportKind, columns: list[str]) -> list[str]:
    fmt = FORMATS[kind]
    known = fmt.required + fmt.optional
    problems = []
    twice = [column for column, count in Counter(columns).items() if count > 1]
    if twice:
        problems.append(f"column(s) named twice: {', '.join(map(_shown, twice))}")
    missing = [column for column in fmt.required if column not in columns]
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}")
    unknown = [column for column in dict.fromkeys(columns) if column not in known]
    if unknown:
        problems.append(
            f"unknown column(s): {', '.join(map(_shown, unknown))} (known: {', '.join(known)})"
        )
    return problems


class _JsonProblem(Exception):
    """Valid JSON syntax that an import file must not hold."""


def _object(pairs: list[tuple[str, object]]) -> dict[str, object]:
    item = dict(pairs)
    if len(item) != len(pairs):
        keys = Counter(key for key, _ in pairs)
        twice = next(key for key, count in keys.items() if count > 1)
        raise _JsonProblem(f"the key {_shown(twice)} appears twice in one object")
    return item


def _constant(name: str) -> object:
    raise _JsonProblem(f"{name} is not a number; write the number, or leave the key out")


_DECODER = json.JSONDecoder(
    object_pairs_hook=_object, parse_float=Decimal, parse_int=Decimal, parse_constant=_constant
)
_SPACE = re.compile(r"[ \t\r\n]*")


class _Lines:
    """Line numbers of increasing positions in a text; each newline is counted once."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._line = 1
        self._counted = 0

    def at(self, position: int) -> int:
        self._line += self._text.count("\n", self._counted, position)
        self._counted = position
        return self._line


def _json_rows(text: str, name: str) -> Iterator[tuple[int, dict[str, object]]]:
    """Decode a JSON array item by item, so each item's line number is known."""
    lines = _Lines(text)
    position = _skip_space(text, 0)
    if position == len(text):
        return  # an empty file
    if not text.startswith("[", position):
        raise ValidationError(f"{name}: a JSON import file holds an array of objects")
    position = _skip_space(text, position + 1)
    while not text.startswith("]", position):
        line = lines.at(position)
        # Checked before decoding, so a deeply nested array is refused without recursing.
        if not text.startswith("{", position):
            raise ValidationError(f"{name} line {line}: each item must be an object")
        try:
            item, position = _DECODER.raw_decode(text, position)
        except json.JSONDecodeError as error:
            raise ValidationError(f"{name} line {error.lineno}: {error.msg}") from None
        except _JsonProblem as problem:
            raise ValidationError(f"{name} line {line}: {problem}") from None
        except RecursionError:
            raise ValidationError(
                f"{name} line {line}: values nested too deeply; an item holds plain values"
            ) from None
        yield line, item
        position = _skip_space(text, position)
        if text.startswith(",", position):
            position = _skip_space(text, position + 1)
            if text.startswith("]", position):
                raise ValidationError(f"{name} line {lines.at(position)}: a ',' before ']'")
        elif not text.startswith("]", position):
            raise ValidationError(f"{name} line {lines.at(position)}: expected ',' or ']'")
    end = _skip_space(text, position + 1)
    if end < len(text):
        raise ValidationError(
            f"{name} line {lines.at(end)}: text after the array's closing ']'; "
            "a file holds one array"
        )


def _skip_space(text: str, position: int) -> int:
    match = _SPACE.match(text, position)
    assert match is not None  # the pattern matches the empty string
    return match.end()


# typed access to a row ----------------------------------------------------------------------
_T = TypeVar("_T")
_Choice = TypeVar("_Choice", bound=enum.StrEnum)
_FORMULA_START = frozenset("=+-@\t\r")
_PHONE = re.compile(r"\+[0-9 ()./-]+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")  # only this ISO form: not 20260803, not 2026-W31-1
_MICRO = Decimal("0.000001")


def _kind_of(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _named(column: str, parse: Callable[[str], _T]) -> Callable[[str], _T]:
    """``parse``, its error messages prefixed with the column they are about."""

    def named(value: str) -> _T:
        try:
            return parse(value)
        except ValidationError as error:
            raise ValidationError(f"{column}: {error}") from None

    return named


class _Row:
    """One row. Each accessor validates one column and returns its value, or records the
    problem (naming the column) and returns a stand-in: :meth:`check` then raises with every
    problem of the row, before anything is built from the stand-ins."""

    def __init__(self, values: Mapping[str, object]) -> None:
        self._values = values
        self.problems: list[str] = []

    def check(self) -> None:
        """Raise one ``ValidationError`` naming every problem recorded so far."""
        if self.problems:
            raise ValidationError("; ".join(self.problems))

    def _raw(self, column: str, expected: str) -> str:
        value = self._values.get(column)
        if value is None:
            return ""
        if isinstance(value, str):
            text = value
        elif isinstance(value, Decimal | int) and not isinstance(value, bool):
            text = str(value)  # a JSON number
        else:
            raise ValidationError(f"{column} must be {expected}, not {_kind_of(value)}")
        if len(text) > MAX_VALUE_LENGTH:
            raise ValidationError(f"{column} is longer than {MAX_VALUE_LENGTH} characters")
        return plain_text(text, column)

    def _take(
        self,
        column: str,
        parse: Callable[[str], _T],
        default: _T,
        *,
        required: bool,
        expected: str = "text",
    ) -> _T:
        try:
            value = self._raw(column, expected)
            if not value.strip():
                if required:
                    raise ValidationError(f"{column} is required")
                return default
            return parse(value)
        except LedgerlinkError as error:
            self.problems.append(str(error))
            return default

    def has(self, column: str) -> bool:
        """Whether the column holds a value (not checked)."""
        value = self._values.get(column)
        return value is not None and (not isinstance(value, str) or bool(value.strip()))

    def parsed(self, column: str, parse: Callable[[str], _T], default: _T) -> _T:
        """An optional column read by ``parse`` (which raises ``ValidationError``)."""
        return self._take(column, parse, default, required=False)

    def key(self, columns: Sequence[str]) -> tuple[str, ...] | None:
        """The row's natural key as stored (initials upper case), or None if incomplete."""
        try:
            key = tuple(
                self._raw(c, "text").strip().upper()
                if c.endswith("initials")
                else self._raw(c, "text").strip()
                for c in columns
            )
        except ValidationError:
            return None
        return key if all(key) else None

    # text -----------------------------------------------------------------------------------
    def _text(self, column: str) -> Callable[[str], str]:
        def parse(value: str) -> str:
            lead = value.lstrip(" ")
            if lead[:1] in _FORMULA_START and not (column == "phone" and _PHONE.fullmatch(lead)):
                raise ValidationError(
                    f"{column} {_shown(value.strip())} starts with {lead[0]!r}, which a "
                    "spreadsheet runs as a formula (remove it or begin with a letter or digit)"
                )
            return value.strip()

        return parse

    def text(self, column: str) -> str:
        return self._take(column, self._text(column), "", required=True)

    def optional(self, column: str) -> str:
        return self._take(column, self._text(column), "", required=False)

    def country(self, column: str) -> str:
        return self._take(column, _named(column, identifiers.country_code), "", required=True)

    def currency(self, column: str, default: str | None) -> str | None:
        """The column's currency, else ``default``; None when neither is known."""
        parse = _named(column, currency_code)
        return self._take(column, parse, default, required=default is None)

    def find(self, column: str, lookup: Callable[[str], _T], *, required: bool = True) -> _T | None:
        """The record a reference column names (customer, employee, project)."""
        return self._take(column, lambda value: lookup(value.strip()), None, required=required)

    # dates, numbers, choices ------------------------------------------------------------------
    def day(self, column: str) -> date:
        def parse(value: str) -> date:
            value = value.strip()
            try:
                day = date.fromisoformat(value) if _DATE.fullmatch(value) else None
            except ValueError:
                day = None
            if day is None:
                raise ValidationError(
                    f"{column} {_shown(value)} is not a date in the form YYYY-MM-DD"
                )
            return work_day(day, column)

        return self._take(column, parse, date.min, required=True, expected="a date")

    def _number(self, column: str) -> Callable[[str], Decimal]:
        def parse(value: str) -> Decimal:
            value = value.strip()
            if "," in value and "." not in value:
                value = value.replace(",", ".")  # decimal comma, as Nordic spreadsheets write
            try:
                number = to_decimal(value)
            except ValidationError:
                raise ValidationError(f"{column} {_shown(value)} is not a number") from None
            if number and number.adjusted() >= 15:
                raise ValidationError(
                    f"{column} {_shown(value)} is too large (at most 15 digits before the point)"
                )
            if number != number.quantize(_MICRO):
                raise ValidationError(f"{column} {_shown(value)} has more than 6 decimals")
            return number

        return parse

    def decimal(self, column: str, default: Decimal | None = None) -> Decimal:
        return self._take(
            column,
            self._number(column),
            Decimal(0) if default is None else default,
            required=default is None,
            expected="a number",
        )

    def integer(self, column: str) -> int:
        def parse(value: str) -> int:
            number = self._number(column)(value)
            if number != number.to_integral_value():
                raise ValidationError(f"{column} {_shown(value.strip())} must be a whole number")
            return int(number)

        return self._take(column, parse, 0, required=True, expected="a number")

    def money(self, column: str, currency: str | None, *, required: bool = False) -> Money | None:
        """An amount in ``currency`` (None: the currency is wrong, reported elsewhere)."""

        def parse(value: str) -> Money | None:
            amount = self._number(column)(value)
            if amount < 0:
                raise ValidationError(f"{column} must not be negative (got {_shown(value)})")
            if currency is None:
                return None
            try:
                return Money(amount, currency)
            except ValidationError as error:
                raise ValidationError(f"{column}: {error}") from None

        return self._take(column, parse, None, required=required, expected="a number")

    def boolean(self, column: str, *, default: bool) -> bool:
        value = self._values.get(column)
        if isinstance(value, bool):
            return value

        def parse(text: str) -> bool:
            word = text.strip().lower()
            if word in ("true", "yes", "y", "1", "ja", "x"):
                return True
            if word in ("false", "no", "n", "0", "nej"):
                return False
            raise ValidationError(f"{column} {_shown(word)} is not true/false")

        return self._take(column, parse, default, required=False, expected="true/false")

    def choice(self, kind: type[_Choice], column: str, default: _Choice) -> _Choice:
        def parse(value: str) -> _Choice:
            try:
                return kind(value.strip().lower())
            except ValueError:
                allowed = ", ".join(member.value for member in kind)
                raise ValidationError(
                    f"{column} {_shown(value.strip().lower())} is not one of: {allowed}"
                ) from None

        return self._take(column, parse, default, required=False)


# one importer per kind ----------------------------------------------------------------------
def _known(value: _T | None) -> _T:
    """A required value, after ``check()`` passed (it refuses a row that lacks one)."""
    assert value is not None
    return value


@dataclass
class _Context:
    """What the rows of one import refer to. A file's rows name the same few customers,
    employees and projects again and again: each is looked up once per import."""

    uow: UnitOfWork
    legal_entity_id: int
    _customers: dict[str, Customer] = field(default_factory=dict)
    _employees: dict[str, Employee] = field(default_factory=dict)
    _projects: dict[str, Project] = field(default_factory=dict)

    def customer(self, number: str) -> Customer:
        if number not in self._customers:
            customer = self.uow.customers.by_number(self.legal_entity_id, number)
            if customer is None:
                raise ValidationError(f"customer {number} does not exist (import it first)")
            self._customers[number] = customer
        return self._customers[number]

    def employee(self, initials: str) -> Employee:
        key = initials.upper()
        if key not in self._employees:
            employee = self.uow.employees.by_initials(self.legal_entity_id, initials)
            if employee is None:
                raise ValidationError(f"employee {key} does not exist (import it first)")
            self._employees[key] = employee
        return self._employees[key]

    def project(self, number: str) -> Project:
        if number not in self._projects:
            project = self.uow.projects.by_number(self.legal_entity_id, number)
            if project is None:
                raise ValidationError(f"project {number} does not exist (import it first)")
            self._projects[number] = project
        return self._projects[number]


def _customer(row: _Row, ctx: _Context) -> Change:
    number, name = row.text("number"), row.text("name")
    country, currency = row.country("country"), row.currency("currency", None)
    terms = row.parsed("payment_terms", PaymentTerms.parse, PaymentTerms())
    address = (row.optional("address1"), row.optional("address2"), row.optional("address3"))
    postal_code, city = row.optional("postal_code"), row.optional("city")
    vat_number, registration_number = (
        row.optional("vat_number"),
        row.optional("registration_number"),
    )
    ean, email = row.optional("ean"), row.optional("email")
    phone, website = row.optional("phone"), row.optional("website")
    row.check()
    customer = Customer(
        legal_entity_id=ctx.legal_entity_id,
        number=number,
        name=name,
        address=Address(lines=address, postal_code=postal_code, city=city, country=country),
        vat_number=vat_number,
        registration_number=registration_number,
        ean=ean,
        currency=_known(currency),
        payment_terms=terms,
        email=email,
        phone=phone,
        website=website,
    )
    return ctx.uow.customers.save(customer)


def _contact(row: _Row, ctx: _Context) -> Change:
    customer = row.find("customer_number", ctx.customer)
    name, email, phone = row.text("name"), row.optional("email"), row.optional("phone")
    title = row.optional("title")
    row.check()
    contact = Contact(
        customer_id=require_id(_known(customer)), name=name, email=email, phone=phone, title=title
    )
    return ctx.uow.contacts.save(contact)


def _employee(row: _Row, ctx: _Context) -> Change:
    initials, name = row.text("initials"), row.text("name")
    email, department = row.optional("email"), row.optional("department")
    row.check()
    employee = Employee(
        legal_entity_id=ctx.legal_entity_id,
        initials=initials,
        name=name,
        email=email,
        department=department,
    )
    return ctx.uow.employees.save(employee)


def _project(row: _Row, ctx: _Context) -> Change:
    number, name = row.text("number"), row.text("name")
    customer = row.find("customer_number", ctx.customer)
    currency = row.currency("currency", customer.currency if customer else "")
    manager = row.find("manager_initials", ctx.employee, required=False)
    department = row.optional("department")
    rate = row.money("hourly_rate", currency or None)
    row.check()
    project = Project(
        legal_entity_id=ctx.legal_entity_id,
        number=number,
        name=name,
        customer_id=require_id(_known(customer)),
        currency=_known(currency),
        manager_id=require_id(manager) if manager else None,
        department=department,
        hourly_rate=rate,
    )
    return ctx.uow.projects.save(project)


def _minutes(row: _Row) -> int:
    if row.has("minutes"):
        return row.integer("minutes")
    if not row.has("hours"):
        row.problems.append("minutes (or hours) is required")
        return 0
    hours = row.decimal("hours")
    if hours * 60 != (hours * 60).to_integral_value():
        row.problems.append(f"hours {_shown(str(hours))} is not a whole number of minutes")
    return int(hours * 60)


def _registration(row: _Row, ctx: _Context) -> Change:
    project = row.find("project_number", ctx.project)
    employee = row.find("employee_initials", ctx.employee)
    ref, day, minutes = row.optional("ref") or None, row.day("date"), _minutes(row)
    task, comment = row.optional("task"), row.optional("comment")
    billable = row.boolean("billable", default=True)
    rate = row.money("hourly_rate", project.currency if project else None)
    row.check()
    registration = TimeRegistration(
        ref=ref,
        employee_id=require_id(_known(employee)),
        project_id=require_id(_known(project)),
        day=day,
        minutes=minutes,
        task=task,
        billable=billable,
        hourly_rate=rate,
        comment=comment,
    )
    return ctx.uow.registrations.save(ctx.legal_entity_id, registration)


def _expense(row: _Row, ctx: _Context) -> Change:
    project = row.find("project_number", ctx.project)
    employee = row.find("employee_initials", ctx.employee)
    currency = row.currency("currency", project.currency if project else "")
    expense_type = row.choice(ExpenseType, "type", ExpenseType.EXPENSE)
    ref, day, description = row.optional("ref") or None, row.day("date"), row.text("description")
    quantity = row.decimal("quantity", Decimal(1))
    unit = row.optional("unit") or ("km" if expense_type is ExpenseType.MILEAGE else "pcs")
    price = row.money("unit_price", currency or None, required=True)
    vat_category = row.choice(VatCategory, "vat_category", VatCategory.STANDARD)
    billable = row.boolean("billable", default=True)
    receipt_file = row.optional("receipt_file")
    row.check()
    expense = Expense(
        ref=ref,
        employee_id=require_id(_known(employee)),
        project_id=require_id(_known(project)),
        day=day,
        expense_type=expense_type,
        description=description,
        quantity=quantity,
        unit=unit,
        unit_price=_known(price),
        vat_category=vat_category,
        billable=billable,
        receipt_file=receipt_file,
    )
    return ctx.uow.expenses.save(ctx.legal_entity_id, expense)


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


def _column_problems(kind: ImportKind, columns: Iterator[str]) -> list[str]:
    """Unknown columns of a row (a JSON object's keys) and values beyond a CSV header."""
    fmt = FORMATS[kind]
    problems = []
    unknown = [c for c in columns if c not in fmt.required and c not in fmt.optional]
    if _EXTRA in unknown:
        unknown.remove(_EXTRA)
        problems.append("more values than columns")
    if unknown:
        known = ", ".join(fmt.required + fmt.optional)
        problems.insert(0, f"unknown column(s): {', '.join(map(_shown, unknown))} (known: {known})")
    return problems


def import_rows(
    uow: UnitOfWork,
    *,
    legal_entity_id: int,
    kind: ImportKind,
    rows: Rows,
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
            key = row.key(fmt.key)
            if key is not None and key in seen:
                described = f"{', '.join(fmt.key)} {'/'.join(key)}"
                report.errors.append(RowError(line, f"{described} is also on line {seen[key]}"))
                continue
            if key is not None:
                seen[key] = line
            row.problems.extend(_column_problems(kind, iter(values)))
            try:
                with uow.savepoint():
                    change = fmt.load(row, ctx)
            except LedgerlinkError as error:
                report.errors.append(RowError(line, str(error)))
                continue
            report.changes[change] += 1
        if report.errors and (not partial or not report.accepted):
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
        rows=read_rows(path, kind),
        source=str(path),
        partial=partial,
    )
