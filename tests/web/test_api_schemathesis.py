"""schemathesis against the API's own OpenAPI document, in-process (ASGI), on both databases:
whatever a generated request holds, the API answers as its document says and never with a
5xx. Bounded (a few examples per operation) so it costs seconds."""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ledgerlink.connectors.testing import FakeErp
from ledgerlink.domain.users import Role
from ledgerlink.store.api_keys import ApiKeyStore
from ledgerlink.store.database import Database
from ledgerlink.web.api import PREFIX, ApiServices, build_api
from tests.sync.test_engine import build_hub
from tests.web.test_api import RecordingQueue, add_user, mounted

EXAMPLES = 8


def test_every_operation_answers_as_documented_and_never_5xx(
    database: Database, tmp_path: Path
) -> None:
    hub = build_hub(database, tmp_path, FakeErp())
    add_user(database, "admin", Role.ADMIN)
    _, key = ApiKeyStore(database).create("admin", "schemathesis")
    app = mounted(
        build_api(ApiServices(database=database, engine=hub.engine, submitter=RecordingQueue()))
    )
    schema = schemathesis.openapi.from_asgi(f"{PREFIX}/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    headers = {"Authorization": f"Bearer {key}"}

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def answers(case: Case) -> None:
            response = case.call(headers=headers)
            assert response.status_code < 500, (case.method, case.formatted_path, response.text)
            case.validate_response(
                response,
                checks=[
                    not_a_server_error,
                    status_code_conformance,
                    content_type_conformance,
                    response_schema_conformance,
                ],
            )

        answers()
