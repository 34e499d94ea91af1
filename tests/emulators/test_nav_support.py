"""Helpers for the NAV emulator tests: serve it over real HTTP and speak SOAP/OData to it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape

import httpx2

from ledgerlink.emulators._kit.serve import running_all
from ledgerlink.emulators.nav import NavConfig, NavEmulator

AUTH = ("WEBSERVICE", "Passw0rd!")
COMPANY = "CRONUS International Ltd."
WORK_DATE = date(2026, 11, 24)
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
INSTANCE = "DynamicsNAV100"


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def fields_of(element: ET.Element) -> dict[str, str]:
    """An entity element as ``{field: text}``."""
    return {local(child.tag): child.text or "" for child in element}


class SoapFault(Exception):
    def __init__(self, status: int, code: str, message: str, detail: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.detail = status, code, message, detail


class Nav:
    """A client for one served emulator: ``http`` on the SOAP port (and the admin routes);
    OData is on its own port, so OData URLs are absolute (:attr:`odata_base`)."""

    def __init__(self, emulator: NavEmulator, roots: dict[str, str], client: httpx2.Client) -> None:
        self.emulator = emulator
        self.url = roots["soap"]
        self.odata_root = roots["odata"]
        self.odata_base = f"{self.odata_root}/{INSTANCE}/ODataV4"
        self.http = client

    def page_url(self, service: str, company: str = COMPANY, kind: str = "Page") -> str:
        return f"/{INSTANCE}/WS/{quote(company, safe='')}/{kind}/{service}"

    def post_soap(self, path: str, namespace: str, body: str) -> httpx2.Response:
        envelope = (
            f'<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body>'
            f"{body.replace('NS', namespace)}</soap:Body></soap:Envelope>"
        )
        return self.http.post(
            path, content=envelope, headers={"Content-Type": "text/xml; charset=utf-8"}
        )

    def call(self, service: str, body: str, *, company: str = COMPANY) -> ET.Element:
        """POST a page operation (``NS`` in ``body`` is replaced by the page namespace);
        return the ``<Op>_Result`` element, or raise :class:`SoapFault`."""
        namespace = f"urn:microsoft-dynamics-schemas/page/{service.lower()}"
        response = self.post_soap(self.page_url(service, company), namespace, body)
        root = ET.fromstring(response.content)
        fault = root.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
        if fault is not None:
            detail = fault.find(
                "detail/{http://schemas.microsoft.com/2003/10/Serialization/}string"
            )
            raise SoapFault(
                response.status_code,
                fault.findtext("faultcode") or "",
                fault.findtext("faultstring") or "",
                detail.text or "" if detail is not None else "",
            )
        assert response.status_code == 200, response.text
        assert root.tag == f"{{{SOAP_ENV}}}Envelope"
        return root[0][0]

    @staticmethod
    def entity_xml(service: str, values: dict[str, Any]) -> str:
        inner = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in values.items())
        return f"<{service}>{inner}</{service}>"

    def create(self, service: str, values: dict[str, Any]) -> dict[str, str]:
        result = self.call(
            service, f'<Create xmlns="NS">{self.entity_xml(service, values)}</Create>'
        )
        return fields_of(result[0])

    def update(self, service: str, values: dict[str, Any]) -> dict[str, str]:
        result = self.call(
            service, f'<Update xmlns="NS">{self.entity_xml(service, values)}</Update>'
        )
        return fields_of(result[0])

    def read(self, service: str, **key: str) -> dict[str, str] | None:
        params = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in key.items())
        result = self.call(service, f'<Read xmlns="NS">{params}</Read>')
        return fields_of(result[0]) if len(result) else None

    def read_multiple(
        self,
        service: str,
        filters: list[tuple[str, str]] | None = None,
        *,
        bookmark: str | None = None,
        set_size: int | None = None,
    ) -> list[dict[str, str]]:
        parts = [
            f"<filter><Field>{f}</Field><Criteria>{escape(c)}</Criteria></filter>"
            for f, c in (filters or [])
        ]
        if bookmark is not None:
            parts.append(f"<bookmarkKey>{escape(bookmark)}</bookmarkKey>")
        if set_size is not None:
            parts.append(f"<setSize>{set_size}</setSize>")
        result = self.call(service, f'<ReadMultiple xmlns="NS">{"".join(parts)}</ReadMultiple>')
        if len(result) == 0:
            return []
        return [fields_of(entity) for entity in result[0]]

    def delete(self, service: str, key: str) -> bool:
        result = self.call(service, f'<Delete xmlns="NS"><Key>{escape(key)}</Key></Delete>')
        return result[0].text == "true"

    def admin(self, method: str, path: str, payload: Any = None) -> httpx2.Response:
        return self.http.request(method, f"/_emulator{path}", json=payload)

    def company_admin(self, method: str, path: str, payload: Any = None) -> httpx2.Response:
        return self.admin(method, f"/companies/{quote(COMPANY, safe='')}{path}", payload)

    def odata_url(self, path: str, company: str = COMPANY) -> str:
        return f"{self.odata_base}/Company('{quote(company, safe='')}')/{path}"


def config(**changes: Any) -> NavConfig:
    """The default configuration with the work date pinned."""
    return NavConfig(work_date=WORK_DATE, **changes)


@contextmanager
def serve_nav(
    nav_config: NavConfig | None = None, *, state_file: Path | None = None, auth: Any = AUTH
) -> Iterator[Nav]:
    """Serve a fresh emulator; yield a client that authenticates as ``auth``."""
    emulator = NavEmulator(config=nav_config or config(), state_file=state_file)
    try:
        with (
            running_all(emulator.apps) as roots,
            httpx2.Client(base_url=roots["soap"], auth=auth, timeout=10) as client,
        ):
            yield Nav(emulator, roots, client)
    finally:
        emulator.close()
