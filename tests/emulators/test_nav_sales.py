"""NAV emulator: sales documents (page logic, validation, VAT, dimensions), posting, payments,
and the other TimeLog tables (employees, contacts, expenses)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.emulators.test_nav_support import Nav, SoapFault, serve_nav

HEADERS = "TlpInvoiceNavWS"
LINES = "TlpInvoiceLineWS"


@pytest.fixture
def nav() -> Iterator[Nav]:
    with serve_nav() as client:
        yield client


def _invoice(nav: Nav, **values: Any) -> dict[str, str]:
    return nav.create(HEADERS, {"Sell_to_Customer_No": "10000", **values})


def _line(nav: Nav, document: dict[str, str], **values: Any) -> dict[str, str]:
    fields = {"Document_Type": document["Document_Type"], "Document_No": document["No"], **values}
    return nav.create(LINES, fields)


def _fault(nav: Nav, service: str, values: dict[str, Any]) -> SoapFault:
    with pytest.raises(SoapFault) as problem:
        nav.create(service, values)
    return problem.value


def test_invoice_header_is_filled_from_the_customer(nav: Nav) -> None:
    header = _invoice(nav, External_Document_No="PSA-2026-17", Your_Reference="Mr. Teal")
    assert header["Document_Type"] == "Invoice"
    assert header["No"] == "103001"
    assert header["Sell_to_Customer_Name"] == "The Cannon Group PLC"
    assert header["Bill_to_Customer_No"] == "10000"
    assert header["Bill_to_Name"] == "The Cannon Group PLC"
    assert header["Sell_to_Contact"] == "Andy Teal"
    assert header["Salesperson_Code"] == "JR"
    assert header["Posting_Date"] == header["Document_Date"] == "2026-11-24"
    assert header["Due_Date"] == "2026-12-08"  # 14 DAYS
    assert header["Posting_Description"] == "Invoice 103001"
    assert "Currency_Code" not in header  # LCY is blank
    explicit = _invoice(nav, Document_Date="2026-11-30", Due_Date="2027-01-15")
    assert explicit["No"] == "103002" and explicit["Due_Date"] == "2027-01-15"
    recomputed = _invoice(nav, Document_Date="2026-11-30")
    assert recomputed["Due_Date"] == "2026-12-14"
    euro = nav.create(HEADERS, {"Sell_to_Customer_No": "20000"})
    assert euro["Currency_Code"] == "EUR" and euro["Due_Date"] == "2026-12-24"
    memo = nav.create(HEADERS, {"Document_Type": "Credit_Memo", "Sell_to_Customer_No": "10000"})
    assert memo["No"] == "104001" and memo["Posting_Description"] == "Credit Memo 104001"


def test_lines_compute_amounts_vat_and_header_totals(nav: Nav) -> None:
    header = _invoice(nav)
    item = _line(nav, header, Type="Item", No="70000", Quantity="3", Line_Discount_Percent="10")
    assert item["Line_No"] == "10000"
    assert item["Description"] == "Consultancy hour"
    assert item["Unit_of_Measure_Code"] == "HOUR"
    assert item["Unit_Price"] == "1000"
    assert item["VAT_Percent"] == "25"
    assert item["Line_Amount"] == item["Amount"] == "2700"
    assert item["Amount_Including_VAT"] == "3375"
    account = _line(
        nav, header, Type="G_L_Account", No="6410", Description="Fee", Quantity="1",
        Unit_Price="0.125",
    )  # fmt: skip
    assert account["Line_No"] == "20000"
    assert account["Amount"] == "0.13"  # half up, per line
    assert account["Amount_Including_VAT"] == "0.16"
    text = _line(nav, header, Description="Period: November")
    assert text["Type"] == "_blank_" and text["Amount"] == "0"
    current = nav.read(HEADERS, Document_Type="Invoice", No=header["No"])
    assert current is not None
    assert current["Amount"] == "2700.13"
    assert current["Amount_Including_VAT"] == "3375.16"


def test_prices_including_vat_and_export_customers(nav: Nav) -> None:
    header = _invoice(nav, Prices_Including_VAT="true")
    line = _line(nav, header, Type="Item", No="1100", Quantity="2")
    assert line["Line_Amount"] == "241" and line["Amount"] == "192.8"
    assert line["Amount_Including_VAT"] == "241"
    export = nav.create(HEADERS, {"Sell_to_Customer_No": "30000"})
    usd = _line(nav, export, Type="Resource", No="LINA", Quantity="2")
    assert usd["VAT_Percent"] == "0" and usd["Amount_Including_VAT"] == "1900"


def test_dimensions_are_inherited_and_validated(nav: Nav) -> None:
    header = _invoice(nav, Shortcut_Dimension_1_Code="SALES", Shortcut_Dimension_2_Code="P1000")
    inherited = _line(nav, header, Type="Item", No="70000", Quantity="1")
    assert inherited["Shortcut_Dimension_1_Code"] == "SALES"
    assert inherited["Shortcut_Dimension_2_Code"] == "P1000"
    own = _line(
        nav, header, Type="Item", No="70000", Quantity="1", Shortcut_Dimension_2_Code="p1001"
    )
    assert own["Shortcut_Dimension_2_Code"] == "P1001"
    blocked = _fault(
        nav, HEADERS, {"Sell_to_Customer_No": "10000", "Shortcut_Dimension_2_Code": "P0999"}
    )
    assert blocked.message == "Dimension Value PROJECT - P0999 is blocked."
    missing = _fault(
        nav, HEADERS, {"Sell_to_Customer_No": "10000", "Shortcut_Dimension_1_Code": "NOPE"}
    )
    assert (
        missing.message == "The dimension value NOPE has not been set up for dimension DEPARTMENT."
    )
    pushed = nav.create(
        "TlpDimensionValueWS", {"Dimension_Code": "PROJECT", "Code": "P2000", "Name": "New"}
    )
    assert pushed["Code"] == "P2000"
    current = nav.read(HEADERS, Document_Type="Invoice", No=header["No"])
    assert current is not None
    updated = nav.update(HEADERS, {"Key": current["Key"], "Shortcut_Dimension_2_Code": "P2000"})
    assert updated["Shortcut_Dimension_2_Code"] == "P2000"
    lines = nav.read_multiple(LINES, [("Document_No", header["No"])])
    assert [line["Shortcut_Dimension_2_Code"] for line in lines] == ["P2000", "P1001"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"Type": "Item", "No": "80000"},
            "Blocked must be equal to 'No'  in Item: No.=80000. Current value is 'Yes'.",
        ),
        (
            {"Type": "Item", "No": "99999"},
            "The field No. of table Sales Line contains a value (99999) that cannot be found in "
            "the related table (Item).",
        ),
        (
            {"Type": "G_L_Account", "No": "6000"},
            "Account Type must be equal to 'Posting'  in G/L Account: No.=6000. Current value "
            "is 'Heading'.",
        ),
        (
            {"Type": "G_L_Account", "No": "6130"},
            "Direct Posting must be equal to 'Yes'  in G/L Account: No.=6130. Current value "
            "is 'No'.",
        ),
        (
            {"Type": "Resource", "No": "MARTY"},
            "Blocked must be equal to 'No'  in Resource: No.=MARTY. Current value is 'Yes'.",
        ),
        (
            {"Description": "Text", "Quantity": "2"},
            "Type must have a value in Sales Line: Document Type=Invoice,Document No.=103001,"
            "Line No.=0. It cannot be zero or empty.",
        ),
    ],
)
def test_line_validation_uses_nav_texts(nav: Nav, values: dict[str, str], message: str) -> None:
    header = _invoice(nav)
    problem = _fault(
        nav, LINES, {"Document_Type": "Invoice", "Document_No": header["No"], **values}
    )
    assert problem.message == message
    assert nav.read_multiple(LINES, [("Document_No", header["No"])]) == []


def test_header_validation_uses_nav_texts(nav: Nav) -> None:
    assert _fault(nav, HEADERS, {"Sell_to_Customer_No": "99999"}).message == (
        "The Customer does not exist. Identification fields and values: No.='99999'"
    )
    assert _fault(nav, HEADERS, {"Sell_to_Customer_No": "40000"}).message == (
        "You cannot create this type of document when Customer 40000 is blocked with type All"
    )
    currency = _fault(nav, HEADERS, {"Sell_to_Customer_No": "10000", "Currency_Code": "DKK"})
    assert currency.message == (
        "The field Currency Code of table Sales Header contains a value (DKK) that cannot be "
        "found in the related table (Currency)."
    )
    assert currency.code.endswith("NavCSideValidateTableRelationException")
    long_reference = _fault(
        nav, HEADERS, {"Sell_to_Customer_No": "10000", "Your_Reference": "x" * 31}
    )
    assert long_reference.message.startswith("The length of the string is 31, but it must be less")
    orphan = _fault(nav, LINES, {"Document_No": "103999", "Type": "Item", "No": "1000"})
    assert orphan.message == (
        "The Sales Header does not exist. Identification fields and values: "
        "Document Type='Invoice',No.='103999'"
    )
    # Nothing of the failed calls was kept (a call is one transaction).
    assert _invoice(nav)["No"] == "103001"


def test_changing_the_customer_of_a_document_with_lines_needs_a_dialog(nav: Nav) -> None:
    header = _invoice(nav)
    _line(nav, header, Type="Item", No="70000", Quantity="1")
    current = nav.read(HEADERS, Document_Type="Invoice", No=header["No"])
    assert current is not None
    with pytest.raises(SoapFault) as callback:
        nav.update(HEADERS, {"Key": current["Key"], "Sell_to_Customer_No": "20000"})
    assert callback.value.message == "Callback functions are not allowed."


def test_post_and_pay_an_invoice(nav: Nav) -> None:
    header = _invoice(nav, External_Document_No="PSA-1")
    _line(nav, header, Type="Item", No="70000", Quantity="2")
    _line(nav, header, Description="A text line")
    posted = nav.company_admin("POST", f"/sales-documents/Invoice/{header['No']}/post")
    assert posted.status_code == 201, posted.text
    document = posted.json()
    assert document["posted_no"] == "108001" and document["pre_assigned_no"] == header["No"]
    assert nav.read(HEADERS, Document_Type="Invoice", No=header["No"]) is None
    assert nav.read_multiple(LINES, [("Document_No", header["No"])]) == []
    invoice = nav.read("TlpPostedInvoiceNavWS", No="108001")
    assert invoice is not None
    assert invoice["Pre_Assigned_No"] == header["No"]
    assert invoice["External_Document_No"] == "PSA-1"
    assert invoice["Amount"] == "2000" and invoice["Amount_Including_VAT"] == "2500"
    assert invoice["Remaining_Amount"] == "2500" and invoice["Closed"] == "false"
    lines = nav.read_multiple("TlpPostedInvoiceLineWS", [("Document_No", "108001")])
    assert [line["Line_No"] for line in lines] == ["10000", "20000"]
    partial = nav.company_admin("POST", "/posted/108001/payments", {"amount": "1000.00"})
    assert partial.json()["closed"] is False
    after_partial = nav.read("TlpPostedInvoiceNavWS", No="108001")
    assert after_partial is not None and after_partial["Remaining_Amount"] == "1500"
    too_much = nav.company_admin("POST", "/posted/108001/payments", {"amount": "1600"})
    assert too_much.status_code == 400
    rest = nav.company_admin("POST", "/posted/108001/payments", {"amount": "1500"})
    assert rest.json()["closed"] is True
    paid = nav.read("TlpPostedInvoiceNavWS", No="108001")
    assert paid is not None and paid["Remaining_Amount"] == "0" and paid["Closed"] == "true"
    with pytest.raises(SoapFault):
        nav.update("TlpPostedInvoiceNavWS", {"Key": paid["Key"], "Your_Reference": "x"})


def test_post_a_credit_memo_and_refund_it(nav: Nav) -> None:
    memo = nav.create(HEADERS, {"Document_Type": "Credit_Memo", "Sell_to_Customer_No": "20000"})
    _line(nav, memo, Type="G_L_Account", No="6410", Quantity="1", Unit_Price="100")
    posted = nav.company_admin("POST", f"/sales-documents/Credit_Memo/{memo['No']}/post").json()
    assert posted["posted_no"] == "109001"
    document = nav.read("TlpPostedCrMemoNavWS", No="109001")
    assert document is not None
    assert document["Pre_Assigned_No"] == "104001" and document["Currency_Code"] == "EUR"
    assert document["Remaining_Amount"] == "-100"
    refunded = nav.company_admin("POST", "/posted/109001/payments", {"amount": "100"}).json()
    assert refunded["closed"] is True


def test_posting_refuses_empty_and_incomplete_documents(nav: Nav) -> None:
    header = _invoice(nav)
    _line(nav, header, Description="Only text")
    empty = nav.company_admin("POST", f"/sales-documents/Invoice/{header['No']}/post")
    assert empty.status_code == 400
    assert empty.json()["error"]["message"] == "There is nothing to post."
    missing = nav.company_admin("POST", "/sales-documents/Invoice/100000/post")
    assert missing.status_code == 404
    nav.create(
        "TlpCustomerNavWS",
        {"No": "60000", "Name": "No groups", "VAT_Bus_Posting_Group": "DOMESTIC"},
    )
    bare = nav.create(HEADERS, {"Sell_to_Customer_No": "60000"})
    _line(nav, bare, Type="Item", No="1000", Quantity="1")
    refused = nav.company_admin("POST", f"/sales-documents/Invoice/{bare['No']}/post").json()
    assert refused["error"]["message"] == (
        "Customer Posting Group must have a value in Customer: No.=60000. "
        "It cannot be zero or empty."
    )
    assert refused["error"]["code"] == "Application_FieldValidationException"


def test_employee_template_contacts_and_relations(nav: Nav) -> None:
    employee = nav.create(
        "TlpEmployeeNavWS", {"No": "KBJ", "First_Name": "Karen", "Last_Name": "Berg"}
    )
    assert employee["Job_Title"] == "Consultant"
    assert employee["Global_Dimension_1_Code"] == "PROD"
    company = nav.create("TlpContactNavWS", {"Type": "Company", "Name": "Fabrikam A/S"})
    assert company["No"] == "CT000010" and company["Company_Name"] == "Fabrikam A/S"
    person = nav.create(
        "TlpContactNavWS", {"Type": "Person", "Name": "Ole", "Company_No": company["No"]}
    )
    assert person["Company_Name"] == "Fabrikam A/S"
    customer = nav.create("TlpCustomerNavWS", {"Name": "Fabrikam A/S"})
    relation = nav.create(
        "TlpCustomerContactWS",
        {"Contact_No": company["No"], "Business_Relation_Code": "CUST", "Link_to_Table": "Customer",
         "No": customer["No"]},
    )  # fmt: skip
    assert relation["No"] == customer["No"]
    bad = _fault(
        nav, "TlpCustomerContactWS",
        {"Contact_No": person["No"], "Business_Relation_Code": "CUST", "Link_to_Table": "Customer",
         "No": "NOPE"},
    )  # fmt: skip
    assert "related table (Customer)" in bad.message


def test_expense_pool_status_updates(nav: Nav) -> None:
    added = nav.company_admin(
        "POST",
        "/expenses",
        [{"G_L_Account_No": "8620", "Description": "Lunch", "Amount": "120.50", "Job_No": "P1001"}],
    )
    assert added.status_code == 201
    entries = nav.read_multiple("TlpExpenseNavWS", [("Status", "Open")])
    assert [e["Entry_No"] for e in entries] == ["1", "2"]
    assert entries[1]["Amount_LCY"] == "120.5"
    taken = nav.update("TlpExpenseNavWS", {"Key": entries[1]["Key"], "Status": "Taken"})
    assert taken["Status"] == "Taken" and taken["Last_Modified"].endswith("Z")
    assert [e["Entry_No"] for e in nav.read_multiple("TlpExpenseNavWS", [("Status", "Open")])] == [
        "1"
    ]
    with pytest.raises(SoapFault) as read_only:
        nav.update("TlpExpenseNavWS", {"Key": taken["Key"], "Amount": "1"})
    assert read_only.value.message == "Control 'Amount' is read-only"
    accounts = [a["G_L_Account_No"] for a in nav.read_multiple("TlpExpenseList")]
    assert accounts == ["8610", "8620"]
