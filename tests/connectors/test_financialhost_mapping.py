"""The FinancialHost connector's pure parts: domain → wire, wire → contract, idempotency keys,
capabilities and settings. No host, no HTTP."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pydantic
import pytest

from ledgerlink.connectors.contract import Permanent, PostingStatus
from ledgerlink.connectors.financialhost import (
    FinancialHostCredentials,
    FinancialHostSettings,
    capabilities_for,
    mapping,
)
from ledgerlink.domain.invoices import LineKind
from ledgerlink.domain.money import Money
from ledgerlink.domain.parties import PaymentTerms, PaymentTermsKind
from ledgerlink.domain.transfers import CustomerMaster
from ledgerlink.domain.vat import VatTreatment
from ledgerlink.domain.work import Project
from ledgerlink.wire import operations as ops
from tests.connectors.builders import (
    INVOICE_DATE,
    contact,
    credit_note,
    customer,
    employee,
    invoice,
    outgoing,
    work_line,
)

KEY = r"[0-9a-f]{24}"


def project(**changes: object) -> Project:
    fields: dict[str, object] = {
        "legal_entity_id": 1,
        "number": "P-17",
        "name": "Harbour office",
        "customer_id": 1,
        "currency": "DKK",
    }
    return Project(**(fields | changes))  # type: ignore[arg-type]


# domain → wire -----------------------------------------------------------------------------


def test_customer_to_wire() -> None:
    wired = mapping.customer_to_wire(
        customer(payment_terms=PaymentTerms(PaymentTermsKind.NET, 14), active=False)
    )
    assert wired.number == "100"
    assert wired.name == "Hansen Byg A/S"
    assert wired.address_lines == ("Havnegade 1", "2. sal")
    assert (wired.postal_code, wired.city, wired.country) == ("1058", "København K", "DK")
    assert wired.currency == "DKK"
    assert wired.registration_number == "13585628"
    assert wired.email == "bogholderi@hansenbyg.dk"
    assert wired.payment_terms_days == 14
    assert wired.blocked is True


def test_customer_update_uses_the_erp_number() -> None:
    assert mapping.customer_to_wire(customer(), number="C-0100").number == "C-0100"


def test_a_value_the_wire_refuses_is_permanent_naming_the_field() -> None:
    with pytest.raises(Permanent) as caught:
        mapping.customer_to_wire(customer(name="x" * 251))
    assert caught.value.field_errors[0].path == "name"
    assert "customer 100" in caught.value.message


def test_contact_employee_project_to_wire() -> None:
    assert mapping.contact_to_wire(contact(title="CFO")) == ops.WireContact(
        name="Mette Hansen", email="mh@hansenbyg.dk", title="CFO"
    )
    assert mapping.employee_to_wire(employee(department="DEV")) == ops.WireEmployee(
        initials="AB", name="Anna Berg", department="DEV"
    )
    assert mapping.project_to_wire(project(active=False), "100") == ops.WireProject(
        number="P-17", name="Harbour office", customer_number="100", active=False
    )


def test_invoice_to_wire_document() -> None:
    inv = invoice(customer_reference="Mette", project_id=5)
    doc = outgoing(
        inv,
        contact_ref="100:Mette Hansen",
        salesperson_ref="AB",
        project_ref="P-17",
    )
    wired = mapping.document_to_wire(doc, customer_ean="5790000123456")
    assert wired.kind is ops.DocumentKind.INVOICE
    assert wired.correlation == "ll:1:42:1"
    assert wired.psa_number == "INV-1000"
    assert wired.customer_number == "100"
    assert wired.contact_ref == "100:Mette Hansen"
    assert wired.salesperson == "AB"
    assert wired.project_number == "P-17"
    assert wired.currency == "DKK"
    assert (wired.invoice_date, wired.due_date) == (INVOICE_DATE, date(2026, 4, 1))
    assert wired.heading == "Consulting March 2024"
    assert wired.customer_reference == "Mette"
    assert wired.requisition_number == "PO-4711"
    assert wired.ean == "5790000123456"
    work, text = wired.lines
    assert work == ops.WireLine(
        kind=ops.LineKind.WORK,
        description="Consulting, March",
        product_number="1",
        quantity=Decimal("7.5"),
        unit="hours",
        unit_price=Decimal("850.00"),
        day=INVOICE_DATE,
        project_number="P-17",
        vat_percent=Decimal(25),  # the PSA's rate, so the ERP can be told its VAT code
    )
    assert text == ops.WireLine(kind=ops.LineKind.TEXT, description="Travel included")
    totals = inv.compute_totals()
    assert wired.expected_net == totals.net.amount == Decimal("6375.00")
    assert wired.expected_gross == totals.gross.amount == Decimal("7968.75")


def test_a_reverse_charged_line_carries_the_psas_zero_rate() -> None:
    """Issue 12 item 1: the ERP is told the rate the PSA applied, so it adds no VAT of its own
    to a reverse-charged sale."""
    inv = invoice(vat_treatment=VatTreatment.EU_REVERSE_CHARGE)
    work, text = mapping.document_to_wire(outgoing(inv)).lines
    assert (work.vat_percent, text.vat_percent) == (Decimal(0), None)


def test_no_customer_ean_means_the_erp_uses_its_customer_card() -> None:
    assert mapping.document_to_wire(outgoing()).ean == ""


def test_text_lines_never_carry_a_product_number() -> None:
    doc = outgoing(line_products=("1", "SHOULD-NOT-BE-SENT"))
    text = mapping.document_to_wire(doc).lines[1]
    assert text.kind is ops.LineKind.TEXT
    assert text.product_number == ""
    assert text.quantity == 0 and text.unit_price == 0 and text.day is None


def test_credit_note_keeps_negative_quantities_and_totals() -> None:
    note = credit_note(work_line(quantity=Decimal("-2")))
    wired = mapping.document_to_wire(outgoing(note, correlation="ll:1:43:1"))
    assert wired.kind is ops.DocumentKind.CREDIT_NOTE
    assert wired.lines[0].quantity == Decimal("-2")
    assert wired.lines[0].unit_price == Decimal("850.00")
    assert wired.expected_net == Decimal("-1700.00")
    assert wired.expected_gross == Decimal("-2125.00")


def test_every_line_kind_maps_to_the_wire_kind() -> None:
    kinds = [k for k in LineKind if k is not LineKind.TEXT]
    inv = invoice(*(work_line(kind=k) for k in kinds))
    wired = mapping.document_to_wire(outgoing(inv))
    assert [line.kind.value for line in wired.lines] == [k.value for k in kinds]


def test_a_line_of_another_project_gets_no_project_number() -> None:
    inv = invoice(work_line(project_id=5), work_line(project_id=6), project_id=5)
    wired = mapping.document_to_wire(outgoing(inv, project_ref="P-17"))
    assert [line.project_number for line in wired.lines] == ["P-17", ""]


def test_heading_is_shortened_to_the_erp_limit_at_a_word() -> None:
    long = "Consulting and project management for the harbour office renovation, March"
    wired = mapping.document_to_wire(outgoing(invoice(heading=long)), max_heading=50)
    assert len(wired.heading) <= 50
    assert wired.heading.endswith("…")
    assert long.startswith(wired.heading.removesuffix("…"))
    assert mapping.document_to_wire(outgoing(invoice(heading=long))).heading == long


def test_product_numbers_must_match_the_lines() -> None:
    with pytest.raises(Permanent, match="2 lines but 1 product numbers"):
        mapping.document_to_wire(outgoing(line_products=("1",)))


def test_a_correlation_too_long_for_the_erp_field_is_refused() -> None:
    with pytest.raises(Permanent) as caught:
        mapping.document_to_wire(outgoing(correlation="x" * 36))
    assert caught.value.field_errors[0].path == "correlation"


# idempotency keys ---------------------------------------------------------------------------


def test_keys_are_stable_and_follow_the_content() -> None:
    first = mapping.customer_upsert(customer()).idempotency_key
    assert first == mapping.customer_upsert(customer()).idempotency_key
    assert first.startswith("customer:100:")
    renamed = mapping.customer_upsert(customer(name="Hansen Byg Holding A/S")).idempotency_key
    assert renamed.startswith("customer:100:") and renamed != first


def test_key_formats() -> None:
    assert re.fullmatch(
        rf"contact:100:Mette Hansen:{KEY}",
        mapping.contact_upsert("100", contact()).idempotency_key,
    )
    assert re.fullmatch(rf"employee:AB:{KEY}", mapping.employee_ensure(employee()).idempotency_key)
    assert re.fullmatch(
        rf"project:P-17:{KEY}", mapping.project_ensure(project(), "100").idempotency_key
    )
    assert re.fullmatch(
        rf"document:ll:1:42:1:{KEY}", mapping.draft_create(outgoing()).idempotency_key
    )


def test_the_same_contact_at_another_customer_is_another_effect() -> None:
    assert (
        mapping.contact_upsert("100", contact()).idempotency_key
        != mapping.contact_upsert("200", contact()).idempotency_key
    )


def test_document_key_is_stable_and_changes_with_fixed_product_numbers() -> None:
    doc = outgoing()
    key = mapping.draft_create(doc).idempotency_key
    assert key == mapping.draft_create(outgoing()).idempotency_key
    fixed = outgoing(line_products=("WORK", ""))
    assert mapping.draft_create(fixed).idempotency_key != key


def test_long_names_keep_the_key_within_the_wire_limit() -> None:
    long_a = contact(name="A" * 200 + " one")
    long_b = contact(name="A" * 200 + " two")
    key_a = mapping.contact_upsert("100", long_a).idempotency_key
    key_b = mapping.contact_upsert("100", long_b).idempotency_key
    assert len(key_a) <= 200 and key_a != key_b


def test_follow_up_key_is_derived_from_the_finished_job() -> None:
    base = mapping.customer_upsert(customer()).idempotency_key
    follow_up = mapping.follow_up_key(base, "0123456789abcdef0123")
    assert follow_up == f"{base}:after:0123456789abcdef"
    assert follow_up == mapping.follow_up_key(base, "0123456789abcdef0123")
    longest = mapping.contact_upsert("9" * 50, contact(name="N" * 250)).idempotency_key
    assert len(mapping.follow_up_key(longest, "f" * 32)) <= 200


def test_contact_needs_a_customer_number() -> None:
    with pytest.raises(Permanent, match="no ERP number"):
        mapping.contact_upsert(" ", contact())


# wire → contract ---------------------------------------------------------------------------


def test_erp_customer() -> None:
    record = ops.ErpCustomerRecord(
        external_id="C1",
        number="100",
        name="Hansen Byg A/S",
        address_lines=("Havnegade 1",),
        country="DK",
        currency="DKK",
        ean="5790000123456",
        blocked=True,
        updated=date(2026, 3, 1),
    )
    found = mapping.erp_customer(record)
    assert (found.external_id, found.number, found.name) == ("C1", "100", "Hansen Byg A/S")
    assert found.address_lines == ("Havnegade 1",)
    assert found.ean == "5790000123456"
    assert found.barred is True
    assert found.updated == date(2026, 3, 1)


def test_erp_product() -> None:
    product = mapping.erp_product(
        ops.WireProduct(number="WORK", name="Work", unit="TIME", department="DEV", barred=True)
    )
    assert (product.number, product.unit, product.department, product.barred) == (
        "WORK",
        "TIME",
        "DEV",
        True,
    )


def test_erp_document_in_the_result_currency() -> None:
    result = ops.DocumentResult(
        external_id="1001",
        correlation="ll:1:43:1",
        currency="SEK",
        net=Decimal("-1700.00"),
        vat=Decimal("-425.00"),
        gross=Decimal("-2125.00"),
        booked_number="",
    )
    doc = mapping.erp_document(result, currency="SEK")
    assert doc.gross == Money.of("-2125.00", "SEK")
    assert doc.net == Money.of("-1700", "SEK")
    assert doc.vat == Money.of("-425", "SEK")
    assert doc.correlation == "ll:1:43:1"


def test_an_amount_with_excess_decimals_is_refused_not_rounded() -> None:
    result = ops.DocumentResult(
        external_id="1",
        correlation="c",
        currency="DKK",
        net=Decimal("10.005"),
        vat=Decimal(0),
        gross=Decimal("10.005"),
    )
    with pytest.raises(Permanent, match="not an exact amount"):
        mapping.erp_document(result, currency="DKK")


def test_status_update() -> None:
    record = ops.StatusRecord(
        correlation="ll:1:42:1",
        external_id="1001",
        status=ops.DocumentStatus.BOOKED,
        booked_number="20017",
        gross=Decimal("7968.75"),
        remainder=Decimal("0"),
        paid=True,
        due_date=date(2026, 4, 1),
        booked_on=date(2026, 3, 2),
    )
    update = mapping.status_update(record, currency="DKK")
    assert update.status is PostingStatus.BOOKED
    assert update.booked_on == date(2026, 3, 2)
    assert update.booked_number == "20017"
    assert update.remainder == Money.zero("DKK")
    assert update.paid is True
    draft = mapping.status_update(
        ops.StatusRecord(correlation="c", external_id="1", status=ops.DocumentStatus.DRAFT),
        currency="DKK",
    )
    assert draft.status is PostingStatus.DRAFT
    assert draft.gross is None and draft.remainder is None
    assert draft.booked_on is None  # also what a host older than the field sends


def test_erp_expense_in_its_currency_and_the_base_currency() -> None:
    record = ops.ExpenseRecord(
        external_id="E1",
        day=date(2026, 3, 3),
        currency="EUR",
        amount=Decimal("100.00"),
        amount_in_base_currency=Decimal("745.60"),
        text="Hotel",
        voucher_number="V17",
        project_number="P-17",
        account="7300",
    )
    expense = mapping.erp_expense(record, base_currency="DKK")
    assert expense.amount == Money.of("100.00", "EUR")
    assert expense.amount_in_base_currency == Money.of("745.60", "DKK")
    assert (expense.project_ref, expense.account, expense.voucher_number) == ("P-17", "7300", "V17")


def test_erp_change() -> None:
    moment = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
    change = mapping.erp_change(
        ops.ChangeRecord(
            sequence=7,
            entity="customer",
            table_id=18,
            record_key="10000",
            change="modify",
            changed_at=moment,
        )
    )
    assert change == mapping.ErpChange(
        sequence=7,
        entity="customer",
        record_key="10000",
        change="modify",
        changed_at=moment,
        table_id=18,
    )


# capabilities and settings -------------------------------------------------------------------


def test_capabilities_per_erp() -> None:
    nav, visma = capabilities_for("nav"), capabilities_for("visma")
    assert nav.contact_push and nav.project_push and nav.employee_push
    assert nav.customer_master_modes == {
        CustomerMaster.PSA,
        CustomerMaster.ERP,
        CustomerMaster.BOTH,
    }
    assert nav.dimensions == ("project", "department")
    assert nav.max_heading_length == 50
    assert visma.employee_push
    assert not visma.project_push and not visma.contact_push
    assert visma.customer_master_modes == {CustomerMaster.PSA, CustomerMaster.ERP}
    assert visma.dimensions == ("project",)
    for caps in (nav, visma):
        assert caps.customer_push and caps.customer_import and caps.product_import
        assert caps.invoice_push and caps.credit_note_push
        assert caps.balancing and caps.expense_import
    with pytest.raises(ValueError, match="not 'economic'"):
        capabilities_for("economic")


@pytest.mark.parametrize(
    "url",
    [
        "http://erp.example.dk:8743",
        "erp.example.dk:8743",
        "https://erp.example.dk/financialhost",
        "https://user:pw@erp.example.dk",
        "https://",
    ],
)
def test_settings_refuse_anything_but_an_https_origin(url: str) -> None:
    with pytest.raises(pydantic.ValidationError):
        FinancialHostSettings(base_url=url, erp_system="nav")


def test_settings_accept_an_https_origin() -> None:
    settings = FinancialHostSettings(base_url="https://erp.example.dk:8743/", erp_system="visma")
    assert settings.base_url == "https://erp.example.dk:8743"
    assert settings.job_wait_seconds == 20
    assert settings.tls_certificate == ""


def test_settings_refuse_a_certificate_that_is_not_pem() -> None:
    with pytest.raises(pydantic.ValidationError, match="PEM"):
        FinancialHostSettings(
            base_url="https://erp.example.dk", erp_system="nav", tls_certificate="not a cert"
        )
    broken = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    with pytest.raises(pydantic.ValidationError, match="cannot be loaded"):
        FinancialHostSettings(
            base_url="https://erp.example.dk", erp_system="nav", tls_certificate=broken
        )


def test_credentials() -> None:
    creds = FinancialHostCredentials.model_validate({"key_id": "hub-1", "secret": "s3cret"})
    assert not creds.uses_client_certificate
    assert "s3cret" not in repr(creds)
    with pytest.raises(pydantic.ValidationError, match="go together"):
        FinancialHostCredentials.model_validate(
            {"key_id": "hub-1", "secret": "s", "client_certificate": "-----BEGIN CERT"}
        )
    with pytest.raises(pydantic.ValidationError, match="empty"):
        FinancialHostCredentials.model_validate({"key_id": "hub-1", "secret": ""})
