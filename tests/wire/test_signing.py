"""The signed envelope: what is covered by the signature, and every way a request is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ledgerlink.wire import callback
from ledgerlink.wire.signing import (
    H_NONCE,
    H_SIGNATURE,
    H_TIMESTAMP,
    H_TRANSACTION,
    SignatureRejected,
    SigningKey,
    sign_request,
    sign_response,
    verify_request,
    verify_response,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
KEY = SigningKey("k1", b"s" * 32)
BODY = b'{"number":"10000"}'


def signed(**changes: object) -> dict[str, str]:
    args: dict[str, object] = {
        "method": "POST",
        "path": "/v1/ops/customer.find",
        "body": BODY,
        "keys": [KEY],
        "query": "b=2&a=1",
        "now": NOW,
    }
    return sign_request(**(args | changes))  # type: ignore[arg-type]


def verify(headers: dict[str, str], **changes: object) -> object:
    args: dict[str, object] = {
        "method": "POST",
        "path": "/v1/ops/customer.find",
        "query": "a=1&b=2",
        "headers": headers,
        "body": BODY,
        "keys": [KEY],
        "now": NOW,
    }
    return verify_request(**(args | changes))  # type: ignore[arg-type]


def test_a_signed_request_verifies_and_reports_its_nonce_and_transaction() -> None:
    headers = signed()
    result = verify(headers)
    assert result.nonce == headers[H_NONCE]  # type: ignore[attr-defined]
    assert result.transaction_id == headers[H_TRANSACTION]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"body": b'{"number":"10001"}'}, "bad_signature"),
        ({"path": "/v1/ops/customer.upsert"}, "bad_signature"),
        ({"method": "PUT"}, "bad_signature"),
        ({"query": "a=1&b=3"}, "bad_signature"),
        ({"keys": [SigningKey("k1", b"t" * 32)]}, "bad_signature"),
        ({"keys": [SigningKey("k2", b"s" * 32)]}, "unknown_key"),
        ({"now": NOW + timedelta(seconds=301)}, "expired"),
        ({"now": NOW - timedelta(seconds=301)}, "expired"),
        (
            {"keys": [SigningKey("k1", b"s" * 32, not_after=NOW - timedelta(seconds=1))]},
            "retired_key",
        ),
    ],
)
def test_any_change_or_stale_or_unknown_key_is_rejected(
    change: dict[str, object], reason: str
) -> None:
    with pytest.raises(SignatureRejected) as caught:
        verify(signed(), **change)
    assert caught.value.reason == reason


@pytest.mark.parametrize("header", [H_SIGNATURE, H_TIMESTAMP, H_NONCE, H_TRANSACTION])
def test_a_missing_header_is_unsigned(header: str) -> None:
    headers = signed()
    del headers[header]
    with pytest.raises(SignatureRejected) as caught:
        verify(headers)
    assert caught.value.reason == "unsigned"


def test_a_changed_transaction_id_breaks_the_signature() -> None:
    headers = signed()
    headers[H_TRANSACTION] = "0" * 32
    with pytest.raises(SignatureRejected):
        verify(headers)


def test_rotation_overlap_old_and_new_key_both_verify() -> None:
    new = SigningKey("k2", b"n" * 32)
    headers = sign_request(method="POST", path="/p", body=b"", keys=[new, KEY], now=NOW)
    verify_request(
        method="POST", path="/p", query="", headers=headers, body=b"", keys=[KEY, new], now=NOW
    )
    # The key id sent is the new one: a receiver that does not know it yet refuses it.
    with pytest.raises(SignatureRejected):
        verify_request(
            method="POST", path="/p", query="", headers=headers, body=b"", keys=[KEY], now=NOW
        )


def test_answers_are_bound_to_their_request() -> None:
    headers = sign_response(status=200, transaction_id="t" * 16, body=b"{}", key=KEY, now=NOW)
    verify_response(
        status=200, transaction_id="t" * 16, headers=headers, body=b"{}", keys=[KEY], now=NOW
    )
    with pytest.raises(SignatureRejected):
        verify_response(
            status=200, transaction_id="u" * 16, headers=headers, body=b"{}", keys=[KEY], now=NOW
        )
    with pytest.raises(SignatureRejected):
        verify_response(
            status=500, transaction_id="t" * 16, headers=headers, body=b"{}", keys=[KEY], now=NOW
        )


def test_callback_signature() -> None:
    headers = callback.sign_callback(handle="nav", secret="cb-secret", body=b"{}", now=NOW)
    assert (
        callback.verify_callback(headers=headers, body=b"{}", secrets={"nav": "cb-secret"}, now=NOW)
        == "nav"
    )
    for secrets, body in (({"nav": "other"}, b"{}"), ({"nav": "cb-secret"}, b"[]"), ({}, b"{}")):
        with pytest.raises(SignatureRejected):
            callback.verify_callback(headers=headers, body=body, secrets=secrets, now=NOW)


@pytest.mark.parametrize(
    "changes",
    [
        {H_TIMESTAMP: "9" * 400},  # int() takes it; the window check's float overflowed
        {H_TIMESTAMP: "１７００００００００"},  # non-ASCII digits int() would accept
        {H_TIMESTAMP: "-1"},
        {H_SIGNATURE: "v1=é" + "0" * 63},  # compare_digest raised TypeError on non-ASCII
        {H_SIGNATURE: "v1=\udcff"},
        {H_NONCE: "nonce-ünïcode"},
        {"X-FH-Key-Id": "k1\x00"},
    ],
)
def test_malformed_headers_are_refused_not_raised(changes: dict[str, str]) -> None:
    with pytest.raises(SignatureRejected) as refused:
        verify(signed() | changes)
    assert refused.value.reason in {"malformed", "bad_signature"}


@pytest.mark.parametrize(
    "changes",
    [
        {callback.H_TIMESTAMP: "9" * 400},
        {callback.H_SIGNATURE: "v1=é"},
        {callback.H_SIGNATURE: "v1=\udcff"},
    ],
)
def test_malformed_callback_headers_are_refused_not_raised(changes: dict[str, str]) -> None:
    headers = callback.sign_callback(handle="nav", secret="cb-secret", body=b"{}", now=NOW)
    with pytest.raises(SignatureRejected):
        callback.verify_callback(
            headers=headers | changes, body=b"{}", secrets={"nav": "cb-secret"}, now=NOW
        )


def test_a_malformed_answer_timestamp_is_refused_not_raised() -> None:
    headers = sign_response(status=200, transaction_id="t" * 16, body=b"{}", key=KEY, now=NOW)
    for changes in ({H_TIMESTAMP: "9" * 400}, {H_SIGNATURE: "v1=é"}):
        with pytest.raises(SignatureRejected):
            verify_response(
                status=200,
                transaction_id="t" * 16,
                headers=headers | changes,
                body=b"{}",
                keys=[KEY],
                now=NOW,
            )
