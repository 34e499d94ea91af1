"""Failure alerts: a real SMTP server (aiosmtpd) and a real webhook receiver (http.server) on
loopback, in front of a real FinancialHost served over HTTPS."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import ValidationError
from typer.testing import CliRunner

from ledgerlink.cli.app import app
from ledgerlink.financialhost.alerts import (
    Alerter,
    AlertSettings,
    Throttle,
    send_test,
    webhook_key,
)
from ledgerlink.financialhost.audit import AuditLog
from ledgerlink.financialhost.database import HostDatabase
from ledgerlink.financialhost.tls import create_self_signed
from ledgerlink.financialhost.vault import Vault
from ledgerlink.wire.signing import SigningKey
from tests.financialhost.conftest import LiveHost, start_host

WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"alerts-test-secret-0123456789abc").decode()
CONVENTION = "ledgerlink Financial Host - Acme A/S - Error"
REFUSED_CUSTOMER = {
    "idempotency_key": "customer:1",
    "customer": {"number": "1", "name": "X", "currency": "SEK", "country": "XX"},
}


def wait_until(predicate: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# a real SMTP server ---------------------------------------------------------------------------


@dataclass
class Mailbox:
    """aiosmtpd handler: keeps every message it is given."""

    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"

    def text(self, index: int) -> str:
        return str(self.messages[index].get_content()).replace("\r\n", "\n")

    def titles(self) -> list[str]:
        # strip(): Python's parser keeps the space of a subject folded right after "Subject:".
        return [str(m["Subject"]).strip().removeprefix(CONVENTION + " - ") for m in self.messages]


@dataclass
class SmtpServer:
    mailbox: Mailbox
    port: int


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield SmtpServer(mailbox, controller.port)
    finally:
        controller.stop()


# a real webhook receiver ----------------------------------------------------------------------


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes
    authentic: bool

    @property
    def payload(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.body)
        return loaded


def verify_standard_webhook(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The receiver's side of Standard Webhooks, written from the spec, not from our code."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    message_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > 300:
        return False
    signed = f"{message_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        hmac.compare_digest(candidate.partition(",")[2], expected)
        for candidate in headers["webhook-signature"].split(" ")
        if candidate.startswith("v1,")
    )


class WebhookReceiver:
    """An HTTP server on loopback that checks each delivery's signature."""

    def __init__(self, secret: str) -> None:
        self.deliveries: list[Delivery] = []
        self.statuses: list[int] = []  # answers to give, in order; then 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                authentic = verify_standard_webhook(secret, headers, body)
                receiver.deliveries.append(Delivery(headers, body, authentic))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks/financialhost"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(WEBHOOK_SECRET)
    try:
        yield receiver
    finally:
        receiver.close()


# hosts with alerts ----------------------------------------------------------------------------


def alert_settings(smtp_port: int, webhook_url: str = "", **changes: Any) -> dict[str, Any]:
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "smtp_security": "none",
        "sender": "ledgerlink-financial-host@acme.example",
        "recipients": ["it@acme.example"],
        "webhook_url": webhook_url,
        **changes,
    }


def alerting_host(tmp_path: Path, alerts: dict[str, Any]) -> Iterator[LiveHost]:
    Vault(tmp_path / "host").set("alerts:webhook", WEBHOOK_SECRET)
    return start_host(tmp_path, customer_name="Acme A/S", alerts=alerts)


def audit_events(live: LiveHost, event: str) -> list[dict[str, Any]]:
    """The host's audit records of one event (read from the file: also after the host stops)."""
    database = HostDatabase(live.host.database.path)
    try:
        records = AuditLog(database, live.host.settings.data_dir / "audit.head").records(
            limit=100_000
        )
    finally:
        database.close()
    return [r for r in records if r["event"] == event]


def test_a_job_the_erp_refuses_sends_one_mail_and_one_signed_webhook(
    tmp_path: Path, smtp: SmtpServer, webhook: WebhookReceiver
) -> None:
    hosts = alerting_host(tmp_path, alert_settings(smtp.port, webhook.url))
    live = next(hosts)
    answer = live.client().call("customer.upsert", REFUSED_CUSTOMER)
    assert answer.body["state"] == "failed"
    wait_until(lambda: smtp.mailbox.messages and webhook.deliveries)

    mail = smtp.mailbox.messages[0]
    assert mail["Subject"] == f"{CONVENTION} - The ERP refused customer.upsert"
    assert mail["From"] == "ledgerlink-financial-host@acme.example"
    assert smtp.mailbox.recipients == [["it@acme.example"]]
    text = smtp.mailbox.text(0)
    assert "The ERP's own text:\n  Kan ej hitta angiven landskod." in text
    assert "What to do:\n  Create the country. Then transfer it again" in text
    assert "customer:1" in text

    (delivery,) = webhook.deliveries
    assert delivery.authentic
    assert delivery.headers["webhook-id"].startswith("msg_")
    assert delivery.payload["type"] == "financialhost.job_failed"
    data = delivery.payload["data"]
    assert data["erp_text"] == "Kan ej hitta angiven landskod."
    assert data["customer"] == "Acme A/S"
    assert data["facts"]["job"] == answer.body["job_id"]

    # The same refusal again within throttle_minutes: the job fails, nobody is mailed again.
    again = live.client().call("customer.upsert", {**REFUSED_CUSTOMER, "idempotency_key": "c:2"})
    assert again.body["state"] == "failed"
    wait_until(lambda: len(audit_events(live, "job.failed")) == 2)
    hosts.close()  # stopping delivers whatever was queued
    assert len(smtp.mailbox.messages) == 1
    assert len(webhook.deliveries) == 1
    (sent,) = audit_events(live, "alert.sent")
    assert sent["channels"] == ["smtp", "webhook"]


def test_erp_down_alerts_once_despite_many_retries_then_reminds_then_recovers(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    hosts = alerting_host(tmp_path, alert_settings(smtp.port, waiting_alert_minutes=0.02))
    live = next(hosts)
    live.plugin.down = True
    client = live.client()
    assert client.call("document.create_draft", DRAFT).status == 202
    assert client.call("customer.find", {"number": "1"}).status == 503  # a read fails too
    wait_until(lambda: len(smtp.mailbox.messages) == 2)
    retries = len(audit_events(live, "job.deferred"))
    wait_until(lambda: len(audit_events(live, "job.deferred")) >= retries + 3)
    assert smtp.mailbox.titles() == [
        "The ERP cannot be reached",
        "1 job(s) waiting for the ERP",
    ]
    assert "connection refused" in smtp.mailbox.text(0)

    live.plugin.down = False
    wait_until(lambda: len(smtp.mailbox.messages) == 3)
    recovered = smtp.mailbox.messages[2]
    assert (
        recovered["Subject"].strip().startswith("ledgerlink Financial Host - Acme A/S - Resolved")
    )
    assert "The ERP was unavailable from" in smtp.mailbox.text(2)
    assert client.call("job.status", {"idempotency_key": "document:1"}).body["state"] == (
        "succeeded"
    )
    client.close()
    hosts.close()
    assert len(audit_events(live, "job.deferred")) >= 5
    assert len(smtp.mailbox.messages) == 3


def test_a_down_smtp_server_never_stops_the_host_and_is_audited(
    tmp_path: Path, webhook: WebhookReceiver
) -> None:
    nobody_listens = free_port()
    hosts = alerting_host(tmp_path, alert_settings(nobody_listens, webhook.url))
    live = next(hosts)
    assert live.client().call("customer.upsert", REFUSED_CUSTOMER).body["state"] == "failed"
    wait_until(lambda: audit_events(live, "alert.sent"))  # after the failed e-mail
    # The host goes on working: the next job runs, reads answer.
    good = {
        "idempotency_key": "customer:2",
        "customer": {"number": "2", "name": "Y", "currency": "SEK", "country": "SE"},
    }
    assert live.client().call("customer.upsert", good).body["state"] == "succeeded"
    assert live.client().call("customer.find", {"number": "2"}).status == 200
    (failed,) = audit_events(live, "alert.failed")
    assert failed["channel"] == "smtp"
    assert "ConnectionRefusedError" in failed["problem"]
    (sent,) = audit_events(live, "alert.sent")
    assert sent["channels"] == ["webhook"]  # the other channel still delivered
    assert webhook.deliveries[0].authentic
    hosts.close()


def test_repeated_bad_signatures_make_one_alert(tmp_path: Path, smtp: SmtpServer) -> None:
    hosts = alerting_host(tmp_path, alert_settings(smtp.port, refused_alert_count=3))
    live = next(hosts)
    forged = live.client(SigningKey("hub-1", b"guessed"))
    for _ in range(7):
        assert forged.call("customer.find", {"number": "1"}).status == 401
    forged.close()
    wait_until(lambda: smtp.mailbox.messages)
    hosts.close()
    assert smtp.mailbox.titles() == ["3 requests refused"]  # the next 3 were throttled
    assert "bad_signature ×3" in smtp.mailbox.text(0)
    assert live.plugin.calls == []


def test_webhook_is_retried_with_the_same_id_and_a_refusal_is_reported(
    tmp_path: Path, webhook: WebhookReceiver
) -> None:
    vault = Vault(tmp_path)
    vault.set("alerts:webhook", WEBHOOK_SECRET)
    settings = AlertSettings(webhook_url=webhook.url)
    webhook.statuses = [503]
    (result,) = send_test(settings, vault=vault, customer_name="Acme A/S")
    assert result.ok, result.problem
    first, second = webhook.deliveries
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.authentic and second.authentic
    assert second.payload["type"] == "financialhost.test"

    webhook.statuses = [400]
    (refused,) = send_test(settings, vault=vault, customer_name="Acme A/S")
    assert refused.problem == "WebhookRefused: the webhook answered 400"
    assert len(webhook.deliveries) == 3  # a 400 is not retried


def test_cli_alerts_test_over_starttls_with_login(tmp_path: Path, webhook: WebhookReceiver) -> None:
    certificate = create_self_signed(tmp_path / "smtp-tls", ["127.0.0.1"])
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(certificate.cert_file, certificate.key_file)
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(*args: Any) -> AuthResult:
        auth_data = args[-1]
        assert isinstance(auth_data, LoginPassword)
        logins.append((auth_data.login, auth_data.password))
        # handled=False: aiosmtpd answers a refusal with 535 itself.
        return AuthResult(success=auth_data.password == b"smtp-password", handled=False)

    mailbox = Mailbox()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=server_tls,
        require_starttls=True,
        authenticator=authenticator,
        auth_require_tls=True,
    )
    controller.start()
    try:
        runner = CliRunner()
        folder = tmp_path / "fh"
        assert (
            runner.invoke(
                app, ["host", "init", str(folder), "--customer", "Åkerö Bygg AB"]
            ).exit_code
            == 0
        )
        settings_file = folder / "financialhost.toml"
        with settings_file.open("a", encoding="utf-8") as file:
            file.write(
                f'\n[alerts]\nsmtp_host = "127.0.0.1"\nsmtp_port = {controller.port}\n'
                f'smtp_user = "financialhost"\nsmtp_verify = "{certificate.cert_file}"\n'
                f'recipients = ["it@acme.example"]\nwebhook_url = "{webhook.url}"\n'
            )
        settings = ["--settings", str(settings_file)]
        for name, value in (("alerts:smtp", "smtp-password"), ("alerts:webhook", WEBHOOK_SECRET)):
            stored = runner.invoke(
                app, ["host", "secret", "set", name, "--value", value, *settings]
            )
            assert stored.exit_code == 0, stored.output

        result = runner.invoke(app, ["host", "alerts", "test", *settings])
        assert result.exit_code == 0, result.output
        assert f"e-mail to it@acme.example via 127.0.0.1:{controller.port} (starttls): OK" in (
            result.output
        )
        assert f"webhook {webhook.url}: OK" in result.output
        assert logins == [(b"financialhost", b"smtp-password")]
        assert mailbox.messages[0]["Subject"] == (
            "ledgerlink Financial Host - Åkerö Bygg AB - Test - Test alert"
        )
        assert "customer:        Åkerö Bygg AB" in mailbox.text(0)
        assert webhook.deliveries[0].authentic

        runner.invoke(app, ["host", "secret", "set", "alerts:smtp", "--value", "old", *settings])
        failed = runner.invoke(app, ["host", "alerts", "test", *settings])
        assert failed.exit_code == 1
        assert "(starttls): FAILED: SMTPAuthenticationError" in failed.output
        assert f"webhook {webhook.url}: OK" in failed.output
    finally:
        controller.stop()


def test_cli_alerts_test_without_channels_says_what_to_set(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["host", "init", str(tmp_path / "fh")]).exit_code == 0
    result = runner.invoke(
        app, ["host", "alerts", "test", "--settings", str(tmp_path / "fh" / "financialhost.toml")]
    )
    assert result.exit_code == 1
    assert "No alert channel is configured" in result.output


def test_certificate_near_its_end_warns_once_a_day(tmp_path: Path, smtp: SmtpServer) -> None:
    now = [datetime(2026, 11, 1, 9, 0, tzinfo=UTC)]
    database = HostDatabase(tmp_path / "host.sqlite")
    alerter = Alerter(
        AlertSettings(**alert_settings(smtp.port)),
        customer_name="Acme A/S",
        vault=Vault(tmp_path),
        audit=AuditLog(database, tmp_path / "audit.head"),
        certificate_expires=datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
        clock=lambda: now[0],
    )
    alerter.start()
    for hours in (0, 1, 23, 25):
        now[0] = datetime(2026, 11, 1, 9, 0, tzinfo=UTC) + timedelta(hours=hours)
        alerter.check_certificate()
    alerter.stop()
    database.close()
    assert [str(m["Subject"]).strip() for m in smtp.mailbox.messages] == [
        "ledgerlink Financial Host - Acme A/S - Warning - "
        "The host's TLS certificate expires in 19 days",
        "ledgerlink Financial Host - Acme A/S - Warning - "
        "The host's TLS certificate expires in 17 days",
    ]


def test_throttle_counts_what_it_holds_back() -> None:
    throttle = Throttle()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    interval = timedelta(minutes=30)
    key = ("job_failed", "customer.upsert: Kan ej hitta angiven landskod.")
    assert throttle.admit(key, now=start, interval=interval) == 0
    assert throttle.admit(key, now=start + timedelta(minutes=1), interval=interval) is None
    assert throttle.admit(key, now=start + timedelta(minutes=29), interval=interval) is None
    assert throttle.admit(("job_failed", "other"), now=start, interval=interval) == 0
    assert throttle.admit(key, now=start + timedelta(minutes=30), interval=interval) == 2


def test_settings_refuse_half_configured_mail_and_plain_http_webhooks() -> None:
    with pytest.raises(ValidationError, match="both smtp_host and recipients"):
        AlertSettings(smtp_host="mail.acme.example")
    with pytest.raises(ValidationError, match="not an e-mail address"):
        AlertSettings(smtp_host="mail.acme.example", recipients=["it"])
    with pytest.raises(ValidationError, match="https://"):
        AlertSettings(webhook_url="http://hooks.acme.example/x")
    assert AlertSettings(webhook_url="http://127.0.0.1:9/x").webhook_url
    assert AlertSettings(smtp_host="m", recipients=["a@b.c"], smtp_security="ssl").port == 465
    assert webhook_key("whsec_" + base64.b64encode(b"k").decode()) == b"k"
    assert webhook_key("plain") == b"plain"


DRAFT = {
    "idempotency_key": "document:1",
    "document": {
        "kind": "invoice",
        "correlation": "ll:1:1:1",
        "customer_number": "10000",
        "currency": "DKK",
        "invoice_date": "2026-03-02",
        "due_date": "2026-04-01",
        "lines": [
            {
                "kind": "work",
                "description": "Consulting",
                "product_number": "WORK",
                "quantity": "1",
                "unit_price": "100.00",
            }
        ],
        "expected_net": "100.00",
        "expected_gross": "125.00",
    },
}
