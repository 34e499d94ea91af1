"""'ledgerlink import' as a person meets it: one line per problem, exit codes (issue 12).

One SQLite data directory per module (the import logic itself runs on both databases in
tests/psa); the refused imports change nothing, the kept ones use their own refs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledgerlink.cli.app import app

SETUP = {
    "customers": "number,name,country,currency\n1001,Havnens Logistik A/S,DK,DKK\n",
    "employees": "initials,name\nAH,Anna Holm\n",
    "projects": "number,name,customer_number,hourly_rate\nP-1,Warehouse,1001,1000.00\n",
}
REGISTRATION = "ref,date,employee_initials,project_number,minutes"


def run(base: list[str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [*base, *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    folder = tmp_path_factory.mktemp("import-cli")
    base = ["--data-dir", str(folder / "data")]
    code, _out, err = run(
        base, "init", "--legal-entity", "acme", "--name", "Acme ApS", "--country", "DK",
        "--currency", "DKK",
    )  # fmt: skip
    assert code == 0, err
    for kind, text in SETUP.items():
        path = folder / f"{kind}.csv"
        path.write_text(text, encoding="utf-8")
        code, _out, err = run(base, "import", kind, str(path))
        assert code == 0, err
    return base


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("kind", "name", "text", "said"),
    [
        ("employees", "big.csv", "initials,name\nEF," + "x" * 140_000 + "\n",
         "error: big.csv line 2: a value is longer than 131,072 characters"),
        ("employees", "deep.json", "[" * 100_000 + "]" * 100_000,
         "error: deep.json line 1: each item must be an object"),
        ("employees", "lone.json", '[{"initials": "EF", "name": "Eva \\ud800"}]',
         "lone.json line 1: name holds U+D800, half of a UTF-16 surrogate pair"),
        ("expenses", "price.json",
         '[{"date": "2026-10-01", "employee_initials": "AH", "project_number": "P-1",'
         ' "description": "Taxi", "unit_price": 1e30}]',
         "price.json line 1: unit_price '1E+30' is too large"),
    ],
    ids=["csv-field-over-131072", "json-100k-deep", "lone-surrogate", "unit-price-1e30"],
)  # fmt: skip
def test_what_raised_a_traceback_is_one_line_and_exit_1(
    cli: list[str], tmp_path: Path, *, kind: str, name: str, text: str, said: str
) -> None:
    code, out, err = run(cli, "import", kind, write(tmp_path, name, text))
    assert code == 1
    shown = (err or out).strip().splitlines()
    assert said in shown[-1]
    assert len(shown) <= 2  # the file's error, or a summary and the rejected row


def test_a_folder_given_as_the_file_is_one_line(cli: list[str], tmp_path: Path) -> None:
    folder = tmp_path / "registrations.csv"
    folder.mkdir()
    code, _out, err = run(cli, "import", "registrations", str(folder))
    assert code == 1
    assert err == f"error: {folder} is a folder; give the path of a .csv or .json file\n"


def test_partial_that_kept_the_valid_rows_exits_0_with_a_summary(
    cli: list[str], tmp_path: Path
) -> None:
    text = f"{REGISTRATION}\nP1,2026-10-01,AH,P-1,60\nP2,2026-10-32,AH,P-1,60\n"
    code, out, _err = run(
        cli, "import", "registrations", write(tmp_path, "r.csv", text), "--partial"
    )
    assert code == 0
    assert out.splitlines() == [
        "registrations: 2 rows read, 1 created, 0 updated, 0 unchanged; "
        "1 rejected rows not imported (the valid rows were kept)",
        "r.csv line 3: date '2026-10-32' is not a date in the form YYYY-MM-DD",
    ]


def test_partial_that_kept_nothing_exits_1(cli: list[str], tmp_path: Path) -> None:
    text = f"{REGISTRATION}\nQ1,2026-10-01,ZZ,P-1,60\n"
    code, out, _err = run(
        cli, "import", "registrations", write(tmp_path, "r.csv", text), "--partial"
    )
    assert code == 1
    assert out.splitlines() == [
        "registrations: nothing imported — 1 of 1 rows rejected (fix them and import again)",
        "r.csv line 2: employee ZZ does not exist (import it first)",
    ]


def test_rejected_rows_are_one_line_each_and_capped(cli: list[str], tmp_path: Path) -> None:
    rows = "".join(f"S{n},2026-10-01,ZZ,P-1,60\n" for n in range(25))
    text = f"{REGISTRATION}\nS-ok,2026-10-01,AH,P-1,60\n{rows}"
    code, out, _err = run(cli, "import", "registrations", write(tmp_path, "r.csv", text))
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == (
        "registrations: nothing imported — 25 of 26 rows rejected "
        "(fix them and import again, or use --partial to keep the valid rows)"
    )
    assert lines[1:21] == [
        f"r.csv line {n}: employee ZZ does not exist (import it first)" for n in range(3, 23)
    ]
    assert lines[21:] == ["… and 5 more rejected rows (--json lists them all)"]


def test_a_long_rejection_is_not_wrapped_or_read_as_markup(cli: list[str], tmp_path: Path) -> None:
    text = "number,name,country,currency\n3002,,XX,[bold]ZZZ\n"
    code, out, _err = run(cli, "import", "customers", write(tmp_path, "c.csv", text))
    assert code == 1
    assert out.splitlines()[1] == (
        "c.csv line 2: name is required; "
        "country: 'XX' is not an ISO 3166 country code (e.g. DK, SE, NL); "
        "currency: '[bold]ZZZ' is not an ISO 4217 currency code (e.g. DKK, SEK, EUR)"
    )
