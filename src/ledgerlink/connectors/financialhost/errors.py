"""FinancialHost's error table: what an answer, a job outcome or a transport failure means for
the caller (design §6), as pure functions with tests.

=====================================  =============================================
what happened                          contract error
=====================================  =============================================
401 (signature refused)                AuthExpired — key id, secret or clock
403 (address or operation refused)     Permanent — the host's allow-lists
409 (idempotency key, other content)   Permanent — a ledgerlink fault
413 (body over the host's limit)       Permanent — the host's ``max_body_bytes``
404 (operation or job unknown)         Permanent — host older than the hub
422 ``erp_rejected`` / ``invalid``     Permanent — ERP text, hint, field errors
503 ``erp_unavailable`` / 429          Transient — with the host's Retry-After
other 5xx                              Uncertain on a write, Transient on a read
job ``failed``                         Permanent — ERP text, hint, field errors
job still ``pending`` after waiting    Transient — the host keeps and retries it
answer not signed by the host          Permanent — wrong address or certificate
TLS certificate problem                Permanent — the pinned certificate, mTLS
not connected (refused, DNS, timeout)  Transient — the host is not reachable
sent, no answer (read timeout, reset)  Uncertain on a write, Transient on a read
=====================================  =============================================

A write that timed out is Uncertain although the host runs each idempotency key only once:
the engine then looks the correlation up before sending again, which costs one read and keeps
the rule the same for every ERP.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx2
from pydantic import ValidationError as SchemaError

from ledgerlink.connectors._kit.retry import FailureKind, outcome_of_exception
from ledgerlink.connectors.contract import (
    AuthExpired,
    ConnectorError,
    Permanent,
    Transient,
    Uncertain,
)
from ledgerlink.connectors.financialhost.mapping import field_errors
from ledgerlink.wire import operations as ops
from ledgerlink.wire.client import AnswerNotAuthentic, WireAnswer

SIGNATURE_HINT = (
    "The host refused this hub's key: connect again with a key the host has now "
    "('ledgerlink host key list' on the host; 'ledgerlink connect financialhost --key-id … "
    "--secret …'), and check that both clocks are right."
)
FORBIDDEN_HINT = (
    "FinancialHost does not allow this: add this hub's address to allowed_ips, or the "
    "operation to allowed_operations, in the host's settings (financialhost.toml), and restart "
    "the host."
)
CONFLICT_HINT = (
    "FinancialHost holds another request under the same idempotency key. This is a ledgerlink "
    "fault; report it with the host's audit log."
)
TOO_LARGE_HINT = (
    "The request is over the host's max_body_bytes; raise the limit in financialhost.toml."
)
NOT_FOUND_HINT = (
    "FinancialHost does not know this; it may be older than the hub. Update FinancialHost."
)
REJECTED_HINT = "Fix the data or the ERP's set-up as the ERP says, then transfer again."
UNAVAILABLE_HINT = "FinancialHost keeps trying; nothing needs to be done unless this lasts."
NOT_AUTHENTIC_HINT = (
    "The address may point to another server, or something between rewrote the answer: check "
    "the connection's base_url and the pinned certificate (tls_certificate)."
)
CERTIFICATE_HINT = (
    "Check the pinned certificate (tls_certificate: the host's current certificate, e.g. "
    "tls-cert.pem in its data folder) and, if the host requires client certificates, the "
    "connection's client certificate and key."
)
UNREACHABLE_HINT = (
    "Check that FinancialHost is running and that this hub can reach its address and port "
    "(firewall, DNS, VPN)."
)
DROPPED_HINT = (
    "Check that FinancialHost is running. A host that requires client certificates (mTLS) "
    "also closes the connection like this when the connection has no valid certificate."
)
AGENT_HINT = (
    "Check that FinancialHost runs in agent mode on the customer's server ('ledgerlink host "
    'serve\' with mode = "agent") and can reach this hub over HTTPS; its log names each failed '
    "call to the hub."
)
NO_ANSWER_HINT = "Transferring again is safe: FinancialHost runs each request only once."
MALFORMED_HINT = (
    "FinancialHost and the hub speak different versions of the wire contract; update both."
)


def wire_error(body: Mapping[str, Any]) -> ops.WireError:
    """The error in an answer body; an unreadable body becomes an ``internal`` error with the
    body's text (truncated)."""
    try:
        return ops.ErrorBody.model_validate(body).error
    except SchemaError:
        error = body.get("error")
        message = error.get("message") if isinstance(error, Mapping) else None
        text = message if isinstance(message, str) else json.dumps(body, default=str)
        return ops.WireError(code=ops.ErrorCode.INTERNAL, message=text[:500])


def answer_error(
    answer: WireAnswer, *, operation: str, write: bool, erp: str = "The ERP"
) -> ConnectorError:
    """The contract error for a non-success answer to ``operation`` (see the module table)."""
    error = wire_error(answer.body)
    status = answer.status
    code = error.code
    if status == 401 or code is ops.ErrorCode.UNAUTHENTICATED:
        return AuthExpired(
            f"FinancialHost refused our signature: {error.message}",
            hint=SIGNATURE_HINT,
            status=status,
        )
    refused = f"FinancialHost refused {operation}: {error.message}"
    if status == 403 or code is ops.ErrorCode.FORBIDDEN:
        return Permanent(refused, hint=FORBIDDEN_HINT, status=status)
    if status == 409 or code is ops.ErrorCode.CONFLICT:
        return Permanent(refused, hint=CONFLICT_HINT, status=status)
    if status == 413 or code is ops.ErrorCode.TOO_LARGE:
        return Permanent(refused, hint=TOO_LARGE_HINT, status=status)
    if status == 404 or code is ops.ErrorCode.NOT_FOUND:
        return Permanent(refused, hint=NOT_FOUND_HINT, status=status)
    if code is ops.ErrorCode.ERP_REJECTED:
        return Permanent(
            f"{erp} refused {operation}: {error.message}",
            erp_text=error.erp_text,
            hint=error.hint or REJECTED_HINT,
            status=status,
            field_errors=field_errors(error.field_errors),
        )
    if status == 422 or code is ops.ErrorCode.INVALID:
        return Permanent(
            refused,
            erp_text=error.erp_text,
            hint=error.hint or MALFORMED_HINT,
            status=status,
            field_errors=field_errors(error.field_errors),
        )
    if status in (429, 503) or code is ops.ErrorCode.ERP_UNAVAILABLE:
        return Transient(
            f"{erp} behind FinancialHost is unavailable: {error.message}",
            retry_after=answer.retry_after,
            erp_text=error.erp_text,
            hint=error.hint or UNAVAILABLE_HINT,
            status=status,
        )
    failed = f"FinancialHost failed on {operation} (HTTP {status}): {error.message}"
    if status >= 500:
        if write:
            return Uncertain(failed, hint=NO_ANSWER_HINT, status=status)
        return Transient(failed, retry_after=answer.retry_after, status=status)
    return Permanent(failed, erp_text=error.erp_text, hint=error.hint, status=status)


def job_failed(outcome: ops.JobOutcome, *, erp: str = "The ERP") -> Permanent:
    """A write the ERP refused: its text, hint and field errors."""
    error = outcome.error or ops.WireError(
        code=ops.ErrorCode.INTERNAL, message="the job failed without a reason"
    )
    return Permanent(
        f"{erp} refused {outcome.operation}: {error.message}",
        erp_text=error.erp_text,
        hint=error.hint or REJECTED_HINT,
        field_errors=field_errors(error.field_errors),
    )


def job_pending(outcome: ops.JobOutcome, *, now: datetime) -> Transient:
    """A write FinancialHost has stored but not done within our wait. Retrying is safe: the
    same idempotency key never runs twice, so the next call finds this job."""
    problem = outcome.last_problem or "the ERP has not finished it yet"
    retry_after = None
    if outcome.next_attempt_at is not None:
        retry_after = max((outcome.next_attempt_at - now).total_seconds(), 0.0)
    return Transient(
        f"FinancialHost has stored the request and will send it when the ERP answers: {problem}",
        retry_after=retry_after,
        hint=UNAVAILABLE_HINT,
    )


def not_authentic(error: AnswerNotAuthentic) -> Permanent:
    return Permanent(str(error), hint=NOT_AUTHENTIC_HINT)


def malformed(operation: str, error: SchemaError) -> Permanent:
    """An answer whose body does not match the operation's result schema."""
    first = error.errors()[0] if error.error_count() else None
    detail = f" ({'.'.join(str(p) for p in first['loc'])}: {first['msg']})" if first else ""
    return Permanent(
        f"FinancialHost answered {operation} with a body this hub cannot read{detail}",
        hint=MALFORMED_HINT,
    )


def certificate_problem(error: BaseException) -> str | None:
    """The TLS certificate failure behind a transport error (verification of the host's
    certificate, or the host refusing ours), if that is what it is."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return current.verify_message or str(current)
        if isinstance(current, ssl.SSLError) and "CERTIFICATE" in (current.reason or "").upper():
            return str(current.reason)
        current = current.__cause__ or current.__context__
    text = str(error)
    return text if "CERTIFICATE_VERIFY_FAILED" in text else None


def transport_error(
    error: httpx2.TransportError, *, url: str, operation: str, write: bool, agent: bool = False
) -> ConnectorError:
    """A request that got no answer (see the module table)."""
    name = type(error).__name__
    detail = str(error) or name
    problem = certificate_problem(error)
    if problem is not None:
        return Permanent(
            f"The TLS handshake with FinancialHost at {url} failed: {problem}",
            hint=CERTIFICATE_HINT,
        )
    if outcome_of_exception(error).kind is FailureKind.NOT_SENT:
        return Transient(
            f"FinancialHost at {url} cannot be reached ({name}: {detail})",
            hint=AGENT_HINT if agent else UNREACHABLE_HINT,
        )
    lost = f"FinancialHost at {url} did not answer {operation} ({name}: {detail})"
    if write:
        return Uncertain(f"{lost}; it may have stored the request", hint=NO_ANSWER_HINT)
    return Transient(lost, hint=AGENT_HINT if agent else DROPPED_HINT)
