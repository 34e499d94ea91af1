"""SOAP 1.1 web services: ``/{instance}/WS/{company}/Page|Codeunit/{service}`` (WSDL on GET,
operations on POST), ``/{instance}/WS/{company}/services`` and ``/{instance}/WS/SystemService``.

The operation is chosen by the body element (SOAPAction is not needed, as in NAV). Responses
use the ``Soap:`` envelope prefix; faults are HTTP 500 ``s:Fault`` documents with the .NET
exception type in ``faultcode``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape, quoteattr

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from ledgerlink.emulators.nav.errors import Failure, NavError
from ledgerlink.emulators.nav.http import authenticate, emulator_of
from ledgerlink.emulators.nav.pages import Criterion, PageService
from ledgerlink.emulators.nav.schema import CodeunitDef, PageDef
from ledgerlink.emulators.nav.state import Record
from ledgerlink.emulators.nav.values import parse_text, to_soap
from ledgerlink.emulators.nav.wsdl import SYSTEM_NAMESPACE, codeunit_wsdl, page_wsdl, system_wsdl

__all__ = ["SoapNotFound", "fault_response", "router"]

XML = "text/xml; charset=utf-8"
_ENVELOPE = "http://schemas.xmlsoap.org/soap/envelope/"
_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"

router = APIRouter(dependencies=[Depends(authenticate)])


class SoapNotFound(Exception):
    """No such server instance, company or published service (HTTP 404 with a fault)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _fault(fault_type: str, message: str) -> str:
    text = escape(message)
    return (
        f'<s:Envelope xmlns:s="{_ENVELOPE}"><s:Body><s:Fault>'
        f'<faultcode xmlns:a="urn:microsoft-dynamics-schemas/error">a:{fault_type}</faultcode>'
        f'<faultstring xml:lang="en-US">{text}</faultstring>'
        '<detail><string xmlns="http://schemas.microsoft.com/2003/10/Serialization/">'
        f"{text}</string></detail></s:Fault></s:Body></s:Envelope>"
    )


def fault_response(error: NavError | SoapNotFound) -> Response:
    """A SOAP fault: HTTP 500 for NAV errors, 404 for an unknown service."""
    if isinstance(error, SoapNotFound):
        body = _fault(Failure.BAD_REQUEST.soap_type, error.message)
        return Response(body, status_code=404, media_type=XML)
    return Response(_fault(error.failure.soap_type, error.message), status_code=500, media_type=XML)


def _envelope(content: str) -> Response:
    body = (
        f'<Soap:Envelope xmlns:Soap="{_ENVELOPE}"><Soap:Body>{content}</Soap:Body></Soap:Envelope>'
    )
    return Response(body, media_type=XML)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def _operation(raw: bytes) -> ET.Element:
    if b"<!DOCTYPE" in raw.upper() or b"<!ENTITY" in raw.upper():
        raise NavError(Failure.BAD_REQUEST, "DTDs are not allowed in SOAP messages.")
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as problem:
        raise NavError(
            Failure.BAD_REQUEST, f"The SOAP message is not valid XML: {problem}"
        ) from None
    body = next((child for child in root if _local(child.tag) == "Body"), None)
    if _local(root.tag) != "Envelope" or body is None or len(body) == 0:
        raise NavError(Failure.BAD_REQUEST, "The request is not a SOAP 1.1 envelope with a body.")
    return body[0]


def _children(element: ET.Element) -> dict[str, str | None]:
    """Child element texts by local name (``None`` for ``xsi:nil``)."""
    return {
        _local(child.tag): None if child.get(_NIL) == "true" else (child.text or "")
        for child in element
    }


def _text(element: ET.Element, name: str) -> str:
    return next(((c.text or "").strip() for c in element if _local(c.tag) == name), "")


def _location(request: Request, kind: str, company: str, service: str) -> str:
    base = str(request.base_url).rstrip("/")
    instance = emulator_of(request).config.server_instance
    return f"{base}/{instance}/WS/{quote(company, safe='')}/{kind}/{service}"


def _check_instance(request: Request, instance: str) -> None:
    if instance.lower() != emulator_of(request).config.server_instance.lower():
        raise SoapNotFound(f"The server instance {instance} does not exist.")


def _company(request: Request, instance: str, company: str) -> str:
    _check_instance(request, instance)
    found = emulator_of(request).config.company(company)
    if found is None:
        raise SoapNotFound(f'The company "{company}" does not exist.')
    return found


def _page(request: Request, service: str) -> PageDef:
    page = emulator_of(request).config.page(service)
    if page is None:
        raise SoapNotFound(f"No Page service named '{service}' is published.")
    return page


def _codeunit(request: Request, service: str) -> CodeunitDef:
    codeunit = emulator_of(request).config.codeunit(service)
    if codeunit is None:
        raise SoapNotFound(f"No Codeunit service named '{service}' is published.")
    return codeunit


# --- system service and service list -------------------------------------------------------------


@router.get("/{instance}/WS/SystemService")
async def system_service_wsdl(request: Request, instance: str) -> Response:
    """The SystemService WSDL."""
    _check_instance(request, instance)
    base = str(request.base_url).rstrip("/")
    location = f"{base}/{emulator_of(request).config.server_instance}/WS/SystemService"
    return Response(system_wsdl(location), media_type=XML)


@router.post("/{instance}/WS/SystemService")
async def system_service(request: Request, instance: str) -> Response:
    """``Companies``: the company names, unencoded."""
    _check_instance(request, instance)
    operation = _operation(await request.body())
    if _local(operation.tag) != "Companies" or _namespace(operation.tag) != SYSTEM_NAMESPACE:
        raise NavError(Failure.BAD_REQUEST, f"Unknown operation {_local(operation.tag)}.")
    values = "".join(
        f"<return_value>{escape(name)}</return_value>"
        for name in emulator_of(request).config.companies
    )
    return _envelope(f'<Companies_Result xmlns="{SYSTEM_NAMESPACE}">{values}</Companies_Result>')


@router.get("/{instance}/WS/{company}/services")
async def services(request: Request, instance: str, company: str) -> Response:
    """The DISCO list of the services published for a company."""
    name = _company(request, instance, company)
    config = emulator_of(request).config
    refs = [_location(request, "Page", name, p.service_name) for p in config.pages]
    refs += [_location(request, "Codeunit", name, c.service_name) for c in config.codeunits]
    items = "".join(
        f'<contractRef ref={quoteattr(ref)} xmlns="http://schemas.xmlsoap.org/disco/scl/" />'
        for ref in refs
    )
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<discovery xmlns="http://schemas.xmlsoap.org/disco/">{items}</discovery>'
    )
    return Response(body, media_type=XML)


# --- codeunits -----------------------------------------------------------------------------------


@router.get("/{instance}/WS/{company}/Codeunit/{service}")
async def codeunit_wsdl_route(
    request: Request, instance: str, company: str, service: str
) -> Response:
    """A codeunit's WSDL."""
    name = _company(request, instance, company)
    codeunit = _codeunit(request, service)
    location = _location(request, "Codeunit", name, codeunit.service_name)
    return Response(codeunit_wsdl(codeunit, location), media_type=XML)


@router.post("/{instance}/WS/{company}/Codeunit/{service}")
async def codeunit_call(request: Request, instance: str, company: str, service: str) -> Response:
    """Call a codeunit function; its ``return_value`` is the configured text."""
    _company(request, instance, company)
    codeunit = _codeunit(request, service)
    operation = _operation(await request.body())
    function = _local(operation.tag)
    if _namespace(operation.tag) != codeunit.namespace or function not in codeunit.functions:
        raise NavError(
            Failure.BAD_REQUEST,
            f"Operation {function} is not defined for codeunit {codeunit.service_name}.",
        )
    value = escape(codeunit.functions[function])
    return _envelope(
        f'<{function}_Result xmlns="{codeunit.namespace}"><return_value>{value}</return_value>'
        f"</{function}_Result>"
    )


# --- pages ---------------------------------------------------------------------------------------


@router.get("/{instance}/WS/{company}/Page/{service}")
async def page_wsdl_route(request: Request, instance: str, company: str, service: str) -> Response:
    """A page's WSDL, generated from its definition."""
    name = _company(request, instance, company)
    page = _page(request, service)
    return Response(
        page_wsdl(page, _location(request, "Page", name, page.service_name)), media_type=XML
    )


@router.post("/{instance}/WS/{company}/Page/{service}")
async def page_call(request: Request, instance: str, company: str, service: str) -> Response:
    """Run a page operation (Read, ReadMultiple, Create, Update, Delete, …)."""
    name = _company(request, instance, company)
    page = _page(request, service)
    operation = _operation(await request.body())
    if _namespace(operation.tag).lower() != page.namespace:
        raise NavError(
            Failure.BAD_REQUEST,
            f"The operation element must be in the namespace {page.namespace}.",
        )
    emulator = emulator_of(request)
    with emulator.state.lock:
        books = emulator.books(name)
        call = _Call(PageService(books, page))
        handler = _HANDLERS.get(_local(operation.tag))
        if handler is None:
            raise NavError(
                Failure.BAD_REQUEST,
                f"Operation {_local(operation.tag)} is not defined for page {page.service_name}.",
            )
        with books.transaction():
            content, wrote = handler(call, operation)
        if wrote:
            emulator.state.save()
    return _envelope(content)


class _Call:
    """One page operation: parsing entities from XML and rendering them back."""

    def __init__(self, service: PageService) -> None:
        self.service = service
        self.page = service.page
        self.ns = service.page.namespace

    def result(self, name: str, inner: str) -> str:
        if not inner:
            return f'<{name} xmlns="{self.ns}" />'
        return f'<{name} xmlns="{self.ns}">{inner}</{name}>'

    def entity(self, record: Record) -> str:
        shown = self.service.render(record)
        parts = [f"<Key>{escape(self.service.key(record))}</Key>"]
        for field in self.page.fields:
            text = to_soap(field, shown.get(field.name))
            if text is not None:
                parts.append(f"<{field.name}>{escape(text)}</{field.name}>")
        entity = self.page.service_name
        return f"<{entity}>{''.join(parts)}</{entity}>"

    def entity_list(self, records: list[Record]) -> str:
        entity = self.page.service_name
        return f"<{entity}_List>{''.join(self.entity(r) for r in records)}</{entity}_List>"

    def parse_entity(self, element: ET.Element) -> tuple[str | None, dict[str, Any]]:
        """The Key and the field values an entity element carries."""
        key: str | None = None
        values: dict[str, Any] = {}
        for name, text in _children(element).items():
            if text is None:
                continue
            if name == "Key":
                key = text
                continue
            field = self.page.field(name)
            if field is None:
                raise NavError(
                    Failure.BAD_REQUEST,
                    f"The element {name} is not a field of page {self.page.service_name}.",
                )
            values[name] = parse_text(field, text)
        return key, values

    def entities(self, operation: ET.Element, *, many: bool) -> list[ET.Element]:
        entity = self.page.service_name
        container: ET.Element | None = operation
        if many:
            container = next((c for c in operation if _local(c.tag) == f"{entity}_List"), None)
        found = [c for c in container if _local(c.tag) == entity] if container is not None else []
        if not found:
            raise NavError(Failure.BAD_REQUEST, f"The request carries no {entity} element.")
        return found

    def criteria(self, operation: ET.Element) -> list[Criterion]:
        result = []
        for element in operation:
            if _local(element.tag) != "filter":
                continue
            field, criteria = _text(element, "Field"), _text(element, "Criteria")
            if field:
                result.append(self.service.criterion(field, criteria))
        return result


def _read(call: _Call, operation: ET.Element) -> tuple[str, bool]:
    parameters = _children(operation)
    values = call.service.parse_key_values(
        [parameters.get(name) or "" for name in call.page.primary_key]
    )
    record = call.service.get(values)
    return call.result("Read_Result", call.entity(record) if record else ""), False


def _read_by_rec_id(call: _Call, operation: ET.Element) -> tuple[str, bool]:
    record = call.service.read_by_rec_id(_text(operation, "recId"))
    return call.result("ReadByRecId_Result", call.entity(record) if record else ""), False


def _read_multiple(call: _Call, operation: ET.Element) -> tuple[str, bool]:
    size_text = _text(operation, "setSize")
    try:
        set_size = int(size_text) if size_text else 0
    except ValueError:
        raise NavError(
            Failure.BAD_REQUEST, f"The setSize '{size_text}' is not an integer."
        ) from None
    bookmark = _text(operation, "bookmarkKey") or None
    records = call.service.read_multiple(call.criteria(operation), bookmark, set_size)
    inner = ""
    if records:
        inner = (
            f"<ReadMultiple_Result>{''.join(call.entity(r) for r in records)}</ReadMultiple_Result>"
        )
    return call.result("ReadMultiple_Result", inner), False


def _is_updated(call: _Call, operation: ET.Element) -> tuple[str, bool]:
    updated = call.service.is_updated(_text(operation, "Key"))
    value = "true" if updated else "false"
    return call.result("IsUpdated_Result", f"<IsUpdated_Result>{value}</IsUpdated_Result>"), False


def _rec_id(call: _Call, operation: ET.Element) -> tuple[str, bool]:
    rec_id = escape(call.service.rec_id(_text(operation, "Key")))
    inner = f"<GetRecIdFromKey_Result>{rec_id}</GetRecIdFromKey_Result>"
    return call.result("GetRecIdFromKey_Result", inner), False


def _create(call: _Call, operation: ET.Element) -> tuple[str, bool]:
    (element,) = call.entities(operation, many=False)[:1]
    _key, values = call.parse_entity(element)
    return call.result("Create_Result", call.entity(call.service.create(values))), True


def _create_multiple(call: _Call, operation: ET.Element) -> tuple[str, bool]:
    created = [
        call.service.create(call.parse_entity(e)[1]) for e in call.entities(operation, many=True)
    ]
    return call.result("CreateMultiple_Result", call.entity_list(created)), True


def _update_one(call: _Call, element: ET.Element) -> Record:
    key, values = call.parse_entity(element)
    if not key:
        raise NavError(Failure.BAD_REQUEST, "Update needs the Key of the record.")
    return call.service.update(key, values)


def _update(call: _Call, operation: ET.Element) -> tuple[str, bool]:
    (element,) = call.entities(operation, many=False)[:1]
    return call.result("Update_Result", call.entity(_update_one(call, element))), True


def _update_multiple(call: _Call, operation: ET.Element) -> tuple[str, bool]:
    updated = [_update_one(call, e) for e in call.entities(operation, many=True)]
    return call.result("UpdateMultiple_Result", call.entity_list(updated)), True


def _delete(call: _Call, operation: ET.Element) -> tuple[str, bool]:
    call.service.delete(_text(operation, "Key"))
    return call.result("Delete_Result", "<Delete_Result>true</Delete_Result>"), True


_HANDLERS: dict[str, Callable[[_Call, ET.Element], tuple[str, bool]]] = {
    "Read": _read,
    "ReadByRecId": _read_by_rec_id,
    "ReadMultiple": _read_multiple,
    "IsUpdated": _is_updated,
    "GetRecIdFromKey": _rec_id,
    "Create": _create,
    "CreateMultiple": _create_multiple,
    "Update": _update,
    "UpdateMultiple": _update_multiple,
    "Delete": _delete,
}
