"""NAV web-service transport: SOAP page/codeunit services and OData V4, Basic auth, and the
translation of transport failures into the plugin's errors.

* connection refused, timeouts, HTTP 502/503/504 → :class:`ErpUnavailable` (the host keeps
  the job; writes that may have reached NAV are reconciled by the caller's lookups);
* HTTP 401 → :class:`ErpRejected` about the credentials;
* SOAP faults / OData errors → :class:`ErpRejected` with NAV's text and a hint, except a stale
  ``Key`` ("Other user has modified …"), raised as :class:`StaleRecord` so the caller can re-read
  and retry once.

XML is built and parsed with :mod:`xml.etree.ElementTree`: NAV is a trusted peer on the local
network (no ``defusedxml`` dependency); DTDs are refused all the same.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx2

from ledgerlink.financialhost.nav.mapping import field_errors_of, hint_for
from ledgerlink.financialhost.plugin import ErpRejected, ErpUnavailable

__all__ = ["Entity", "NavClient", "StaleRecord"]

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
_XML = "text/xml; charset=utf-8"
_UNAVAILABLE = {502, 503, 504}
_AUTH_HINT = "NAV refused the user/password or access key: check nav:password in the host vault."

#: A page entity as field name → text (``Key`` included); blank text fields are absent, as NAV
#: leaves them out.
Entity = dict[str, str]


class StaleRecord(ErpRejected):
    """NAV: "Other user has modified …" — the record changed since its Key was read."""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text_of(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


class NavClient:
    """One NAV company's web services (SOAP pages and codeunits, OData V4)."""

    def __init__(
        self,
        *,
        soap_url: str,
        odata_url: str,
        company: str,
        username: str,
        password: str,
        timeout_seconds: float,
        page_size: int,
        transport: httpx2.BaseTransport | None = None,
    ) -> None:
        self._soap_base = f"{soap_url}/{quote(company, safe='')}"
        self._odata_base = (
            f"{odata_url}/Company('{quote(company.replace(chr(39), chr(39) * 2), safe='')}')"
        )
        self.page_size = page_size
        self._http = httpx2.Client(
            auth=(username, password),
            timeout=httpx2.Timeout(timeout_seconds, connect=min(timeout_seconds, 10.0)),
            transport=transport,
        )

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    # --- HTTP and errors -------------------------------------------------------------------------

    def _send(self, method: str, url: str, *, write: bool, **kwargs: Any) -> httpx2.Response:
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx2.TimeoutException as problem:
            moment = "may have been written" if write else "was not answered"
            raise ErpUnavailable(
                f"NAV did not answer in time ({type(problem).__name__}); the request {moment}.",
                erp_text=str(problem),
            ) from None
        except httpx2.TransportError as problem:
            raise ErpUnavailable(
                f"NAV cannot be reached: {type(problem).__name__}: {problem}",
                erp_text=str(problem),
            ) from None
        if response.status_code in _UNAVAILABLE:
            raise ErpUnavailable(
                f"NAV answered HTTP {response.status_code} (service unavailable).",
                erp_text=response.text[:500],
            )
        if response.status_code == 401:
            raise ErpRejected("NAV refused the credentials (HTTP 401).", hint=_AUTH_HINT)
        return response

    @staticmethod
    def _rejected(message: str, erp_text: str) -> ErpRejected:
        cls = StaleRecord if "Other user has modified" in erp_text else ErpRejected
        return cls(
            message,
            erp_text=erp_text,
            hint=hint_for(erp_text),
            field_errors=field_errors_of(erp_text),
        )

    # --- SOAP ------------------------------------------------------------------------------------

    def _soap(self, url: str, namespace: str, operation: ET.Element, *, write: bool) -> ET.Element:
        envelope = ET.Element(f"{{{SOAP_ENV}}}Envelope")
        ET.SubElement(envelope, f"{{{SOAP_ENV}}}Body").append(operation)
        body = ET.tostring(envelope, encoding="utf-8", xml_declaration=True)
        action = f"{namespace}:{_local(operation.tag)}"
        response = self._send(
            "POST",
            url,
            write=write,
            content=body,
            headers={"Content-Type": _XML, "SOAPAction": f'"{action}"'},
        )
        if b"<!DOCTYPE" in response.content.upper():
            raise ErpRejected("NAV answered with a DTD; refused.")
        try:
            root = ET.fromstring(response.content)
        except ET.ParseError:
            raise ErpRejected(
                f"NAV answered HTTP {response.status_code} without a SOAP envelope.",
                erp_text=response.text[:500],
                hint="Check soap_url, company and that the service is published."
                if response.status_code == 404
                else "",
            ) from None
        result = root.find(f"{{{SOAP_ENV}}}Body")
        content = result[0] if result is not None and len(result) else None
        if content is None:
            raise ErpRejected("NAV answered an empty SOAP body.", erp_text=response.text[:500])
        if _local(content.tag) == "Fault":
            text = (content.findtext("faultstring") or "").strip()
            if response.status_code == 404:
                raise ErpRejected(
                    f"NAV service not found: {text}",
                    erp_text=text,
                    hint="Publish the web service in NAV or correct [nav] services/company.",
                )
            raise self._rejected(f"NAV refused {_local(operation.tag)}: {text}", text)
        return content

    def _page_call(
        self, service: str, operation: str, build: Sequence[ET.Element], *, write: bool
    ) -> tuple[ET.Element, str]:
        namespace = f"urn:microsoft-dynamics-schemas/page/{service.lower()}"
        element = ET.Element(f"{{{namespace}}}{operation}")
        for child in build:
            element.append(child)
        url = f"{self._soap_base}/Page/{service}"
        return self._soap(url, namespace, _qualify(element, namespace), write=write), namespace

    @staticmethod
    def _entities(result: ET.Element, service: str) -> list[Entity]:
        return [
            {_local(child.tag): child.text or "" for child in found}
            for found in result.iter()
            if _local(found.tag) == service
        ]

    def read(self, service: str, **key: str) -> Entity | None:
        """Read one record by its primary-key fields (``None`` when there is none)."""
        parameters = [_element(name, value) for name, value in key.items()]
        result, _ = self._page_call(service, "Read", parameters, write=False)
        found = self._entities(result, service)
        return found[0] if found else None

    def read_multiple(
        self,
        service: str,
        filters: Sequence[tuple[str, str]] = (),
        *,
        bookmark: str | None = None,
        size: int = 0,
    ) -> list[Entity]:
        """One ReadMultiple call: ANDed NAV filters, continuing after ``bookmark``."""
        parameters: list[ET.Element] = []
        for field, criteria in filters:
            item = ET.Element("filter")
            item.append(_element("Field", field))
            item.append(_element("Criteria", criteria))
            parameters.append(item)
        if bookmark:
            parameters.append(_element("bookmarkKey", bookmark))
        parameters.append(_element("setSize", str(size)))
        result, _ = self._page_call(service, "ReadMultiple", parameters, write=False)
        return self._entities(result, service)

    def read_all(self, service: str, filters: Sequence[tuple[str, str]] = ()) -> Iterator[Entity]:
        """Every matching record, ``page_size`` at a time (bookmark = the last Key)."""
        bookmark: str | None = None
        while True:
            page = self.read_multiple(service, filters, bookmark=bookmark, size=self.page_size)
            yield from page
            if len(page) < self.page_size:
                return
            bookmark = page[-1]["Key"]

    def create(self, service: str, values: Mapping[str, str]) -> Entity:
        """Create one record; NAV answers it as created (number series, defaults)."""
        result, _ = self._page_call(service, "Create", [_entity(service, values)], write=True)
        return self._entities(result, service)[0]

    def create_multiple(self, service: str, rows: Sequence[Mapping[str, str]]) -> list[Entity]:
        """Create several records in one atomic call."""
        wrapper = ET.Element(f"{service}_List")
        for row in rows:
            wrapper.append(_entity(service, row))
        result, _ = self._page_call(service, "CreateMultiple", [wrapper], write=True)
        return self._entities(result, service)

    def update(self, service: str, key: str, values: Mapping[str, str]) -> Entity:
        """Update the record ``key`` names (NAV checks the Key: :class:`StaleRecord`)."""
        result, _ = self._page_call(
            service, "Update", [_entity(service, {"Key": key, **values})], write=True
        )
        return self._entities(result, service)[0]

    def delete(self, service: str, key: str) -> None:
        """Delete the record ``key`` names."""
        self._page_call(service, "Delete", [_element("Key", key)], write=True)

    def codeunit(self, service: str, function: str) -> str:
        """Call a codeunit function without parameters; its ``return_value``."""
        namespace = f"urn:microsoft-dynamics-schemas/codeunit/{service}"
        operation = ET.Element(f"{{{namespace}}}{function}")
        result = self._soap(
            f"{self._soap_base}/Codeunit/{service}", namespace, operation, write=False
        )
        value = next((e for e in result.iter() if _local(e.tag) == "return_value"), None)
        return (value.text or "") if value is not None else ""

    # --- OData V4 --------------------------------------------------------------------------------

    def odata(
        self, service: str, *, filter: str = "", orderby: str = "", limit: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """Entities of an OData V4 collection, following ``@odata.nextLink`` (server paging at
        ``page_size``) until ``limit`` entities (all when ``None``). Decimals stay Decimal."""
        params: dict[str, str] = {}
        if filter:
            params["$filter"] = filter
        if orderby:
            params["$orderby"] = orderby
        url: str | None = f"{self._odata_base}/{service}"
        headers = {
            "Accept": "application/json",
            "Prefer": f"odata.maxpagesize={self.page_size}",
        }
        count = 0
        while url is not None:
            response = self._send("GET", url, write=False, params=params or None, headers=headers)
            try:
                document = json.loads(response.content, parse_float=Decimal)
            except ValueError:
                raise ErpRejected(
                    f"NAV OData answered HTTP {response.status_code} without JSON.",
                    erp_text=response.text[:500],
                    hint="Check odata_url (NAV's OData V4 port, 7048 by default) and company."
                    if response.status_code == 404
                    else "",
                ) from None
            if response.status_code >= 400:
                error = document.get("error", {}) if isinstance(document, dict) else {}
                text = str(error.get("message", response.text[:500]))
                raise self._rejected(f"NAV OData refused the read: {text}", text)
            for entity in document.get("value", []):
                yield entity
                count += 1
                if limit is not None and count >= limit:
                    return
            url = document.get("@odata.nextLink")
            params = {}


def _element(name: str, value: str) -> ET.Element:
    element = ET.Element(name)
    element.text = value
    return element


def _entity(service: str, values: Mapping[str, Any]) -> ET.Element:
    entity = ET.Element(service)
    for name, value in values.items():
        entity.append(_element(name, _text_of(value)))
    return entity


def _qualify(element: ET.Element, namespace: str) -> ET.Element:
    """Put ``element``'s unqualified descendants in ``namespace`` (NAV's page schemas are
    element-form qualified)."""
    for child in element.iter():
        if not child.tag.startswith("{"):
            child.tag = f"{{{namespace}}}{child.tag}"
    return element


def odata_text(value: Any) -> str:
    """An OData JSON value as the page text the mapping functions read."""
    return _text_of(value)
