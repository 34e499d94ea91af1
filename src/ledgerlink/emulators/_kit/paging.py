"""Page requests and the collection envelope of the e-conomic legacy REST API."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["PageRequest", "PagingError", "envelope"]


class PagingError(ValueError):
    """``skippages``/``pagesize`` are not valid."""


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
        lowered = {key.lower(): value for key, value in query.items()}
        try:
            skip = int(lowered.get("skippages", "0"))
            size = int(lowered.get("pagesize", str(default_size)))
        except ValueError:
            raise PagingError("skippages and pagesize must be integers") from None
        if skip < 0:
            raise PagingError("skippages must be 0 or greater")
        if not 1 <= size <= max_size:
            raise PagingError(f"pagesize must be between 1 and {max_size}")
        return cls(skip, size, max_size)

    def last_page(self, results: int) -> int:
        """The index of the last page (0 when the collection is empty)."""
        return max(0, (results - 1) // self.page_size)

    def slice(self, items: Sequence[Any]) -> Sequence[Any]:
        """The items on this page."""
        start = self.skip_pages * self.page_size
        return items[start : start + self.page_size]


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
