"""What every command shares: the error boundary and the per-invocation state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import typer
from rich.console import Console
from sqlalchemy.exc import OperationalError
from typer.core import TyperGroup

from ledgerlink.domain.errors import LedgerlinkError
from ledgerlink.settings import Settings
from ledgerlink.store.database import Database
from ledgerlink.store.uow import UnitOfWork


class UserError(LedgerlinkError):
    """Bad command-line input."""


class Group(TyperGroup):
    """Turns errors meant for users into one line on stderr and exit code 1 (no traceback)."""

    # Typer vendors click privately; its public Context is the subclass the command receives.
    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except LedgerlinkError as error:
            message = str(error)
        except OperationalError as error:
            reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
            message = f"cannot use the database: {reason}"
        typer.echo(f"error: {message}", err=True)
        raise typer.Exit(1)


@dataclass
class State:
    settings: Settings
    console: Console
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
