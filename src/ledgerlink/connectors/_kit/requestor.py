"""Requestor: one classified, retried HTTP call (stripe-python's ``_api_requestor`` layer).

Connectors call :meth:`Requestor.request`; it sends through the client from
:func:`~ledgerlink.connectors._kit.http.build_client`, turns transport failures and error
responses into contract errors (via :func:`~ledgerlink.connectors._kit.retry.decide` and the
ERP's :class:`~ledgerlink.connectors._kit.errors.ErrorTable`) and retries what is Transient.
JSON is written and read with exact decimals: money never passes through ``float``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import httpx2
import structlog

from ledgerlink.connectors._kit.errors import ErrorTable, classify_response
from ledgerlink.connectors._kit.retry import (
    RetryPolicy,
    call_with_retries,
    decide,
    error_class,
    outcome_of_exception,
)

Params = tuple[tuple[str, str], ...] | Mapping[str, str]
#: Files of a ``multipart/form-data`` upload: form field → (file name, bytes, content type).
Files = Mapping[str, tuple[str, bytes, str]]


def encode_json(value: Any) -> bytes:
    """Compact JSON in which a :class:`~decimal.Decimal` is written as the exact number and a
    date in ISO 8601."""
    return _encode(value).encode()


def _encode(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} cannot be sent as a JSON number")
        return format(value, "f")
    if isinstance(value, int | str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, date):
        return f'"{value.isoformat()}"'
    if isinstance(value, float):
        raise TypeError("floats are never sent; use Decimal")
    if isinstance(value, Mapping):
        members = (
            f"{json.dumps(str(k), ensure_ascii=False)}:{_encode(v)}" for k, v in value.items()
        )
        return "{" + ",".join(members) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_encode(item) for item in value) + "]"
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def decode_json(content: bytes) -> Any:
    """Parse JSON with every non-integer number as :class:`~decimal.Decimal`."""
    return json.loads(content, parse_float=Decimal) if content else None


class Requestor:
    """Sends requests for one connection; see the module docstring."""

    def __init__(
        self,
        *,
        client: httpx2.Client,
        errors: ErrorTable,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._client = client
        self._errors = errors
        self._retry = retry if retry is not None else RetryPolicy()
        self._log = structlog.get_logger("ledgerlink.http").bind(erp=errors.erp)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Params | None = None,
        body: Any = None,
        files: Files | None = None,
    ) -> httpx2.Response:
        """Send once or more (Transient only) and return the successful response. ``body``
        goes as JSON; ``files`` (instead of a body) as a ``multipart/form-data`` upload."""
        verb = method.upper()
        if body is not None and files is not None:
            raise ValueError("a request has a JSON body or files, not both")
        content = encode_json(body) if body is not None else None
        headers = {"Content-Type": "application/json"} if content is not None else None

        def attempt() -> httpx2.Response:
            try:
                response = self._client.request(
                    verb,
                    url,
                    params=params,
                    content=content,
                    headers=headers,
                    files=dict(files) if files is not None else None,
                )
            except httpx2.TransportError as failure:
                decision = decide(verb, outcome_of_exception(failure))
                self._log.warning(
                    "http.failed", method=verb, url=url, error=type(failure).__name__,
                    verdict=decision.verdict.value,
                )  # fmt: skip
                cls = error_class(decision.verdict)
                message = f"{self._errors.erp}: {verb} {url}: {decision.reason} ({failure})"
                raise cls(message) from failure
            if response.is_success:
                response.read()
                return response
            raise classify_response(self._errors, response, method=verb)

        return call_with_retries(attempt, policy=self._retry)

    def json(
        self,
        method: str,
        url: str,
        *,
        params: Params | None = None,
        body: Any = None,
        files: Files | None = None,
    ) -> Any:
        """:meth:`request` and decode the answer's JSON (Decimal numbers)."""
        answer = self.request(method, url, params=params, body=body, files=files)
        return decode_json(answer.content)
