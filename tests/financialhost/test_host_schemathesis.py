"""Property-based requests generated from the host's own OpenAPI document (schemathesis), sent
signed over HTTPS: whatever the body, the host answers as documented and never with a 5xx
other than the declared 503."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from ledgerlink.wire.client import tls_context
from ledgerlink.wire.operations import OPERATIONS
from ledgerlink.wire.signing import sign_request
from tests.financialhost.conftest import LiveHost, start_host


@pytest.fixture(scope="module")
def module_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHost]:
    yield from start_host(tmp_path_factory.mktemp("schemathesis"))


@pytest.fixture(scope="module")
def host_schema(module_host: LiveHost) -> Any:
    fastapi_app = module_host.host.app._app  # the routes behind the guard
    return schemathesis.openapi.from_dict(fastapi_app.openapi())  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_the_host_answers_every_generated_request_as_documented(
    name: str, host_schema: Any, module_host: LiveHost
) -> None:
    operation = host_schema[f"/v1/ops/{name}"]["POST"]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=12,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def answers_as_documented(case: Case) -> None:
        body = b"" if case.body is None else json.dumps(case.body, default=str).encode()
        path = case.formatted_path
        headers = sign_request(method=case.method, path=path, body=body, keys=[module_host.key])
        with httpx2.Client(verify=tls_context(verify=module_host.certificate.cert_file)) as http:
            response = http.request(
                case.method,
                module_host.url + path,
                content=body,
                headers={**headers, "Content-Type": "application/json"},
            )
        assert response.status_code != 500, response.text
        case.validate_response(
            response,
            checks=[not_a_server_error, status_code_conformance, response_schema_conformance],
        )

    answers_as_documented()


def test_the_openapi_document_lists_exactly_the_allow_listed_operations(
    module_host: LiveHost,
) -> None:
    with httpx2.Client(verify=tls_context(verify=module_host.certificate.cert_file)) as http:
        document = http.get(module_host.url + "/openapi.json").json()
    paths = {p for p in document["paths"] if p.startswith("/v1/ops/")}
    assert paths == {f"/v1/ops/{name}" for name in OPERATIONS}
