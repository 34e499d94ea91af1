"""Every e-conomic mapping rule, one test (or table) each. Pure: no HTTP."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ledgerlink.connectors.contract import Permanent, PostingStatus
from ledgerlink.connectors.economic import mapping
from ledgerlink.connectors.economic.dtos import (
    BookedInvoiceDto,
    CustomerDto,
    CustomerGroupRef,
    DraftInvoiceDto,
    EntryDto,
    LayoutRef,
    PaymentTermsRef,
    ProductDto,
    VatZoneRef,
    to_wire,
)
from ledgerlink.connectors.economic.settings import EconomicSettings
from ledgerlink.domain.invoices import InvoiceLine, LineKind, text_line
from ledgerlink.domain.money import Money
from ledgerlink.domain.parties import Address
from ledgerlink.domain.vat import VatTreatment
from tests.connectors.builders import (
    contact,
    credit_note,
    customer,
    dkk,
    employee,
    invoice,
    outgoing,
    work_line,
)

SETTINGS = EconomicSettings(layout_number=19, project_module=True)


def economic_customer(**changes: object) -> CustomerDto:
    fields: dict[str, object] = {
        "customer_number": 100,
        "name": "Hansen Byg A/S",
        "currency": "DKK",
        "customer_group": CustomerGroupRef(customer_group_number=1),
        "payment_terms": PaymentTermsRef(payment_terms_number=5),
        "vat_zone": VatZoneRef(vat_zone_number=1),
        "address": "Havnegade 1\n2. sal",
        "zip": "1058",
        "city": "København K",
        "country": "Denmark",
        "ean": "5790000123456",
    }
    return CustomerDto.model_validate(fields | changes)


def draft(document: object = None, **settings_changes: object) -> DraftInvoiceDto:
    doc = document if document is not None else outgoing()
    settings = SETTINGS.model_copy(update=settings_changes)
    return mapping.draft_invoice(
        doc,  # type: ignore[arg-type]
        customer=economic_customer(),
        settings=settings,
        departments={"1": "3"},
    )


# texts --------------------------------------------------------------------------------------


def test_heading_longer_than_250_is_shortened_at_a_word_with_an_ellipsis() -> None:
    long = "Consulting " * 30  # 330 characters
    result = mapping.heading(long)
    assert result is not None
    assert len(result) <= 250
    assert result.endswith("Consulting…")
    assert mapping.heading("Short") == "Short"
    assert mapping.heading("  ") is None


def test_heading_without_spaces_is_cut_hard() -> None:
    result = mapping.heading("x" * 300)
    assert result == "x" * 249 + "…"


def test_text_line1_is_message_plus_requisition_number() -> None:
    assert mapping.text_line1("Thanks.", "PO-1", requisition_in_text1=True) == (
        "Thanks.\nRequisition no.: PO-1"
    )
    assert mapping.text_line1("Thanks.", "PO-1", requisition_in_text1=False) == "Thanks."
    assert mapping.text_line1("", "", requisition_in_text1=True) is None
    long = mapping.text_line1("word " * 400, "PO-1", requisition_in_text1=True)
    assert long is not None and len(long) <= 1000


def test_text_line2_is_the_psa_invoice_reference() -> None:
    assert draft().notes is not None
    assert draft().notes.text_line2 == "INV-1000"  # type: ignore[union-attr]


def test_correlation_goes_to_references_other_unshortened() -> None:
    assert draft().references.other == "ll:1:42:1"  # type: ignore[union-attr]
    with pytest.raises(Permanent):
        mapping.correlation_reference("x" * 251)
    with pytest.raises(Permanent):
        mapping.correlation_reference("")


# identifiers --------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["1", "100", "999999999", " 42 "])
def test_customer_number_numeric_in_range(number: str) -> None:
    assert mapping.customer_number(number) == int(number)


@pytest.mark.parametrize("number", ["C100", "0", "1000000000", "-5", "12.5", ""])
def test_customer_number_otherwise_permanent_with_a_hint(number: str) -> None:
    with pytest.raises(Permanent) as caught:
        mapping.customer_number(number)
    assert "1 to 999999999" in caught.value.hint


def test_project_number_only_digits_and_only_with_the_project_module() -> None:
    assert mapping.project_reference("12", project_module=True) is not None
    assert mapping.project_reference("P-12", project_module=True) is None
    assert mapping.project_reference("12", project_module=False) is None
    assert mapping.project_reference("", project_module=True) is None
    with_project = draft(outgoing(project_ref="12"))
    assert with_project.project is not None and with_project.project.project_number == 12
    assert draft(outgoing(project_ref="12"), project_module=False).project is None


def test_contact_and_salesperson_references() -> None:
    dto = draft(outgoing(contact_ref="3", salesperson_ref="7"))
    assert dto.references is not None
    assert dto.references.customer_contact is not None
    assert dto.references.customer_contact.customer_contact_number == 3
    assert dto.references.sales_person is not None
    assert dto.references.sales_person.employee_number == 7
    assert dto.recipient.attention is not None
    with pytest.raises(Permanent, match="contact"):
        draft(outgoing(contact_ref="Mette"))
    bare = draft()
    assert bare.references is not None and bare.references.sales_person is None


def test_product_number_longer_than_25_is_refused_naming_the_line() -> None:
    with pytest.raises(Permanent, match="line 1"):
        draft(outgoing(line_products=("P" * 26, "")))


# customers ----------------------------------------------------------------------------------


def test_address_lines_merge_into_one_address() -> None:
    assert mapping.merge_address_lines(("Havnegade 1", "", "2. sal")) == "Havnegade 1\n2. sal"
    assert mapping.merge_address_lines(()) is None
    with pytest.raises(Permanent, match="510"):
        mapping.merge_address_lines(("x" * 255, "y" * 255, "z"))
    assert mapping.split_address("a\nb\n") == ("a", "b")


def test_customer_name_limit() -> None:
    assert mapping.customer_name(" Acme ") == "Acme"
    with pytest.raises(Permanent):
        mapping.customer_name("x" * 256)


def test_customer_to_dto_sends_required_defaults_and_psa_fields() -> None:
    dto = mapping.customer_to_dto(customer(), SETTINGS)
    wire = to_wire(dto)
    assert wire == {
        "customerNumber": 100,
        "name": "Hansen Byg A/S",
        "currency": "DKK",
        "customerGroup": {"customerGroupNumber": 1},
        "paymentTerms": {"paymentTermsNumber": 1},
        "vatZone": {"vatZoneNumber": 1},
        "address": "Havnegade 1\n2. sal",
        "zip": "1058",
        "city": "København K",
        "country": "Denmark",
        "email": "bogholderi@hansenbyg.dk",
        "corporateIdentificationNumber": "13585628",
        "telephoneAndFaxNumber": "+45 33 12 34 56",
    }


def test_customer_vat_zone_follows_the_vat_treatment() -> None:
    german = customer(
        address=Address(lines=("Hauptstr. 1",), city="Berlin", country="DE"),
        vat_number="DE136695976",
        registration_number="",
    )
    us = customer(address=Address(lines=("1 Main St",), city="Boston", country="US"))
    assert mapping.customer_to_dto(german, SETTINGS).vat_zone.vat_zone_number == 2
    assert mapping.customer_to_dto(us, SETTINGS).vat_zone.vat_zone_number == 3


def test_customer_update_keeps_what_the_psa_does_not_master() -> None:
    existing = economic_customer(layout=LayoutRef(layout_number=7), barred=True)
    dto = mapping.customer_to_dto(customer(name="New name"), SETTINGS, existing=existing, number=55)
    assert dto.customer_number == 55
    assert dto.name == "New name"
    assert dto.payment_terms.payment_terms_number == 5
    assert dto.layout == LayoutRef(layout_number=7)
    assert dto.barred is True


def test_erp_customer_from_economic() -> None:
    result = mapping.erp_customer(economic_customer(last_updated=date(2024, 5, 1)))
    assert result.external_id == "100"
    assert result.country == "DK"
    assert result.address_lines == ("Havnegade 1", "2. sal")
    assert result.updated == date(2024, 5, 1)
    assert result.barred is False


def test_contact_and_employee_dtos() -> None:
    assert to_wire(mapping.contact_to_dto(contact(), customer=100)) == {
        "name": "Mette Hansen",
        "email": "mh@hansenbyg.dk",
        "customer": {"customerNumber": 100},
    }
    assert to_wire(
        mapping.employee_to_dto(employee(), EconomicSettings(employee_group_number=4))
    ) == {
        "name": "Anna Berg",
        "employeeGroup": {"employeeGroupNumber": 4},
    }


def test_erp_product_keeps_the_department() -> None:
    dto = ProductDto.model_validate(
        {
            "productNumber": "1",
            "name": "Consulting",
            "unit": {"unitNumber": 2, "name": "hours"},
            "departmentalDistribution": {"departmentalDistributionNumber": 3},
        }
    )
    product = mapping.erp_product(dto)
    assert (product.number, product.unit, product.department, product.barred) == (
        "1",
        "hours",
        "3",
        False,
    )


# lines --------------------------------------------------------------------------------------


def test_invoice_wire_body() -> None:
    wire = to_wire(draft())
    assert wire["customer"] == {"customerNumber": 100}
    assert wire["layout"] == {"layoutNumber": 19}
    assert wire["paymentTerms"] == {"paymentTermsNumber": 5}  # the customer's terms
    assert wire["recipient"]["vatZone"] == {"vatZoneNumber": 1}
    assert wire["recipient"]["address"] == "Havnegade 1, 2. sal"
    assert wire["date"] == date(2026, 3, 2)
    assert "exchangeRate" not in wire
    assert wire["lines"] == [
        {
            "lineNumber": 1,
            "sortKey": 1,
            "description": "Consulting, March",
            "product": {"productNumber": "1"},
            "quantity": Decimal("7.5"),
            "unitNetPrice": Decimal("850.00"),
            "departmentalDistribution": {"departmentalDistributionNumber": 3},
        },
        {"lineNumber": 2, "sortKey": 2, "description": "Travel included"},
    ]


def test_nothing_null_or_false_is_sent() -> None:
    def walk(value: object) -> None:
        assert value is not None and value is not False
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        if isinstance(value, list):
            for item in value:
                walk(item)

    walk(to_wire(draft()))


def test_discount_percentage_only_when_set() -> None:
    doc = outgoing(invoice(work_line(discount_percent=Decimal("10"))), line_products=("1",))
    assert to_wire(draft(doc))["lines"][0]["discountPercentage"] == Decimal("10")


def test_quantity_zero_becomes_0_01_at_price_0_only_without_an_amount() -> None:
    assert mapping.nonzero_quantity(Decimal(0), Decimal("850"), Decimal(0), position=1) == (
        Decimal("0.01"),
        Decimal(0),
    )
    assert mapping.nonzero_quantity(Decimal(2), Decimal("5"), Decimal(10), position=1) == (
        Decimal(2),
        Decimal(5),
    )
    with pytest.raises(Permanent, match="line 4"):
        mapping.nonzero_quantity(Decimal(0), Decimal("5"), Decimal("5"), position=4)


def test_unit_price_with_more_than_two_decimals_is_refused_naming_the_line() -> None:
    kwd = Money.of("1.125", "KWD")
    with pytest.raises(Permanent, match=r"line 2 \('Fee'\)"):
        mapping.unit_net_price(kwd, position=2, description="Fee")
    assert mapping.unit_net_price(Money.of("1.120", "KWD"), position=1, description="x") == (
        Decimal("1.12")
    )
    assert mapping.unit_net_price(dkk("10.5"), position=1, description="x") == Decimal("10.50")


def test_text_lines_carry_only_a_description() -> None:
    line = mapping.invoice_line(text_line("Note", "DKK"), position=3, product="", departments={})
    assert to_wire(line) == {"lineNumber": 3, "sortKey": 3, "description": "Note"}


def test_a_line_with_an_amount_needs_a_product_number() -> None:
    with pytest.raises(Permanent, match="product-number principle"):
        mapping.invoice_line(work_line(), position=1, product="", departments={})


def test_department_only_when_the_product_has_one() -> None:
    line = mapping.invoice_line(work_line(), position=1, product="9", departments={"1": "3"})
    assert line.departmental_distribution is None


def test_credit_note_is_a_draft_with_negative_quantities() -> None:
    doc = outgoing(credit_note(), line_products=("1",))
    wire = to_wire(draft(doc))
    assert wire["lines"][0]["quantity"] == Decimal("-2")
    assert wire["lines"][0]["unitNetPrice"] == Decimal("850.00")


@pytest.mark.parametrize(
    ("treatment", "zone"),
    [
        (VatTreatment.DOMESTIC, 1),
        (VatTreatment.EU_REVERSE_CHARGE, 2),
        (VatTreatment.EXPORT, 3),
    ],
)
def test_vat_zone_from_the_invoice_vat_treatment(treatment: VatTreatment, zone: int) -> None:
    dto = draft(outgoing(invoice(vat_treatment=treatment)))
    assert dto.recipient.vat_zone.vat_zone_number == zone


def test_requisition_starting_with_ean_overrides_the_customer_ean() -> None:
    assert mapping.recipient_ean("EAN 5798000000001", "5790000123456") == "5798000000001"
    assert mapping.recipient_ean("PO-1", "5790000123456") == "5790000123456"
    assert mapping.recipient_ean("EAN123", None) is None


def test_line_products_must_match_lines() -> None:
    with pytest.raises(ValueError, match="one entry per invoice line"):
        draft(outgoing(line_products=("1",)))


# reading back -------------------------------------------------------------------------------


def booked(**changes: object) -> BookedInvoiceDto:
    fields: dict[str, object] = {
        "bookedInvoiceNumber": 20001,
        "currency": "DKK",
        "netAmount": Decimal("6375.00"),
        "vatAmount": Decimal("1593.75"),
        "grossAmount": Decimal("7968.75"),
        "remainder": Decimal("7968.75"),
        "dueDate": "2024-05-02",
        "references": {"other": "ll:1:42:1"},
    }
    return BookedInvoiceDto.model_validate(fields | changes)


def test_status_from_booked_is_paid_when_the_remainder_is_zero() -> None:
    open_ = mapping.status_from_booked(booked())
    assert open_.status is PostingStatus.BOOKED
    assert open_.booked_number == "20001"
    assert open_.correlation == "ll:1:42:1"
    assert open_.gross == dkk("7968.75")
    assert open_.remainder == dkk("7968.75")
    assert open_.paid is False
    assert open_.due_date == date(2024, 5, 2)
    assert mapping.status_from_booked(booked(remainder=Decimal("0.00"))).paid is True
    assert mapping.status_from_booked(booked(remainder=None)).paid is False


def test_documents_from_draft_and_booked() -> None:
    dto = draft().model_copy(
        update={
            "draft_invoice_number": 7,
            "net_amount": Decimal("6375"),
            "vat_amount": Decimal("1593.75"),
            "gross_amount": Decimal("7968.75"),
        }
    )
    doc = mapping.erp_document_from_draft(dto)
    assert (doc.external_id, doc.booked_number, doc.gross) == ("7", "", dkk("7968.75"))
    assert doc.correlation == "ll:1:42:1"
    from_booked = mapping.erp_document_from_booked(booked())
    assert (from_booked.external_id, from_booked.booked_number) == ("20001", "20001")


def test_expense_from_an_entry_excludes_vat() -> None:
    entry = EntryDto.model_validate(
        {
            "entryNumber": 501,
            "date": "2024-03-04",
            "amount": Decimal("100.00"),
            "amountInBaseCurrency": Decimal("746.00"),
            "currency": "EUR",
            "text": "Hotel",
            "voucherNumber": 88,
            "project": {"projectNumber": 12},
        }
    )
    expense = mapping.erp_expense(entry, base_currency="DKK", account=3600)
    assert expense.external_id == "501"
    assert expense.amount == Money.of("100.00", "EUR")
    assert expense.amount_in_base_currency == dkk("746.00")
    assert (expense.voucher_number, expense.project_ref, expense.account) == ("88", "12", "3600")


def test_non_text_line_kinds_all_map_as_amount_lines() -> None:
    for kind in (LineKind.EXPENSE, LineKind.TRAVEL, LineKind.MILEAGE, LineKind.PRODUCT):
        line = InvoiceLine(kind=kind, description="x", quantity=Decimal(1), unit_price=dkk("1"))
        assert mapping.invoice_line(line, position=1, product="1", departments={}).product


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Denmark", "DK"),
        ("Danmark", "DK"),
        ("Sverige", "SE"),
        ("Norge", "NO"),
        ("dk", "DK"),
        ("Atlantis", "Atlantis"),
        ("", ""),
    ],
)
def test_country_names_back_to_codes(name: str, code: str) -> None:
    assert mapping.country_code(name) == code
    assert mapping.country_name("DK") == "Denmark"
