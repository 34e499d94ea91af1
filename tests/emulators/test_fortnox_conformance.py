"""Conformance of the Fortnox emulator with Fortnox's official OpenAPI document,
../shared/specs/fortnox-openapi.json, in both directions (design §7, issue 13 item 3).

One emulator is driven as the connector drives Fortnox (every route it uses, with the bodies it
sends); then

* (a) every answer validates against the response schema the spec gives its route, strictly:
  an object may carry only the properties the spec documents for it;
* (b) every request body sent validates against the route's request schema, strictly;
* (c) what the spec documents, the emulator does: a POST missing a property the spec requires
  is refused with an ``ErrorInformation`` body, properties the spec's payload schemas leave out
  (read-only) are ignored on a write, field limits and enums are the spec's, lists carry
  ``MetaInformation`` and page by ``page``/``limit``/``offset``, the documented ``filter`` and
  ``sortby`` values are the ones served, and every error answer is the documented error body.

Tolerances, each where the fact sheet (../shared/erp-facts/fortnox.md) says the real API
differs from its spec — as few as the answers need:

* ``MetaInformation`` beside a list: the spec's list wrappers mostly do not declare it, the real
  lists carry it (fact sheet header and §2.4; the spec's own ``fortnox_MetaInformation`` is
  what it must look like);
* ``null`` for a date property: "date defaults come back as "" or null" (fact sheet §2.10);
* ``@url`` on an employee: "each object carries @url" (§2.1); the spec has it on the list item
  ``fortnox_EmployeeListItem`` but not on ``fortnox_Employee``;
* the error body's keys in lower case: "Real responses use lower-case keys; the spec schema
  capitalises Error/Message/Code" (§2.7) — the body is validated with its keys capitalised.
"""

from __future__ import annotations

import json
from copy import deepcopy
from functools import cache
from typing import Any

import httpx2
import jsonschema_rs
import pytest
from fastapi.testclient import TestClient

from ledgerlink.emulators._kit.fields import Field, Kind
from ledgerlink.emulators.fortnox import invoices, ledger, registers
from ledgerlink.emulators.fortnox.emulator import rate_window
from ledgerlink.emulators.fortnox.wire import Listing
from tests.emulators.fortnox_support import client, fresh
from tests.support import shared_specs

SPEC = shared_specs("fortnox-openapi.json")
REF = "#/components/schemas/"


@cache
def spec() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(SPEC.read_text(encoding="utf-8"))
    return document


def schemas() -> dict[str, Any]:
    found: dict[str, Any] = spec()["components"]["schemas"]
    return found


def operation(method: str, path: str) -> dict[str, Any]:
    found: dict[str, Any] = spec()["paths"][path][method.lower()]
    return found


def _ref(schema: dict[str, Any] | None) -> str | None:
    target = (schema or {}).get("$ref")
    return target.removeprefix(REF) if isinstance(target, str) else None


def response_schema(method: str, path: str) -> str | None:
    """The schema name of the route's JSON success answer (``None``: no JSON body)."""
    for status, answer in operation(method, path)["responses"].items():
        if status.startswith("2"):
            return _ref(answer.get("content", {}).get("application/json", {}).get("schema"))
    return None


def request_schema(method: str, path: str) -> str | None:
    content = operation(method, path).get("requestBody", {}).get("content", {})
    return _ref(content.get("*/*", {}).get("schema"))


# ---------------------------------------------------------------------------- the validators


def _reachable(name: str, found: set[str] | None = None) -> set[str]:
    found = set() if found is None else found
    if name not in found:
        found.add(name)
        text = json.dumps(schemas()[name])
        for target in {part.split('"')[0] for part in text.split(f'"{REF}')[1:]}:
            _reachable(target, found)
    return found


def _strict(node: Any, *, wire: bool, partial: bool = False) -> Any:
    """``node`` with ``additionalProperties: false`` on every object that lists its properties
    (the spec never says; without it any invented property would pass), on the wire with the
    date tolerance, ``partial`` without ``required``."""
    if isinstance(node, list):
        return [_strict(item, wire=wire, partial=partial) for item in node]
    if not isinstance(node, dict):
        return node
    out = {
        key: _strict(value, wire=wire, partial=partial)
        for key, value in node.items()
        if not (partial and key == "required" and isinstance(value, list))
    }
    if wire and out.get("format") == "date" and out.get("type") == "string":
        out["type"] = ["string", "null"]  # fact sheet §2.10
    if isinstance(out.get("properties"), dict) and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


@cache
def validator(name: str, *, wire: bool, listing: bool = False, partial: bool = False) -> Any:
    """A validator of schema ``name``: ``wire`` for an answer (with the tolerances), else for a
    request; ``listing`` adds ``MetaInformation`` beside the list; ``partial`` is for a PUT,
    which the spec documents as partial ("Only the properties provided in the request body
    will be updated"), so nothing is required."""
    names = _reachable(name) | ({"fortnox_MetaInformation"} if listing else set())
    chosen = {n: _strict(deepcopy(schemas()[n]), wire=wire, partial=partial) for n in names}
    if wire and "fortnox_Employee" in chosen:
        chosen["fortnox_Employee"]["properties"]["@url"] = {"type": "string"}  # fact sheet §2.1
    if listing:
        chosen[name]["properties"]["MetaInformation"] = {"$ref": f"{REF}fortnox_MetaInformation"}
    root = {"$ref": f"{REF}{name}", "components": {"schemas": chosen}}
    return jsonschema_rs.Draft4Validator(root, validate_formats=True)


def problems(
    name: str, body: Any, *, wire: bool = True, listing: bool = False, partial: bool = False
) -> list[str]:
    found = validator(name, wire=wire, listing=listing, partial=partial).iter_errors(body)
    return [f"/{'/'.join(map(str, e.instance_path))}: {e.message}" for e in found]


def error_problems(body: Any) -> list[str]:
    """The problems of an error answer: Fortnox's lower-case keys (fact sheet §2.7) exactly,
    and, capitalised as the spec writes them, its ``fortnox_ErrorInformationWrap``."""
    inner = body.get("ErrorInformation") if isinstance(body, dict) else None
    if not isinstance(inner, dict) or set(inner) != {"error", "message", "code"}:
        return [f"not Fortnox's error body: {body}"]
    capitalised = {"ErrorInformation": {key.capitalize(): value for key, value in inner.items()}}
    return problems("fortnox_ErrorInformationWrap", capitalised)


def test_the_validators_are_strict_and_know_formats() -> None:
    assert problems("fortnox_Me_Wrap", {"MeInformation": {"Id": "1", "Shoe": 42}})
    assert problems("fortnox_LockedPeriod_Wrap", {"LockedPeriod": {"EndDate": "2026-13-01"}})
    assert not problems("fortnox_LockedPeriod_Wrap", {"LockedPeriod": {"EndDate": None}})
    assert problems("fortnox_LockedPeriod_Wrap", {"LockedPeriod": {"EndDate": None}}, wire=False)
    assert problems("fortnox_Customer_Wrap", {"Customer": {"Name": ""}}, wire=False)
    assert problems("fortnox_CustomerListItem_List", {"Customers": [], "MetaInformation": {}})
    assert error_problems({"ErrorInformation": {"Error": 1, "Message": "x", "Code": 1}})


# ------------------------------------------------------------- the connector's traffic, recorded

CUSTOMER = {
    "Customer": {
        "CustomerNumber": "100",
        "Name": "Svensson Bygg AB",
        "OrganisationNumber": "556036-0793",
        "VATNumber": "SE556036079301",
        "VATType": "SEVAT",
        "Type": "COMPANY",
        "Address1": "Storgatan 5",
        "ZipCode": "111 22",
        "City": "Stockholm",
        "Country": "Sverige",
        "CountryCode": "SE",
        "Currency": "SEK",
        "Email": "info@svenssonbygg.se",
        "EmailInvoice": "faktura@svenssonbygg.se",
        "Phone1": "08-123 45 67",
        "OurReference": "Anna Berg",
        "YourReference": "Erik Ek",
        "ExternalReference": "ll:C200",
        "TermsOfPayment": "30",
        "Active": True,
    }
}
ARTICLE = {
    "Article": {
        "ArticleNumber": "CONS",
        "Description": "Konsulttimme senior",
        "Unit": "tim",
        "SalesPrice": 1250,
        "VAT": 25,
        "Type": "SERVICE",
        "SalesAccount": 3001,
        "Active": True,
    }
}
ACCOUNT = {"Account": {"Number": 3010, "Description": "Försäljning tjänster", "VATCode": "MP1"}}
PROJECT = {
    "Project": {
        "ProjectNumber": "P1",
        "Description": "Nytt lager",
        "ProjectLeader": "Anna Berg",
        "Status": "ONGOING",
        "StartDate": "2026-01-01",
    }
}
COST_CENTER = {"CostCenter": {"Code": "DEV", "Description": "Utveckling", "Active": True}}
EMPLOYEE = {
    "Employee": {
        "EmployeeId": "CD",
        "FirstName": "Carl",
        "LastName": "Dahl",
        "Email": "carl.dahl@nordlys.se",
    }
}
VOUCHER_SERIES = {"VoucherSeries": {"Code": "X", "Description": "Import", "Manual": True}}
INVOICE = {
    "Invoice": {
        "CustomerNumber": "100",
        "ExternalInvoiceReference1": "ll:t1:inv-1:0",
        "YourReference": "Erik Ek",
        "OurReference": "Anna Berg",
        "YourOrderNumber": "PO-4711",
        "Remarks": "Faktura för mars",
        "Comments": "Överförd från ledgerlink",
        "Currency": "SEK",
        "Project": "100",  # the seeded project: an invoice's project must exist
        "InvoiceRows": [
            {
                "ArticleNumber": "WORK",
                "Description": "Konsulttimmar mars",
                "DeliveredQuantity": "7.5",
                "Price": 1150,
                "Discount": 10,
                "DiscountType": "PERCENT",
            },
            {"Description": "Specifikation: se bilaga"},
            {"ArticleNumber": "EXP", "DeliveredQuantity": "1", "Price": 99.5},
        ],
    }
}
PAYMENT = {"InvoicePayment": {"InvoiceNumber": 1, "Amount": 1000, "PaymentDate": "2026-03-20"}}
FINANCIAL_YEAR = {"FinancialYear": {"FromDate": "2028-01-01", "ToDate": "2028-12-31"}}
VOUCHER = {
    "Voucher": {
        "Description": "Utlägg: taxi",
        "TransactionDate": "2026-03-10",
        "VoucherSeries": "U",
        "Year": 2,
        "VoucherRows": [
            {"Account": 5800, "Debit": 400, "Project": "P1", "Description": "Anna Berg"},
            {"Account": 2641, "Debit": 100},
            {"Account": 2890, "Credit": 500, "TransactionInformation": "Leverantör: Taxi AB"},
        ],
    }
}


def connection(file_id: str, number: str, series: str = "U") -> dict[str, Any]:
    link = {"FileId": file_id, "VoucherNumber": number, "VoucherSeries": series, "VoucherYear": 2}
    return {"VoucherFileConnection": link}


Exchange = tuple[Any, httpx2.Response]
"""A request body sent (``None``: none, or a file) and the answer."""


class Recorder:
    """Sends requests and files each exchange under its route as the spec names it."""

    def __init__(self, http: TestClient) -> None:
        self.http = http
        self.exchanges: dict[tuple[str, str], list[Exchange]] = {}

    def __call__(
        self, method: str, route: str, path: str, body: Any = None, **more: Any
    ) -> httpx2.Response:
        answer = self.http.request(method, path, json=body, **more)
        assert answer.status_code < 300, f"{method} {path}: {answer.text}"
        self.exchanges.setdefault((method, route), []).append((body, answer))
        return answer


@pytest.fixture(scope="module")
def traffic() -> Recorder:
    """Every route the connector uses, as it uses them, on one emulator."""
    send = Recorder(client(fresh()))
    send("GET", "/3/me", "/3/me")
    send("GET", "/3/companyinformation", "/3/companyinformation")
    send("GET", "/3/financialyears", "/3/financialyears?Date=2026-03-15")
    send("POST", "/3/financialyears", "/3/financialyears", FINANCIAL_YEAR)
    send("GET", "/3/financialyears/{Id}", "/3/financialyears/2")
    send("GET", "/3/settings/lockedperiod", "/3/settings/lockedperiod")
    register_traffic(send)
    invoice_traffic(send)
    ledger_traffic(send)
    send("DELETE", "/3/customers/{CustomerNumber}", "/3/customers/101")
    send("DELETE", "/3/articles/{ArticleNumber}", "/3/articles/GONE")
    send("DELETE", "/3/accounts/{Number}", "/3/accounts/3011")
    send("DELETE", "/3/projects/{ProjectNumber}", "/3/projects/P3")
    send("DELETE", "/3/costcenters/{Code}", "/3/costcenters/OLD")
    # the user locks last year: the locked period now has its date
    send.http.put("/_emulator/lockedperiod", json={"EndDate": "2025-12-31"}).raise_for_status()
    send("GET", "/3/settings/lockedperiod", "/3/settings/lockedperiod")
    return send


def register_traffic(send: Recorder) -> None:
    customer = CUSTOMER["Customer"]
    send("POST", "/3/customers", "/3/customers", CUSTOMER)
    send(
        "POST", "/3/customers", "/3/customers", {"Customer": {**customer, "CustomerNumber": "101"}}
    )
    send(
        "PUT", "/3/customers/{CustomerNumber}", "/3/customers/100", {"Customer": {"City": "Solna"}}
    )
    send("GET", "/3/customers", "/3/customers")
    send("GET", "/3/customers/{CustomerNumber}", "/3/customers/100")
    send("POST", "/3/articles", "/3/articles", ARTICLE)
    send(
        "POST",
        "/3/articles",
        "/3/articles",
        {"Article": {"ArticleNumber": "GONE", "Description": "x"}},
    )
    send(
        "PUT", "/3/articles/{ArticleNumber}", "/3/articles/CONS", {"Article": {"SalesPrice": 1300}}
    )
    send("GET", "/3/articles", "/3/articles")
    send("GET", "/3/articles/{ArticleNumber}", "/3/articles/WORK")
    send("POST", "/3/accounts", "/3/accounts", ACCOUNT)
    send("POST", "/3/accounts", "/3/accounts", {"Account": {"Number": 3011, "Description": "x"}})
    send("PUT", "/3/accounts/{Number}", "/3/accounts/3010", {"Account": {"Active": False}})
    send("GET", "/3/accounts", "/3/accounts")
    send("GET", "/3/accounts/{Number}", "/3/accounts/3001")
    for number in ("P1", "P2", "P3"):
        body = {"Project": {**PROJECT["Project"], "ProjectNumber": number}}
        send("POST", "/3/projects", "/3/projects", body)
    send(
        "PUT", "/3/projects/{ProjectNumber}", "/3/projects/P2", {"Project": {"Status": "COMPLETED"}}
    )
    send("GET", "/3/projects", "/3/projects")
    send("GET", "/3/projects/{ProjectNumber}", "/3/projects/P1")
    send("POST", "/3/costcenters", "/3/costcenters", COST_CENTER)
    send(
        "POST",
        "/3/costcenters",
        "/3/costcenters",
        {"CostCenter": {"Code": "OLD", "Description": "x"}},
    )
    send("PUT", "/3/costcenters/{Code}", "/3/costcenters/DEV", {"CostCenter": {"Note": "Team"}})
    send("GET", "/3/costcenters", "/3/costcenters")
    send("GET", "/3/costcenters/{Code}", "/3/costcenters/ADM")
    send("POST", "/3/employees", "/3/employees", EMPLOYEE)
    send(
        "PUT", "/3/employees/{EmployeeId}", "/3/employees/CD", {"Employee": {"JobTitle": "Konsult"}}
    )
    send("GET", "/3/employees", "/3/employees")
    send("GET", "/3/employees/{EmployeeId}", "/3/employees/1")
    send("POST", "/3/voucherseries", "/3/voucherseries", VOUCHER_SERIES)
    send(
        "PUT", "/3/voucherseries/{Code}", "/3/voucherseries/X", {"VoucherSeries": {"Manual": False}}
    )
    send("GET", "/3/voucherseries", "/3/voucherseries")
    send("GET", "/3/voucherseries/{Code}", "/3/voucherseries/U")


def invoice_traffic(send: Recorder) -> None:
    for _ in range(3):
        send("POST", "/3/invoices", "/3/invoices", INVOICE)
    rows = send("GET", "/3/invoices/{DocumentNumber}", "/3/invoices/1").json()["Invoice"]
    kept = [{"RowId": row["RowId"]} for row in rows["InvoiceRows"]]
    change = {"Invoice": {"YourReference": "Eva Ek", "InvoiceRows": kept}}
    send("PUT", "/3/invoices/{DocumentNumber}", "/3/invoices/1", change)
    for number in ("1", "2"):
        send("PUT", "/3/invoices/{DocumentNumber}/bookkeep", f"/3/invoices/{number}/bookkeep")
    send("PUT", "/3/invoices/{DocumentNumber}/credit", "/3/invoices/2/credit")
    send("PUT", "/3/invoices/{DocumentNumber}/cancel", "/3/invoices/3/cancel")
    send("GET", "/3/invoices", "/3/invoices")
    send("GET", "/3/invoices/{DocumentNumber}", "/3/invoices/4")  # the credit invoice
    send("POST", "/3/invoicepayments", "/3/invoicepayments", PAYMENT)
    send("POST", "/3/invoicepayments", "/3/invoicepayments", PAYMENT)
    send("GET", "/3/invoicepayments", "/3/invoicepayments")
    send("GET", "/3/invoicepayments/{Number}", "/3/invoicepayments/1")


def ledger_traffic(send: Recorder) -> None:
    send("POST", "/3/vouchers", "/3/vouchers", VOUCHER)
    send("GET", "/3/vouchers", "/3/vouchers?financialyear=2")
    send("GET", "/3/vouchers/sublist", "/3/vouchers/sublist")
    send("GET", "/3/vouchers/sublist/{VoucherSeries}", "/3/vouchers/sublist/B?financialyear=2")
    send("GET", "/3/vouchers/{VoucherSeries}/{VoucherNumber}", "/3/vouchers/U/1?financialyear=2")
    files = []
    for name in ("kvitto-1.pdf", "kvitto-2.pdf", "kvitto-3.pdf"):
        upload = {"file": (name, b"%PDF-1.4 " + name.encode(), "application/pdf")}
        answer = send("POST", "/3/inbox", "/3/inbox", files=upload)
        files.append(answer.json()["File"]["Id"])
    send("GET", "/3/inbox", "/3/inbox")
    send("GET", "/3/inbox/{Id}", f"/3/inbox/{files[0]}")
    upload = {"file": ("avtal.pdf", b"%PDF-1.4 avtal", "application/pdf")}
    archived = send("POST", "/3/archive", "/3/archive", files=upload).json()["File"]["Id"]
    send("GET", "/3/archive/{id}", f"/3/archive/{archived}")
    for file_id, number, series in (
        (files[0], "1", "U"),
        (files[1], "1", "B"),
        (files[2], "2", "B"),
    ):
        body = connection(file_id, number, series)
        send("POST", "/3/voucherfileconnections", "/3/voucherfileconnections", body)
    send("GET", "/3/archive", "/3/archive")
    send("GET", "/3/voucherfileconnections", "/3/voucherfileconnections")
    send("GET", "/3/voucherfileconnections/{FileId}", f"/3/voucherfileconnections/{files[0]}")
    send("DELETE", "/3/voucherfileconnections/{FileId}", f"/3/voucherfileconnections/{files[2]}")


ROUTES = [
    ("GET", "/3/me"),
    ("GET", "/3/companyinformation"),
    ("GET", "/3/financialyears"),
    ("POST", "/3/financialyears"),
    ("GET", "/3/financialyears/{Id}"),
    ("GET", "/3/settings/lockedperiod"),
    ("GET", "/3/customers"),
    ("POST", "/3/customers"),
    ("GET", "/3/customers/{CustomerNumber}"),
    ("PUT", "/3/customers/{CustomerNumber}"),
    ("DELETE", "/3/customers/{CustomerNumber}"),
    ("GET", "/3/articles"),
    ("POST", "/3/articles"),
    ("GET", "/3/articles/{ArticleNumber}"),
    ("PUT", "/3/articles/{ArticleNumber}"),
    ("DELETE", "/3/articles/{ArticleNumber}"),
    ("GET", "/3/accounts"),
    ("POST", "/3/accounts"),
    ("GET", "/3/accounts/{Number}"),
    ("PUT", "/3/accounts/{Number}"),
    ("DELETE", "/3/accounts/{Number}"),
    ("GET", "/3/projects"),
    ("POST", "/3/projects"),
    ("GET", "/3/projects/{ProjectNumber}"),
    ("PUT", "/3/projects/{ProjectNumber}"),
    ("DELETE", "/3/projects/{ProjectNumber}"),
    ("GET", "/3/costcenters"),
    ("POST", "/3/costcenters"),
    ("GET", "/3/costcenters/{Code}"),
    ("PUT", "/3/costcenters/{Code}"),
    ("DELETE", "/3/costcenters/{Code}"),
    ("GET", "/3/employees"),
    ("POST", "/3/employees"),
    ("GET", "/3/employees/{EmployeeId}"),
    ("PUT", "/3/employees/{EmployeeId}"),
    ("GET", "/3/voucherseries"),
    ("POST", "/3/voucherseries"),
    ("GET", "/3/voucherseries/{Code}"),
    ("PUT", "/3/voucherseries/{Code}"),
    ("GET", "/3/invoices"),
    ("POST", "/3/invoices"),
    ("GET", "/3/invoices/{DocumentNumber}"),
    ("PUT", "/3/invoices/{DocumentNumber}"),
    ("PUT", "/3/invoices/{DocumentNumber}/bookkeep"),
    ("PUT", "/3/invoices/{DocumentNumber}/credit"),
    ("PUT", "/3/invoices/{DocumentNumber}/cancel"),
    ("GET", "/3/invoicepayments"),
    ("POST", "/3/invoicepayments"),
    ("GET", "/3/invoicepayments/{Number}"),
    ("GET", "/3/vouchers"),
    ("POST", "/3/vouchers"),
    ("GET", "/3/vouchers/sublist"),
    ("GET", "/3/vouchers/sublist/{VoucherSeries}"),
    ("GET", "/3/vouchers/{VoucherSeries}/{VoucherNumber}"),
    ("GET", "/3/inbox"),
    ("POST", "/3/inbox"),
    ("GET", "/3/inbox/{Id}"),
    ("GET", "/3/archive"),
    ("POST", "/3/archive"),
    ("GET", "/3/archive/{id}"),
    ("GET", "/3/voucherfileconnections"),
    ("POST", "/3/voucherfileconnections"),
    ("GET", "/3/voucherfileconnections/{FileId}"),
    ("DELETE", "/3/voucherfileconnections/{FileId}"),
]


def _is_list(name: str) -> bool:
    properties = schemas()[name].get("properties", {}) if name else {}
    return len(properties) == 1 and next(iter(properties.values())).get("type") == "array"


def test_every_emulated_route_is_documented() -> None:
    """The emulator serves no ``/3/`` route, and no method on one, that the spec lacks; and
    the routes this test drives are every one it serves."""
    served = {
        (method.upper(), _shape(path))
        for path, operations in fresh().app.openapi()["paths"].items()
        if path.startswith("/3/")
        for method in operations
    }
    documented = {
        (method.upper(), _shape(path))
        for path, operations in spec()["paths"].items()
        for method in operations
    }
    assert served <= documented, sorted(served - documented)
    assert served == {(method, _shape(path)) for method, path in ROUTES}


def _shape(path: str) -> str:
    return "/".join("{}" if part.startswith("{") else part for part in path.split("/"))


# ----------------------------------------------------------------------- (a) and (b): the bodies


@pytest.mark.parametrize(("method", "route"), ROUTES, ids=[f"{m} {r}" for m, r in ROUTES])
def test_answers_and_requests_validate_against_the_spec(
    traffic: Recorder, method: str, route: str
) -> None:
    exchanges = traffic.exchanges.get((method, route))
    assert exchanges, f"the test drives no {method} {route}"
    answer_schema = response_schema(method, route)
    body_schema = request_schema(method, route)
    for sent, answer in exchanges:
        if body_schema is not None:
            assert sent is not None
            partial = method == "PUT"
            assert not problems(body_schema, sent, wire=False, partial=partial), (route, sent)
        if answer_schema is None:
            declared = operation(method, route)["responses"]
            if "204" in declared:  # DELETE: "204 – No content"
                assert (answer.status_code, answer.content) == (204, b"")
            else:  # a file's bytes ("*/*", a byte string)
                assert answer.status_code == 200 and answer.content.startswith(b"%PDF")
            continue
        expected = 201 if "201" in operation(method, route)["responses"] else 200
        assert answer.status_code == expected, answer.text
        listing = _is_list(answer_schema)
        found = problems(answer_schema, answer.json(), listing=listing)
        assert not found, f"{method} {route} answers what {answer_schema} does not allow: {found}"


def test_uploads_are_the_documented_multipart_field() -> None:
    """``POST /3/inbox`` and ``/3/archive`` take ``multipart/form-data`` with a ``file``."""
    http = client(fresh())
    for path in ("/3/inbox", "/3/archive"):
        content = operation("POST", path)["requestBody"]["content"]
        assert set(content["multipart/form-data"]["schema"]["properties"]) == {"file"}
        wrong = http.post(path, files={"document": ("a.pdf", b"%PDF", "application/pdf")})
        assert wrong.status_code == 400 and not error_problems(wrong.json())


# ------------------------------------------------ (c) what the spec documents, the emulator does

EXPENSE_ROWS = [
    {"Account": 5800, "Debit": 400, "Description": "Anna Berg"},
    {"Account": 2890, "Credit": 400},
]
# (route, a valid body on a fresh emulator): each POST the emulator serves with a JSON body.
POSTS = [
    ("/3/customers", CUSTOMER),
    ("/3/articles", ARTICLE),
    ("/3/accounts", ACCOUNT),
    ("/3/projects", PROJECT),
    ("/3/costcenters", COST_CENTER),
    ("/3/employees", EMPLOYEE),
    ("/3/voucherseries", VOUCHER_SERIES),
    ("/3/invoices", {"Invoice": {**INVOICE["Invoice"], "CustomerNumber": "1"}}),
    ("/3/financialyears", FINANCIAL_YEAR),
    ("/3/vouchers", {"Voucher": {**VOUCHER["Voucher"], "VoucherRows": EXPENSE_ROWS}}),
]

# Required by the spec's schema, not by the emulator, and why.
NOT_REQUIRED = {
    # The spec's own description of POST /3/vouchers: "If no query param is used the voucher
    # will be created in the preselected financial year"; clients post without Year.
    ("fortnox_Voucher", "Year"),
}


def _required(schema: str) -> list[tuple[str | None, str]]:
    """(array property or ``None``, property) for each property the schema requires, and for
    each its array items' schema requires."""
    found: list[tuple[str | None, str]] = []
    body = schemas()[schema]
    found += [
        (None, name) for name in body.get("required", []) if (schema, name) not in NOT_REQUIRED
    ]
    for name, prop in body.get("properties", {}).items():
        item = _ref(prop.get("items")) if prop.get("type") == "array" else None
        if item is not None:
            found += [(name, inner) for inner in schemas()[item].get("required", [])]
    return found


KEYS = {
    "/3/customers": "CustomerNumber",
    "/3/articles": "ArticleNumber",
    "/3/accounts": "Number",
    "/3/projects": "ProjectNumber",
    "/3/costcenters": "Code",
    "/3/employees": "EmployeeId",
    "/3/voucherseries": "Code",
}


@pytest.fixture(scope="module")
def scratch() -> TestClient:
    """One emulator the write tests share (each makes its own keys)."""
    return client(fresh())


@pytest.mark.parametrize(("path", "valid"), POSTS, ids=[p for p, _ in POSTS])
def test_posts_require_what_the_spec_requires(
    scratch: TestClient, path: str, valid: dict[str, Any]
) -> None:
    """Both ways: without any one property the spec requires (also of a row) the body is
    refused with an ErrorInformation body; without any one it does not require, it is
    accepted."""
    wrapper_schema = request_schema("POST", path)
    assert wrapper_schema is not None
    [(wrapper, inner)] = schemas()[wrapper_schema]["properties"].items()
    inner_schema = _ref(inner)
    assert inner_schema is not None and not problems(wrapper_schema, valid, wire=False)
    document = valid[wrapper]
    required = _required(inner_schema)
    for array, name in required:
        if array is not None and not document.get(array):
            continue
        body = deepcopy(document)
        if array is None:
            del body[name]
        else:
            del body[array][0][name]
        answer = scratch.post(path, json={wrapper: body})
        assert answer.status_code == 400, (path, array, name, answer.text)
        assert not error_problems(answer.json())
    properties = schemas()[inner_schema]["properties"]
    # An array the spec gives minItems (a voucher's two rows) is not optional in effect.
    optional = [
        name
        for name in document
        if (None, name) not in required and not properties[name].get("minItems")
    ]
    for index, name in enumerate([*optional, None]):
        body = {key: value for key, value in document.items() if key != name}
        if path in KEYS and KEYS[path] in body:
            body[KEYS[path]] = _unique(path, index)
        if problems(wrapper_schema, {wrapper: body}, wire=False):
            continue
        answer = scratch.post(path, json={wrapper: body})
        assert answer.status_code == 201, (path, name, answer.text)
    if wrapper in schemas()[wrapper_schema].get("required", []):
        answer = scratch.post(path, json={})
        assert (answer.status_code, answer.json()["ErrorInformation"]["code"]) == (400, 2001392)


def _unique(path: str, index: int) -> Any:
    if path == "/3/accounts":
        return 3020 + index
    return f"R{index}"


# The emulator's field rules, per schema the spec gives the request (and, where the spec keeps
# the answer's in a schema of its own, that one: its extra properties are read-only).
FIELD_RULES: list[tuple[str, tuple[Field, ...], tuple[str, ...], str | None]] = [
    *(
        (f"fortnox_{r.single}", r.fields, r.read_only, None)
        for r in registers.REGISTERS
        if r is not registers.ACCOUNTS
    ),
    # Accounts: one schema to write (AccountPayload), another read (AccountSingleItem).
    ("fortnox_AccountPayload", registers.ACCOUNTS.fields, registers.ACCOUNTS.read_only,
     "fortnox_AccountSingleItem"),
    ("fortnox_InvoicePayload", invoices.INVOICE_FIELDS, invoices.INVOICE_READ_ONLY,
     "fortnox_Invoice"),
    ("fortnox_InvoicePayload_InvoiceRow", invoices.ROW_FIELDS, invoices.ROW_READ_ONLY,
     "fortnox_Invoice_InvoiceRow"),
    ("fortnox_InvoicePayment", invoices.PAYMENT_FIELDS, (), None),
    ("fortnox_Voucher", ledger.VOUCHER_FIELDS, (), None),
    ("fortnox_Voucher_VoucherRow", ledger.VOUCHER_ROW_FIELDS, (), None),
    ("fortnox_FinancialYear", ledger.YEAR_FIELDS, (), None),
    ("fortnox_VoucherFileConnection", ledger.CONNECTION_FIELDS, (), None),
]  # fmt: skip
_KINDS = {
    Kind.STRING: "string",
    Kind.DATE: "string",
    Kind.INTEGER: "integer",
    Kind.NUMBER: "number",
    Kind.BOOLEAN: "boolean",
    Kind.ARRAY: "array",
}
# Where the emulator's limit is not the request schema's, and why.
LIMIT_FROM = {
    # The payload row has no limit; the answer's row has 255, as the fact sheet (§1.3, §2.11)
    # and accodeing/fortnox-api docs/gotchas.md ("a limit of 255 characters") say.
    ("fortnox_InvoicePayload_InvoiceRow", "Description"): "fortnox_Invoice_InvoiceRow",
}


@pytest.mark.parametrize(
    ("schema", "fields", "read_only", "answer"), FIELD_RULES, ids=[r[0] for r in FIELD_RULES]
)
def test_field_rules_are_the_spec_s(
    schema: str, fields: tuple[Field, ...], read_only: tuple[str, ...], answer: str | None
) -> None:
    """Every property the emulator takes is one the spec's request schema documents, of its
    type, with its length limits, range and enum; what it ignores as read-only is what only
    the answer's schema has (``@url`` included)."""
    documented = schemas()[schema]["properties"]
    for spec_field in fields:
        assert spec_field.name in documented, f"{schema} has no {spec_field.name}"
        prop = dict(documented[spec_field.name])
        if (schema, spec_field.name) in LIMIT_FROM:
            prop = schemas()[LIMIT_FROM[schema, spec_field.name]]["properties"][spec_field.name]
        assert _KINDS[spec_field.kind] == prop.get("type"), spec_field
        if spec_field.kind is Kind.DATE:
            assert prop.get("format") == "date", spec_field
        limit = prop.get("maxLength")
        limit = None if limit == 2**31 - 1 else limit  # "no limit", as the spec writes it
        if spec_field.kind is Kind.ARRAY:
            assert spec_field.min_length == prop.get("minItems", 0), spec_field
        else:
            assert (spec_field.min_length, spec_field.max_length) == (
                prop.get("minLength", 0),
                limit,
            ), spec_field
        assert (spec_field.minimum, spec_field.maximum) == (
            prop.get("minimum"),
            prop.get("maximum"),
        ), spec_field
        assert set(spec_field.enum or ()) == set(prop.get("enum", ())), spec_field
    if answer is not None:
        answer_only = set(schemas()[answer]["properties"]) - set(documented)
        assert set(read_only) <= answer_only, sorted(set(read_only) - answer_only)
        assert not {f.name for f in fields} & answer_only


def test_read_only_properties_sent_back_are_ignored(scratch: TestClient) -> None:
    """A document read is a document that can be written back: what only the answer's schema
    has (totals, booking state, @url) is ignored, not refused and not taken."""
    created = scratch.post(
        "/3/invoices", json={"Invoice": {**INVOICE["Invoice"], "CustomerNumber": "1"}}
    )
    read = created.json()["Invoice"]
    number = read["DocumentNumber"]
    echoed = {**read, "Total": 1, "Balance": 1, "Booked": True}
    answer = scratch.put(f"/3/invoices/{number}", json={"Invoice": echoed})
    assert answer.status_code == 200, answer.text
    written = answer.json()["Invoice"]
    assert (written["Total"], written["Balance"], written["Booked"]) == (
        read["Total"],
        read["Balance"],
        False,
    )
    account = scratch.get("/3/accounts/3001").json()["Account"]
    again = scratch.put("/3/accounts/3001", json={"Account": {**account, "Year": 99}})
    assert again.status_code == 200, again.text
    assert again.json()["Account"]["Year"] == account["Year"]


# ---------------------------------------------------------------- lists, paging and parameters

LISTS = [(m, r) for m, r in ROUTES if m == "GET" and _is_list(response_schema(m, r) or "")]
LIST_PATHS = {
    "/3/vouchers": "/3/vouchers?financialyear=2",
    "/3/vouchers/sublist/{VoucherSeries}": "/3/vouchers/sublist/B?financialyear=2",
}


@pytest.mark.parametrize("route", [r for _, r in LISTS])
def test_lists_carry_meta_information_and_page(traffic: Recorder, route: str) -> None:
    """``MetaInformation`` with the spec's three keys on every list, and ``page`` (from 1),
    ``limit`` (at most 500) and ``offset`` as the fact sheet (§2.4) documents them — the
    spec omits these global parameters."""
    http = traffic.http
    path = LIST_PATHS.get(route, route)
    whole = http.get(path).json()
    meta = whole["MetaInformation"]
    assert set(meta) == set(schemas()["fortnox_MetaInformation"]["properties"])
    assert not problems("fortnox_MetaInformation", meta)
    [plural] = set(whole) - {"MetaInformation"}
    items = whole[plural]
    assert len(items) >= 2, f"{route}: the test needs two items"
    assert (meta["@TotalResources"], meta["@CurrentPage"], meta["@TotalPages"]) == (
        len(items),
        1,
        1,
    )
    glue = "&" if "?" in path else "?"
    second = http.get(f"{path}{glue}limit=1&page=2").json()
    assert second[plural] == items[1:2]
    assert second["MetaInformation"] == {
        "@TotalResources": len(items),
        "@TotalPages": len(items),
        "@CurrentPage": 2,
    }
    assert http.get(f"{path}{glue}offset=1").json()[plural] == items[1:]
    assert http.get(f"{path}{glue}limit=500").status_code == 200
    refused = http.get(f"{path}{glue}limit=501")
    assert refused.status_code == 400 and not error_problems(refused.json())
    assert refused.json()["ErrorInformation"]["code"] == 2000588


# The listings whose query the emulator reads from a Listing, by route.
LISTINGS: dict[str, Listing] = {
    **{r.path: r.listing for r in registers.REGISTERS},
    "/3/invoices": invoices.LISTING,
    "/3/invoicepayments": invoices.PAYMENT_LISTING,
}
# Documented search parameters the emulator does not apply (it ignores them), and why.
NOT_EMULATED = {
    # Not in the connector's use; they need stock and web shop data the emulator lacks.
    "/3/articles": {"webshop"},
    # Not in the connector's use (it finds its invoices by externalinvoicereference1): ranges
    # and row searches the emulator's LIKE search does not express.
    "/3/invoices": {
        "label", "notcompleted", "sent", "fromfinalpaydate", "tofinalpaydate",
        "articlenumber", "articledescription", "accountnumberfrom", "accountnumberto",
    },
}  # fmt: skip
_GLOBAL = {"filter", "sortby", "lastmodified", "fromdate", "todate"}


def _parameters(route: str) -> dict[str, Any]:
    return {
        p["name"]: p["schema"]
        for p in operation("GET", route).get("parameters", [])
        if p["in"] == "query"
    }


@pytest.mark.parametrize("route", sorted(LISTINGS))
def test_documented_filters_sorts_and_searches_are_served(scratch: TestClient, route: str) -> None:
    """The ``filter`` and ``sortby`` values are exactly the spec's (each answered, anything
    else refused with 2000588); the search parameters are the spec's, less the few named in
    NOT_EMULATED."""
    documented = _parameters(route)
    spec_listing = LISTINGS[route]
    filters = set(documented.get("filter", {}).get("enum", ()))
    sorts = set(documented.get("sortby", {}).get("enum", ()))
    assert set(spec_listing.filters) == filters
    assert set(spec_listing.sort) == sorts
    for name, values in (("filter", filters), ("sortby", sorts)):
        for value in values:
            assert scratch.get(route, params={name: value}).status_code == 200, (name, value)
        refused = scratch.get(route, params={name: "nonsense"})
        assert refused.status_code == 400 and not error_problems(refused.json())
    searches = set(documented) - _GLOBAL
    assert set(spec_listing.search) <= searches, sorted(set(spec_listing.search) - searches)
    assert searches - set(spec_listing.search) == NOT_EMULATED.get(route, set())


# ------------------------------------------------------------------------------ error answers


def test_every_error_answer_is_the_documented_body() -> None:
    """The spec's ``default`` answer of every route is ``fortnox_ErrorInformationWrap``; each
    kind of error the emulator gives is that body (keys in lower case, fact sheet §2.7)."""
    assert {
        _ref(schema["schema"])
        for method, route in ROUTES
        for status, answer in operation(method, route)["responses"].items()
        if status == "default"
        for schema in answer["content"].values()
    } == {"fortnox_ErrorInformationWrap"}
    emulator = fresh()
    http = client(emulator)
    answers = {
        "required": http.post("/3/customers", json={"Customer": {"City": "Solna"}}),
        "bad JSON": http.post("/3/customers", content=b"{nope"),
        "no wrapper": http.post("/3/customers", json={"Kund": {}}),
        "unknown property": http.post("/3/customers", json={"Customer": {"Name": "X", "Hat": 1}}),
        "bad parameter": http.get("/3/customers", params={"limit": "x"}),
        "not found": http.get("/3/customers/4242"),
        "no such route": http.get("/3/nothing"),
        "method not allowed": http.put("/3/vouchers/A/1", json={"Voucher": {}}),
        "no token": TestClient(emulator.app).get("/3/customers"),
    }
    emulator.limits.configure([rate_window()], retry_after=False)
    answers["rate limit"] = [http.get("/3/me") for _ in range(26)][-1]
    for kind, answer in answers.items():
        assert answer.status_code >= 400, kind
        assert not error_problems(answer.json()), kind
        assert answer.json()["ErrorInformation"]["error"] == 1, kind
