"""FinancialHost under attack (issue 11, items 1, 3 and 4): forged proxy headers, malformed
headers and bodies, floods, slow clients and a saturated ERP. Most requests go in-process
through the host's ASGI app (httpx2's ASGI transport, the peer address chosen per request);
only what only uvicorn decides (its proxy headers, read timeouts, shutdown) runs a server."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import anyio
import httpx2
import pytest
from anyio.from_thread import start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledgerlink.financialhost.server import Host
from ledgerlink.financialhost.vault import Vault
from ledgerlink.wire import callback
from ledgerlink.wire import operations as ops
from ledgerlink.wire.client import tls_context
from ledgerlink.wire.signing import (
    H_KEY_ID,
    H_NONCE,
    H_SIGNATURE,
    H_TIMESTAMP,
    H_TRANSACTION,
    SigningKey,
    sign_request,
)
from tests.financialhost.conftest import host_settings, start_host
from tests.financialhost.fakes import MemoryPlugin

FIND = "/v1/ops/customer.find"
FIND_BODY = b'{"number": "10000"}'
CALLBACK_SECRET = "callback-secret"
BATCH = {
    "company": "CRONUS",
    "changes": [
        {
            "entry_no": 1,
            "table_id": 18,
            "record_key": "10000",
            "change_type": "Insert",
            "changed_at": "2026-11-24T10:00:00Z",
        }
    ],
}
PEER = ("127.0.0.1", 40000)
T = TypeVar("T")


class BlockingPlugin(MemoryPlugin):
    """An ERP that takes ``customer.find`` calls but answers none until ``release`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.entered = threading.Event()

    def find_customer(self, number: str) -> ops.ErpCustomerRecord | None:
        self.entered.set()
        self.release.wait(10)
        return super().find_customer(number)


@dataclass
class Local:
    """A host served in-process: requests go straight to its ASGI app."""

    host: Host
    key: SigningKey

    def signed(self, body: bytes = FIND_BODY, path: str = FIND, **options: Any) -> dict[str, str]:
        return sign_request(method="POST", path=path, body=body, keys=[self.key], **options)

    async def send(
        self,
        path: str,
        body: bytes = b"",
        headers: dict[str, Any] | None = None,
        *,
        method: str = "POST",
        client: tuple[str, int] = PEER,
    ) -> httpx2.Response:
        transport = httpx2.ASGITransport(app=self.host.app, client=client)
        async with httpx2.AsyncClient(transport=transport, base_url="https://host.local") as http:
            return await http.request(
                method,
                path,
                content=body,
                headers={"Content-Type": "application/json"} | (headers or {}),
            )

    def call(
        self, path: str, body: bytes = b"", headers: dict[str, Any] | None = None, **kw: Any
    ) -> httpx2.Response:
        return anyio.run(lambda: self.send(path, body, headers, **kw))

    def refusals(self) -> list[dict[str, Any]]:
        return [r for r in self.host.audit.records() if r["event"] == "request.refused"]


@contextmanager
def local_host(
    tmp_path: Path, plugin: MemoryPlugin | None = None, **changes: Any
) -> Iterator[Local]:
    settings = host_settings(tmp_path / "host", **changes)
    vault = Vault(settings.data_dir)
    secret = vault.add_key("hub-1")
    vault.set("callback:nav", CALLBACK_SECRET)
    host = Host(settings, plugin or MemoryPlugin(), vault=vault)
    host.start()
    try:
        yield Local(host, SigningKey("hub-1", secret.encode()))
    finally:
        host.stop()


@pytest.fixture
def local(tmp_path: Path) -> Iterator[Local]:
    with local_host(tmp_path) as host:
        yield host


def wire_error(response: httpx2.Response) -> ops.WireError:
    """The answer's wire error body (FastAPI's ``{"detail": …}`` fails here)."""
    return ops.ErrorBody.model_validate_json(response.content).error


def signed_callback(body: bytes) -> dict[str, str]:
    return callback.sign_callback(handle="nav", secret=CALLBACK_SECRET, body=body)


# 1. Proxy headers ------------------------------------------------------------------------------


def test_a_forwarded_address_from_an_untrusted_peer_does_not_pass_the_allow_list(
    tmp_path: Path,
) -> None:
    # A real uvicorn: by default it takes X-Forwarded-For from 127.0.0.1 as the client.
    hosts = start_host(tmp_path, allowed_ips=["10.20.30.0/24"])
    live = next(hosts)
    try:
        forged = {"X-Forwarded-For": "10.20.30.5", "Content-Type": "application/json"}
        with httpx2.Client(verify=tls_context(verify=live.certificate.cert_file)) as http:
            answer = http.post(
                live.url + FIND,
                content=FIND_BODY,
                headers=forged
                | sign_request(method="POST", path=FIND, body=FIND_BODY, keys=[live.key]),
            )
            health = http.get(live.url + "/health", headers=forged)
        assert answer.status_code == 403, answer.text
        assert wire_error(answer).code is ops.ErrorCode.FORBIDDEN
        assert health.status_code == 403
        refused = [r for r in live.host.audit.records() if r["event"] == "request.refused"]
        assert refused[0]["reason"] == "address_not_allowed"
        assert refused[0]["address"] == "127.0.0.1"  # the real peer
        assert refused[0]["forwarded_for"] == "10.20.30.5"  # the claim, only as such
        assert live.plugin.calls == []
    finally:
        hosts.close()


def test_a_trusted_proxy_names_the_client_and_the_audit_keeps_the_peer(tmp_path: Path) -> None:
    with local_host(
        tmp_path, allowed_ips=["10.20.30.0/24"], trusted_proxies=["127.0.0.1/32"]
    ) as local:
        # The proxy appends the address it saw; what the client wrote before it proves nothing.
        behind = {"X-Forwarded-For": "6.6.6.6, 10.20.30.5"}
        answer = local.call(FIND, FIND_BODY, behind | local.signed())
        assert answer.status_code == 200, answer.text
        (request,) = [r for r in local.host.audit.records() if r["event"] == "request"]
        assert (request["address"], request["forwarded_for"]) == (
            "127.0.0.1",
            "6.6.6.6, 10.20.30.5",
        )

        spoofed = {"X-Forwarded-For": "10.20.30.5, 6.6.6.6"}
        assert local.call(FIND, FIND_BODY, spoofed | local.signed()).status_code == 403
        # From a peer that is not a trusted proxy the header is ignored.
        other = local.call(FIND, FIND_BODY, behind | local.signed(), client=("10.9.9.9", 1))
        assert other.status_code == 403
        assert [r["address"] for r in local.refusals()] == ["127.0.0.1", "10.9.9.9"]


# 3. Malformed input: always a 4xx with the wire error body, always audited ----------------------


def test_a_400_digit_timestamp_is_refused(local: Local) -> None:
    headers = local.signed() | {H_TIMESTAMP: "9" * 400}
    answer = local.call(FIND, FIND_BODY, headers)
    assert answer.status_code == 401
    assert wire_error(answer).code is ops.ErrorCode.UNAUTHENTICATED
    assert local.refusals()[-1]["reason"] == "malformed"


def test_a_non_ascii_signature_is_refused(local: Local) -> None:
    headers: dict[str, Any] = local.signed() | {H_SIGNATURE: b"v1=\xe9" + b"0" * 63}
    answer = local.call(FIND, FIND_BODY, headers)
    assert answer.status_code == 401
    assert wire_error(answer).code is ops.ErrorCode.UNAUTHENTICATED
    assert local.refusals()[-1]["reason"] == "bad_signature"


@pytest.mark.parametrize(
    ("header", "value"),
    [(callback.H_SIGNATURE, b"v1=\xe9\xff"), (callback.H_TIMESTAMP, b"9" * 400)],
)
def test_a_malformed_callback_signature_is_refused(local: Local, header: str, value: bytes) -> None:
    body = json.dumps(BATCH).encode()
    headers: dict[str, Any] = signed_callback(body) | {header: value}
    answer = local.call(callback.PATH, body, headers)
    assert answer.status_code == 401
    assert wire_error(answer).code is ops.ErrorCode.UNAUTHENTICATED
    assert local.refusals()[-1]["path"] == callback.PATH


@pytest.mark.parametrize(
    "body",
    [b"{not json", b'{"changes": [{"entry_no": "x"}]}', b'["a list"]', b"\xff\xfe{}"],
)
def test_a_signed_callback_that_is_not_a_batch_is_422(local: Local, body: bytes) -> None:
    answer = local.call(callback.PATH, body, signed_callback(body))
    assert answer.status_code == 422, answer.text
    assert wire_error(answer).code is ops.ErrorCode.INVALID
    assert local.refusals()[-1]["reason"] == "invalid_body"
    assert local.host.changes.read(None, 10).items == ()


def test_a_signed_non_utf8_body_is_422_with_the_wire_error_body(local: Local) -> None:
    body = b'{"number": "\xff\xfe"}'
    answer = local.call(FIND, body, local.signed(body))
    assert answer.status_code == 422, answer.text
    assert wire_error(answer).code is ops.ErrorCode.INVALID
    assert local.refusals()[-1]["reason"] == "not_utf8"
    assert local.host.plugin.calls == []  # type: ignore[attr-defined]


def test_a_signed_request_with_the_wrong_method_gets_the_wire_error_body(local: Local) -> None:
    headers = sign_request(method="GET", path=FIND, body=b"", keys=[local.key])
    answer = local.call(FIND, b"", headers, method="GET")
    assert answer.status_code == 405
    assert wire_error(answer).code is ops.ErrorCode.NOT_FOUND


SIGNATURE_HEADERS = [H_KEY_ID, H_TIMESTAMP, H_NONCE, H_TRANSACTION, H_SIGNATURE]
CALLBACK_HEADERS = [callback.H_HANDLE, callback.H_TIMESTAMP, callback.H_SIGNATURE]
#: A header's replacement: absent, any bytes, or text as UTF-8 (a header's bytes as sent).
HEADER_VALUE = st.none() | st.binary(max_size=80) | st.text(max_size=40).map(str.encode)


def test_fuzzed_signature_headers_never_cause_a_5xx(tmp_path: Path) -> None:
    with local_host(tmp_path, refusal_limit=1_000_000) as local, start_blocking_portal() as portal:

        @given(
            to_callback=st.booleans(),
            changes=st.dictionaries(
                st.sampled_from(SIGNATURE_HEADERS + CALLBACK_HEADERS), HEADER_VALUE, max_size=4
            ),
            body=st.sampled_from([FIND_BODY, json.dumps(BATCH).encode(), b"\xff", b""]),
        )
        @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        def never_a_5xx(to_callback: bool, changes: dict[str, bytes | None], body: bytes) -> None:
            path = callback.PATH if to_callback else FIND
            headers: dict[str, Any] = signed_callback(body) if to_callback else local.signed(body)
            for name, value in changes.items():
                headers.pop(name, None)
                if value is not None:
                    headers[name] = value
            answer = portal.call(lambda: local.send(path, body, headers))
            assert answer.status_code < 500, answer.text
            if answer.status_code >= 400:
                assert wire_error(answer).message

        never_a_5xx()
        assert local.refusals()  # and each kind of refusal was audited


# 4. Denial of service --------------------------------------------------------------------------


def test_a_flood_of_refused_requests_is_rate_limited_and_aggregated_in_the_audit(
    tmp_path: Path,
) -> None:
    flooder, bystander = ("10.0.0.9", 1), ("10.0.0.10", 1)
    with local_host(
        tmp_path, allowed_ips=["10.0.0.0/24"], refusal_limit=5, refusal_interval_seconds=60
    ) as local:

        async def flood() -> tuple[list[httpx2.Response], httpx2.Response]:
            answers = [await local.send(FIND, FIND_BODY, client=flooder) for _ in range(1000)]
            return answers, await local.send(FIND, FIND_BODY, client=bystander)

        answers, other = anyio.run(flood)
        assert [a.status_code for a in answers[:6]] == [401] * 5 + [429]
        assert {a.status_code for a in answers[5:]} == {429}
        assert 1 <= int(answers[-1].headers["Retry-After"]) <= 60
        assert wire_error(answers[-1]).code is ops.ErrorCode.RATE_LIMITED
        assert other.status_code == 401  # the limit is per address
        local.host.app.stop()  # writes the counts of the open intervals (as a host stop does)
        records = [r for r in local.refusals() if r["address"] == flooder[0]]
    assert sum(r["count"] for r in records) == 1000
    # The first refusal of each reason at once, then one record with the rest's count.
    assert [(r["reason"], r["count"]) for r in records] == [
        ("unsigned", 1),
        ("rate_limited", 1),
        ("unsigned", 4),
        ("rate_limited", 994),
    ]


def run_with_timeout(seconds: float, function: Callable[[], Awaitable[T]]) -> T:
    async def bounded() -> T:
        with anyio.fail_after(seconds):
            return await function()

    return anyio.run(bounded)


def test_health_answers_at_once_while_reads_wait_for_a_blocked_erp(tmp_path: Path) -> None:
    plugin = BlockingPlugin()
    with local_host(tmp_path, plugin) as local:

        async def scenario() -> tuple[float, list[int]]:
            statuses: list[int] = []

            async def read() -> None:
                statuses.append((await local.send(FIND, FIND_BODY, local.signed())).status_code)

            async with anyio.create_task_group() as group:
                for _ in range(45):  # more than the threads FastAPI runs sync routes on (40)
                    group.start_soon(read)
                while not plugin.entered.is_set():
                    await anyio.sleep(0.01)
                await anyio.sleep(0.2)
                started = time.monotonic()
                with anyio.fail_after(3):
                    health = await local.send("/health", method="GET")
                waited = time.monotonic() - started
                assert health.status_code == 200
                plugin.release.set()
            return waited, statuses

        try:
            waited, statuses = run_with_timeout(20, scenario)
        finally:
            plugin.release.set()
    assert waited < 2  # old: /health queued behind the reads until the ERP answered
    # At most max_in_flight (16) reads were let in; the others were told to come back.
    assert statuses.count(200) == 16
    assert statuses.count(503) == 45 - 16


def test_a_saturated_erp_answers_503_with_retry_after_and_the_request_can_be_resent(
    tmp_path: Path,
) -> None:
    plugin = BlockingPlugin()
    with local_host(tmp_path, plugin, max_in_flight=2) as local:
        third = local.signed()

        async def scenario() -> tuple[list[int], httpx2.Response, httpx2.Response]:
            statuses: list[int] = []

            async def read() -> None:
                statuses.append((await local.send(FIND, FIND_BODY, local.signed())).status_code)

            async with anyio.create_task_group() as group:
                group.start_soon(read)
                group.start_soon(read)
                while not plugin.entered.is_set():
                    await anyio.sleep(0.01)
                busy = await local.send(FIND, FIND_BODY, third)
                plugin.release.set()
            return statuses, busy, await local.send(FIND, FIND_BODY, third)

        try:
            statuses, busy, again = run_with_timeout(10, scenario)
        finally:
            plugin.release.set()
        assert statuses == [200, 200]
        assert busy.status_code == 503
        assert int(busy.headers["Retry-After"]) > 0
        assert wire_error(busy).code is ops.ErrorCode.ERP_UNAVAILABLE
        assert again.status_code == 200  # the busy answer did not spend its nonce
        assert local.refusals()[-1]["reason"] == "busy"


def test_audit_writes_do_not_block_the_event_loop(local: Local) -> None:
    """While another thread holds the database, a refused request waits for its audit record,
    and /health still answers."""
    held, release = threading.Event(), threading.Event()

    def hold_the_database() -> None:
        with local.host.database.transaction():
            held.set()
            release.wait(5)

    holder = threading.Thread(target=hold_the_database)
    holder.start()
    held.wait(5)

    async def scenario() -> tuple[float, int]:
        started = time.monotonic()
        async with anyio.create_task_group() as group:
            group.start_soon(local.send, FIND, FIND_BODY)  # unsigned: refused and audited
            await anyio.sleep(0.1)
            health = await local.send("/health", method="GET")
            waited = time.monotonic() - started
            release.set()
        return waited, health.status_code

    try:
        waited, status = run_with_timeout(10, scenario)
    finally:
        release.set()
        holder.join()
    assert status == 200
    assert waited < 2  # old: the refusal's audit write held the event loop for 5 s
    assert local.refusals()[-1]["reason"] == "unsigned"


def test_a_request_is_audited_before_its_answer_is_sent(local: Local) -> None:
    headers = local.signed()
    seen_at_answer: list[list[str]] = []

    async def scenario() -> None:
        scope = {
            "type": "http",
            "method": "POST",
            "path": FIND,
            "query_string": b"",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "client": PEER,
        }
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await anyio.sleep_forever()
            sent = True
            return {"type": "http.request", "body": FIND_BODY, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                seen_at_answer.append(
                    [
                        r["transaction_id"]
                        for r in local.host.audit.records()
                        if r["event"] == "request"
                    ]
                )

        await local.host.app(scope, receive, send)

    run_with_timeout(5, scenario)
    assert seen_at_answer == [[headers[H_TRANSACTION]]]


def test_a_body_that_does_not_arrive_in_time_is_408(tmp_path: Path) -> None:
    with local_host(tmp_path, body_timeout_seconds=0.3) as local:
        answers: list[dict[str, Any]] = []

        async def scenario() -> None:
            scope = {
                "type": "http",
                "method": "POST",
                "path": FIND,
                "query_string": b"",
                "headers": [(b"content-length", b"1000")],
                "client": PEER,
            }
            first = True

            async def receive() -> dict[str, Any]:
                nonlocal first
                if not first:
                    await anyio.sleep_forever()  # the rest of the body never comes
                first = False
                return {"type": "http.request", "body": b"{", "more_body": True}

            async def send(message: dict[str, Any]) -> None:
                answers.append(message)

            await local.host.app(scope, receive, send)

        run_with_timeout(3, scenario)
        assert answers[0]["status"] == 408
        assert (
            ops.ErrorBody.model_validate_json(answers[1]["body"]).error.code
            is ops.ErrorCode.TIMEOUT
        )
        assert local.refusals()[-1]["reason"] == "slow_body"


def test_slow_clients_are_disconnected_and_a_held_connection_does_not_delay_the_stop(
    tmp_path: Path,
) -> None:
    hosts = start_host(tmp_path, header_timeout_seconds=0.5)
    live = next(hosts)
    address = (live.host.settings.host, int(live.url.rsplit(":", 1)[1]))
    held = httpx2.Client(verify=tls_context(verify=live.certificate.cert_file))
    try:
        # Connected, and silent: no TLS handshake.
        with socket.create_connection(address, timeout=3) as silent:
            assert closed_within(silent, 3)
        # TLS done, then half a request's headers.
        context = ssl.create_default_context(cafile=live.certificate.cert_file)
        with (
            socket.create_connection(address, timeout=3) as raw,
            context.wrap_socket(raw, server_hostname="localhost") as tls,
        ):
            tls.sendall(b"POST /v1/ops/customer.find HTTP/1.1\r\nHost: localhost\r\n")
            assert closed_within(tls, 3)
        # A client that keeps its connection open after an answer.
        assert held.get(live.url + "/health").status_code == 200
    finally:
        started = time.monotonic()
        hosts.close()
        stopped_in = time.monotonic() - started
        held.close()
    assert stopped_in < 4  # was the 10 s join timeout of runtime.serving()


def closed_within(connection: socket.socket, seconds: float) -> bool:
    """Whether the server closed ``connection`` (EOF or reset) within ``seconds``."""
    connection.settimeout(seconds)
    try:
        return connection.recv(1024) == b""
    except (ConnectionResetError, ssl.SSLError):
        return True
    except TimeoutError:
        return False
