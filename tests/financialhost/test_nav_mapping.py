"""NAV plugin mapping: pure functions, no HTTP."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from ledgerlink.financialhost.nav import mapping
from ledgerlink.financialhost.nav.settings import NavSettings
from ledgerlink.wire.operations import DocumentKind, LineKind, WireCustomer, WireDocument, WireLine


def _settings(**values: Any) -> NavSettings:
    return NavSettings(
        soap_url="http://nav:7047/DynamicsNAV100/WS/",
        odata_url="http://nav:7048/DynamicsNAV100/ODataV4/",
        company="C",
        username="U",
        **values,
    )


def _document(**values: Any) -> WireDocument:
    base: dict[str, Any] = {
        "kind": "invoice",
        "correlation": "LL-INV-42",
        "customer_number": "10000",
        "currency": "DKK",
        "invoice_date": date(2026, 11, 24),
        "due_date": date(2026, 12, 8),
        "lines": (WireLine(kind=LineKind.TEXT, description="x"),),
        "expected_net": Decimal(0),
        "expected_gross": Decimal(0),
    }
    return WireDocument(**{**base, **values})


def test_settings_with_one_base_url_name_the_two_that_replace_it() -> None:
    old = {"base_url": "http://nav:7047/DynamicsNAV100", "company": "C", "username": "U"}
    with pytest.raises(ValueError, match="base_url is replaced by soap_url and odata_url"):
        NavSettings.model_validate(old)


def test_settings_defaults_and_services() -> None:
    settings = _settings(services={"invoice": "MyInvoiceWS"})
    assert settings.soap_url == "http://nav:7047/DynamicsNAV100/WS"
    assert settings.odata_url == "http://nav:7048/DynamicsNAV100/ODataV4"
    assert settings.service("invoice") == "MyInvoiceWS"
    assert settings.service("customer") == "TlpCustomerNavWS"
    assert settings.invoice_line_type == 2 and settings.project_dimension == 2
    assert settings.department_dimension == 1


def test_header_truncations_and_blank_lcy_currency() -> None:
    document = _document(
        heading="H" * 80,
        customer_reference="R" * 40,
        requisition_number="PO-" + "9" * 30,
        correlation="c" * 35,
        salesperson="ah",
    )
    header = mapping.header_values(document, _settings(), contact_name="N" * 60)
    assert header["Currency_Code"] == ""
    assert len(header["Posting_Description"]) == 50
    assert len(header["Your_Reference"]) == 30
    assert len(header["Quote_No"]) == 20
    assert header["External_Document_No"] == "c" * 35
    assert len(header["Sell_to_Contact"]) == 50 == len(header["Bill_to_Contact"])
    assert header["Salesperson_Code"] == "AH"
    assert header["Document_Date"] == header["Posting_Date"] == header["Order_Date"]
    assert header["Due_Date"] == "2026-12-08"
    assert header["Document_Type"] == "Invoice"
    foreign = mapping.header_values(_document(currency="EUR"), _settings())
    assert foreign["Currency_Code"] == "EUR"
    assert mapping.currency_code("dkk", "DKK") == ""


def test_ean_requisition_overrides() -> None:
    ean, quote = mapping.ean_and_quote(_document(requisition_number="EAN 5790001234567", ean="1"))
    assert (ean, quote) == ("5790001234567", "")
    ean, quote = mapping.ean_and_quote(_document(ean="57900 0000001299"))
    assert ean == "5790000000012" and len(ean) == 13 and quote == ""


def test_dimension_placement_per_settings() -> None:
    default = mapping.dimension_values("P1000", "ADM", _settings())
    assert default == {"Shortcut_Dimension_2_Code": "P1000", "Shortcut_Dimension_1_Code": "ADM"}
    swapped = mapping.dimension_values("P1000", "ADM", _settings(project_dimension=1))
    assert swapped == {"Shortcut_Dimension_1_Code": "P1000", "Shortcut_Dimension_2_Code": "ADM"}
    only_2 = mapping.dimension_values("P1000", "ADM", _settings(use_dimension_1=False))
    assert only_2 == {"Shortcut_Dimension_2_Code": "P1000"}
    assert mapping.dimension_values("", "", _settings()) == {}
    header = mapping.header_values(_document(project_number="P1", department="D"), _settings())
    assert header["Shortcut_Dimension_2_Code"] == "P1"
    line = WireLine(
        kind=LineKind.WORK, description="w", product_number="70000", project_number="P9"
    )
    (row,) = mapping.line_values(line, DocumentKind.INVOICE, _settings())
    assert row["Shortcut_Dimension_2_Code"] == "P9"


def test_line_types_and_text_lines() -> None:
    work = WireLine(
        kind=LineKind.WORK,
        description="Consulting",
        product_number="70000",
        quantity=Decimal("2.5"),
        unit_price=Decimal("1000.00"),
        discount_percent=Decimal(10),
        unit="hours",
    )
    for setting, expected in ((1, "G_L_Account"), (2, "Item"), (3, "Resource")):
        (row,) = mapping.line_values(
            work, DocumentKind.INVOICE, _settings(invoice_line_type=setting)
        )
        assert row["Type"] == expected and row["No"] == "70000"
        assert row["Quantity"] == "2.5" and row["Unit_Price"] == "1000.00"
        assert row["Line_Discount_Percent"] == "10"
        assert "Unit_of_Measure_Code" not in row
    text = WireLine(kind=LineKind.TEXT, description="Period: November")
    (row,) = mapping.line_values(text, DocumentKind.INVOICE, _settings())
    assert row == {"Type": "_blank_", "Description": "Period: November"}
    (as_text,) = mapping.line_values(work, DocumentKind.INVOICE, _settings(invoice_line_type=0))
    assert as_text == {"Type": "_blank_", "Description": "Consulting"}


def test_date_prefix_and_long_text_stay_within_50() -> None:
    line = WireLine(
        kind=LineKind.WORK,
        description="Analysis of the requirements for the new invoicing integration module",
        product_number="70000",
        quantity=Decimal(1),
        day=date(2026, 11, 3),
    )
    rows = mapping.line_values(line, DocumentKind.INVOICE, _settings(include_date_in_lines=True))
    assert rows[0]["Description"].startswith("03-11-2026 Analysis")
    assert all(len(row["Description"]) <= 50 for row in rows)
    assert [row["Type"] for row in rows] == ["Item", "_blank_"]
    joined = " ".join(row["Description"] for row in rows)
    assert joined == "03-11-2026 " + line.description
    plain = mapping.line_values(line, DocumentKind.INVOICE, _settings())
    assert not plain[0]["Description"].startswith("03-11")
    assert mapping.split_text("x" * 120, 50) == ["x" * 50, "x" * 50, "x" * 20]


def test_credit_note_signs() -> None:
    line = WireLine(
        kind=LineKind.WORK, description="w", product_number="70000", quantity=Decimal(-3)
    )
    (row,) = mapping.line_values(line, DocumentKind.CREDIT_NOTE, _settings())
    assert row["Quantity"] == "3"
    assert mapping.document_type(DocumentKind.CREDIT_NOTE) == "Credit_Memo"
    header = {"No": "104001", "Amount": "3000", "Amount_Including_VAT": "3750"}
    result = mapping.document_result(
        header, correlation="c", lcy_code="DKK", posted=False, credit=True
    )
    assert (result.net, result.vat, result.gross) == (Decimal(-3000), Decimal(-750), Decimal(-3750))
    assert result.currency == "DKK" and result.document_number == "104001"
    posted = mapping.document_result(
        {**header, "No": "109001", "Pre_Assigned_No": "104001", "Currency_Code": "EUR"},
        correlation="c",
        lcy_code="DKK",
        posted=True,
        credit=False,
    )
    assert posted.booked_number == "109001" and posted.external_id == "104001"
    assert posted.currency == "EUR" and posted.gross == Decimal(3750)


def test_customer_values_template_and_truncation() -> None:
    customer = WireCustomer(
        number="c900",
        name="N" * 70,
        address_lines=("A" * 60, "Floor 2", "Back door"),
        currency="DKK",
        ean="5790000000012",
        blocked=True,
    )
    template = {"Gen_Bus_Posting_Group": "DOMESTIC", "VAT_Bus_Posting_Group": "DOMESTIC",
                "Customer_Posting_Group": "DOMESTIC", "Payment_Terms_Code": "14 DAYS"}  # fmt: skip
    values = mapping.customer_values(customer, _settings(), template=template)
    assert values["No"] == "C900" and len(values["Name"]) == 50
    assert len(values["Address"]) == 50 and values["Address_2"] == "Floor 2, Back door"
    assert values["Country_Region_Code"] == "DK" and values["Currency_Code"] == ""
    assert values["Gen_Bus_Posting_Group"] == "DOMESTIC" and values["Blocked"] == "All"
    assert "Gen_Bus_Posting_Group" not in mapping.customer_values(customer, _settings())


def test_decimals_are_never_floats() -> None:
    assert mapping.parse_decimal("0.1") + mapping.parse_decimal("0.2") == Decimal("0.3")
    assert mapping.decimal_text(Decimal("1E+3")) == "1000"
    assert mapping.nav_date("0001-01-01") is None
    assert mapping.nav_date("2026-11-24T00:00:00Z") == date(2026, 11, 24)
    assert mapping.filter_literal("a'b|c") == "'a''b|c'"


def test_hints_for_known_nav_texts() -> None:
    assert "currency" in mapping.hint_for(
        "The field Currency Code of table Sales Header contains a value (XYZ) that cannot be "
        "found in the related table (Currency)."
    )
    assert "posting groups" in mapping.hint_for(
        "The VAT Posting Setup does not exist. Identification fields and values: …"
    )
    assert "dimension" in mapping.hint_for(
        "The dimension value P9 has not been set up for dimension PROJECT."
    )
    assert "longer" in mapping.hint_for("The length of the string is 60, but it must be …")
    assert "blocked" in mapping.hint_for(
        "You cannot create this type of document when Customer 40000 is blocked with type All"
    )
    assert mapping.hint_for("Something else") == ""


def test_nav_error_texts_name_their_field() -> None:
    from ledgerlink.financialhost.nav.mapping import field_errors_of

    relation = (
        "The field No. of table Sales Line contains a value (NO-SUCH) that cannot be found in "
        "the related table (Item)."
    )
    (problem,) = field_errors_of(relation)
    assert (problem.path, problem.value) == ("Sales Line.No.", "NO-SUCH")
    (length,) = field_errors_of(
        "The length of the string is 57, but it must be less than or equal to 50 characters. "
        "Value: A VERY LONG NAME"
    )
    assert length.value == "A VERY LONG NAME"
    (missing,) = field_errors_of("Customer Posting Group must have a value in Customer: No.=C1.")
    assert missing.path == "Customer.Customer Posting Group"
    assert field_errors_of("Something else went wrong.") == ()


def test_vat_zone_of_a_new_customer() -> None:
    from ledgerlink.financialhost.nav.mapping import vat_zone

    assert vat_zone("DK", home="DK") == "domestic"
    assert vat_zone("NL", home="DK") == "eu"
    assert vat_zone("NO", home="DK") == "export"
