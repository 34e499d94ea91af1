"""The users page (issue 14 item 1): an admin lists the users, adds one (the password typed
twice), changes a role, disables and enables; never their own; no hash is ever shown."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from ledgerlink.domain.users import Role
from ledgerlink.store.database import Database
from ledgerlink.store.uow import UnitOfWork
from ledgerlink.web.users import list_users
from tests.web.support import PASSWORD, Console, build_console

NEW_PASSWORD = "a much longer passphrase"


@pytest.fixture
def console(database: Database, tmp_path: Path) -> Console:
    return build_console(database, tmp_path)


def _users(console: Console) -> dict[str, tuple[str, bool]]:
    return {
        u.name: (u.role.value, u.active) for u in list_users(lambda: UnitOfWork(console.database))
    }


def test_the_admin_sees_every_user_with_role_and_state_and_no_hash(console: Console) -> None:
    with console.client(Role.ADMIN) as browser:
        page = browser.http.get("/users")
    assert page.status_code == 200
    for role in Role:
        assert f"<td>{role.value}" in page.text
    assert "(you)" in page.text
    assert "$argon2" not in page.text
    assert PASSWORD not in page.text
    assert 'href="/users"' in page.text  # the admin's navigation has the page


def test_an_added_user_signs_in_with_the_password_typed_twice(console: Console) -> None:
    with console.client(Role.ADMIN) as browser:
        added = browser.post(
            "/users",
            {
                "name": "Karin",
                "role": "finance",
                "password": NEW_PASSWORD,
                "password_again": NEW_PASSWORD,
            },
        )
        assert added.status_code == 303
        page = browser.http.get(added.headers["location"])
        assert "user karin added (finance)" in page.text
        assert NEW_PASSWORD not in page.text
    assert _users(console)["karin"] == ("finance", True)
    with console.client() as browser:
        assert browser.sign_in("karin", NEW_PASSWORD).status_code == 303  # type: ignore[attr-defined]


#: Forms that add nobody, and what the page says about each.
REFUSED = (
    ({"password_again": "another passphrase!"}, "the two passwords differ"),
    ({"password": "short", "password_again": "short"}, "too short"),
    ({"role": "owner"}, "is not a role"),
    ({"name": "admin"}, "already a user"),
    ({"name": "no spaces please"}, "is not a user name"),
)


def test_a_user_that_cannot_be_added_is_not_added_and_the_page_says_why(
    console: Console,
) -> None:
    before = _users(console)
    with console.client(Role.ADMIN) as browser:
        for form, says in REFUSED:
            answer = browser.post(
                "/users",
                {
                    "name": "olle",
                    "role": "viewer",
                    "password": NEW_PASSWORD,
                    "password_again": NEW_PASSWORD,
                    **form,
                },
            )
            assert answer.status_code in (400, 409), form
            assert says in answer.text
    assert _users(console) == before


def test_a_changed_role_counts_at_once(console: Console) -> None:
    with console.client(Role.VIEWER) as viewer:
        assert viewer.post("/transfers/ignore", {}).status_code == 403
        with console.client(Role.ADMIN) as admin:
            changed = admin.post("/users/viewer/role", {"role": "finance"})
            assert changed.status_code == 303
        assert _users(console)["viewer"] == ("finance", True)
        # The same session may now do what finance does (the form is empty: 400, not 403).
        assert viewer.post("/transfers/ignore", {}).status_code == 400


def test_a_disabled_user_is_signed_out_and_cannot_sign_in_until_enabled(
    console: Console,
) -> None:
    with console.client(Role.FINANCE) as finance:
        with console.client(Role.ADMIN) as admin:
            assert admin.post("/users/finance/disable").status_code == 303
            assert _users(console)["finance"] == ("finance", False)
            assert finance.http.get("/transfers").status_code == 303  # to the sign-in page
            with console.client() as again:
                assert again.sign_in("finance", PASSWORD).status_code == 401  # type: ignore[attr-defined]
            page = admin.http.get("/users")
            assert "disabled" in page.text
            assert admin.post("/users/finance/enable").status_code == 303
        with console.client() as again:
            assert again.sign_in("finance", PASSWORD).status_code == 303  # type: ignore[attr-defined]


def test_an_admin_cannot_lock_themselves_out_and_an_unknown_user_is_not_found(
    console: Console,
) -> None:
    with console.client(Role.ADMIN) as browser:
        for path, form in (("/users/admin/disable", {}), ("/users/ADMIN/role", {"role": "viewer"})):
            answer = browser.post(path, form)
            assert answer.status_code == 400, path
            assert "signed in as" in answer.text
        assert browser.post("/users/nobody/enable").status_code == 404
    assert _users(console)["admin"] == ("admin", True)


# language and time zone (issue 14 item 9) ------------------------------------------------------


def _formats(console: Console, name: str) -> tuple[str | None, str | None]:
    (user,) = [u for u in list_users(lambda: UnitOfWork(console.database)) if u.name == name]
    return user.locale, user.time_zone


def test_the_admin_sets_a_user_s_language_and_time_zone_and_their_pages_follow(
    console: Console,
) -> None:
    with console.client(Role.ADMIN) as admin:
        page = admin.http.get("/users")
        assert 'aria-label="Language of finance"' in page.text
        assert '<datalist id="time-zones">' in page.text and '"Europe/Copenhagen"' in page.text
        answer = admin.post(
            "/users/formats",
            {"name": "Finance", "locale": "da", "time_zone": "Europe/Copenhagen"},
        )
        assert answer.status_code == 303
        page = admin.http.get(answer.headers["location"])
        assert "finance reads the console in Dansk, times in Europe/Copenhagen" in page.text
        assert '<option value="da" selected>Dansk</option>' in page.text
        assert 'value="Europe/Copenhagen"' in page.text
    assert _formats(console, "finance") == ("da", "Europe/Copenhagen")
    with console.client(Role.FINANCE) as finance:
        mine = finance.http.get("/users/me", headers={"Accept-Language": "en"})
    assert "1.234,50\xa0kr." in mine.text
    assert re.search(r"\d\d\.\d\d\.\d{4} \d\d[.:]\d\d[.:]\d\d CES?T", mine.text), mine.text


def test_every_user_sets_their_own_from_the_page_header(console: Console) -> None:
    with console.client(Role.VIEWER) as viewer:
        home = viewer.http.get("/")
        assert 'href="/users/me"' in home.text  # the user name in the header
        assert viewer.http.get("/users").status_code == 403  # the users page stays the admin's
        answer = viewer.post("/users/me", {"locale": "sv", "time_zone": "Europe/Stockholm"})
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/users/me?")
        page = viewer.http.get(answer.headers["location"])
        assert "Your pages now read in Svenska, times in Europe/Stockholm" in page.text
        assert "1\xa0234,50\xa0DKK" in page.text  # Swedish numbers; crowns named by their code
        assert _formats(console, "viewer") == ("sv", "Europe/Stockholm")
        # A field left out stays as it is; an empty one is the default again.
        assert viewer.post("/users/me", {"time_zone": ""}).status_code == 303
        assert _formats(console, "viewer") == ("sv", None)
        assert viewer.post("/users/me", {"locale": ""}).status_code == 303
        page = viewer.http.get("/users/me", headers={"Accept-Language": "nl"})
        assert "€\xa0" not in page.text and "DKK\xa0" in page.text  # the browser's: Dutch
    assert _formats(console, "viewer") == (None, None)


def test_a_bad_time_zone_or_language_is_one_line_and_changes_nothing(console: Console) -> None:
    with console.client(Role.ADMIN) as admin:
        for path, form, says in (
            ("/users/me", {"time_zone": "Mars/Olympus_Mons"}, "is not a time zone: use an IANA"),
            ("/users/formats", {"name": "viewer", "time_zone": "CEST"}, "is not a time zone"),
            ("/users/formats", {"name": "viewer", "locale": "de"}, "use one of da, sv, nl, en"),
            ("/users/formats", {"name": "nobody", "locale": "da"}, "there is no user 'nobody'"),
        ):
            answer = admin.post(path, form)
            assert answer.status_code in (400, 404), form
            (alert,) = re.findall(r'<p class="notice bad" role="alert">([^<]*)</p>', answer.text)
            assert says in html.unescape(alert) and "\n" not in alert.strip(), alert
    assert _formats(console, "admin") == (None, None)
    assert _formats(console, "viewer") == (None, None)


def test_formats_change_only_with_the_session_s_csrf_token_and_only_an_admin_sets_another_s(
    console: Console,
) -> None:
    with console.client(Role.FINANCE) as finance:
        forged = finance.http.post("/users/me", data={"locale": "nl"})
        assert forged.status_code == 403
        others = finance.post("/users/formats", {"name": "viewer", "locale": "nl"})
        assert others.status_code == 403
    assert _formats(console, "finance") == (None, None)
    assert _formats(console, "viewer") == (None, None)
