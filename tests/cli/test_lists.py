"""List commands and the tables people read (issue 12 items 6 and 11): listing nothing is not
an error (headers and a "no …" line; ``[]`` with ``--json``); every list has ``--json`` and
names legal entities by code; amounts, numbers and statuses are never cut, at 80 columns or
narrower (a vertical layout then), and piped output is plain text, not boxes."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner, Result

from ledgerlink.cli.app import app
from ledgerlink.cli.render import Column, Grid
from ledgerlink.emulators._kit.serve import running
from ledgerlink.emulators.economic import EconomicEmulator

APP, GRANT = "lists-app", "lists-grant"
BOX = set("┃│━─┏┓└┘┡╇")


def invoke(*args: str, columns: int | None = 200) -> Result:
    # No COLUMNS: what a pipe gets.
    return CliRunner().invoke(app, list(args), env={"COLUMNS": str(columns) if columns else None})


def ok(result: Result) -> str:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result.stdout


@pytest.fixture
def cli(tmp_path: Path, sqlite_template: Path) -> list[str]:
    shutil.copy(sqlite_template, tmp_path / "ledgerlink.db")
    base = ["--data-dir", str(tmp_path)]
    ok(
        invoke(
            *base, "init", "--legal-entity", "ACME", "--name", "Acme", "--country", "DK",
            "--currency", "DKK", "--first-invoice-number", "1001",
        )
    )  # fmt: skip
    return base


@pytest.fixture
def erp_url() -> Iterator[str]:
    with running(EconomicEmulator(app_secret_token=APP, agreement_grant_token=GRANT).app) as url:
        yield url


def test_invoices_list_needs_a_legal_entity(tmp_path: Path, sqlite_template: Path) -> None:
    shutil.copy(sqlite_template, tmp_path / "ledgerlink.db")
    result = invoke("--data-dir", str(tmp_path), "invoices", "list")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: there is no legal entity yet; run 'ledgerlink init")


def test_listing_nothing_is_not_an_error(cli: list[str]) -> None:
    out = ok(invoke(*cli, "invoices", "list"))
    assert "number" in out and "gross" in out  # the headers
    assert "No invoices or credit notes." in out
    assert json.loads(ok(invoke(*cli, "invoices", "list", "--json"))) == []
    assert "No connections yet" in ok(invoke(*cli, "connections", "list"))
    assert json.loads(ok(invoke(*cli, "connections", "list", "--json"))) == []
    assert "No agent has enrolled yet" in ok(invoke(*cli, "agents", "list"))
    assert json.loads(ok(invoke(*cli, "agents", "list", "--json"))) == []


def test_connection_lists_name_the_legal_entity_by_code_and_have_json(
    cli: list[str], erp_url: str
) -> None:
    ok(
        invoke(
            *cli, "connect", "economic", "--app-secret-token", APP, "--grant-token", GRANT,
            "--url", erp_url,
        )
    )  # fmt: skip
    (connection,) = json.loads(ok(invoke(*cli, "connections", "list", "--json")))
    assert connection["legal_entity"] == "ACME" and connection["erp"] == "economic"
    assert "ACME" in ok(invoke(*cli, "connections", "list"))
    assert json.loads(ok(invoke(*cli, "transfers", "list", "--json"))) == []
    assert "No documents" in ok(invoke(*cli, "transfers", "list"))
    assert json.loads(ok(invoke(*cli, "transfers", "log", "--json"))) == []
    assert "Nothing logged yet" in ok(invoke(*cli, "transfers", "log"))


def grid() -> Grid:
    table = Grid(
        Column("number", fixed=True),
        Column("status", fixed=True),
        "customer",
        Column("gross", fixed=True, right=True),
        title="Invoices",
    )
    for number in (1001, 1002):
        table.add_row(
            str(number), "partially credited", "Havnens Logistik A/S, Kajgade 4, København",
            "141,234,567.89 DKK",
        )  # fmt: skip
    return table


def render(width: int, *, terminal: bool) -> str:
    out = io.StringIO()
    Console(file=out, width=width, force_terminal=terminal, color_system=None).print(grid())
    return out.getvalue()


@pytest.mark.parametrize("width", [80, 60, 30])
@pytest.mark.parametrize("terminal", [True, False])
def test_amounts_numbers_and_statuses_are_never_cut(width: int, terminal: bool) -> None:
    text = render(width, terminal=terminal)
    assert "…" not in text
    for whole in ("141,234,567.89 DKK", "partially credited", "1001", "1002"):
        assert whole in text, text
    assert all(len(line) <= width for line in text.splitlines()), text
    if not terminal:
        assert not BOX & set(text)  # boxes only in a terminal
    elif width == 80:
        assert BOX & set(text)


def test_too_narrow_a_table_becomes_one_record_per_block() -> None:
    text = render(30, terminal=False)
    assert "status    partially credited" in text
    assert "gross     141,234,567.89 DKK" in text


def test_piped_output_is_plain_text_with_whole_rows(cli: list[str], tmp_path: Path) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    files = {
        "customers": "number,name,country,currency,vat_number\n"
        "1001,Havnens Logistik A/S,DK,DKK,DK13585628\n",
        "employees": "initials,name\nAH,Anna Holm\n",
        "projects": "number,name,customer_number,hourly_rate\nP-1,Warehouse,1001,1234567.00\n",
        "registrations": "ref,date,employee_initials,project_number,minutes\n"
        "R1,2026-10-01,AH,P-1,600\n",
    }
    for kind, text in files.items():
        (folder / f"{kind}.csv").write_text(text, encoding="utf-8")
        ok(invoke(*cli, "import", kind, str(folder / f"{kind}.csv")))
    draft = json.loads(
        ok(
            invoke(
                *cli, "invoices", "draft", "--project", "P-1", "--month", "2026-10",
                "--invoice-date", "2026-10-31", "--json",
            )
        )
    )  # fmt: skip
    ok(invoke(*cli, "invoices", "post", str(draft["id"]), "--posting-date", "2026-10-31"))

    piped = ok(invoke(*cli, "invoices", "list", columns=None))  # no COLUMNS: a pipe
    assert not BOX & set(piped)
    row = next(line for line in piped.splitlines() if "Havnens" in line)
    assert "1001" in row and "posted" in row and "15,432,087.50" in row

    narrow = ok(invoke(*cli, "invoices", "list", columns=80))
    assert "…" not in narrow and "15,432,087.50" in narrow and "posted" in narrow
