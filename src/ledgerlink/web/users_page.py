"""The users page (issue 14 item 1, for admins): the console's users with their role and
state; add a user (the password typed twice), change a role, disable or enable.

The rules live in :mod:`ledgerlink.web.users` (``ledgerlink users`` calls the same); this
module reads the forms and renders the list. An admin may not disable or demote the user
they are signed in as, so a console always keeps the admin who is using it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ledgerlink.domain.errors import ValidationError
from ledgerlink.domain.users import MIN_PASSWORD_LENGTH, Role, user_name
from ledgerlink.web import users
from ledgerlink.web.auth import Admin

if TYPE_CHECKING:
    from ledgerlink.web.console import Console
    from ledgerlink.web.users import Principal


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise ValidationError(f"'{value}' is not a role; choose one of: {roles}") from None


def _not_yourself(principal: Principal, name: str, what: str) -> None:
    if user_name(name) == principal.user.name:
        raise ValidationError(f"you cannot {what} the user you are signed in as; another admin can")


def add_routes(router: APIRouter, console: Console) -> None:
    def done(message: str) -> Response:
        return RedirectResponse(f"/users?{urlencode({'done': message})}", status_code=303)

    @router.get("/users", response_class=HTMLResponse, include_in_schema=False)
    def users_page(request: Request, principal: Admin) -> HTMLResponse:
        return console.page(
            request,
            "users.html",
            principal,
            users=users.list_users(console.uow),
            roles=list(Role),
            min_length=MIN_PASSWORD_LENGTH,
            done=request.query_params.get("done", ""),
        )

    @router.post("/users", include_in_schema=False)
    async def add(
        principal: Admin,
        name: Annotated[str, Form()] = "",
        role: Annotated[str, Form()] = Role.VIEWER.value,
        password: Annotated[str, Form()] = "",
        password_again: Annotated[str, Form()] = "",
    ) -> Response:
        if password != password_again:
            raise ValidationError("the two passwords differ; type the same password twice")
        added = await run_in_threadpool(
            users.add_user, console.uow, console.passwords, name, _role(role), password
        )
        return done(f"user {added.name} added ({added.role.value})")

    @router.post("/users/{name}/role", include_in_schema=False)
    async def change_role(
        name: str, principal: Admin, role: Annotated[str, Form()] = ""
    ) -> Response:
        _not_yourself(principal, name, "change the role of")
        changed = await run_in_threadpool(users.set_role, console.uow, name, _role(role))
        return done(f"{changed.name} is now {changed.role.value}")

    @router.post("/users/{name}/disable", include_in_schema=False)
    async def disable(name: str, principal: Admin) -> Response:
        _not_yourself(principal, name, "disable")
        changed = await run_in_threadpool(lambda: users.set_active(console.uow, name, active=False))
        return done(f"{changed.name} is disabled (signed out everywhere)")

    @router.post("/users/{name}/enable", include_in_schema=False)
    async def enable(name: str, principal: Admin) -> Response:
        changed = await run_in_threadpool(lambda: users.set_active(console.uow, name, active=True))
        return done(f"{changed.name} is enabled")
