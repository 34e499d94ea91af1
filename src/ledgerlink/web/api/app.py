"""The JSON API application, mounted by the hub's app under ``/api/v1``.

A mounted application rather than a router: the API answers every error, a path it does not
have included, as a problem (RFC 9457), while the console keeps its own HTML error pages; and
its OpenAPI document (``/api/v1/openapi.json``) holds the API alone.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from ledgerlink.store.database import Database
from ledgerlink.sync.engine import Engine
from ledgerlink.sync.registry import ConnectorProvider, hub_environment
from ledgerlink.sync.secrets import SecretBox
from ledgerlink.sync.transfers import Submitting
from ledgerlink.web.api import problems
from ledgerlink.web.api.actions import actions_router
from ledgerlink.web.api.auth import Authenticator
from ledgerlink.web.api.idempotency import idempotent_route
from ledgerlink.web.api.problems import PROBLEM_JSON, Problem
from ledgerlink.web.api.psa import psa_router
from ledgerlink.web.api.reconciliation import reconciliation_router
from ledgerlink.web.api.services import ApiServices
from ledgerlink.web.api.transfers import transfers_router

PREFIX = "/api/v1"

DESCRIPTION = """\
PSA data in (customers, contacts, employees, projects, registrations, expenses; invoices
drafted, posted and credited) with the same validation as the file import, and transfer state
out (connections, the transfer table, the integration log, the reconciliation report;
transfers started and queued; selected documents ignored, let in again, resolved and
previewed, as in the console).

* **Authentication**: `Authorization: Bearer <API key>`; a key belongs to a user
  (`ledgerlink users api-key create NAME --user USER`) and the user's role applies: viewer
  reads, finance also starts transfers, admin also writes PSA data and invoices.
* **Idempotency**: send `Idempotency-Key` on a POST; the same key and request again get the
  first answer again (`Idempotent-Replayed: true`), the same key with another request a 409.
  Keys are kept 24 hours per user.
* **Pages**: the transfer table and the integration log answer `{"items", "limit", "next"}`;
  `limit` is 50 unless given, at most 500; follow `next` (also a `Link: <…>; rel="next"`
  header) until it is null. The cursor in it is a key, so rows added meanwhile are neither
  repeated nor skipped.
* **Errors** are RFC 9457 problem details (`application/problem+json`); a refused record
  lists each field's problem under `errors`.
* **Amounts** are decimal strings (`"1234.50"`), never JSON numbers.
"""


def _problem_responses() -> dict[int | str, dict[str, Any]]:
    content = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    said = {
        401: "No API key, or one that is not valid.",
        403: "The key's user's role does not allow this.",
        404: "Not found.",
        409: "Conflict (an Idempotency-Key reused, a number taken, …).",
        422: "The request is not valid; `errors` names each field.",
    }
    return {status: {"description": text, "content": content} for status, text in said.items()}


def build_api(services: ApiServices) -> FastAPI:
    """The API over ``services`` (tests hand their own engine and queue)."""
    auth = Authenticator(services.keys)
    route_class = idempotent_route(auth, services.idempotency)
    api = FastAPI(
        title="ledgerlink JSON API",
        version="1",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    problems.install(api)
    common: dict[str, Any] = {"responses": _problem_responses()}
    api.include_router(psa_router(services, auth, route_class), **common)
    api.include_router(transfers_router(services, auth, route_class), **common)
    api.include_router(actions_router(services, auth, route_class), **common)
    api.include_router(reconciliation_router(services, auth, route_class), **common)
    # The Problem schema is referenced by every route's error answers.
    original = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            document = original()  # kept by FastAPI as api.openapi_schema
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(problem.pop("$defs", {}))
            schemas["Problem"] = problem
            api.openapi_schema = document
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]
    return api


def api_app(
    database: Database, secrets: SecretBox, *, submitter: Submitting | None = None
) -> FastAPI:
    """The API for the hub's database; ``submitter`` queues started transfers (without one a
    worker's next round starts them)."""
    engine = Engine(
        database, ConnectorProvider(secrets, environment=hub_environment(database, secrets))
    )
    return build_api(ApiServices(database=database, engine=engine, submitter=submitter))
