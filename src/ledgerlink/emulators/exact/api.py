"""The REST API: ``GET /api/v1/current/Me`` and ``/api/v1/{division}/{resource}`` in OData v2's
verbose JSON.

A collection answers ``{"d": {"results": [...], "__next": "…$skiptoken=guid'…'"}}`` in pages
of at most 60 records; a record ``{"d": {...}}``; every record carries ``__metadata`` (``uri``,
``type``). Reads take ``$filter`` (the kit's parser: ``guid'…'``, ``datetime'…'``, ``123L``,
``trim()``…), ``$select``, ``$orderby``, ``$top``, ``$skip`` and ``$expand`` of an invoice's
lines. Writes: ``POST`` answers 201 with the record, ``PUT`` and ``DELETE`` 204. A division
the user cannot open answers 403; a body over 10 MB 413.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from ledgerlink.emulators._kit.jsonio import dumps, loads
from ledgerlink.emulators._kit.odatafilter import FilterError, parse_filter
from ledgerlink.emulators._kit.paging import ODataPaging, PagingError
from ledgerlink.emulators.exact import errors as texts
from ledgerlink.emulators.exact import rules
from ledgerlink.emulators.exact.errors import ExactError
from ledgerlink.emulators.exact.model import RESOURCES, Edm, Resource, to_filter_value, to_wire
from ledgerlink.emulators.exact.state import Division, ExactState, Record

__all__ = ["router"]

JSON = "application/json; charset=utf-8"
MAX_BODY = 10 * 1024 * 1024
_PATH = re.compile(r"^(?P<path>[A-Za-z]+(?:/[A-Za-z]+)+?)(?:\((?P<key>[^)]*)\))?$")
_KEY = re.compile(r"^guid'([^']*)'$|^(\d+)L?$")

router = APIRouter()


def _state(request: Request) -> ExactState:
    state: ExactState = request.app.state.emulator.state
    return state


def _json(document: Any, status: int = 200) -> Response:
    return Response(dumps(document), status_code=status, media_type=JSON)


def _root(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/api/v1"


@router.get("/api/v1/current/Me")
async def me(request: Request) -> Response:
    """The signed-in user and the division they work in (``CurrentDivision``)."""
    state = _state(request)
    with state.lock:
        user = next(iter(state.divisions[state.current].table("users/Users").values()))
        division = state.divisions[state.current]
        record = {
            "__metadata": {
                "uri": f"{_root(request)}/current/Me(guid'{user['UserID']}')",
                "type": "Exact.Web.Api.System.Me",
            },
            "CurrentDivision": state.current,
            "DivisionCustomer": None,
            "Email": user["Email"],
            "FullName": user["FullName"],
            "LanguageCode": "en-EN",
            "Legislation": 1 if division.country == "NL" else 2,
            "UserID": user["UserID"],
            "UserName": user["UserName"],
        }
    select = _select(request, None)
    if select is not None:
        record = {k: v for k, v in record.items() if k == "__metadata" or k in select}
    return _json({"d": {"results": [record]}})


@router.api_route("/api/v1/{division}/{rest:path}", methods=["GET", "POST", "PUT", "DELETE"])
async def resource(request: Request, division: str, rest: str) -> Response:
    """Every resource of a division."""
    state = _state(request)
    if not division.isdigit() or int(division) not in state.accessible:
        raise ExactError(403, "Forbidden: you have no access to this division.")
    if int(request.headers.get("content-length") or 0) > MAX_BODY:
        raise ExactError(413, texts.TOO_LARGE)
    match = _PATH.match(rest)
    if rest == "salesinvoice/PrintedSalesInvoices" and request.method == "POST":
        return await _print(request, state, int(division))
    found = RESOURCES.get(match.group("path")) if match else None
    if match is None or found is None or request.method not in found.methods:
        raise ExactError(404, f"Resource not found: {rest}")
    key = _key(match.group("key")) if match.group("key") is not None else None
    body = await request.body() if request.method in ("POST", "PUT") else b""
    if len(body) > MAX_BODY:
        raise ExactError(413, texts.TOO_LARGE)
    with state.lock:
        place = state.divisions[int(division)]
        if request.method == "GET":
            if key is None:
                return _collection(request, state, place, found)
            return _single(request, state, place, found, key)
        if request.method == "POST" and key is None:
            with state.change():
                record = rules.create(place, found, _parse(body))
            return _json({"d": _render(request, place, found, record, None, expand=True)}, 201)
        if key is None:
            raise ExactError(400, f"{request.method} needs a key: {rest}(guid'…').")
        with state.change():
            if request.method == "PUT":
                rules.update(place, found, key, _parse(body))
            else:
                rules.delete(place, found, key)
        return Response(status_code=204)


def _parse(body: bytes) -> Any:
    try:
        return loads(body or b"{}")
    except ValueError:
        raise ExactError(400, "The request body is not valid JSON.") from None


def _key(text: str) -> str:
    match = _KEY.match(text.strip())
    if match is None:
        raise ExactError(400, f"Invalid key: ({text}).")
    return (match.group(1) or match.group(2)).lower()


async def _print(request: Request, state: ExactState, division: int) -> Response:
    document = _parse(await request.body())
    invoice = document.get("InvoiceID") if isinstance(document, dict) else None
    if not isinstance(invoice, str):
        raise ExactError(400, "Mandatory: InvoiceID")
    with state.change():
        record = rules.process(state.divisions[division], invoice.lower())
    answer = {
        "__metadata": {
            "uri": f"{_root(request)}/{division}/salesinvoice/PrintedSalesInvoices"
            f"(guid'{record['InvoiceID']}')",
            "type": "Exact.Web.Api.Models.PrintedSalesInvoice",
        },
        "InvoiceID": record["InvoiceID"],
        "InvoiceNumber": record["InvoiceNumber"],
        "Status": record["Status"],
        "SendEmailToCustomer": bool(document.get("SendEmailToCustomer")),
    }
    return _json({"d": answer}, 201)


# reading -----------------------------------------------------------------------------------------


def _records(state: ExactState, division: Division, found: Resource) -> list[Record]:
    if found.path == "system/Divisions":
        return [
            {
                "Code": d.code,
                "Description": d.description,
                "Country": d.country,
                "Currency": d.currency,
                "VATNumber": None,
                "ChamberOfCommerceNumber": None,
                "Current": d.code == state.current,
                "HID": d.code,
            }
            for d in state.divisions.values()
            if d.code in state.accessible
        ]
    return list(division.table(found.table).values())


def _select(request: Request, found: Resource | None) -> set[str] | None:
    text = request.query_params.get("$select")
    if text is None or text.strip() in ("", "*"):
        return None
    names = {name.strip() for name in text.split(",") if name.strip()}
    if found is not None:
        for name in names:
            if name not in found.properties:
                raise ExactError(400, f"Property '{name}' not found in type '{found.type_name}'.")
    return names


def _literal(found: Resource, record: Record) -> str:
    value = record[found.key]
    edm = found.properties[found.key]
    if edm is Edm.GUID:
        return f"guid'{value}'"
    return f"{value}L" if edm is Edm.INT64 else str(value)


def _resolver(found: Resource) -> Callable[[Record, str], Any]:
    def resolve(record: Record, name: str) -> Any:
        edm = found.properties.get(name)
        if edm is None or edm is Edm.LINES:
            raise FilterError(f"No property '{name}' exists in type '{found.type_name}'.")
        return to_filter_value(edm, record.get(name))

    return resolve


def _sort_key(value: Any) -> Any:
    return value if isinstance(value, int) else str(value)


def _order(records: list[Record], found: Resource, text: str | None) -> list[Record]:
    ordered = sorted(records, key=lambda r: _sort_key(r[found.key]))
    for clause in reversed([c.strip() for c in (text or "").split(",") if c.strip()]):
        name, _, direction = clause.partition(" ")
        if name not in found.properties:
            raise ExactError(400, f"Property '{name}' not found in type '{found.type_name}'.")
        present = [r for r in ordered if r.get(name) is not None]
        absent = [r for r in ordered if r.get(name) is None]
        descending = direction.strip().lower() == "desc"
        present.sort(key=lambda r, n=name: r[n], reverse=descending)  # type: ignore[misc]
        ordered = absent + present if not descending else present + absent
    return ordered


def _after(found: Resource) -> Callable[[Sequence[Record], str], Sequence[Record]]:
    def after(records: Sequence[Record], token: str) -> Sequence[Record]:
        literals = [_literal(found, record) for record in records]
        if token in literals:
            return records[literals.index(token) + 1 :]
        # The record the token named is gone: continue after where it would be.
        bare = _key(token)
        limit = int(bare) if bare.isdigit() else bare
        return [r for r in records if _sort_key(r[found.key]) > limit]

    return after


def _collection(
    request: Request, state: ExactState, division: Division, found: Resource
) -> Response:
    query = dict(request.query_params)
    if "$select" not in query and (
        found.select_only or (found.needs_select and query.get("$top") != "1")
    ):
        # Sync and bulk endpoints take no read without $select (fact sheet §2.4); that they
        # answer with the same text as the others is our assumption.
        raise ExactError(400, texts.NEEDS_SELECT)
    select = _select(request, found)
    try:
        keep = parse_filter(query.get("$filter", ""), _resolver(found))
        records = [r for r in _records(state, division, found) if keep(r)]
    except FilterError as problem:
        raise ExactError(400, str(problem)) from None
    records = _order(records, found, query.get("$orderby"))
    url = f"{_root(request)}/{division.code}/{found.path}"
    try:
        paging = ODataPaging(max_page_size=found.page_size, version=2, safe="$'()")
        page = paging.page(records, query, url=url, key=lambda r: _literal(found, r),
                           after=_after(found))  # fmt: skip
    except PagingError as problem:
        raise ExactError(400, str(problem)) from None
    expand = query.get("$expand", "") == found.lines and found.lines is not None
    values = [_render(request, division, found, r, select, expand=expand) for r in page.items]
    return _json(page.envelope(values))


def _single(
    request: Request, state: ExactState, division: Division, found: Resource, key: str
) -> Response:
    record = next((r for r in _records(state, division, found) if str(r[found.key]) == key), None)
    if record is None:
        raise ExactError(404, f"{found.entity} not found: {key}")
    expand = found.lines is not None and request.query_params.get("$expand") == found.lines
    select = _select(request, found)
    return _json({"d": _render(request, division, found, record, select, expand=expand)})


def _render(
    request: Request,
    division: Division,
    found: Resource,
    record: Record,
    select: set[str] | None,
    *,
    expand: bool,
) -> dict[str, Any]:
    base = f"{_root(request)}/{division.code}"
    uri = f"{base}/{found.path}({_literal(found, record)})"
    rendered: dict[str, Any] = {"__metadata": {"uri": uri, "type": found.type_name}}
    for name, edm in found.properties.items():
        if select is not None and name not in select:
            continue
        if edm is not Edm.LINES:
            rendered[name] = to_wire(edm, record.get(name))
        elif expand and found.line_resource is not None:
            line_resource = RESOURCES[found.line_resource]
            lines = [
                line
                for line in division.table(found.line_resource).values()
                if line[found.key] == record[found.key]
            ]
            lines.sort(key=lambda line: int(line["LineNumber"]))
            rendered[name] = {
                "results": [
                    _render(request, division, line_resource, line, None, expand=False)
                    for line in lines
                ]
            }
        else:
            rendered[name] = {"__deferred": {"uri": f"{uri}/{name}"}}
    return rendered
