"""Every console route, anonymously and as each role: refused (to the sign-in page, or 403)
or allowed as the role says; unsafe requests without the session's CSRF token refused; no
page ever shows a credential (issue 14 item 1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute

from ledgerlink.domain.users import Permission, Role
from ledgerlink.store.database import Database
from tests.web.support import PASSWORD, SECRET, Console, build_console


@pytest.fixture
def console(database: Database, tmp_path: Path) -> Console:
    return build_console(database, tmp_path)


#: (method, path, what it needs). Paths with ids use ones that may not exist: the check is
#: whether the request gets past the guard.
ROUTES = (
    ("GET", "/", Permission.READ),
    ("GET", "/transfers", Permission.READ),
    ("GET", "/transfers?view=transferred", Permission.READ),
    ("GET", "/transfers/jobs/nope", Permission.READ),
    ("GET", "/transfers/jobs/nope/progress", Permission.READ),
    ("GET", "/log", Permission.READ),
    ("GET", "/log.csv", Permission.READ),
    ("GET", "/log/1/steps", Permission.READ),
    ("GET", "/reconcile", Permission.READ),
    ("GET", "/reconcile.csv", Permission.READ),
    ("POST", "/transfers/preview", Permission.TRANSFER),
    ("POST", "/transfers/transfer", Permission.TRANSFER),
    ("POST", "/transfers/ignore", Permission.TRANSFER),
    ("POST", "/transfers/unignore", Permission.TRANSFER),
    ("POST", "/transfers/resolve", Permission.TRANSFER),
    ("GET", "/customers", Permission.READ),
    ("GET", "/connections/1/customers", Permission.READ),
    ("POST", "/connections/999/customers/link", Permission.TRANSFER),
    ("POST", "/connections/999/customers/unlink", Permission.TRANSFER),
    ("POST", "/connections/999/customers/import", Permission.TRANSFER),
    ("GET", "/connections", Permission.ADMINISTER),
    ("GET", "/connections/new?erp=economic", Permission.ADMINISTER),
    ("POST", "/connections/new", Permission.ADMINISTER),
    ("GET", "/connections/oauth/callback?state=x&code=y", Permission.ADMINISTER),
    ("GET", "/connections/1/setup", Permission.ADMINISTER),
    *(
        ("POST", f"/connections/999/{step}", Permission.ADMINISTER)
        for step in (
            "verify",
            "account",
            "products",
            "principles",
            "customer-master",
            "automatic",
            "activate",
            "reset",
        )
    ),
    ("GET", "/users", Permission.ADMINISTER),
    ("POST", "/users", Permission.ADMINISTER),
    ("POST", "/users/nobody/role", Permission.ADMINISTER),
    ("POST", "/users/nobody/disable", Permission.ADMINISTER),
    ("POST", "/users/nobody/enable", Permission.ADMINISTER),
    ("POST", "/logout", Permission.READ),
    # saved filters
    ("POST", "/saved-filters", Permission.READ),
    ("POST", "/saved-filters/delete", Permission.READ),
    # locale
    ("POST", "/users/formats", Permission.ADMINISTER),
    ("GET", "/users/me", Permission.READ),
    ("POST", "/users/me", Permission.READ),
)
#: The route of each walked path whose ids are not its route's parameters.
TEMPLATES = {
    "/connections/1/customers": "/connections/{connection_id}/customers",
    "/connections/1/setup": "/connections/{connection_id}/setup",
    **{
        f"/connections/999/{tail}": f"/connections/{{connection_id}}/{tail}"
        for tail in (
            "customers/link",
            "customers/unlink",
            "customers/import",
            "verify",
            "account",
            "products",
            "principles",
            "customer-master",
            "automatic",
            "activate",
            "reset",
        )
    },
    **{
        f"/users/nobody/{tail}": f"/users/{{name}}/{tail}" for tail in ("role", "disable", "enable")
    },
}
#: Served to anyone: the sign-in page, health, static files, the agents' relay (signed).
OPEN = ("/login", "/health", "/static", "/agent/", "/api/")


def _routes(routes: list[Any]) -> list[Any]:
    """The app's routes, included routers opened (FastAPI keeps them wrapped)."""
    found = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        found += _routes(inner.routes) if inner is not None else [route]
    return found


def test_the_walk_covers_every_console_route(console: Console) -> None:
    served = {
        (method, route.path)
        for route in _routes(console.app.routes)
        if isinstance(route, APIRoute) and not route.path.startswith(OPEN)
        for method in route.methods
        if method != "HEAD"
    }
    walked = {(m, p.split("?")[0].replace("nope", "{job_id}")) for m, p, _ in ROUTES}
    walked = {(m, "/log/{transfer_id}/steps" if p == "/log/1/steps" else p) for m, p in walked}
    walked = {(m, TEMPLATES.get(p, p)) for m, p in walked}
    assert served == walked


def _form(console: Console) -> dict[str, object]:
    return {"connection": console.connection_id, "invoice": [console.hub.invoices[0].number]}


@pytest.mark.parametrize("role", [None, *Role], ids=lambda r: r.value if r else "anonymous")
def test_each_route_is_refused_or_allowed_as_the_role_says(
    console: Console, role: Role | None
) -> None:
    with console.client(role) as browser:
        for method, path, needs in ROUTES:
            if path == "/logout":
                continue  # signs the walker out: last
            if method == "GET":
                answer = browser.http.get(path)
            else:
                answer = browser.post(path, _form(console))
            where = f"{method} {path} as {role}"
            if role is None:
                assert answer.status_code == 303, where
                assert answer.headers["location"].startswith("/login"), where
            elif role.may(needs):
                assert answer.status_code not in (401, 403), f"{where}: {answer.text[:300]}"
                assert not answer.headers.get("location", "").startswith("/login"), where
            else:
                assert answer.status_code == 403, where
                assert "may not do this" in answer.text
        answer = browser.post("/logout")
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login")


def test_an_htmx_request_without_a_session_is_told_where_to_sign_in(console: Console) -> None:
    with console.client() as browser:
        answer = browser.http.get("/transfers/jobs/x/progress", headers={"HX-Request": "true"})
    assert answer.status_code == 401
    assert answer.headers["HX-Redirect"].startswith("/login")


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(console: Console) -> None:
    form = _form(console)
    with console.client(Role.FINANCE) as browser:
        missing = browser.http.post("/transfers/ignore", data=form)
        wrong = browser.http.post("/transfers/ignore", data={**form, "csrf_token": "x" * 43})
        other_header = browser.http.post(
            "/transfers/ignore", data=form, headers={"X-CSRF-Token": "nope"}
        )
        logout = browser.http.post("/logout")
        for answer in (missing, wrong, other_header, logout):
            assert answer.status_code == 403
            assert "did not come from this console" in answer.text
        ignored = browser.http.get(f"/transfers?connection={console.connection_id}&view=ignored")
        assert "No documents in this view" in ignored.text
        # htmx sends it as a header (hx-headers on <body>): accepted.
        by_header = browser.http.post(
            "/transfers/ignore", data=form, headers={"X-CSRF-Token": browser.csrf}
        )
        assert by_header.status_code == 303


def test_the_sign_in_form_needs_its_own_token(console: Console) -> None:
    with console.client() as browser:
        answer = browser.http.post("/login", data={"name": "admin", "password": PASSWORD})
    assert answer.status_code == 403
    assert "ledgerlink_session" not in answer.headers.get("set-cookie", "")


def test_no_page_shows_a_credential_or_a_password(console: Console) -> None:
    with console.client(Role.ADMIN) as browser:
        pages = [
            browser.http.get(path)
            for path in (
                "/",
                *(f"/transfers?view={v}" for v in ("non_transferred", "ignored", "attention")),
                "/customers",
                "/connections",
                f"/connections/{console.connection_id}/setup",
                "/connections/new?erp=economic",
                "/users",
            )
        ]
        pages.append(browser.post("/transfers/preview", _form(console)))
        numbers = [invoice.number for invoice in console.hub.invoices]
        job = browser.post("/transfers/transfer", {**_form(console), "invoice": numbers})
        pages.append(browser.http.get(job.headers["location"]))
        pages += [
            browser.http.get(path)
            for path in (
                "/transfers?view=transferred",
                "/log",
                "/log.csv",
                "/log/1/steps",
                "/reconcile",
                "/reconcile.csv",
            )
        ]
        for answer in pages:
            assert answer.status_code == 200, (answer.request.url, answer.headers)
            assert SECRET not in answer.text
            assert PASSWORD not in answer.text
            assert "$argon2" not in answer.text
