"""``ledgerlink users api-key``: a user's keys for the JSON API (``/api/v1``).

A key is printed once, when it is made, and only its hash is kept; its prefix names it in
``list`` and ``revoke``. Requests with the key act as its user, with the user's role.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ledgerlink.cli.context import Group, state_of
from ledgerlink.cli.render import Column, Grid
from ledgerlink.store.api_keys import ApiKey, ApiKeyStore

api_key_app = typer.Typer(
    cls=Group, no_args_is_help=True, help="API keys of users, for the JSON API (/api/v1)."
)


def _store(ctx: typer.Context) -> ApiKeyStore:
    state = state_of(ctx)
    state.database.ensure_ready()
    return ApiKeyStore(state.database)


@api_key_app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="What the key is for (e.g. 'PSA sync').")],
    user: Annotated[str, typer.Option("--user", help="The user the key acts as.")],
) -> None:
    """Make a key for a user and print it (the only time it is shown)."""
    record, key = _store(ctx).create(user, name)
    state_of(ctx).console.print(
        f"API key {record.prefix} for {record.user_name} ({record.name}). "
        "Keep it now; it is not shown again:"
    )
    typer.echo(key)


@api_key_app.command("list")
def list_keys(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Option("--user", help="Only this user's keys.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (a list) for scripts.")
    ] = False,
) -> None:
    """The keys (never the keys themselves): prefix, user, name, last use, revoked."""
    keys = _store(ctx).list(user)
    if as_json:
        typer.echo(json.dumps([_key_json(k) for k in keys], indent=2))
        return
    grid = Grid(
        Column("prefix", fixed=True),
        Column("user", fixed=True),
        "name",
        Column("created", fixed=True),
        Column("last used", fixed=True),
        Column("revoked", fixed=True),
        title="API keys",
        empty="No API keys: 'ledgerlink users api-key create NAME --user USER' makes one.",
    )
    for key in keys:
        grid.add_row(
            key.prefix,
            key.user_name,
            key.name,
            key.created_at.isoformat(timespec="seconds"),
            key.last_used_at.isoformat(timespec="seconds") if key.last_used_at else "",
            key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else "",
        )
    state_of(ctx).console.print(grid)


@api_key_app.command("revoke")
def revoke(
    ctx: typer.Context,
    prefix: Annotated[str, typer.Argument(help="The key's prefix (as 'list' shows it).")],
) -> None:
    """Revoke a key: requests with it are refused from now on."""
    key = _store(ctx).revoke(prefix)
    state_of(ctx).console.print(f"API key {key.prefix} of {key.user_name} is revoked")


def _key_json(key: ApiKey) -> dict[str, object]:
    return {
        "prefix": key.prefix,
        "user": key.user_name,
        "name": key.name,
        "created_at": key.created_at.isoformat(),
        "last_used_at": key.last_used_at.isoformat() if key.last_used_at else None,
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
        "active": key.active,
    }
