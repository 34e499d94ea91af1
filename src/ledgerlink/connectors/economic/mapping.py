"""Pure mapping between ledgerlink's domain / neutral types and e-conomic documents.

Every rule is a named function with a test. Limits are e-conomic's (REST docs); where our data
can exceed one we either shorten it (texts shown to people: heading, text lines, recipient) or
refuse it with a :class:`~ledgerlink.connectors.contract.Permanent` error naming what to fix
(identifiers and amounts, which must never change silently).

Heading rule (a deliberate choice): e-conomic rejects a heading longer than 250 characters
with a validation error. We shorten it at a word boundary and end it with "…" instead, because
the heading is display text and the full PSA heading stays on the PSA invoice; refusing would
block a booked PSA invoice for a cosmetic reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import lru_cache

from babel import Locale

from ledgerlink.connectors._kit.text import shorten_at_word
from ledgerlink.connectors.contract import (
    ErpCustomer,
    ErpDocument,
    ErpExpense,
    ErpProduct,
    OutgoingDocument,
    Permanent,
    PostingStatus,
    StatusUpdate,
)
from ledgerlink.connectors.economic.dtos import (
    BookedInvoiceDto,
    ContactDto,
    ContactRef,
    CustomerDto,
    CustomerGroupRef,
    CustomerRef,
    DepartmentalDistributionRef,
    DraftInvoiceDto,
    EmployeeDto,
    EmployeeGroupRef,
    EmployeeRef,
    EntryDto,
    InvoiceLineDto,
    LayoutRef,
    Notes,
    PaymentTermsRef,
    ProductDto,
    ProductRef,
    ProjectDto,
    ProjectRef,
    Recipient,
    References,
    VatZoneRef,
)
from ledgerlink.connectors.economic.settings import EconomicSettings
from ledgerlink.domain.invoices import InvoiceLine, LineKind
from ledgerlink.domain.money import Money, minor_unit_exponent
from ledgerlink.domain.parties import Contact, Customer, Employee
from ledgerlink.domain.vat import VatTreatment, vat_treatment
from ledgerlink.domain.work import Project

MAX_CUSTOMER_NAME = 255
MAX_ADDRESS = 510
MAX_ZIP = 30
MAX_CITY = 50
MAX_COUNTRY = 50
MAX_HEADING = 250
MAX_PROJECT_NAME = 100
MAX_PROJECT_NUMBER = 999_999_999
MAX_TEXT_LINE = 1000
MAX_REFERENCE_OTHER = 250
MAX_RECIPIENT_NAME = 250
MAX_RECIPIENT_ADDRESS = 250
MAX_LINE_DESCRIPTION = 2500
MAX_PRODUCT_NUMBER = 25
MAX_EMPLOYEE_NAME = 250
MAX_CUSTOMER_NUMBER = 999_999_999
MAX_PRICE_DECIMALS = 2
EAN_LENGTH = 13
#: The smallest quantity e-conomic accepts in place of 0 (quantity 0 is refused).
ZERO_QUANTITY_STAND_IN = Decimal("0.01")
#: Agreements on which e-conomic has a separate ``vatNumber`` field.
VAT_NUMBER_COUNTRIES = frozenset({"SE", "GB", "DE", "PL", "FI"})


# text rules ---------------------------------------------------------------------------------


def or_none(text: str) -> str | None:
    """e-conomic has no empty-string-means-unset: an empty text is omitted."""
    stripped = text.strip()
    return stripped or None


def heading(text: str) -> str | None:
    """``notes.heading``: at most 250 characters, shortened at a word boundary (see module)."""
    return or_none(shorten_at_word(text.strip(), MAX_HEADING))


def text_line1(message: str, requisition_number: str, *, requisition_in_text1: bool) -> str | None:
    """``notes.textLine1``: the invoice message, then the requisition number when the
    connection keeps the pre-2018 option; at most 1000 characters."""
    parts = [message.strip()]
    if requisition_in_text1 and requisition_number.strip():
        parts.append(f"Requisition no.: {requisition_number.strip()}")
    return or_none(shorten_at_word("\n".join(p for p in parts if p), MAX_TEXT_LINE))


def text_line2(psa_reference: str) -> str | None:
    """``notes.textLine2``: the PSA's invoice reference (how the reference product links)."""
    return or_none(shorten_at_word(psa_reference.strip(), MAX_TEXT_LINE))


def correlation_reference(correlation: str) -> str:
    """``references.other``: the correlation is searched for later, so it is never shortened;
    a correlation that does not fit is an engine bug and refused."""
    text = correlation.strip()
    if not text or len(text) > MAX_REFERENCE_OTHER:
        raise Permanent(
            f"correlation reference '{correlation}' must be 1–{MAX_REFERENCE_OTHER} characters",
            hint="This is a ledgerlink fault; report it.",
        )
    return text


# identifiers --------------------------------------------------------------------------------


def customer_number(number: str) -> int:
    """e-conomic customer numbers are integers 1–999 999 999; anything else is refused."""
    text = number.strip()
    if text.isdigit() and 1 <= int(text) <= MAX_CUSTOMER_NUMBER:
        return int(text)
    raise Permanent(
        f"customer number '{number}' cannot be used in e-conomic",
        hint=(
            "e-conomic customer numbers are whole numbers from 1 to 999999999: renumber the "
            "customer in the PSA, or link it to an existing e-conomic customer."
        ),
    )


def reference_number(reference: str, what: str) -> int | None:
    """A numeric e-conomic reference (contact, employee) or ``None`` when absent."""
    text = reference.strip()
    if not text:
        return None
    if text.isdigit() and int(text) >= 1:
        return int(text)
    raise Permanent(
        f"{what} reference '{reference}' is not an e-conomic {what} number",
        hint=f"Transfer the {what} again so its e-conomic number is recorded.",
    )


def project_reference(project_ref: str, *, project_module: bool) -> ProjectRef | None:
    """``project.projectNumber``: digits only, and only when the project module is active;
    otherwise the project is omitted (e-conomic could not store it)."""
    text = project_ref.strip()
    if not project_module or not text.isdigit() or int(text) < 1:
        return None
    return ProjectRef(project_number=int(text))


def project_number(number: str) -> int | None:
    """The e-conomic number of a PSA project: its own number when that is digits only (so
    both systems show the same number), else ``None`` and e-conomic numbers it."""
    text = number.strip()
    if text.isdigit() and 1 <= int(text) <= MAX_PROJECT_NUMBER:
        return int(text)
    return None


def project(
    project: Project, *, customer_number: int, group_number: int, number: int | None
) -> ProjectDto:
    """``POST /projects`` body: name at most 100 characters (shortened at a word boundary,
    the full name then goes to ``description``), the customer, the project group chosen at
    setup, and the number (see :func:`project_number`)."""
    name = shorten_at_word(project.name.strip(), MAX_PROJECT_NAME)
    return ProjectDto(
        number=number,
        name=name,
        project_group_number=group_number,
        customer_number=customer_number,
        description=project.name if name != project.name.strip() else None,
    )


def product_number(number: str, *, position: int) -> ProductRef:
    """``lines[].product``: at most 25 characters."""
    text = number.strip()
    if len(text) > MAX_PRODUCT_NUMBER:
        raise Permanent(
            f"line {position}: product number '{number}' is longer than {MAX_PRODUCT_NUMBER}",
            hint="Import product numbers again or fix the product-number principle.",
        )
    return ProductRef(product_number=text)


# parties ------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    return dict(Locale("en").territories)


#: Languages of e-conomic agreements; their users type country names in them ("Danmark").
_AGREEMENT_LANGUAGES = ("en", "da", "sv", "nb")


@lru_cache(maxsize=1)
def _codes_by_name() -> dict[str, str]:
    codes: dict[str, str] = {}
    for language in _AGREEMENT_LANGUAGES:
        for code, name in Locale(language).territories.items():
            if len(code) == 2 and code.isalpha():
                codes.setdefault(name.casefold(), code)
    return codes


def country_name(code: str) -> str | None:
    """e-conomic stores the country as text: the English name of an ISO code."""
    if not code:
        return None
    return _country_names().get(code.upper(), code)[:MAX_COUNTRY]


def country_code(name: str) -> str:
    """Reverse of :func:`country_name`: the ISO code of a country name in English, Danish,
    Swedish or Norwegian (or of a code), else the text as it is."""
    text = name.strip()
    if len(text) == 2 and text.upper() in _country_names():
        return text.upper()
    return _codes_by_name().get(text.casefold(), text)


def merge_address_lines(lines: Sequence[str]) -> str | None:
    """The PSA's up to three address lines become e-conomic's one ``address`` (≤ 510)."""
    merged = "\n".join(line.strip() for line in lines if line.strip())
    if len(merged) > MAX_ADDRESS:
        raise Permanent(
            f"the address is {len(merged)} characters; e-conomic allows {MAX_ADDRESS}",
            hint="Shorten the customer's address lines in the PSA.",
        )
    return merged or None


def split_address(address: str | None) -> tuple[str, ...]:
    """e-conomic's one address back into lines."""
    return tuple(line.strip() for line in (address or "").splitlines() if line.strip())


def customer_name(name: str) -> str:
    """``name``: 1–255 characters (the domain guarantees it; checked for the ERP's sake)."""
    if not name.strip() or len(name) > MAX_CUSTOMER_NAME:
        raise Permanent(f"customer name must be 1–{MAX_CUSTOMER_NAME} characters")
    return name.strip()


def vat_zone(treatment: VatTreatment, settings: EconomicSettings) -> VatZoneRef:
    """The e-conomic VAT zone of a VAT treatment, from the connection's settings."""
    return VatZoneRef(vat_zone_number=settings.vat_zone[treatment])


def customer_treatment(customer: Customer, settings: EconomicSettings) -> VatTreatment:
    """A customer's VAT treatment seen from the agreement's country."""
    return vat_treatment(settings.home_country, customer.country, customer.vat_number or None)


def customer_to_dto(
    customer: Customer,
    settings: EconomicSettings,
    *,
    existing: CustomerDto | None = None,
    number: int | None = None,
) -> CustomerDto:
    """The e-conomic customer for a PSA customer. The number is always sent, so a retried
    create collides instead of creating a second customer. With ``existing`` (an update),
    what the PSA does not master — group, payment terms, layout, salesperson, barred — is kept,
    because PUT replaces the whole document. ``number`` overrides the PSA number when the
    customer is linked to an e-conomic customer with another number."""
    identification = customer.registration_number or customer.vat_number
    return CustomerDto(
        customer_number=number if number is not None else customer_number(customer.number),
        name=customer_name(customer.name),
        currency=customer.currency,
        customer_group=(
            existing.customer_group
            if existing
            else CustomerGroupRef(customer_group_number=settings.customer_group_number)
        ),
        payment_terms=(
            existing.payment_terms
            if existing
            else PaymentTermsRef(payment_terms_number=settings.payment_terms_number)
        ),
        vat_zone=vat_zone(customer_treatment(customer, settings), settings),
        address=merge_address_lines(customer.address.lines),
        zip=or_none(customer.address.postal_code[:MAX_ZIP]),
        city=or_none(customer.address.city[:MAX_CITY]),
        country=country_name(customer.country),
        email=or_none(customer.email),
        corporate_identification_number=or_none(identification[:40]),
        vat_number=(
            or_none(customer.vat_number) if settings.home_country in VAT_NUMBER_COUNTRIES else None
        ),
        ean=or_none(customer.ean),
        telephone_and_fax_number=or_none(customer.phone),
        website=or_none(customer.website),
        layout=existing.layout if existing else None,
        sales_person=existing.sales_person if existing else None,
        mobile_phone=existing.mobile_phone if existing else None,
        barred=existing.barred if existing else None,
    )


def erp_customer(dto: CustomerDto) -> ErpCustomer:
    """An e-conomic customer as the neutral :class:`ErpCustomer`."""
    number = str(dto.customer_number or "")
    return ErpCustomer(
        external_id=number,
        number=number,
        name=dto.name,
        currency=dto.currency,
        country=country_code(dto.country or ""),
        address_lines=split_address(dto.address),
        postal_code=dto.zip or "",
        city=dto.city or "",
        vat_number=dto.vat_number or dto.corporate_identification_number or "",
        ean=dto.ean or "",
        email=dto.email or "",
        phone=dto.telephone_and_fax_number or "",
        website=dto.website or "",
        barred=bool(dto.barred),
        updated=dto.last_updated,
    )


def contact_to_dto(contact: Contact, *, customer: int) -> ContactDto:
    """A PSA contact (first and last name already one ``name``) as a customer contact."""
    return ContactDto(
        name=contact.name[:MAX_CUSTOMER_NAME],
        email=or_none(contact.email),
        phone=or_none(contact.phone),
        customer=CustomerRef(customer_number=customer),
    )


def employee_to_dto(employee: Employee, settings: EconomicSettings) -> EmployeeDto:
    """A PSA employee in the employee group chosen at setup."""
    return EmployeeDto(
        name=employee.name[:MAX_EMPLOYEE_NAME],
        email=or_none(employee.email),
        employee_group=EmployeeGroupRef(employee_group_number=settings.employee_group_number),
    )


def erp_product(dto: ProductDto) -> ErpProduct:
    """An e-conomic product; its departmental distribution is kept as the department."""
    distribution = dto.departmental_distribution
    return ErpProduct(
        number=dto.product_number,
        name=dto.name,
        unit=(dto.unit.name or "") if dto.unit else "",
        department=str(distribution.departmental_distribution_number) if distribution else "",
        barred=bool(dto.barred),
    )


# invoice lines ------------------------------------------------------------------------------


def unit_net_price(price: Money, *, position: int, description: str) -> Decimal:
    """``unitNetPrice``: at most two decimals (E04740), refused naming the line otherwise."""
    amount = price.amount
    exponent = amount.as_tuple().exponent
    decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if decimals > MAX_PRICE_DECIMALS and amount != amount.quantize(Decimal("0.01")):
        raise Permanent(
            f"line {position} ('{description}'): unit price {price} has more than two decimals",
            hint="e-conomic accepts unit prices with at most two decimals; round the price.",
        )
    if minor_unit_exponent(price.currency) > MAX_PRICE_DECIMALS:
        return amount.quantize(Decimal("0.01"))
    return amount


def nonzero_quantity(
    quantity: Decimal, unit_price: Decimal, amount: Decimal, *, position: int
) -> tuple[Decimal, Decimal]:
    """e-conomic refuses quantity 0 ("use rate 0 instead"): a 0-quantity line whose amount is
    0 is sent as 0.01 × 0; a 0-quantity line with an amount cannot be represented."""
    if quantity != 0:
        return quantity, unit_price
    if amount != 0:
        raise Permanent(
            f"line {position} has quantity 0 but an amount of {amount}",
            hint="e-conomic does not allow quantity 0; correct the line in the PSA.",
        )
    return ZERO_QUANTITY_STAND_IN, Decimal(0)


def invoice_line(
    line: InvoiceLine,
    *,
    position: int,
    product: str,
    departments: Mapping[str, str],
) -> InvoiceLineDto:
    """One e-conomic line. Text lines carry only a description; other lines carry product,
    quantity (negative on credit notes), price, discount and the product's department. The
    unit is not sent: the e-conomic product's unit applies."""
    description = line.description[:MAX_LINE_DESCRIPTION]
    if line.kind is LineKind.TEXT:
        return InvoiceLineDto(line_number=position, sort_key=position, description=description)
    if not product.strip():
        raise Permanent(
            f"line {position} ('{line.description}') has no e-conomic product number",
            hint="Set a product-number principle or default product number for this line type.",
        )
    price = unit_net_price(line.unit_price, position=position, description=line.description)
    quantity, price = nonzero_quantity(
        line.quantity, price, line.net_amount.amount, position=position
    )
    department = departments.get(product.strip(), "")
    return InvoiceLineDto(
        line_number=position,
        sort_key=position,
        description=description or None,
        product=product_number(product, position=position),
        quantity=quantity,
        unit_net_price=price,
        discount_percentage=line.discount_percent if line.discount_percent else None,
        departmental_distribution=(
            DepartmentalDistributionRef(departmental_distribution_number=int(department))
            if department.isdigit()
            else None
        ),
    )


# invoice header -----------------------------------------------------------------------------


def recipient_ean(requisition_number: str, customer_ean: str | None) -> str | None:
    """A requisition number starting with "EAN" overrides the customer's EAN (13 digits)."""
    text = requisition_number.strip()
    if text[:3].upper() == "EAN":
        digits = "".join(ch for ch in text[3:] if ch.isdigit())
        if len(digits) == EAN_LENGTH:
            return digits
    return or_none((customer_ean or "")[:EAN_LENGTH])


def recipient(
    customer: CustomerDto,
    *,
    treatment: VatTreatment,
    settings: EconomicSettings,
    contact: int | None,
    requisition_number: str,
) -> Recipient:
    """The invoice recipient from the e-conomic customer, in the VAT zone of the invoice's
    VAT treatment (recipient fields are shorter than the customer's, so they are cut)."""
    return Recipient(
        name=customer.name[:MAX_RECIPIENT_NAME],
        vat_zone=vat_zone(treatment, settings),
        address=or_none((customer.address or "").replace("\n", ", ")[:MAX_RECIPIENT_ADDRESS]),
        zip=customer.zip,
        city=customer.city,
        country=customer.country,
        ean=recipient_ean(requisition_number, customer.ean),
        attention=ContactRef(customer_contact_number=contact) if contact else None,
    )


def draft_invoice(
    document: OutgoingDocument,
    *,
    customer: CustomerDto,
    settings: EconomicSettings,
    departments: Mapping[str, str],
) -> DraftInvoiceDto:
    """The draft invoice (or credit note: negative quantities) for a posted PSA document.

    The correlation goes to ``references.other`` (searchable); the exchange rate is not sent
    (e-conomic uses the daily rate, or 100 for the base currency); payment terms come from the
    customer, as in e-conomic itself.
    """
    invoice = document.invoice
    if len(document.line_products) != len(invoice.lines):
        raise ValueError("line_products must have one entry per invoice line")
    contact = reference_number(document.contact_ref, "contact")
    salesperson = reference_number(document.salesperson_ref, "employee")
    lines = [
        invoice_line(line, position=position, product=product, departments=departments)
        for position, (line, product) in enumerate(
            zip(invoice.lines, document.line_products, strict=True), start=1
        )
    ]
    number = customer_number(document.customer_ref)
    return DraftInvoiceDto(
        date=invoice.invoice_date,
        due_date=invoice.due_date,
        currency=invoice.currency,
        customer=CustomerRef(customer_number=number),
        recipient=recipient(
            customer,
            treatment=invoice.vat_treatment,
            settings=settings,
            contact=contact,
            requisition_number=invoice.requisition_number,
        ),
        layout=LayoutRef(layout_number=settings.layout_number),
        payment_terms=PaymentTermsRef(
            payment_terms_number=customer.payment_terms.payment_terms_number
        ),
        notes=Notes(
            heading=heading(invoice.heading),
            text_line1=text_line1(
                invoice.message,
                invoice.requisition_number,
                requisition_in_text1=settings.requisition_in_text1,
            ),
            text_line2=text_line2(document.psa_reference),
        ),
        references=References(
            other=correlation_reference(document.correlation),
            customer_contact=ContactRef(customer_contact_number=contact) if contact else None,
            sales_person=EmployeeRef(employee_number=salesperson) if salesperson else None,
        ),
        project=project_reference(document.project_ref, project_module=settings.project_module),
        lines=lines,
    )


# reading back -------------------------------------------------------------------------------


def _money(amount: Decimal | None, currency: str) -> Money:
    return Money.of(amount if amount is not None else Decimal(0), currency)


def erp_document_from_draft(dto: DraftInvoiceDto) -> ErpDocument:
    """A draft as the neutral :class:`ErpDocument` (external id: the draft number)."""
    return ErpDocument(
        external_id=str(dto.draft_invoice_number or ""),
        correlation=(dto.references.other or "") if dto.references else "",
        net=_money(dto.net_amount, dto.currency),
        vat=_money(dto.vat_amount, dto.currency),
        gross=_money(dto.gross_amount, dto.currency),
    )


def erp_document_from_booked(dto: BookedInvoiceDto) -> ErpDocument:
    """A booked invoice as :class:`ErpDocument` (external id and booked number: the invoice
    number, since the draft number ceases to exist when e-conomic books it)."""
    number = str(dto.booked_invoice_number)
    return ErpDocument(
        external_id=number,
        correlation=(dto.references.other or "") if dto.references else "",
        net=_money(dto.net_amount, dto.currency),
        vat=_money(dto.vat_amount, dto.currency),
        gross=_money(dto.gross_amount, dto.currency),
        booked_number=number,
    )


def status_from_booked(dto: BookedInvoiceDto) -> StatusUpdate:
    """Balancing: a booked invoice is paid when its remainder is 0; its ``date`` is the date
    e-conomic booked it with (the entries' date)."""
    number = str(dto.booked_invoice_number)
    remainder = _money(dto.remainder, dto.currency) if dto.remainder is not None else None
    return StatusUpdate(
        correlation=(dto.references.other or "") if dto.references else "",
        external_id=number,
        status=PostingStatus.BOOKED,
        booked_number=number,
        gross=_money(dto.gross_amount, dto.currency),
        remainder=remainder,
        paid=remainder is not None and remainder.is_zero(),
        due_date=dto.due_date,
        booked_on=dto.date,
    )


def erp_expense(entry: EntryDto, *, base_currency: str, account: int) -> ErpExpense:
    """An entry on an expense account. Imported expenses carry no VAT: the amount is taken
    as excluding VAT, as the reference integration does."""
    in_base = entry.amount_in_base_currency
    return ErpExpense(
        external_id=str(entry.entry_number),
        day=entry.date,
        amount=_money(entry.amount, entry.currency),
        amount_in_base_currency=_money(
            in_base if in_base is not None else entry.amount,
            base_currency if in_base is not None else entry.currency,
        ),
        text=entry.text or "",
        voucher_number=str(entry.voucher_number) if entry.voucher_number is not None else "",
        project_ref=str(entry.project.project_number) if entry.project else "",
        account=str(entry.account.account_number if entry.account else account),
    )
