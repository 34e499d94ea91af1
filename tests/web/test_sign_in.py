"""Signing in and out of the console, the session cookie, failed sign-ins, and the
``ledgerlink users`` commands (issue 14 item 1)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from ledgerlink.cli.app import app as cli_app
from ledgerlink.domain.errors import ValidationError
from ledgerlink.domain.users import Role
from ledgerlink.store.database import Database
from ledgerlink.store.tables import WebSessionRow
from ledgerlink.store.uow import UnitOfWork
from ledgerlink.web import users
from ledgerlink.web.users import REFUSED
from tests.web.support import CHEAP, PASSWORD, Console, build_console


@pytest.fixture
def console(database: Database, tmp_path: Path) -> Console:
    return build_console(database, tmp_path)


def test_sign_in_sets_a_secure_http_only_lax_cookie_whose_hash_alone_is_stored(
    console: Console,
) -> None:
    with console.client() as browser:
        answer = browser.sign_in("FINANCE", PASSWORD)  # names are not case-sensitive
        assert answer.status_code == 303  # type: ignore[attr-defined]
        cookie = next(
            c
            for c in answer.headers.get_list("set-cookie")  # type: ignore[attr-defined]
            if c.startswith("ledgerlink_session=")
        )
        attributes = [part.strip().lower() for part in cookie.split(";")]
        assert {"httponly", "secure", "samesite=lax", "path=/"} <= set(attributes)
        token = cookie.split(";")[0].split("=", 1)[1]
        with console.database.session() as session:
            stored = session.scalars(select(WebSessionRow)).all()
        assert [row.token_hash for row in stored] == [hashlib.sha256(token.encode()).hexdigest()]
        assert all(token not in (row.csrf_token, row.token_hash) for row in stored)
        page = browser.http.get("/")
        assert page.status_code == 200
        assert "finance" in page.text
        assert f'"X-CSRF-Token": "{browser.csrf}"' in page.text  # htmx sends it

        assert browser.post("/logout").status_code == 303
        with console.database.session() as session:
            assert session.scalars(select(WebSessionRow)).all() == []
        browser.http.cookies.set("ledgerlink_session", token)  # the old cookie, kept
        assert browser.http.get("/").headers["location"].startswith("/login")


def test_plain_http_cookies_only_when_the_app_is_told(database: Database, tmp_path: Path) -> None:
    console = build_console(database, tmp_path, secure_cookies=False)
    with console.client() as browser:
        answer = browser.sign_in("viewer", PASSWORD)
        cookie = answer.headers["set-cookie"]  # type: ignore[attr-defined]
        assert "secure" not in cookie.lower()


def test_a_failed_sign_in_says_the_same_whatever_failed(console: Console) -> None:
    users.set_active(lambda: UnitOfWork(console.database), "viewer", active=False)
    with console.client() as browser:
        answers = [
            browser.sign_in("admin", "wrong password!"),
            browser.sign_in("nobody", PASSWORD),
            browser.sign_in("viewer", PASSWORD),  # disabled
            browser.sign_in("not a name!", PASSWORD),
        ]
        texts = set()
        for answer in answers:
            assert answer.status_code == 401  # type: ignore[attr-defined]
            assert "ledgerlink_session" not in answer.headers.get("set-cookie", "")  # type: ignore[attr-defined]
            texts.add(answer.text.replace("not a name!", "").replace("nobody", ""))  # type: ignore[attr-defined]
            assert REFUSED.replace("'", "&#39;") in answer.text  # type: ignore[attr-defined]


def test_five_failures_lock_the_user_for_a_while(console: Console) -> None:
    factory = lambda: UnitOfWork(console.database)  # noqa: E731
    for _ in range(5):
        with pytest.raises(users.SignInRefused):
            users.sign_in(factory, CHEAP, "admin", "wrong password!")
    with pytest.raises(users.SignInRefused):
        users.sign_in(factory, CHEAP, "admin", PASSWORD)
    later = datetime.now(UTC) + timedelta(minutes=6)
    assert users.sign_in(factory, CHEAP, "admin", PASSWORD, now=later).token


def test_an_expired_session_opens_nothing(console: Console) -> None:
    factory = lambda: UnitOfWork(console.database)  # noqa: E731
    signed = users.sign_in(factory, CHEAP, "admin", PASSWORD)
    assert users.session_of(factory, signed.token) is not None
    assert users.session_of(factory, signed.token, now=signed.expires_at) is None
    assert users.session_of(factory, signed.token) is None  # and it was deleted


def test_sign_in_goes_back_to_the_page_asked_for_but_never_to_another_site(
    console: Console,
) -> None:
    with console.client() as browser:
        first = browser.http.get("/log?q=x")
        assert first.headers["location"] == "/login?next=/log%3Fq%3Dx"
        page = browser.http.get(first.headers["location"])
        assert 'name="next" value="/log?q=x"' in page.text
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        for target, lands in (("/log?q=x", "/log?q=x"), ("//evil.example/", "/")):
            browser.http.cookies.clear()
            browser.http.cookies.set("ledgerlink_login", token)
            answer = browser.http.post(
                "/login",
                data={"name": "admin", "password": PASSWORD, "csrf_token": token, "next": target},
            )
            assert answer.headers["location"] == lands


def test_users_commands(database: Database, tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["--data-dir", str(tmp_path), "--database-url", database.url]

    def run(*args: str, given: str | None = None) -> tuple[int, str]:
        result = runner.invoke(cli_app, [*base, "users", *args], input=given)
        return result.exit_code, result.stdout + result.stderr

    assert run("add", "Anna", "--role", "finance", "--password-stdin", given=PASSWORD + "\n") == (
        0,
        "user 'anna' added as finance\n",
    )
    code, out = run("add", "anna", "--role", "admin", "--password-stdin", given=PASSWORD + "\n")
    assert code == 1
    assert "already a user 'anna'" in out
    code, out = run("add", "bo", "--role", "viewer", given="short\nshort\n")
    assert code == 1
    assert "too short" in out
    code, out = run("add", "bo", "--role", "viewer", given=f"{PASSWORD}\n{PASSWORD}!\n")
    assert code == 1
    assert "differ" in out
    code, _ = run("add", "bo", "--role", "viewer", given=f"{PASSWORD}\n{PASSWORD}\n")
    assert code == 0
    assert run("set-role", "bo", "--role", "admin")[0] == 0
    assert run("disable", "anna")[0] == 0
    code, out = run("list", "--json")
    assert code == 0
    import json

    listed = {u["name"]: (u["role"], u["active"]) for u in json.loads(out)}
    assert listed == {"anna": ("finance", False), "bo": ("admin", True)}
    assert PASSWORD not in out
    assert "argon2" not in out
    code, out = run("set-role", "nobody", "--role", "admin")
    assert code == 1
    assert "no user 'nobody'" in out
    factory = lambda: UnitOfWork(database)  # noqa: E731
    with pytest.raises(users.SignInRefused):
        users.sign_in(factory, users.Passwords(), "anna", PASSWORD)
    assert users.sign_in(factory, users.Passwords(), "bo", PASSWORD).principal.user.role is (
        Role.ADMIN
    )


def test_a_user_name_is_letters_digits_and_a_few_signs() -> None:
    from ledgerlink.domain.users import user_name

    assert user_name(" Anna.Holm@acme ") == "anna.holm@acme"
    for bad in ("", "-x", "a b", "x" * 65, "<script>"):
        with pytest.raises(ValidationError):
            user_name(bad)
