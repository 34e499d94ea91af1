"""e-conomic's paging: ``?skippages=&pagesize=`` (the kit's numbered pages, first page 0) and
the legacy REST API's collection envelope ``{"collection", "metaData", "pagination", "self"}``;
the newer OpenAPI APIs' ``{"items", "cursor"}`` (the kit's cursor pages)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ledgerlink.emulators._kit.paging import CursorPaging, PageNumbers, PageWindow, PagingError

__all__ = ["CURSOR_PAGES", "SKIP_PAGES", "PageRequest", "PagingError", "envelope"]

SKIP_PAGES = PageNumbers(
    page_param="skippages",
    size_param="pagesize",
    first_page=0,
    default_size=20,
    max_size=1000,
    case_insensitive=True,
)
CURSOR_PAGES = CursorPaging(cursor_param="cursor", default_size=1000)
"""v20 APIs: at most 1000 items a set; the cursor is the id of the next set's first item."""


@dataclass(frozen=True)
class PageRequest:
    """Which page of a collection to return."""

    skip_pages: int = 0
    page_size: int = 20
    max_page_size: int = 1000

    @classmethod
    def from_query(
        cls, query: Mapping[str, str], *, default_size: int = 20, max_size: int = 1000
    ) -> PageRequest:
        """Read ``skippages`` and ``pagesize`` (case-insensitive names) from a query string."""
        style = replace(SKIP_PAGES, default_size=default_size, max_size=max_size)
        window = style.read(query)
        return cls(window.number, window.size, max_size)

    @property
    def window(self) -> PageWindow:
        """The kit's window of this page."""
        return PageWindow(self.skip_pages, self.page_size)

    def last_page(self, results: int) -> int:
        """The ``skippages`` of the last page, as the docs show it: ``results // pageSize``.
        Their example, "a resource with 40 entries", has its last page at ``skippages=2``
        (introduction.md, Pagination): with a multiple of the page size the last page is an
        empty one past the end, and ``nextPage`` leads to it."""
        return results // self.page_size

    def slice(self, items: Sequence[Any]) -> Sequence[Any]:
        """The items on this page."""
        return self.window.slice(items)


def envelope(
    items: Sequence[Any],
    page: PageRequest,
    *,
    results_without_filter: int,
    link: Callable[[int | None], str],
    meta_data: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``{"collection", "pagination", "metaData", "self"}`` document for one page.

    ``items`` is the whole filtered and sorted collection; ``link(n)`` returns the URL of page
    ``n`` (``link(None)`` the URL of the request itself).
    """
    results = len(items)
    last = page.last_page(results)
    pagination: dict[str, Any] = {
        "skipPages": page.skip_pages,
        "pageSize": page.page_size,
        "maxPageSizeAllowed": page.max_page_size,
        "results": results,
        "resultsWithoutFilter": results_without_filter,
        "firstPage": link(0),
    }
    if page.skip_pages > 0:
        pagination["previousPage"] = link(min(page.skip_pages - 1, last))
    if page.skip_pages < last:
        pagination["nextPage"] = link(page.skip_pages + 1)
    pagination["lastPage"] = link(last)
    return {
        "collection": list(page.slice(items)),
        "metaData": dict(meta_data or {}),
        "pagination": pagination,
        "self": link(None),
    }
