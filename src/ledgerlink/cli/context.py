"""What every command shares: the error boundary and the per-invocation state."""

from __future__ import annotations

import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from sqlalchemy.exc import OperationalError
from typer.core import TyperGroup

from ledgerlink.connectors.contract import AuthExpired, ConnectorError, Transient, Uncertain
from ledgerlink.domain.errors import LedgerlinkError
from ledgerlink.settings import Settings
from ledgerlink.store.database import Database
from ledgerlink.store.uow import UnitOfWork


class UserError(LedgerlinkError):
    """Bad command-line input."""


#: What to do about a connector error whose own text has no hint, by its class.
_CONNECTOR_ACTIONS: tuple[tuple[type[ConnectorError], str], ...] = (
    (AuthExpired, "connect again with 'ledgerlink connect'"),
    (Uncertain, "it may have taken effect: check the ERP before trying again"),
    (Transient, "check the address and the network, or try again later"),
)


def explain(error: Exception, *, settings: Settings | None = None) -> str | None:
    """The one line a user reads for ``error`` (what is wrong and what to do), or ``None``
    when nobody anticipated it (a bug)."""
    if isinstance(error, LedgerlinkError):
        return str(error)
    if isinstance(error, ConnectorError):
        action = next((a for cls, a in _CONNECTOR_ACTIONS if isinstance(error, cls)), "")
        return str(error) if error.hint or not action else f"{error} — {action}"
    if isinstance(error, OperationalError):
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        return f"cannot use the database: {reason}"
    if isinstance(error, OSError) and error.strerror:
        where = f"{error.filename}: " if error.filename else ""
        line = f"cannot use {where}{error.strerror}"
        if settings is not None and error.filename is not None:
            data_dir = settings.data_dir
            if data_dir == Path(error.filename) or data_dir.is_relative_to(error.filename):
                line += " — choose another data directory (--data-dir or LEDGERLINK_DATA_DIR)"
        return line
    return None


def _fail(ctx: typer.Context, error: Exception) -> NoReturn:
    state = ctx.find_object(State)
    line = explain(error, settings=state.settings if state else None)
    if line is None:
        if state is not None and state.verbose:
            traceback.print_exception(error, file=sys.stderr)
        line = (
            f"unexpected {type(error).__name__}: {error} — this is a bug; run the command "
            "again with --verbose for the traceback and report it"
        )
    typer.echo(f"error: {line}", err=True)
    raise typer.Exit(1)


def _usage_error(error: typer.TyperException) -> NoReturn:
    """A usage error is one line too: what was wrong, and where the help is. A group called
    without a command shows its help (typer names that error only by its class name)."""
    ctx: typer.Context | None = getattr(error, "ctx", None)
    if ctx is not None and type(error).__name__ == "NoArgsIsHelpError":
        typer.echo(ctx.get_help())
        raise typer.Exit(0)
    message = error.format_message().strip()
    if not message.endswith((".", "?", "!")):
        message += "."
    where = f" See '{ctx.command_path} --help'." if ctx is not None else ""
    typer.echo(f"error: {message}{where}", err=True)
    raise typer.Exit(1)


class Group(TyperGroup):
    """The error boundary: every failure is one line on stderr and exit code 1, never a
    traceback (``--verbose`` adds the traceback of an unexpected error). Usage errors (wrong
    option, bad value, unknown command) are one line and exit code 1 too."""

    def make_context(  # type: ignore[override]
        self,
        info_name: str | None,
        args: list[str],
        parent: typer.Context | None = None,
        **extra: Any,
    ) -> typer.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)  # type: ignore[return-value]
        except typer.TyperException as error:
            _usage_error(error)

    # Typer vendors click privately; its public Context is the subclass the command receives.
    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort):
            raise
        except typer.TyperException as error:
            _usage_error(error)
        except Exception as error:
            _fail(ctx, error)


@dataclass
class State:
    settings: Settings
    console: Console
    verbose: bool = False
    _database: Database | None = None

    @property
    def database(self) -> Database:
        if self._database is None:
            self._database = Database(
                self.settings.effective_database_url,
                pre_ping=self.settings.database_pre_ping,
            )
        return self._database

    def uow(self, *, ready: bool = True) -> UnitOfWork:
        if ready:
            self.database.ensure_ready()
        return UnitOfWork(self.database)


def state_of(ctx: typer.Context) -> State:
    state = ctx.find_object(State)
    assert state is not None
    return state
