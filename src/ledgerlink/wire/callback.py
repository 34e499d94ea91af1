"""The ERP callback: how the ERP side (NAV's job queue "Tlp Change Handler") reports its
changes to FinancialHost over loopback.

The ERP side has its own handle and secret (entered on NAV's "TimeLog Setup" page), separate
from the hub's keys. A callback is::

    POST /callback/v1/changes
    X-FH-Callback-Handle: <handle>
    X-FH-Callback-Timestamp: <unix seconds>
    X-FH-Callback-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>\\n<handle>\\n<sha256(body)>")>
    {"company": "...", "changes": [{"entry_no": 1, "table_id": 18, "table_name": "Customer",
      "record_key": "10000", "change_type": "Insert", "changed_at": "2026-11-24T10:00:00Z"}]}
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ledgerlink.wire.signing import (
    WINDOW_SECONDS,
    SignatureRejected,
    parse_timestamp,
    same_signature,
)

H_HANDLE = "X-FH-Callback-Handle"
H_TIMESTAMP = "X-FH-Callback-Timestamp"
H_SIGNATURE = "X-FH-Callback-Signature"
PATH = "/callback/v1/changes"


class CallbackChange(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    entry_no: int
    table_id: int
    table_name: str = ""
    record_key: str
    change_type: Literal["Insert", "Modify", "Delete"]
    changed_at: datetime


class CallbackBatch(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    company: str = ""
    changes: tuple[CallbackChange, ...] = Field(max_length=10_000)


def _message(timestamp: str, handle: str, body: bytes) -> bytes:
    return f"{timestamp}\n{handle}\n{hashlib.sha256(body).hexdigest()}".encode()


def sign_callback(
    *, handle: str, secret: str, body: bytes, now: datetime | None = None
) -> dict[str, str]:
    timestamp = str(int((now or datetime.now(UTC)).timestamp()))
    mac = hmac.new(secret.encode(), _message(timestamp, handle, body), hashlib.sha256)
    return {H_HANDLE: handle, H_TIMESTAMP: timestamp, H_SIGNATURE: f"v1={mac.hexdigest()}"}


def verify_callback(
    *,
    headers: Mapping[str, str],
    body: bytes,
    secrets: Mapping[str, str],
    now: datetime | None = None,
) -> str:
    """Check a callback's signature; return its handle. ``secrets`` maps handle → secret."""

    def header(name: str) -> str:
        value = headers.get(name) or headers.get(name.lower())
        if not value:
            raise SignatureRejected("unsigned", f"The callback has no {name} header.")
        return value

    handle, timestamp, signature = header(H_HANDLE), header(H_TIMESTAMP), header(H_SIGNATURE)
    secret = secrets.get(handle)
    if secret is None:
        raise SignatureRejected("unknown_key", f"The callback handle '{handle}' is not known.")
    skew = abs((now or datetime.now(UTC)).timestamp() - parse_timestamp(timestamp, H_TIMESTAMP))
    if skew > WINDOW_SECONDS:
        raise SignatureRejected("expired", "The callback's timestamp is outside the window.")
    expected = (
        "v1="
        + hmac.new(secret.encode(), _message(timestamp, handle, body), hashlib.sha256).hexdigest()
    )
    if not same_signature(expected, signature.strip()):
        raise SignatureRejected("bad_signature", "The callback's signature does not match.")
    return handle
