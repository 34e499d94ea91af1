"""Pure mapping between ledgerlink's domain / neutral types and Exact Online's entities.

What is sent follows the reference integration (fact sheet Part 1, §1.3):

* **Customer** (``crm/Accounts``): the PSA's *numeric* customer number as ``Code`` (Exact pads
  it to 18 characters with spaces), ``Status`` "C", name, address, e-mail, the currency as
  sales currency and the VAT number, which Exact checks (a failing check refuses the
  customer). Exact makes the ``ID`` (a GUID): that is the customer's external key. No VAT
  percentage is sent; Exact applies its own setting.
* **Invoice** (``salesinvoice/SalesInvoices``, lines inline): ``Type`` 8020 for an invoice,
  8021 for a credit note (whose PSA lines already carry negative quantities), the sales
  journal chosen at setup, ``OrderedBy`` the customer's GUID, ``OrderDate`` the invoice date,
  the heading as ``Description``, the P.O. number as ``PaymentReference``, the project
  manager (the PSA's "our reference") as ``YourRef``. Exact takes the payment condition from
  the account and numbers the invoice when its user processes it.
* **Correlation in** ``Remarks``: the reference integration writes its link field (the PSA
  invoice reference) there; ``Remarks`` is internal (not printed), long enough (1,000) that the
  correlation is never cut, and searchable with ``$filter=Remarks eq '…'`` (§2.8). ``YourRef``,
  which the design names, is printed on the customer's invoice as *their* reference and holds
  the project manager in the reference integration, so it is not used for correlation.
* **Lines**: the item GUID of the product number, quantity, unit price excluding VAT, the
  discount as a fraction (PSA % / 100), the PSA project number as ``CostCenter``, and the
  Exact VAT code of the PSA's rate for the line (not in the reference integration: without it
  Exact charges the item's own rate, and a 9 % line would differ from the PSA's totals).

Expense import (fact sheet §1.3, "Expense import (Exact → PSA)"): each line of a purchase
entry (a supplier's invoice or credit note) with an amount is one expense, excluding VAT (the
line's ``AmountFC``; ``AmountDC`` in the division's currency), a cost positive and a credit
note's line negative as Exact signs them. The PSA project is the line's cost centre (the PSA
project number is the cost centre in this integration, as on sales lines); an Exact
``Project`` on the line is not read, as the integration uses no Exact projects. The sheet
matches the supplier's name to a PSA customer; the neutral expense has no place for a
customer, so the supplier's name leads the expense's text, with the line's description (the
entry's when the line has none). Rejected entries (``Status`` 5) are not expenses.

Limits are Exact's (the emulator's model, from picqer's docblocks); a text shown to people is
shortened at a word (the whole text goes to the line's ``Notes``), an identifier that does not
fit is refused with a :class:`~ledgerlink.connectors.contract.Permanent` naming what to fix.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from decimal import Decimal

from ledgerlink.connectors._kit.text import shorten_at_word
from ledgerlink.connectors.contract import (
    ErpCustomer,
    ErpDocument,
    ErpExpense,
    ErpProduct,
    FieldError,
    OutgoingDocument,
    Permanent,
    PostingStatus,
    StatusUpdate,
)
from ledgerlink.connectors.exact.dtos import (
    AccountDto,
    ContactDto,
    ItemDto,
    PurchaseEntryDto,
    PurchaseEntryLineDto,
    SalesInvoiceDto,
    SalesInvoiceLineDto,
    SalesInvoiceReadDto,
)
from ledgerlink.domain.invoices import InvoiceLine, LineKind
from ledgerlink.domain.money import Money
from ledgerlink.domain.parties import Contact, Customer
from ledgerlink.domain.totals import line_vat_percents
from ledgerlink.domain.vat import VatTreatment

INVOICE_TYPE = 8020
CREDIT_NOTE_TYPE = 8021
#: ``Status`` of a processed (booked) sales invoice; 10 (draft) and 20 (open) are unprocessed.
PROCESSED = 50
CUSTOMER_STATUS = "C"

MAX_CODE = 18  # Account.Code
MAX_NAME = 100  # Account.Name
MAX_ADDRESS_LINE = 100
MAX_EMAIL = 100
MAX_DESCRIPTION = 255  # SalesInvoice.Description (the heading)
MAX_YOUR_REF = 50
MAX_REMARKS = 1000
MAX_LINE_DESCRIPTION = 60
MAX_COST_CENTER = 8
MAX_CONTACT_NAME = 50  # FirstName, LastName
#: ``Status`` of a rejected purchase entry (20 open and 50 processed ones are imported).
REJECTED = 5
MAX_EXPENSE_TEXT = 255  # what the hub keeps of an imported expense's text


# text rules ---------------------------------------------------------------------------------


def shown_text(text: str, limit: int) -> str | None:
    """Display text (heading, references, names): stripped, shortened at a word to
    ``limit``; empty is not sent."""
    return shorten_at_word(text.strip(), limit) or None


def odata_string(text: str) -> str:
    """``text`` as an OData string literal (a quote is doubled)."""
    return "'" + text.replace("'", "''") + "'"


def correlation_reference(correlation: str) -> str:
    """``Remarks``: searched for later, so never shortened; one that does not fit is an
    engine bug and refused."""
    text = correlation.strip()
    if not text or len(text) > MAX_REMARKS:
        raise Permanent(
            f"correlation reference '{correlation}' must be 1–{MAX_REMARKS} characters",
            hint="This is a ledgerlink fault; report it.",
        )
    return text


def line_texts(description: str) -> tuple[str | None, str | None]:
    """A line's ``Description`` (Exact shows 60 characters) and ``Notes``: a description that
    does not fit is shortened at a word and kept whole in the notes, so nothing is lost."""
    text = " ".join(description.split())
    if len(text) <= MAX_LINE_DESCRIPTION:
        return text or None, None
    return shorten_at_word(text, MAX_LINE_DESCRIPTION), description.strip()


def cost_center(project_ref: str) -> str | None:
    """The PSA project number as the line's ``CostCenter`` (a code of at most 8 characters,
    which the Exact user creates per project); a longer one is refused, not cut, as a cut
    code would book on another project."""
    text = project_ref.strip()
    if len(text) > MAX_COST_CENTER:
        raise Permanent(
            f"project number '{text}' is longer than an Exact cost centre code "
            f"({MAX_COST_CENTER} characters)",
            hint="Give the project a number of at most 8 characters in the PSA, or transfer "
            "without the project.",
            field_errors=(
                FieldError(path="SalesInvoiceLines.CostCenter", message="too long", value=text),
            ),
        )
    return text or None


# parties ------------------------------------------------------------------------------------


def customer_code(number: str) -> str:
    """The PSA customer number as Exact's account ``Code``: digits only, at most 18 (Exact
    pads it with spaces; the reference integration cannot transfer or link others)."""
    text = number.strip()
    if not text.isdigit() or not text.isascii() or len(text) > MAX_CODE:
        raise Permanent(
            f"customer number '{number}' cannot be an Exact Online customer code: Exact "
            f"takes numeric codes of at most {MAX_CODE} digits",
            hint="Give the customer a numeric customer number (digits only) in the PSA, then "
            "transfer again.",
            field_errors=(FieldError(path="Code", message="numeric only", value=text),),
        )
    return text


def _limited(value: str, limit: int, what: str) -> str | None:
    text = value.strip()
    if len(text) > limit:
        raise Permanent(
            f"the customer's {what} '{text}' is longer than Exact's {limit} characters",
            hint=f"Correct the customer's {what} in the PSA.",
        )
    return text or None


def customer_to_dto(customer: Customer, *, code: str | None) -> AccountDto:
    """The Exact account for a PSA customer; ``code`` ``None`` leaves the code out (an
    update, where the account is in the path)."""
    lines = [*customer.address.lines, None, None, None]
    return AccountDto(
        Code=code,
        Name=shown_text(customer.name, MAX_NAME),
        Status=CUSTOMER_STATUS,
        IsSales=True,
        VATNumber=customer.vat_number.strip() or None,
        ChamberOfCommerce=customer.registration_number.strip() or None,
        Email=_limited(customer.email, MAX_EMAIL, "e-mail address"),
        AddressLine1=shown_text(lines[0] or "", MAX_ADDRESS_LINE),
        AddressLine2=shown_text(lines[1] or "", MAX_ADDRESS_LINE),
        AddressLine3=shown_text(lines[2] or "", MAX_ADDRESS_LINE),
        Postcode=customer.address.postal_code.strip() or None,
        City=customer.address.city.strip() or None,
        Country=customer.country.strip().upper() or None,
        SalesCurrency=customer.currency,
    )


def erp_customer(dto: AccountDto) -> ErpCustomer:
    """An Exact account for import and linking: the GUID is its key, the code (without
    Exact's padding) its number."""
    lines = (dto.AddressLine1, dto.AddressLine2, dto.AddressLine3)
    return ErpCustomer(
        external_id=dto.ID or "",
        number=(dto.Code or "").strip(),
        name=dto.Name or "",
        currency=dto.SalesCurrency or "",
        country=(dto.Country or "").strip(),
        address_lines=tuple(line for line in lines if line),
        postal_code=dto.Postcode or "",
        city=dto.City or "",
        vat_number=dto.VATNumber or "",
        email=dto.Email or "",
        barred=bool(dto.Blocked),
        updated=dto.Modified,
    )


def is_customer(dto: AccountDto) -> bool:
    """Whether an account is a customer to import: a sales relation (not only a supplier)."""
    return dto.Status == CUSTOMER_STATUS or bool(dto.IsSales)


def contact_names(name: str) -> tuple[str | None, str]:
    """``FirstName`` and ``LastName`` (required) of a contact: the last word is the last
    name ("Mette Hansen" → "Mette", "Hansen")."""
    words = name.split()
    first = " ".join(words[:-1])
    return (shown_text(first, MAX_CONTACT_NAME), shown_text(words[-1], MAX_CONTACT_NAME) or "")


def contact_to_dto(account_id: str, contact: Contact) -> ContactDto:
    """The Exact contact of a PSA contact at the account ``account_id``."""
    first, last = contact_names(contact.name)
    return ContactDto(
        Account=account_id, FirstName=first, LastName=last, Email=contact.email.strip() or None
    )


def same_contact(dto: ContactDto, contact: Contact) -> bool:
    """Whether an Exact contact is the PSA contact: the same e-mail address, or (without one)
    the same name."""
    if contact.email.strip() and dto.Email:
        return dto.Email.strip().casefold() == contact.email.strip().casefold()
    first, last = contact_names(contact.name)
    full = " ".join(filter(None, (dto.FirstName, dto.LastName)))
    return " ".join(full.split()).casefold() == " ".join(filter(None, (first, last))).casefold()


def erp_product(dto: ItemDto) -> ErpProduct:
    """An Exact item as a product number (an item that is not a sales item is barred)."""
    return ErpProduct(
        number=dto.Code.strip(),
        name=dto.Description,
        unit=dto.Unit,
        barred=dto.IsSalesItem is False,
    )


# invoices -----------------------------------------------------------------------------------


def vat_key(treatment: VatTreatment, percent: Decimal) -> str:
    """The key a line's VAT code is chosen by: the treatment for a sale without Dutch-style
    VAT (reverse charge, export), else the percentage as text (``"21"``, ``"9"``)."""
    if treatment is not VatTreatment.DOMESTIC:
        return treatment.value
    return format(percent.normalize(), "f")


def vat_keys(document: OutgoingDocument) -> set[str]:
    """The VAT keys (see :func:`vat_key`) a document's lines need codes for."""
    invoice = document.invoice
    percents = line_vat_percents(invoice)
    return {
        vat_key(invoice.vat_treatment, percents[line.vat_category])
        for line in invoice.lines
        if line.kind is not LineKind.TEXT
    }


def missing_item(code: str, position: int) -> Permanent:
    """The refusal of a line whose product number Exact has no item for."""
    text = f"Exact Online has no item with code '{code}' (logistics/Items)"
    return Permanent(
        f"line {position}: {text}",
        erp_text=text,
        hint=f"Item {code} is not in Exact Online: import product numbers again and choose one "
        "that exists in the product-number principles, or create the item in Exact.",
        field_errors=(
            FieldError(path=f"SalesInvoiceLines[{position - 1}].Item", message=text, value=code),
        ),
        missing_products=(code,),
    )


def quantity_fits(item: ItemDto, quantity: Decimal, position: int) -> None:
    """Exact refuses a decimal quantity on an item that is not divisible; said before
    sending, as every refusal counts against Exact's 10 errors an hour."""
    if item.IsFractionAllowedItem is False and quantity != quantity.to_integral_value():
        raise Permanent(
            f"line {position}: quantity {quantity.normalize()} of item {item.Code.strip()}, "
            "which is not divisible in Exact Online",
            hint=f"Make item {item.Code.strip()} divisible in Exact (Items → 'Fraction "
            "allowed'), or bill whole quantities with it, then transfer again.",
            field_errors=(
                FieldError(
                    path=f"SalesInvoiceLines[{position - 1}].Quantity",
                    message="not divisible",
                    value=str(quantity),
                ),
            ),
        )


def attach_texts(
    lines: Sequence[tuple[InvoiceLine, str]],
) -> list[tuple[int, InvoiceLine, str, str]]:
    """Exact lines need an item, so a PSA text line becomes notes: each amount line (with
    its 1-based position and product) gets the text of the text lines that follow it; those
    before the first amount line go with the first."""
    out: list[tuple[int, InvoiceLine, str, str]] = []
    leading: list[str] = []
    for position, (line, product) in enumerate(lines, start=1):
        if line.kind is LineKind.TEXT:
            if out:
                at, last, code, notes = out[-1]
                out[-1] = (at, last, code, "\n".join(filter(None, (notes, line.description))))
            else:
                leading.append(line.description)
            continue
        out.append((position, line, product, "\n".join(leading)))
        leading = []
    return out


def invoice_lines(
    document: OutgoingDocument,
    *,
    items: Mapping[str, ItemDto],
    vat_codes: Mapping[str, str],
) -> list[SalesInvoiceLineDto]:
    """The document's lines for Exact: ``items`` by product number, ``vat_codes``
    by :func:`vat_key`; text lines become notes (see :func:`attach_texts`)."""
    invoice = document.invoice
    if len(document.line_products) != len(invoice.lines):
        raise ValueError("line_products must have one entry per invoice line")
    percents = line_vat_percents(invoice)
    center = cost_center(document.project_ref)
    pairs = list(zip(invoice.lines, document.line_products, strict=True))
    rows: list[SalesInvoiceLineDto] = []
    for position, line, product, extra in attach_texts(pairs):
        code = product.strip()
        if not code:
            raise Permanent(
                f"line {position} ('{line.description}') has no Exact item code",
                hint="Set a product-number principle or default product number for this line type.",
            )
        item = items.get(code)
        if item is None:
            raise missing_item(code, position)
        quantity_fits(item, line.quantity, position)
        description, notes = line_texts(line.description)
        key = vat_key(invoice.vat_treatment, percents[line.vat_category])
        discount = line.discount_percent / 100
        rows.append(
            SalesInvoiceLineDto(
                Item=item.ID,
                Description=description,
                Quantity=line.quantity,
                UnitPrice=line.unit_price.amount,
                Discount=discount if discount else None,
                VATCode=vat_codes[key],
                CostCenter=center,
                Notes="\n".join(filter(None, (notes, extra))) or None,
            )
        )
    return rows


def invoice_to_dto(
    document: OutgoingDocument,
    *,
    account_id: str,
    journal: str,
    items: Mapping[str, ItemDto],
    vat_codes: Mapping[str, str],
) -> SalesInvoiceDto:
    """The sales invoice (8020) or credit note (8021) for a posted PSA document; see the
    module docstring for what is and is not sent."""
    invoice = document.invoice
    heading = invoice.heading or document.psa_reference
    return SalesInvoiceDto(
        OrderedBy=account_id,
        Journal=journal,
        Type=CREDIT_NOTE_TYPE if invoice.is_credit_note else INVOICE_TYPE,
        OrderDate=invoice.invoice_date,
        Currency=invoice.currency,
        Remarks=correlation_reference(document.correlation),
        Description=shown_text(heading, MAX_DESCRIPTION),
        YourRef=shown_text(invoice.internal_reference or invoice.customer_reference, MAX_YOUR_REF),
        PaymentReference=invoice.requisition_number.strip() or None,
        SalesInvoiceLines=invoice_lines(document, items=items, vat_codes=vat_codes),
    )


# reading back -------------------------------------------------------------------------------


def _money(amount: Decimal | None, currency: str) -> Money:
    return Money.of(amount if amount is not None else Decimal(0), currency)


def erp_document(dto: SalesInvoiceReadDto) -> ErpDocument:
    """A sales invoice as :class:`ErpDocument`: ``AmountFC`` is its gross in the invoice's
    currency, ``VATAmountFC`` its VAT; the number exists once Exact processed it."""
    gross = _money(dto.AmountFC, dto.Currency)
    vat = _money(dto.VATAmountFC, dto.Currency)
    return ErpDocument(
        external_id=dto.InvoiceID,
        correlation=dto.Remarks,
        net=gross - vat,
        vat=vat,
        gross=gross,
        booked_number=booked_number(dto),
    )


def booked_number(dto: SalesInvoiceReadDto) -> str:
    """The invoice number of a processed invoice, else ``""``."""
    if dto.Status == PROCESSED and dto.InvoiceNumber is not None:
        return str(dto.InvoiceNumber)
    return ""


def status_update(dto: SalesInvoiceReadDto, open_amount: Decimal | None) -> StatusUpdate | None:
    """Balancing of one invoice: processed with what is still open (``open_amount``, the
    sum of its rows in the receivables list; ``None``: no row, fully paid) and the
    ``InvoiceDate`` it was booked on; ``None`` for an unprocessed one (nothing to report
    yet)."""
    if dto.Status != PROCESSED:
        return None
    remainder = _money(open_amount, dto.Currency)
    return StatusUpdate(
        correlation=dto.Remarks,
        external_id=dto.InvoiceID,
        status=PostingStatus.BOOKED,
        booked_number=booked_number(dto),
        gross=_money(dto.AmountFC, dto.Currency) if dto.AmountFC is not None else None,
        remainder=remainder,
        paid=remainder.is_zero(),
        due_date=dto.DueDate,
        booked_on=dto.InvoiceDate,
    )


def status_mark(update: StatusUpdate) -> str:
    """A short mark of what balancing reported of an invoice (a change of it is news)."""
    remainder = update.remainder.amount if update.remainder is not None else ""
    text = f"{update.external_id}|{update.booked_number}|{remainder}"
    return hashlib.sha256(text.encode()).hexdigest()[:8]


# expense import -----------------------------------------------------------------------------


def expense_text(supplier: str, description: str) -> str:
    """An imported expense's text: the supplier's name, then the description ("Reisbureau
    Noord B.V.: Train tickets"), shortened at a word to what the hub keeps."""
    text = ": ".join(part for part in (" ".join(supplier.split()), " ".join(description.split()))
                     if part)  # fmt: skip
    return shorten_at_word(text, MAX_EXPENSE_TEXT)


def expense_of(
    entry: PurchaseEntryDto, line: PurchaseEntryLineDto, base_currency: str
) -> ErpExpense | None:
    """One line of a purchase entry as an expense (see the module docstring); ``None`` for
    a line without an amount."""
    if not line.AmountFC:
        return None
    currency = entry.Currency.strip() or base_currency
    amount = Money.of(line.AmountFC, currency)
    if line.AmountDC is not None:
        base = Money.of(line.AmountDC, base_currency)
    elif currency == base_currency:
        base = amount
    else:
        raise Permanent(
            f"Exact Online sent purchase entry {entry.EntryNumber} without its amount in "
            f"{base_currency}",
            hint="This is unexpected of Exact; report it.",
        )
    if entry.EntryDate is None:
        raise Permanent(f"Exact Online sent purchase entry {entry.EntryNumber} without a date")
    return ErpExpense(
        external_id=line.ID,
        day=entry.EntryDate,
        amount=amount,
        amount_in_base_currency=base,
        text=expense_text(entry.SupplierName, line.Description or entry.Description),
        voucher_number=str(entry.EntryNumber) if entry.EntryNumber is not None else "",
        project_ref=line.CostCenter.strip(),
        account=line.GLAccountCode.strip(),
    )


def expenses_of(entry: PurchaseEntryDto, base_currency: str) -> list[ErpExpense]:
    """The expenses of a purchase entry, in line order: none for a rejected entry."""
    if entry.Status == REJECTED:
        return []
    lines = sorted(entry.PurchaseEntryLines, key=lambda line: line.LineNumber or 0)
    found = (expense_of(entry, line, base_currency) for line in lines)
    return [expense for expense in found if expense is not None]
