"""The ledgerlink command, end to end through Typer's runner, on both databases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledgerlink.cli.app import app
from ledgerlink.store.database import Database

CUSTOMERS = """number,name,address1,postal_code,city,country,vat_number,currency,payment_terms
1001,Havnens Logistik A/S,Kajgade 4,2100,København Ø,DK,DK13585628,DKK,net 14
"""
EMPLOYEES = """initials,name,department
AH,Anna Holm,Management
MJ,Mads Jensen,Consulting
"""
PROJECTS = """number,name,customer_number,manager_initials,hourly_rate
P-1,Warehouse system,1001,AH,1000.00
"""
REGISTRATIONS = """ref,date,employee_initials,project_number,minutes,task
R1,2026-10-01,AH,P-1,90,Analysis
R2,2026-10-02,MJ,P-1,120,Development
R3,2026-10-03,MJ,P-1,20,Development
"""


def run(runner: CliRunner, base: list[str], *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, [*base, *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def cli(tmp_path: Path, database: Database) -> list[str]:
    """Global options that point the command at the test database."""
    return ["--data-dir", str(tmp_path), "--database-url", database.url]


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def setup_data(runner: CliRunner, cli: list[str], tmp_path: Path) -> None:
    code, out, err = run(
        runner, cli, "init", "--legal-entity", "acme", "--name", "Acme ApS", "--country", "DK",
        "--currency", "DKK", "--first-invoice-number", "500",
    )  # fmt: skip
    assert code == 0, err
    assert "Legal entity ACME" in out
    for kind, text in (
        ("customers", CUSTOMERS),
        ("employees", EMPLOYEES),
        ("projects", PROJECTS),
        ("registrations", REGISTRATIONS),
    ):
        code, out, err = run(runner, cli, "import", kind, write(tmp_path, f"{kind}.csv", text))
        assert code == 0, err
        assert "created" in out


def test_draft_post_credit_list_and_show(cli: list[str], tmp_path: Path) -> None:
    runner = CliRunner()
    setup_data(runner, cli, tmp_path)

    code, out, err = run(
        runner, cli, "invoices", "draft", "--project", "P-1", "--month", "2026-10",
        "--invoice-date", "2026-10-31", "--json",
    )  # fmt: skip
    assert code == 0, err
    draft = json.loads(out)
    assert draft["status"] == "draft" and draft["number"] is None
    # AH 1.50 h; MJ 120 + 20 minutes = 2.33 h → 2,330.00; net 3,830.00, VAT 25 %.
    assert [(line["quantity"], line["net"]["amount"]) for line in draft["lines"]] == [
        ("1.50", "1500.00"),
        ("2.33", "2330.00"),
    ]
    assert draft["gross"] == {"amount": "4787.50", "currency": "DKK"}
    assert draft["due_date"] == "2026-11-14"

    code, out, err = run(
        runner, cli, "invoices", "post", str(draft["id"]), "--posting-date", "2026-11-01", "--json"
    )
    assert code == 0, err
    posted = json.loads(out)
    assert posted["number"] == 500 and posted["posting_date"] == "2026-11-01"

    code, out, err = run(
        runner, cli, "invoices", "credit", "--number", "500", "--line", "2=0.33", "--post",
        "--date", "2026-11-05", "--json",
    )  # fmt: skip
    assert code == 0, err
    credit = json.loads(out)
    assert credit["type"] == "credit_note" and credit["number"] == 501
    assert credit["gross"]["amount"] == "-412.50"  # 0.33 h × 1,000 + 25 % VAT

    code, out, err = run(runner, cli, "invoices", "list", "--json")
    assert code == 0, err
    rows = {row["number"]: row for row in json.loads(out)}
    assert rows[500]["status"] == "partially_credited"
    assert rows[501]["credits_invoice_id"] == posted["id"]

    code, out, err = run(runner, cli, "invoices", "list", "--type", "credit_note", "--json")
    assert [row["number"] for row in json.loads(out)] == [501]

    code, out, err = run(runner, cli, "invoices", "show", "--number", "500")
    assert code == 0, err
    assert "Invoice 500" in out and "partially credited" in out and "4,787.50" in out

    result = runner.invoke(app, [*cli, "invoices", "list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    assert "Havnens Logistik A/S" in result.stdout
    assert "partially credited" in result.stdout
    assert "-412.50" in result.stdout


def test_nothing_is_drafted_twice(cli: list[str], tmp_path: Path) -> None:
    runner = CliRunner()
    setup_data(runner, cli, tmp_path)
    args = ("invoices", "draft", "--project", "P-1", "--month", "2026-10")
    assert run(runner, cli, *args)[0] == 0
    code, out, err = run(runner, cli, *args)
    assert code == 1
    assert err.startswith("error: project P-1 has no uninvoiced billable registrations")
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_bad_input_gives_one_line_and_exit_code_1(cli: list[str], tmp_path: Path) -> None:
    runner = CliRunner()
    setup_data(runner, cli, tmp_path)
    cases = [
        (("invoices", "show", "999"), "error: invoice #999 does not exist"),
        (("invoices", "draft", "--project", "P-9", "--month", "2026-10"), "error: project P-9"),
        (("invoices", "draft", "--project", "P-1", "--month", "2026-13"), "error: '2026-13'"),
        (("invoices", "draft", "--project", "P-1"), "error: say which period"),
        (("invoices", "credit", "--number", "777"), "error: there is no invoice"),
        (("import", "customers", str(tmp_path / "missing.csv")), "error:"),
    ]
    for args, expected in cases:
        code, _out, err = run(runner, cli, *args)
        assert code == 1, args
        assert err.startswith(expected), (args, err)
        assert len(err.strip().splitlines()) == 1, err


def test_rejected_import_rows_are_listed_and_nothing_is_kept(
    cli: list[str], tmp_path: Path
) -> None:
    runner = CliRunner()
    setup_data(runner, cli, tmp_path)
    bad = write(
        tmp_path,
        "more.csv",
        "ref,date,employee_initials,project_number,minutes\n"
        "R10,2026-10-06,AH,P-1,60\n"
        "R11,2026-10-32,AH,P-1,60\n"
        "R12,2026-10-07,ZZ,P-1,60\n",
    )
    code, out, _err = run(runner, cli, "import", "registrations", bad, "--json")
    assert code == 1
    report = json.loads(out)
    assert report["committed"] is False and report["created"] == 0
    assert [(r["line"], r["reason"][:20]) for r in report["rejected"]] == [
        (3, "date '2026-10-32' is"),
        (4, "employee ZZ does not"),
    ]
    code, out, _err = run(runner, cli, "import", "registrations", bad, "--partial", "--json")
    assert code == 0  # the valid rows were kept
    assert json.loads(out)["created"] == 1


def test_commands_refuse_an_uninitialised_database(tmp_path: Path) -> None:
    runner = CliRunner()
    code, _out, err = run(runner, ["--data-dir", str(tmp_path)], "invoices", "list")
    assert code == 1
    assert "run 'ledgerlink init' first" in err
