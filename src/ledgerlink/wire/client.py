"""A signing HTTPS client for the wire contract, used by the hub's connector (and by the host in
agent mode): signs every request, checks every answer's signature, never follows redirects."""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2

from ledgerlink.wire.operations import OPERATIONS, WireModel
from ledgerlink.wire.signing import (
    H_TRANSACTION,
    SignatureRejected,
    SigningKey,
    sign_request,
    verify_response,
)


@dataclass(frozen=True, slots=True)
class WireAnswer:
    status: int
    body: dict[str, Any]
    retry_after: float | None = None


class AnswerNotAuthentic(Exception):
    """An answer came back without a valid signature: do not trust its content."""


def tls_context(
    *, verify: bool | str | Path = True, client_cert: tuple[Path, Path] | None = None
) -> ssl.SSLContext | bool:
    """An SSL context that trusts ``verify`` (a CA/certificate file, e.g. the host's own
    self-signed certificate, or the system store for True) and presents ``client_cert``."""
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif verify is True:
        context = ssl.create_default_context()
    else:
        context = ssl.create_default_context(cafile=str(verify))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if client_cert:
        context.load_cert_chain(str(client_cert[0]), str(client_cert[1]))
    return context


class SignedClient:
    """POSTs operations to ``{base_url}/v1/ops/{name}`` signed with ``keys`` (the first key's
    id is sent; pass the new key first during a rotation)."""

    def __init__(
        self,
        base_url: str,
        *,
        keys: Sequence[SigningKey],
        verify: ssl.SSLContext | bool = True,
        timeout: float = 60.0,
        transport: httpx2.BaseTransport | None = None,
        new_transaction_id: Callable[[], str] | None = None,
    ) -> None:
        self._keys = list(keys)
        self._new_transaction_id = new_transaction_id
        self._http = httpx2.Client(
            base_url=base_url.rstrip("/"),
            verify=verify,
            timeout=timeout,
            follow_redirects=False,
            transport=transport,
            headers={"User-Agent": "ledgerlink-financialhost-client"},
        )

    def call(self, operation: str, request: WireModel | dict[str, Any]) -> WireAnswer:
        """Send one operation; raise :class:`AnswerNotAuthentic` if the answer is not signed
        by one of our keys for this very request. Transport errors propagate (httpx2)."""
        if operation not in OPERATIONS:
            raise ValueError(f"'{operation}' is not a wire operation")
        body = (
            request.model_dump_json().encode()
            if isinstance(request, WireModel)
            else json.dumps(request).encode()
        )
        return self.post(f"/v1/ops/{operation}", body)

    def post(self, path: str, body: bytes) -> WireAnswer:
        transaction_id = self._new_transaction_id() if self._new_transaction_id else None
        headers = sign_request(
            method="POST", path=path, body=body, keys=self._keys, transaction_id=transaction_id
        )
        response = self._http.post(
            path, content=body, headers={**headers, "Content-Type": "application/json"}
        )
        if response.status_code in (401, 403, 413) and H_TRANSACTION not in response.headers:
            # Refusals come before the host knows the caller; they are not signed.
            return WireAnswer(response.status_code, _json(response.content))
        try:
            verify_response(
                status=response.status_code,
                transaction_id=headers[H_TRANSACTION],
                headers=response.headers,
                body=response.content,
                keys=self._keys,
            )
        except SignatureRejected as rejected:
            raise AnswerNotAuthentic(
                f"The answer from {self._http.base_url} is not signed by FinancialHost "
                f"({rejected.message}); check the address and the key."
            ) from None
        retry_after = response.headers.get("Retry-After")
        return WireAnswer(
            response.status_code,
            _json(response.content),
            float(retry_after) if retry_after and retry_after.isdigit() else None,
        )

    def close(self) -> None:
        self._http.close()


def _json(content: bytes) -> dict[str, Any]:
    try:
        loaded = json.loads(content) if content else {}
    except ValueError:
        return {"error": {"code": "internal", "message": content[:500].decode("utf-8", "replace")}}
    return loaded if isinstance(loaded, dict) else {"value": loaded}
