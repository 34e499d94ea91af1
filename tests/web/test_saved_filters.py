"""Saved filters through the console (issue 14 item 3): any role keeps its own filters of the
transfer table and the log, saving a name again replaces it, delete, another user's filters
neither shown nor deletable, the CSRF token required, and a filter its page would refuse is
refused with one line saying why."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from ledgerlink.domain.users import Role
from ledgerlink.store.database import Database
from ledgerlink.store.uow import UnitOfWork
from tests.web.support import Console, build_console


@pytest.fixture
def console(database: Database, tmp_path: Path) -> Console:
    return build_console(database, tmp_path)


def _saved(page: str) -> dict[str, str]:
    """The saved filters' links on a page: name → href."""
    section = page.split('aria-label="Saved filters"', 1)[1].split("</section>", 1)[0]
    return {
        name: href.replace("&amp;", "&")
        for href, name in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', section)
    }


def _stored(console: Console, user: str) -> list[tuple[str, str, str]]:
    with UnitOfWork(console.database) as uow:
        found = uow.users.by_name(user)
        assert found is not None and found.id is not None
        return [
            (f.page, f.name, f.query)
            for page in ("transfers", "log")
            for f in uow.saved_filters.list(found.id, page)
        ]


def test_save_replace_and_delete_a_filter_of_the_transfer_table(console: Console) -> None:
    connection = console.connection_id
    with console.client(Role.VIEWER) as browser:
        page = browser.http.get(f"/transfers?connection={connection}&view=failed&q=svensson")
        assert "none yet" in page.text
        # The form carries the page's current filter.
        current = re.search(r'name="query" value="([^"]+)"', page.text)
        assert current
        query = current.group(1).replace("&amp;", "&")
        saved = browser.post(
            "/saved-filters", {"page": "transfers", "name": " Failed SEK ", "query": query}
        )
        assert saved.status_code == 303
        target = urlsplit(saved.headers["location"])
        assert target.path == "/transfers"
        assert parse_qs(target.query)["view"] == ["failed"]
        shown = browser.http.get(saved.headers["location"])
        assert "Filter &#39;Failed SEK&#39; saved" in shown.text
        link = _saved(shown.text)["Failed SEK"]
        assert parse_qs(urlsplit(link).query)["q"] == ["svensson"]
        assert browser.http.get(link).status_code == 200
        # Saving the name again replaces the filter.
        browser.post(
            "/saved-filters",
            {"page": "transfers", "name": "Failed SEK", "query": "view=ignored"},
        )
        assert _stored(console, "viewer") == [("transfers", "Failed SEK", "view=ignored")]
        links = _saved(browser.http.get("/transfers").text)
        assert list(links) == ["Failed SEK"]
        gone = browser.post("/saved-filters/delete", {"page": "transfers", "name": "Failed SEK"})
        assert gone.status_code == 303
        assert (
            "Filter &#39;Failed SEK&#39; deleted" in browser.http.get(gone.headers["location"]).text
        )
    assert _stored(console, "viewer") == []


def test_a_log_filter_is_kept_for_the_log_only(console: Console) -> None:
    with console.client(Role.FINANCE) as browser:
        saved = browser.post(
            "/saved-filters",
            {"page": "log", "name": "Red", "query": "status=failed&q=valuta&to=2026-09-30"},
        )
        assert saved.status_code == 303
        assert urlsplit(saved.headers["location"]).path == "/log"
        log = browser.http.get("/log")
        assert parse_qs(urlsplit(_saved(log.text)["Red"]).query) == {
            "to": ["2026-09-30"],
            "q": ["valuta"],
            "status": ["failed"],
        }
        assert _saved(browser.http.get("/transfers").text) == {}


def test_one_users_filters_are_not_anothers(console: Console) -> None:
    with console.client(Role.FINANCE) as finance, console.client(Role.ADMIN) as admin:
        finance.post("/saved-filters", {"page": "transfers", "name": "Mine", "query": "q=x"})
        assert "Mine" not in _saved(admin.http.get("/transfers").text)
        refused = admin.post("/saved-filters/delete", {"page": "transfers", "name": "Mine"})
        assert refused.status_code == 404
        assert "you have no saved filter &#39;Mine&#39;" in refused.text
        # The admin's own filter of the same name is the admin's.
        admin.post("/saved-filters", {"page": "transfers", "name": "Mine", "query": "q=y"})
        assert _saved(finance.http.get("/transfers").text)["Mine"].endswith("q=x")
    assert _stored(console, "finance") == [("transfers", "Mine", "view=non_transferred&q=x")]
    assert _stored(console, "admin") == [("transfers", "Mine", "view=non_transferred&q=y")]


def test_saving_and_deleting_need_the_csrf_token(console: Console) -> None:
    form = {"page": "transfers", "name": "Mine", "query": "q=x"}
    with console.client(Role.VIEWER) as browser:
        assert browser.http.post("/saved-filters", data=form).status_code == 403
        browser.post("/saved-filters", form)
        wrong = browser.http.post("/saved-filters/delete", data={**form, "csrf_token": "x" * 43})
        assert wrong.status_code == 403
        assert "did not come from this console" in wrong.text
    assert _stored(console, "viewer") == [("transfers", "Mine", "view=non_transferred&q=x")]


@pytest.mark.parametrize(
    ("form", "says"),
    [
        ({"page": "transfers", "name": "", "query": "q=x"}, "name the filter with 1 to 80"),
        ({"page": "transfers", "name": "n" * 81, "query": "q=x"}, "name the filter with 1 to 80"),
        (
            {"page": "dashboard", "name": "n", "query": "q=x"},
            "there is no page &#39;dashboard&#39;",
        ),
        (
            {"page": "transfers", "name": "n", "query": "view=everything"},
            "this filter cannot be saved: there is no view &#39;everything&#39;",
        ),
        (
            {"page": "transfers", "name": "n", "query": "from=yesterday"},
            "this filter cannot be saved: &#39;Posted from&#39; must be a date",
        ),
        (
            {"page": "log", "name": "n", "query": "from=2026-09-02&to=2026-09-01"},
            "this filter cannot be saved: the period ends (2026-09-01) before it starts",
        ),
        ({"page": "log", "name": "n", "query": "status=lost"}, "there is no status"),
        ({"page": "log", "name": "n", "query": "q=" + "x" * 2000}, "longer than 2000 characters"),
    ],
    ids=["empty-name", "long-name", "page", "view", "date", "period", "status", "long-query"],
)
def test_a_filter_its_page_would_refuse_is_refused_in_one_line(
    console: Console, form: dict[str, str], says: str
) -> None:
    with console.client(Role.VIEWER) as browser:
        refused = browser.post("/saved-filters", form)
    assert refused.status_code == 400
    message = re.search(r'class="notice bad" role="alert">(.*?)</p>', refused.text, re.DOTALL)
    assert message, refused.text
    assert says in message.group(1)
    assert "\n" not in message.group(1)
    assert _stored(console, "viewer") == []
