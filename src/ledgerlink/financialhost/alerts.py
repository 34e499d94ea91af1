"""Failure alerts by e-mail (SMTP) and webhook (design §10; the reference product mailed errors
with the subject "… Financial Host - [Customer name] - Error").

The host tells the :class:`Alerter` what happened: a job the ERP refused, the ERP unavailable or
answering again; the alerter itself counts refused requests (the guard reports each one) and
watches the TLS certificate's expiry. It decides what is worth an alert — state changes, a
reminder when jobs have waited long, at most one alert per kind and subject within
``throttle_minutes`` — so a down ERP makes one alert, not one per retry. Alerts are delivered by
a background thread through every configured channel; a channel that fails is logged and
written to the audit log (``alert.failed``) and never reaches the request path or the worker.

Secrets live in the vault: ``alerts:smtp`` (the SMTP password) and ``alerts:webhook`` (the
webhook signing secret).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import queue
import smtplib
import socket
import ssl
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from enum import StrEnum
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

import httpx2
import stamina
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ledgerlink.financialhost.audit import AuditLog
from ledgerlink.financialhost.vault import Vault
from ledgerlink.wire.operations import WireError

SMTP_SECRET = "alerts:smtp"
WEBHOOK_SECRET = "alerts:webhook"
PRODUCT = "ledgerlink Financial Host"
_SMTP_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
_OUTBOX_SIZE = 200
_log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


class AlertSettings(BaseModel):
    """``[alerts]`` in the host's settings: where failure alerts go and how often.

    E-mail goes out when ``smtp_host`` and ``recipients`` are set (``smtp_security``: STARTTLS on
    587, implicit TLS on 465, or ``none`` for a trusted relay on 25; ``smtp_user`` logs in with the
    vault's ``alerts:smtp``). A webhook is POSTed when ``webhook_url`` is set (HTTPS, or HTTP on
    loopback), signed with the vault's ``alerts:webhook``. ``*_verify``: True, False (dev only) or
    a CA bundle path (absolute). ``throttle_minutes``: at most one alert per kind and subject in
    that time. ``waiting_alert_minutes``: remind once a job has waited that long for the ERP.
    ``refused_alert_count`` refusals within ``refused_window_minutes`` make an alert.
    """

    model_config = ConfigDict(extra="forbid")

    smtp_host: str = ""
    smtp_port: int | None = Field(default=None, ge=1, le=65535)
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_user: str = ""
    smtp_verify: bool | str = True
    smtp_timeout: float = Field(default=15.0, gt=0)
    sender: str = ""
    recipients: list[str] = Field(default_factory=list)
    webhook_url: str = ""
    webhook_verify: bool | str = True
    webhook_timeout: float = Field(default=10.0, gt=0)
    webhook_retries: int = Field(default=2, ge=0, le=10)
    throttle_minutes: float = Field(default=30.0, ge=0)
    waiting_alert_minutes: float = Field(default=30.0, ge=0)
    refused_alert_count: int = Field(default=10, ge=1)
    refused_window_minutes: float = Field(default=10.0, gt=0)
    certificate_warning_days: int = Field(default=30, ge=0)
    check_seconds: float = Field(default=60.0, gt=0)

    @field_validator("recipients")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for item in value:
            if "@" not in parseaddr(item)[1]:
                raise ValueError(f"'{item}' is not an e-mail address")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str) -> str:
        if not value:
            return value
        parts = urlsplit(value)
        if parts.scheme == "https" and parts.hostname:
            return value
        if parts.scheme == "http" and _is_loopback(parts.hostname or ""):
            return value
        # Alerts carry ERP texts (customer names, amounts): not over plain HTTP off this machine.
        raise ValueError(f"'{value}' must be an https:// URL (http:// only on loopback)")

    @model_validator(mode="after")
    def _smtp_complete(self) -> AlertSettings:
        if bool(self.smtp_host) != bool(self.recipients):
            raise ValueError("e-mail alerts need both smtp_host and recipients")
        return self

    @property
    def port(self) -> int:
        """The SMTP port: ``smtp_port``, or the usual one for ``smtp_security``."""
        return self.smtp_port or _SMTP_PORTS[self.smtp_security]

    @property
    def from_address(self) -> str:
        return self.sender or f"ledgerlink-financial-host@{socket.gethostname()}"


def _is_loopback(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


# alerts -------------------------------------------------------------------------------------


class AlertKind(StrEnum):
    JOB_FAILED = "job_failed"
    ERP_UNAVAILABLE = "erp_unavailable"
    JOBS_WAITING = "jobs_waiting"
    ERP_RECOVERED = "erp_recovered"
    REQUESTS_REFUSED = "requests_refused"
    CERTIFICATE_EXPIRING = "certificate_expiring"
    TEST = "test"


class Severity(StrEnum):
    """Also the last part of the e-mail subject."""

    ERROR = "Error"
    WARNING = "Warning"
    RESOLVED = "Resolved"
    TEST = "Test"


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert, in plain words: what happened, the ERP's own text, what to do.

    ``subject`` is what the alert is about within its kind (throttling counts per kind and
    subject); ``held_back`` is how many alerts like it the throttle held back before this one.
    """

    kind: AlertKind
    subject: str
    severity: Severity
    title: str
    what_happened: str
    action: str
    erp_text: str = ""
    facts: Mapping[str, str] = field(default_factory=dict)
    alert_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    at: datetime = field(default_factory=_now)
    held_back: int = 0


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} seconds"
    if seconds < 7200:
        return f"{seconds / 60:.0f} minutes"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / 86400:.1f} days"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def mail_subject(alert: Alert, customer_name: str) -> str:
    """The reference product's convention, with the alert's title after it:
    ``ledgerlink Financial Host - Acme A/S - Error - The ERP refused customer.upsert``."""
    customer = customer_name or socket.gethostname()
    return f"{PRODUCT} - {customer} - {alert.severity.value} - {alert.title}"


def mail_body(alert: Alert, customer_name: str) -> str:
    """The e-mail's plain text."""
    parts = [alert.title, "", "What happened:", f"  {alert.what_happened}", ""]
    if alert.erp_text:
        parts += ["The ERP's own text:", f"  {alert.erp_text}", ""]
    parts += ["What to do:", f"  {alert.action}", ""]
    facts = {
        "customer": customer_name,
        "host": socket.gethostname(),
        "time": _stamp(alert.at),
        **alert.facts,
    }
    parts += ["Details:"]
    parts += [f"  {name + ':':<17}{value}" for name, value in facts.items() if value]
    if alert.held_back:
        parts += [
            "",
            f"{alert.held_back} more alert(s) like this one were held back since the last "
            "(see throttle_minutes).",
        ]
    parts += ["", f"-- {PRODUCT} (alert {alert.alert_id})", ""]
    return "\n".join(parts)


def compose_mail(alert: Alert, *, settings: AlertSettings, customer_name: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = mail_subject(alert, customer_name)
    message["From"] = settings.from_address
    message["To"] = ", ".join(settings.recipients)
    message["Date"] = format_datetime(alert.at)
    message["Message-ID"] = make_msgid(idstring=alert.alert_id)
    # Quoted-printable: ERP texts are often not ASCII (Visma's Swedish) and not every relay
    # passes 8-bit bodies.
    message.set_content(mail_body(alert, customer_name), cte="quoted-printable")
    return message


def webhook_payload(alert: Alert, customer_name: str) -> dict[str, Any]:
    """The webhook's JSON body (Standard Webhooks shape: type, timestamp, data)."""
    return {
        "type": f"financialhost.{alert.kind.value}",
        "timestamp": alert.at.isoformat(),
        "data": {
            "alert_id": alert.alert_id,
            "severity": alert.severity.value.lower(),
            "customer": customer_name,
            "host": socket.gethostname(),
            "subject": alert.subject,
            "title": alert.title,
            "what_happened": alert.what_happened,
            "erp_text": alert.erp_text,
            "action": alert.action,
            "facts": dict(alert.facts),
            "held_back": alert.held_back,
        },
    }


def webhook_key(secret: str) -> bytes:
    """The HMAC key: a Standard Webhooks secret is base64 after ``whsec_``; any other text is
    used as it is."""
    if secret.startswith("whsec_"):
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    return secret.encode()


def sign_webhook(*, key: bytes, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Standard Webhooks headers: HMAC-SHA256 over ``id.timestamp.body``, ``v1,<base64>``."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    signature = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": f"v1,{signature}",
    }


# channels -----------------------------------------------------------------------------------


class Channel(Protocol):
    """Where an alert goes. ``send`` raises on any failure."""

    name: str

    def describe(self) -> str: ...

    def send(self, alert: Alert) -> None: ...


def _ssl_context(verify: bool | str) -> ssl.SSLContext:
    if verify is True:
        context = ssl.create_default_context()
    elif verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        context = ssl.create_default_context(cafile=verify)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class SmtpChannel:
    """E-mail through the customer's SMTP server (smtplib)."""

    name = "smtp"

    def __init__(self, settings: AlertSettings, *, vault: Vault, customer_name: str) -> None:
        self._settings = settings
        self._vault = vault
        self._customer = customer_name

    def describe(self) -> str:
        s = self._settings
        return f"e-mail to {', '.join(s.recipients)} via {s.smtp_host}:{s.port} ({s.smtp_security})"

    def send(self, alert: Alert) -> None:
        s = self._settings
        message = compose_mail(alert, settings=s, customer_name=self._customer)
        # The password is read per send, so 'host secret set alerts:smtp' needs no restart.
        password = self._vault.get(SMTP_SECRET) if s.smtp_user else ""
        context = _ssl_context(s.smtp_verify)
        smtp = (
            smtplib.SMTP_SSL(s.smtp_host, s.port, timeout=s.smtp_timeout, context=context)
            if s.smtp_security == "ssl"
            else smtplib.SMTP(s.smtp_host, s.port, timeout=s.smtp_timeout)
        )
        with smtp:
            if s.smtp_security == "starttls":
                smtp.starttls(context=context)
            if s.smtp_user:
                smtp.login(s.smtp_user, password)
            smtp.send_message(message)


class WebhookBusy(Exception):
    """The webhook receiver answered 408, 429 or 5xx: worth another try."""


class WebhookRefused(Exception):
    """The webhook receiver refused the alert (another 4xx, or a redirect): not retried."""


def _retry_webhook(error: BaseException) -> bool:
    return isinstance(error, WebhookBusy | httpx2.TransportError)


class WebhookChannel:
    """A signed JSON POST (Standard Webhooks headers), retried a few times."""

    name = "webhook"

    def __init__(self, settings: AlertSettings, *, vault: Vault, customer_name: str) -> None:
        self._settings = settings
        self._vault = vault
        self._customer = customer_name

    def describe(self) -> str:
        return f"webhook {self._settings.webhook_url}"

    def send(self, alert: Alert) -> None:
        s = self._settings
        key = webhook_key(self._vault.get(WEBHOOK_SECRET))
        body = json.dumps(webhook_payload(alert, self._customer), ensure_ascii=False).encode()
        message_id = f"msg_{alert.alert_id}"  # the same on every try: receivers dedupe on it
        with httpx2.Client(
            verify=_ssl_context(s.webhook_verify), timeout=s.webhook_timeout, follow_redirects=False
        ) as http:
            for attempt in stamina.retry_context(
                on=_retry_webhook,
                attempts=s.webhook_retries + 1,
                timeout=None,
                wait_initial=0.5,
                wait_max=5.0,
                wait_jitter=0.5,
            ):
                with attempt:
                    headers = sign_webhook(
                        key=key, message_id=message_id, timestamp=int(time.time()), body=body
                    )
                    response = http.post(
                        s.webhook_url,
                        content=body,
                        headers={
                            **headers,
                            "content-type": "application/json",
                            "user-agent": "ledgerlink-financialhost-alerts",
                        },
                    )
                    _check_webhook_answer(response.status_code)


def _check_webhook_answer(status: int) -> None:
    if 200 <= status < 300:
        return
    if status in (408, 429) or status >= 500:
        raise WebhookBusy(f"the webhook answered {status}")
    raise WebhookRefused(f"the webhook answered {status}")


def configured_channels(
    settings: AlertSettings, *, vault: Vault, customer_name: str
) -> list[Channel]:
    """The channels the settings turn on (none: alerts are off)."""
    channels: list[Channel] = []
    if settings.smtp_host:
        channels.append(SmtpChannel(settings, vault=vault, customer_name=customer_name))
    if settings.webhook_url:
        channels.append(WebhookChannel(settings, vault=vault, customer_name=customer_name))
    return channels


@dataclass(frozen=True, slots=True)
class ChannelResult:
    channel: str
    problem: str  # empty: delivered

    @property
    def ok(self) -> bool:
        return not self.problem


def _problem(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:500]


def send_test(settings: AlertSettings, *, vault: Vault, customer_name: str) -> list[ChannelResult]:
    """``ledgerlink host alerts test``: send a test alert through each configured channel now
    and say, per channel, whether it went out."""
    alert = Alert(
        kind=AlertKind.TEST,
        subject="test",
        severity=Severity.TEST,
        title="Test alert",
        what_happened=(
            "This is a test of FinancialHost's alerts ('ledgerlink host alerts test'). If you "
            "read it, alerts reach you."
        ),
        action="Nothing.",
    )
    results = []
    for channel in configured_channels(settings, vault=vault, customer_name=customer_name):
        try:
            channel.send(alert)
        except Exception as error:  # report every channel, whatever went wrong
            results.append(ChannelResult(channel.describe(), _problem(error)))
        else:
            results.append(ChannelResult(channel.describe(), ""))
    return results


# deciding -----------------------------------------------------------------------------------


class Throttle:
    """At most one alert per key within an interval; counts the ones it holds back."""

    _PRUNE_ABOVE = 1000

    def __init__(self) -> None:
        self._last: dict[tuple[str, str], datetime] = {}
        self._held: dict[tuple[str, str], int] = {}

    def admit(self, key: tuple[str, str], *, now: datetime, interval: timedelta) -> int | None:
        """None: hold this one back. Otherwise how many were held back since the last one."""
        last = self._last.get(key)
        if last is not None and now - last < interval:
            self._held[key] = self._held.get(key, 0) + 1
            return None
        if len(self._last) > self._PRUNE_ABOVE:  # subjects carry ERP texts: keep it bounded
            self._last = {k: t for k, t in self._last.items() if now - t < interval}
        self._last[key] = now
        return self._held.pop(key, 0)


_UNAVAILABLE_ACTION = (
    "Check that the ERP is running and reachable from this server (NAV: the service tier and "
    "its web services; Visma: the company is not locked by a backup or another user and a "
    "licence is free) and that the ERP user's password in the vault is current ('ledgerlink "
    "host secret set …'). Nothing is lost: waiting jobs are tried again automatically, and "
    "you will be told when the ERP answers again."
)
_REFUSED_ACTION = (
    "If the hub sent them, its key, clock or address is wrong: compare its key id with "
    "'ledgerlink host key list', check both clocks (requests more than 300 s off are refused) "
    "and allowed_ips. If not, someone is trying this host: look at 'ledgerlink host audit show' "
    "and at the firewall."
)


class Alerter:
    """Turns what the host reports into alerts and delivers them off the request path.

    The host calls :meth:`job_failed`, :meth:`erp_unavailable` and :meth:`erp_available`; these
    only decide and queue, so they are cheap and never raise because of a channel.
    """

    def __init__(
        self,
        settings: AlertSettings,
        *,
        customer_name: str,
        vault: Vault,
        audit: AuditLog,
        certificate_expires: datetime | None = None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._settings = settings
        self._audit = audit
        self._certificate_expires = certificate_expires
        self._clock = clock
        self._channels: Sequence[Channel] = configured_channels(
            settings, vault=vault, customer_name=customer_name
        )
        self._throttle = Throttle()
        self._lock = threading.RLock()
        self._outbox: queue.Queue[Alert | None] = queue.Queue(maxsize=_OUTBOX_SIZE)
        self._thread: threading.Thread | None = None
        self._erp_down_since: datetime | None = None
        self._down_reported = False
        self._refused: deque[tuple[datetime, str, str]] = deque()

    @property
    def enabled(self) -> bool:
        return bool(self._channels)

    def start(self) -> None:
        if not self.enabled:
            return
        self._thread = threading.Thread(target=self._run, name="financialhost-alerts", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Deliver what is queued (bounded by the channels' timeouts), then stop."""
        if self._thread is None:
            return
        self._outbox.put(None)
        self._thread.join(timeout=60)
        self._thread = None

    # what the host reports ------------------------------------------------------------------

    def job_failed(
        self, *, job_id: str, operation: str, body: Mapping[str, Any], error: WireError
    ) -> None:
        """The ERP refused a job: it failed for good."""
        self.erp_available()  # a refusal is an answer
        fields = "; ".join(f"{p.path}: {p.message}" for p in error.field_errors[:5])
        hint = (
            error.hint or "Correct what the ERP's text names, in the ERP or in ledgerlink"
        ).rstrip(". ")
        self._emit(
            Alert(
                kind=AlertKind.JOB_FAILED,
                subject=f"{operation}: {error.erp_text or error.message}"[:300],
                severity=Severity.ERROR,
                title=f"The ERP refused {operation}",
                what_happened=(
                    f"FinancialHost sent a job ({operation}) to the ERP and the ERP refused it: "
                    f"{error.message} The job has failed and is not tried again; ledgerlink "
                    "shows it as failed."
                ),
                erp_text=error.erp_text,
                action=f"{hint}. Then transfer it again from ledgerlink.",
                facts={
                    "job": job_id,
                    "operation": operation,
                    "idempotency key": str(body.get("idempotency_key", "")),
                    "fields": fields,
                },
            )
        )

    def erp_unavailable(
        self,
        message: str,
        *,
        erp_text: str = "",
        waiting_jobs: int = 0,
        waited_seconds: float | None = None,
    ) -> None:
        """The ERP could not be reached (a job was put back, or a read failed). Alerts on the
        first failure after the ERP was fine, and again, as a reminder, once a job has waited
        ``waiting_alert_minutes``."""
        now = self._clock()
        with self._lock:
            first = self._erp_down_since is None
            if self._erp_down_since is None:
                self._erp_down_since = now
            since = self._erp_down_since
            if first:
                alert = Alert(
                    kind=AlertKind.ERP_UNAVAILABLE,
                    subject="erp",
                    severity=Severity.ERROR,
                    title="The ERP cannot be reached",
                    what_happened=f"FinancialHost could not reach the ERP: {message}",
                    erp_text=erp_text,
                    action=_UNAVAILABLE_ACTION,
                    facts={"waiting jobs": str(waiting_jobs) if waiting_jobs else ""},
                    at=now,
                )
            elif (
                waited_seconds is not None
                and waited_seconds >= self._settings.waiting_alert_minutes * 60
            ):
                alert = Alert(
                    kind=AlertKind.JOBS_WAITING,
                    subject="erp",
                    severity=Severity.ERROR,
                    title=f"{waiting_jobs} job(s) waiting for the ERP",
                    what_happened=(
                        f"The ERP has not been reachable since {_stamp(since)}: {message} "
                        f"{waiting_jobs} job(s) are waiting, the oldest for "
                        f"{_duration(waited_seconds)}."
                    ),
                    erp_text=erp_text,
                    action=_UNAVAILABLE_ACTION,
                    facts={"unavailable since": _stamp(since)},
                    at=now,
                )
            else:
                return
            if self._emit(alert):
                self._down_reported = True

    def erp_available(self) -> None:
        """The ERP answered. If it was reported unavailable, say it is back (not throttled: it
        answers an alert that went out)."""
        with self._lock:
            since, reported = self._erp_down_since, self._down_reported
            if since is None:
                return
            self._erp_down_since, self._down_reported = None, False
            if not reported:
                return
            now = self._clock()
            self._emit(
                Alert(
                    kind=AlertKind.ERP_RECOVERED,
                    subject="erp",
                    severity=Severity.RESOLVED,
                    title="The ERP answers again",
                    what_happened=(
                        f"The ERP was unavailable from {_stamp(since)} to {_stamp(now)} "
                        f"({_duration((now - since).total_seconds())}). Waiting jobs are being "
                        "sent now."
                    ),
                    action="Nothing.",
                    at=now,
                ),
                throttled=False,
            )

    def observe(self, event: str, fields: Mapping[str, Any]) -> None:
        """Counts refused requests (wrong signatures, unknown addresses, …; the guard calls it
        for each, as the audit log aggregates them); ``refused_alert_count`` of them within
        ``refused_window_minutes`` make an alert."""
        if event != "request.refused":
            return
        s = self._settings
        now = self._clock()
        window = timedelta(minutes=s.refused_window_minutes)
        with self._lock:
            self._refused.append((now, str(fields.get("address", "")), str(fields.get("reason"))))
            while self._refused and now - self._refused[0][0] > window:
                self._refused.popleft()
            if len(self._refused) < s.refused_alert_count:
                return
            reasons = Counter(reason for _, _, reason in self._refused)
            addresses = Counter(address for _, address, _ in self._refused)
            count = len(self._refused)
            self._refused.clear()
            self._emit(
                Alert(
                    kind=AlertKind.REQUESTS_REFUSED,
                    subject="refused",
                    severity=Severity.ERROR,
                    title=f"{count} requests refused",
                    what_happened=(
                        f"FinancialHost refused {count} requests within "
                        f"{_duration(window.total_seconds())}; none reached the ERP. This is a "
                        "possible attack, or a hub with a wrong key."
                    ),
                    action=_REFUSED_ACTION,
                    facts={
                        "reasons": ", ".join(f"{r} ×{n}" for r, n in reasons.most_common()),
                        "addresses": ", ".join(f"{a} ×{n}" for a, n in addresses.most_common(10)),
                    },
                    at=now,
                )
            )

    def check_certificate(self) -> None:
        """Warn (once a day) while the host's TLS certificate is near its end or past it."""
        expires = self._certificate_expires
        if expires is None:
            return
        now = self._clock()
        left = expires - now
        if left > timedelta(days=self._settings.certificate_warning_days):
            return
        expired = left <= timedelta(0)
        self._emit(
            Alert(
                kind=AlertKind.CERTIFICATE_EXPIRING,
                subject="tls",
                severity=Severity.ERROR if expired else Severity.WARNING,
                title=(
                    "The host's TLS certificate has expired"
                    if expired
                    else f"The host's TLS certificate expires in {left.days} days"
                ),
                what_happened=(
                    f"The certificate the hub connects to (and pins) ends {_stamp(expires)}. "
                    + (
                        "The hub cannot connect any more."
                        if expired
                        else "After that the hub cannot connect."
                    )
                ),
                action=(
                    "Renew it: put the new certificate in tls_cert_file/tls_key_file, or, for "
                    "the self-signed one, remove tls-cert.pem and tls-key.pem from the data "
                    "folder and restart the host (a new one is made); then give the hub the new "
                    "certificate."
                ),
                facts={"expires": _stamp(expires)},
                at=now,
            ),
            interval=timedelta(days=1),
        )

    # delivering -----------------------------------------------------------------------------

    def _emit(
        self, alert: Alert, *, throttled: bool = True, interval: timedelta | None = None
    ) -> bool:
        """Queue the alert unless the throttle holds it back; say whether it was queued."""
        if not self._channels:
            return False
        with self._lock:
            if throttled:
                held = self._throttle.admit(
                    (alert.kind.value, alert.subject),
                    now=alert.at,
                    interval=interval or timedelta(minutes=self._settings.throttle_minutes),
                )
                if held is None:
                    return False
                alert = replace(alert, held_back=held)
        try:
            self._outbox.put_nowait(alert)
        except queue.Full:
            _log.warning("alert outbox full; dropped %s alert %s", alert.kind, alert.alert_id)
            return False
        return True

    def _run(self) -> None:
        while True:
            self.check_certificate()
            try:
                alert = self._outbox.get(timeout=self._settings.check_seconds)
            except queue.Empty:
                continue
            if alert is None:
                return
            self._deliver(alert)

    def _deliver(self, alert: Alert) -> None:
        sent = []
        for channel in self._channels:
            try:
                channel.send(alert)
            except Exception as error:  # a broken channel must never break the host
                problem = _problem(error)
                _log.warning("alert %s through %s failed: %s", alert.kind, channel.name, problem)
                self._record(
                    "alert.failed",
                    alert_id=alert.alert_id,
                    kind=alert.kind.value,
                    channel=channel.name,
                    problem=problem,
                )
            else:
                sent.append(channel.name)
        if sent:
            self._record(
                "alert.sent",
                alert_id=alert.alert_id,
                kind=alert.kind.value,
                subject=alert.subject,
                channels=sent,
                held_back=alert.held_back,
            )

    def _record(self, event: str, **fields: Any) -> None:
        try:
            self._audit.append(event, **fields)
        except Exception:  # e.g. the database closed during shutdown
            _log.exception("could not write %s to the audit log", event)
