"""Help a person can read (issue 12 item 14): every option and argument of every command has
a description, descriptions are rewrapped to the terminal (no line breaks from docstrings),
flags show no ``<bool>``, and the ERP is named as people know it (e-conomic)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import typer
from typer.testing import CliRunner

from ledgerlink.cli.app import app


def commands() -> Iterator[tuple[list[str], typer.core.TyperCommand]]:
    def walk(command: object, path: list[str]) -> Iterator[tuple[list[str], object]]:
        yield path, command
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, [*path, name])

    yield from walk(typer.main.get_command(app), [])  # type: ignore[misc]


def test_every_option_and_argument_of_every_command_has_a_description() -> None:
    missing = [
        f"{' '.join(path) or 'ledgerlink'}: {param.name}"
        for path, command in commands()
        for param in command.params
        if not getattr(param, "help", None)
    ]
    assert missing == []


def test_every_help_shows_and_says_e_conomic() -> None:
    runner = CliRunner()
    for path, _command in commands():
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "120"})
        assert result.exit_code == 0, (path, result.stderr)
        assert "<bool>" not in result.stdout, path
        assert "economic here" not in result.stdout


def test_descriptions_are_rewrapped_to_the_terminal() -> None:
    def help_of(*path: str) -> str:
        return CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "120"}).stdout

    # Docstring lines end after "posting," and "given, so": the help flows on.
    assert "posting, and every round" in help_of("worker")
    assert "so it never touches your real data" in help_of("demo")
    assert all(len(line) <= 120 for line in help_of("demo").splitlines())
    # In a command list each command is one line: its short sentence.
    assert "  worker       Run transfers and pulls until stopped.\n" in help_of()


@pytest.mark.parametrize("erp", ["economic"])
def test_connect_help_names_the_erp_as_people_do(erp: str) -> None:
    out = CliRunner().invoke(app, ["connect", erp, "--help"], env={"COLUMNS": "120"}).stdout
    assert "e-conomic" in out and "customer master" in out
