"""Import files that are wrong: refused in one line, every problem of a row named (issue 12).

File-level refusals are checked on ``read_rows`` alone (no database); row-level ones through
``import_file`` on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tests.support import World, build_world

from ledgerlink.domain.errors import ValidationError
from ledgerlink.psa import importing
from ledgerlink.psa.importing import ImportKind, ImportReport, RowError, import_file, read_rows
from ledgerlink.store.database import Database
from ledgerlink.store.uow import UnitOfWork

REGISTRATION = "ref,date,employee_initials,project_number,minutes"
EXPENSE = "ref,date,employee_initials,project_number,description,unit_price"


@pytest.fixture
def world(database: Database) -> World:
    return build_world(database)


def refusal(tmp_path: Path, name: str, content: str | bytes, kind: ImportKind) -> str:
    """The one-line message ``read_rows`` refuses the file with."""
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        read_rows(path, kind)
    message = str(caught.value)
    assert "\n" not in message
    return message


def run(
    database: Database,
    world: World,
    path: Path,
    kind: ImportKind,
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


# item 7: what raised a traceback is one line ------------------------------------------------
@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "e.csv",
            "initials,name\nEF," + "x" * 140_000 + "\n",
            "e.csv line 2: a value is longer than 131,072 characters; is a closing quote missing?",
        ),
        ("e.json", "[" * 100_000 + "]" * 100_000, "e.json line 1: each item must be an object"),
        (
            "e.json",
            '[{"initials": "EF", "name": ' + "[" * 100_000 + "]" * 100_000 + "}]",
            "e.json line 1: values nested too deeply; an item holds plain values",
        ),
    ],
    ids=["csv-field-over-131072", "json-100k-deep", "json-100k-deep-in-an-item"],
)
def test_oversized_and_deep_files_are_refused_in_one_line(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    assert refusal(tmp_path, name, content, ImportKind.EMPLOYEES) == message


def test_a_folder_given_as_the_file_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "employees.csv"
    folder.mkdir()
    with pytest.raises(ValidationError, match=r"employees.csv is a folder; give the path of a "):
        read_rows(folder, ImportKind.EMPLOYEES)


def test_a_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    content = "initials,name\nEF,Eva\nGH,G\xf8ran\n".encode("latin-1")
    message = refusal(tmp_path, "e.csv", content, ImportKind.EMPLOYEES)
    assert message == "e.csv line 3: not UTF-8 text; save the file as UTF-8"


@pytest.mark.parametrize(
    ("kind", "name", "content", "message"),
    [
        (
            ImportKind.EMPLOYEES,
            "e.json",
            '[{"initials": "EF", "name": "Eva \\ud800"}]',
            "name holds U+D800, half of a UTF-16 surrogate pair and not a character",
        ),
        (
            ImportKind.EXPENSES,
            "x.json",
            '[{"date": "2024-03-04", "employee_initials": "AB", "project_number": "P-1",'
            ' "description": "Taxi", "unit_price": 1e30}]',
            "unit_price '1E+30' is too large",
        ),
        (
            ImportKind.EXPENSES,
            "x.csv",
            f"{EXPENSE}\nE1,2024-03-04,AB,P-1,Taxi,1e30\n",
            "unit_price '1e30' is too large",
        ),
        (
            ImportKind.EXPENSES,
            "x.csv",
            f"{EXPENSE},quantity\nE1,2024-03-04,AB,P-1,Taxi,99999999999999,999999\n",
            "expense quantity × unit price: 99999899999999000001.00 DKK is too large",
        ),
    ],
    ids=["lone-surrogate", "json-1e30", "csv-1e30", "quantity-times-price"],
)
def test_values_that_raised_are_row_errors(
    database: Database,
    world: World,
    tmp_path: Path,
    *,
    kind: ImportKind,
    name: str,
    content: str,
    message: str,
) -> None:
    report = run(database, world, tmp_path / name, kind, content)
    assert len(report.errors) == 1
    assert message in report.errors[0].message
    assert not report.committed


# item 8: what was stored although wrong is refused ------------------------------------------
@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("e.csv", ""),
        ("e.csv", "initials,name\n"),
        ("e.csv", "initials,name\n\n\n"),
        ("e.json", "[]"),
        ("e.json", " \n"),
    ],
    ids=["empty", "header-only", "header-and-blank-lines", "empty-array", "empty-json"],
)
def test_a_file_without_rows_is_refused(tmp_path: Path, name: str, content: str) -> None:
    message = refusal(tmp_path, name, content, ImportKind.EMPLOYEES)
    assert message == f"{name} has no rows; nothing to import"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "e.csv",
            "initials,name,name\nEF,Eva,Fisk\n",
            "e.csv header (line 1): column(s) named twice: 'name'",
        ),
        (
            "e.json",
            '[\n  {"initials": "EF", "name": "Eva"},\n  {"initials": "GH", "name": "G",'
            ' "name": "H"}\n]',
            "e.json line 3: the key 'name' appears twice in one object",
        ),
        (
            "e.json",
            '[{"initials": "EF", "name": "Eva"}]\n{"initials": "GH"}',
            "e.json line 2: text after the array's closing ']'; a file holds one array",
        ),
        ("e.json", '[{"initials": "EF", "name": "Eva"},\n]', "e.json line 2: a ',' before ']'"),
        (
            "e.json",
            '[{"initials": "EF", "name": NaN}]',
            "e.json line 1: NaN is not a number; write the number, or leave the key out",
        ),
        ("e.json", '[{"initials": "EF", "name": -Infinity}]', "-Infinity is not a number"),
    ],
    ids=["csv-header-twice", "json-key-twice", "json-text-after", "json-comma", "nan", "inf"],
)
def test_malformed_files_are_refused(tmp_path: Path, name: str, content: str, message: str) -> None:
    assert message in refusal(tmp_path, name, content, ImportKind.EMPLOYEES)


FORMULA = "which a spreadsheet runs as a formula (remove it or begin with a letter or digit)"


@pytest.mark.parametrize(
    ("kind", "content", "problem"),
    [
        (ImportKind.EMPLOYEES, "initials,name\nEF,Eva\x00Fisk\n", "name holds the control char"),
        (ImportKind.EMPLOYEES, 'initials,name\nEF,"=HYPERLINK(""x"")"\n', f"'=', {FORMULA}"),
        (ImportKind.EMPLOYEES, "initials,name\nEF,+cmd|' /C calc'!A0\n", "starts with '+'"),
        (ImportKind.EMPLOYEES, "initials,name\nEF,-2+3\n", "name '-2+3' starts with '-'"),
        (ImportKind.EMPLOYEES, "initials,name\nEF,@SUM(A1)\n", "starts with '@'"),
        (ImportKind.EMPLOYEES, 'initials,name\nEF,"\t=1+1"\n', r"starts with '\t'"),
        (ImportKind.CONTACTS, "customer_number,name,phone\nC100,Eva,+1 (555) =A1\n", "phone"),
        (ImportKind.REGISTRATIONS, f"{REGISTRATION}\nR1,20260803,AB,P-1,60\n",
         "date '20260803' is not a date in the form YYYY-MM-DD"),
        (ImportKind.REGISTRATIONS, f"{REGISTRATION}\nR1,2026-W31-1,AB,P-1,60\n",
         "is not a date in the form YYYY-MM-DD"),
        (ImportKind.REGISTRATIONS, f"{REGISTRATION}\nR1,0001-01-01,AB,P-1,60\n",
         "date 0001-01-01 is not between 2000-01-01 and 2099-12-31 (check the year)"),
        (ImportKind.PROJECTS, "number,name,customer_number,hourly_rate\nP-9,X,C100,-1000\n",
         "hourly_rate must not be negative (got '-1000')"),
        (ImportKind.REGISTRATIONS, f"{REGISTRATION},hourly_rate\nR1,2026-08-03,AB,P-1,60,-1\n",
         "hourly_rate must not be negative"),
        (ImportKind.CUSTOMERS, "number,name,country,currency\n9,X,QQ,DKK\n",
         "country: 'QQ' is not an ISO 3166 country code"),
    ],
    ids=["nul", "=", "+", "-", "@", "tab", "phone-formula", "basic-date", "week-date",
         "year-1", "rate-1000", "registration-rate", "country-QQ"],
)  # fmt: skip
def test_wrong_values_are_refused(
    database: Database,
    world: World,
    tmp_path: Path,
    *,
    kind: ImportKind,
    content: str,
    problem: str,
) -> None:
    report = run(database, world, tmp_path / "x.csv", kind, content)
    assert [error.line for error in report.errors] == [2]
    assert problem in report.errors[0].message
    assert not report.committed


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ('{"first": "Eva"}', "name must be text, not an object"),
        ('["Eva"]', "name must be text, not a list"),
        ("true", "name must be text, not true/false"),
    ],
)
def test_json_values_of_the_wrong_type_are_refused(
    database: Database, world: World, tmp_path: Path, value: str, problem: str
) -> None:
    content = f'[{{"initials": "EF", "name": {value}}}]'
    report = run(database, world, tmp_path / "e.json", ImportKind.EMPLOYEES, content)
    assert report.errors == [RowError(1, problem)]


def test_json_numbers_and_booleans_where_they_belong_are_kept(
    database: Database, world: World, tmp_path: Path
) -> None:
    content = json.dumps(
        [{"ref": 7, "date": "2024-03-04", "employee_initials": "AB", "project_number": "P-1",
          "minutes": 60, "billable": False}]
    )  # fmt: skip
    report = run(database, world, tmp_path / "r.json", ImportKind.REGISTRATIONS, content)
    assert report.errors == [] and report.committed
    content = content.replace("60", "true")
    report = run(database, world, tmp_path / "r.json", ImportKind.REGISTRATIONS, content)
    assert report.errors == [RowError(1, "minutes must be a number, not true/false")]


def test_what_is_not_a_formula_is_kept(database: Database, world: World, tmp_path: Path) -> None:
    """A negative number is a number, '-' inside text is text, a phone number may start '+'."""
    contacts = "customer_number,name,phone,title\nC100,Jens-Ole Holm,+45 33 12 34 56,CFO - IT\n"
    report = run(database, world, tmp_path / "c.csv", ImportKind.CONTACTS, contacts)
    assert report.errors == [] and report.committed
    registrations = f"{REGISTRATION}\nR1,2024-03-04,AB,P-1,-30\n"
    report = run(database, world, tmp_path / "r.csv", ImportKind.REGISTRATIONS, registrations)
    assert report.errors == [RowError(2, "minutes must be between 1 and 1440 (got -30)")]


# item 9: reported right ---------------------------------------------------------------------
def test_a_wrong_header_is_a_header_problem(tmp_path: Path) -> None:
    content = "nmbr,name,country,currency\n3001,X,DK,DKK\n3002,Y,DK,DKK\n"
    message = refusal(tmp_path, "c.csv", content, ImportKind.CUSTOMERS)
    assert message.startswith(
        "c.csv header (line 1): missing column(s): number; unknown column(s): 'nmbr' (known: "
    )
    assert "line 2" not in message


def test_an_unterminated_quote_is_reported_as_such(tmp_path: Path) -> None:
    content = 'initials,name\nEF,"Eva Fisk\nGH,Gustav Holm\n'
    message = refusal(tmp_path, "e.csv", content, ImportKind.EMPLOYEES)
    assert message == 'e.csv line 2: a quoted value is not closed; add the closing "'


def test_text_after_a_closing_quote_is_reported_as_such(tmp_path: Path) -> None:
    content = 'initials,name\nEF,Eva\nGH,"Gustav" Holm\n'
    message = refusal(tmp_path, "e.csv", content, ImportKind.EMPLOYEES)
    assert message.startswith("e.csv line 3: text after a closing quote")


def test_every_problem_of_a_row_is_reported(
    database: Database, world: World, tmp_path: Path
) -> None:
    content = "number,name,country,currency\n3001,Good A/S,DK,DKK\n3002,,XX,ZZZ\n"
    report = run(database, world, tmp_path / "c.csv", ImportKind.CUSTOMERS, content)
    assert report.errors == [
        RowError(
            3,
            "name is required; "
            "country: 'XX' is not an ISO 3166 country code (e.g. DK, SE, NL); "
            "currency: 'ZZZ' is not an ISO 4217 currency code (e.g. DKK, SEK, EUR)",
        )
    ]


def test_every_problem_of_a_registration_row_is_reported(
    database: Database, world: World, tmp_path: Path
) -> None:
    content = json.dumps(
        [{"ref": "R1", "date": "2024-13-01", "employee_initials": "ZZ", "project_number": "P-404",
          "minutes": "ninety", "billable": "maybe", "colour": "red"}]
    )  # fmt: skip
    report = run(database, world, tmp_path / "r.json", ImportKind.REGISTRATIONS, content)
    assert not report.committed
    [error] = report.errors
    assert error.message.split("; ") == [
        "unknown column(s): 'colour' (known: date, employee_initials, project_number, ref, "
        "minutes, hours, task, billable, hourly_rate, comment)",
        "project P-404 does not exist (import it first)",
        "employee ZZ does not exist (import it first)",
        "date '2024-13-01' is not a date in the form YYYY-MM-DD",
        "minutes 'ninety' is not a number",
        "billable 'maybe' is not true/false",
    ]


def test_partial_that_keeps_nothing_is_not_committed(
    database: Database, world: World, tmp_path: Path
) -> None:
    content = f"{REGISTRATION}\nR1,2024-03-04,ZZ,P-1,60\n"
    report = run(
        database, world, tmp_path / "r.csv", ImportKind.REGISTRATIONS, content, partial=True
    )
    assert not report.committed
    assert [error.line for error in report.errors] == [2]


# item 10: JSON is read in linear time --------------------------------------------------------
class _CountingText(str):
    """A text that counts the characters its ``count`` calls scan (how lines are numbered)."""

    scanned = 0

    def count(self, sub: str, start: int | None = 0, end: int | None = None) -> int:  # type: ignore[override]
        stop = len(self) if end is None else min(end, len(self))
        _CountingText.scanned += max(0, stop - (start or 0))
        return super().count(sub, start, end)


def test_json_line_numbers_scan_the_text_once() -> None:
    items = [{"initials": f"E{i}", "name": f"Employee {i}"} for i in range(2000)]
    text = _CountingText(json.dumps(items, indent=2))
    _CountingText.scanned = 0
    rows = list(importing._json_rows(text, "e.json"))
    assert [line for line, _ in rows[:3]] == [2, 6, 10]
    assert rows[-1][1] == {"initials": "E1999", "name": "Employee 1999"}
    # Quadratic numbering (counting from the start for every item) scans ~2000²/2 × 40 chars.
    assert _CountingText.scanned <= len(text)


def test_json_errors_still_name_their_line() -> None:
    text = '[\n  {"initials": "EF", "name": "Eva"},\n  {"initials": }\n]'
    with pytest.raises(ValidationError, match=re.escape("e.json line 3: Expecting value")):
        list(importing._json_rows(text, "e.json"))


def test_a_broken_header_is_line_1(tmp_path: Path) -> None:
    message = refusal(tmp_path, "e.csv", 'initials,"name\nEF,Eva\n', ImportKind.EMPLOYEES)
    assert message == 'e.csv line 1: a quoted value is not closed; add the closing "'


@pytest.mark.parametrize(
    "problem",
    [
        "'12345678901234567' is too large (at most 15 digits before the point)",
        "'1e999999999' is too large (at most 15 digits before the point)",
        "'1.0000001' has more than 6 decimals",
    ],
)
def test_numbers_beyond_what_a_column_holds_are_row_errors(
    database: Database, world: World, tmp_path: Path, problem: str
) -> None:
    value = problem.split("'")[1]
    content = f"{EXPENSE},quantity\nE1,2024-03-04,AB,P-1,Taxi,1.00,{value}\n"
    report = run(database, world, tmp_path / "x.csv", ImportKind.EXPENSES, content)
    assert report.errors == [RowError(2, f"quantity {problem}")]


def test_each_referenced_record_is_looked_up_once_per_import(
    database: Database, world: World, tmp_path: Path
) -> None:
    rows = "".join(f"R{n},2024-03-04,AB,P-1,60\n" for n in range(20))
    with database.count_statements() as count:
        report = run(
            database, world, tmp_path / "r.csv", ImportKind.REGISTRATIONS, f"{REGISTRATION}\n{rows}"
        )
    assert report.committed and report.accepted == 20
    lookups = [t for t in count.texts if re.search(r"FROM (employees|projects)\b", t)]
    assert len(lookups) <= 4, lookups  # was two per row
