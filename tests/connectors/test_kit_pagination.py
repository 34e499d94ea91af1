"""Paginators iterate pages through fake page functions (no HTTP)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from ledgerlink.connectors._kit.pagination import (
    CursorPaginator,
    NextLinkPaginator,
    PageNumberPaginator,
    PageRequest,
    PaginationLoop,
    SkipPagesPaginator,
)


def economic_pages(items: list[int], size: int) -> tuple[list[PageRequest], Any]:
    requests: list[PageRequest] = []

    def fetch(request: PageRequest) -> Mapping[str, Any]:
        requests.append(request)
        params = dict(request.params)
        skip, page_size = int(params["skippages"]), int(params["pagesize"])
        chunk = items[skip * page_size : (skip + 1) * page_size]
        more = (skip + 1) * page_size < len(items)
        pagination: dict[str, Any] = {"skipPages": skip, "pageSize": page_size}
        if more:
            pagination["nextPage"] = f"https://x/?skippages={skip + 1}&pagesize={page_size}"
        return {"collection": chunk, "pagination": pagination}

    return requests, fetch


def test_skip_pages_reads_all_pages_while_next_page_is_linked() -> None:
    requests, fetch = economic_pages(list(range(7)), 3)
    paginator = SkipPagesPaginator(page_size=3, base_params=(("filter", "x$eq:1"),))
    assert list(paginator.items(fetch)) == list(range(7))
    assert [dict(r.params)["skippages"] for r in requests] == ["0", "1", "2"]
    assert all(dict(r.params)["filter"] == "x$eq:1" for r in requests)


def test_skip_pages_stops_on_an_exact_multiple_without_an_extra_call() -> None:
    requests, fetch = economic_pages(list(range(6)), 3)
    assert list(SkipPagesPaginator(page_size=3).items(fetch)) == list(range(6))
    assert len(requests) == 2


def test_skip_pages_empty_collection() -> None:
    requests, fetch = economic_pages([], 3)
    assert list(SkipPagesPaginator(page_size=3).items(fetch)) == []
    assert len(requests) == 1


def test_max_pages_limits_the_read() -> None:
    requests, fetch = economic_pages(list(range(10)), 2)
    assert list(SkipPagesPaginator(page_size=2, max_pages=2).items(fetch)) == [0, 1, 2, 3]
    assert len(requests) == 2


def test_next_link_follows_full_urls() -> None:
    pages: dict[str | None, Mapping[str, Any]] = {
        None: {"value": [1, 2], "@odata.nextLink": "https://erp/items?$skiptoken=2"},
        "https://erp/items?$skiptoken=2": {"value": [3], "@odata.nextLink": "https://erp/i?t=3"},
        "https://erp/i?t=3": {"value": []},
    }
    seen: list[str | None] = []

    def fetch(request: PageRequest) -> Mapping[str, Any]:
        seen.append(request.url)
        return pages[request.url]

    assert list(NextLinkPaginator().items(fetch)) == [1, 2, 3]
    assert seen == [None, "https://erp/items?$skiptoken=2", "https://erp/i?t=3"]


def test_next_link_with_another_key() -> None:
    def fetch(request: PageRequest) -> Mapping[str, Any]:
        return {"data": ["a"], "next": None} if request.url else {"data": ["z"], "next": "u"}

    assert list(NextLinkPaginator(items_key="data", next_key="next").items(fetch)) == ["z", "a"]


def test_cursor_paginator_sends_the_cursor_back_until_none() -> None:
    data = {None: ([1, 2], "c1"), "c1": ([3, 4], "c2"), "c2": ([5], None)}

    def fetch(request: PageRequest) -> Mapping[str, Any]:
        cursor = dict(request.params).get("cursor")
        items, nxt = data[cursor]
        return {"items": items, "cursor": nxt}

    assert list(CursorPaginator(items_key="items").items(fetch)) == [1, 2, 3, 4, 5]


def test_cursor_paginator_can_resume_from_a_stored_cursor() -> None:
    def fetch(request: PageRequest) -> Mapping[str, Any]:
        assert dict(request.params)["cursor"] == "c7"
        return {"items": [8], "cursor": ""}

    assert list(CursorPaginator(items_key="items", start="c7").items(fetch)) == [8]


def test_a_repeated_request_is_a_loop_not_an_endless_read() -> None:
    def fetch(request: PageRequest) -> Mapping[str, Any]:
        return {"value": [1], "@odata.nextLink": "https://same"}

    with pytest.raises(PaginationLoop):
        list(NextLinkPaginator().items(fetch))


def test_page_number_paginator_follows_the_envelopes_page_count() -> None:
    data = list(range(5))

    def fetch(request: PageRequest) -> dict[str, Any]:
        params = dict(request.params)
        page, limit = int(params["page"]), int(params["limit"])
        return {
            "Meta": {"pages": -(-len(data) // limit)},
            "Items": data[(page - 1) * limit : page * limit],
        }

    counted = PageNumberPaginator(
        items_key="Items", page_size=2, total_pages=lambda page: page["Meta"]["pages"]
    )
    assert list(counted.items(fetch)) == data
    assert len(list(counted.pages(fetch))) == 3
    uncounted = PageNumberPaginator(items_key="Items", page_size=5)
    assert list(uncounted.items(fetch)) == data  # a full page asks once more, gets none
