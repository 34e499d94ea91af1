"""Pages of the API's lists that grow (the transfer table, the integration log).

Every such list takes ``limit`` (how many items, :data:`DEFAULT_LIMIT` by default, at most
:data:`MAX_LIMIT`) and ``cursor`` (where the previous page ended), and answers ``items`` with
``next``: the path and query of the following page, ``null`` on the last one. ``next`` is in a
``Link: <…>; rel="next"`` header as well (RFC 8288), so a client can follow either.

The cursor is a key, not an offset: it names the last item answered, and the next page starts
after it in the list's own order. A document posted or a transfer started while a client walks
the list therefore neither repeats an item nor skips one (an offset would shift under it). The
cursor is opaque to clients: follow ``next`` as given, with the filters it carries.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

from ledgerlink.web.api.problems import ApiProblem, FieldProblem

DEFAULT_LIMIT = 50
MAX_LIMIT = 500

Limit = Annotated[
    int,
    Query(
        ge=1,
        le=MAX_LIMIT,
        description=f"How many items per page: {DEFAULT_LIMIT} unless given, at most {MAX_LIMIT}.",
    ),
]
#: A cursor: one or two whole numbers, dot-separated (opaque to clients; they follow ``next``).
Cursor = Annotated[
    str | None,
    Query(
        max_length=40,
        pattern=r"^[0-9]{1,19}(\.[0-9]{1,19})?$",
        description="Where the previous page ended: leave it out for the first page, then "
        "follow `next` (it carries the cursor and the filters).",
    ),
]

LINK_HEADER = {
    "Link": {
        "description": 'The following page as `<path?query>; rel="next"` (absent on the last).',
        "schema": {"type": "string"},
    }
}


def cursor_parts(cursor: str | None, count: int) -> tuple[int, ...] | None:
    """The ``count`` whole numbers of a cursor this list gave out (None: the first page); any
    other cursor is a 422 saying to follow ``next`` as given."""
    if cursor is None:
        return None
    parts = cursor.split(".")
    if len(parts) != count or not all(p.isdigit() for p in parts):
        raise ApiProblem(
            "validation",
            "the cursor is not one this list gave out: follow the `next` link as given",
            errors=[FieldProblem(field="query:cursor", message="not a cursor of this list")],
        )
    return tuple(int(p) for p in parts)


def next_link(request: Request, response: Response, cursor: str | None) -> str | None:
    """The following page's path and query (this request's, with ``cursor``), also set as the
    answer's ``Link`` header; None when there is no following page."""
    if cursor is None:
        return None
    url = request.url.include_query_params(cursor=cursor)
    link = f"{url.path}?{url.query}"
    response.headers["Link"] = f'<{link}>; rel="next"'
    return link
