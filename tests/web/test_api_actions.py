"""The JSON API's transfer side (issue 14 items 3 and 8), on both databases: ignore, let in
again, resolve and preview selected documents as the console does, each allowed or refused by
role; Idempotency-Key on them; a preview that sends the ERP nothing; the transfer table and
the integration log a page at a time, every row exactly once; the ERP's posting date in the
table; problem details for bad input."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from typing import Any

from ledgerlink.connectors.contract import Permanent
from ledgerlink.domain.users import Role
from ledgerlink.web.api import PREFIX
from tests.web.test_api import Api, api, assert_problem

__all__ = ["api"]  # the fixture, shared with test_api.py

ACTIONS = ("ignore", "unignore", "resolve", "preview")


def base(api: Api) -> str:
    return f"{PREFIX}/connections/{api.hub.connection_id}"


def act(api: Api, role: Role, action: str, numbers: list[int], **headers: str) -> Any:
    return api.client.post(
        f"{base(api)}/documents/{action}",
        json={"numbers": numbers},
        headers={**api.as_(role), **headers},
    )


def numbers_of(api: Api) -> list[int]:
    return [n for n in (i.number for i in api.hub.invoices) if n is not None]


def walk(api: Api, path: str, params: dict[str, Any], *, by_header: bool = False) -> list[Any]:
    """Every item of a paged list, following ``next`` (or the Link header); each page but the
    last is full."""
    items: list[Any] = []
    url: str | None = path
    first = True
    while url is not None:
        response = api.client.get(
            url, params=(params or None) if first else None, headers=api.as_(Role.VIEWER)
        )
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        link = response.headers.get("link")
        if page["next"] is None:
            assert link is None
        else:
            assert len(page["items"]) == page["limit"]
            assert link == f'<{page["next"]}>; rel="next"'
        url = link[1 : link.index(">")] if by_header and link else page["next"]
        first = False
    return items


def failed_transfers(api: Api, numbers: list[int]) -> list[int]:
    """Transfer the documents once with the ERP refusing each; the transfers' ids."""
    api.hub.erp.fail(
        "create_document",
        Permanent("VAT code 99 unknown", hint="set vat_codes"),
        times=len(numbers),
    )
    started = api.client.post(
        f"{base(api)}/transfers", json={"numbers": numbers}, headers=api.as_(Role.FINANCE)
    )
    assert started.status_code == 202, started.text
    ids = [t["id"] for t in started.json()["transfers"]]
    api.hub.engine.transfer_many(ids)
    return ids


# roles ------------------------------------------------------------------------------------------
def test_each_action_is_refused_to_a_viewer_and_allowed_to_finance_and_admin(api: Api) -> None:
    first, second = numbers_of(api)
    table = f"{base(api)}/documents"
    before = api.client.get(table, headers=api.as_(Role.VIEWER)).json()
    for action in ACTIONS:
        url = f"{base(api)}/documents/{action}"
        assert_problem(api.client.post(url, json={"numbers": [first]}), 401)
        refused = assert_problem(act(api, Role.VIEWER, action, [first]), 403)
        assert "viewer" in str(refused["detail"])
    assert_problem(
        api.client.post(
            f"{base(api)}/transfers", json={"numbers": [first]}, headers=api.as_(Role.VIEWER)
        ),
        403,
    )
    assert api.client.get(table, headers=api.as_(Role.VIEWER)).json() == before
    assert api.queue.submitted == []

    for role in (Role.FINANCE, Role.ADMIN):
        ignored = act(api, role, "ignore", [first])
        assert ignored.status_code == 200, ignored.text
        assert ignored.json()["changed"] == 1
        assert [(r["number"], r["view"]) for r in ignored.json()["documents"]] == [
            (first, "ignored")
        ]
        let_in = act(api, role, "unignore", [first, first])  # named twice: one document
        assert let_in.status_code == 200, let_in.text
        assert let_in.json()["changed"] == 1
        assert let_in.json()["documents"][0]["view"] == "non_transferred"
        previewed = act(api, role, "preview", [first])
        assert previewed.status_code == 200, previewed.text
        assert [d["number"] for d in previewed.json()["documents"]] == [first]

    failed_transfers(api, [first, second])
    for role, number in ((Role.FINANCE, first), (Role.ADMIN, second)):
        resolved = act(api, role, "resolve", [number])
        assert resolved.status_code == 200, resolved.text
        (row,) = resolved.json()["documents"]
        assert row["attention"] == "" and row["view"] == "failed"
    again = assert_problem(act(api, Role.FINANCE, "resolve", [first]), 422)
    assert "nothing to resolve" in str(again["detail"])


# preview ----------------------------------------------------------------------------------------
def test_a_preview_answers_the_exact_requests_and_sends_the_erp_nothing(api: Api) -> None:
    erp = api.hub.erp
    calls, documents = list(erp.calls), dict(erp.documents)
    first, second = numbers_of(api)

    answer = act(api, Role.FINANCE, "preview", [second, first])
    assert answer.status_code == 200, answer.text
    assert erp.calls == calls and erp.documents == documents  # no request reached the ERP
    assert walk(api, f"{base(api)}/transfers", {}) == []  # nothing recorded
    previews = answer.json()["documents"]
    assert [d["number"] for d in previews] == [first, second]  # the order a transfer sends
    assert previews[0]["title"] == f"invoice {first}"
    (step,) = [s for s in previews[0]["steps"] if s["step"] == "invoice"]
    (request,) = step["requests"]
    assert (request["method"], request["path"]) == ("POST", "/documents")
    previewed = json.loads(request["body"])

    # the transfer sends what the preview showed
    started = api.client.post(
        f"{base(api)}/transfers", json={"numbers": [first]}, headers=api.as_(Role.FINANCE)
    )
    api.hub.engine.transfer_many([t["id"] for t in started.json()["transfers"]])
    (sent,) = erp.documents.values()
    assert sent["reference"] == previewed["reference"]


# idempotency ------------------------------------------------------------------------------------
def test_an_action_replayed_by_its_key_does_not_run_again_and_another_body_is_409(
    api: Api,
) -> None:
    first, second = numbers_of(api)
    key = {"Idempotency-Key": "ignore-first"}
    ignored = act(api, Role.FINANCE, "ignore", [first], **key)
    assert ignored.status_code == 200
    assert act(api, Role.FINANCE, "unignore", [first]).status_code == 200  # no key: runs

    replayed = act(api, Role.FINANCE, "ignore", [first], **key)
    assert replayed.status_code == 200 and replayed.json() == ignored.json()
    assert replayed.headers["idempotent-replayed"] == "true"
    rows = walk(api, f"{base(api)}/documents", {})
    assert {r["number"]: r["view"] for r in rows}[first] == "non_transferred"  # not run again

    other = assert_problem(act(api, Role.FINANCE, "ignore", [second], **key), 409)
    assert other["type"] == "/api/v1/problems/idempotency-key-reused"
    assert "new key" in str(other["detail"])
    assert_problem(act(api, Role.FINANCE, "preview", [first], **key), 409)  # another path

    # a transfer: the same key gives the same transfers back, queued once
    headers = {**api.as_(Role.FINANCE), "Idempotency-Key": "transfer-both"}
    url = f"{base(api)}/transfers"
    started = api.client.post(url, json={"numbers": [first, second]}, headers=headers)
    assert started.status_code == 202
    again = api.client.post(url, json={"numbers": [first, second]}, headers=headers)
    assert again.status_code == 202 and again.json() == started.json()
    assert again.headers["location"] == started.headers["location"]
    assert len(api.queue.submitted) == 2
    assert_problem(api.client.post(url, json={"numbers": [first]}, headers=headers), 409)


# pagination -------------------------------------------------------------------------------------
def post_more_documents(api: Api) -> None:
    """An invoice and a credit note of it, posted: four documents in the table."""
    admin = api.as_(Role.ADMIN)
    drafted = api.client.post(
        f"{PREFIX}/legal-entities/NORDLYS/invoices",
        json={"project_number": "P-100", "period_start": "2026-08-01",
              "period_end": "2026-08-31", "invoice_date": "2026-08-31"},
        headers=admin,
    )  # fmt: skip
    invoice = drafted.json()["id"]
    posting = {"posting_date": "2026-08-31"}
    posted = api.client.post(f"{PREFIX}/invoices/{invoice}/post", json=posting, headers=admin)
    assert posted.status_code == 200, posted.text
    credit = api.client.post(
        f"{PREFIX}/invoices/{invoice}/credit",
        json={"invoice_date": "2026-09-01", "quantities": {"1": "1"}},
        headers=admin,
    ).json()["id"]
    posted = api.client.post(
        f"{PREFIX}/invoices/{credit}/post", json={"posting_date": "2026-09-01"}, headers=admin
    )
    assert posted.status_code == 200, posted.text


def test_the_table_is_walked_a_page_at_a_time_every_row_once_with_its_filters(api: Api) -> None:
    post_more_documents(api)
    table = f"{base(api)}/documents"
    everything = api.client.get(table, headers=api.as_(Role.VIEWER)).json()
    assert everything["limit"] == 50 and everything["next"] is None
    numbers = [r["number"] for r in everything["items"]]
    assert len(numbers) == 4 and numbers == sorted(numbers)

    assert [r["number"] for r in walk(api, table, {"limit": 1})] == numbers
    assert [r["number"] for r in walk(api, table, {"limit": 3}, by_header=True)] == numbers
    # the filters travel in next (a repeated one included)
    failed_transfers(api, [numbers[0]])
    views = {"view": ["non_transferred", "failed"], "limit": 1}
    walked = walk(api, table, views)
    assert [r["number"] for r in walked] == numbers
    assert {r["view"] for r in walked} == {"non_transferred", "failed"}
    assert [r["number"] for r in walk(api, table, {"view": "failed", "limit": 1})] == [numbers[0]]


def test_the_log_is_walked_newest_first_every_transfer_once_while_new_ones_start(
    api: Api,
) -> None:
    numbers = numbers_of(api)
    older = failed_transfers(api, numbers) + failed_transfers(api, numbers)
    log = f"{base(api)}/transfers"
    first = api.client.get(log, params={"limit": 3}, headers=api.as_(Role.VIEWER)).json()
    assert [t["id"] for t in first["items"]] == sorted(older, reverse=True)[:3]

    newer = failed_transfers(api, numbers)  # started while the client walks
    rest = walk(api, first["next"], {})
    walked = [t["id"] for t in first["items"] + rest]
    assert walked == sorted(older, reverse=True)  # each once, none of the newer
    assert not set(newer) & set(walked)

    everything = [t["id"] for t in walk(api, log, {"limit": 1}, by_header=True)]
    assert everything == sorted(older + newer, reverse=True)
    assert Counter(everything).most_common(1)[0][1] == 1
    one = walk(api, log, {"number": numbers[0], "limit": 2})
    assert {t["document_number"] for t in one} == {numbers[0]} and len(one) == 3


# the ERP's side ---------------------------------------------------------------------------------
def test_a_row_carries_the_erp_s_number_status_posting_date_remainder_and_paid(api: Api) -> None:
    from ledgerlink.domain.money import Money

    first, _ = numbers_of(api)
    started = api.client.post(
        f"{base(api)}/transfers", json={"numbers": [first]}, headers=api.as_(Role.FINANCE)
    )
    (transfer,) = started.json()["transfers"]
    api.hub.engine.transfer_many([transfer["id"]])
    with api.hub.engine.uow() as uow:
        state = uow.erp_documents.for_connection(api.hub.connection_id)[transfer["invoice_id"]]
        uow.erp_documents.update_status(
            api.hub.connection_id,
            state.correlation,
            status="booked",
            booked_number="70042",
            remainder=Money.of("100.00", state.gross.currency),
            paid=False,
            booked_on=date(2026, 9, 2),
        )
        uow.commit()
    rows = walk(api, f"{base(api)}/documents", {"view": "transferred"})
    (row,) = rows
    assert row["number"] == first
    assert (row["erp_number"], row["erp_status"], row["erp_posting_date"]) == (
        "70042",
        "booked",
        "2026-09-02",
    )
    assert row["remainder"] == "100.00" and row["paid"] is False
    untransferred = walk(api, f"{base(api)}/documents", {"view": "non_transferred"})
    assert [r["erp_posting_date"] for r in untransferred] == [None]


# bad input --------------------------------------------------------------------------------------
def test_bad_input_is_a_problem_saying_what_to_do(api: Api) -> None:
    first, _ = numbers_of(api)
    for action in ACTIONS:
        missing = assert_problem(act(api, Role.FINANCE, action, [first, 987654]), 404)
        assert "987654" in str(missing["detail"]) and "/documents lists" in str(missing["detail"])
        empty = assert_problem(act(api, Role.FINANCE, action, []), 422)
        assert empty["errors"][0]["field"] == "numbers"  # type: ignore[index]
    assert walk(api, f"{base(api)}/documents", {"view": "ignored"}) == []  # nothing changed
    missing = api.client.post(
        f"{base(api)}/transfers", json={"numbers": [987654]}, headers=api.as_(Role.FINANCE)
    )
    assert "/documents lists" in str(assert_problem(missing, 404)["detail"])
    elsewhere = f"{PREFIX}/connections/4242/documents/ignore"
    gone = api.client.post(elsewhere, json={"numbers": [first]}, headers=api.as_(Role.FINANCE))
    assert "connection" in str(assert_problem(gone, 404)["detail"])

    viewer = api.as_(Role.VIEWER)
    for path in ("documents", "transfers"):
        url = f"{base(api)}/{path}"
        for limit in ("0", "501", "ten"):
            body = assert_problem(api.client.get(url, params={"limit": limit}, headers=viewer), 422)
            assert body["errors"][0]["field"] == "query:limit"  # type: ignore[index]
        # the table's cursor is two numbers (document number, id), the log's one (the id)
        wrong = ("abc", "1.2.3", "1") if path == "documents" else ("abc", "1.2.3", "1.2")
        for cursor in wrong:
            body = assert_problem(
                api.client.get(url, params={"cursor": cursor}, headers=viewer), 422
            )
            assert body["errors"][0]["field"] == "query:cursor"  # type: ignore[index]

    # a transferred document cannot be ignored; the problem says why
    started = api.client.post(
        f"{base(api)}/transfers", json={"numbers": [first]}, headers=api.as_(Role.FINANCE)
    )
    api.hub.engine.transfer_many([t["id"] for t in started.json()["transfers"]])
    refused = assert_problem(act(api, Role.FINANCE, "ignore", [first]), 422)
    assert "cannot be ignored" in str(refused["detail"])
