"""NAV emulator: SOAP page and codeunit services, SystemService, service list, WSDL."""

from __future__ import annotations

import base64
import struct
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest

from tests.emulators.test_nav_support import (
    COMPANY,
    INSTANCE,
    SOAP_ENV,
    Nav,
    SoapFault,
    fields_of,
    local,
    serve_nav,
)

CUSTOMERS = "TlpCustomerNavWS"
STALE = "a:Microsoft.Dynamics.Nav.Service.WebServices.ServiceBrokerException"


@pytest.fixture
def nav() -> Iterator[Nav]:
    with serve_nav() as client:
        yield client


def test_read_returns_the_customer_with_a_key_in_nav_grammar(nav: Nav) -> None:
    customer = nav.read(CUSTOMERS, No="10000")
    assert customer is not None
    assert list(customer)[:3] == ["Key", "No", "Name"]
    assert customer["Name"] == "The Cannon Group PLC"
    assert customer["Blocked"] == "_blank_"
    assert "Currency_Code" not in customer  # blank text fields are left out, as NAV does
    record_id, version, last = _segments(customer["Key"])
    assert struct.unpack_from("<i", base64.b64decode(record_id))[0] == 18
    assert version.isdigit() and last == ""


def _segments(key: str) -> list[str]:
    values, position = [], 0
    while position < len(key):
        separator = key.index(";", position)
        length = int(key[position:separator])
        values.append(key[separator + 1 : separator + 1 + length])
        position = separator + 1 + length
    return values


def test_read_of_a_missing_record_is_an_empty_result_not_a_fault(nav: Nav) -> None:
    assert nav.read(CUSTOMERS, No="99999") is None


def test_read_multiple_filters_with_nav_syntax(nav: Nav) -> None:
    def numbers(*filters: tuple[str, str]) -> list[str]:
        return [c["No"] for c in nav.read_multiple(CUSTOMERS, list(filters))]

    assert numbers(("No", "20000..40000")) == ["20000", "30000", "40000"]
    assert numbers(("No", "..20000")) == ["10000", "20000"]
    assert numbers(("No", "40000..")) == ["40000", "50000"]
    assert numbers(("No", "10000|30000")) == ["10000", "30000"]
    assert numbers(("No", "<>10000"), ("No", "<30000")) == ["20000"]
    assert numbers(("Name", "*Ltd*")) == ["20000"]
    assert numbers(("Name", "@*cannon*")) == ["10000"]
    assert numbers(("Name", "*cannon*")) == []
    assert numbers(("Currency_Code", "''")) == ["10000", "40000"]
    assert numbers(("Currency_Code", "EUR|USD"), ("Payment_Terms_Code", "30 DAYS")) == ["20000"]
    assert numbers(("Blocked", "All")) == ["40000"]
    assert numbers(("Last_Date_Modified", ">=2026-11-24")) == [
        "10000",
        "20000",
        "30000",
        "40000",
        "50000",
    ]
    assert numbers(("", "")) == ["10000", "20000", "30000", "40000", "50000"]
    assert numbers(("No", "eur")) == []


def test_read_multiple_pages_with_bookmark_and_set_size(nav: Nav) -> None:
    first = nav.read_multiple(CUSTOMERS, set_size=2)
    assert [c["No"] for c in first] == ["10000", "20000"]
    second = nav.read_multiple(CUSTOMERS, bookmark=first[-1]["Key"], set_size=2)
    assert [c["No"] for c in second] == ["30000", "40000"]
    third = nav.read_multiple(CUSTOMERS, bookmark=second[-1]["Key"], set_size=2)
    assert [c["No"] for c in third] == ["50000"]
    assert nav.read_multiple(CUSTOMERS, bookmark=third[-1]["Key"], set_size=2) == []
    assert [c["No"] for c in nav.read_multiple(CUSTOMERS, set_size=0)] == [
        "10000", "20000", "30000", "40000", "50000",
    ]  # fmt: skip
    assert [c["No"] for c in nav.read_multiple(CUSTOMERS, set_size=-1)] == ["50000"]
    last_two = nav.read_multiple(CUSTOMERS, set_size=-2)
    assert [c["No"] for c in last_two] == ["50000", "40000"]
    before = nav.read_multiple(CUSTOMERS, bookmark=last_two[-1]["Key"], set_size=-2)
    assert [c["No"] for c in before] == ["30000", "20000"]


def test_empty_read_multiple_result_is_an_empty_wrapper(nav: Nav) -> None:
    result = nav.call(
        CUSTOMERS,
        '<ReadMultiple xmlns="NS"><filter><Field>No</Field><Criteria>X*</Criteria></filter>'
        "<setSize>10</setSize></ReadMultiple>",
    )
    assert local(result.tag) == "ReadMultiple_Result" and len(result) == 0


def test_create_assigns_the_number_series_and_update_changes_the_key(nav: Nav) -> None:
    created = nav.create(CUSTOMERS, {"Name": "Nordic Consulting ApS", "City": "Odense"})
    assert created["No"] == "C00010"
    assert created["Last_Date_Modified"] == "2026-11-24"
    assert nav.create(CUSTOMERS, {"Name": "Second"})["No"] == "C00011"
    updated = nav.update(CUSTOMERS, {"Key": created["Key"], "City": "Vejle"})
    assert updated["City"] == "Vejle" and updated["Name"] == "Nordic Consulting ApS"
    assert updated["Key"] != created["Key"]
    assert _segments(updated["Key"])[0] == _segments(created["Key"])[0]
    assert int(_segments(updated["Key"])[1]) > int(_segments(created["Key"])[1])


def test_update_with_a_stale_key_faults_like_nav(nav: Nav) -> None:
    customer = nav.read(CUSTOMERS, No="10000")
    assert customer is not None
    nav.update(CUSTOMERS, {"Key": customer["Key"], "City": "Roskilde"})
    with pytest.raises(SoapFault) as stale:
        nav.update(CUSTOMERS, {"Key": customer["Key"], "City": "Køge"})
    assert stale.value.status == 500
    assert stale.value.code == STALE
    assert stale.value.message == 'Other user has modified "Customer" "No.=CONST(10000)".'
    assert stale.value.detail == stale.value.message
    current = nav.read(CUSTOMERS, No="10000")
    assert current is not None and current["City"] == "Roskilde"


def test_fault_envelope_shape(nav: Nav) -> None:
    customer = nav.read(CUSTOMERS, No="10000")
    assert customer is not None
    nav.update(CUSTOMERS, {"Key": customer["Key"], "City": "Roskilde"})
    envelope = (
        f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body><Update xmlns="urn:microsoft-dynamics-schemas'
        f'/page/tlpcustomernavws"><TlpCustomerNavWS><Key>{customer["Key"]}</Key>'
        "<City>X</City></TlpCustomerNavWS></Update></s:Body></s:Envelope>"
    )
    response = nav.http.post(nav.page_url(CUSTOMERS), content=envelope)
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/xml")
    text = response.text
    assert text.startswith(f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body><s:Fault>')
    assert (
        '<faultcode xmlns:a="urn:microsoft-dynamics-schemas/error">a:Microsoft.Dynamics.Nav' in text
    )
    assert '<faultstring xml:lang="en-US">' in text
    assert '<detail><string xmlns="http://schemas.microsoft.com/2003/10/Serialization/">' in text


def test_delete_then_update_or_delete_again_says_it_does_not_exist(nav: Nav) -> None:
    created = nav.create(CUSTOMERS, {"Name": "Short-lived"})
    assert nav.delete(CUSTOMERS, created["Key"]) is True
    assert nav.read(CUSTOMERS, No=created["No"]) is None
    with pytest.raises(SoapFault) as gone:
        nav.update(CUSTOMERS, {"Key": created["Key"], "Name": "Again"})
    assert gone.value.message == f"Customer No. {created['No']} does not exist."
    assert gone.value.code.endswith("NavCSideRecordNotFoundException")


def test_duplicate_create_faults_with_identification_fields(nav: Nav) -> None:
    with pytest.raises(SoapFault) as duplicate:
        nav.create(CUSTOMERS, {"No": "10000", "Name": "Copy"})
    assert duplicate.value.message == (
        "The Customer already exists. Identification fields and values: No.='10000'"
    )
    assert duplicate.value.code.endswith("NavCSideDuplicateKeyException")


def test_string_length_is_enforced_with_nav_text(nav: Nav) -> None:
    name = "EXAMPLE CUSTOMER NAME THAT IS LONGER THAN FIFTY CHARS INC"
    with pytest.raises(SoapFault) as too_long:
        nav.create(CUSTOMERS, {"Name": name})
    assert too_long.value.message == (
        "The length of the string is 57, but it must be less than or equal to 50 characters. "
        f"Value: {name}"
    )
    assert too_long.value.code.endswith("NavNCLStringLengthExceededException")
    assert nav.read_multiple(CUSTOMERS, [("Name", "EXAMPLE*")]) == []


def test_is_updated_and_rec_id_round_trip(nav: Nav) -> None:
    customer = nav.read(CUSTOMERS, No="20000")
    assert customer is not None
    key = customer["Key"]

    def is_updated() -> str | None:
        return nav.call(CUSTOMERS, f'<IsUpdated xmlns="NS"><Key>{key}</Key></IsUpdated>')[0].text

    assert is_updated() == "false"
    rec_id = nav.call(CUSTOMERS, f'<GetRecIdFromKey xmlns="NS"><Key>{key}</Key></GetRecIdFromKey>')
    assert rec_id[0].text == "Customer: 20000"
    by_id = nav.call(
        CUSTOMERS, '<ReadByRecId xmlns="NS"><recId>Customer: 20000</recId></ReadByRecId>'
    )
    assert fields_of(by_id[0])["Name"] == "Selangorian Ltd."
    nav.update(CUSTOMERS, {"Key": key, "Phone_No": "+32 2 555 01 01"})
    assert is_updated() == "true"


def test_create_multiple_is_all_or_nothing(nav: Nav) -> None:
    body = (
        '<CreateMultiple xmlns="NS"><TlpSalesPersonWS_List>'
        "<TlpSalesPersonWS><Code>ZZ1</Code><Name>One</Name></TlpSalesPersonWS>"
        "<TlpSalesPersonWS><Code>ZZ2</Code><Name>Two</Name></TlpSalesPersonWS>"
        "</TlpSalesPersonWS_List></CreateMultiple>"
    )
    result = nav.call("TlpSalesPersonWS", body)
    assert local(result[0].tag) == "TlpSalesPersonWS_List"
    assert [fields_of(e)["Code"] for e in result[0]] == ["ZZ1", "ZZ2"]
    failing = body.replace("ZZ1", "ZZ3").replace("ZZ2", "AH")
    with pytest.raises(SoapFault):
        nav.call("TlpSalesPersonWS", failing)
    assert nav.read("TlpSalesPersonWS", Code="ZZ3") is None


def test_read_only_pages_refuse_writes_and_filters_name_page_fields(nav: Nav) -> None:
    with pytest.raises(SoapFault) as refused:
        nav.create("TlpProductNumberNavWS", {"No": "9999", "Description": "New"})
    assert "Insert is not allowed" in refused.value.message
    with pytest.raises(SoapFault) as unknown:
        nav.read_multiple(CUSTOMERS, [("Balance", "0")])
    assert "'Balance' is not a valid value for TlpCustomerNavWS_Fields" in unknown.value.message
    with pytest.raises(SoapFault) as read_only:
        nav.create(CUSTOMERS, {"Name": "X", "Last_Date_Modified": "2020-01-01"})
    assert read_only.value.message == "Control 'Last Date Modified' is read-only"


def test_soap_action_is_not_needed_and_company_is_percent_encoded(nav: Nav) -> None:
    namespace = "urn:microsoft-dynamics-schemas/page/tlpcustomernavws"
    body = (
        f'<Envelope xmlns="{SOAP_ENV}"><Body><Read xmlns="{namespace}"><No>10000</No></Read>'
        "</Body></Envelope>"
    )
    for headers in ({}, {"SOAPAction": f'"{namespace}:Read"'}, {"SOAPAction": "Read"}):
        response = nav.http.post(nav.page_url(CUSTOMERS), content=body, headers=headers)
        assert response.status_code == 200 and "The Cannon Group PLC" in response.text
    plus = f"/{INSTANCE}/WS/CRONUS+International+Ltd./Page/{CUSTOMERS}"
    assert nav.http.post(plus, content=body).status_code == 404
    assert nav.http.post(nav.page_url("NoSuchService"), content=body).status_code == 404
    test_company = nav.read_multiple(CUSTOMERS, set_size=1)
    assert test_company[0]["No"] == "10000"
    nav.create(CUSTOMERS, {"No": "77777", "Name": "Only in TEST"})
    other = nav.call(CUSTOMERS, '<Read xmlns="NS"><No>77777</No></Read>', company="TEST")
    assert len(other) == 0


def test_codeunit_functions_and_namespace_case(nav: Nav) -> None:
    namespace = "urn:microsoft-dynamics-schemas/codeunit/TlpFunctionsWS"
    path = nav.page_url("TlpFunctionsWS", kind="Codeunit")
    response = nav.post_soap(path, namespace, '<TestAccess xmlns="NS" />')
    root = ET.fromstring(response.content)
    result = root[0][0]
    assert result.tag == f"{{{namespace}}}TestAccess_Result"
    assert result.findtext(f"{{{namespace}}}return_value") == "true"
    version = ET.fromstring(nav.post_soap(path, namespace, '<GetVersion xmlns="NS" />').content)
    assert version[0][0].findtext(f"{{{namespace}}}return_value")
    wsdl = ET.fromstring(nav.http.get(path).content)
    assert wsdl.get("targetNamespace") == namespace


def test_system_service_companies_and_service_list(nav: Nav) -> None:
    namespace = "urn:microsoft-dynamics-schemas/nav/system/"
    response = nav.post_soap(f"/{INSTANCE}/WS/SystemService", namespace, '<Companies xmlns="NS" />')
    root = ET.fromstring(response.content)
    names = [e.text for e in root[0][0]]
    assert names == [COMPANY, "TEST"]
    disco = ET.fromstring(
        nav.http.get(f"/{INSTANCE}/WS/CRONUS%20International%20Ltd./services").content
    )
    refs = [e.get("ref") or "" for e in disco]
    assert any(
        ref.endswith("/WS/CRONUS%20International%20Ltd./Page/TlpInvoiceNavWS") for ref in refs
    )
    assert any(ref.endswith("/Codeunit/TlpFunctionsWS") for ref in refs)


def test_wsdl_describes_the_page(nav: Nav) -> None:
    wsdl = ET.fromstring(nav.http.get(nav.page_url("TlpInvoiceNavWS")).content)
    xsd = "{http://www.w3.org/2001/XMLSchema}"
    schema = wsdl.find(f"{{http://schemas.xmlsoap.org/wsdl/}}types/{xsd}schema")
    assert schema is not None
    entity = schema.find(f"{xsd}complexType[@name='TlpInvoiceNavWS']/{xsd}sequence")
    assert entity is not None
    names = [e.get("name") for e in entity]
    assert names[:3] == ["Key", "Document_Type", "No"]
    document_type = schema.find(f"{xsd}simpleType[@name='Document_Type']/{xsd}restriction")
    assert document_type is not None
    assert [e.get("value") for e in document_type][:4] == [
        "Quote",
        "Order",
        "Invoice",
        "Credit_Memo",
    ]
    read = schema.find(f"{xsd}element[@name='Read']/{xsd}complexType/{xsd}sequence")
    assert read is not None and [e.get("name") for e in read] == ["Document_Type", "No"]
    line_types = nav.http.get(nav.page_url("TlpInvoiceLineWS")).text
    assert '<xsd:enumeration value="_blank_" />' in line_types
    assert '<xsd:enumeration value="Charge_Item" />' in line_types
    assert (
        'soapAction="urn:microsoft-dynamics-schemas/page/tlpinvoicelinews:ReadMultiple"'
        in line_types
    )


def test_malformed_requests_fault(nav: Nav) -> None:
    response = nav.http.post(nav.page_url(CUSTOMERS), content=b"<not-xml")
    assert response.status_code == 500 and "<s:Fault>" in response.text
    namespace = "urn:microsoft-dynamics-schemas/page/tlpcustomernavws"
    wrong = nav.post_soap(nav.page_url(CUSTOMERS), namespace, '<Frobnicate xmlns="NS" />')
    assert wrong.status_code == 500
    bad_key = nav.post_soap(
        nav.page_url(CUSTOMERS), namespace, '<Delete xmlns="NS"><Key>12;garbage</Key></Delete>'
    )
    assert bad_key.status_code == 500 and "is not valid" in bad_key.text
