"""The e-conomic emulator over real HTTP: auth, collections, validation, invoices, admin."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from ledgerlink.emulators._kit.serve import running
from ledgerlink.emulators.economic import EconomicEmulator
from ledgerlink.emulators.economic.http import INVALID, REQUIRED
from tests.emulators.conftest import TOKENS


def draft_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "date": "2026-03-01",
        "currency": "DKK",
        "customer": {"customerNumber": 9001},
        "layout": {"layoutNumber": 1},
        "paymentTerms": {"paymentTermsNumber": 1},
        "recipient": {"name": "Nordisk Byg A/S", "vatZone": {"vatZoneNumber": 1}},
        "references": {"other": "ll:transfer:1"},
        "notes": {"heading": "Faktura", "textLine2": "PSA-9001"},
        "lines": [
            {
                "product": {"productNumber": "WORK-DEV"},
                "description": "Udvikling",
                "quantity": 2.5,
                "unitNetPrice": 1150,
            },
            {
                "product": {"productNumber": "MILEAGE"},
                "description": "Kørsel",
                "quantity": 33,
                "unitNetPrice": 3.79,
            },
        ],
    }
    body.update(overrides)
    return body


def create_draft(api: httpx2.Client, **overrides: Any) -> dict[str, Any]:
    response = api.post("/invoices/drafts", json=draft_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


def error_codes(errors: Any) -> list[str]:
    found: list[str] = []
    if isinstance(errors, dict):
        for key, value in errors.items():
            if key == "errorCode":
                found.append(value)
            else:
                found += error_codes(value)
    elif isinstance(errors, list):
        for item in errors:
            found += error_codes(item)
    return found


# ---------------------------------------------------------------- auth


def test_missing_or_wrong_tokens_give_401_with_a_demo_link(anonymous: httpx2.Client) -> None:
    response = anonymous.get("/customers")
    assert response.status_code == 401
    body = response.json()
    assert body["httpStatusCode"] == 401
    assert body["demoLink"].endswith("/customers?demo=true")
    wrong = anonymous.get("/customers", headers={**TOKENS, "X-AgreementGrantToken": "nope"})
    assert wrong.status_code == 401
    assert (
        anonymous.get("/customers", headers={"X-AppSecretToken": "app-secret"}).status_code == 401
    )


def test_demo_is_a_separate_read_only_agreement(
    anonymous: httpx2.Client, api: httpx2.Client
) -> None:
    demo = anonymous.get(
        "/customers", headers={"X-AppSecretToken": "demo", "X-AgreementGrantToken": "demo"}
    )
    assert demo.status_code == 200
    assert demo.json()["pagination"]["results"] == 25
    assert api.get("/customers").json()["pagination"]["results"] == 3
    by_query = anonymous.get("/customers", params={"demo": "true"})
    assert by_query.status_code == 200
    assert "demo=true" in by_query.json()["collection"][0]["self"]
    assert anonymous.get("/self?demo=true").json()["agreementNumber"] == 1
    write = anonymous.post("/customers?demo=true", json={"name": "x"})
    assert write.status_code == 403
    assert "only GET" in write.json()["message"]


def test_role_without_access_gives_403(api: httpx2.Client) -> None:
    assert api.put("/_emulator/settings", json={"appRole": "Bookkeeping"}).status_code == 200
    assert api.get("/customers").status_code == 403
    assert api.get("/products").status_code == 403
    assert api.get("/accounts").status_code == 200


def test_revoked_grant_gives_401_until_granted_again(
    api: httpx2.Client, anonymous: httpx2.Client
) -> None:
    assert api.post("/_emulator/grants/revoke").status_code == 204
    assert api.get("/self").status_code == 401
    assert api.get("/customers").status_code == 401
    page = anonymous.get(
        "/secure/api1/requestaccess.aspx",
        params={"appPublicToken": "app-public", "redirectUrl": "https://psa.example/cb?x=1"},
    )
    assert page.status_code == 200
    assert 'name="agreementNumber"' in page.text
    refused = anonymous.post(
        "/secure/api1/requestaccess.aspx",
        data={
            "appPublicToken": "app-public",
            "redirectUrl": "https://psa.example/cb?x=1",
            "agreementNumber": "1",
            "userId": "u",
            "password": "p",
        },
    )
    assert refused.status_code == 200
    assert "Wrong agreement number" in refused.text
    granted = anonymous.post(
        "/secure/api1/requestaccess.aspx",
        data={
            "appPublicToken": "app-public",
            "redirectUrl": "https://psa.example/cb?x=1",
            "agreementNumber": "7654321",
            "userId": "ADMIN",
            "password": "secret",
        },
    )
    assert granted.status_code == 302
    location = urlsplit(granted.headers["location"])
    assert location.netloc == "psa.example"
    assert parse_qs(location.query) == {"x": ["1"], "token": ["grant-token"]}
    assert api.get("/self").status_code == 200


def test_content_type_must_be_json_and_patch_is_not_supported(api: httpx2.Client) -> None:
    response = api.post(
        "/customers",
        content=b"name=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415
    assert api.patch("/customers/9001", json={"name": "x"}).status_code == 405
    assert api.put("/customers", json={}).status_code == 405


# ---------------------------------------------------------------- discovery


def test_root_self_and_echo(api: httpx2.Client) -> None:
    assert any(r["name"] == "customers" for r in api.get("/").json()["resources"])
    me = api.get("/self").json()
    assert me["agreementNumber"] == 7654321
    assert me["agreementType"]["name"] == "denmark"
    assert me["settings"]["baseCurrency"] == "DKK"
    assert {"application", "company", "user", "self"} <= set(me)
    assert api.get("/echo", params={"statuscode": "404"}).status_code == 404
    assert api.post("/echo", params={"statuscode": "201"}, json={}).status_code == 201
    assert api.get("/echo").json()["method"] == "GET"


# ---------------------------------------------------------------- collections


def test_paging_defaults_limits_and_links(api: httpx2.Client, anonymous: httpx2.Client) -> None:
    demo = {"X-AppSecretToken": "demo", "X-AgreementGrantToken": "demo"}
    first = anonymous.get("/customers", headers=demo).json()
    assert len(first["collection"]) == 20
    pagination = first["pagination"]
    assert pagination["pageSize"] == 20
    assert pagination["maxPageSizeAllowed"] == 1000
    assert "skippages=1&pagesize=20" in pagination["nextPage"]
    second = anonymous.get(pagination["nextPage"], headers=demo).json()
    assert [c["customerNumber"] for c in second["collection"]] == [21, 22, 23, 24, 25]
    assert "nextPage" not in second["pagination"]
    assert pagination["lastPage"] == second["self"] or "skippages=1" in pagination["lastPage"]
    big = anonymous.get("/customers", headers=demo, params={"pagesize": 1000}).json()
    assert len(big["collection"]) == 25
    assert anonymous.get("/customers", headers=demo, params={"pagesize": 9001}).status_code == 400


def test_filters_and_sorting_on_customers(api: httpx2.Client) -> None:
    found = api.get("/customers", params={"filter": "name$like:byg"}).json()
    assert [c["customerNumber"] for c in found["collection"]] == [9001]
    assert found["pagination"]["results"] == 1
    assert found["pagination"]["resultsWithoutFilter"] == 3
    assert "filter=" in found["self"]
    either = api.get(
        "/customers", params={"filter": "currency$eq:eur$or:customerNumber$eq:9002"}
    ).json()
    assert [c["customerNumber"] for c in either["collection"]] == [9002, 9003]
    numbers = api.get("/customers", params={"filter": "customerNumber$in:[9001,9003]"}).json()
    assert [c["customerNumber"] for c in numbers["collection"]] == [9001, 9003]
    escaped = api.get("/customers", params={"filter": "name$eq:Hansen & Co ApS"}).json()
    assert escaped["pagination"]["results"] == 1
    descending = api.get("/customers", params={"sort": "-name"}).json()
    assert [c["name"][0] for c in descending["collection"]] == ["N", "H", "B"]
    bad = api.get("/customers", params={"filter": "balanceX$eq:1"})
    assert bad.status_code == 400
    assert "not filterable" in bad.json()["message"]
    assert api.get("/customers", params={"filter": "name$in:[1]"}).status_code == 400
    assert api.get("/customers", params={"sort": "barred"}).status_code == 400


def test_last_updated_is_a_filterable_date(api: httpx2.Client) -> None:
    created = api.post("/customers", json=customer_body()).json()
    assert created["lastUpdated"] == "2026-03-15"
    changed = api.get("/customers", params={"filter": "lastUpdated$gte:2026-03-15"}).json()
    assert [c["customerNumber"] for c in changed["collection"]] == [created["customerNumber"]]


# ---------------------------------------------------------------- customers, contacts


def customer_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Ny Kunde ApS",
        "currency": "DKK",
        "customerGroup": {"customerGroupNumber": 1},
        "paymentTerms": {"paymentTermsNumber": 2},
        "vatZone": {"vatZoneNumber": 1},
    }
    body.update(overrides)
    return body


def test_customer_create_assigns_or_takes_the_number_and_clashes(api: httpx2.Client) -> None:
    assigned = api.post("/customers", json=customer_body())
    assert assigned.status_code == 201
    assert assigned.json()["customerNumber"] == 9004
    assert assigned.headers["location"] == assigned.json()["self"]
    chosen = api.post("/customers", json=customer_body(customerNumber=5000))
    assert chosen.json()["customerNumber"] == 5000
    clash = api.post("/customers", json=customer_body(customerNumber=5000))
    assert clash.status_code == 400
    assert "customerNumber" in clash.json()["errors"]


def test_customer_required_properties_lengths_and_nulls(api: httpx2.Client) -> None:
    response = api.post("/customers", json={"name": "x" * 256, "currency": "ZUL"})
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"name", "currency", "customerGroup", "paymentTerms", "vatZone"}
    assert errors["currency"]["errors"][0]["errorCode"] == "E06000"
    nulls = api.post("/customers", json=customer_body(email=None))
    assert nulls.status_code == 400
    assert "email" in nulls.json()["errors"]


def test_customer_put_replaces_the_whole_document_and_booleans_are_omitted(
    api: httpx2.Client,
) -> None:
    assert (
        api.put(
            "/customers/9001", json=customer_body(name="Nordisk Byg A/S", barred=True)
        ).status_code
        == 200
    )
    replaced = api.get("/customers/9001").json()
    assert replaced["barred"] is True
    assert "address" not in replaced
    api.put("/customers/9001", json=customer_body(name="Nordisk Byg A/S", barred=False))
    assert "barred" not in api.get("/customers/9001").json()
    assert api.put("/customers/999", json=customer_body()).status_code == 404


def test_contacts_under_a_customer(api: httpx2.Client) -> None:
    created = api.post(
        "/customers/9002/contacts", json={"name": "Per Hansen", "email": "per@example.com"}
    )
    assert created.status_code == 201
    contact = created.json()
    assert contact["customer"]["customerNumber"] == 9002
    number = contact["customerContactNumber"]
    listed = api.get("/customers/9002/contacts").json()["collection"]
    assert [c["name"] for c in listed] == ["Per Hansen"]
    assert api.post("/customers/9002/contacts", json={"email": "x"}).status_code == 400
    assert api.delete(f"/customers/9002/contacts/{number}").status_code == 204
    assert api.get(f"/customers/9002/contacts/{number}").status_code == 404


def test_customer_invoice_template_can_be_posted_as_a_draft(api: httpx2.Client) -> None:
    template = api.get("/customers/9003/templates/invoice").json()
    assert template["recipient"]["vatZone"]["vatZoneNumber"] == 2
    template["lines"] = [
        {"product": {"productNumber": "WORK-PM"}, "description": "PM", "quantity": 1}
    ]
    draft = api.post("/invoices/drafts", json=template)
    assert draft.status_code == 201, draft.text
    assert draft.json()["currency"] == "EUR"


# ---------------------------------------------------------------- products


def test_products_self_link_encoding_and_departmental_distribution(api: httpx2.Client) -> None:
    products = api.get("/products", params={"pagesize": 100}).json()["collection"]
    numbers = {p["productNumber"] for p in products}
    assert {"WORK-DEV", "WORK-PM", "EXP", "TRAVEL", "MILEAGE"} <= numbers
    cable = next(p for p in products if p["productNumber"] == "CABLE 1.5M_USB/C")
    assert cable["self"].endswith("/products/CABLE_9_1_11_5M_8_USB_6_C")
    assert api.get(cable["self"]).json()["productNumber"] == "CABLE 1.5M_USB/C"
    dev = api.get("/products/WORK-DEV").json()
    assert dev["departmentalDistribution"]["departmentalDistributionNumber"] == 1
    assert dev["productGroup"]["productGroupNumber"] == 1


def test_product_create_validation_and_clash(api: httpx2.Client) -> None:
    body = {
        "productNumber": "NEW 1",
        "name": "Ny ydelse",
        "productGroup": {"productGroupNumber": 1},
        "salesPrice": 10.5,
    }
    created = api.post("/products", json=body)
    assert created.status_code == 201
    assert created.json()["self"].endswith("/products/NEW_9_1")
    assert api.post("/products", json=body).status_code == 400
    too_long = api.post("/products", json={**body, "productNumber": "x" * 26})
    assert "productNumber" in too_long.json()["errors"]
    missing_group = api.post(
        "/products",
        json={"productNumber": "Y", "name": "Y", "productGroup": {"productGroupNumber": 99}},
    )
    assert missing_group.json()["errors"]["productGroup"]["errors"][0]["errorCode"] == "E06000"


# ---------------------------------------------------------------- drafts and booking


def test_draft_totals_are_computed_server_side(api: httpx2.Client) -> None:
    draft = create_draft(api)
    # 2.5 × 1150 = 2875.00 ; 33 × 3.79 = 125.07 ; net 3000.07 ; VAT 25 % = 750.02 (half-up)
    assert Decimal(str(draft["netAmount"])) == Decimal("3000.07")
    assert Decimal(str(draft["vatAmount"])) == Decimal("750.02")
    assert Decimal(str(draft["grossAmount"])) == Decimal("3750.09")
    assert draft["exchangeRate"] == 100
    assert draft["dueDate"] == "2026-03-15"
    assert draft["lines"][0]["unit"]["unitNumber"] == 2
    assert draft["templates"]["bookingInstructions"].endswith(
        f"/invoices/drafts/{draft['draftInvoiceNumber']}/templates/booking-instructions"
    )


def test_foreign_currency_and_eu_zone_have_no_vat_and_base_amounts(api: httpx2.Client) -> None:
    draft = create_draft(
        api,
        currency="EUR",
        customer={"customerNumber": 9003},
        paymentTerms={"paymentTermsNumber": 3},
        recipient={"name": "Berlin Consulting GmbH", "vatZone": {"vatZoneNumber": 2}},
        lines=[
            {
                "product": {"productNumber": "WORK-PM"},
                "description": "PM",
                "quantity": 10,
                "unitNetPrice": 150,
            }
        ],
    )
    assert Decimal(str(draft["vatAmount"])) == 0
    assert Decimal(str(draft["exchangeRate"])) == Decimal("746.10")
    assert Decimal(str(draft["netAmountInBaseCurrency"])) == Decimal("11191.50")
    assert draft["dueDate"] == "2026-04-30"  # current month + 30 days


def test_annotated_errors_on_drafts(api: httpx2.Client) -> None:
    response = api.post(
        "/invoices/drafts",
        json=draft_body(
            currency="ZUL",
            customer={"customerNumber": 987987987},
            lines=[
                {
                    "product": {"productNumber": "WORK-DEV"},
                    "description": "x",
                    "quantity": 1,
                    "unitNetPrice": 10.12345,
                    "unit": {"unitNumber": 10},
                },
                {"product": {}, "description": "x", "quantity": 1},
                {"product": {"productNumber": "WORK-DEV"}, "description": "x"},
                {"product": {"productNumber": "NOPE"}, "description": "x", "quantity": 1},
                {"product": {"productNumber": "WORK-DEV"}, "description": "x", "quantity": 0},
            ],
        ),
    )
    assert response.status_code == 400
    body = response.json()
    assert body["message"] == "Validation error."
    assert body["httpStatusCode"] == 400
    errors = body["errors"]
    assert errors["currency"]["errors"][0] == {
        "errorCode": "E06000",
        "message": "currency does not exist.",
        "value": "ZUL",
        "developerHint": errors["currency"]["errors"][0]["developerHint"],
    }
    assert errors["customer"]["errors"][0]["errorCode"] == "E06000"
    lines = {line["arrayIndex"]: line for line in errors["lines"]}
    assert lines[0]["unitNetPrice"]["errors"][0]["errorCode"] == "E04740"
    assert lines[0]["unit"]["errors"][0]["errorCode"] == "E06000"
    assert lines[1]["product"]["errors"][0]["errorCode"] == "E04500"
    assert lines[2]["quantity"]["errors"][0]["errorCode"] == "E04730"
    assert lines[3]["product"]["errors"][0]["errorCode"] == "E06000"
    assert "cannot be 0" in lines[4]["quantity"]["errors"][0]["message"]
    # A quantity of 0: the docs name no code for it, so the emulator's own.
    assert lines[4]["quantity"]["errors"][0]["errorCode"] == INVALID
    assert set(error_codes(errors)) == {"E06000", "E04740", "E04500", "E04730", INVALID}


def test_draft_required_properties_and_length_limits(api: httpx2.Client) -> None:
    missing = api.post("/invoices/drafts", json={"recipient": {}})
    assert set(missing.json()["errors"]) >= {
        "currency",
        "customer",
        "date",
        "layout",
        "paymentTerms",
        "recipient",
    }
    assert set(missing.json()["errors"]["recipient"]) == {"name", "vatZone"}
    long = api.post(
        "/invoices/drafts",
        json=draft_body(
            notes={"heading": "h" * 251, "textLine1": "t" * 9001}, references={"other": "o" * 251}
        ),
    )
    errors = long.json()["errors"]
    assert set(errors["notes"]) == {"heading", "textLine1"}
    assert "other" in errors["references"]
    assert (
        api.post("/invoices/drafts", json=draft_body(notes={"heading": "h" * 250})).status_code
        == 201
    )


def test_correlation_fields_are_filterable_on_drafts_and_booked(api: httpx2.Client) -> None:
    create_draft(api, references={"other": "ll:abc"})
    create_draft(api, references={"other": "ll:xyz"}, notes={"textLine2": "PSA-77"})
    found = api.get("/invoices/drafts", params={"filter": "references.other$eq:ll:abc"}).json()
    assert found["pagination"]["results"] == 1
    by_text = api.get("/invoices/drafts", params={"filter": "notes.textLine2$eq:PSA-77"}).json()
    assert by_text["collection"][0]["references"]["other"] == "ll:xyz"
    number = by_text["collection"][0]["draftInvoiceNumber"]
    api.post("/invoices/booked", json={"draftInvoice": {"draftInvoiceNumber": number}})
    booked = api.get("/invoices/booked", params={"filter": "references.other$eq:LL:XYZ"}).json()
    assert booked["pagination"]["results"] == 1


def test_draft_put_replaces_and_delete_reports(api: httpx2.Client) -> None:
    draft = create_draft(api)
    number = draft["draftInvoiceNumber"]
    replaced = api.put(
        f"/invoices/drafts/{number}",
        json=draft_body(lines=[{"description": "Tekst", "quantity": 1, "unitNetPrice": 100}]),
    )
    assert replaced.status_code == 200
    assert Decimal(str(replaced.json()["grossAmount"])) == Decimal("125.00")
    deleted = api.delete(f"/invoices/drafts/{number}").json()
    assert deleted["deletedCount"] == 1
    assert deleted["deletedItems"][0]["draftInvoiceNumber"] == number
    assert api.get(f"/invoices/drafts/{number}").status_code == 404
    create_draft(api, references={"other": "a"})
    create_draft(api, references={"other": "b"})
    bulk = api.delete("/invoices/drafts", params={"filter": "references.other$eq:a"}).json()
    assert bulk["deletedCount"] == 1
    assert api.get("/invoices/drafts").json()["pagination"]["results"] == 1


def test_draft_put_keeps_nothing_of_the_earlier_version(api: httpx2.Client) -> None:
    """PUT "will overwrite the full object and must include the full entity": a PUT without
    currency, customer, date, layout and payment terms is refused, not filled in from before."""
    number = create_draft(api)["draftInvoiceNumber"]
    partial = {"recipient": {"name": "Ny", "vatZone": {"vatZoneNumber": 1}}, "lines": []}
    refused = api.put(f"/invoices/drafts/{number}", json=partial)
    assert refused.status_code == 400, refused.text
    errors = refused.json()["errors"]
    assert set(errors) == {"currency", "customer", "date", "layout", "paymentTerms"}
    assert {e["errors"][0]["errorCode"] for e in errors.values()} == {REQUIRED}
    whole = draft_body(customer={"customerNumber": 9002}, date="2026-03-05")
    del whole["notes"], whole["references"]
    replaced = api.put(f"/invoices/drafts/{number}", json=whole).json()
    assert replaced["customer"]["customerNumber"] == 9002
    assert replaced["date"] == "2026-03-05"
    assert "notes" not in replaced and "references" not in replaced


def test_booking_numbers_clash_and_immutability(api: httpx2.Client) -> None:
    first = create_draft(api)
    instructions = api.get(first["templates"]["bookingInstructions"]).json()
    booked = api.post("/invoices/booked", json={"draftInvoice": instructions["draftInvoice"]})
    assert booked.status_code == 201
    invoice = booked.json()
    assert invoice["bookedInvoiceNumber"] != first["draftInvoiceNumber"]
    assert Decimal(str(invoice["remainder"])) == Decimal(str(invoice["grossAmount"]))
    assert invoice["lines"][0]["vatRate"] == 25
    assert api.get(f"/invoices/drafts/{first['draftInvoiceNumber']}").status_code == 404
    second = create_draft(api)
    pinned = api.post(
        "/invoices/booked",
        json={
            "draftInvoice": {"draftInvoiceNumber": second["draftInvoiceNumber"]},
            "bookWithNumber": 7,
        },
    )
    assert pinned.json()["bookedInvoiceNumber"] == 7
    third = create_draft(api)
    clash = api.post(
        "/invoices/booked",
        json={
            "draftInvoice": {"draftInvoiceNumber": third["draftInvoiceNumber"]},
            "bookWithNumber": 7,
        },
    )
    assert clash.status_code == 400
    assert "bookWithNumber" in clash.json()["errors"]
    assert api.get(f"/invoices/drafts/{third['draftInvoiceNumber']}").status_code == 200
    put = api.put(
        "/invoices/booked/8",
        json={"draftInvoice": {"draftInvoiceNumber": third["draftInvoiceNumber"]}},
    )
    assert put.status_code == 201
    assert put.json()["bookedInvoiceNumber"] == 8
    assert api.delete("/invoices/booked/8").status_code == 405
    again = api.put(
        "/invoices/booked/8",
        json={"draftInvoice": {"draftInvoiceNumber": first["draftInvoiceNumber"]}},
    )
    assert again.status_code == 400


def test_negative_draft_books_as_a_credit_note(api: httpx2.Client) -> None:
    draft = create_draft(
        api,
        lines=[
            {
                "product": {"productNumber": "WORK-DEV"},
                "description": "Kredit",
                "quantity": -2,
                "unitNetPrice": 1150,
            }
        ],
    )
    booked = api.post(
        "/invoices/booked",
        json={"draftInvoice": {"draftInvoiceNumber": draft["draftInvoiceNumber"]}},
    ).json()
    assert Decimal(str(booked["netAmount"])) == Decimal("-2300.00")
    assert Decimal(str(booked["grossAmount"])) == Decimal("-2875.00")
    assert Decimal(str(booked["remainder"])) == Decimal("-2875.00")


def test_a_credit_note_without_vat_answers_no_negative_zero(api: httpx2.Client) -> None:
    credit = [{"description": "Kredit", "quantity": -2, "unitNetPrice": 1150}]
    eu = {"name": "Berlin Consulting GmbH", "vatZone": {"vatZoneNumber": 2}}
    draft = api.post("/invoices/drafts", json=draft_body(recipient=eu, lines=credit))
    assert draft.status_code == 201, draft.text
    assert draft.json()["vatAmount"] == 0
    number = draft.json()["draftInvoiceNumber"]
    booked = api.post("/invoices/booked", json={"draftInvoice": {"draftInvoiceNumber": number}})
    again = api.get(f"/invoices/booked/{booked.json()['bookedInvoiceNumber']}")
    refused = api.post("/invoices/drafts", json=draft_body(lines=[{"quantity": -0.0}]))
    assert refused.status_code == 400  # and the quantity it sends back is 0.0
    for answer in (draft, booked, again, refused):
        numbers = numbers_in(json.loads(answer.text, parse_float=Decimal, parse_int=Decimal))
        assert [n for n in numbers if n.is_zero() and n.is_signed()] == [], answer.text


def numbers_in(document: Any) -> list[Decimal]:
    if isinstance(document, dict):
        return [n for value in document.values() for n in numbers_in(value)]
    if isinstance(document, list):
        return [n for value in document for n in numbers_in(value)]
    return [document] if isinstance(document, Decimal) else []


@pytest.mark.parametrize("day", ["20261201", "2026-03-01T10:00:00", "2026-03", "2026-W10-1"])
def test_dates_are_strictly_yyyy_mm_dd(api: httpx2.Client, day: str) -> None:
    refused = api.post("/invoices/drafts", json=draft_body(date=day))
    assert refused.status_code == 400
    assert refused.json()["errors"]["date"]["errors"][0]["value"] == day
    listed = api.get("/invoices/drafts", params={"filter": f"date$gte:{day}"})
    assert listed.status_code == 400, listed.text
    assert api.get("/invoices/drafts", params={"filter": "date$gte:2026-03-01"}).status_code == 200


def test_payments_move_invoices_between_unpaid_overdue_not_due_and_paid(api: httpx2.Client) -> None:
    old = create_draft(api, date="2026-02-01")
    new = create_draft(api, date="2026-03-10")
    old_number = api.post(
        "/invoices/booked", json={"draftInvoice": {"draftInvoiceNumber": old["draftInvoiceNumber"]}}
    ).json()["bookedInvoiceNumber"]
    new_number = api.post(
        "/invoices/booked", json={"draftInvoice": {"draftInvoiceNumber": new["draftInvoiceNumber"]}}
    ).json()["bookedInvoiceNumber"]

    def numbers(view: str) -> list[int]:
        return [i["bookedInvoiceNumber"] for i in api.get(f"/invoices/{view}").json()["collection"]]

    assert numbers("unpaid") == [old_number, new_number]
    assert numbers("overdue") == [old_number]
    assert numbers("not-due") == [new_number]
    assert numbers("paid") == []
    partial = api.post(
        f"/_emulator/invoices/booked/{old_number}/payments", json={"amount": "1000.00"}
    )
    assert Decimal(str(partial.json()["remainder"])) == Decimal("2750.09")
    assert (
        api.post(
            f"/_emulator/invoices/booked/{old_number}/payments", json={"amount": "9999"}
        ).status_code
        == 400
    )
    api.post(f"/_emulator/invoices/booked/{old_number}/payments", json={"amount": "2750.09"})
    assert numbers("paid") == [old_number]
    assert numbers("overdue") == []
    assert Decimal(str(api.get(f"/invoices/booked/{old_number}").json()["remainder"])) == 0


def test_admin_book_uses_the_erp_users_numbering(api: httpx2.Client) -> None:
    draft = create_draft(api)
    booked = api.post(
        f"/_emulator/invoices/drafts/{draft['draftInvoiceNumber']}/book",
        json={"bookWithNumber": 2026001},
    )
    assert booked.status_code == 201
    assert api.get("/invoices/booked/2026001").json()["references"]["other"] == "ll:transfer:1"


def test_closed_and_missing_accounting_years_block_drafts_and_booking(api: httpx2.Client) -> None:
    closed = api.post("/invoices/drafts", json=draft_body(date="2024-06-01"))
    assert closed.status_code == 400
    assert "closed" in closed.json()["errors"]["date"]["errors"][0]["message"]
    missing = api.post("/invoices/drafts", json=draft_body(date="2030-01-01"))
    assert "No accounting year" in missing.json()["errors"]["date"]["errors"][0]["message"]
    draft = create_draft(api, date="2026-03-01")
    assert api.post("/_emulator/accounting-years/2026/close").json()["closed"] is True
    booking = api.post(
        "/invoices/booked",
        json={"draftInvoice": {"draftInvoiceNumber": draft["draftInvoiceNumber"]}},
    )
    assert booking.status_code == 400
    assert api.get("/accounting-years/2026").json()["closed"] is True
    assert "closed" not in api.get("/accounting-years/2025").json()
    assert "closed" not in api.post("/_emulator/accounting-years/2026/open").json()
    assert create_draft(api, date="2026-04-01")["draftInvoiceNumber"]


def test_the_erp_user_can_add_a_currency_and_drafts_then_use_its_rate(api: httpx2.Client) -> None:
    assert api.get("/currencies/CHF").status_code == 404
    refused = api.post("/invoices/drafts", json=draft_body(currency="CHF"))
    assert refused.status_code == 400
    added = api.post("/_emulator/currencies", json={"code": "CHF", "exchangeRate": 780.00})
    assert added.status_code == 201
    assert (
        api.post("/_emulator/currencies", json={"code": "CHF", "exchangeRate": 1}).status_code
        == 400
    )
    assert api.get("/currencies/CHF").json()["code"] == "CHF"
    draft = create_draft(api, currency="CHF")
    assert str(draft["exchangeRate"]) in ("780", "780.0", "780.00")


def test_project_requires_the_module_and_an_integer(api: httpx2.Client) -> None:
    off = api.post("/invoices/drafts", json=draft_body(project={"projectNumber": 17}))
    assert "project module" in off.json()["errors"]["project"]["errors"][0]["message"]
    api.put("/_emulator/settings", json={"projectModule": True})
    text = api.post("/invoices/drafts", json=draft_body(project={"projectNumber": "P-17"}))
    assert "projectNumber" in text.json()["errors"]["project"]
    missing = api.post("/invoices/drafts", json=draft_body(project={"projectNumber": 17}))
    assert (
        "does not exist"
        in missing.json()["errors"]["project"]["projectNumber"]["errors"][0]["message"]
    )
    created = api.post(
        "/api/v20.0.0/projects",
        json={"number": 17, "name": "Lager", "projectGroupNumber": 1, "customerNumber": 9001},
    )
    assert created.status_code == 201, created.text
    ok = api.post("/invoices/drafts", json=draft_body(project={"projectNumber": 17}))
    assert ok.json()["project"]["projectNumber"] == 17


def test_projects_api_creates_numbers_filters_and_refuses_with_its_error_model(
    api: httpx2.Client,
) -> None:
    projects = "/api/v20.0.0/projects"
    off = api.post(projects, json={"name": "X", "projectGroupNumber": 1, "customerNumber": 9001})
    assert off.status_code == 403
    api.put("/_emulator/settings", json={"projectModule": True})
    first = api.post(
        projects, json={"name": "Lager", "projectGroupNumber": 1, "customerNumber": 9001}
    )
    second = api.post(
        projects, json={"name": "Web", "projectGroupNumber": 1, "customerNumber": 9001}
    )
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json()["number"] == first.json()["number"] + 1
    found = api.get(projects, params={"filter": "name$eq:web$and:customerNumber$eq:9001"}).json()
    assert [p["number"] for p in found["items"]] == [second.json()["number"]]
    assert "cursor" not in found

    def refused(body: dict[str, object]) -> tuple[int, str, str]:
        response = api.post(projects, json=body)
        error = response.json()
        assert set(error) >= {"message", "errorCode", "logId", "logTimeUtc", "property"}
        return response.status_code, error["errorCode"], error["property"]

    assert refused({"name": "A", "projectGroupNumber": 1}) == (
        400, "ProjectCannotBeCreatedUpdatedCustomerNumberRequired", "customerNumber",
    )  # fmt: skip
    assert refused({"name": "A", "projectGroupNumber": 9, "customerNumber": 9001})[1] == (
        "ProjectCannotBeCreatedUpdatedGroupDoesNotExist"
    )
    assert refused({"name": "A", "projectGroupNumber": 1, "customerNumber": 4242})[1] == (
        "ProjectCannotBeCreatedUpdatedCustomerNotFound"
    )
    duplicate = {"number": first.json()["number"], "name": "B", "projectGroupNumber": 1,
                 "customerNumber": 9001}  # fmt: skip
    assert refused(duplicate)[1] == "ProjectCannotBeCreatedUpdatedNumberAlreadyExists"
    assert refused({"name": "A" * 101, "projectGroupNumber": 2})[2] == "name"
    assert refused({"name": "A", "projectGroupNumber": 2, "colour": "red"})[2] == "colour"
    internal = api.post(projects, json={"name": "Intern", "projectGroupNumber": 2})
    assert internal.status_code == 201


# ---------------------------------------------------------------- reference data, accounts, entries


@pytest.mark.parametrize(
    ("path", "key", "expected"),
    [
        ("/vat-zones", "vatZoneNumber", [1, 2, 3, 4]),
        ("/payment-terms", "paymentTermsNumber", [1, 2, 3, 4]),
        ("/currencies", "code", ["DKK", "EUR", "GBP", "NOK", "SEK", "USD"]),
        ("/layouts", "layoutNumber", [1, 2]),
        ("/units", "unitNumber", [1, 2, 3, 4]),
        ("/customer-groups", "customerGroupNumber", [1, 2]),
        ("/product-groups", "productGroupNumber", [1, 2, 3]),
        ("/departments", "departmentNumber", [1, 2, 3]),
        ("/departmental-distributions", "departmentalDistributionNumber", [1, 2, 3, 4]),
        ("/employees", "employeeNumber", [1, 2]),
        ("/accounting-years", "year", ["2024", "2025", "2026", "2027"]),
    ],
)
def test_seeded_pick_lists(api: httpx2.Client, path: str, key: str, expected: list[object]) -> None:
    collection = api.get(path).json()["collection"]
    assert [item[key] for item in collection] == expected
    assert api.get(collection[0]["self"]).status_code == 200


def test_employees_can_be_created_for_the_connector(api: httpx2.Client) -> None:
    created = api.post(
        "/employees", json={"name": "Cecilie Clausen", "employeeGroup": {"employeeGroupNumber": 2}}
    )
    assert created.status_code == 201
    assert created.json()["employeeNumber"] == 3
    assert api.post("/employees", json={"name": "X"}).status_code == 400


def test_entries_per_account_and_year_with_entry_number_cursor(api: httpx2.Client) -> None:
    entries = api.get("/accounts/2800/accounting-years/2026/entries").json()["collection"]
    assert [e["entryNumber"] for e in entries] == [1, 5]
    assert entries[0]["project"]["projectNumber"] == 17
    assert Decimal(str(entries[0]["amount"])) == Decimal("1840.00")
    added = api.post(
        "/_emulator/entries",
        json={"account": 2800, "date": "2026-03-10", "amount": "250.00", "text": "Parkering"},
    )
    assert added.status_code == 201
    newer = api.get(
        "/accounts/2800/accounting-years/2026/entries", params={"filter": "entryNumber$gt:5"}
    ).json()
    assert [e["text"] for e in newer["collection"]] == ["Parkering"]
    year = api.get("/accounting-years/2026/entries", params={"filter": "text$like:kørsel"}).json()
    assert [e["entryNumber"] for e in year["collection"]] == [2]
    assert api.get("/accounting-years/2025/entries").json()["pagination"]["results"] == 1
    closed = api.post(
        "/_emulator/entries", json={"account": 2800, "date": "2024-03-10", "amount": "1"}
    )
    assert closed.status_code == 400


# ---------------------------------------------------------------- fair use, faults, journal, state


def test_rate_limits_are_on_with_the_real_numbers_by_default(emulator: EconomicEmulator) -> None:
    burst, day = emulator.limits.windows
    assert (day.max_calls, day.seconds) == (50_000, 86_400)  # fair use, documented
    assert (burst.max_calls, burst.seconds) == (300, 10)  # the token bucket's, ours
    assert emulator.limits.retry_after


@pytest.mark.parametrize(
    ("settings", "wait"),
    [({"burstLimit": 3, "burstSeconds": 60}, 60), ({"dailyLimit": 3}, 86_400)],
)
def test_a_call_beyond_a_window_answers_429_in_economics_envelope(
    api: httpx2.Client, settings: dict[str, int], wait: int
) -> None:
    assert api.put("/_emulator/settings", json=settings).status_code == 200
    assert [api.get("/self").status_code for _ in range(3)] == [200, 200, 200]
    limited = api.get("/self")
    assert limited.status_code == 429
    assert wait - 2 <= int(limited.headers["retry-after"]) <= wait
    body = limited.json()
    assert body["errorCode"] == "E90429" and body["httpStatusCode"] == 429
    assert {"message", "developerHint", "logId", "logTime"} <= set(body)
    assert api.get("/_emulator/journal").status_code == 200  # admin routes are not limited
    assert api.get("/self", headers={"X-AgreementGrantToken": "other"}).status_code == 401
    api.put("/_emulator/settings", json={"retryAfterOnLimit": False})  # counts start over
    assert [api.get("/self").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert "retry-after" not in api.get("/self").headers


def test_rate_limit_settings_are_checked(api: httpx2.Client) -> None:
    refused = api.put("/_emulator/settings", json={"burstLimit": 0})
    assert refused.status_code == 400
    assert api.get("/_emulator/settings").json()["burstLimit"] == 300


def test_fault_and_journal_admin_routes(api: httpx2.Client, emulator: EconomicEmulator) -> None:
    rules = {
        "rules": [
            {"path_prefix": "/invoices/drafts", "methods": ["POST"], "drop_after_commit_rate": 1.0}
        ]
    }
    assert api.put("/_emulator/faults", json=rules).status_code == 200
    assert api.get("/_emulator/faults").json()["rules"][0]["drop_after_commit_rate"] == 1.0
    with pytest.raises(httpx2.TransportError):
        api.post("/invoices/drafts", json=draft_body(references={"other": "ll:uncertain"}))
    assert api.delete("/_emulator/faults").status_code == 204
    found = api.get(
        "/invoices/drafts", params={"filter": "references.other$eq:ll:uncertain"}
    ).json()
    assert found["pagination"]["results"] == 1
    journal = api.get("/_emulator/journal").json()["entries"]
    posted = [e for e in journal if e["method"] == "POST"]
    assert posted[0]["body"]["references"]["other"] == "ll:uncertain"
    assert posted[0]["dropped"] is True
    assert emulator.journal.count("POST", "/invoices/drafts") == 1
    assert api.delete("/_emulator/journal").status_code == 204
    assert emulator.journal.entries == []
    assert api.put("/_emulator/faults", json={"error_rate": 3}).status_code == 400
    emulator.faults.set("/customers", error_rate=1.0, error_status=500)
    assert api.get("/customers").status_code == 500


def error_objects(document: Any) -> list[dict[str, Any]]:
    """The body itself and every object in an ``errors`` list of it, at any depth."""
    found: list[dict[str, Any]] = []
    if isinstance(document, dict):
        for key, value in document.items():
            if key == "errors" and isinstance(value, list):
                found += value
            found += error_objects(value)
    elif isinstance(document, list):
        for item in document:
            found += error_objects(item)
    return found


def test_every_error_answer_and_object_carries_an_error_code(
    api: httpx2.Client, anonymous: httpx2.Client, emulator: EconomicEmulator
) -> None:
    answers = [
        api.post("/customers", json={}),  # required properties
        api.post("/invoices/drafts", json=draft_body(date="2026-13-01", lines=[{"quantity": 0}])),
        anonymous.get("/customers"),  # 401
        api.get("/invoices/drafts/999"),  # 404 of a resource
        api.get("/no-such-collection"),  # 404 of a path
        api.patch("/customers/9001", json={}),  # 405
        api.post("/customers", content=b"x", headers={"Content-Type": "text/plain"}),  # 415
    ]
    emulator.faults.set("/customers", rate_limit_rate=1.0, retry_after=1)
    answers.append(api.get("/customers"))  # an injected 429
    emulator.faults.set("/customers", error_rate=1.0, error_status=503)
    answers.append(api.get("/customers"))  # an injected 503
    statuses = [answer.status_code for answer in answers]
    assert statuses == [400, 400, 401, 404, 404, 405, 415, 429, 503]
    for answer in answers:
        body = answer.json()
        assert body["httpStatusCode"] == answer.status_code
        objects = [body, *error_objects(body.get("errors"))]
        assert all(obj.get("errorCode") for obj in objects), answer.text
    required = answers[0].json()["errors"]["name"]["errors"][0]
    assert required["errorCode"] == REQUIRED
    assert answers[2].json()["errorCode"] == "E90401"


def test_admin_routes_need_the_tokens(anonymous: httpx2.Client) -> None:
    assert anonymous.get("/_emulator/journal").status_code == 401
    assert anonymous.post("/_emulator/grants/revoke").status_code == 401
    demo = {"X-AppSecretToken": "demo", "X-AgreementGrantToken": "demo"}
    assert anonymous.get("/_emulator/faults", headers=demo).status_code == 403


def test_state_file_persists_between_runs(tmp_path: Path) -> None:
    state = tmp_path / "economic.json"
    first = EconomicEmulator(state_file=state)
    with running(first.app) as url, httpx2.Client(base_url=url, headers=TOKENS) as client:
        client.post("/customers", json=customer_body(customerNumber=4242, name="Varig Kunde"))
        number = client.post("/invoices/drafts", json=draft_body()).json()["draftInvoiceNumber"]
        client.post(
            "/invoices/booked",
            json={"draftInvoice": {"draftInvoiceNumber": number}, "bookWithNumber": 99},
        )
    second = EconomicEmulator(state_file=state)
    with running(second.app) as url, httpx2.Client(base_url=url, headers=TOKENS) as client:
        assert client.get("/customers/4242").json()["name"] == "Varig Kunde"
        booked = client.get("/invoices/booked/99").json()
        assert Decimal(str(booked["grossAmount"])) == Decimal("3750.09")
        assert (
            client.post("/invoices/drafts", json=draft_body()).json()["draftInvoiceNumber"]
            == number + 1
        )


# ---------------------------------------------------------------- links


def links_in(document: Any, base: str) -> list[str]:
    """Every URL on the emulator in a JSON answer (``self``, ``pdf``, collection links…)."""
    if isinstance(document, dict):
        return [link for value in document.values() for link in links_in(value, base)]
    if isinstance(document, list):
        return [link for value in document for link in links_in(value, base)]
    return [document] if isinstance(document, str) and document.startswith(base) else []


def test_every_link_the_emulator_returns_answers_200(api: httpx2.Client, base_url: str) -> None:
    """After a realistic run (a customer with a sales person and a contact, drafts with a
    project and a product whose number needs the self-link encoding, an invoice booked and
    partly paid, a credit note, an entry), every link reachable from ``/`` answers 200. (The
    crawl, some 480 calls at once, is no client the burst window is for: it is lifted.)"""
    api.put("/_emulator/settings", json={"projectModule": True, "burstLimit": 10_000})
    project = {"number": 17, "name": "Lager", "projectGroupNumber": 2}
    assert api.post("/api/v20.0.0/projects", json=project).status_code == 201
    customer = customer_body(customerNumber=4242, salesPerson={"employeeNumber": 1})
    assert api.post("/customers", json=customer).status_code == 201
    assert api.post("/customers/4242/contacts", json={"name": "Kim"}).status_code == 201
    lines = [{"product": {"productNumber": "CABLE 1.5M_USB/C"}, "description": "Kabel"}]
    references = {"other": "ll:1", "salesPerson": {"employeeNumber": 1}}
    for quantity in (2, 1, -1):
        create_draft(
            api,
            customer={"customerNumber": 4242},
            project={"projectNumber": 17},
            references=references,
            lines=[{**lines[0], "quantity": quantity}],
        )
    for draft in (2, 3):
        api.post("/invoices/booked", json={"draftInvoice": {"draftInvoiceNumber": draft}})
    api.post("/_emulator/invoices/booked/1001/payments", json={"amount": "100.00"})
    entry = {"account": 2800, "date": "2026-03-01", "amount": "10.00", "text": "Tog"}
    assert api.post("/_emulator/entries", json=entry).status_code in (200, 201)
    seen: set[str] = set()
    queue = [f"{base_url}/"]
    broken: list[tuple[int, str]] = []
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        answer = api.get(url)
        if answer.status_code != 200:
            broken.append((answer.status_code, url))
        elif answer.headers["content-type"].startswith("application/json"):
            queue += links_in(answer.json(), base_url)
    assert len(seen) > 300, "the crawl found too little to prove anything"
    assert broken == [], broken
    assert f"{base_url}/invoices/booked/1001/pdf" in seen
    pdf = api.get("/invoices/booked/1001/pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-1.4") and b"(Invoice 1001)" in pdf.content
