"""``ledgerlink users``: the people who sign in to the web console, and their roles."""

from __future__ import annotations

import json
import sys
from functools import partial
from typing import Annotated

import typer

from ledgerlink.cli.api_keys import api_key_app
from ledgerlink.cli.context import Group, State, UserError, state_of
from ledgerlink.cli.render import Column, Grid
from ledgerlink.domain.users import Role, User
from ledgerlink.store.uow import UnitOfWork
from ledgerlink.web import users

users_app = typer.Typer(
    cls=Group, no_args_is_help=True, help="Users of the web console and their roles."
)
users_app.add_typer(api_key_app, name="api-key")

RoleOption = Annotated[
    Role,
    typer.Option(
        "--role",
        help="admin (connections, setup, users), finance (transfer, ignore, resolve), "
        "viewer (read).",
    ),
]


def _password(password_stdin: bool) -> str:
    if password_stdin:
        line = sys.stdin.readline()
        if not line:
            raise UserError("--password-stdin: nothing on standard input")
        return line.rstrip("\r\n")
    first: str = typer.prompt("Password", hide_input=True)
    again: str = typer.prompt("Repeat the password", hide_input=True)
    if first != again:
        raise UserError("the two passwords differ; nothing was changed")
    return first


def _uow(state: State) -> users.UowFactory:
    state.database.ensure_ready()
    return partial(UnitOfWork, state.database)


@users_app.command("add")
def users_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User name (letters, digits, . _ - @).")],
    role: RoleOption,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Add a user (the password is asked twice, without echo)."""
    state = state_of(ctx)
    factory = _uow(state)
    user = users.add_user(factory, users.Passwords(), name, role, _password(password_stdin))
    state.console.print(f"user '{user.name}' added as {user.role.value}")


@users_app.command("list")
def users_list(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (a list) for scripts.")
    ] = False,
) -> None:
    """The users, their roles and whether they may sign in."""
    state = state_of(ctx)
    found = users.list_users(_uow(state))
    if as_json:
        typer.echo(json.dumps([_user_json(u) for u in found], indent=2))
        return
    grid = Grid(
        Column("name", fixed=True),
        Column("role", fixed=True),
        Column("state", fixed=True),
        Column("last sign-in", fixed=True),
        title="Users",
        empty="No users yet: 'ledgerlink users add NAME --role admin'.",
    )
    for user in found:
        grid.add_row(
            user.name,
            user.role.value,
            "active" if user.active else "disabled",
            user.last_sign_in.isoformat(timespec="seconds") if user.last_sign_in else "never",
        )
    state.console.print(grid)


def _user_json(user: User) -> dict[str, object]:
    return {
        "name": user.name,
        "role": user.role.value,
        "active": user.active,
        "created_at": user.created_at.isoformat() if user.created_at else None,
        "last_sign_in": user.last_sign_in.isoformat() if user.last_sign_in else None,
    }


@users_app.command("set-role")
def users_set_role(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User name.")],
    role: RoleOption,
) -> None:
    """Change a user's role (it applies to their next request)."""
    state = state_of(ctx)
    user = users.set_role(_uow(state), name, role)
    state.console.print(f"user '{user.name}' is now {user.role.value}")


@users_app.command("set-locale")
def users_set_locale(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User name.")],
    locale: Annotated[
        str,
        typer.Argument(
            help="da, sv, nl or en: how amounts and dates read; '' = the browser's language."
        ),
    ],
    time_zone: Annotated[
        str | None,
        typer.Option(
            "--time-zone", help="IANA time zone for times, e.g. Europe/Copenhagen; '' = UTC."
        ),
    ] = None,
) -> None:
    """Set the language the console formats a user's amounts and dates in (and their time
    zone)."""
    state = state_of(ctx)
    user = users.set_formats(_uow(state), name, locale=locale, time_zone=time_zone)
    language = user.locale or "the browser's language"
    state.console.print(
        f"user '{user.name}' reads the console in {language}, times in {user.time_zone or 'UTC'}"
    )


@users_app.command("disable")
def users_disable(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="User name.")]
) -> None:
    """Stop a user signing in; their open sessions end at once."""
    state = state_of(ctx)
    user = users.set_active(_uow(state), name, active=False)
    state.console.print(f"user '{user.name}' disabled")


@users_app.command("enable")
def users_enable(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="User name.")]
) -> None:
    """Let a disabled (or locked-out) user sign in again."""
    state = state_of(ctx)
    user = users.set_active(_uow(state), name, active=True)
    state.console.print(f"user '{user.name}' enabled")


@users_app.command("set-password")
def users_set_password(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User name.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Give a user a new password; their open sessions end."""
    state = state_of(ctx)
    factory = _uow(state)
    user = users.set_password(factory, users.Passwords(), name, _password(password_stdin))
    state.console.print(f"password of '{user.name}' changed")
