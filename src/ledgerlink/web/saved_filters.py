"""Saved filters (issue 14 item 3): a signed-in user keeps the filter of the transfer table
or the integration log under a name, and finds it again as a link on that page.

Any role may keep filters; each user sees, replaces and deletes only their own (the user
comes from the session, never from the form). A filter is re-read by its page's own parser
before it is kept, so what is saved is what the page accepts, in the page's own spelling.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams

from ledgerlink.domain.entity import require_id
from ledgerlink.domain.errors import ValidationError
from ledgerlink.store.saved_filters import SavedFilter, filter_name
from ledgerlink.web import log_page, transfers_page
from ledgerlink.web.auth import Reader

if TYPE_CHECKING:
    from ledgerlink.web.console import Console

#: The longest query string a saved filter may hold.
MAX_QUERY = 2000


@dataclass(frozen=True, slots=True)
class FilteredPage:
    """A page whose filter can be saved: where it is, and its parser (query string → the
    page's own spelling of it; a :class:`ValidationError` for what the page refuses)."""

    path: str
    canonical: Callable[[QueryParams], str]


PAGES: dict[str, FilteredPage] = {
    transfers_page.PAGE: FilteredPage("/transfers", transfers_page.saved_query),
    log_page.PAGE: FilteredPage("/log", log_page.saved_query),
}


def _page(name: str) -> FilteredPage:
    found = PAGES.get(name)
    if found is None:
        raise ValidationError(
            f"there is no page '{name}' to keep filters of: use one of {', '.join(PAGES)}"
        )
    return found


def checked_query(page: str, query: str) -> str:
    """``query`` as ``page`` spells it, or a one-line :class:`ValidationError` saying why
    it cannot be saved."""
    filtered = _page(page)
    if len(query) > MAX_QUERY:
        raise ValidationError(
            f"this filter cannot be saved: it is longer than {MAX_QUERY} characters"
        )
    try:
        return filtered.canonical(QueryParams(query.lstrip("?")))
    except ValidationError as refused:
        raise ValidationError(f"this filter cannot be saved: {refused}") from None


def save_filter(console: Console, user_id: int, page: str, name: str, query: str) -> SavedFilter:
    """Keep the user's filter of ``page`` under ``name`` (an existing one is replaced)."""
    name = filter_name(name)
    canonical = checked_query(page, query)
    with console.uow() as uow:
        saved = uow.saved_filters.save(user_id, page, name, canonical)
        uow.commit()
    return saved


def delete_filter(console: Console, user_id: int, page: str, name: str) -> None:
    """Forget one of the user's filters of ``page`` (NotFound when the user has none of
    that name: another user's is never touched)."""
    _page(page)
    with console.uow() as uow:
        uow.saved_filters.delete(user_id, page, name)
        uow.commit()


def _back(page: str, query: str, done: str) -> Response:
    pairs = [(k, v) for k, v in parse_qsl(query.lstrip("?")) if k != "done"]
    target = f"{PAGES[page].path}?{urlencode([*pairs, ('done', done)])}"
    return RedirectResponse(target, status_code=303)


def add_routes(router: APIRouter, console: Console) -> None:

    @router.post("/saved-filters", include_in_schema=False)
    async def save(
        principal: Reader,
        page: Annotated[str, Form()] = "",
        name: Annotated[str, Form()] = "",
        query: Annotated[str, Form()] = "",
    ) -> Response:
        user_id = require_id(principal.user)
        saved = await run_in_threadpool(save_filter, console, user_id, page, name, query)
        return _back(page, saved.query, f"Filter '{saved.name}' saved")

    @router.post("/saved-filters/delete", include_in_schema=False)
    async def delete(
        principal: Reader,
        page: Annotated[str, Form()] = "",
        name: Annotated[str, Form()] = "",
        query: Annotated[str, Form()] = "",
    ) -> Response:
        user_id = require_id(principal.user)
        await run_in_threadpool(delete_filter, console, user_id, page, name)
        return _back(page, query, f"Filter '{name.strip()}' deleted")
