"""Paging styles: small strategy objects that read an ERP's paging parameters from a query,
cut one page out of a (filtered, sorted) collection and say how a client continues.

* :class:`PageNumbers` — numbered pages of a chosen size: e-conomic ``?skippages=&pagesize=``
  (first page 0), Dinero ``?page=&pageSize=`` (0), Björn Lundén ``?page=&rows=``;
  :class:`PageLimit` is Fortnox's ``?page=&limit=&offset=`` (first page 1) with its
  ``MetaInformation``.
* :class:`ODataPaging` — ``$skip``/``$top`` with server-driven pages continued by a link that
  carries a ``$skiptoken`` (the last item's key): ``@odata.nextLink`` in OData v4 (NAV,
  Business Central), ``d.__next`` in OData v2's verbose JSON (Exact Online).
* :class:`CursorPaging` — keyset pages: the items in key order, a cursor naming where the next
  page starts (or the last item sent).

What a page is wrapped in is the ERP's own envelope, rendered by its package (a v4/v2 OData
envelope is common to every OData service and is here). A strategy refuses bad parameters with
:class:`PagingError`, whose text the ERP package puts in its error envelope.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import quote, urlencode

__all__ = [
    "CursorPage",
    "CursorPaging",
    "ODataPage",
    "ODataPaging",
    "PageLimit",
    "PageNumbers",
    "PageWindow",
    "PagingError",
]


T = TypeVar("T")


class PagingError(ValueError):
    """The paging parameters are not valid (the message names them as the ERP spells them)."""


def _integer(value: str, message: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise PagingError(message) from None


@dataclass(frozen=True)
class PageWindow:
    """One numbered page: ``number`` as the ERP counts (its first page is ``first_page``),
    ``size`` items a page, after skipping ``offset`` items."""

    number: int
    size: int
    first_page: int = 0
    offset: int = 0

    def page_count(self, total: int) -> int:
        """How many pages ``total`` items make (an empty collection has one, empty, page)."""
        return max(1, math.ceil(max(0, total - self.offset) / self.size))

    def last_page(self, total: int) -> int:
        """The number of the last page."""
        return self.first_page + self.page_count(total) - 1

    def has_next(self, total: int) -> bool:
        """Whether a page follows this one."""
        return self.number < self.last_page(total)

    def slice(self, items: Sequence[Any]) -> Sequence[Any]:
        """The items on this page."""
        start = self.offset + (self.number - self.first_page) * self.size
        return items[start : start + self.size]


@dataclass(frozen=True, kw_only=True)
class PageNumbers:
    """Numbered pages: ``page_param`` (first page ``first_page``), ``size_param`` (1 to
    ``max_size``, default ``default_size``) and, when the ERP has one, ``offset_param``."""

    page_param: str
    size_param: str
    first_page: int = 0
    default_size: int
    max_size: int
    offset_param: str | None = None
    case_insensitive: bool = False

    def read(self, query: Mapping[str, str]) -> PageWindow:
        """The requested window; :class:`PagingError` when a parameter is not valid."""
        if self.case_insensitive:
            query = {key.lower(): value for key, value in query.items()}
            names = (self.page_param.lower(), self.size_param.lower())
        else:
            names = (self.page_param, self.size_param)
        both = f"{self.page_param} and {self.size_param} must be integers"
        number = _integer(query.get(names[0], str(self.first_page)), both)
        size = _integer(query.get(names[1], str(self.default_size)), both)
        if number < self.first_page:
            raise PagingError(f"{self.page_param} must be {self.first_page} or greater")
        if not 1 <= size <= self.max_size:
            raise PagingError(f"{self.size_param} must be between 1 and {self.max_size}")
        offset = 0
        if self.offset_param is not None:
            name = self.offset_param.lower() if self.case_insensitive else self.offset_param
            offset = _integer(query.get(name, "0"), f"{self.offset_param} must be an integer")
            if offset < 0:
                raise PagingError(f"{self.offset_param} must be 0 or greater")
        return PageWindow(number, size, self.first_page, offset)


@dataclass(frozen=True, kw_only=True)
class PageLimit(PageNumbers):
    """Fortnox's ``?page=`` (from 1), ``?limit=`` (default 100, at most 500) and ``?offset=``,
    answered with ``MetaInformation`` beside the list."""

    page_param: str = "page"
    size_param: str = "limit"
    first_page: int = 1
    default_size: int = 100
    max_size: int = 500
    offset_param: str | None = "offset"

    @staticmethod
    def meta_information(window: PageWindow, total: int) -> dict[str, int]:
        """``{"@TotalResources", "@TotalPages", "@CurrentPage"}`` of ``window``."""
        return {
            "@TotalResources": total,
            "@TotalPages": window.page_count(total),
            "@CurrentPage": window.number,
        }


_PREFER = re.compile(r"odata\.maxpagesize\s*=\s*(\d+)")


@dataclass(frozen=True)
class ODataPage(Generic[T]):
    """One server-driven OData page: its items, the link to the rest (``None`` on the last
    page) and the ``Preference-Applied`` header value when the client's preference was used."""

    items: list[T]
    next_link: str | None
    preference_applied: str | None
    version: Literal[2, 4] = 4

    @property
    def headers(self) -> dict[str, str]:
        """The headers this page adds to the answer."""
        if self.preference_applied is None:
            return {}
        return {"Preference-Applied": self.preference_applied}

    def envelope(self, values: list[Any], head: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The collection document: v4 ``{**head, "value", "@odata.nextLink"}``, v2
        ``{"d": {**head, "results", "__next"}}`` (``values`` are the rendered items)."""
        body: dict[str, Any] = {
            **(head or {}),
            ("value" if self.version == 4 else "results"): values,
        }
        if self.next_link is not None:
            body["@odata.nextLink" if self.version == 4 else "__next"] = self.next_link
        return body if self.version == 4 else {"d": body}


@dataclass(frozen=True, kw_only=True)
class ODataPaging:
    """``$skip``/``$top`` and server-driven pages of at most ``max_page_size`` items; in v4 a
    client may ask for smaller pages with ``Prefer: odata.maxpagesize=n``.

    The next link repeats the query without ``$skip``, with what is left of ``$top`` and with
    ``$skiptoken`` = the key of the page's last item; the ERP says how a key is written
    (``key``) and which items follow one (``after``). ``safe`` are the characters the link
    leaves unencoded (Exact Online writes ``?$skiptoken=guid'…'`` as it is: ``"$'"``).
    """

    max_page_size: int
    version: Literal[2, 4] = 4
    safe: str = ""

    def page_size(self, prefer: str | None) -> tuple[int, bool]:
        """The page size and whether the client's ``Prefer`` chose it."""
        match = _PREFER.search(prefer or "") if self.version == 4 else None
        if match is None:
            return self.max_page_size, False
        return max(1, min(int(match.group(1)), self.max_page_size)), True

    def page(
        self,
        items: Sequence[T],
        query: Mapping[str, str],
        *,
        url: str,
        key: Callable[[T], str],
        after: Callable[[Sequence[T], str], Sequence[T]],
        prefer: str | None = None,
    ) -> ODataPage[T]:
        """The page of ``items`` the query asks for; ``url`` is the request URL without query."""
        token = query.get("$skiptoken")
        if token:
            items = after(items, token)
        skip = _option(query.get("$skip"), "$skip") or 0
        top = _option(query.get("$top"), "$top")
        items = items[skip:]
        if top is not None:
            items = items[:top]
        size, preferred = self.page_size(prefer)
        page, more = list(items[:size]), len(items) > size
        link = None
        if more:
            rest = {k: v for k, v in query.items() if k not in ("$skiptoken", "$skip", "$top")}
            if top is not None:
                rest["$top"] = str(top - len(page))
            rest["$skiptoken"] = key(page[-1])
            link = f"{url}?{urlencode(rest, safe=self.safe, quote_via=quote)}"
        applied = f"odata.maxpagesize={size}" if preferred else None
        return ODataPage(page, link, applied, self.version)


def _option(text: str | None, name: str) -> int | None:
    if text is None:
        return None
    if not text.isdigit():
        raise PagingError(f"Invalid value '{text}' for {name} query option")
    return int(text)


@dataclass(frozen=True)
class CursorPage(Generic[T]):
    """One keyset page and the cursor of the next (``None`` on the last page)."""

    items: list[T]
    cursor: str | None


@dataclass(frozen=True, kw_only=True)
class CursorPaging:
    """Keyset pages: ``cursor_param`` names where to continue; ``size_param`` (when the ERP
    has one) asks for 1 to ``max_size`` items, else every page has ``default_size``.

    ``cursor_is_next`` true: the cursor is the key of the first item of the next page (items
    from it on follow); false: the key of the last item sent (items after it follow).
    """

    cursor_param: str = "cursor"
    size_param: str | None = None
    default_size: int
    max_size: int | None = None
    cursor_is_next: bool = True

    def page(
        self,
        items: Iterable[T],
        query: Mapping[str, str],
        *,
        key: Callable[[T], Any],
        parse: Callable[[str], Any],
        show: Callable[[Any], str] = str,
    ) -> CursorPage[T]:
        """The page the query's cursor asks for; ``parse`` turns a cursor into a key (``None``:
        not a cursor of ours, read from the start), ``show`` a key into a cursor."""
        size = self.default_size
        if self.size_param is not None and self.size_param in query:
            limit = self.max_size or self.default_size
            size = _integer(query[self.size_param], f"{self.size_param} must be an integer")
            if not 1 <= size <= limit:
                raise PagingError(f"{self.size_param} must be between 1 and {limit}")
        ordered = sorted(items, key=key)
        raw = query.get(self.cursor_param)
        start = parse(raw) if raw else None
        if start is not None:
            if self.cursor_is_next:
                ordered = [item for item in ordered if key(item) >= start]
            else:
                ordered = [item for item in ordered if key(item) > start]
        page, rest = ordered[:size], ordered[size:]
        if not rest:
            return CursorPage(page, None)
        return CursorPage(page, show(key(rest[0] if self.cursor_is_next else page[-1])))
