"""Wire contract ↔ Visma ADK records: pure functions, no ADK calls.

A record is a mapping of ADK field id → Python value (:data:`RecordValue`): ``str`` for
``eChar``, ``Decimal`` for ``eDouble`` (already rounded to the field's decimals by the plugin,
so no float reaches a total), ``bool`` for ``eBool``, ``date``/``None`` for date fields and
``int`` for ``TIMESTAMP`` LONGs. The plugin reads and writes them; everything here is pure and
unit-tested without an ADK.

The rules are the reference integration's (``visma-administration.md`` §1.3): truncations
(customer number 16, address 35, city 24, project code 10, customer order number 25, EAN 13,
electronic reference 35), invoice line text wrapped at 60 characters into extra text rows,
**only product lines carry amounts** (everything else becomes text rows), country "SE" by
default, currency amounts scaled by the configured ``VismaCurrencyFactor``. No rounding row is
sent: Visma rounds an invoice in the base currency to whole kronor itself (``ROUND_OFF`` on the
head), and the gross read back (``TOTAL_AMOUNT``) includes it.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from ledgerlink.interfaces.visma_adk import constants as c
from ledgerlink.wire.operations import (
    CustomerFields,
    DocumentKind,
    DocumentResult,
    DocumentStatus,
    ErpCustomerRecord,
    ExpenseRecord,
    LineKind,
    StatusRecord,
    WireCustomer,
    WireDocument,
)

RecordValue = str | Decimal | bool | date | int | None
Record = Mapping[int, RecordValue]

CUSTOMER_NUMBER_LENGTH = 16
ADDRESS_LENGTH = 35
CITY_LENGTH = 24
PROJECT_CODE_LENGTH = 10
ORDER_NUMBER_LENGTH = 25
EAN_LENGTH = 13
ELECTRONIC_REFERENCE_LENGTH = 35
ROW_TEXT_LENGTH = 60
HEAD_TEXT_LENGTH = 60
SELLER_SIGN_LENGTH = 6

CREDIT_INVOICE = "K"
DEBIT_INVOICE = "F"

CORRELATION_FIELDS: Mapping[str, int] = {
    "CUSTOMER_ORDER_NUMBER": c.ADK_OOI_HEAD_CUSTOMER_ORDER_NUMBER,
    "TEXT3": c.ADK_OOI_HEAD_TEXT3,
}
FIELD_LENGTHS: Mapping[int, int] = {
    c.ADK_OOI_HEAD_CUSTOMER_ORDER_NUMBER: ORDER_NUMBER_LENGTH,
    c.ADK_OOI_HEAD_TEXT3: HEAD_TEXT_LENGTH,
}

# Free-text fields the plugin cuts to the length Visma reports (AdkGetLength); codes and keys
# are never cut silently — a too long code fails with Visma's own text.
CUSTOMER_FREE_TEXT = frozenset(
    {
        c.ADK_CUSTOMER_NAME,
        c.ADK_CUSTOMER_MAILING_ADDRESS,
        c.ADK_CUSTOMER_MAILING_ADDRESS2,
        c.ADK_CUSTOMER_CITY,
        c.ADK_CUSTOMER_ZIPCODE,
        c.ADK_CUSTOMER_REFERENCE,
        c.ADK_CUSTOMER_EMAIL,
        c.ADK_CUSTOMER_TELEPHONE,
    }
)
HEAD_FREE_TEXT = frozenset(
    {
        c.ADK_OOI_HEAD_CUSTOMER_REFERENCE_NAME,
        c.ADK_OOI_HEAD_OUR_REFERENCE_NAME,
        c.ADK_OOI_HEAD_TEXT1,
        c.ADK_OOI_HEAD_TEXT2,
    }
)
ROW_FREE_TEXT = frozenset({c.ADK_OOI_ROW_TEXT, c.ADK_OOI_ROW_UNIT})

CUSTOMER_READ = (
    c.ADK_CUSTOMER_NUMBER,
    c.ADK_CUSTOMER_NAME,
    c.ADK_CUSTOMER_MAILING_ADDRESS,
    c.ADK_CUSTOMER_MAILING_ADDRESS2,
    c.ADK_CUSTOMER_ZIPCODE,
    c.ADK_CUSTOMER_CITY,
    c.ADK_CUSTOMER_CODE_OF_COUNTRY,
    c.ADK_CUSTOMER_CODE_OF_CURRENCY,
    c.ADK_CUSTOMER_VAT_NUMBER,
    c.ADK_CUSTOMER_ORGANISATION_NUMBER,
    c.ADK_CUSTOMER_EANLOC,
    c.ADK_CUSTOMER_EMAIL,
    c.ADK_CUSTOMER_TELEPHONE,
    c.ADK_CUSTOMER_CODE_OF_TERMS_OF_PAYMENT,
    c.ADK_CUSTOMER_SELLER,
    c.ADK_CUSTOMER_INACTIVE,
    c.ADK_CUSTOMER_LASTCHANGE,
    c.ADK_CUSTOMER_TIMESTAMP,
)
CUSTOMER_DATES = frozenset({c.ADK_CUSTOMER_LASTCHANGE})

HEAD_READ = (
    c.ADK_OOI_HEAD_DOCUMENT_NUMBER,
    c.ADK_OOI_HEAD_DOCUMENT_PRINTED,
    c.ADK_OOI_HEAD_DOCUMENT_CANCELLED,
    c.ADK_OOI_HEAD_DOCUMENT_DATE1,
    c.ADK_OOI_HEAD_DOCUMENT_DATE2,
    c.ADK_OOI_HEAD_TYPE_OF_INVOICE,
    c.ADK_OOI_HEAD_CUSTOMER_ORDER_NUMBER,
    c.ADK_OOI_HEAD_TEXT3,
    c.ADK_OOI_HEAD_CURRENCY_CODE,
    c.ADK_OOI_HEAD_TOTAL_AMOUNT,
    c.ADK_OOI_HEAD_BALANCE,
    c.ADK_OOI_HEAD_EXCLUDING_OF_VAT,
    c.ADK_OOI_HEAD_VAT_AMOUNT,
    c.ADK_OOI_HEAD_TIMESTAMP,
)
HEAD_DATES = frozenset({c.ADK_OOI_HEAD_DOCUMENT_DATE1, c.ADK_OOI_HEAD_DOCUMENT_DATE2})

SUPPLIER_INVOICE_READ = (
    c.ADK_SUP_INV_HEAD_GIVEN_NUMBER,
    c.ADK_SUP_INV_HEAD_SUPPLIER_NAME,
    c.ADK_SUP_INV_HEAD_INVOICE_NUMBER,
    c.ADK_SUP_INV_HEAD_INVOICE_DATE,
    c.ADK_SUP_INV_HEAD_CURRENCY_CODE,
    c.ADK_SUP_INV_HEAD_CURRENCY_RATE,
    c.ADK_SUP_INV_HEAD_TOTAL,
    c.ADK_SUP_INV_HEAD_VAT_AMOUNT,
    c.ADK_SUP_INV_HEAD_CANCELLED,
    c.ADK_SUP_INV_HEAD_PROJECT,
    c.ADK_SUP_INV_HEAD_NOTE1,
    c.ADK_SUP_INV_HEAD_TIMESTAMP,
)
SUPPLIER_INVOICE_DATES = frozenset({c.ADK_SUP_INV_HEAD_INVOICE_DATE})

# ADK codes that mean "Visma cannot be reached now" (nothing was written): the host keeps the
# job and retries. Everything else a data call answers is Visma refusing the data.
UNAVAILABLE_CODES = frozenset(
    {
        c.ADKE_NO_DB_OPEN,
        c.ADKE_INVALID_NET_LICENCE,
        c.ADKE_TOO_MANY_LICENCE,
        c.ADKE_INVALID_PATH_COMPANY,
        c.ADKE_INVALID_ADM_PATH,
        c.ADKE_LOGIN_DENIED,
        c.ADKE_LOGIN_FAIL,
    }
)

_CREATE_PROJECT = "Create the project in Visma first; the integration does not create projects."
_TRANSFER_CUSTOMER = "Transfer the customer to Visma first (or import and link it)."
_ARTICLE = (
    "The article (product number) does not exist in Visma: create it, import product numbers "
    "again and check the product-number setup."
)
_IN_LEDGER = "The invoice is already in Visma's ledger; correct it with a credit note instead."
HINTS: Mapping[int, str] = {
    c.ADKE_CUSTOMER_INVALID_SELLER: (
        "Create the säljare with these initials in Visma (Arkiv > Inställningar > Företag > "
        "Referens) or turn on auto_create_sellers."
    ),
    c.ADKE_INVALID_COUNTRY_CODE: (
        "Create the country code (ISO-2) in Visma or correct the customer's country."
    ),
    c.ADKE_INVLAID_PROJECT: _CREATE_PROJECT,
    c.ADKE_INVALID_CURRENCY_CODE: "Create the currency in Visma (Valutakoder) or correct it.",
    c.ADKE_INVALID_PAYMENT_TERMS: (
        "Create payment terms with this code (days net) in Visma or correct the customer's "
        "payment terms."
    ),
    c.ADKE_OOF_INVALID_CUSTOMER: _TRANSFER_CUSTOMER,
    c.ADKE_COULD_NOT_FIND_CUSTOMER: _TRANSFER_CUSTOMER,
    c.ADKE_CUSTOMER_INVALID_CUSTOMERNR: "Give the customer a number Visma accepts.",
    c.ADKE_OOF_INVALID_ARTICLE: _ARTICLE,
    c.ADKE_COULD_NOT_FIND_ARTICLE: _ARTICLE,
    c.ADKE_INVOICE_EDIT_DENIED_BOOKKEEPING: _IN_LEDGER,
    c.ADKE_INVOICE_EDIT_DENIED_ALREADY_IN_LEDGER: _IN_LEDGER,
    c.ADKE_EDIT_DENIED_OBLITERATED: "The invoice is cancelled (makulerad) in Visma.",
    c.ADKE_INVLAID_ACCOUNT: "Create the account in Visma's chart of accounts or correct it.",
    c.ADKE_INVLAID_RESULT_UNIT: (
        "Create the profit centre (resultatenhet) in Visma or correct the department."
    ),
    c.ADKE_TOO_MANY_SIGNS: "A value is longer than the Visma field allows; shorten it.",
    c.ADKE_TOO_MANY_DECIMALS: "A value has more decimals than the Visma field keeps.",
    c.ADKE_EDIT_DENIED_ON_TEXT_ROW: "Only article rows carry amounts in Visma.",
    c.ADKE_INVALID_VAT_CODE: "Correct the VAT code of the article's accounting code in Visma.",
    c.ADKE_DENIED_CREDIT_CREDIT_INVOICE: "A credit note cannot credit another credit note.",
    c.ADKE_DENIED_CREDIT_OBLITERATED_INVOICE: "The credited invoice is cancelled in Visma.",
    c.ADKE_INVALID_NET_LICENCE: (
        "Visma's network licence is not valid or the company is offline; the job waits."
    ),
    c.ADKE_TOO_MANY_LICENCE: "All Visma licences are in use; the job waits for a free one.",
    c.ADKE_INVALID_PATH_COMPANY: "Check [visma] company_path; the job waits.",
    c.ADKE_INVALID_ADM_PATH: "Check [visma] system_path (Gemensamma filer); the job waits.",
    c.ADKE_LOGIN_DENIED: (
        "The company has login activated: set [visma] user and the vault secret "
        "visma:password; the job waits."
    ),
    c.ADKE_LOGIN_FAIL: "Check [visma] user and the vault secret visma:password; the job waits.",
    c.ADKE_NO_DB_OPEN: "Visma closed the company; the job waits.",
}
DEFAULT_HINT = "Correct the data in the PSA or the setup in Visma, then send it again."


def hint_for(code: int) -> str:
    """What the user should do about an ADK error code."""
    return HINTS.get(code, DEFAULT_HINT)


def is_unavailable(code: int) -> bool:
    """Whether an ADK error means Visma cannot be reached now (retry later, nothing written)."""
    return code in UNAVAILABLE_CODES


# --- small rules ------------------------------------------------------------------------------


def truncate(value: str, length: int) -> str:
    """``value`` cut to ``length`` characters (the reference integration's truncation rules)."""
    return value.strip()[:length]


def customer_number(number: str) -> str:
    """A PSA customer number as Visma's key: at most 16 characters."""
    return truncate(number, CUSTOMER_NUMBER_LENGTH)


def project_code(number: str) -> str:
    """A PSA project number as Visma's project code: at most 10 characters."""
    return truncate(number, PROJECT_CODE_LENGTH)


def wrap_text(text: str, width: int = ROW_TEXT_LENGTH) -> list[str]:
    """Word-wrap ``text`` into rows of at most ``width`` characters.

    Line breaks in ``text`` start a new row, blank lines are dropped, and a word longer than
    ``width`` is split. Visma's invoice row text holds 60 characters; the rest of a longer text
    goes to extra text rows.
    """
    rows: list[str] = []
    for paragraph in text.splitlines():
        rows.extend(
            textwrap.wrap(
                paragraph,
                width=width,
                break_long_words=True,
                break_on_hyphens=False,
                replace_whitespace=True,
            )
        )
    return rows


def payment_terms_code(days: int) -> str:
    """Visma's payment-terms code for ``days`` net ("30"); Visma checks that it exists."""
    return "K" if days == 0 else str(days)


def payment_terms_days(code: str) -> int:
    """Days net of a Visma payment-terms code ("30" → 30, "K" kontant → 0)."""
    digits = code.strip()
    return min(int(digits), 365) if digits.isdigit() else 0


def to_decimal(value: float, decimals: int) -> Decimal:
    """An ADK double as a Decimal, rounded half up to ``decimals`` (the field's decimals)."""
    exponent = Decimal(1).scaleb(-decimals)
    return Decimal(repr(float(value))).quantize(exponent, rounding=ROUND_HALF_UP)


def correlation_fits(correlation: str, field_id: int) -> bool:
    """Whether a correlation reference fits its head field without being cut (it never is)."""
    return len(correlation) <= FIELD_LENGTHS.get(field_id, HEAD_TEXT_LENGTH)


def requisition_field(correlation_field: int) -> int:
    """Where the customer's requisition number goes: ``CUSTOMER_ORDER_NUMBER`` unless that field
    holds the correlation reference, then ``TEXT3``."""
    if correlation_field == c.ADK_OOI_HEAD_CUSTOMER_ORDER_NUMBER:
        return c.ADK_OOI_HEAD_TEXT3
    return c.ADK_OOI_HEAD_CUSTOMER_ORDER_NUMBER


# --- cursors ----------------------------------------------------------------------------------

Position = tuple[int, str]
"""Where a change feed stands: (``TIMESTAMP`` LONG, record key) of the last record read."""


def encode_cursor(position: Position) -> str:
    """``"<timestamp>:<key>"``."""
    return f"{position[0]}:{position[1]}"


def decode_cursor(cursor: str | None) -> Position | None:
    """The position of a cursor from :func:`encode_cursor`; ``ValueError`` if it is not one."""
    if not cursor:
        return None
    stamp, separator, key = cursor.partition(":")
    if not separator or not stamp.isdigit():
        raise ValueError(f"'{cursor}' is not a Visma change cursor")
    return int(stamp), key


def after(position: Position, cursor: Position | None) -> bool:
    """Whether a record at ``position`` comes after ``cursor`` (keys compare as numbers when
    both are numbers, as document numbers do)."""
    if cursor is None:
        return True
    if position[0] != cursor[0]:
        return position[0] > cursor[0]
    if position[1].isdigit() and cursor[1].isdigit():
        return int(position[1]) > int(cursor[1])
    return position[1] > cursor[1]


# --- invoices ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RowPlan:
    """One Visma invoice row to write: an article row (with amounts) or a text row (without)."""

    text: str
    article_number: str = ""
    quantity: Decimal = Decimal(0)
    unit_price: Decimal = Decimal(0)
    discount_percent: Decimal = Decimal(0)
    unit: str = ""
    project: str = ""
    profit_centre: str = ""
    vat_code: str = ""  # "" = the article's accounting code decides

    @property
    def is_text(self) -> bool:
        """Text rows carry no article, quantity or price."""
        return not self.article_number

    def fields(self) -> dict[int, RecordValue]:
        """The row's ADK fields (a text row sets only its text)."""
        if self.is_text:
            return {c.ADK_OOI_ROW_TEXT: self.text}
        values: dict[int, RecordValue] = {
            c.ADK_OOI_ROW_ARTICLE_NUMBER: self.article_number,
            c.ADK_OOI_ROW_QUANTITY1: self.quantity,
            c.ADK_OOI_ROW_PRICE_EACH_CURRENT_CURRENCY: self.unit_price,
            c.ADK_OOI_ROW_UNIT: self.unit,
        }
        if self.text:
            values[c.ADK_OOI_ROW_TEXT] = self.text
        if self.discount_percent:
            values[c.ADK_OOI_ROW_DISCOUNT] = self.discount_percent
        if self.project:
            values[c.ADK_OOI_ROW_PROJECT] = self.project
        if self.profit_centre:
            values[c.ADK_OOI_ROW_PROFIT_CENTRE] = self.profit_centre
        if self.vat_code:
            values[c.ADK_OOI_ROW_VAT_CODE] = self.vat_code
        return values


#: Visma's VAT codes (momskod) by rate: a Visma company is Swedish, so 1 = 25 %, 2 = 12 %,
#: 3 = 6 % and 0 = no VAT (``visma-administration.md`` §2.5: "1" normal, "0" none).
VAT_CODES: Mapping[Decimal, str] = {
    Decimal(25): "1",
    Decimal(12): "2",
    Decimal(6): "3",
    Decimal(0): "0",
}


class NoVatCode(ValueError):
    """The PSA applied a VAT rate Visma has no code for."""


def vat_code(percent: Decimal | None) -> str:
    """The row VAT code that makes Visma compute the VAT the PSA computed: the code of the
    PSA's rate (0 for reverse charge and export, whatever the article's own code says); ""
    when the hub did not state a rate (the article's accounting code decides)."""
    if percent is None:
        return ""
    code = VAT_CODES.get(percent)
    if code is None:
        rates = ", ".join(f"{rate} %" for rate in VAT_CODES)
        raise NoVatCode(
            f"the PSA applied {percent} % VAT, and Visma has VAT codes only for {rates}"
        )
    return code


def project_reference(document: WireDocument) -> str:
    """The text of the optional first row: project number and invoice heading."""
    return " - ".join(part for part in (document.project_number, document.heading) if part)


def invoice_rows(
    document: WireDocument, *, default_unit: str, add_project_reference: bool
) -> list[RowPlan]:
    """The Visma rows of a PSA document.

    Only lines with a product number (and not of kind ``text``) become article rows with
    quantity, price and discount; every other line becomes text rows. A text longer than 60
    characters is word-wrapped: the first part stays on the article row, the rest follows as
    text rows. A credit note's quantities change sign (the PSA sends them negative; a Visma
    credit invoice takes positive quantities and makes the amounts negative itself). Each
    article row carries the VAT code of the rate the PSA applied (:func:`vat_code`), so a
    reverse-charged or exported line gets no VAT even on an article whose code has 25 %;
    :class:`NoVatCode` when Visma has no code for that rate.
    """
    credit = document.kind is DocumentKind.CREDIT_NOTE
    rows: list[RowPlan] = []
    if add_project_reference:
        rows.extend(RowPlan(text) for text in wrap_text(project_reference(document)))
    for line in document.lines:
        texts = wrap_text(line.description)
        if line.kind is LineKind.TEXT or not line.product_number:
            rows.extend(RowPlan(text) for text in texts)
            continue
        rows.append(
            RowPlan(
                texts[0] if texts else "",
                article_number=line.product_number,
                quantity=-line.quantity if credit else line.quantity,
                unit_price=line.unit_price,
                discount_percent=line.discount_percent,
                unit=line.unit or default_unit,
                project=project_code(line.project_number),
                profit_centre=line.department,
                vat_code=vat_code(line.vat_percent),
            )
        )
        rows.extend(RowPlan(text) for text in texts[1:])
    return rows


def head_fields(
    document: WireDocument, *, correlation_field: int, seller_name: str = ""
) -> dict[int, RecordValue]:
    """The invoice head fields of a PSA document (rows are separate: :func:`invoice_rows`).

    The correlation reference goes to ``correlation_field`` uncut (checked with
    :func:`correlation_fits`), the requisition number to :func:`requisition_field`, the contact
    to "Er referens", the customer reference to the electronic reference (35), the salesperson's
    initials to the säljare code and their name to "Vår referens". VAT travels on the rows
    (:func:`invoice_rows`), as the PSA's rate's VAT code.
    """
    values: dict[int, RecordValue] = {
        c.ADK_OOI_HEAD_CUSTOMER_NUMBER: customer_number(document.customer_number),
        c.ADK_OOI_HEAD_TYPE_OF_INVOICE: (
            CREDIT_INVOICE if document.kind is DocumentKind.CREDIT_NOTE else DEBIT_INVOICE
        ),
        c.ADK_OOI_HEAD_DOCUMENT_DATE1: document.invoice_date,
        c.ADK_OOI_HEAD_DOCUMENT_DATE2: document.due_date,
        c.ADK_OOI_HEAD_CURRENCY_CODE: document.currency,
        c.ADK_OOI_HEAD_INCLUDING_VAT: False,
        correlation_field: document.correlation,
    }
    if document.requisition_number:
        target = requisition_field(correlation_field)
        values[target] = truncate(
            document.requisition_number, FIELD_LENGTHS.get(target, HEAD_TEXT_LENGTH)
        )
    optional: dict[int, str] = {
        c.ADK_OOI_HEAD_CUSTOMER_REFERENCE_NAME: document.contact_ref,
        c.ADK_OOI_HEAD_ELECTRONIC_REFERENCE: truncate(
            document.customer_reference, ELECTRONIC_REFERENCE_LENGTH
        ),
        c.ADK_OOI_HEAD_SELLER_CODE: document.salesperson,
        c.ADK_OOI_HEAD_OUR_REFERENCE_NAME: seller_name,
        c.ADK_OOI_HEAD_PROJECT_CODE: project_code(document.project_number),
        c.ADK_OOI_HEAD_PROFIT_CENTRE: document.department,
        c.ADK_OOI_HEAD_TEXT1: document.heading,
    }
    values.update({field_id: text for field_id, text in optional.items() if text})
    return values


def _text(record: Record, field_id: int) -> str:
    value = record.get(field_id)
    return value.strip() if isinstance(value, str) else ""


def _amount(record: Record, field_id: int) -> Decimal:
    value = record.get(field_id)
    return value if isinstance(value, Decimal) else Decimal(0)


def _flag(record: Record, field_id: int) -> bool:
    return record.get(field_id) is True


def _day(record: Record, field_id: int) -> date | None:
    value = record.get(field_id)
    return value if isinstance(value, date) else None


def document_key(record: Record) -> str:
    """The invoice's document number as text ("1001")."""
    return str(int(_amount(record, c.ADK_OOI_HEAD_DOCUMENT_NUMBER)))


def is_credit(record: Record) -> bool:
    """Whether an invoice head is a credit invoice."""
    return _text(record, c.ADK_OOI_HEAD_TYPE_OF_INVOICE).upper() == CREDIT_INVOICE


def is_booked(record: Record) -> bool:
    """In Visma's ledger: printed (Visma books an invoice when it is printed) and not cancelled."""
    printed = _flag(record, c.ADK_OOI_HEAD_DOCUMENT_PRINTED)
    return printed and not _flag(record, c.ADK_OOI_HEAD_DOCUMENT_CANCELLED)


def _psa_sign(record: Record) -> Decimal:
    # The PSA sees credit notes negative. Visma keeps a credit invoice's amounts negative; should
    # an installation report them positive, they are turned here, never in the PSA.
    credit = is_credit(record) and _amount(record, c.ADK_OOI_HEAD_TOTAL_AMOUNT) > 0
    return Decimal(-1) if credit else Decimal(1)


def document_result(record: Record, *, correlation_field: int) -> DocumentResult:
    """A Visma invoice head as the PSA's draft result (totals with the PSA's signs)."""
    sign = _psa_sign(record)
    number = document_key(record)
    return DocumentResult(
        external_id=number,
        correlation=_text(record, correlation_field),
        currency=_text(record, c.ADK_OOI_HEAD_CURRENCY_CODE),
        net=sign * _amount(record, c.ADK_OOI_HEAD_EXCLUDING_OF_VAT),
        vat=sign * _amount(record, c.ADK_OOI_HEAD_VAT_AMOUNT),
        gross=sign * _amount(record, c.ADK_OOI_HEAD_TOTAL_AMOUNT),
        document_number=number,
        booked_number=number if is_booked(record) else "",
    )


def needs_payment_check(record: Record) -> bool:
    """Whether paid state needs the customer payments: booked with an open ``BALANCE``."""
    return is_booked(record) and _amount(record, c.ADK_OOI_HEAD_BALANCE) != 0


def status_record(
    record: Record, *, correlation_field: int, payments: Decimal | None = None
) -> StatusRecord:
    """Number, state, remainder and paid state of a Visma invoice head.

    Booked means in the ledger (printed); the remainder is ``BALANCE``; paid is a booked invoice
    whose balance is 0 or whose ``CUSTOMERPAYMENT`` amounts (``payments``) cover its total. A
    booked invoice's posting date is its invoice date ``DOCUMENT_DATE1``: Visma enters an
    invoice in the ledger on that date.
    """
    sign = _psa_sign(record)
    total = _amount(record, c.ADK_OOI_HEAD_TOTAL_AMOUNT)
    balance = _amount(record, c.ADK_OOI_HEAD_BALANCE)
    booked = is_booked(record)
    if _flag(record, c.ADK_OOI_HEAD_DOCUMENT_CANCELLED):
        status = DocumentStatus.DELETED
    elif booked:
        status = DocumentStatus.BOOKED
    else:
        status = DocumentStatus.DRAFT
    covered = payments is not None and total != 0 and abs(payments) >= abs(total)
    return StatusRecord(
        correlation=_text(record, correlation_field),
        external_id=document_key(record),
        status=status,
        booked_number=document_key(record) if booked else "",
        currency=_text(record, c.ADK_OOI_HEAD_CURRENCY_CODE),
        gross=sign * total,
        remainder=sign * balance if booked else None,
        paid=booked and (balance == 0 or covered),
        due_date=_day(record, c.ADK_OOI_HEAD_DOCUMENT_DATE2),
        booked_on=_day(record, c.ADK_OOI_HEAD_DOCUMENT_DATE1) if booked else None,
    )


# --- customers --------------------------------------------------------------------------------


def customer_fields(customer: WireCustomer, *, default_country: str) -> dict[int, RecordValue]:
    """A PSA customer as Visma customer fields (create or update by number).

    Säljare, country, currency and payment terms are codes Visma checks; VAT is not sent (it
    follows from the customer and article setup, 25 % in this integration).
    """
    lines = [truncate(line, ADDRESS_LENGTH) for line in customer.address_lines if line.strip()]
    return {
        c.ADK_CUSTOMER_NUMBER: customer_number(customer.number),
        c.ADK_CUSTOMER_NAME: customer.name,
        c.ADK_CUSTOMER_MAILING_ADDRESS: lines[0] if lines else "",
        c.ADK_CUSTOMER_MAILING_ADDRESS2: " ".join(lines[1:])[:ADDRESS_LENGTH],
        c.ADK_CUSTOMER_ZIPCODE: customer.postal_code,
        c.ADK_CUSTOMER_CITY: truncate(customer.city, CITY_LENGTH),
        c.ADK_CUSTOMER_CODE_OF_COUNTRY: customer.country or default_country,
        c.ADK_CUSTOMER_CODE_OF_CURRENCY: customer.currency,
        c.ADK_CUSTOMER_VAT_NUMBER: customer.vat_number,
        c.ADK_CUSTOMER_ORGANISATION_NUMBER: customer.registration_number,
        c.ADK_CUSTOMER_EANLOC: truncate(customer.ean, EAN_LENGTH),
        c.ADK_CUSTOMER_EMAIL: customer.email,
        c.ADK_CUSTOMER_TELEPHONE: customer.phone,
        c.ADK_CUSTOMER_CODE_OF_TERMS_OF_PAYMENT: payment_terms_code(customer.payment_terms_days),
        c.ADK_CUSTOMER_SELLER: customer.salesperson,
        c.ADK_CUSTOMER_INACTIVE: customer.blocked,
    }


def _country(code: str) -> str:
    upper = code.strip().upper()
    return upper if len(upper) == 2 and upper.isalpha() else ""


def customer_record(record: Record) -> ErpCustomerRecord:
    """A Visma customer as the PSA imports it."""
    number = _text(record, c.ADK_CUSTOMER_NUMBER)
    addresses = (
        _text(record, c.ADK_CUSTOMER_MAILING_ADDRESS),
        _text(record, c.ADK_CUSTOMER_MAILING_ADDRESS2),
    )
    fields = CustomerFields(
        number=number,
        name=_text(record, c.ADK_CUSTOMER_NAME) or number,
        address_lines=tuple(line for line in addresses if line),
        postal_code=_text(record, c.ADK_CUSTOMER_ZIPCODE),
        city=_text(record, c.ADK_CUSTOMER_CITY),
        country=_country(_text(record, c.ADK_CUSTOMER_CODE_OF_COUNTRY)),
        currency=_text(record, c.ADK_CUSTOMER_CODE_OF_CURRENCY),
        vat_number=_text(record, c.ADK_CUSTOMER_VAT_NUMBER),
        registration_number=_text(record, c.ADK_CUSTOMER_ORGANISATION_NUMBER),
        ean=_text(record, c.ADK_CUSTOMER_EANLOC),
        email=_text(record, c.ADK_CUSTOMER_EMAIL),
        phone=_text(record, c.ADK_CUSTOMER_TELEPHONE),
        payment_terms_days=payment_terms_days(
            _text(record, c.ADK_CUSTOMER_CODE_OF_TERMS_OF_PAYMENT)
        ),
        salesperson=_text(record, c.ADK_CUSTOMER_SELLER),
        blocked=_flag(record, c.ADK_CUSTOMER_INACTIVE),
    )
    return ErpCustomerRecord(
        external_id=number,
        updated=_day(record, c.ADK_CUSTOMER_LASTCHANGE),
        **fields.model_dump(),
    )


# --- expenses ---------------------------------------------------------------------------------


def supplier_invoice_key(record: Record) -> str:
    """The supplier invoice's löpnummer (``GIVEN_NUMBER``) as text."""
    return str(int(_amount(record, c.ADK_SUP_INV_HEAD_GIVEN_NUMBER)))


def in_base_currency(amount: Decimal, rate: Decimal, factor: int) -> Decimal:
    """``amount`` in the base currency: Visma's rate is for ``factor`` units (1 or 100)."""
    return (amount * rate / factor).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def expense_record(
    record: Record, *, currency: str, rate: Decimal, factor: int
) -> ExpenseRecord | None:
    """A supplier invoice as an expense-pool entry (amount excluding VAT, in ``currency`` and in
    the base currency at Visma's ``rate`` per ``factor`` units); ``None`` without a date yet."""
    day = _day(record, c.ADK_SUP_INV_HEAD_INVOICE_DATE)
    if day is None:
        return None
    amount = _amount(record, c.ADK_SUP_INV_HEAD_TOTAL) - _amount(
        record, c.ADK_SUP_INV_HEAD_VAT_AMOUNT
    )
    supplier = _text(record, c.ADK_SUP_INV_HEAD_SUPPLIER_NAME)
    note = _text(record, c.ADK_SUP_INV_HEAD_NOTE1)
    return ExpenseRecord(
        external_id=supplier_invoice_key(record),
        day=day,
        currency=currency,
        amount=amount,
        amount_in_base_currency=in_base_currency(amount, rate, factor),
        text=f"{supplier}: {note}" if supplier and note else supplier or note,
        voucher_number=_text(record, c.ADK_SUP_INV_HEAD_INVOICE_NUMBER),
        project_number=_text(record, c.ADK_SUP_INV_HEAD_PROJECT),
    )
