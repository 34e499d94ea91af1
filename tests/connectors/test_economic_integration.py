"""The e-conomic connector against the e-conomic emulator over real HTTP: what the contract
suite does not cover (lost answers, revoked grants, roles, rate limits, expenses, contacts,
employees, departments)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest
import stamina

from ledgerlink.connectors._kit.limiter import LimiterKey, SlidingWindowLimiter
from ledgerlink.connectors.contract import AuthExpired, Permanent, Transient, Uncertain
from ledgerlink.connectors.economic import EconomicConnector
from ledgerlink.connectors.economic.connector import WINDOWS
from ledgerlink.domain.invoices import LineKind
from ledgerlink.emulators._kit.serve import running
from ledgerlink.emulators.economic import EconomicEmulator
from tests.connectors.builders import contact, employee, invoice, outgoing
from tests.contract.registry import economic_admin, economic_connector


@dataclass
class Live:
    emulator: EconomicEmulator
    base_url: str
    connector: EconomicConnector


@pytest.fixture
def live() -> Iterator[Live]:
    emulator = EconomicEmulator(app_secret_token="app-secret", agreement_grant_token="grant-token")
    with (
        running(emulator.app) as base_url,
        economic_connector(base_url, expense_accounts=[2800, 2810]) as connector,
    ):
        yield Live(emulator, base_url, connector)


def document(correlation: str = "ll:it:1") -> Any:
    inv = invoice()
    products = tuple("" if line.kind is LineKind.TEXT else "WORK-DEV" for line in inv.lines)
    return outgoing(inv, correlation=correlation, customer_ref="9001", line_products=products)


def posted_drafts(live: Live) -> list[Any]:
    return [
        e
        for e in live.emulator.journal.entries
        if e.method == "POST" and e.path == "/invoices/drafts"
    ]


def test_lost_answer_is_uncertain_and_the_lookup_finds_exactly_one_draft(live: Live) -> None:
    live.emulator.faults.set("/invoices/drafts", methods=["POST"], drop_after_commit_rate=1.0)
    doc = document("ll:lost:1")
    with pytest.raises(Uncertain):
        live.connector.create_document(doc)
    assert len(posted_drafts(live)) == 1  # not retried: only the engine may decide that
    live.emulator.faults.clear()
    found = live.connector.find_document(doc.correlation)
    assert found is not None
    drafts = httpx2.get(
        f"{live.base_url}/invoices/drafts",
        params={"filter": "references.other$eq:ll:lost:1"},
        headers={"X-AppSecretToken": "app-secret", "X-AgreementGrantToken": "grant-token"},
    ).json()["collection"]
    assert [d["draftInvoiceNumber"] for d in drafts] == [int(found.external_id)]


def test_draft_lines_carry_the_products_department(live: Live) -> None:
    live.connector.create_document(document())
    body = posted_drafts(live)[0].body
    assert body["references"]["other"] == "ll:it:1"
    assert body["lines"][0]["departmentalDistribution"] == {"departmentalDistributionNumber": 1}
    assert "exchangeRate" not in body
    assert body["notes"]["textLine2"] == "INV-1000"


def test_revoked_grant_is_auth_expired(live: Live) -> None:
    economic_admin(live.base_url, "/grants/revoke")
    with pytest.raises(AuthExpired) as caught:
        live.connector.verify()
    assert caught.value.hint.startswith("Reconnect")
    assert "revoked" in caught.value.erp_text


def test_wrong_role_is_permanent_use_superuser(live: Live) -> None:
    response = httpx2.put(
        f"{live.base_url}/_emulator/settings",
        json={"appRole": "Bookkeeping"},
        headers={"X-AppSecretToken": "app-secret", "X-AgreementGrantToken": "grant-token"},
    )
    response.raise_for_status()
    with pytest.raises(Permanent) as caught:
        live.connector.products()
    assert caught.value.status == 403
    assert "SuperUser" in caught.value.hint


def test_429_is_retried_and_then_left_to_the_engine(live: Live) -> None:
    live.emulator.faults.set("/self", rate_limit_rate=1.0, retry_after=0)
    with stamina.set_testing(True, attempts=3), pytest.raises(Transient) as caught:
        live.connector.verify()
    assert caught.value.status == 429
    assert live.emulator.journal.count("GET", "/self") == 3
    live.emulator.faults.clear()
    assert live.connector.verify().account_id


def test_the_connector_declares_the_emulators_rate_windows() -> None:
    """The limiter paces by the windows the connector declares; they are the emulator's (the
    numbers of the burst window are an assumption both sides share)."""
    served = EconomicEmulator().limits.windows
    assert [(w.max_calls, w.seconds, w.kind.value) for w in served] == [
        (w.max_calls, w.seconds, w.kind.value) for w in WINDOWS
    ]


def most_in_any(times: list[float], seconds: float) -> int:
    first, most = 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= seconds:
            first += 1
        most = max(most, last - first + 1)
    return most


def test_paced_by_its_windows_the_connector_meets_the_limits_and_never_hits_them() -> None:
    """One clock for the connector's limiter and the emulator's windows: 52,000 calls as fast
    as the limiter lets them go fill both the burst window and the fair-use day, and the
    emulator refuses none."""
    now = [1_800_000_000.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    limits = EconomicEmulator(clock=lambda: now[0]).limits
    limiter = SlidingWindowLimiter(clock=lambda: now[0], sleep=sleep)
    key = LimiterKey.for_secret("economic", "grant-token", windows=WINDOWS)
    admitted: list[float] = []
    for _ in range(52_000):
        limiter.acquire(key)
        assert limits.admit("grant-token").admitted, f"refused call {len(admitted) + 1}"
        admitted.append(now[0])
        now[0] += 0.002  # the request itself
    burst, day = limits.windows
    assert burst.max_calls * 0.95 <= most_in_any(admitted, burst.seconds) <= burst.max_calls
    assert day.max_calls * 0.99 <= most_in_any(admitted, day.seconds) <= day.max_calls


def test_a_429_from_the_rate_limit_is_waited_out_as_the_server_says(live: Live) -> None:
    """A limit lower than the connector knows (e-conomic's real numbers are unpublished): the
    call beyond it answers 429 with Retry-After, and the connector waits that long and
    retries instead of failing."""
    httpx2.put(
        f"{live.base_url}/_emulator/settings",
        json={"burstLimit": 2, "burstSeconds": 1},
        headers={"X-AppSecretToken": "app-secret", "X-AgreementGrantToken": "grant-token"},
    ).raise_for_status()
    for _ in range(3):
        assert live.connector.verify().account_id
    statuses = [e.status for e in live.emulator.journal.entries if e.path == "/self"]
    assert statuses == [200, 200, 429, 200]


def test_customer_with_a_non_numeric_number_is_refused_before_sending(live: Live) -> None:
    from tests.connectors.builders import customer

    with pytest.raises(Permanent, match="cannot be used in e-conomic"):
        live.connector.create_customer(customer(number="C-100"))
    assert live.connector.find_customer("C-100") is None


def test_contacts_and_employees_are_found_before_created(live: Live) -> None:
    first = live.connector.ensure_contact("9001", contact())
    again = live.connector.ensure_contact("9001", contact())
    assert first.created and not again.created
    assert first.external_id == again.external_id
    person = live.connector.ensure_employee(employee())
    same = live.connector.ensure_employee(employee())
    assert person.external_id == same.external_id and not same.created
    doc = outgoing(
        document().invoice,
        correlation="ll:refs:1",
        customer_ref="9001",
        line_products=document().line_products,
        contact_ref=first.external_id,
        salesperson_ref=person.external_id,
    )
    live.connector.create_document(doc)
    body = posted_drafts(live)[0].body
    assert body["references"]["customerContact"] == {
        "customerContactNumber": int(first.external_id)
    }
    assert body["references"]["salesPerson"] == {"employeeNumber": int(person.external_id)}


def test_projects_are_not_pushed(live: Live) -> None:
    from ledgerlink.domain.work import Project

    assert live.connector.capabilities.project_push is False
    with pytest.raises(Permanent):
        live.connector.ensure_project(
            Project(legal_entity_id=1, number="17", name="P", customer_id=1, currency="DKK"),
            "9001",
        )


def test_expenses_incrementally_by_entry_number(live: Live) -> None:
    first = live.connector.expenses(None)
    assert first.items
    assert {e.account for e in first.items} <= {"2800", "2810"}
    assert all(e.amount.currency == "DKK" for e in first.items)
    assert first.cursor == str(max(int(e.external_id) for e in first.items))
    assert live.connector.expenses(first.cursor).items == ()
    economic_admin(
        live.base_url,
        "/entries",
        {"account": 2800, "date": "2026-03-05", "amount": "250.00", "text": "Parkering"},
    )
    second = live.connector.expenses(first.cursor)
    assert [e.text for e in second.items] == ["Parkering"]
    assert int(second.cursor or 0) > int(first.cursor or 0)


def test_customers_changed_since_a_date(live: Live) -> None:
    everything = live.connector.customers(None)
    assert everything.items and everything.cursor
    assert live.connector.customers(everything.cursor).items  # one day of overlap, by design
