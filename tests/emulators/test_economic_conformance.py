"""Conformance with the official e-conomic REST docs in ../shared/specs/economic-rest-docs.

The property tables of the docs are the schema: every property the emulator returns for an
endpoint must be documented for that endpoint, the documented filterable properties must
cover the emulator's, and the documented annotated-error examples must match ours.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import httpx2
import pytest

from ledgerlink.emulators._kit.serve import running
from ledgerlink.emulators.economic import EconomicEmulator
from tests.emulators.conftest import TOKENS
from tests.support import shared_specs

DOCS = shared_specs("economic-rest-docs")

_SECTION = re.compile(r"^### <span class='(\w+)'>\w+</span> (\S+)", re.M)


@cache
def sections() -> dict[str, str]:
    """``"GET /customers/:customerNumber"`` → that section's text, across every doc file."""
    found: dict[str, str] = {}
    for path in sorted(DOCS.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        matches = list(_SECTION.finditer(text))
        for index, match in enumerate(matches):
            end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
            key = f"{match.group(1).upper()} {match.group(2).rstrip('/')}"
            found.setdefault(key, text[match.start() : end])
    return found


# The GET tables of draft invoices omit properties their POST requires (layout) or shows in
# its example (lines.totalNetAmount); a draft read back must be postable, so the POST table
# counts as documentation for drafts and the customer's invoice template too.
_ALSO_DOCUMENTED_BY = {
    "GET /invoices/drafts": "POST /invoices/drafts",
    "GET /invoices/drafts/:draftInvoiceNumber": "POST /invoices/drafts",
    "GET /customers/:customerNumber/templates/invoice": "POST /invoices/drafts",
}


def documented_properties(endpoint: str) -> set[str]:
    rows = re.findall(r"^\| ([\w<>.]+)\|", sections()[endpoint], re.M)
    documented = {row.replace("<wbr>", "") for row in rows if row != "Name"}
    if endpoint in _ALSO_DOCUMENTED_BY:
        documented |= documented_properties(_ALSO_DOCUMENTED_BY[endpoint])
        documented |= _posted_example_properties()
    return documented


@cache
def _posted_example_properties() -> set[str]:
    """Property names in the POST /invoices/drafts example document (it shows totalNetAmount)."""
    section = sections()["POST /invoices/drafts"]
    names = set(re.findall(r'^\s*"(\w+)":', section, re.M))
    return {"lines." + name for name in names if name == "totalNetAmount"}


def documented_list(endpoint: str, heading: str) -> set[str]:
    match = re.search(rf"#### {heading}[^\n]*\n+([^\n]+)", sections()[endpoint])
    assert match, f"{endpoint} documents no {heading}"
    return {item.strip() for item in match.group(1).split(",")}


def flatten(document: Any, prefix: str = "") -> set[str]:
    keys: set[str] = set()
    if isinstance(document, dict):
        for key, value in document.items():
            path = f"{prefix}.{key}" if prefix else key
            keys.add(path)
            keys |= flatten(value, path)
    elif isinstance(document, list):
        for item in document:
            keys |= flatten(item, prefix)
    return keys


def test_the_docs_are_parsed() -> None:
    assert "GET /customers/:customerNumber" in sections()
    assert {"customerNumber", "vatZone.vatZoneNumber", "lastUpdated"} <= documented_properties(
        "GET /customers/:customerNumber"
    )


@pytest.fixture(scope="module")
def populated() -> Iterator[httpx2.Client]:
    """One draft, one booked invoice (with a line of every kind) and a contact: one emulator
    for the module, which only reads it."""
    emulator = EconomicEmulator(app_secret_token="app-secret", agreement_grant_token="grant-token")
    emulator.state.main.settings.today = "2026-03-15"
    with running(emulator.app) as url, httpx2.Client(base_url=url, headers=TOKENS) as api:
        yield _populate(api)


def _populate(api: httpx2.Client) -> httpx2.Client:
    api.put("/_emulator/settings", json={"projectModule": True})
    for number in (17, 18):  # the seeded expense entries name both
        project = {
            "number": number,
            "name": f"P{number}",
            "projectGroupNumber": 1,
            "customerNumber": 9001,
        }
        assert api.post("/api/v20.0.0/projects", json=project).status_code == 201
    body = {
        "date": "2026-03-01",
        "currency": "DKK",
        "customer": {"customerNumber": 9001},
        "layout": {"layoutNumber": 1},
        "paymentTerms": {"paymentTermsNumber": 1},
        "recipient": {
            "name": "Nordisk Byg A/S",
            "address": "Industrivej 4",
            "vatZone": {"vatZoneNumber": 1},
            "attention": {"customerContactNumber": 1},
        },
        "references": {
            "other": "ll:1",
            "salesPerson": {"employeeNumber": 1},
            "customerContact": {"customerContactNumber": 1},
        },
        "notes": {"heading": "H", "textLine1": "T1", "textLine2": "T2"},
        "project": {"projectNumber": 17},
        "delivery": {"address": "Vej 1", "deliveryDate": "2026-03-02"},
        "lines": [
            {
                "product": {"productNumber": "WORK-DEV"},
                "description": "Udvikling",
                "quantity": 2,
                "unitNetPrice": 1150,
                "discountPercentage": 10,
                "departmentalDistribution": {"departmentalDistributionNumber": 1},
                "accrual": {"startDate": "2026-03-01", "endDate": "2026-04-30"},
            }
        ],
    }
    for _ in range(3):
        assert api.post("/invoices/drafts", json=body).status_code == 201
    for draft, number in ((2, 5), (3, 6)):
        booking = {"draftInvoice": {"draftInvoiceNumber": draft}, "bookWithNumber": number}
        assert api.post("/invoices/booked", json=booking).status_code == 201
    assert (
        api.post("/_emulator/invoices/booked/6/payments", json={"amount": "2587.50"}).status_code
        == 200
    )
    api.post(
        "/customers/9001/contacts",
        json={"name": "N", "email": "e@x", "emailNotifications": ["invoices"]},
    )
    return api


ENDPOINTS = [
    ("GET /self", "/self"),
    ("GET /invoices", "/invoices"),
    ("GET /customers/:customerNumber", "/customers/9001"),
    ("GET /customers/:customerNumber/contacts/:contactNumber", "/customers/9001/contacts/2"),
    ("GET /customers/:customerNumber/templates/invoice", "/customers/9001/templates/invoice"),
    ("GET /products/:productNumber", "/products/WORK-DEV"),
    ("GET /product-groups/:productGroupNumber", "/product-groups/1"),
    ("GET /invoices/drafts/:draftInvoiceNumber", "/invoices/drafts/1"),
    (
        "GET /invoices/drafts/:draftInvoiceNumber/templates/booking-instructions",
        "/invoices/drafts/1/templates/booking-instructions",
    ),
    ("GET /invoices/booked/:bookedInvoiceNumber", "/invoices/booked/5"),
    ("GET /accounts/:accountNumber", "/accounts/1010"),
    ("GET /accounting-years/:accountingYear", "/accounting-years/2026"),
    ("GET /employees/:employeeId", "/employees/1"),
    ("GET /vat-zones/:vatZoneNumber", "/vat-zones/1"),
    ("GET /layouts/:layoutNumber", "/layouts/1"),
    ("GET /payment-terms/:paymentTermsNumber", "/payment-terms/1"),
    ("GET /currencies/:code", "/currencies/EUR"),
    ("GET /units/:unitNumber", "/units/1"),
    ("GET /customer-groups/:customerGroupNumber", "/customer-groups/1"),
    (
        "GET /departmental-distributions/departments/:departmentalDistributionNumber",
        "/departmental-distributions/departments/1",
    ),
    (
        "GET /departmental-distributions/distributions/:departmentalDistributionNumber",
        "/departmental-distributions/distributions/4",
    ),
]
COLLECTIONS = [
    ("GET /invoices/drafts", "/invoices/drafts"),
    ("GET /invoices/booked", "/invoices/booked"),
    ("GET /invoices/paid", "/invoices/paid"),
    ("GET /invoices/unpaid", "/invoices/unpaid"),
    ("GET /customers", "/customers"),
    ("GET /products", "/products"),
    ("GET /accounting-years/:accountingYear/entries", "/accounting-years/2026/entries"),
    (
        "GET /accounts/:accountNumber/accounting-years/:accountingYear/entries",
        "/accounts/5600/accounting-years/2026/entries",
    ),
]


@pytest.mark.parametrize(("endpoint", "path"), ENDPOINTS)
def test_resource_properties_are_documented(
    populated: httpx2.Client, endpoint: str, path: str
) -> None:
    response = populated.get(path)
    assert response.status_code == 200, response.text
    undocumented = flatten(response.json()) - documented_properties(endpoint)
    assert not undocumented, (
        f"{path} returns properties {endpoint} does not document: {sorted(undocumented)}"
    )


@pytest.mark.parametrize(("endpoint", "path"), COLLECTIONS)
def test_collection_items_are_documented(
    populated: httpx2.Client, endpoint: str, path: str
) -> None:
    document = populated.get(path).json()
    assert set(document) == {"collection", "pagination", "metaData", "self"}
    assert document["collection"], f"{path} is empty; the test needs an item"
    returned = set().union(*(flatten(item) for item in document["collection"]))
    undocumented = returned - documented_properties(endpoint)
    assert not undocumented, (
        f"{path} returns properties {endpoint} does not document: {sorted(undocumented)}"
    )


@pytest.mark.parametrize(
    ("endpoint", "module", "name"),
    [
        ("GET /invoices/drafts", "invoices", "DRAFT_FILTERS"),
        ("GET /invoices/booked", "invoices", "BOOKED_FILTERS"),
        ("GET /customers", "customers", "CUSTOMER_FILTERS"),
        ("GET /products", "products", "PRODUCT_FILTERS"),
        ("GET /accounts", "accounting", "ACCOUNT_FILTERS"),
        ("GET /accounting-years/:accountingYear/entries", "accounting", "ENTRY_FILTERS"),
        ("GET /employees", "reference", "EMPLOYEE_FILTERS"),
    ],
)
def test_filterable_properties_are_the_documented_ones(
    endpoint: str, module: str, name: str
) -> None:
    import importlib

    ours = set(
        getattr(importlib.import_module(f"ledgerlink.emulators.economic.routers.{module}"), name)
    )
    documented = documented_list(endpoint, "Filterable properties")
    assert ours <= documented, f"not documented as filterable: {sorted(ours - documented)}"
    if endpoint.startswith("GET /invoices"):
        assert {"references.other", "notes.textLine2"} <= ours


def test_required_properties_for_posts_match_the_docs(api: httpx2.Client) -> None:
    for endpoint, path in (
        ("POST /customers", "/customers"),
        ("POST /products", "/products"),
        ("POST /invoices/drafts", "/invoices/drafts"),
        ("POST /customers/:customerNumber/contacts", "/customers/9001/contacts"),
    ):
        required = documented_list(endpoint, "Required propert")
        errors = api.post(path, json={}).json()["errors"]
        ours = {
            key
            for key in flatten(errors)
            if not key.endswith(("errors", "errorCode", "message", "developerHint", "value"))
        }
        top_level = {r for r in required if "." not in r}
        assert top_level <= ours, f"{endpoint}: {sorted(top_level - ours)} not reported as missing"


def _documented_errors() -> dict[str, list[dict[str, Any]]]:
    text = (DOCS / "introduction.md").read_text(encoding="utf-8")
    example = re.search(r"```JSON\n//[^\n]*\n(.*?)```", text, re.S)
    assert example, "introduction.md has no annotated error example"
    document = json.loads(example.group(1))
    found: dict[str, list[dict[str, Any]]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for error in node.get("errors", []) if isinstance(node.get("errors"), list) else []:
                found.setdefault(error["errorCode"], []).append(error)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(document)
    assert set(found) == {"E06000", "E04740", "E04500", "E04730"}
    return found


def test_annotated_errors_match_the_documented_example(api: httpx2.Client) -> None:
    documented = _documented_errors()
    response = api.post(
        "/invoices/drafts",
        json={
            "date": "2026-03-01",
            "currency": "ZUL",
            "customer": {"customerNumber": 987987987},
            "layout": {"layoutNumber": 1},
            "paymentTerms": {"paymentTermsNumber": 1},
            "recipient": {"name": "X", "vatZone": {"vatZoneNumber": 1}},
            "lines": [
                {
                    "product": {"productNumber": "WORK-DEV"},
                    "description": "x",
                    "quantity": 1,
                    "unitNetPrice": 10.12345,
                    "unit": {"unitNumber": 10},
                },
                {"product": {}, "description": "x", "quantity": 1},
                {"product": {"productNumber": "WORK-DEV"}, "description": "x"},
            ],
        },
    )
    body = response.json()
    assert set(body) >= {"message", "developerHint", "logId", "httpStatusCode", "errors", "logTime"}
    assert body["message"] == "Validation error."
    errors = body["errors"]
    assert errors["currency"]["errors"][0]["message"] == documented["E06000"][0]["message"]
    assert errors["currency"]["errors"][0]["value"] == "ZUL"
    lines = {line["arrayIndex"]: line for line in errors["lines"]}
    ours_scale = lines[0]["unitNetPrice"]["errors"][0]
    assert {k: ours_scale[k] for k in ("errorCode", "message")} == {
        k: documented["E04740"][0][k] for k in ("errorCode", "message")
    }
    assert lines[0]["unit"]["errors"][0]["message"] == "unit does not exist."
    ours_identifier = lines[1]["product"]["errors"][0]
    assert ours_identifier["message"] == documented["E04500"][0]["message"]
    assert lines[2]["quantity"]["errors"][0]["message"] == documented["E04730"][0]["message"]
    for error in (ours_scale, ours_identifier):
        assert set(error) <= {"errorCode", "message", "value", "developerHint"}


def test_documented_delete_response_shape(api: httpx2.Client) -> None:
    text = sections()["DELETE /invoices/drafts/:draftInvoiceNumber"]
    documented = json.loads(re.search(r"<pre[^>]*>(.*?)</pre>", text, re.S).group(1))  # type: ignore[union-attr]
    api.post(
        "/invoices/drafts",
        json={
            "date": "2026-03-01",
            "currency": "DKK",
            "customer": {"customerNumber": 9001},
            "layout": {"layoutNumber": 1},
            "paymentTerms": {"paymentTermsNumber": 1},
            "recipient": {"name": "X", "vatZone": {"vatZoneNumber": 1}},
        },
    )
    ours = api.delete("/invoices/drafts/1").json()
    assert flatten(ours) == flatten(documented)
    assert ours["message"] == documented["message"]


# ---------------------------------------------------------------- what the docs show, done


def required_by_docs(endpoint: str) -> set[str]:
    """The endpoint's "Required properties" (``a.b`` is required only when ``a`` is set)."""
    match = re.search(r"#### Required propert[^\n]*\n+([^\n#]+)", sections()[endpoint])
    return {item.strip() for item in match.group(1).split(",")} if match else set()


def missing(document: dict[str, Any], required: set[str]) -> set[str]:
    """The required properties ``document`` lacks (a dotted one only when its parent is set)."""
    present = flatten(document)
    return {
        name
        for name in required
        if name not in present and ("." not in name or name.rsplit(".", 1)[0] in present)
    }


@pytest.mark.parametrize(("endpoint", "path"), ENDPOINTS)
def test_resources_carry_the_properties_the_docs_require(
    populated: httpx2.Client, endpoint: str, path: str
) -> None:
    document = populated.get(path).json()
    assert not missing(document, required_by_docs(endpoint)), f"{path} lacks them"


@pytest.mark.parametrize(("endpoint", "path"), COLLECTIONS)
def test_collection_items_carry_the_properties_the_docs_require(
    populated: httpx2.Client, endpoint: str, path: str
) -> None:
    required = required_by_docs(endpoint)
    for item in populated.get(path).json()["collection"]:
        assert not missing(item, required), f"an item of {path} lacks them"


POSTS = [
    ("POST /customers", "/customers"),
    ("POST /products", "/products"),
    ("POST /invoices/drafts", "/invoices/drafts"),
    ("POST /customers/:customerNumber/contacts", "/customers/9001/contacts"),
]


def reported_missing(errors: Any, prefix: str = "") -> set[str]:
    """The properties a 400's annotated errors call required (E90001), dotted."""
    found: set[str] = set()
    if isinstance(errors, dict):
        for key, value in errors.items():
            path = f"{prefix}.{key}" if prefix else key
            if key == "errors" and isinstance(value, list):
                if any(e.get("errorCode") == "E90001" for e in value):
                    found.add(prefix)
            elif isinstance(value, dict | list):
                found |= reported_missing(value, path if key != "errors" else prefix)
    elif isinstance(errors, list):
        for item in errors:
            found |= reported_missing(item, prefix)
    return found


@pytest.mark.parametrize(("endpoint", "path"), POSTS)
def test_posts_require_exactly_what_the_docs_require(
    api: httpx2.Client, endpoint: str, path: str
) -> None:
    """Both ways: every documented required property is reported missing from an empty
    document (a nested one when its parent is sent empty), and nothing else is."""
    required = required_by_docs(endpoint)
    parents = {name.split(".")[0] for name in required if "." in name}
    for body in ({}, {parent: {} for parent in parents}):
        answer = api.post(path, json=body)
        assert answer.status_code == 400, answer.text
        reported = reported_missing(answer.json()["errors"])
        expected = {name for name in required if "." not in name or name.split(".")[0] in body}
        assert reported == expected - set(body), (endpoint, body)


def _introduction() -> str:
    return (DOCS / "introduction.md").read_text(encoding="utf-8")


def test_paging_is_what_the_docs_show(api: httpx2.Client) -> None:
    """Default and largest page size as the docs give them, and their example: "a resource
    with 40 entries" has these first, next and last page links."""
    text = _introduction()
    default = int(re.search(r"will return (\d+) resources", text).group(1))  # type: ignore[union-attr]
    largest = re.search(r"increase this to ([\d.,]+) resources", text).group(1)  # type: ignore[union-attr]
    largest_size = int(largest.replace(".", "").replace(",", ""))
    example = dict(re.findall(r"\*\*(\w+) page\*\*\s+`https://[^/]+(/[^`]+)`", text))
    assert set(example) == {"First", "Next", "Last"}
    for _ in range(40):
        assert api.post("/invoices/drafts", json=DRAFT).status_code == 201
    pagination = api.get("/invoices/drafts").json()["pagination"]
    assert (pagination["pageSize"], pagination["maxPageSizeAllowed"]) == (default, largest_size)
    for name, key in (("First", "firstPage"), ("Next", "nextPage"), ("Last", "lastPage")):
        link = urlsplit(pagination[key])
        assert f"{link.path}?{link.query}" == example[name]
    assert (
        len(api.get("/invoices/drafts", params={"pagesize": largest_size}).json()["collection"])
        == 40
    )
    assert api.get("/invoices/drafts", params={"pagesize": largest_size + 1}).status_code == 400


def _documented_error_body() -> dict[str, Any]:
    example = re.search(r"```JSON\n//[^\n]*\n(.*?)```", _introduction(), re.S)
    assert example, "introduction.md has no error example"
    document: dict[str, Any] = json.loads(example.group(1))
    return document


def test_every_error_answer_has_the_documented_shape(
    api: httpx2.Client, anonymous: httpx2.Client
) -> None:
    """The docs' error body (message, developerHint, logId, httpStatusCode, logTime; errors
    when a property is wrong) on every kind of error they list, and on each error object an
    errorCode as each of theirs has."""
    documented = _documented_error_body()
    whole = set(documented) - {"errors"}
    per_error = {key for errors in _documented_errors().values() for e in errors for key in e}
    answers = {
        400: api.post("/customers", json={"name": "x" * 300}),
        401: anonymous.get("/customers"),
        404: api.get("/customers/424242"),
        405: api.put("/customers", json={}),  # "a PUT request to a collection resource"
        415: api.post("/customers", content=b"<x/>", headers={"Content-Type": "text/xml"}),
    }
    for status, answer in answers.items():
        assert answer.status_code == status, answer.text
        body = answer.json()
        assert whole <= set(body), (status, sorted(whole - set(body)))
        assert body["httpStatusCode"] == status
        assert body["errorCode"]
    for errors in reported_errors(answers[400].json()["errors"]):
        assert errors["errorCode"] and set(errors) <= per_error


def reported_errors(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        own = node["errors"] if isinstance(node.get("errors"), list) else []
        return own + [
            e for v in node.values() if not isinstance(v, list) for e in reported_errors(v)
        ]
    if isinstance(node, list):
        return [e for item in node for e in reported_errors(item)]
    return []


DRAFT = {
    "date": "2026-03-01",
    "currency": "DKK",
    "customer": {"customerNumber": 9001},
    "layout": {"layoutNumber": 1},
    "paymentTerms": {"paymentTermsNumber": 1},
    "recipient": {"name": "X", "vatZone": {"vatZoneNumber": 1}},
}
