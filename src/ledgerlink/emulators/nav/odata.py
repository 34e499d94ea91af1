"""OData V4: ``/{instance}/ODataV4/Company('{name}')/{Service}``, ``$metadata``, ``Company``.

Collections support ``$filter`` (``eq ne lt le gt ge and or not``, ``startswith``/
``endswith``/``contains``, ``tolower``/``toupper``; ``or`` across different fields is refused
as NAV cannot turn it into a C/AL filter), ``$orderby``, ``$select``, ``$top``, ``$skip``,
``$count`` and server-driven paging (``Prefer: odata.maxpagesize``, ``@odata.nextLink`` with
``$skiptoken`` = the last record's key literals). Writes need ``If-Match`` (an ETag or ``*``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import quoteattr

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from ledgerlink.emulators._kit.jsonio import dumps, loads
from ledgerlink.emulators._kit.paging import ODataPaging, PagingError
from ledgerlink.emulators.nav.errors import Failure, NavError
from ledgerlink.emulators.nav.http import authenticate, emulator_of
from ledgerlink.emulators.nav.keys import etag, key_from_etag
from ledgerlink.emulators.nav.pages import PageService
from ledgerlink.emulators.nav.schema import FieldDef, PageDef
from ledgerlink.emulators.nav.state import Record
from ledgerlink.emulators.nav.values import from_json, parse_text, sort_value, to_json

__all__ = ["ODataError", "error_response", "metadata", "router"]

JSON = "application/json; odata.metadata=minimal"
_HEADERS = {"odata-version": "4.0"}
_COMPANY = re.compile(r"^Company\('((?:[^']|'')*)'\)(?:/(.*))?$")
_ENTITY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\((.*)\))?$", re.DOTALL)

router = APIRouter(dependencies=[Depends(authenticate)])


class ODataError(Exception):
    """An OData error answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_response(status: int, code: str, message: str) -> Response:
    """``{"error": {"code", "message": "…  CorrelationId:  <guid>."}}``."""
    text = message.rstrip(".")
    body = {"error": {"code": code, "message": f"{text}.  CorrelationId:  {uuid.uuid4()}."}}
    return Response(dumps(body), status_code=status, media_type=JSON, headers=_HEADERS)


def _json(document: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        dumps(document),
        status_code=status,
        media_type=JSON,
        headers={**_HEADERS, **(headers or {})},
    )


# --- $metadata -----------------------------------------------------------------------------------


def _property(field: FieldDef, *, key: bool) -> str:
    nullable = ' Nullable="false"' if key else ""
    lines = [
        f'        <Property Name="{field.name}" Type="{field.edm_type}"{nullable}>',
        f'          <Annotation Term="NAV.LabelId" String={quoteattr(field.name)} />',
        '          <Annotation Term="NAV.NavType">',
        f"            <EnumMember>NAV.NavType/{field.nav_type}</EnumMember>",
        "          </Annotation>",
    ]
    if key:
        lines.append('          <Annotation Term="NAV.IsRequired" Bool="true" />')
    if not field.editable:
        lines.append('          <Annotation Term="NAV.AllowEdit" Bool="false" />')
    lines.append("        </Property>")
    return "\n".join(lines)


def _entity_type(page: PageDef) -> str:
    keys = "\n".join(f'          <PropertyRef Name="{name}" />' for name in page.primary_key)
    properties = "\n".join(_property(f, key=f.name in page.primary_key) for f in page.fields)
    read_only = (
        "" if page.editable else '\n        <Annotation Term="NAV.IsReadOnly" Bool="true" />'
    )
    return (
        f'      <EntityType Name="{page.service_name}">\n        <Key>\n{keys}\n        </Key>\n'
        f"{properties}\n"
        '        <Property Name="ETag" Type="Edm.String" ConcurrencyMode="Fixed">\n'
        '          <Annotation Term="NAV.LabelId" String="ETag" />\n'
        '          <Annotation Term="NAV.NavType">\n'
        "            <EnumMember>NAV.NavType/String</EnumMember>\n          </Annotation>\n"
        "        </Property>\n"
        f'        <Annotation Term="NAV.LabelId" String="{page.service_name}" />{read_only}\n'
        "      </EntityType>"
    )


def _restrictions(deletable: bool, insertable: bool, updatable: bool) -> str:
    def one(term: str, prop: str, value: bool) -> str:
        return (
            f'          <Annotation Term="Org.OData.Capabilities.V1.{term}">\n'
            f'            <Record>\n              <PropertyValue Property="{prop}" '
            f'Bool="{"true" if value else "false"}" />\n            </Record>\n'
            "          </Annotation>"
        )

    return "\n".join(
        (
            one("DeleteRestrictions", "Deletable", deletable),
            one("InsertRestrictions", "Insertable", insertable),
            one("UpdateRestrictions", "Updatable", updatable),
        )
    )


def metadata(pages: tuple[PageDef, ...]) -> str:
    """The ``$metadata`` document (shaped like NAV 2017's)."""
    types = [_entity_type(page) for page in pages]
    navigation = "\n".join(
        f'        <NavigationProperty Name="{p.service_name}" '
        f'Type="Collection(NAV.{p.service_name})" />'
        for p in pages
    )
    types.append(
        '      <EntityType Name="Company">\n        <Key>\n          <PropertyRef Name="Name" />\n'
        '        </Key>\n        <Property Name="Name" Type="Edm.String" Nullable="false">\n'
        '          <Annotation Term="NAV.LabelId" String="Name" />\n'
        '          <Annotation Term="NAV.NavType">\n'
        "            <EnumMember>NAV.NavType/String</EnumMember>\n          </Annotation>\n"
        '          <Annotation Term="NAV.IsRequired" Bool="true" />\n        </Property>\n'
        f"{navigation}\n      </EntityType>"
    )
    members = ("Date", "Enum", "Guid", "Int", "Long", "Real", "String", "Time", "DateTime", "Bool")
    types.append(
        '      <EnumType Name="NavType">\n'
        + "\n".join(
            f'        <Member Name="{name}" Value="{index}" />'
            for index, name in enumerate(members, start=1)
        )
        + "\n      </EnumType>"
    )
    sets = [
        f'        <EntitySet Name="{p.service_name}" EntityType="NAV.{p.service_name}">\n'
        f"{_restrictions(p.delete_allowed, p.insert_allowed, p.modify_allowed)}\n"
        '          <Annotation Term="Org.OData.Core.V1.OptimisticConcurrency">\n'
        "            <Collection>\n              <PropertyPath>ETag</PropertyPath>\n"
        "            </Collection>\n          </Annotation>\n        </EntitySet>"
        for p in pages
    ]
    sets.append(
        '        <EntitySet Name="Company" EntityType="NAV.Company">\n'
        f"{_restrictions(False, False, False)}\n        </EntitySet>"
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">\n'
        "  <edmx:DataServices>\n"
        '    <Schema Namespace="NAV" xmlns="http://docs.oasis-open.org/odata/ns/edm">\n'
        + "\n".join(types)
        + '\n      <EntityContainer Name="NAV">\n'
        + "\n".join(sets)
        + "\n      </EntityContainer>\n    </Schema>\n  </edmx:DataServices>\n</edmx:Edmx>\n"
    )


# --- literals and keys ---------------------------------------------------------------------------


def _split_commas(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == "'":
            quoted = not quoted
        if char == "," and not quoted:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return parts


def _literal(text: str) -> str:
    if len(text) >= 2 and text.startswith("'") and text.endswith("'"):
        return text[1:-1].replace("''", "'")
    return text


def _key_texts(page: PageDef, inside: str) -> list[str]:
    parts = _split_commas(inside)
    named: dict[str, str] = {}
    for index, part in enumerate(parts):
        name, equals, value = part.partition("=")
        if equals and not name.strip().startswith("'"):
            named[name.strip()] = _literal(value.strip())
        elif len(parts) == 1:
            named[page.primary_key[0]] = _literal(part)
        else:
            named[page.primary_key[min(index, len(page.primary_key) - 1)]] = _literal(part)
    missing = [name for name in page.primary_key if name not in named]
    if missing or len(named) != len(page.primary_key):
        raise ODataError(400, "BadRequest_NotFound", "Bad Request - Error in query syntax.")
    return [named[name] for name in page.primary_key]


def _key_literal(field: FieldDef, value: Any) -> str:
    if field.type in ("Integer", "BigInteger", "Decimal"):
        return str(value)
    shown = to_json(field, value)
    return "'" + str(shown).replace("'", "''") + "'"


# --- $filter -------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<datetime>\d{4}-\d{2}-\d{2}T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?)"
    r"|(?P<date>\d{4}-\d{2}-\d{2})|(?P<number>-?\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<punct>[(),]))"
)
_COMPARISONS = {
    "eq": "Equal",
    "ne": "NotEqual",
    "lt": "LessThan",
    "le": "LessThanOrEqual",
    "gt": "GreaterThan",
    "ge": "GreaterThanOrEqual",
}
_NUMBERS = {"Edm.Int32", "Edm.Int64", "Edm.Decimal"}
_FUNCTIONS = ("startswith", "endswith", "contains")

Predicate = Callable[[Record], bool]


def _syntax() -> ODataError:
    return ODataError(400, "BadRequest_NotFound", "Bad Request - Error in query syntax.")


def _literal_type(token: tuple[str, str] | None) -> str | None:
    """The EDM type the OData URI parser gives a string or number literal."""
    kind, text = token or ("", "")
    if kind == "string":
        return "Edm.String"
    if kind != "number":
        return None
    if "." in text:
        return "Edm.Decimal"
    return "Edm.Int32" if -(2**31) <= int(text) < 2**31 else "Edm.Int64"


def _check_types(field: FieldDef, token: tuple[str, str] | None, operator: str) -> None:
    """Refuse comparing a text field with a number or a number field with a text, as NAV's
    OData URI parser (ODataLib) does. Its message; NAV's error code for it is unverified (no
    captured NAV answer), ``BadRequest`` is the documented code of a malformed request."""
    types = {field.edm_type, _literal_type(token)}
    if "Edm.String" in types and types & _NUMBERS:
        raise ODataError(
            400,
            "BadRequest",
            "A binary operator with incompatible types was detected. Found operand types "
            f"'{field.edm_type}' and '{_literal_type(token)}' for operator kind "
            f"'{_COMPARISONS[operator]}'",
        )


@dataclass
class _Node:
    kind: str
    children: list[_Node]
    fields: set[str]
    test: Predicate


class _FilterParser:
    """Recursive descent over the ``$filter`` tokens."""

    def __init__(self, service: PageService, text: str) -> None:
        self.service = service
        self.tokens: list[tuple[str, str]] = []
        position = 0
        text = text.strip()
        while position < len(text):
            match = _TOKEN.match(text, position)
            if match is None or match.end() == position:
                raise _syntax()
            kind = match.lastgroup or ""
            self.tokens.append((kind, match.group(kind)))
            position = match.end()
            while position < len(text) and text[position].isspace():
                position += 1
        self.index = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise _syntax()
        self.index += 1
        return token

    def parse(self) -> Predicate:
        node = self.expression()
        if self.peek() is not None:
            raise _syntax()
        return node.test

    def expression(self) -> _Node:
        nodes = [self.conjunction()]
        while self.peek() == ("name", "or"):
            self.take()
            nodes.append(self.conjunction())
        if len(nodes) == 1:
            return nodes[0]
        fields = set().union(*(n.fields for n in nodes))
        if len(fields) > 1:
            raise ODataError(
                400,
                "BadRequest_MethodNotImplemented",
                "The filter uses 'or' between different fields ("
                + ", ".join(sorted(fields))
                + "), which cannot be expressed as a C/AL filter",
            )
        tests = [n.test for n in nodes]
        return _Node("or", nodes, fields, lambda r: any(t(r) for t in tests))

    def conjunction(self) -> _Node:
        nodes = [self.unary()]
        while self.peek() == ("name", "and"):
            self.take()
            nodes.append(self.unary())
        if len(nodes) == 1:
            return nodes[0]
        tests = [n.test for n in nodes]
        fields = set().union(*(n.fields for n in nodes))
        return _Node("and", nodes, fields, lambda r: all(t(r) for t in tests))

    def unary(self) -> _Node:
        if self.peek() == ("name", "not"):
            self.take()
            inner = self.unary()
            return _Node("not", [inner], inner.fields, lambda r: not inner.test(r))
        if self.peek() == ("punct", "("):
            self.take("(")
            inner = self.expression()
            self.take(")")
            return inner
        return self.comparison()

    def operand_field(self) -> tuple[FieldDef, bool]:
        kind, value = self.take()
        if kind != "name":
            raise _syntax()
        if value in ("tolower", "toupper"):
            self.take("(")
            inner, _ = self.operand_field()
            self.take(")")
            return inner, True
        field = self.service.page.field(value)
        if field is None:
            raise ODataError(
                400,
                "BadRequest_NotFound",
                f"Could not find a property named '{value}' on type "
                f"'NAV.{self.service.page.service_name}'",
            )
        return field, False

    def literal(self, field: FieldDef) -> Any:
        kind, text = self.take()
        if kind == "name" and text == "null":
            text = ""
        elif kind == "string":
            text = _literal(text)
        elif kind not in ("number", "date", "datetime") and text not in ("true", "false"):
            raise _syntax()
        try:
            if field.type in ("Code", "Text"):
                return text.upper() if field.type == "Code" else text
            return parse_text(field, text)
        except NavError as problem:
            raise ODataError(400, "BadRequest", problem.message) from None

    def comparison(self) -> _Node:
        token = self.peek()
        if token is not None and token[0] == "name" and token[1] in _FUNCTIONS:
            return self.function()
        field, insensitive = self.operand_field()
        operator = self.take()[1]
        if operator not in _COMPARISONS:
            raise _syntax()
        _check_types(field, self.peek(), operator)
        value = self.literal(field)

        def key(candidate: Any) -> Any:
            result = sort_value(field, candidate)
            return result.casefold() if insensitive and isinstance(result, str) else result

        wanted = key(value)
        name = field.name
        compare: dict[str, Callable[[Any, Any], bool]] = {
            "eq": lambda a, b: bool(a == b),
            "ne": lambda a, b: bool(a != b),
            "lt": lambda a, b: bool(a < b),
            "le": lambda a, b: bool(a <= b),
            "gt": lambda a, b: bool(a > b),
            "ge": lambda a, b: bool(a >= b),
        }
        check = compare[operator]
        return _Node("cmp", [], {name}, lambda r: check(key(r.get(name)), wanted))

    def function(self) -> _Node:
        function = self.take()[1]
        self.take("(")
        field, insensitive = self.operand_field()
        self.take(",")
        kind, text = self.take()
        if kind != "string":
            raise _syntax()
        self.take(")")
        needle = _literal(text)
        if field.type == "Code":
            needle = needle.upper()
        if insensitive:
            needle = needle.casefold()
        name = field.name

        def test(record: Record) -> bool:
            value = str(record.get(name, ""))
            if insensitive:
                value = value.casefold()
            if function == "startswith":
                return value.startswith(needle)
            if function == "endswith":
                return value.endswith(needle)
            return needle in value

        if self.peek() == ("name", "eq"):
            self.take()
            if self.take()[1] == "false":
                return _Node("not", [], {name}, lambda r: not test(r))
        return _Node("func", [], {name}, test)


# --- routes --------------------------------------------------------------------------------------


def _root(request: Request, instance: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/{instance}/ODataV4"


def _company_segment(company: str) -> str:
    return "Company('" + quote(company.replace("'", "''"), safe="") + "')"


@router.get("/{instance}/ODataV4")
@router.get("/{instance}/ODataV4/")
async def service_document(request: Request, instance: str) -> Response:
    """The service document: the ``Company`` entity set."""
    _check_instance(request, instance)
    root = _root(request, instance)
    return _json(
        {
            "@odata.context": f"{root}/$metadata",
            "value": [{"name": "Company", "kind": "EntitySet", "url": "Company"}],
        }
    )


def _check_instance(request: Request, instance: str) -> None:
    if instance.lower() != emulator_of(request).config.server_instance.lower():
        raise ODataError(
            404, "BadRequest_ResourceNotFound", f"Resource not found for the segment '{instance}'"
        )


@router.api_route(
    "/{instance}/ODataV4/{rest:path}", methods=["GET", "POST", "PATCH", "PUT", "DELETE"]
)
async def odata(request: Request, instance: str, rest: str) -> Response:
    """Every OData V4 resource below the service root."""
    try:
        return await _dispatch(request, instance, rest)
    except ODataError as error:
        return error_response(error.status, error.code, error.message)


async def _dispatch(request: Request, instance: str, rest: str) -> Response:
    _check_instance(request, instance)
    emulator = emulator_of(request)
    config = emulator.config
    root = _root(request, instance)
    if rest == "$metadata":
        return Response(metadata(config.pages), media_type="application/xml", headers=_HEADERS)
    if rest == "Company":
        _only(request, "GET", "Company")
        companies = [{"Name": name} for name in config.companies]
        return _json({"@odata.context": f"{root}/$metadata#Company", "value": companies})
    match = _COMPANY.match(rest)
    if match is not None:
        company, rest = match.group(1).replace("''", "'"), match.group(2) or ""
        if config.company(company) is None:
            raise ODataError(
                404, "BadRequest_ResourceNotFound", f"The company '{company}' does not exist"
            )
        if not rest:
            _only(request, "GET", "Company")
            return _json({"@odata.context": f"{root}/$metadata#Company/$entity", "Name": company})
    else:
        query_company = request.query_params.get("company") or config.default_company
        if query_company is None or config.company(query_company) is None:
            raise ODataError(
                400,
                "Internal_CompanyNotFound",
                "Can't process the request because the default company can't be found. You can "
                "specify a default company in the service configuration file, or specify one for "
                "each tenant, or add a query string in the form of company=[name]. You can see "
                "the available companies by accessing the default OData web service, Company. "
                'Learn more about "OData Web Services" in Help',
            )
        company = query_company
    entity = _ENTITY.match(rest)
    page = config.page(entity.group(1)) if entity else None
    if entity is None or page is None or "/" in rest.split("(")[0]:
        segment = rest.split("(")[0].split("/")[0]
        raise ODataError(
            404, "BadRequest_ResourceNotFound", f"Resource not found for the segment '{segment}'"
        )
    context = f"{root}/$metadata#{_company_segment(company)}/{page.service_name}"
    body = await request.body()
    with emulator.state.lock:
        service = PageService(emulator.books(company), page)
        handler = _EntityRequest(request, service, context, body)
        if entity.group(2) is None:
            return handler.collection()
        texts = _key_texts(page, entity.group(2))
        try:
            key_values = service.parse_key_values(texts)
        except NavError as problem:
            raise ODataError(400, "BadRequest", problem.message) from None
        return handler.single(key_values)


def _only(request: Request, method: str, name: str) -> None:
    if request.method != method:
        raise ODataError(
            405,
            "BadRequest_MethodNotAllowed",
            f"'{request.method}' requests for '{name}' of EdmType 'EntitySet' are not allowed "
            "within Microsoft Dynamics NAV OData web services",
        )


class _EntityRequest:
    """One request on a page's entity set or one of its entities (state lock held)."""

    def __init__(self, request: Request, service: PageService, context: str, body: bytes) -> None:
        self.request = request
        self.service = service
        self.page = service.page
        self.context = context
        self.body = body
        self.emulator = emulator_of(request)

    def entity(self, record: Record, select: list[str] | None = None) -> dict[str, Any]:
        shown = self.service.render(record)
        key = self.service.key(record)
        document: dict[str, Any] = {"@odata.etag": etag(key)}
        for field in self.page.fields:
            if select is None or field.name in select:
                document[field.name] = to_json(field, shown.get(field.name))
        if select is None or "ETag" in select:
            document["ETag"] = key
        return document

    def _not_allowed(self, method: str) -> ODataError:
        return ODataError(
            405,
            "BadRequest_MethodNotAllowed",
            f"'{method}' requests for '{self.page.service_name}' of EdmType 'EntitySet' are not "
            "allowed within Microsoft Dynamics NAV OData web services",
        )

    def _commit(self) -> None:
        self.emulator.state.save()

    def _values(self) -> dict[str, Any]:
        try:
            document = loads(self.body or b"{}")
        except ValueError:
            raise ODataError(400, "BadRequest", "Invalid Request Body") from None
        if not isinstance(document, dict):
            raise ODataError(400, "BadRequest", "Invalid Request Body")
        values: dict[str, Any] = {}
        for name, value in document.items():
            if name.startswith("@odata.") or name == "ETag":
                continue
            field = self.page.field(name)
            if field is None:
                raise ODataError(
                    400,
                    "BadRequest",
                    f"The property '{name}' does not exist on type 'NAV.{self.page.service_name}'."
                    " Make sure to only use property names that are defined by the type",
                )
            values[name] = from_json(field, value)
        return values

    def _run(self, operation: Callable[[], Record | None]) -> Record | None:
        books = self.service.books
        try:
            with books.transaction():
                result = operation()
        except NavError as problem:
            if problem.failure is Failure.STALE:
                raise ODataError(
                    412, "Request_EntityChanged", "Another user has already changed the record"
                ) from None
            if problem.failure is Failure.NOT_ALLOWED:
                raise self._not_allowed(self.request.method) from None
            raise
        self._commit()
        return result

    def _headers(self, record: Record) -> dict[str, str]:
        return {"ETag": etag(self.service.key(record))}

    def collection(self) -> Response:
        method = self.request.method
        if method == "POST":
            if not self.page.insert_allowed:
                raise self._not_allowed("POST")
            values = self._values()
            record = self._run(lambda: self.service.create(values))
            assert record is not None
            location = self._location(record)
            document = {"@odata.context": f"{self.context}/$entity", **self.entity(record)}
            return _json(document, 201, {**self._headers(record), "Location": location})
        if method != "GET":
            raise self._not_allowed(method)
        return self._read_collection()

    @property
    def _collection_url(self) -> str:
        """The entity set's URL, the company percent-encoded as in ``@odata.context``."""
        return self.context.replace("/$metadata#", "/")

    def _location(self, record: Record) -> str:
        literals = ",".join(
            f"{name}={_key_literal(self.service.field(name), record[name])}"
            for name in self.page.primary_key
        )
        return f"{self._collection_url}({literals})"

    def _read_collection(self) -> Response:
        query = self.request.query_params
        records = self.service.records()
        text = query.get("$filter")
        if text:
            test = _FilterParser(self.service, text).parse()
            records = [r for r in records if test(r)]
        order = self._order(query.get("$orderby"))
        if order:
            for name, descending in reversed(order):
                records.sort(key=self._sorter(name), reverse=descending)
        count = len(records)
        paging = ODataPaging(max_page_size=self.emulator.config.odata_max_page_size)
        try:
            page = paging.page(
                records,
                query,
                url=self._collection_url,
                key=self._token,
                after=lambda rows, token: self._after(rows, token, ordered=bool(order)),
                prefer=self.request.headers.get("prefer"),
            )
        except PagingError as problem:
            raise ODataError(400, "BadRequest", str(problem)) from None
        select = [s.strip() for s in query["$select"].split(",")] if query.get("$select") else None
        if select:
            for name in select:
                if name != "ETag" and self.page.field(name) is None:
                    raise ODataError(
                        400,
                        "BadRequest_NotFound",
                        f"Could not find a property named '{name}' on type "
                        f"'NAV.{self.page.service_name}'",
                    )
        head: dict[str, Any] = {"@odata.context": self.context}
        if query.get("$count") == "true":
            head["@odata.count"] = count
        values = [self.entity(r, select) for r in page.items]
        return _json(page.envelope(values, head), headers=page.headers)

    def _token(self, record: Record) -> str:
        return ",".join(
            _key_literal(self.service.field(n), record[n]) for n in self.page.primary_key
        )

    def _sorter(self, name: str) -> Callable[[Record], Any]:
        field = self.service.field(name)
        return lambda record: sort_value(field, record.get(name))

    def _after(self, records: Sequence[Record], token: str, *, ordered: bool) -> list[Record]:
        values = self.service.parse_key_values([_literal(t) for t in _split_commas(token)])
        mark = tuple(
            sort_value(self.service.field(n), v)
            for n, v in zip(self.page.primary_key, values, strict=True)
        )
        if not ordered:
            return [r for r in records if self.service.order(r) > mark]
        for index, record in enumerate(records):
            if self.service.order(record) == mark:
                return list(records[index + 1 :])
        raise ODataError(400, "BadRequest", "The $skiptoken does not name a record of the result")

    def _order(self, text: str | None) -> list[tuple[str, bool]]:
        if not text:
            return []
        result = []
        for part in text.split(","):
            words = part.split()
            if not words or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
                raise _syntax()
            self.service.field(words[0])
            result.append((words[0], len(words) == 2 and words[1] == "desc"))
        return result

    def _current_key(self, key_values: tuple[Any, ...]) -> str:
        record = self.service.get(key_values)
        if record is None:
            raise self.service.books.not_found(self.page.table_id, key_values)
        if_match = self.request.headers.get("if-match")
        if if_match is None:
            raise ODataError(
                400,
                "BadRequest_InvalidToken",
                "Could not validate the client concurrency token required by the service. "
                "Please provide a valid token in the client request",
            )
        if if_match.strip() == "*":
            return self.service.key(record)
        key = key_from_etag(if_match)
        if key is None:
            raise ODataError(
                400,
                "BadRequest_InvalidToken",
                "Could not validate the client concurrency token required by the service. "
                "Please provide a valid token in the client request",
            )
        try:
            values, _version = self.service.locate_values(key)
        except NavError:
            raise ODataError(
                400,
                "BadRequest_InvalidToken",
                "Could not validate the client concurrency token required by the service. "
                "Please provide a valid token in the client request",
            ) from None
        if values != key_values:
            raise ODataError(
                412, "Request_EntityChanged", "Another user has already changed the record"
            )
        return key

    def single(self, key_values: tuple[Any, ...]) -> Response:
        method = self.request.method
        if method == "GET":
            record = self.service.get(key_values)
            if record is None:
                raise self.service.books.not_found(self.page.table_id, key_values)
            document = {"@odata.context": f"{self.context}/$entity", **self.entity(record)}
            return _json(document, headers=self._headers(record))
        if method in ("PATCH", "PUT"):
            if not self.page.modify_allowed:
                raise self._not_allowed(method)
            values = self._values()
            key = self._current_key(key_values)
            record = self._run(lambda: self.service.update(key, values))
            assert record is not None
            document = {"@odata.context": f"{self.context}/$entity", **self.entity(record)}
            return _json(document, headers=self._headers(record))
        if method == "DELETE":
            if not self.page.delete_allowed:
                raise self._not_allowed(method)
            key = self._current_key(key_values)
            self._run(lambda: self.service.delete(key))
            return Response(status_code=204, headers=_HEADERS)
        raise self._not_allowed(method)
