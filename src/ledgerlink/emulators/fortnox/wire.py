"""Request plumbing shared by the Fortnox routes: wrapped bodies in and out, field checks in
Fortnox's words, lists with ``MetaInformation``, search, ``filter``, ``lastmodified``, sorting.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from fastapi import Request
from starlette.responses import Response

from ledgerlink.emulators._kit.fields import Field, Kind, Problem, Rule, check, unknown
from ledgerlink.emulators._kit.jsonio import dumps, loads
from ledgerlink.emulators._kit.paging import PageLimit, PagingError
from ledgerlink.emulators.fortnox import errors
from ledgerlink.emulators.fortnox.errors import FortnoxError
from ledgerlink.emulators.fortnox.state import Company, Document

if TYPE_CHECKING:
    from ledgerlink.emulators.fortnox.emulator import FortnoxEmulator

__all__ = ["Listing", "company", "emulator", "listing", "public", "read_wrapped", "reply"]

PAGING = PageLimit()
_LASTMODIFIED = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d")


def emulator(request: Request) -> FortnoxEmulator:
    """The emulator serving ``request``."""
    found: FortnoxEmulator = request.app.state.emulator
    return found


def company(request: Request) -> Company:
    """The company the request works on."""
    return emulator(request).state.company


def reply(document: Mapping[str, Any], status: int = 200) -> Response:
    """A JSON answer; ``Decimal`` money goes out as a JSON number with its exact digits."""
    return Response(dumps(document), status_code=status, media_type="application/json")


def public(document: Document, url: str | None = None) -> Document:
    """``document`` without the emulator's own keys, with ``@url`` first when given."""
    shown = {key: value for key, value in document.items() if not key.startswith("_")}
    return {"@url": url, **shown} if url is not None else shown


def resource_url(request: Request, path: str) -> str:
    """The ``@url`` of a resource at ``path`` (``/3/customers/1``)."""
    return f"{str(request.base_url).rstrip('/')}{path}"


async def read_wrapped(request: Request, wrapper: str) -> Document:
    """The object inside ``{wrapper: {...}}``: bad JSON answers 2002115, anything else than
    that wrapper 2001392, as Fortnox does."""
    raw = await request.body()
    try:
        document = loads(raw) if raw.strip() else None
    except ValueError:
        raise errors.invalid(
            "Error deserializing JSON: JSON_ERROR_SYNTAX", errors.BAD_JSON
        ) from None
    inner = document.get(wrapper) if isinstance(document, dict) else None
    if not isinstance(inner, dict):
        raise errors.invalid("Ingen eller felaktig typ av data.", errors.NO_DATA)
    return inner


def checked(
    document: Document,
    fields: Sequence[Field],
    *,
    read_only: Iterable[str] = (),
    partial: bool = False,
) -> Document:
    """``document`` with read-only properties dropped (Fortnox ignores them), once every
    property is known (2001399 otherwise) and valid; ``partial`` (a PUT) requires nothing."""
    ignored = set(read_only)
    strange = [name for name in unknown(document, fields) if name not in ignored]
    if strange:
        raise errors.invalid(f"Felaktigt fältnamn ({strange[0]})", errors.BAD_FIELD_NAME)
    writable = {key: value for key, value in document.items() if key not in ignored}
    specs = [replace(spec, required=False) if partial else spec for spec in fields]
    problems = check(writable, specs)
    if problems:
        raise _refusal(problems[0])
    return writable


def _refusal(problem: Problem) -> FortnoxError:
    spec, value = problem.field, problem.value
    if problem.rule is Rule.REQUIRED:
        return errors.invalid(f"Fältet {spec.name} måste anges.", errors.REQUIRED)
    if problem.rule is Rule.KIND and spec.kind in (Kind.NUMBER, Kind.INTEGER):
        return errors.invalid(f"Värdet måste vara numeriskt ({value})", errors.NOT_NUMERIC)
    if problem.rule is Rule.KIND and spec.kind is Kind.BOOLEAN:
        return errors.invalid(f"Värdet måste vara en boolean ({value})", errors.NOT_BOOLEAN)
    if problem.rule is Rule.MAX_LENGTH:
        return errors.invalid(
            f"Värdet i fältet {spec.name} är för långt (högst {spec.max_length} tecken)."
        )
    return errors.invalid(f"Ogiltigt värde i fältet {spec.name} ({value}).")


def bad_parameter() -> FortnoxError:
    """2000588, Fortnox's answer to a query parameter it cannot use."""
    return errors.invalid("Ogiltig parameter i anropet.", errors.INVALID_PARAMETER)


Filter = Callable[[Document, date], bool]


@dataclass(frozen=True, kw_only=True)
class Listing:
    """How one list endpoint reads its query: ``search`` maps a lower-case parameter to the
    property it matches (LIKE: case-insensitive substring), ``filters`` are the ``filter``
    values (one per request), ``sort`` maps ``sortby`` values to properties, ``dates`` is the
    property ``fromdate``/``todate`` bound."""

    plural: str
    key: str
    search: Mapping[str, str] = field(default_factory=dict)
    filters: Mapping[str, Filter] = field(default_factory=dict)
    sort: Mapping[str, str] = field(default_factory=dict)
    dates: str | None = None


def _natural(value: Any) -> tuple[int, Any]:
    text = "" if value is None else str(value)
    return (0, int(text)) if text.isdigit() else (1, text.lower())


def _minute(text: str) -> str:
    for pattern in _LASTMODIFIED:
        try:
            # A wall-clock time in Stockholm, compared as text with the stamps.
            return datetime.strptime(text, pattern).strftime("%Y-%m-%d %H:%M")  # noqa: DTZ007
        except ValueError:
            continue
    raise bad_parameter()


def select(request: Request, items: Iterable[Document], spec: Listing) -> list[Document]:
    """The documents the query keeps, in the order it asks for."""
    query = request.query_params
    today = company(request).settings.current_date()
    chosen = list(items)
    filters = query.getlist("filter")
    if len(filters) > 1 or (filters and filters[0] not in spec.filters):
        raise bad_parameter()
    if filters:
        chosen = [doc for doc in chosen if spec.filters[filters[0]](doc, today)]
    for parameter, name in spec.search.items():
        wanted = query.get(parameter)
        if wanted:
            chosen = [doc for doc in chosen if wanted.lower() in str(doc.get(name) or "").lower()]
    since = query.get("lastmodified")
    if since:
        moment = _minute(since)
        chosen = [doc for doc in chosen if str(doc.get("_modified", ""))[:16] >= moment]
    if spec.dates is not None:
        for parameter, keep in (("fromdate", str.__ge__), ("todate", str.__le__)):
            bound = query.get(parameter)
            if bound:
                _date(bound)
                chosen = [doc for doc in chosen if keep(str(doc.get(spec.dates, "")), bound)]
    by = query.get("sortby")
    if by is not None and by not in spec.sort:
        raise bad_parameter()
    order = query.get("sortorder", "ascending")
    if order not in ("ascending", "descending"):
        raise bad_parameter()
    name = spec.sort.get(by or "", spec.key)
    return sorted(chosen, key=lambda doc: _natural(doc.get(name)), reverse=order == "descending")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise bad_parameter() from None


def listing(
    request: Request,
    items: Iterable[Document],
    spec: Listing,
    render: Callable[[Document], Document],
) -> Response:
    """One page of the selected documents under ``spec.plural`` with ``MetaInformation``."""
    chosen = select(request, items, spec)
    try:
        window = PAGING.read(dict(request.query_params))
    except PagingError:
        raise bad_parameter() from None
    page = [render(doc) for doc in window.slice(chosen)]
    return reply(
        {"MetaInformation": PAGING.meta_information(window, len(chosen)), spec.plural: page}
    )
