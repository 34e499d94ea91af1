"""The signed envelope: HMAC-SHA256 over what a request means, not just its body (design §10).

A request is signed over its method, path, sorted query, timestamp, nonce, key id, transaction id
and the SHA-256 of its body. The receiver rejects a missing or wrong signature, a timestamp more
than :data:`WINDOW_SECONDS` away from its clock, and an unknown or retired key id. Replayed
nonces and reused transaction ids need memory, so the receiver (the host) checks those itself
with the :class:`SignedRequest` this module returns.

Keys have ids so secrets can be rotated with overlap: the receiver holds the old and the new key
for a while; the sender signs with the new one. During a rotation a sender may also send several
signatures (``v1=<hex>,v1=<hex>``); one valid signature is enough.

Answers are signed as well (:func:`sign_response`), so the hub knows an answer came from the
host it enrolled and belongs to the request it sent.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode

WINDOW_SECONDS = 300

H_KEY_ID = "X-FH-Key-Id"
H_TIMESTAMP = "X-FH-Timestamp"
H_NONCE = "X-FH-Nonce"
H_TRANSACTION = "X-FH-Transaction"
H_SIGNATURE = "X-FH-Signature"
SIGNED_HEADERS = (H_KEY_ID, H_TIMESTAMP, H_NONCE, H_TRANSACTION, H_SIGNATURE)

_SCHEME = "v1"
#: Unix seconds as a sender writes them: ASCII digits, at most 12 (a 400-digit number must be
#: refused as malformed, not overflow the float arithmetic of the window check).
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A shared secret with its id. ``not_after``: the key is refused after this moment (the
    end of a rotation's overlap)."""

    key_id: str
    secret: bytes
    not_after: datetime | None = None

    def usable(self, now: datetime) -> bool:
        return self.not_after is None or now <= self.not_after


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """What a verified request was signed with; the receiver checks nonce and transaction id
    for reuse."""

    key_id: str
    timestamp: int
    nonce: str
    transaction_id: str


class SignatureRejected(Exception):
    """The request is not authentic. ``reason`` is a short code for the audit log."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def canonical_query(query: str) -> str:
    """The query string with its parameters sorted, so equivalent URLs sign alike."""
    return urlencode(sorted(parse_qsl(query, keep_blank_values=True)))


def canonical_request(
    *,
    method: str,
    path: str,
    query: str,
    timestamp: int,
    nonce: str,
    key_id: str,
    transaction_id: str,
    body: bytes,
) -> bytes:
    return "\n".join(
        (
            method.upper(),
            path,
            canonical_query(query),
            str(timestamp),
            nonce,
            key_id,
            transaction_id,
            body_digest(body),
        )
    ).encode()


def _mac(secret: bytes, message: bytes) -> str:
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def new_nonce() -> str:
    return secrets.token_urlsafe(18)


def new_transaction_id() -> str:
    return secrets.token_hex(16)


def sign_request(
    *,
    method: str,
    path: str,
    body: bytes,
    keys: Iterable[SigningKey],
    query: str = "",
    now: datetime | None = None,
    nonce: str | None = None,
    transaction_id: str | None = None,
) -> dict[str, str]:
    """The headers that sign a request. The first key's id is sent; every key signs (for a
    rotation in progress pass the new key first and the old one after it)."""
    key_list = list(keys)
    if not key_list:
        raise ValueError("at least one signing key is needed")
    timestamp = int((now or datetime.now(UTC)).timestamp())
    nonce = nonce or new_nonce()
    transaction_id = transaction_id or new_transaction_id()
    key_id = key_list[0].key_id
    message = canonical_request(
        method=method,
        path=path,
        query=query,
        timestamp=timestamp,
        nonce=nonce,
        key_id=key_id,
        transaction_id=transaction_id,
        body=body,
    )
    signatures = ",".join(f"{_SCHEME}={_mac(key.secret, message)}" for key in key_list)
    return {
        H_KEY_ID: key_id,
        H_TIMESTAMP: str(timestamp),
        H_NONCE: nonce,
        H_TRANSACTION: transaction_id,
        H_SIGNATURE: signatures,
    }


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name) or headers.get(name.lower())
    if not value:
        raise SignatureRejected("unsigned", f"The request has no {name} header; sign it.")
    return value


def parse_timestamp(raw: str, header: str = H_TIMESTAMP) -> int:
    """A timestamp header's Unix seconds; anything but 1–12 ASCII digits is malformed."""
    if not _TIMESTAMP.fullmatch(raw):
        raise SignatureRejected("malformed", f"{header} must be Unix seconds.")
    return int(raw)


def same_signature(expected: str, given: str) -> bool:
    """Constant-time comparison that answers False (not TypeError) for non-ASCII input."""
    return given.isascii() and hmac.compare_digest(expected, given)


def _signatures(header: str) -> list[str]:
    found = []
    for part in header.split(","):
        scheme, _, value = part.strip().partition("=")
        if scheme == _SCHEME and value:
            found.append(value)
    return found


def verify_request(
    *,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    keys: Iterable[SigningKey],
    now: datetime | None = None,
    window_seconds: int = WINDOW_SECONDS,
) -> SignedRequest:
    """Check a request's signature and freshness; raise :class:`SignatureRejected` if it is
    missing, tampered, expired or made with an unknown or retired key."""
    now = now or datetime.now(UTC)
    key_id = _header(headers, H_KEY_ID)
    raw_timestamp = _header(headers, H_TIMESTAMP)
    nonce = _header(headers, H_NONCE)
    transaction_id = _header(headers, H_TRANSACTION)
    signature_header = _header(headers, H_SIGNATURE)
    if not 8 <= len(nonce) <= 128 or not 8 <= len(transaction_id) <= 128:
        raise SignatureRejected("malformed", "The nonce and transaction id need 8–128 characters.")
    if not all(_printable_ascii(v) for v in (key_id, nonce, transaction_id)) or len(key_id) > 128:
        raise SignatureRejected(
            "malformed", "The key id, nonce and transaction id must be printable ASCII."
        )
    timestamp = parse_timestamp(raw_timestamp)
    skew = abs(now.timestamp() - timestamp)
    if skew > window_seconds:
        raise SignatureRejected(
            "expired",
            f"The request was signed {int(skew)} s away from the host's clock (the limit is "
            f"{window_seconds} s). Check both clocks (NTP) and send a freshly signed request.",
        )
    key = next((k for k in keys if k.key_id == key_id), None)
    if key is None:
        raise SignatureRejected("unknown_key", f"The key id '{key_id}' is not known to this host.")
    if not key.usable(now):
        raise SignatureRejected(
            "retired_key", f"The key '{key_id}' was retired; sign with the current key."
        )
    expected = _mac(
        key.secret,
        canonical_request(
            method=method,
            path=path,
            query=query,
            timestamp=timestamp,
            nonce=nonce,
            key_id=key_id,
            transaction_id=transaction_id,
            body=body,
        ),
    )
    if not any(same_signature(expected, given) for given in _signatures(signature_header)):
        raise SignatureRejected(
            "bad_signature",
            "The signature does not match the request: it was changed on the way or signed "
            "with another secret.",
        )
    return SignedRequest(key_id, timestamp, nonce, transaction_id)


def _printable_ascii(value: str) -> bool:
    return value.isascii() and value.isprintable()


def _response_message(
    *, status: int, transaction_id: str, timestamp: int, key_id: str, body: bytes
) -> bytes:
    return "\n".join(
        ("RESPONSE", str(status), transaction_id, str(timestamp), key_id, body_digest(body))
    ).encode()


def sign_response(
    *, status: int, transaction_id: str, body: bytes, key: SigningKey, now: datetime | None = None
) -> dict[str, str]:
    """Headers that sign an answer to the request with ``transaction_id``."""
    timestamp = int((now or datetime.now(UTC)).timestamp())
    message = _response_message(
        status=status,
        transaction_id=transaction_id,
        timestamp=timestamp,
        key_id=key.key_id,
        body=body,
    )
    return {
        H_KEY_ID: key.key_id,
        H_TIMESTAMP: str(timestamp),
        H_TRANSACTION: transaction_id,
        H_SIGNATURE: f"{_SCHEME}={_mac(key.secret, message)}",
    }


def verify_response(
    *,
    status: int,
    transaction_id: str,
    headers: Mapping[str, str],
    body: bytes,
    keys: Iterable[SigningKey],
    now: datetime | None = None,
    window_seconds: int = WINDOW_SECONDS,
) -> None:
    """Check that an answer is signed by a known key and belongs to ``transaction_id``."""
    now = now or datetime.now(UTC)
    key_id = _header(headers, H_KEY_ID)
    if _header(headers, H_TRANSACTION) != transaction_id:
        raise SignatureRejected("wrong_transaction", "The answer belongs to another request.")
    timestamp = parse_timestamp(_header(headers, H_TIMESTAMP))
    if abs(now.timestamp() - timestamp) > window_seconds:
        raise SignatureRejected("expired", "The answer's signature is outside the time window.")
    key = next((k for k in keys if k.key_id == key_id and k.usable(now)), None)
    if key is None:
        raise SignatureRejected("unknown_key", f"The answer is signed with unknown key {key_id}.")
    expected = _mac(
        key.secret,
        _response_message(
            status=status,
            transaction_id=transaction_id,
            timestamp=timestamp,
            key_id=key_id,
            body=body,
        ),
    )
    if not any(
        same_signature(expected, given) for given in _signatures(_header(headers, H_SIGNATURE))
    ):
        raise SignatureRejected("bad_signature", "The answer's signature does not match.")
