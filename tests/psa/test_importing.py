"""Importing CSV and JSON files of every kind, on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.support import INVOICE_DATE, MARCH, World, build_world, dkk, registration, sek

from ledgerlink.domain.errors import ValidationError
from ledgerlink.domain.money import Money
from ledgerlink.domain.parties import Address, PaymentTerms, PaymentTermsKind
from ledgerlink.domain.vat import VatCategory
from ledgerlink.domain.work import ExpenseType
from ledgerlink.psa.importing import ImportKind, ImportReport, RowError, import_file
from ledgerlink.psa.invoicing import DraftRequest, draft_invoice
from ledgerlink.store.database import Database
from ledgerlink.store.repositories import Change
from ledgerlink.store.tables import Base
from ledgerlink.store.uow import UnitOfWork

Rows = list[dict[str, str]]


@pytest.fixture
def world(database: Database) -> World:
    return build_world(database)


def snapshot(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order: to show that nothing changed."""
    with database.engine.connect() as connection:
        return {
            table.name: sorted((tuple(row) for row in connection.execute(table.select())), key=repr)
            for table in Base.metadata.sorted_tables
        }


def as_csv(rows: Rows, delimiter: str = ",") -> str:
    columns = list(dict.fromkeys(column for row in rows for column in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, delimiter=delimiter, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def run(
    database: Database,
    world: World,
    kind: ImportKind,
    path: Path,
    content: str,
    *,
    partial: bool = False,
) -> ImportReport:
    path.write_text(content, encoding="utf-8")
    return import_file(
        UnitOfWork(database),
        legal_entity_id=world.entity_id,
        kind=kind,
        path=path,
        partial=partial,
    )


def counts(report: ImportReport) -> tuple[int, int, int]:
    return (
        report.changes[Change.CREATED],
        report.changes[Change.UPDATED],
        report.changes[Change.UNCHANGED],
    )


# one sample file per kind, and what it must store -------------------------------------------
SAMPLES: dict[ImportKind, Rows] = {
    ImportKind.CUSTOMERS: [
        {
            "number": "1001",
            "name": "Havnens Logistik A/S",
            "address1": "Kajgade 4",
            "address2": "Port 2",
            "postal_code": "2100",
            "city": "København Ø",
            "country": "dk",
            "vat_number": "DK 13 58 56 28",
            "registration_number": "13585628",
            "ean": "5790000000005",
            "currency": "dkk",
            "payment_terms": "eom 30",
            "email": "faktura@havnen.dk",
        },
        {
            "number": "1002",
            "name": "Svensson Bygg AB",
            "address1": "Storgatan 5",
            "postal_code": "111 22",
            "city": "Stockholm",
            "country": "SE",
            "vat_number": "SE556036079301",
            "currency": "SEK",
            "payment_terms": "",
            "email": "",
        },
    ],
    ImportKind.CONTACTS: [
        {"customer_number": "C100", "name": "Mette Hansen", "email": "mh@hansen.dk", "title": ""},
        {"customer_number": "C200", "name": "Sven Svensson", "email": "", "title": "VD"},
    ],
    ImportKind.EMPLOYEES: [
        {"initials": "ef", "name": "Eva Fisk", "department": "Sales"},
        {"initials": "GH", "name": "Gustav Holm", "department": ""},
    ],
    ImportKind.PROJECTS: [
        {
            "number": "P-9",
            "name": "Intranet",
            "customer_number": "C100",
            "manager_initials": "ab",
            "hourly_rate": "1250.50",
            "currency": "",
        },
        {
            "number": "P-10",
            "name": "Lager 2",
            "customer_number": "C200",
            "manager_initials": "",
            "hourly_rate": "",
            "currency": "",
        },
    ],
    ImportKind.REGISTRATIONS: [
        {
            "ref": "R1",
            "date": "2024-03-04",
            "employee_initials": "AB",
            "project_number": "P-1",
            "minutes": "90",
            "hours": "",
            "task": "Design",
            "billable": "",
            "hourly_rate": "",
        },
        {
            "ref": "R2",
            "date": "2024-03-05",
            "employee_initials": "cd",
            "project_number": "P-2",
            "minutes": "",
            "hours": "1.25",
            "task": "",
            "billable": "nej",
            "hourly_rate": "950.00",
        },
    ],
    ImportKind.EXPENSES: [
        {
            "ref": "E1",
            "date": "2024-03-06",
            "employee_initials": "AB",
            "project_number": "P-1",
            "description": "Hotel",
            "unit_price": "1200.00",
            "type": "",
            "quantity": "",
            "unit": "",
            "vat_category": "",
        },
        {
            "ref": "E2",
            "date": "2024-03-07",
            "employee_initials": "CD",
            "project_number": "P-2",
            "description": "Kørsel",
            "unit_price": "3.79",
            "type": "Mileage",
            "quantity": "120.5",
            "unit": "",
            "vat_category": "zero",
        },
    ],
}


def stored(uow: UnitOfWork, world: World, kind: ImportKind) -> list[tuple[Any, ...]]:
    """What the sample of ``kind`` left in the store, as comparable tuples."""
    entity = world.entity_id
    if kind is ImportKind.CUSTOMERS:
        return [
            (
                c.number,
                c.name,
                c.address,
                c.vat_number,
                c.registration_number,
                c.ean,
                c.currency,
                c.payment_terms,
                c.email,
            )
            for c in uow.customers.list(entity)
            if c.number.startswith("10")
        ]
    if kind is ImportKind.CONTACTS:
        return [
            (c.customer_id, c.name, c.email, c.title)
            for customer_id in (world.customer_id, world.se_customer_id)
            for c in uow.contacts.for_customer(customer_id)
        ]
    if kind is ImportKind.EMPLOYEES:
        return [
            (e.initials, e.name, e.department)
            for e in uow.employees.list(entity)
            if e.initials not in ("AB", "CD")
        ]
    if kind is ImportKind.PROJECTS:
        return [
            (p.number, p.name, p.customer_id, p.currency, p.manager_id, p.hourly_rate)
            for p in uow.projects.list(entity)
            if p.number in ("P-9", "P-10")
        ]
    if kind is ImportKind.REGISTRATIONS:
        return [
            (
                r.ref,
                r.day,
                r.employee_id,
                r.project_id,
                r.minutes,
                r.task,
                r.billable,
                r.hourly_rate,
            )
            for r in uow.registrations.list(legal_entity_id=entity)
        ]
    return [
        (
            e.ref,
            e.day,
            e.employee_id,
            e.project_id,
            e.description,
            e.expense_type,
            e.quantity,
            e.unit,
            e.unit_price,
            e.vat_category,
        )
        for e in uow.expenses.list(legal_entity_id=entity)
    ]


def expected(world: World, kind: ImportKind) -> list[tuple[Any, ...]]:
    if kind is ImportKind.CUSTOMERS:
        return [
            (
                "1001",
                "Havnens Logistik A/S",
                Address(("Kajgade 4", "Port 2"), "2100", "København Ø", "DK"),
                "DK13585628",
                "13585628",
                "5790000000005",
                "DKK",
                PaymentTerms(PaymentTermsKind.END_OF_MONTH, 30),
                "faktura@havnen.dk",
            ),
            (
                "1002",
                "Svensson Bygg AB",
                Address(("Storgatan 5",), "111 22", "Stockholm", "SE"),
                "SE556036079301",
                "",
                "",
                "SEK",
                PaymentTerms(),
                "",
            ),
        ]
    if kind is ImportKind.CONTACTS:
        return [
            (world.customer_id, "Mette Hansen", "mh@hansen.dk", ""),
            (world.se_customer_id, "Sven Svensson", "", "VD"),
        ]
    if kind is ImportKind.EMPLOYEES:
        return [("EF", "Eva Fisk", "Sales"), ("GH", "Gustav Holm", "")]
    if kind is ImportKind.PROJECTS:
        return [
            ("P-10", "Lager 2", world.se_customer_id, "SEK", None, None),
            ("P-9", "Intranet", world.customer_id, "DKK", world.anna_id, dkk("1250.50")),
        ]
    if kind is ImportKind.REGISTRATIONS:
        return [
            ("R1", date(2024, 3, 4), world.anna_id, world.project_id, 90, "Design", True, None),
            (
                "R2",
                date(2024, 3, 5),
                world.carl_id,
                world.se_project_id,
                75,
                "",
                False,
                sek("950.00"),
            ),
        ]
    return [
        (
            "E1",
            date(2024, 3, 6),
            world.anna_id,
            world.project_id,
            "Hotel",
            ExpenseType.EXPENSE,
            Decimal(1),
            "pcs",
            dkk("1200.00"),
            VatCategory.STANDARD,
        ),
        (
            "E2",
            date(2024, 3, 7),
            world.carl_id,
            world.se_project_id,
            "Kørsel",
            ExpenseType.MILEAGE,
            Decimal("120.5"),
            "km",
            sek("3.79"),
            VatCategory.ZERO,
        ),
    ]


FORMATS: dict[str, tuple[str, Callable[[Rows], str]]] = {
    "comma": (".csv", lambda rows: as_csv(rows, ",")),
    "semicolon": (".csv", lambda rows: as_csv(rows, ";")),
    "tab": (".csv", lambda rows: as_csv(rows, "\t")),
    "json": (".json", lambda rows: json.dumps(rows, indent=2, ensure_ascii=False)),
}


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("kind", list(ImportKind))
def test_every_kind_imports_from_every_format(
    database: Database, world: World, tmp_path: Path, kind: ImportKind, fmt: str
) -> None:
    suffix, render = FORMATS[fmt]
    report = run(database, world, kind, tmp_path / f"{kind}{suffix}", render(SAMPLES[kind]))
    assert report.errors == []
    assert report.committed
    assert report.rows == 2
    assert counts(report) == (2, 0, 0)
    with UnitOfWork(database) as uow:
        assert stored(uow, world, kind) == expected(world, kind)


@pytest.mark.parametrize("kind", list(ImportKind))
def test_importing_the_same_file_again_changes_nothing(
    database: Database, world: World, tmp_path: Path, kind: ImportKind
) -> None:
    path = tmp_path / f"{kind}.csv"
    run(database, world, kind, path, as_csv(SAMPLES[kind]))
    before = snapshot(database)
    report = run(database, world, kind, path, as_csv(SAMPLES[kind]))
    assert report.errors == [] and report.committed
    assert counts(report) == (0, 0, 2)
    assert snapshot(database) == before


def test_a_changed_row_is_an_update(database: Database, world: World, tmp_path: Path) -> None:
    path = tmp_path / "registrations.csv"
    run(database, world, ImportKind.REGISTRATIONS, path, as_csv(SAMPLES[ImportKind.REGISTRATIONS]))
    changed = [dict(SAMPLES[ImportKind.REGISTRATIONS][0], minutes="95")]
    report = run(database, world, ImportKind.REGISTRATIONS, path, as_csv(changed))
    assert counts(report) == (0, 1, 0)
    with UnitOfWork(database) as uow:
        minutes = {r.ref: r.minutes for r in uow.registrations.list()}
    assert minutes == {"R1": 95, "R2": 75}


# numbers: decimal comma, JSON numbers, minutes and hours ------------------------------------
def test_decimal_comma_in_a_semicolon_file(
    database: Database, world: World, tmp_path: Path
) -> None:
    projects = "number;name;customer_number;hourly_rate\nP-9;Intranet;C100;1250,50\n"
    registrations = (
        "ref;date;employee_initials;project_number;hours;hourly_rate\n"
        "R1;2024-03-04;AB;P-9;1,5;999,99\n"
    )
    expenses = (
        "ref;date;employee_initials;project_number;description;quantity;unit_price\n"
        "E1;2024-03-04;AB;P-9;Kørsel;12,5;3,79\n"
    )
    for kind, content in (
        (ImportKind.PROJECTS, projects),
        (ImportKind.REGISTRATIONS, registrations),
        (ImportKind.EXPENSES, expenses),
    ):
        report = run(database, world, kind, tmp_path / f"{kind}.csv", content)
        assert report.errors == [] and counts(report) == (1, 0, 0)
    with UnitOfWork(database) as uow:
        new_project = uow.projects.by_number(world.entity_id, "P-9")
        [new_registration] = uow.registrations.list()
        [new_expense] = uow.expenses.list()
    assert new_project is not None
    assert new_project.hourly_rate == dkk("1250.50")
    assert new_registration.minutes == 90
    assert new_registration.hourly_rate == dkk("999.99")
    assert new_expense.quantity == Decimal("12.5")
    assert new_expense.unit_price == dkk("3.79")


def test_json_numbers_and_booleans(database: Database, world: World, tmp_path: Path) -> None:
    content = """[
  {"ref": "R1", "date": "2024-03-04", "employee_initials": "AB", "project_number": "P-1",
   "minutes": 90, "billable": false, "hourly_rate": 1000.1, "comment": null},
  {"ref": "R2", "date": "2024-03-04", "employee_initials": "AB", "project_number": "P-1",
   "hours": 0.75, "billable": true}
]"""
    report = run(database, world, ImportKind.REGISTRATIONS, tmp_path / "r.json", content)
    assert report.errors == [] and counts(report) == (2, 0, 0)
    with UnitOfWork(database) as uow:
        rows = [(r.minutes, r.billable, r.hourly_rate, r.comment) for r in uow.registrations.list()]
    assert rows == [(90, False, dkk("1000.10"), ""), (45, True, None, "")]


@pytest.mark.parametrize(
    ("minutes", "hours", "stored_minutes"),
    [("45", "", 45), ("", "2", 120), ("", "0.25", 15), ("", "1,75", 105), ("30", "9", 30)],
)
def test_minutes_or_hours(
    database: Database,
    world: World,
    tmp_path: Path,
    *,
    minutes: str,
    hours: str,
    stored_minutes: int,
) -> None:
    row = {
        "ref": "R1",
        "date": "2024-03-04",
        "employee_initials": "AB",
        "project_number": "P-1",
        "minutes": minutes,
        "hours": hours,
    }
    report = run(database, world, ImportKind.REGISTRATIONS, tmp_path / "r.csv", as_csv([row]))
    assert report.errors == []
    with UnitOfWork(database) as uow:
        assert [r.minutes for r in uow.registrations.list()] == [stored_minutes]


@pytest.mark.parametrize(
    ("minutes", "hours", "reason"),
    [
        ("", "", "minutes (or hours) is required"),
        ("", "0.33", "hours '0.33' is not a whole number of minutes"),
        ("1.5", "", "minutes '1.5' must be a whole number"),
        ("0", "", "minutes must be between 1 and 1440"),
        ("1441", "", "minutes must be between 1 and 1440"),
        ("", "25", "minutes must be between 1 and 1440"),
        ("ninety", "", "minutes 'ninety' is not a number"),
    ],
)
def test_bad_minutes_or_hours_are_rejected(
    database: Database, world: World, tmp_path: Path, *, minutes: str, hours: str, reason: str
) -> None:
    row = {
        "ref": "R1",
        "date": "2024-03-04",
        "employee_initials": "AB",
        "project_number": "P-1",
        "minutes": minutes,
        "hours": hours,
    }
    report = run(database, world, ImportKind.REGISTRATIONS, tmp_path / "r.csv", as_csv([row]))
    assert [error.line for error in report.errors] == [2]
    assert reason in report.errors[0].message
    assert not report.committed


# rejected rows ------------------------------------------------------------------------------
REGISTRATIONS_WITH_ERRORS = """\
ref,date,employee_initials,project_number,minutes,task,billable,hourly_rate
R1,2024-03-04,AB,P-1,60,Design,,
R2,2024-03-04,ZZ,P-1,60,Design,,
R3,2024-13-01,AB,P-1,60,Design,,
R4,2024-03-04,AB,P-404,60,Design,,
R5,2024-03-04,AB,P-1,60,Design,maybe,
R6,2024-03-04,AB,P-1,60,Design,,12.345
R7,2024-03-05,CD,P-2,30,Build,yes,
"""


def test_rejected_rows_are_reported_with_line_and_reason(
    database: Database, world: World, tmp_path: Path
) -> None:
    before = snapshot(database)
    report = run(
        database, world, ImportKind.REGISTRATIONS, tmp_path / "r.csv", REGISTRATIONS_WITH_ERRORS
    )
    assert report.rows == 7
    assert [error.line for error in report.errors] == [3, 4, 5, 6, 7]
    reasons = [error.message for error in report.errors]
    assert "employee ZZ does not exist" in reasons[0]
    assert "date '2024-13-01' is not a date in the form YYYY-MM-DD" in reasons[1]
    assert "project P-404 does not exist" in reasons[2]
    assert "billable 'maybe' is not true/false" in reasons[3]
    assert "hourly_rate" in reasons[4] and "more decimals" in reasons[4]
    # all or nothing: the two good rows are not kept either
    assert not report.committed
    assert counts(report) == (0, 0, 0)
    assert snapshot(database) == before


def test_partial_import_keeps_the_good_rows(
    database: Database, world: World, tmp_path: Path
) -> None:
    report = run(
        database,
        world,
        ImportKind.REGISTRATIONS,
        tmp_path / "r.csv",
        REGISTRATIONS_WITH_ERRORS,
        partial=True,
    )
    assert report.committed
    assert [error.line for error in report.errors] == [3, 4, 5, 6, 7]
    assert counts(report) == (2, 0, 0) and report.accepted == 2
    with UnitOfWork(database) as uow:
        kept = [(r.ref, r.project_id, r.billable) for r in uow.registrations.list()]
    assert kept == [("R1", world.project_id, True), ("R7", world.se_project_id, True)]


def test_all_or_nothing_also_undoes_updates(
    database: Database, world: World, tmp_path: Path
) -> None:
    with UnitOfWork(database) as uow:
        uow.registrations.save(
            world.entity_id, registration(world.anna_id, world.project_id, ref="R1", minutes=60)
        )
        uow.commit()
    before = snapshot(database)
    content = (
        "ref,date,employee_initials,project_number,minutes\n"
        "R1,2024-03-04,AB,P-1,90\n"
        "R2,2024-03-04,AB,P-1,30\n"
        "R3,2024-03-04,AB,P-1,-5\n"
    )
    report = run(database, world, ImportKind.REGISTRATIONS, tmp_path / "r.csv", content)
    assert [error.line for error in report.errors] == [4]
    assert not report.committed
    assert snapshot(database) == before

    report = run(
        database, world, ImportKind.REGISTRATIONS, tmp_path / "r.csv", content, partial=True
    )
    assert counts(report) == (1, 1, 0)
    with UnitOfWork(database) as uow:
        assert {r.ref: r.minutes for r in uow.registrations.list()} == {"R1": 90, "R2": 30}


def test_line_numbers_count_physical_lines_of_multi_line_values(
    database: Database, world: World, tmp_path: Path
) -> None:
    content = (
        "ref,date,employee_initials,project_number,minutes,comment\n"
        'R1,2024-03-04,AB,P-1,60,"first line\nsecond line"\n'
        "R2,2024-03-04,XX,P-1,60,\n"
    )
    report = run(database, world, ImportKind.REGISTRATIONS, tmp_path / "r.csv", content)
    assert report.errors == [RowError(4, "employee XX does not exist (import it first)")]


def test_json_errors_name_the_line_where_the_item_starts(
    database: Database, world: World, tmp_path: Path
) -> None:
    content = """[
  {"initials": "EF", "name": "Eva Fisk"},
  {
    "initials": "G-H",
    "name": "Gustav Holm"
  },
  {"initials": "IJ"}
]
"""
    report = run(database, world, ImportKind.EMPLOYEES, tmp_path / "e.json", content)
    assert [error.line for error in report.errors] == [3, 7]
    assert "may hold letters and digits only" in report.errors[0].message
    assert report.errors[1].message == "name is required"


def test_a_reimported_invoiced_registration_is_unchanged_but_cannot_change(
    database: Database, world: World, tmp_path: Path
) -> None:
    rows = SAMPLES[ImportKind.REGISTRATIONS][:1]
    path = tmp_path / "r.csv"
    run(database, world, ImportKind.REGISTRATIONS, path, as_csv(rows))
    draft_invoice(
        UnitOfWork(database),
        DraftRequest(
            legal_entity_id=world.entity_id,
            project_number="P-1",
            period=MARCH,
            invoice_date=INVOICE_DATE,
        ),
    )
    assert counts(run(database, world, ImportKind.REGISTRATIONS, path, as_csv(rows))) == (0, 0, 1)
    report = run(
        database, world, ImportKind.REGISTRATIONS, path, as_csv([dict(rows[0], minutes="120")])
    )
    assert [error.line for error in report.errors] == [2]
    assert "R1 is already invoiced" in report.errors[0].message


# duplicate keys and columns -----------------------------------------------------------------
def test_a_key_twice_in_one_file_is_rejected(
    database: Database, world: World, tmp_path: Path
) -> None:
    content = (
        "ref,date,employee_initials,project_number,minutes\n"
        "R1,2024-03-04,AB,P-1,60\n"
        "R2,2024-03-04,AB,P-1,60\n"
        "R1,2024-03-05,AB,P-1,30\n"
    )
    report = run(database, world, ImportKind.REGISTRATIONS, tmp_path / "r.csv", content)
    assert report.errors == [RowError(4, "ref R1 is also on line 2")]
    assert not report.committed


def test_a_contact_twice_in_one_file_is_rejected(
    database: Database, world: World, tmp_path: Path
) -> None:
    content = "customer_number,name\nC100,Mette Hansen\nC200,Mette Hansen\nC100,Mette Hansen\n"
    report = run(database, world, ImportKind.CONTACTS, tmp_path / "c.csv", content, partial=True)
    assert report.errors == [
        RowError(4, "customer_number, name C100/Mette Hansen is also on line 2")
    ]
    assert counts(report) == (2, 0, 0)


def test_the_same_initials_in_another_case_are_a_duplicate(
    database: Database, world: World, tmp_path: Path
) -> None:
    # Initials are stored upper case, so "ef" and "EF" are one employee: the second row
    # would silently overwrite the first.
    content = "initials,name\nEF,Eva Fisk\nef,Erik Falk\n"
    report = run(database, world, ImportKind.EMPLOYEES, tmp_path / "e.csv", content)
    assert [error.line for error in report.errors] == [3]
    assert "also on line 2" in report.errors[0].message


def test_rows_without_a_ref_are_not_compared(
    database: Database, world: World, tmp_path: Path
) -> None:
    content = (
        "date,employee_initials,project_number,minutes\n"
        "2024-03-04,AB,P-1,60\n"
        "2024-03-04,AB,P-1,60\n"
    )
    report = run(database, world, ImportKind.REGISTRATIONS, tmp_path / "r.csv", content)
    assert report.errors == [] and counts(report) == (2, 0, 0)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("initials,name\nEF,Eva Fisk,extra\n", "more values than columns"),
        ("initials,name\nEF,\n", "name is required"),
        ("initials,name\n,Eva Fisk\n", "initials is required"),
    ],
)
def test_column_problems_are_row_errors(
    database: Database, world: World, tmp_path: Path, content: str, reason: str
) -> None:
    before = snapshot(database)
    report = run(database, world, ImportKind.EMPLOYEES, tmp_path / "e.csv", content)
    assert report.errors == [RowError(2, reason)]
    assert snapshot(database) == before


@pytest.mark.parametrize(
    ("kind", "row", "reason"),
    [
        (
            ImportKind.CUSTOMERS,
            {"number": "9", "name": "X", "country": "DK", "currency": "DKK", "ean": "123"},
            "EAN",
        ),
        (
            ImportKind.CUSTOMERS,
            {"number": "9", "name": "X", "country": "DK", "currency": "XXX1"},
            "ISO 4217",
        ),
        (
            ImportKind.CUSTOMERS,
            {"number": "9", "name": "X", "country": "DK", "currency": "DKK", "payment_terms": "?"},
            "is not payment terms",
        ),
        (ImportKind.CONTACTS, {"customer_number": "C999", "name": "X"}, "customer C999"),
        (
            ImportKind.PROJECTS,
            {"number": "P-9", "name": "X", "customer_number": "C100", "manager_initials": "ZZ"},
            "employee ZZ does not exist",
        ),
        (
            ImportKind.EXPENSES,
            {
                "date": "2024-03-04",
                "employee_initials": "AB",
                "project_number": "P-1",
                "description": "Taxi",
                "unit_price": "",
            },
            "unit_price is required",
        ),
        (
            ImportKind.EXPENSES,
            {
                "date": "2024-03-04",
                "employee_initials": "AB",
                "project_number": "P-1",
                "description": "Taxi",
                "unit_price": "100",
                "type": "meal",
            },
            "type 'meal' is not one of: expense, travel, mileage",
        ),
        (
            ImportKind.EXPENSES,
            {
                "date": "2024-03-04",
                "employee_initials": "AB",
                "project_number": "P-1",
                "description": "Taxi",
                "unit_price": "100",
                "quantity": "-1",
            },
            "quantity must be positive",
        ),
    ],
)
def test_invalid_values_are_row_errors(
    database: Database,
    world: World,
    tmp_path: Path,
    *,
    kind: ImportKind,
    row: dict[str, str],
    reason: str,
) -> None:
    before = snapshot(database)
    report = run(database, world, kind, tmp_path / "x.csv", as_csv([row]))
    assert [error.line for error in report.errors] == [2]
    assert reason in report.errors[0].message
    assert snapshot(database) == before


def test_a_value_longer_than_its_column_is_a_row_error(
    database: Database, world: World, tmp_path: Path
) -> None:
    # The postal code column holds 30 characters; the row must be rejected the same way
    # on every database (not stored on SQLite and a database error on PostgreSQL).
    row = {"number": "9", "name": "X", "country": "DK", "currency": "DKK", "postal_code": "1" * 40}
    before = snapshot(database)
    report = run(database, world, ImportKind.CUSTOMERS, tmp_path / "c.csv", as_csv([row]))
    assert [error.line for error in report.errors] == [2]
    assert "postal" in report.errors[0].message
    assert snapshot(database) == before


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("e.txt", "initials,name\n", "use a .csv or .json file"),
        ("e.json", '{"initials": "EF"}', "holds an array of objects"),
        ("e.json", '[{"initials": "EF", "name": "E"} {"x": 1}]', "line 1: expected ',' or ']'"),
        ("e.json", '[\n  "EF"\n]', "line 2: each item must be an object"),
        ("e.json", '[\n  {"initials": }\n]', "line 2"),
    ],
)
def test_unreadable_files_are_refused(
    database: Database, world: World, tmp_path: Path, *, name: str, content: str, message: str
) -> None:
    before = snapshot(database)
    with pytest.raises(ValidationError, match=re.escape(message)):
        run(database, world, ImportKind.EMPLOYEES, tmp_path / name, content)
    assert snapshot(database) == before


def test_a_missing_file_is_refused(database: Database, world: World, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="does not exist"):
        import_file(
            UnitOfWork(database),
            legal_entity_id=world.entity_id,
            kind=ImportKind.EMPLOYEES,
            path=tmp_path / "missing.csv",
        )


def test_a_utf8_bom_does_not_hide_the_first_column(
    database: Database, world: World, tmp_path: Path
) -> None:
    path = tmp_path / "e.csv"
    path.write_bytes("\ufeffinitials;name\nØB;Øjvind Bæk\n".encode())
    report = import_file(
        UnitOfWork(database), legal_entity_id=world.entity_id, kind=ImportKind.EMPLOYEES, path=path
    )
    assert report.errors == [] and counts(report) == (1, 0, 0)
    with UnitOfWork(database) as uow:
        found = uow.employees.by_initials(world.entity_id, "øb")
    assert found is not None and found.name == "Øjvind Bæk"


def test_money_columns_are_exact(database: Database, world: World, tmp_path: Path) -> None:
    content = "number,name,customer_number,hourly_rate\nP-9,Big,C100,99999999.99\n"
    report = run(database, world, ImportKind.PROJECTS, tmp_path / "p.csv", content)
    assert report.errors == []
    with UnitOfWork(database) as uow:
        found = uow.projects.by_number(world.entity_id, "P-9")
    assert found is not None
    assert found.hourly_rate == Money(Decimal("99999999.99"), "DKK")
