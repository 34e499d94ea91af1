"""The kit's paging styles: numbered pages (skip-pages, page/limit), OData server-driven pages
(v4 ``@odata.nextLink``, v2 ``__next``) and cursor pages."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qs, urlsplit

import pytest

from ledgerlink.emulators._kit.paging import (
    CursorPaging,
    ODataPaging,
    PageLimit,
    PageNumbers,
    PageWindow,
    PagingError,
)

SKIP_PAGES = PageNumbers(
    page_param="skippages", size_param="pagesize", default_size=20, max_size=1000
)
ITEMS = list(range(1, 46))


def test_numbered_pages_from_zero() -> None:
    window = SKIP_PAGES.read({"skippages": "2", "pagesize": "20"})
    assert window == PageWindow(2, 20)
    assert list(window.slice(ITEMS)) == list(range(41, 46))
    assert (window.page_count(45), window.last_page(45), window.has_next(45)) == (3, 2, False)
    assert SKIP_PAGES.read({}) == PageWindow(0, 20)
    assert PageWindow(0, 20).last_page(0) == 0
    assert list(PageWindow(0, 20).slice([])) == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"pagesize": "x"}, "skippages and pagesize must be integers"),
        ({"skippages": "-1"}, "skippages must be 0 or greater"),
        ({"pagesize": "1001"}, "pagesize must be between 1 and 1000"),
        ({"pagesize": "0"}, "pagesize must be between 1 and 1000"),
    ],
)
def test_numbered_pages_refuse_bad_parameters_by_their_names(
    query: dict[str, str], message: str
) -> None:
    with pytest.raises(PagingError, match=f"^{message}$"):
        SKIP_PAGES.read(query)


def test_parameter_names_can_be_case_insensitive() -> None:
    style = PageNumbers(
        page_param="page", size_param="pageSize", default_size=100, max_size=1000,
        case_insensitive=True,
    )  # fmt: skip
    assert style.read({"PAGE": "1", "pagesize": "5"}) == PageWindow(1, 5)
    with pytest.raises(PagingError):
        SKIP_PAGES.read({"SkipPages": "1", "pagesize": "0"})
    assert SKIP_PAGES.read({"SkipPages": "1"}) == PageWindow(0, 20)


def test_page_limit_counts_from_one_and_answers_meta_information() -> None:
    style = PageLimit()
    first = style.read({})
    assert first == PageWindow(1, 100, first_page=1)
    window = style.read({"page": "2", "limit": "20"})
    assert list(window.slice(ITEMS)) == list(range(21, 41))
    assert style.meta_information(window, len(ITEMS)) == {
        "@TotalResources": 45,
        "@TotalPages": 3,
        "@CurrentPage": 2,
    }
    shifted = style.read({"page": "1", "limit": "20", "offset": "30"})
    assert list(shifted.slice(ITEMS)) == list(range(31, 46))
    assert style.meta_information(shifted, 45)["@TotalPages"] == 1
    assert style.meta_information(first, 0) == {
        "@TotalResources": 0,
        "@TotalPages": 1,
        "@CurrentPage": 1,
    }
    for query, message in (
        ({"page": "0"}, "page must be 1 or greater"),
        ({"limit": "501"}, "limit must be between 1 and 500"),
        ({"offset": "-1"}, "offset must be 0 or greater"),
        ({"offset": "x"}, "offset must be an integer"),
    ):
        with pytest.raises(PagingError, match=f"^{message}$"):
            style.read(query)


ROWS = [{"No": f"C{n:03d}"} for n in range(1, 8)]
URL = "http://erp/ODataV4/Company('A')/Customers"


def key(row: dict[str, str]) -> str:
    return "'" + row["No"] + "'"


def after(rows: Sequence[dict[str, str]], token: str) -> list[dict[str, str]]:
    return [row for row in rows if key(row) > token]


def follow(paging: ODataPaging, query: dict[str, str], prefer: str | None = None) -> list[str]:
    """Every key a client gets by following the next links from ``query``."""
    seen: list[str] = []
    while True:
        page = paging.page(ROWS, query, url=URL, key=key, after=after, prefer=prefer)
        seen += [row["No"] for row in page.items]
        if page.next_link is None:
            return seen
        parts = urlsplit(page.next_link)
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == URL
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}


def test_odata_v4_server_pages_follow_next_links_with_a_skiptoken() -> None:
    paging = ODataPaging(max_page_size=3)
    page = paging.page(ROWS, {"$filter": "x eq 1"}, url=URL, key=key, after=after)
    assert [row["No"] for row in page.items] == ["C001", "C002", "C003"]
    assert page.next_link == f"{URL}?%24filter=x%20eq%201&%24skiptoken=%27C003%27"
    assert page.headers == {}
    assert page.envelope([1, 2, 3], {"@odata.context": "ctx"}) == {
        "@odata.context": "ctx",
        "value": [1, 2, 3],
        "@odata.nextLink": page.next_link,
    }
    assert follow(paging, {}) == [row["No"] for row in ROWS]


def test_odata_skip_top_and_a_preferred_page_size() -> None:
    paging = ODataPaging(max_page_size=3)
    assert follow(paging, {"$skip": "1", "$top": "5"}) == ["C002", "C003", "C004", "C005", "C006"]
    first = paging.page(ROWS, {"$top": "5"}, url=URL, key=key, after=after)
    assert first.next_link is not None and "%24top=2" in first.next_link
    small = paging.page(ROWS, {}, url=URL, key=key, after=after, prefer="odata.maxpagesize=2")
    assert len(small.items) == 2
    assert small.headers == {"Preference-Applied": "odata.maxpagesize=2"}
    big = paging.page(ROWS, {}, url=URL, key=key, after=after, prefer="odata.maxpagesize=50")
    assert big.headers == {"Preference-Applied": "odata.maxpagesize=3"}
    assert follow(paging, {}, prefer="odata.maxpagesize=2") == [row["No"] for row in ROWS]
    last = paging.page(ROWS, {"$skip": "6"}, url=URL, key=key, after=after)
    assert (len(last.items), last.next_link) == (1, None)
    assert "@odata.nextLink" not in last.envelope([])
    for name in ("$skip", "$top"):
        with pytest.raises(PagingError, match=rf"^Invalid value '-1' for \{name} query option$"):
            paging.page(ROWS, {name: "-1"}, url=URL, key=key, after=after)


def test_odata_v2_puts_results_and_next_under_d_and_ignores_prefer() -> None:
    paging = ODataPaging(max_page_size=5, version=2)
    page = paging.page(ROWS, {}, url=URL, key=key, after=after, prefer="odata.maxpagesize=2")
    assert len(page.items) == 5
    assert page.headers == {}
    assert page.envelope(["a"]) == {"d": {"results": ["a"], "__next": page.next_link}}
    assert follow(paging, {}) == [row["No"] for row in ROWS]
    rest = paging.page(ROWS, {"$skiptoken": "'C005'"}, url=URL, key=key, after=after)
    assert rest.envelope(["b"]) == {"d": {"results": ["b"]}}


def test_odata_next_links_leave_the_safe_characters_as_they_are() -> None:
    query = {"$select": "No"}
    quoted = ODataPaging(max_page_size=5, version=2).page(
        ROWS, query, url=URL, key=key, after=after
    )
    assert quoted.next_link == f"{URL}?%24select=No&%24skiptoken=%27C005%27"
    plain = ODataPaging(max_page_size=5, version=2, safe="$'")
    page = plain.page(ROWS, query, url=URL, key=key, after=after)
    assert page.next_link == f"{URL}?$select=No&$skiptoken='C005'"


RECORDS = [{"number": n} for n in (5, 1, 9, 3, 7, 2)]


def number(record: dict[str, int]) -> int:
    return record["number"]


def digits(cursor: str) -> int | None:
    return int(cursor) if cursor.isdigit() else None


def test_cursor_pages_name_the_next_pages_first_item() -> None:
    paging = CursorPaging(default_size=4)
    first = paging.page(RECORDS, {}, key=number, parse=digits)
    assert ([r["number"] for r in first.items], first.cursor) == ([1, 2, 3, 5], "7")
    second = paging.page(RECORDS, {"cursor": "7"}, key=number, parse=digits)
    assert ([r["number"] for r in second.items], second.cursor) == ([7, 9], None)
    ignored = paging.page(RECORDS, {"cursor": "abc"}, key=number, parse=digits)
    assert ignored.items == first.items


def test_cursor_pages_after_the_last_item_with_a_size_parameter() -> None:
    paging = CursorPaging(
        cursor_param="after", size_param="limit", default_size=2, max_size=3, cursor_is_next=False
    )
    first = paging.page(RECORDS, {}, key=number, parse=digits)
    assert ([r["number"] for r in first.items], first.cursor) == ([1, 2], "2")
    second = paging.page(RECORDS, {"after": "2", "limit": "3"}, key=number, parse=digits)
    assert ([r["number"] for r in second.items], second.cursor) == ([3, 5, 7], "7")
    last = paging.page(RECORDS, {"after": "7", "limit": "3"}, key=number, parse=digits)
    assert ([r["number"] for r in last.items], last.cursor) == ([9], None)
    with pytest.raises(PagingError, match=r"^limit must be between 1 and 3$"):
        paging.page(RECORDS, {"limit": "4"}, key=number, parse=digits)
    with pytest.raises(PagingError, match=r"^limit must be an integer$"):
        paging.page(RECORDS, {"limit": "many"}, key=number, parse=digits)
