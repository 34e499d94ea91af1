"""Pure mapping between ledgerlink's domain / neutral types and Fortnox documents.

What is sent follows the reference integration (fact sheet Part 1, §1.3): the customer's
number, the correlation in ``ExternalInvoiceReference1``, P.O. number, the customer's and our
reference, heading and message, the currency (Fortnox decides the rate) and the rows; **not**
the PSA invoice number, due date or payment terms, which Fortnox fills from the customer and
its own settings. Unlike the reference integration, each row carries the PSA's VAT rate (else
Fortnox charges the article's rate on, say, a 12 % hotel night), the draft carries the PSA's
invoice date (else Fortnox dates it the day of the transfer, and a late transfer lands in
another VAT period than the PSA's posted document; a date in a period locked in Fortnox is
then refused, and the user sees why) and the project's number (``Project``; the reference
integration sends projects to Fortnox but not on the invoice).

Every limit is Fortnox's (OpenAPI document); a text shown to people is shortened at a word
(the PSA keeps the whole text), an identifier that does not fit is refused with a
:class:`~ledgerlink.connectors.contract.Permanent` naming what to fix — except a project
number, which Fortnox takes as letters and digits only: its other characters are dropped
(``P-200`` → ``P200``, :func:`project_number`).

Row descriptions: the reference integration splits a description over 50 characters into
extra text rows (Fortnox prints 50 on a line although the property takes 255); so do we, at
word boundaries, so nothing of the PSA's specification is lost.

Credit notes are credit invoices the documented way (fact sheet §2.3, §2.9): an invoice with
the credited quantities negative whose ``CreditInvoiceReference`` names the booked Fortnox
invoice it credits. ``PUT /3/invoices/{n}/credit`` would credit the whole invoice, which a
partial PSA credit note does not, and could not carry our correlation; a credit note of an
invoice Fortnox does not have booked (still a draft, or never transferred) goes without the
reference, as a negative invoice.

Expense import (fact sheet §1.3, "Expense import"): the rows of the vouchers of the chosen
journal (voucher series) on the chosen accounts, each an expense excluding VAT (the VAT is
on its own row, on a VAT account), with the row's project.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import lru_cache

from babel import Locale

from ledgerlink.connectors._kit.text import (
    letters_and_digits,
    merge_lines,
    shorten_at_word,
    split_at_words,
)
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
from ledgerlink.connectors.fortnox.dtos import (
    ArticleDto,
    CustomerDto,
    InvoiceDto,
    InvoiceReadDto,
    InvoiceRowDto,
    ProjectDto,
    VoucherDto,
)
from ledgerlink.domain.invoices import InvoiceLine, LineKind
from ledgerlink.domain.money import Money
from ledgerlink.domain.parties import Customer
from ledgerlink.domain.totals import line_vat_percents
from ledgerlink.domain.vat import VatTreatment, vat_treatment
from ledgerlink.domain.work import Project

#: Row description shown on one printed line; longer descriptions continue in text rows.
ROW_LINE = 50
MAX_EXTERNAL_REFERENCE = 80
MAX_YOUR_ORDER_NUMBER = 75
MAX_REFERENCE = 50  # YourReference, OurReference
MAX_REMARKS = 1024
MAX_COMMENTS = 1024
MAX_ZIP_CODE = 10
MAX_WWW = 128
MAX_GLN = 13
MAX_CUSTOMER_NUMBER = 25  # ours: Fortnox's customer numbers are short texts
MAX_PROJECT_NUMBER = 20
MAX_PROJECT_DESCRIPTION = 50
#: Fortnox keeps every company's books in Swedish kronor.
BOOKS_CURRENCY = "SEK"
#: Fortnox's VAT type of a customer by the sale's VAT treatment.
VAT_TYPES = {
    VatTreatment.DOMESTIC: "SEVAT",
    VatTreatment.EU_REVERSE_CHARGE: "EUREVERSEDVAT",
    VatTreatment.EXPORT: "EXPORT",
}


# text rules ---------------------------------------------------------------------------------


def shown_text(text: str, limit: int) -> str | None:
    """Display text (references, heading, message): stripped, shortened at a word to
    ``limit``; empty is not sent."""
    return shorten_at_word(text.strip(), limit) or None


def correlation_reference(correlation: str) -> str:
    """``ExternalInvoiceReference1``: searched for later, so never shortened; one that does
    not fit is an engine bug and refused."""
    text = correlation.strip()
    if not text or len(text) > MAX_EXTERNAL_REFERENCE:
        raise Permanent(
            f"correlation reference '{correlation}' must be 1–{MAX_EXTERNAL_REFERENCE} characters",
            hint="This is a ledgerlink fault; report it.",
        )
    return text


def your_order_number(requisition_number: str) -> str | None:
    """``YourOrderNumber`` ("Ert ordernummer"): the customer matches its P.O. number to its
    orders, so a cut one would be wrong; over 75 characters is refused."""
    text = requisition_number.strip()
    if len(text) > MAX_YOUR_ORDER_NUMBER:
        raise Permanent(
            f"the P.O. number '{text}' is {len(text)} characters; Fortnox allows "
            f"{MAX_YOUR_ORDER_NUMBER}",
            hint="Shorten the invoice's P.O. number in the PSA (credit and post it again).",
        )
    return text or None


def row_description_lines(description: str) -> list[str]:
    """A row's description as printed lines of at most :data:`ROW_LINE` characters (the
    first goes on the article row, the others on text rows below it)."""
    return split_at_words(description, ROW_LINE)


# parties ------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _swedish_names() -> dict[str, str]:
    return dict(Locale("sv").territories)


@lru_cache(maxsize=1)
def _codes_by_swedish_name() -> dict[str, str]:
    return {
        name.casefold(): code
        for code, name in Locale("sv").territories.items()
        if len(code) == 2 and code.isalpha()
    }


def country_name(code: str) -> str | None:
    """Fortnox wants the country's **Swedish** name ("Danmark", fact sheet §1.3, §1.4)."""
    if not code.strip():
        return None
    found = _swedish_names().get(code.strip().upper())
    if found is None:
        raise Permanent(
            f"'{code}' is not a country code Fortnox can name",
            hint="Correct the customer's country (an ISO code such as SE) in the PSA.",
        )
    return found


def country_code(name: str) -> str:
    """Reverse of :func:`country_name`; a name it does not know stays as it is."""
    text = name.strip()
    return _codes_by_swedish_name().get(text.casefold(), text)


def customer_number(number: str) -> str:
    """The PSA's customer number as Fortnox's (sent, so a retried create collides with
    2000637 instead of creating a second customer)."""
    text = number.strip()
    if not text or len(text) > MAX_CUSTOMER_NUMBER or "/" in text:
        raise Permanent(
            f"customer number '{number}' cannot be used in Fortnox",
            hint=f"Give the customer a number of 1–{MAX_CUSTOMER_NUMBER} characters without '/'.",
        )
    return text


def address_lines(lines: Sequence[str]) -> tuple[str | None, str | None]:
    """The PSA's address lines as ``Address1`` and ``Address2`` (the second and any third
    line together, separated by a comma: the kit's :func:`merge_lines`)."""
    merged = merge_lines(lines, 2)
    return (merged[0] if merged else None), (merged[1] if len(merged) > 1 else None)


def _limited(value: str, limit: int, what: str) -> str | None:
    text = value.strip()
    if len(text) > limit:
        raise Permanent(
            f"the customer's {what} '{text}' is longer than Fortnox's {limit} characters",
            hint=f"Correct the customer's {what} in the PSA.",
        )
    return text or None


def vat_type(customer: Customer, *, home_country: str) -> str:
    """The customer's ``VATType`` as seen from the company's country."""
    treatment = vat_treatment(home_country, customer.country, customer.vat_number or None)
    return VAT_TYPES[treatment]


def customer_to_dto(
    customer: Customer, *, home_country: str, number: str | None = None
) -> CustomerDto:
    """The Fortnox customer for a PSA customer. ``number`` ``None`` leaves the number out (a
    PUT, where it is in the path)."""
    address1, address2 = address_lines(customer.address.lines)
    identification = customer.registration_number.strip()
    return CustomerDto(
        CustomerNumber=number,
        Name=customer.name.strip(),
        OrganisationNumber=identification or None,
        VATNumber=customer.vat_number.strip() or None,
        VATType=vat_type(customer, home_country=home_country),
        Type="COMPANY",
        Address1=address1,
        Address2=address2,
        ZipCode=_limited(customer.address.postal_code, MAX_ZIP_CODE, "postal code"),
        City=customer.address.city.strip() or None,
        Country=country_name(customer.country),
        CountryCode=customer.country.strip().upper() or None,
        Currency=customer.currency,
        Email=customer.email.strip() or None,
        Phone1=customer.phone.strip() or None,
        WWW=_limited(customer.website, MAX_WWW, "website"),
        GLN=_limited(customer.ean, MAX_GLN, "EAN/GLN"),
    )


def erp_customer(dto: CustomerDto) -> ErpCustomer:
    """A Fortnox customer (whole, or a list item) for import and linking."""
    number = dto.CustomerNumber or ""
    return ErpCustomer(
        external_id=number,
        number=number,
        name=dto.Name or "",
        currency=dto.Currency or "",
        country=dto.CountryCode or (country_code(dto.Country) if dto.Country else ""),
        address_lines=tuple(line for line in (dto.Address1, dto.Address2) if line),
        postal_code=dto.ZipCode or "",
        city=dto.City or "",
        vat_number=dto.VATNumber or "",
        ean=dto.GLN or "",
        email=dto.Email or "",
        phone=dto.Phone1 or "",
        website=dto.WWW or "",
        barred=dto.Active is False,
    )


def erp_product(dto: ArticleDto) -> ErpProduct:
    """A Fortnox article as a product number (an inactive one is barred)."""
    return ErpProduct(
        number=dto.ArticleNumber,
        name=dto.Description,
        unit=dto.Unit,
        barred=dto.Active is False,
    )


# projects -----------------------------------------------------------------------------------


def project_number(number: str) -> str:
    """``ProjectNumber``: Fortnox takes letters and digits only (fact sheet §1.2, Fortnox's
    "alphanumeric project numbers"), at most 20; the PSA number's other characters are
    dropped (``P-200`` → ``P200``). One with no letter or digit, or longer than 20 without
    the others, is refused."""
    kept = letters_and_digits(number.strip())
    if not kept or len(kept) > MAX_PROJECT_NUMBER:
        raise Permanent(
            f"project number '{number}' cannot be a Fortnox project number",
            hint=f"Fortnox project numbers are 1–{MAX_PROJECT_NUMBER} letters and digits: "
            "renumber the project in the PSA, then transfer again.",
        )
    return kept


def project_to_dto(project: Project) -> ProjectDto:
    """The Fortnox project for a PSA project: its number (:func:`project_number`), its name
    as ``Description`` shortened at a word to 50, ongoing or completed as the PSA says."""
    return ProjectDto(
        ProjectNumber=project_number(project.number),
        Description=shorten_at_word(project.name.strip(), MAX_PROJECT_DESCRIPTION),
        Status="ONGOING" if project.active else "COMPLETED",
    )


# invoices -----------------------------------------------------------------------------------


def quantity_text(quantity: Decimal) -> str:
    """``DeliveredQuantity`` is a string in Fortnox: the exact decimal, no exponent."""
    text = format(quantity.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def vat_rate(percent: Decimal, *, position: int) -> int:
    """Fortnox's row ``VAT`` is a whole per cent (25, 12, 6, 0)."""
    if percent != percent.to_integral_value():
        raise Permanent(
            f"line {position} has VAT {percent} %; Fortnox takes whole per cents only",
            hint="Check the VAT rate of the line's category in the PSA.",
        )
    return int(percent)


def invoice_rows(
    line: InvoiceLine,
    *,
    product: str,
    position: int,
    vat: int | None = None,
    account: int | None = None,
) -> list[InvoiceRowDto]:
    """The rows of one PSA line: an article row (quantity, unit price excluding VAT,
    discount in per cent, the PSA's VAT rate and, for a custom rate, the ``account``; the
    unit comes from the article) with the description's first line, then text rows with
    the rest. A text line is text rows only."""
    lines = row_description_lines(line.description) or [""]
    texts = [InvoiceRowDto(Description=text) for text in lines[1:]]
    if line.kind is LineKind.TEXT:
        return [InvoiceRowDto(Description=lines[0]), *texts]
    if not product.strip():
        raise Permanent(
            f"line {position} ('{line.description}') has no Fortnox article number",
            hint="Set a product-number principle or default product number for this line type.",
        )
    discount = line.discount_percent
    article = InvoiceRowDto(
        ArticleNumber=product.strip(),
        DeliveredQuantity=quantity_text(line.quantity),
        Price=line.unit_price.amount,
        Discount=discount if discount else None,
        DiscountType="PERCENT" if discount else None,
        VAT=vat,
        AccountNumber=account,
        Description=lines[0] or None,
    )
    return [article, *texts]


def credit_reference(credits: str | None) -> str | None:
    """``CreditInvoiceReference`` of a credit invoice: the Fortnox document number of the
    invoice it credits, or nothing."""
    text = (credits or "").strip()
    if text in ("", "0"):
        return None
    if not text.isdigit():
        raise Permanent(
            f"'{credits}' is not a Fortnox invoice number to credit",
            hint="This is a ledgerlink fault; report it.",
        )
    return text


def invoice_to_dto(
    document: OutgoingDocument,
    *,
    vat_accounts: Mapping[int, int] | None = None,
    credits: str | None = None,
) -> InvoiceDto:
    """The draft invoice (or credit invoice: negative quantities, ``credits`` the Fortnox
    invoice it credits) for a posted PSA document; see the module docstring for what is and
    is not sent. Each row carries the PSA's VAT rate, so Fortnox's VAT is the PSA's; a
    domestic row at another rate than the standard one gets its account from
    ``vat_accounts`` (EasyVat wants one, 2004167)."""
    invoice = document.invoice
    if len(document.line_products) != len(invoice.lines):
        raise ValueError("line_products must have one entry per invoice line")
    percents = line_vat_percents(invoice)
    domestic = invoice.vat_treatment is VatTreatment.DOMESTIC
    accounts = vat_accounts or {}
    rows: list[InvoiceRowDto] = []
    for position, (line, product) in enumerate(
        zip(invoice.lines, document.line_products, strict=True), start=1
    ):
        vat = None
        if line.kind is not LineKind.TEXT:
            vat = vat_rate(percents[line.vat_category], position=position)
        account = accounts.get(vat) if domestic and vat is not None else None
        rows += invoice_rows(line, product=product, position=position, vat=vat, account=account)
    return InvoiceDto(
        CustomerNumber=document.customer_ref.strip(),
        ExternalInvoiceReference1=correlation_reference(document.correlation),
        Currency=invoice.currency,
        VATIncluded=False,
        InvoiceDate=invoice.invoice_date.isoformat(),
        CreditInvoiceReference=credit_reference(credits) if invoice.is_credit_note else None,
        Project=project_number(document.project_ref) if document.project_ref.strip() else None,
        YourOrderNumber=your_order_number(invoice.requisition_number),
        YourReference=shown_text(invoice.customer_reference, MAX_REFERENCE),
        OurReference=shown_text(invoice.internal_reference, MAX_REFERENCE),
        Remarks=shown_text(invoice.heading, MAX_REMARKS),
        Comments=shown_text(invoice.message, MAX_COMMENTS),
        InvoiceRows=rows,
    )


# reading back -------------------------------------------------------------------------------


def _money(amount: Decimal | None, currency: str) -> Money:
    return Money.of(amount if amount is not None else Decimal(0), currency)


def erp_document(dto: InvoiceReadDto) -> ErpDocument:
    """An invoice as :class:`ErpDocument`: Fortnox's document number is its number as a
    draft and once booked; the gross is ``Total`` (with the whole-krona ``RoundOff``)."""
    return ErpDocument(
        external_id=dto.DocumentNumber,
        correlation=dto.ExternalInvoiceReference1,
        net=_money(dto.Net, dto.Currency),
        vat=_money(dto.TotalVAT, dto.Currency),
        gross=_money(dto.Total, dto.Currency),
        booked_number=dto.DocumentNumber if dto.Booked else "",
    )


def status_update(dto: InvoiceReadDto) -> StatusUpdate | None:
    """Balancing: a booked invoice with its balance (paid when nothing is left) and its
    ``InvoiceDate`` (Fortnox books an invoice on its invoice date), a cancelled one as
    deleted; ``None`` for an unbooked draft (nothing to report yet)."""
    if dto.Cancelled:
        status = PostingStatus.DELETED
    elif dto.Booked:
        status = PostingStatus.BOOKED
    else:
        return None
    remainder = _money(dto.Balance, dto.Currency) if dto.Balance is not None else None
    return StatusUpdate(
        correlation=dto.ExternalInvoiceReference1,
        external_id=dto.DocumentNumber,
        status=status,
        booked_number=dto.DocumentNumber if dto.Booked else "",
        gross=_money(dto.Total, dto.Currency) if dto.Total is not None else None,
        remainder=remainder,
        paid=dto.Booked and remainder is not None and remainder.is_zero(),
        due_date=dto.DueDate,
        booked_on=dto.InvoiceDate if dto.Booked else None,
    )


def status_fingerprint(dto: InvoiceReadDto) -> str:
    """What balancing reports of an invoice, as one text: a change of it is news."""
    return "|".join(
        (
            "C" if dto.Cancelled else "B" if dto.Booked else "D",
            str(dto.Balance),
            str(dto.Total),
        )
    )


# expenses -----------------------------------------------------------------------------------


def expense_id(voucher: VoucherDto, row: int) -> str:
    """An expense entry's id: financial year, series and number of its voucher, and the
    row's 1-based position (vouchers are never changed, so a row keeps its position)."""
    return f"{voucher.Year}:{voucher.VoucherSeries}{voucher.VoucherNumber}:{row}"


def expenses_of(voucher: VoucherDto, accounts: frozenset[int]) -> list[ErpExpense]:
    """The expense entries of a voucher: its rows on ``accounts`` (not removed, with an
    amount), debit positive, credit negative, in SEK, excluding VAT (the VAT is its own
    row), with the row's project and text (the voucher's when the row has none)."""
    found: list[ErpExpense] = []
    for position, row in enumerate(voucher.VoucherRows, start=1):
        if row.Account not in accounts or row.Removed:
            continue
        amount = Money.of(row.Debit - row.Credit, BOOKS_CURRENCY)
        if amount.is_zero():
            continue
        found.append(
            ErpExpense(
                external_id=expense_id(voucher, position),
                day=voucher.TransactionDate,
                amount=amount,
                amount_in_base_currency=amount,
                text=(row.Description or row.TransactionInformation or voucher.Description),
                voucher_number=f"{voucher.VoucherSeries}{voucher.VoucherNumber}",
                project_ref=row.Project,
                account=str(row.Account),
            )
        )
    return found
