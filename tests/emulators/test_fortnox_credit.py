"""The Fortnox emulator's credit invoices and invoice projects: a credit invoice created with
``CreditInvoiceReference`` credits a booked invoice of the same customer and is linked both
ways (as the ``credit`` action links them); an invoice's ``Project`` must exist."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from tests.emulators.fortnox_support import client, fresh

pytestmark = pytest.mark.integration

ROWS = [{"ArticleNumber": "WORK", "DeliveredQuantity": "2", "Price": 1000}]


@pytest.fixture
def api() -> TestClient:
    return client(fresh())


def code(answer: httpx2.Response) -> int:
    return int(answer.json()["ErrorInformation"]["code"])


def invoice(**more: Any) -> dict[str, Any]:
    return {"Invoice": {"CustomerNumber": "1", "InvoiceRows": ROWS, **more}}


def credit(number: str, customer: str = "1") -> dict[str, Any]:
    rows = [{**ROWS[0], "DeliveredQuantity": "-1"}]
    body = {"CustomerNumber": customer, "CreditInvoiceReference": number, "InvoiceRows": rows}
    return {"Invoice": body}


def test_a_credit_invoice_credits_a_booked_invoice_and_both_are_linked(api: TestClient) -> None:
    assert api.post("/3/invoices", json=invoice()).status_code == 201
    unbooked = api.post("/3/invoices", json=credit("1"))
    assert (unbooked.status_code, code(unbooked)) == (400, 9000012)  # not booked yet
    api.post("/_emulator/invoices/1/bookkeep").raise_for_status()
    made = api.post("/3/invoices", json=credit("1"))
    assert made.status_code == 201, made.text
    note = made.json()["Invoice"]
    assert (note["Credit"], note["CreditInvoiceReference"], note["Total"]) == ("true", "1", -1250)
    original = api.get("/3/invoices/1").json()["Invoice"]
    assert original["CreditInvoiceReference"] == note["DocumentNumber"]
    # a second, partial credit invoice is allowed; the original keeps naming the first
    assert api.post("/3/invoices", json=credit("1")).status_code == 201
    assert api.get("/3/invoices/1").json()["Invoice"]["CreditInvoiceReference"] == "2"


def test_a_credit_invoice_must_credit_an_invoice_of_its_customer(api: TestClient) -> None:
    api.post("/3/invoices", json=invoice())
    api.post("/_emulator/invoices/1/bookkeep").raise_for_status()
    other = api.post("/3/invoices", json=credit("1", customer="2"))
    assert other.status_code == 400 and "samma kund" in other.json()["ErrorInformation"]["message"]
    missing = api.post("/3/invoices", json=credit("99"))
    assert (missing.status_code, code(missing)) == (400, 9000014)
    api.post("/3/invoices", json=credit("1")).raise_for_status()
    again = api.post("/3/invoices", json=credit("2"))  # a credit invoice is not credited
    assert again.status_code == 400


def test_an_invoices_project_must_exist(api: TestClient) -> None:
    refused = api.post("/3/invoices", json=invoice(Project="P9"))
    assert refused.status_code == 400
    assert refused.json()["ErrorInformation"]["message"] == "Kan inte hitta projektet (P9)."
    assert api.post("/3/invoices", json=invoice(Project="100")).status_code == 201
