"""Paginators as small strategy objects (Singer SDK style).

A paginator knows how to ask for the first page, how to find the next request in a page, and
where a page keeps its items. It fetches nothing itself: it iterates pages through the
``fetch`` function it is given, so it is tested with fake page functions and reused by any
connector whose API pages the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Page = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class PageRequest:
    """What to fetch: either ``url`` (a full next link) or the base request with ``params``."""

    params: tuple[tuple[str, str], ...] = ()
    url: str | None = None


Fetch = Callable[[PageRequest], Page]


class PaginationLoop(RuntimeError):
    """The API handed back a next-page request we already made."""


@dataclass(frozen=True, kw_only=True)
class _Paginator:
    items_key: str = "value"
    max_pages: int | None = None

    def first_request(self) -> PageRequest:
        raise NotImplementedError

    def next_request(self, page: Page, current: PageRequest) -> PageRequest | None:
        raise NotImplementedError

    def items_of(self, page: Page) -> Sequence[Any]:
        items = page.get(self.items_key, [])
        return items if isinstance(items, list) else []

    def pages(self, fetch: Fetch) -> Iterator[Page]:
        """Fetch pages until the API says there are no more (or ``max_pages`` is reached)."""
        request: PageRequest | None = self.first_request()
        seen: set[PageRequest] = set()
        count = 0
        while request is not None:
            if request in seen:
                raise PaginationLoop(f"the API repeated page request {request}")
            seen.add(request)
            page = fetch(request)
            yield page
            count += 1
            if self.max_pages is not None and count >= self.max_pages:
                return
            request = self.next_request(page, request)

    def items(self, fetch: Fetch) -> Iterator[Any]:
        """All items of all pages, in order."""
        for page in self.pages(fetch):
            yield from self.items_of(page)


@dataclass(frozen=True, kw_only=True)
class SkipPagesPaginator(_Paginator):
    """e-conomic legacy paging: ``skippages`` / ``pagesize``; the envelope's
    ``pagination.nextPage`` link is present while more pages exist."""

    items_key: str = "collection"
    page_size: int = 1000
    base_params: tuple[tuple[str, str], ...] = field(default=())

    def _request(self, skip: int) -> PageRequest:
        return PageRequest(
            params=(*self.base_params, ("skippages", str(skip)), ("pagesize", str(self.page_size)))
        )

    def first_request(self) -> PageRequest:
        return self._request(0)

    def next_request(self, page: Page, current: PageRequest) -> PageRequest | None:
        pagination = page.get("pagination")
        if not isinstance(pagination, Mapping) or not pagination.get("nextPage"):
            return None
        if not self.items_of(page):
            return None
        skip = int(dict(current.params).get("skippages", "0"))
        return self._request(skip + 1)


@dataclass(frozen=True, kw_only=True)
class PageNumberPaginator(_Paginator):
    """Numbered pages from 1 with a page size (Fortnox ``page`` / ``limit``). ``total_pages``
    reads how many pages the envelope says there are; where it says nothing, paging goes on
    while pages come back full."""

    page_size: int
    page_param: str = "page"
    size_param: str = "limit"
    base_params: tuple[tuple[str, str], ...] = field(default=())
    total_pages: Callable[[Page], int | None] | None = None

    def _request(self, page: int) -> PageRequest:
        return PageRequest(
            params=(
                *self.base_params,
                (self.page_param, str(page)),
                (self.size_param, str(self.page_size)),
            )
        )

    def first_request(self) -> PageRequest:
        return self._request(1)

    def next_request(self, page: Page, current: PageRequest) -> PageRequest | None:
        items = self.items_of(page)
        if not items:
            return None
        number = int(dict(current.params)[self.page_param])
        total = self.total_pages(page) if self.total_pages is not None else None
        if total is not None:
            return self._request(number + 1) if number < total else None
        return self._request(number + 1) if len(items) >= self.page_size else None


@dataclass(frozen=True, kw_only=True)
class NextLinkPaginator(_Paginator):
    """Follows a full next-page URL found under ``next_key`` (``@odata.nextLink``, ``next``)."""

    next_key: str = "@odata.nextLink"
    base_params: tuple[tuple[str, str], ...] = field(default=())

    def first_request(self) -> PageRequest:
        return PageRequest(params=self.base_params)

    def next_request(self, page: Page, current: PageRequest) -> PageRequest | None:
        link = page.get(self.next_key)
        return PageRequest(url=link) if isinstance(link, str) and link else None


@dataclass(frozen=True, kw_only=True)
class CursorPaginator(_Paginator):
    """Cursor paging: the page names the next cursor under ``cursor_key``; it is sent back as
    ``cursor_param``; no cursor (or an empty page) ends the iteration."""

    cursor_key: str = "cursor"
    cursor_param: str = "cursor"
    start: str | None = None
    base_params: tuple[tuple[str, str], ...] = field(default=())

    def _request(self, cursor: str | None) -> PageRequest:
        extra = ((self.cursor_param, cursor),) if cursor else ()
        return PageRequest(params=(*self.base_params, *extra))

    def first_request(self) -> PageRequest:
        return self._request(self.start)

    def next_request(self, page: Page, current: PageRequest) -> PageRequest | None:
        cursor = page.get(self.cursor_key)
        if cursor is None or cursor == "" or not self.items_of(page):
            return None
        return self._request(str(cursor))
