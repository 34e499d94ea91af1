"""NAV emulator: OData V4 ($metadata, queries, paging, ETags, writes, errors)."""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.emulators.test_nav_support import Nav, config, serve_nav

CUSTOMERS = "TlpCustomerNavWS"
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
CORRELATION = re.compile(r"  CorrelationId:  [0-9a-f-]{36}\.$")


@pytest.fixture
def nav() -> Iterator[Nav]:
    with serve_nav(config(odata_max_page_size=2)) as client:
        yield client


def _error(response_json: dict[str, dict[str, str]]) -> tuple[str, str]:
    error = response_json["error"]
    assert CORRELATION.search(error["message"]), error["message"]
    return error["code"], CORRELATION.sub("", error["message"])


def test_metadata_describes_pages_and_companies(nav: Nav) -> None:
    response = nav.http.get(f"{nav.odata_base}/$metadata")
    assert response.status_code == 200
    schema = ET.fromstring(response.content).find(
        "{http://docs.oasis-open.org/odata/ns/edmx}DataServices/" + f"{EDM}Schema"
    )
    assert schema is not None and schema.get("Namespace") == "NAV"
    header = schema.find(f"{EDM}EntityType[@Name='TlpInvoiceNavWS']")
    assert header is not None
    keys = [ref.get("Name") for ref in header.iter(f"{EDM}PropertyRef")]
    assert keys == ["Document_Type", "No"]
    etag = header.find(f"{EDM}Property[@Name='ETag']")
    assert etag is not None and etag.get("ConcurrencyMode") == "Fixed"
    posting_date = header.find(f"{EDM}Property[@Name='Posting_Date']")
    assert posting_date is not None and posting_date.get("Type") == "Edm.DateTimeOffset"
    container = schema.find(f"{EDM}EntityContainer")
    assert container is not None and container.get("Name") == "NAV"
    posted = container.find(f"{EDM}EntitySet[@Name='TlpPostedInvoiceNavWS']")
    assert posted is not None
    insertable = posted.find(f".//{EDM}PropertyValue[@Property='Insertable']")
    assert insertable is not None and insertable.get("Bool") == "false"
    companies = nav.http.get(f"{nav.odata_base}/Company").json()
    assert [c["Name"] for c in companies["value"]] == ["CRONUS International Ltd.", "TEST"]


def test_collection_filter_select_and_paging(nav: Nav) -> None:
    url = nav.odata_url(CUSTOMERS)
    first = nav.http.get(url)
    assert first.headers["content-type"] == "application/json; odata.metadata=minimal"
    assert first.headers["odata-version"] == "4.0"
    body = first.json()
    assert body["@odata.context"].endswith(
        "/ODataV4/$metadata#Company('CRONUS%20International%20Ltd.')/TlpCustomerNavWS"
    )
    assert [c["No"] for c in body["value"]] == ["10000", "20000"]
    next_link = body["@odata.nextLink"]
    assert parse_qs(urlsplit(next_link).query)["$skiptoken"] == ["'20000'"]
    second = nav.http.get(next_link).json()
    assert [c["No"] for c in second["value"]] == ["30000", "40000"]
    third = nav.http.get(second["@odata.nextLink"]).json()
    assert [c["No"] for c in third["value"]] == ["50000"]
    assert "@odata.nextLink" not in third
    one = nav.http.get(url, headers={"Prefer": "odata.maxpagesize=1"})
    assert len(one.json()["value"]) == 1
    assert one.headers["preference-applied"] == "odata.maxpagesize=1"
    filtered = nav.http.get(
        url,
        params={
            "$filter": "Currency_Code eq 'EUR' or Currency_Code eq 'USD'",
            "$select": "No,Name",
        },
    ).json()
    rows = filtered["value"]
    assert [row["@odata.etag"].startswith('W/"') for row in rows] == [True, True]
    assert [{k: v for k, v in row.items() if k != "@odata.etag"} for row in rows] == [
        {"No": "20000", "Name": "Selangorian Ltd."},
        {"No": "30000", "Name": "John Haddock Insurance Co."},
    ]
    for expression, expected in [
        ("startswith(Name,'The')", ["10000"]),
        ("contains(tolower(Name),'water')", ["50000"]),
        ("No ge '30000' and Blocked eq ' '", ["30000", "50000"]),
        ("Blocked eq 'All'", ["40000"]),
        ("Last_Date_Modified eq 2026-11-24T00:00:00Z and endswith(Name,'PLC')", ["10000"]),
        ("not (No lt '50000')", ["50000"]),
    ]:
        page = nav.http.get(url, params={"$filter": expression, "$top": "1"})
        assert page.status_code == 200, (expression, page.text)
        assert [c["No"] for c in page.json()["value"]] == expected[:1], expression
    ordered = nav.http.get(url, params={"$orderby": "No desc", "$top": "3"}).json()
    assert [c["No"] for c in ordered["value"]] == ["50000", "40000"]
    assert [c["No"] for c in nav.http.get(ordered["@odata.nextLink"]).json()["value"]] == ["30000"]


def test_soap_and_odata_are_served_on_two_ports_each_only_its_own(nav: Nav) -> None:
    assert nav.url != nav.odata_root
    odata_path = urlsplit(nav.odata_url(CUSTOMERS)).path
    assert nav.http.get(f"{nav.odata_root}{odata_path}").status_code == 200
    on_soap_port = nav.http.get(odata_path)
    assert on_soap_port.status_code == 404
    assert on_soap_port.headers["content-type"].startswith("text/plain")
    wsdl_path = nav.page_url(CUSTOMERS)
    assert nav.http.get(wsdl_path).status_code == 200
    on_odata_port = nav.http.get(f"{nav.odata_root}{wsdl_path}")
    assert on_odata_port.status_code == 404
    assert _error(on_odata_port.json())[0] == "BadRequest_ResourceNotFound"
    # The admin routes answer on both ports.
    for root in (nav.url, nav.odata_root):
        assert nav.http.get(f"{root}/_emulator/job-queue").status_code == 200


def test_next_link_is_a_valid_url_with_the_company_percent_encoded(nav: Nav) -> None:
    url = nav.odata_url(CUSTOMERS)
    first = nav.http.get(url, params={"$filter": "No ge '10000'"}).json()
    next_link = first["@odata.nextLink"]
    assert " " not in next_link and "'" not in next_link.split("?", 1)[1]
    context_company = first["@odata.context"].split("#", 1)[1].split("/", 1)[0]
    assert next_link.startswith(f"{nav.odata_base}/{context_company}/{CUSTOMERS}?")
    assert context_company == "Company('CRONUS%20International%20Ltd.')"
    query = parse_qs(urlsplit(next_link).query)
    assert query["$filter"] == ["No ge '10000'"] and query["$skiptoken"] == ["'20000'"]
    second = nav.http.get(next_link).json()
    assert [c["No"] for c in second["value"]] == ["30000", "40000"]


@pytest.mark.parametrize(
    ("service", "expression", "types"),
    [
        (CUSTOMERS, "No eq 10000", "'Edm.String' and 'Edm.Int32' for operator kind 'Equal'"),
        (CUSTOMERS, "Name ge 1.5", "'Edm.String' and 'Edm.Decimal' for operator kind "
         "'GreaterThanOrEqual'"),
        ("TlpInvoiceLineWS", "Quantity gt '1'", "'Edm.Decimal' and 'Edm.String' for operator "
         "kind 'GreaterThan'"),
    ],
)  # fmt: skip
def test_comparing_a_number_with_a_text_is_refused(
    nav: Nav, service: str, expression: str, types: str
) -> None:
    response = nav.http.get(nav.odata_url(service), params={"$filter": expression})
    assert response.status_code == 400
    assert _error(response.json()) == (
        "BadRequest",
        f"A binary operator with incompatible types was detected. Found operand types {types}.",
    )


def test_or_across_fields_and_bad_syntax_are_errors(nav: Nav) -> None:
    url = nav.odata_url(CUSTOMERS)
    across = nav.http.get(url, params={"$filter": "No eq '10000' or Name eq 'X'"})
    assert across.status_code == 400
    assert _error(across.json())[0] == "BadRequest_MethodNotImplemented"
    syntax = nav.http.get(url, params={"$filter": "No eq"})
    assert syntax.status_code == 400
    assert _error(syntax.json()) == ("BadRequest_NotFound", "Bad Request - Error in query syntax.")
    unknown = nav.http.get(nav.odata_url("NoSuchService"))
    assert unknown.status_code == 404
    assert _error(unknown.json()) == (
        "BadRequest_ResourceNotFound",
        "Resource not found for the segment 'NoSuchService'.",
    )


def test_entity_by_key_etag_and_patch(nav: Nav) -> None:
    created = nav.http.post(
        nav.odata_url("TlpInvoiceNavWS"),
        json={"Sell_to_Customer_No": "10000", "External_Document_No": "PSA-77"},
    )
    assert created.status_code == 201, created.text
    document = created.json()
    assert document["No"] == "103001" and document["Document_Type"] == "Invoice"
    assert document["Posting_Date"] == "2026-11-24T00:00:00Z"
    assert document["Sell_to_Customer_Name"] == "The Cannon Group PLC"
    assert created.headers["etag"] == document["@odata.etag"]
    assert created.headers["location"].endswith(
        "TlpInvoiceNavWS(Document_Type='Invoice',No='103001')"
    )
    inner = base64.b64decode(document["@odata.etag"][3:-1]).decode()
    assert inner == f"'{document['ETag']}'"
    url = nav.odata_url("TlpInvoiceNavWS(Document_Type='Invoice',No='103001')")
    fetched = nav.http.get(url).json()
    assert fetched["@odata.etag"] == document["@odata.etag"]
    soap_key = nav.read("TlpInvoiceNavWS", Document_Type="Invoice", No="103001")
    assert soap_key is not None and soap_key["Key"] == document["ETag"]

    missing_token = nav.http.patch(url, json={"Your_Reference": "A"})
    assert missing_token.status_code == 400
    assert _error(missing_token.json())[0] == "BadRequest_InvalidToken"
    changed = nav.http.patch(
        url, json={"Your_Reference": "A"}, headers={"If-Match": document["@odata.etag"]}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["Your_Reference"] == "A"
    assert changed.json()["@odata.etag"] != document["@odata.etag"]
    stale = nav.http.patch(
        url, json={"Your_Reference": "B"}, headers={"If-Match": document["@odata.etag"]}
    )
    assert stale.status_code == 412
    assert _error(stale.json()) == (
        "Request_EntityChanged",
        "Another user has already changed the record.",
    )
    forced = nav.http.patch(url, json={"Your_Reference": "C"}, headers={"If-Match": "*"})
    assert forced.status_code == 200 and forced.json()["Your_Reference"] == "C"
    invalid = nav.http.patch(url, json={"Your_Reference": "D"}, headers={"If-Match": 'W/"garbage"'})
    assert invalid.status_code == 400
    read_only = nav.http.patch(url, json={"Amount": 5}, headers={"If-Match": "*"})
    assert read_only.status_code == 400
    assert _error(read_only.json()) == (
        "BadRequest_InvalidOperation",
        "Control 'Amount' is read-only.",
    )
    unknown = nav.http.patch(url, json={"Colour": "red"}, headers={"If-Match": "*"})
    assert unknown.status_code == 400 and _error(unknown.json())[0] == "BadRequest"


def test_lines_by_composite_key_and_delete(nav: Nav) -> None:
    nav.http.post(nav.odata_url("TlpInvoiceNavWS"), json={"Sell_to_Customer_No": "10000"})
    line = nav.http.post(
        nav.odata_url("TlpInvoiceLineWS"),
        json={"Document_No": "103001", "Type": "Item", "No": "70000", "Quantity": 1.5},
    )
    assert line.status_code == 201, line.text
    body = line.json()
    assert body["Type"] == "Item" and body["Amount_Including_VAT"] == 1875
    url = nav.odata_url(
        "TlpInvoiceLineWS(Document_Type='Invoice',Document_No='103001',Line_No=10000)"
    )
    assert nav.http.get(url).json()["Description"] == "Consultancy hour"
    assert nav.http.delete(url).status_code == 400
    assert nav.http.delete(url, headers={"If-Match": body["@odata.etag"]}).status_code == 204
    gone = nav.http.get(url)
    assert gone.status_code == 404
    assert _error(gone.json())[0] == "Internal_RecordNotFound"


def test_validation_errors_and_refused_methods(nav: Nav) -> None:
    long_name = nav.http.post(nav.odata_url(CUSTOMERS), json={"Name": "N" * 57})
    assert long_name.status_code == 400
    code, message = _error(long_name.json())
    assert code == "Application_StringExceededLength"
    assert message.startswith(
        "The length of the string is 57, but it must be less than or equal to 50"
    )
    refused = nav.http.post(nav.odata_url("TlpPostedInvoiceNavWS"), json={"No": "1"})
    assert refused.status_code == 405
    assert _error(refused.json())[0] == "BadRequest_MethodNotAllowed"
    blocked = nav.http.post(nav.odata_url("TlpInvoiceNavWS"), json={"Sell_to_Customer_No": "40000"})
    assert blocked.status_code == 400 and _error(blocked.json())[0] == "Application_DialogException"


def test_company_query_parameter_and_missing_company(nav: Nav) -> None:
    by_query = nav.http.get(
        f"{nav.odata_base}/{CUSTOMERS}", params={"company": "TEST", "$top": "1"}
    )
    assert by_query.status_code == 200 and by_query.json()["value"][0]["No"] == "10000"
    missing = nav.http.get(f"{nav.odata_base}/{CUSTOMERS}")
    assert missing.status_code == 400
    assert _error(missing.json())[0] == "Internal_CompanyNotFound"
    unquoted = nav.http.get(f"{nav.odata_base}/Company('CRONUS International Ltd.')/{CUSTOMERS}")
    assert unquoted.status_code == 200
