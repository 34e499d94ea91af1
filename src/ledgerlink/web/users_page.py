"""The users page (issue 14 item 1, for admins): the console's users with their role and
state; add a user (the password typed twice), change a role, disable or enable, and set the
language and time zone a user's pages are formatted in (item 9). And every user's own page,
``/users/me`` (the user name in the page header links to it), where they set their own.

The rules live in :mod:`ledgerlink.web.users` (``ledgerlink users`` calls the same); this
module reads the forms and renders the list. An admin may not disable or demote the user
they are signed in as, so a console always keeps the admin who is using it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlencode
from zoneinfo import available_timezones

from babel import Locale
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ledgerlink.domain.errors import ValidationError
from ledgerlink.domain.users import MIN_PASSWORD_LENGTH, Role, User, user_name
from ledgerlink.web import formats, users
from ledgerlink.web.auth import Admin, Reader

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


#: The regions whose IANA zones the time-zone field suggests (any IANA name is accepted).
_AREAS = (
    "Africa/",
    "America/",
    "Antarctica/",
    "Asia/",
    "Atlantic/",
    "Australia/",
    "Europe/",
    "Indian/",
    "Pacific/",
)


def languages() -> list[tuple[str, str]]:
    """The console's languages as a user picks them: (tag, the language's own name)."""
    return [
        (tag, (Locale.parse(babel).language_name or tag).capitalize())
        for tag, babel in formats.LOCALES.items()
    ]


def zone_suggestions() -> list[str]:
    """UTC and the IANA zones of the inhabited regions, sorted: the time-zone field's list."""
    return ["UTC", *sorted(z for z in available_timezones() if z.startswith(_AREAS))]


def formats_said(user: User) -> str:
    """How a user's pages read, in words: their language and time zone."""
    names = dict(languages())
    language = names.get(user.locale or "", "the browser's language")
    return f"{language}, times in {user.time_zone or 'UTC'}"


async def _formats_form(request: Request) -> tuple[str | None, str | None]:
    """The form's ``locale`` and ``time_zone``: a field left out leaves that one as it is, an
    empty one is the default again (the browser's language, UTC). Read from the form itself:
    FastAPI's ``Form()`` would make an empty field the same as a missing one."""
    form = await request.form()

    def field(name: str) -> str | None:
        value = form.get(name)
        return value.strip() if isinstance(value, str) else None

    return field("locale"), field("time_zone")


def add_routes(router: APIRouter, console: Console) -> None:
    def done(message: str, where: str = "/users") -> Response:
        return RedirectResponse(f"{where}?{urlencode({'done': message})}", status_code=303)

    zones = zone_suggestions()

    @router.get("/users", response_class=HTMLResponse, include_in_schema=False)
    def users_page(request: Request, principal: Admin) -> HTMLResponse:
        return console.page(
            request,
            "users.html",
            principal,
            users=users.list_users(console.uow),
            roles=list(Role),
            min_length=MIN_PASSWORD_LENGTH,
            languages=languages(),
            zones=zones,
            done=request.query_params.get("done", ""),
        )

    @router.post("/users/formats", include_in_schema=False)
    async def set_formats(
        request: Request, principal: Admin, name: Annotated[str, Form()] = ""
    ) -> Response:
        locale, time_zone = await _formats_form(request)
        changed = await run_in_threadpool(
            lambda: users.set_formats(console.uow, name, locale=locale, time_zone=time_zone)
        )
        return done(f"{changed.name} reads the console in {formats_said(changed)}")

    @router.get("/users/me", response_class=HTMLResponse, include_in_schema=False)
    def my_page(request: Request, principal: Reader) -> HTMLResponse:
        return console.page(
            request,
            "users_me.html",
            principal,
            now=datetime.now(UTC),
            languages=languages(),
            zones=zones,
            done=request.query_params.get("done", ""),
        )

    @router.post("/users/me", include_in_schema=False)
    async def set_my_formats(request: Request, principal: Reader) -> Response:
        locale, time_zone = await _formats_form(request)
        changed = await run_in_threadpool(
            lambda: users.set_formats(
                console.uow, principal.user.name, locale=locale, time_zone=time_zone
            )
        )
        return done(f"Your pages now read in {formats_said(changed)}", "/users/me")

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
