"""The FinancialHost error table (pure): answers, job outcomes and transport failures →
contract errors."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest

from ledgerlink.connectors.contract import (
    AuthExpired,
    ConnectorError,
    FieldError,
    Permanent,
    Transient,
    Uncertain,
)
from ledgerlink.connectors.financialhost import errors
from ledgerlink.wire import operations as ops
from ledgerlink.wire.client import AnswerNotAuthentic, WireAnswer

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def body(code: str, message: str = "no", **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


@pytest.mark.parametrize(
    ("status", "code", "write", "expected", "hint"),
    [
        (401, "unauthenticated", False, AuthExpired, "clocks"),
        (403, "forbidden", True, Permanent, "allowed_operations"),
        (409, "conflict", True, Permanent, "ledgerlink fault"),
        (413, "too_large", True, Permanent, "max_body_bytes"),
        (404, "not_found", False, Permanent, "Update FinancialHost"),
        (422, "invalid", True, Permanent, "wire contract"),
        (422, "erp_rejected", False, Permanent, "Fix the data"),
        (503, "erp_unavailable", False, Transient, "keeps trying"),
        (500, "internal", True, Uncertain, "only once"),
        (500, "internal", False, Transient, ""),
        (400, "internal", False, Permanent, ""),
    ],
)
def test_answer_table(
    status: int, code: str, write: bool, expected: type[ConnectorError], hint: str
) -> None:
    error = errors.answer_error(
        WireAnswer(status, body(code, "the host's words")), operation="customer.upsert", write=write
    )
    assert type(error) is expected
    assert "the host's words" in error.message
    assert error.status == status
    assert hint in error.hint


def test_signature_refused_names_the_cause_and_what_to_check() -> None:
    error = errors.answer_error(
        WireAnswer(401, body("unauthenticated", "The timestamp is 400 s away")),
        operation="connection.test",
        write=False,
    )
    assert isinstance(error, AuthExpired)
    assert error.message == "FinancialHost refused our signature: The timestamp is 400 s away"
    assert "connect again" in error.hint and "clocks" in error.hint


def test_erp_rejection_carries_erp_text_hint_and_field_errors() -> None:
    answer = WireAnswer(
        422,
        body(
            "erp_rejected",
            "The country does not exist.",
            erp_text="Kan ej hitta angiven landskod.",
            hint="Create the country.",
            field_errors=[{"path": "country", "message": "unknown", "code": "E1", "value": "XX"}],
        ),
    )
    error = errors.answer_error(answer, operation="customer.find", write=False, erp="Visma")
    assert isinstance(error, Permanent)
    assert error.message == "Visma refused customer.find: The country does not exist."
    assert error.erp_text == "Kan ej hitta angiven landskod."
    assert error.hint == "Create the country."
    assert error.field_errors == (FieldError("country", "unknown", "E1", "XX"),)


def test_unavailable_keeps_the_retry_after() -> None:
    answer = WireAnswer(503, body("erp_unavailable", erp_text="connection refused"), 30.0)
    error = errors.answer_error(answer, operation="customer.find", write=False)
    assert isinstance(error, Transient)
    assert error.retry_after == 30.0
    assert error.erp_text == "connection refused"


def test_an_unreadable_error_body_keeps_its_text() -> None:
    error = errors.answer_error(
        WireAnswer(502, {"value": "Bad gateway from the proxy"}), operation="x", write=False
    )
    assert isinstance(error, Transient)
    assert "Bad gateway from the proxy" in error.message


def outcome(state: ops.JobState, **changes: Any) -> ops.JobOutcome:
    fields: dict[str, Any] = {
        "job_id": "j1",
        "operation": "document.create_draft",
        "idempotency_key": "document:c:1",
        "state": state,
        "accepted_at": NOW,
    }
    return ops.JobOutcome(**(fields | changes))


def test_failed_job_is_permanent_with_the_erp_text() -> None:
    failed = outcome(
        ops.JobState.FAILED,
        error=ops.WireError(
            code=ops.ErrorCode.ERP_REJECTED,
            message="Item WORK does not exist.",
            erp_text="Varen WORK findes ikke.",
            field_errors=(ops.FieldProblem(path="lines[0].product_number", message="unknown"),),
        ),
    )
    error = errors.job_failed(failed, erp="Dynamics NAV")
    assert error.message == "Dynamics NAV refused document.create_draft: Item WORK does not exist."
    assert error.erp_text == "Varen WORK findes ikke."
    assert error.hint == errors.REJECTED_HINT
    assert error.field_errors[0].path == "lines[0].product_number"


def test_pending_job_is_transient_with_the_hosts_problem() -> None:
    pending = outcome(
        ops.JobState.PENDING,
        last_problem="The ERP does not answer. (ERP said: connection refused)",
        next_attempt_at=NOW + timedelta(seconds=8),
    )
    error = errors.job_pending(pending, now=NOW)
    assert error.message == (
        "FinancialHost has stored the request and will send it when the ERP answers: "
        "The ERP does not answer. (ERP said: connection refused)"
    )
    assert error.retry_after == 8.0
    assert errors.job_pending(outcome(ops.JobState.PENDING), now=NOW).retry_after is None


def test_answer_not_authentic_is_permanent() -> None:
    error = errors.not_authentic(AnswerNotAuthentic("not signed"))
    assert isinstance(error, Permanent)
    assert "pinned certificate" in error.hint


URL = "https://erp.example.dk:8743"


@pytest.mark.parametrize(
    ("failure", "write", "expected"),
    [
        (httpx2.ConnectError("refused"), True, Transient),
        (httpx2.ConnectTimeout("slow"), True, Transient),
        (httpx2.ReadTimeout("no answer"), True, Uncertain),
        (httpx2.ReadTimeout("no answer"), False, Transient),
        (httpx2.RemoteProtocolError("reset"), True, Uncertain),
    ],
)
def test_transport_table(
    failure: httpx2.TransportError, write: bool, expected: type[ConnectorError]
) -> None:
    error = errors.transport_error(failure, url=URL, operation="customer.upsert", write=write)
    assert type(error) is expected
    assert URL in error.message


def test_not_connected_says_the_host_cannot_be_reached() -> None:
    error = errors.transport_error(
        httpx2.ConnectError("[Errno 111] Connection refused"),
        url=URL,
        operation="connection.test",
        write=False,
    )
    assert error.message.startswith(f"FinancialHost at {URL} cannot be reached")


def test_a_certificate_failure_is_permanent() -> None:
    cause = ssl.SSLCertVerificationError(1, "certificate verify failed")
    cause.verify_message = "self-signed certificate"
    failure = httpx2.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED]")
    failure.__cause__ = cause
    error = errors.transport_error(failure, url=URL, operation="x", write=True)
    assert isinstance(error, Permanent)
    assert "self-signed certificate" in error.message
    assert "tls_certificate" in error.hint
