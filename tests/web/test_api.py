"""The JSON API under /api/v1 (issue 14 item 8), on both databases: bearer API keys and roles,
PSA records validated exactly as the file import validates them, invoices drafted, posted and
credited, Idempotency-Key on POST, problem details, and transfer state out (the transfer
table, the integration log, transfers started and queued, 202 with where to poll)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from ledgerlink.connectors.testing import FakeErp
from ledgerlink.domain.entity import require_id
from ledgerlink.domain.transfers import Transfer, TransferStatus
from ledgerlink.domain.users import Role
from ledgerlink.store.api_keys import ApiKeyStore
from ledgerlink.store.database import Database
from ledgerlink.store.tables import UserRow
from ledgerlink.web.api import PREFIX, ApiServices, build_api
from tests.sync.test_engine import Hub, build_hub

PROBLEM = "application/problem+json"


class RecordingQueue:
    """A stand-in for the durable queue: keeps what was submitted."""

    def __init__(self) -> None:
        self.submitted: list[int] = []

    def submit(self, transfers: Sequence[Transfer]) -> int:
        self.submitted.extend(require_id(t) for t in transfers)
        return len(transfers)


@dataclass
class Api:
    client: TestClient
    hub: Hub
    queue: RecordingQueue
    keys: dict[Role, str]
    store: ApiKeyStore

    def as_(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


def add_user(database: Database, name: str, role: Role) -> None:
    with database.session() as session:
        session.add(UserRow(name=name, role=role.value, password_hash="x", active=True))
        session.commit()


def mounted(api: FastAPI) -> FastAPI:
    """The API as the hub's app mounts it."""
    outer = FastAPI()
    outer.mount(PREFIX, api)
    return outer


@pytest.fixture
def api(database: Database, tmp_path: Path) -> Iterator[Api]:
    hub = build_hub(database, tmp_path, FakeErp())
    queue = RecordingQueue()
    store = ApiKeyStore(database)
    keys = {}
    for role in Role:
        add_user(database, role.value, role)
        _, keys[role] = store.create(role.value, f"{role.value} script")
    app = build_api(ApiServices(database=database, engine=hub.engine, submitter=queue))
    with TestClient(mounted(app)) as client:
        yield Api(client, hub, queue, keys, store)


def assert_problem(response: object, status: int) -> dict[str, object]:
    assert hasattr(response, "status_code")
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == PROBLEM  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["status"] == status
    assert {"type", "title", "detail"} <= body.keys()
    assert "Traceback" not in response.text  # type: ignore[attr-defined]
    return dict(body)


CUSTOMER = {"number": "2001", "name": "Fjord Data ApS", "country": "DK", "currency": "DKK"}


# authentication and roles ----------------------------------------------------------------------
def test_without_a_key_every_route_is_401(api: Api) -> None:
    body = assert_problem(api.client.get(f"{PREFIX}/connections"), 401)
    assert "Bearer" in str(body["detail"])
    response = api.client.post(f"{PREFIX}/legal-entities/NORDLYS/customers", json=CUSTOMER)
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert_problem(
        api.client.get(f"{PREFIX}/connections", headers={"Authorization": "Basic eDp5"}), 401
    )


def test_an_unknown_or_revoked_key_is_401(api: Api) -> None:
    wrong = {"Authorization": "Bearer llk_nothere_" + "x" * 43}
    assert_problem(api.client.get(f"{PREFIX}/connections", headers=wrong), 401)
    assert api.client.get(f"{PREFIX}/connections", headers=api.as_(Role.VIEWER)).status_code == 200
    (viewer,) = [k for k in api.store.list() if k.user_name == "viewer"]
    api.store.revoke(viewer.prefix)
    assert_problem(api.client.get(f"{PREFIX}/connections", headers=api.as_(Role.VIEWER)), 401)


def test_a_key_is_stored_hashed_and_shown_once(api: Api, database: Database) -> None:
    record, key = api.store.create("admin", "ERP sync")
    assert key.startswith(record.prefix + "_") and len(key) > 50
    with database.session() as session:
        stored = session.execute(text("SELECT prefix, key_hash FROM api_keys")).all()
    assert all(key not in (prefix, hashed) for prefix, hashed in stored)
    assert all(key[len(record.prefix) :] not in hashed for _, hashed in stored)
    listed = {k.prefix: k for k in api.store.list("admin")}
    assert listed[record.prefix].name == "ERP sync" and listed[record.prefix].active


def test_a_viewer_reads_but_may_not_post(api: Api) -> None:
    viewer = api.as_(Role.VIEWER)
    response = api.client.post(
        f"{PREFIX}/legal-entities/NORDLYS/customers", json=CUSTOMER, headers=viewer
    )
    body = assert_problem(response, 403)
    assert "viewer" in str(body["detail"])
    response = api.client.post(
        f"{PREFIX}/connections/{api.hub.connection_id}/transfers", json={}, headers=viewer
    )
    assert_problem(response, 403)
    # finance transfers but does not write PSA data
    finance = api.as_(Role.FINANCE)
    response = api.client.post(
        f"{PREFIX}/legal-entities/NORDLYS/customers", json=CUSTOMER, headers=finance
    )
    assert_problem(response, 403)


def test_a_disabled_user_s_key_is_401(api: Api, database: Database) -> None:
    with database.session() as session:
        row = session.query(UserRow).filter_by(name="admin").one()
        row.active = False
        session.commit()
    assert_problem(api.client.get(f"{PREFIX}/connections", headers=api.as_(Role.ADMIN)), 401)


# PSA data in ------------------------------------------------------------------------------------
def test_a_customer_is_created_then_unchanged(api: Api) -> None:
    url = f"{PREFIX}/legal-entities/NORDLYS/customers"
    first = api.client.post(url, json=CUSTOMER, headers=api.as_(Role.ADMIN))
    assert first.status_code == 201, first.text
    assert first.json() == {"kind": "customers", "change": "created", "key": {"number": "2001"}}
    again = api.client.post(url, json=CUSTOMER, headers=api.as_(Role.ADMIN))
    assert again.status_code == 200
    assert again.json()["change"] == "unchanged"


@pytest.mark.parametrize(
    ("kind", "record", "fields", "words"),
    [
        ("customers", {**CUSTOMER, "country": "XX"}, {"country"}, "country"),
        ("customers", {**CUSTOMER, "name": "=HYPERLINK(1)"}, {"name"}, "formula"),
        ("contacts", {"customer_number": "9999", "name": "Ida"}, {"customer_number"}, "9999"),
        ("employees", {"initials": "ZZ", "name": " "}, {"name"}, "required"),
        (
            "projects",
            {"number": "P-9", "name": "X", "customer_number": "1001", "hourly_rate": "-5"},
            {"hourly_rate"},
            "negative",
        ),
        (
            "registrations",
            {"date": "2026-13-01", "employee_initials": "QQ", "project_number": "P-101"},
            {"date", "employee_initials", "minutes"},
            "YYYY-MM-DD",
        ),
        (
            "expenses",
            {
                "date": "2026-08-03",
                "employee_initials": "AH",
                "project_number": "P-101",
                "description": "Taxi",
                "unit_price": "12.3456789",
            },
            {"unit_price"},
            "decimals",
        ),
    ],
)
def test_a_bad_record_is_a_422_naming_its_fields_in_the_import_s_words(
    api: Api, kind: str, record: dict[str, object], fields: set[str], words: str
) -> None:
    response = api.client.post(
        f"{PREFIX}/legal-entities/NORDLYS/{kind}", json=record, headers=api.as_(Role.ADMIN)
    )
    body = assert_problem(response, 422)
    errors = body["errors"]
    assert isinstance(errors, list)
    assert {e["field"] for e in errors} == fields, errors
    assert words in str(body["detail"])


def test_the_import_s_own_rules_apply_not_only_the_schema_s(api: Api) -> None:
    """A rule only the import knows (a registration's hours must be whole minutes)."""
    record = {
        "date": "2026-08-03",
        "employee_initials": "AH",
        "project_number": "P-101",
        "hours": "0.001",
    }
    response = api.client.post(
        f"{PREFIX}/legal-entities/NORDLYS/registrations", json=record, headers=api.as_(Role.ADMIN)
    )
    body = assert_problem(response, 422)
    assert "whole number of minutes" in str(body["detail"])


def test_records_of_every_kind_are_stored(api: Api) -> None:
    admin = api.as_(Role.ADMIN)
    base = f"{PREFIX}/legal-entities/NORDLYS"
    records = [
        ("customers", CUSTOMER),
        ("contacts", {"customer_number": "2001", "name": "Ida Berg", "email": "ib@fjord.dk"}),
        ("employees", {"initials": "kb", "name": "Karen Bach"}),
        ("projects", {"number": "P-900", "name": "Data", "customer_number": "2001",
                      "hourly_rate": "1000.00", "manager_initials": "KB"}),
        ("registrations", {"ref": "API-1", "date": "2026-09-01", "employee_initials": "KB",
                           "project_number": "P-900", "minutes": 90, "billable": True}),
        ("expenses", {"ref": "API-E1", "date": "2026-09-01", "employee_initials": "KB",
                      "project_number": "P-900", "description": "Train", "unit_price": "250.00",
                      "receipt_file": "train.pdf"}),
    ]  # fmt: skip
    for kind, record in records:
        response = api.client.post(f"{base}/{kind}", json=record, headers=admin)
        assert response.status_code == 201, (kind, response.text)
    assert response.json()["key"] == {"ref": "API-E1"}
    employee = api.client.post(
        f"{base}/employees", json={"initials": "KB", "name": "Karen Bach"}, headers=admin
    )
    assert employee.json() == {
        "kind": "employees",
        "change": "unchanged",
        "key": {"initials": "KB"},
    }


def test_a_receipt_is_a_name_in_the_receipts_folder_not_a_path(api: Api) -> None:
    record = {
        "date": "2026-08-03",
        "employee_initials": "AH",
        "project_number": "P-101",
        "description": "Taxi",
        "unit_price": "10",
        "receipt_file": "../secret.key",
    }
    response = api.client.post(
        f"{PREFIX}/legal-entities/NORDLYS/expenses", json=record, headers=api.as_(Role.ADMIN)
    )
    body = assert_problem(response, 422)
    assert body["errors"] == [{"field": "receipt_file", "message": "a bare file name, not a path"}]


def test_an_unknown_key_or_a_wrong_json_type_is_422_and_an_unknown_entity_404(api: Api) -> None:
    admin = api.as_(Role.ADMIN)
    url = f"{PREFIX}/legal-entities/NORDLYS/customers"
    body = assert_problem(
        api.client.post(url, json={**CUSTOMER, "colour": "red"}, headers=admin), 422
    )
    assert [e["field"] for e in body["errors"]] == ["colour"]  # type: ignore[union-attr]
    assert_problem(api.client.post(url, json={**CUSTOMER, "name": 5}, headers=admin), 422)
    assert_problem(api.client.post(url, content=b"{", headers=admin), 422)
    assert_problem(
        api.client.post(f"{PREFIX}/legal-entities/NOPE/customers", json=CUSTOMER, headers=admin),
        404,
    )
    assert_problem(api.client.get(f"{PREFIX}/nothing", headers=admin), 404)
    assert_problem(api.client.delete(f"{PREFIX}/connections", headers=admin), 405)


# invoices ---------------------------------------------------------------------------------------
def test_an_invoice_is_drafted_posted_and_credited(api: Api) -> None:
    admin = api.as_(Role.ADMIN)
    draft = api.client.post(
        f"{PREFIX}/legal-entities/NORDLYS/invoices",
        json={
            "project_number": "P-100",
            "period_start": "2026-08-01",
            "period_end": "2026-08-31",
            "invoice_date": "2026-08-31",
        },
        headers=admin,
    )
    assert draft.status_code == 201, draft.text
    invoice = draft.json()
    assert draft.headers["location"] == f"/api/v1/invoices/{invoice['id']}"
    assert invoice["status"] == "draft" and invoice["number"] is None
    assert isinstance(invoice["gross"], str) and invoice["lines"]
    posted = api.client.post(
        f"{PREFIX}/invoices/{invoice['id']}/post",
        json={"posting_date": "2026-08-31"},
        headers=admin,
    )
    assert posted.status_code == 200, posted.text
    assert posted.json()["status"] == "posted" and posted.json()["number"] is not None
    again = api.client.post(
        f"{PREFIX}/invoices/{invoice['id']}/post",
        json={"posting_date": "2026-08-31"},
        headers=admin,
    )
    assert "already posted" in str(assert_problem(again, 422)["detail"])
    credit = api.client.post(
        f"{PREFIX}/invoices/{invoice['id']}/credit",
        json={"invoice_date": "2026-09-01", "quantities": {"1": "1"}},
        headers=admin,
    )
    assert credit.status_code == 201, credit.text
    assert credit.json()["document_type"] == "credit_note"
    assert credit.json()["credits_invoice_id"] == invoice["id"]
    shown = api.client.get(f"{PREFIX}/invoices/{invoice['id']}", headers=api.as_(Role.VIEWER))
    assert shown.json()["status"] == "posted"
    assert_problem(api.client.get(f"{PREFIX}/invoices/999999", headers=admin), 404)


def test_nothing_to_draft_is_a_422_in_the_use_case_s_words(api: Api) -> None:
    response = api.client.post(
        f"{PREFIX}/legal-entities/NORDLYS/invoices",
        json={
            "project_number": "P-101",
            "period_start": "2026-08-01",
            "period_end": "2026-08-31",
            "invoice_date": "2026-08-31",
        },
        headers=api.as_(Role.ADMIN),
    )
    assert "no uninvoiced billable" in str(assert_problem(response, 422)["detail"])


# idempotency ------------------------------------------------------------------------------------
def test_the_same_key_and_body_get_the_same_answer_without_running_again(api: Api) -> None:
    headers = {**api.as_(Role.ADMIN), "Idempotency-Key": str(uuid.uuid4())}
    url = f"{PREFIX}/legal-entities/NORDLYS/invoices"
    body = {"project_number": "P-100", "period_start": "2026-08-01",
            "period_end": "2026-08-31", "invoice_date": "2026-08-31"}  # fmt: skip
    first = api.client.post(url, json=body, headers=headers)
    assert first.status_code == 201
    second = api.client.post(url, json=body, headers=headers)
    assert second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["location"] == first.headers["location"]
    assert second.headers["idempotent-replayed"] == "true"
    # without the key it would have run again: the work is invoiced, so nothing to draft
    third = api.client.post(url, json=body, headers=api.as_(Role.ADMIN))
    assert_problem(third, 422)


def test_the_same_key_with_another_body_is_409(api: Api) -> None:
    headers = {**api.as_(Role.ADMIN), "Idempotency-Key": "key-1"}
    url = f"{PREFIX}/legal-entities/NORDLYS/customers"
    assert api.client.post(url, json=CUSTOMER, headers=headers).status_code == 201
    other = api.client.post(url, json={**CUSTOMER, "name": "Other"}, headers=headers)
    body = assert_problem(other, 409)
    assert body["type"] == "/api/v1/problems/idempotency-key-reused"
    # another path with the same key is another request too
    assert_problem(
        api.client.post(
            f"{PREFIX}/legal-entities/NORDLYS/employees",
            json={"initials": "X", "name": "Y"},
            headers=headers,
        ),
        409,
    )


def test_keys_are_per_user_and_refusals_are_kept_but_not_403(api: Api) -> None:
    url = f"{PREFIX}/legal-entities/NORDLYS/customers"
    key = {"Idempotency-Key": "one-key-two-users"}
    bad = {**CUSTOMER, "country": "XX"}
    assert_problem(api.client.post(url, json=bad, headers={**api.as_(Role.ADMIN), **key}), 422)
    replay = api.client.post(url, json=bad, headers={**api.as_(Role.ADMIN), **key})
    assert replay.status_code == 422 and replay.headers["idempotent-replayed"] == "true"
    assert replay.headers["content-type"] == PROBLEM
    # the finance user's same key is theirs: refused by role, and not kept
    finance = {**api.as_(Role.FINANCE), **key}
    assert_problem(api.client.post(url, json=CUSTOMER, headers=finance), 403)
    assert_problem(api.client.post(url, json=CUSTOMER, headers=finance), 403)


def test_a_key_that_is_not_printable_is_422(api: Api) -> None:
    headers = {**api.as_(Role.ADMIN), "Idempotency-Key": "a b"}
    response = api.client.post(
        f"{PREFIX}/legal-entities/NORDLYS/customers", json=CUSTOMER, headers=headers
    )
    assert_problem(response, 422)


def test_keys_older_than_a_day_are_forgotten(api: Api, database: Database) -> None:
    from datetime import timedelta

    from ledgerlink.store.tables import IdempotencyKeyRow

    headers = {**api.as_(Role.ADMIN), "Idempotency-Key": "old"}
    url = f"{PREFIX}/legal-entities/NORDLYS/customers"
    assert api.client.post(url, json=CUSTOMER, headers=headers).status_code == 201
    with database.session() as session:
        row = session.query(IdempotencyKeyRow).filter_by(key="old").one()
        row.created_at = row.created_at - timedelta(hours=25)
        session.commit()
    again = api.client.post(url, json={**CUSTOMER, "name": "Renamed"}, headers=headers)
    assert again.status_code == 200 and again.json()["change"] == "updated"


# transfer state out -----------------------------------------------------------------------------
def test_transfers_start_queued_with_where_to_poll_and_the_table_and_log_follow(api: Api) -> None:
    connection = api.hub.connection_id
    base = f"{PREFIX}/connections/{connection}"
    finance = api.as_(Role.FINANCE)
    listed = api.client.get(f"{PREFIX}/connections", headers=api.as_(Role.VIEWER)).json()
    assert [c["erp"] for c in listed] == ["fake"] and "credentials" not in listed[0]
    table = api.client.get(f"{base}/documents", headers=api.as_(Role.VIEWER)).json()["items"]
    assert {r["view"] for r in table} == {"non_transferred"} and len(table) == 2
    number = table[0]["number"]

    started = api.client.post(f"{base}/transfers", json={"numbers": [number]}, headers=finance)
    assert started.status_code == 202, started.text
    (transfer,) = started.json()["transfers"]
    assert started.json()["queued"] is True
    assert transfer["status"] == "pending" and transfer["document_number"] == number
    assert started.headers["location"] == transfer["href"]
    assert api.queue.submitted == [transfer["id"]]

    # a worker runs it
    api.hub.engine.transfer_many([transfer["id"]])
    polled = api.client.get(transfer["href"], headers=api.as_(Role.VIEWER))
    assert polled.status_code == 200
    assert polled.json()["status"] == TransferStatus.SUCCESSFUL.value
    assert {s["status"] for s in polled.json()["steps"]} <= {"successful", "skipped"}

    rows = api.client.get(f"{base}/documents", headers=finance).json()["items"]
    views = {r["number"]: r for r in rows}
    assert views[number]["view"] == "transferred" and views[number]["erp_draft"]
    transferred = api.client.get(
        f"{base}/documents", params={"view": "transferred"}, headers=finance
    ).json()["items"]
    assert [r["number"] for r in transferred] == [number]
    log = api.client.get(f"{base}/transfers", params={"number": number}, headers=finance).json()
    assert [t["id"] for t in log["items"]] == [transfer["id"]] and log["next"] is None

    # asking again gives the successful transfer back and queues nothing
    again = api.client.post(f"{base}/transfers", json={"numbers": [number]}, headers=finance)
    assert again.status_code == 202
    assert again.json()["transfers"][0]["id"] == transfer["id"]
    assert api.queue.submitted == [transfer["id"]]


def test_a_failed_transfer_shows_the_erp_s_text_in_the_log(api: Api) -> None:
    from ledgerlink.connectors.contract import Permanent

    connection = api.hub.connection_id
    base = f"{PREFIX}/connections/{connection}"
    api.hub.erp.fail("create_document", Permanent("VAT code 99 unknown", hint="set vat_codes"))
    started = api.client.post(f"{base}/transfers", json={}, headers=api.as_(Role.ADMIN))
    ids = [t["id"] for t in started.json()["transfers"]]
    assert (
        len(ids) == 2
        and started.headers["location"] == f"/api/v1/connections/{connection}/transfers"
    )
    api.hub.engine.transfer_many(ids)
    log = api.client.get(f"{base}/transfers", headers=api.as_(Role.VIEWER)).json()["items"]
    failed = [t for t in log if t["status"] == "failed"]
    assert failed
    step = next(s for s in failed[0]["steps"] if s["status"] == "failed")
    assert "VAT code 99" in step["erp_text"] + step["message"] and step["hint"]
    attention = api.client.get(
        f"{base}/documents", params={"view": "attention"}, headers=api.as_(Role.VIEWER)
    ).json()["items"]
    assert attention and attention[0]["attention"] == "failed"


def test_unknown_connection_document_and_transfer_are_404(api: Api) -> None:
    viewer, finance = api.as_(Role.VIEWER), api.as_(Role.FINANCE)
    base = f"{PREFIX}/connections/{api.hub.connection_id}"
    assert_problem(api.client.get(f"{PREFIX}/connections/4242/documents", headers=viewer), 404)
    assert_problem(api.client.get(f"{base}/transfers/4242", headers=viewer), 404)
    missing = api.client.post(f"{base}/transfers", json={"numbers": [77]}, headers=finance)
    assert "77" in str(assert_problem(missing, 404)["detail"])


def test_the_openapi_document_lists_every_route_with_its_schemas(api: Api) -> None:
    document = api.client.get(f"{PREFIX}/openapi.json").json()
    assert document["servers"] == [{"url": PREFIX}]
    paths = document["paths"]
    kinds = ("customers", "contacts", "employees", "projects", "registrations", "expenses")
    expected = {f"/legal-entities/{{code}}/{kind}" for kind in kinds} | {
        "/legal-entities/{code}/invoices",
        "/invoices/{invoice_id}",
        "/invoices/{invoice_id}/post",
        "/invoices/{invoice_id}/credit",
        "/connections",
        "/connections/{connection_id}/documents",
        "/connections/{connection_id}/documents/ignore",
        "/connections/{connection_id}/documents/unignore",
        "/connections/{connection_id}/documents/resolve",
        "/connections/{connection_id}/documents/preview",
        "/connections/{connection_id}/reconciliation",
        "/connections/{connection_id}/transfers",
        "/connections/{connection_id}/transfers/{transfer_id}",
    }
    assert set(paths) == expected
    store = paths["/legal-entities/{code}/customers"]["post"]
    assert store["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CustomerIn"
    }
    assert "Idempotency-Key" in {p["name"] for p in store["parameters"]}
    problem = store["responses"]["422"]["content"]["application/problem+json"]["schema"]
    assert problem == {"$ref": "#/components/schemas/Problem"}
    assert "bearer" in str(document["components"]["securitySchemes"]).lower()
    for listed in ("documents", "transfers"):
        page = paths[f"/connections/{{connection_id}}/{listed}"]["get"]
        limit = next(p for p in page["parameters"] if p["name"] == "limit")["schema"]
        assert (limit["default"], limit["maximum"]) == (50, 500)
        assert "cursor" in {p["name"] for p in page["parameters"]}
        assert "Link" in page["responses"]["200"]["headers"]
        schema = page["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        assert {"items", "limit", "next"} <= set(
            document["components"]["schemas"][schema.rsplit("/", 1)[1]]["properties"]
        )


def test_every_key_is_revoked_by_its_prefix_or_by_the_whole_key(api: Api) -> None:
    """A prefix is hex: one with "_" in it (URL-safe base64 has it) was taken for a whole key
    and could not be revoked (about one key in eight)."""
    made = [api.store.create("admin", f"key {n}") for n in range(24)]
    for n, (record, key) in enumerate(made):
        assert re.fullmatch(r"llk_[0-9a-f]{8}", record.prefix)
        api.store.revoke(key if n % 2 else record.prefix)
    mine = {k.prefix: k for k in api.store.list("admin")}
    assert not any(mine[record.prefix].active for record, _ in made)
