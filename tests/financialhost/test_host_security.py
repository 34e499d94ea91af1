"""Every way FinancialHost refuses a request, over real HTTPS: each refusal has its status, an
audit record, and no ERP side effect."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest

from ledgerlink.financialhost.audit import verify_chain
from ledgerlink.wire.client import tls_context
from ledgerlink.wire.signing import H_NONCE, H_TRANSACTION, SigningKey, sign_request
from tests.financialhost.conftest import LiveHost, start_host

UPSERT = {
    "idempotency_key": "customer:1:1",
    "customer": {"number": "10000", "name": "Hansen Byg A/S", "currency": "DKK"},
}
PATH = "/v1/ops/customer.upsert"


def raw(live: LiveHost, path: str, body: bytes, headers: dict[str, str]) -> httpx2.Response:
    with httpx2.Client(verify=tls_context(verify=live.certificate.cert_file)) as http:
        return http.post(
            live.url + path, content=body, headers={**headers, "Content-Type": "application/json"}
        )


def signed(live: LiveHost, body: bytes, path: str = PATH, **options: Any) -> dict[str, str]:
    keys = options.pop("keys", [live.key])
    return sign_request(method="POST", path=path, body=body, keys=keys, **options)


def refusals(live: LiveHost) -> list[dict[str, Any]]:
    return [r for r in live.host.audit.records() if r["event"] == "request.refused"]


def assert_refused(live: LiveHost, response: httpx2.Response, status: int, reason: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["message"]
    assert refusals(live)[-1]["reason"] == reason
    assert "upsert_customer" not in live.plugin.calls
    assert live.host.queue.recent() == []  # nothing stored, nothing to execute later


BODY = json.dumps(UPSERT).encode()


def test_a_signed_request_is_executed_and_its_answer_is_signed(live_host: LiveHost) -> None:
    client = live_host.client()
    answer = client.call("customer.upsert", UPSERT)  # the client checks the answer's signature
    assert answer.status == 200
    assert answer.body["state"] == "succeeded"
    assert answer.body["result"] == {"external_id": "10000", "created": True}
    assert live_host.plugin.calls == ["upsert_customer"]


def test_unsigned(live_host: LiveHost) -> None:
    assert_refused(live_host, raw(live_host, PATH, BODY, {}), 401, "unsigned")


def test_tampered_body(live_host: LiveHost) -> None:
    headers = signed(live_host, BODY)
    tampered = BODY.replace(b"Hansen", b"Jensen")
    assert_refused(live_host, raw(live_host, PATH, tampered, headers), 401, "bad_signature")


def test_signed_for_another_operation(live_host: LiveHost) -> None:
    headers = signed(live_host, BODY, path="/v1/ops/customer.find")
    assert_refused(live_host, raw(live_host, PATH, BODY, headers), 401, "bad_signature")


@pytest.mark.parametrize("skew", [timedelta(seconds=-301), timedelta(seconds=301)])
def test_expired_or_future_timestamp(live_host: LiveHost, skew: timedelta) -> None:
    headers = signed(live_host, BODY, now=datetime.now(UTC) + skew)
    assert_refused(live_host, raw(live_host, PATH, BODY, headers), 401, "expired")


def test_replayed_request(live_host: LiveHost) -> None:
    headers = signed(live_host, BODY)
    assert raw(live_host, PATH, BODY, headers).status_code == 200
    again = raw(live_host, PATH, BODY, headers)
    assert again.status_code == 401
    assert refusals(live_host)[-1]["reason"] == "replayed_nonce"
    assert live_host.plugin.calls == ["upsert_customer"]


def test_reused_transaction_id(live_host: LiveHost) -> None:
    first = signed(live_host, BODY)
    assert raw(live_host, PATH, BODY, first).status_code == 200
    reused = signed(live_host, BODY, transaction_id=first[H_TRANSACTION])
    assert reused[H_NONCE] != first[H_NONCE]
    response = raw(live_host, PATH, BODY, reused)
    assert response.status_code == 401
    assert refusals(live_host)[-1]["reason"] == "reused_transaction"
    assert live_host.plugin.calls == ["upsert_customer"]


def test_unknown_key(live_host: LiveHost) -> None:
    headers = signed(live_host, BODY, keys=[SigningKey("hub-9", live_host.key.secret)])
    assert_refused(live_host, raw(live_host, PATH, BODY, headers), 401, "unknown_key")


def test_key_rotation_with_overlap_then_retirement(live_host: LiveHost) -> None:
    vault = live_host.host.vault
    new_secret = vault.add_key("hub-2")
    new = SigningKey("hub-2", new_secret.encode())
    assert live_host.client(new).call("customer.find", {"number": "1"}).status == 200
    assert live_host.client().call("customer.find", {"number": "1"}).status == 200  # overlap
    vault.retire_key("hub-1", datetime.now(UTC) - timedelta(seconds=1))
    headers = signed(live_host, BODY)
    assert_refused(live_host, raw(live_host, PATH, BODY, headers), 401, "retired_key")
    assert live_host.client(new).call("customer.find", {"number": "1"}).status == 200


def test_oversize_body(live_host: LiveHost) -> None:
    big = json.dumps({**UPSERT, "padding": "x" * 1_100_000}).encode()
    response = raw(live_host, PATH, big, signed(live_host, big))
    assert_refused(live_host, response, 413, "too_large")


def test_unknown_operation(live_host: LiveHost) -> None:
    path = "/v1/ops/sql.execute"
    body = b'{"sql": "DROP TABLE Customer"}'
    response = raw(live_host, path, body, signed(live_host, body, path=path))
    assert_refused(live_host, response, 403, "operation_not_allowed")


@pytest.fixture
def read_only_host(tmp_path: Path) -> Iterator[LiveHost]:
    yield from start_host(tmp_path, allowed_operations=["customer.find", "host.health"])


def test_operation_not_on_this_hosts_allow_list(read_only_host: LiveHost) -> None:
    response = raw(read_only_host, PATH, BODY, signed(read_only_host, BODY))
    assert_refused(read_only_host, response, 403, "operation_not_allowed")
    assert read_only_host.client().call("customer.find", {"number": "1"}).status == 200


@pytest.fixture
def far_away_host(tmp_path: Path) -> Iterator[LiveHost]:
    yield from start_host(tmp_path, allowed_ips=["10.20.30.0/24"])


def test_address_not_on_the_allow_list(far_away_host: LiveHost) -> None:
    response = raw(far_away_host, PATH, BODY, signed(far_away_host, BODY))
    assert_refused(far_away_host, response, 403, "address_not_allowed")
    assert raw(far_away_host, "/health", b"", {}).status_code == 403


def test_schema_violation_is_422_with_the_fields(live_host: LiveHost) -> None:
    answer = live_host.client().call(
        "customer.upsert", {"idempotency_key": "k", "customer": {"number": "1", "currency": "kr"}}
    )
    assert answer.status == 422
    paths = {p["path"] for p in answer.body["error"]["field_errors"]}
    assert {"customer.name", "customer.currency"} <= paths
    assert live_host.plugin.calls == []


def test_plain_http_is_not_served(live_host: LiveHost) -> None:
    with pytest.raises(httpx2.HTTPError):
        httpx2.post(live_host.url.replace("https://", "http://") + PATH, content=BODY)
    assert live_host.plugin.calls == []


def test_every_request_is_in_the_audit_chain(live_host: LiveHost) -> None:
    live_host.client().call("customer.upsert", UPSERT)
    raw(live_host, PATH, BODY, {})
    events = [r["event"] for r in live_host.host.audit.records()]
    assert events[0] == "host.started"
    assert {"job.accepted", "job.succeeded", "request", "request.refused"} <= set(events)
    report = verify_chain(live_host.host.database, live_host.host.settings.data_dir / "audit.head")
    assert report.intact, report.problems
