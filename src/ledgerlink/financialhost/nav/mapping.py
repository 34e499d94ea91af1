"""Pure mapping between the wire's neutral records and NAV page fields (fact sheet §1.3).

Everything here is a function of its arguments: no HTTP, no state. NAV rejects a string that
is longer than its field instead of cutting it, so every length rule lives here, named
(:data:`LENGTHS`) and tested. Values are page field texts as SOAP carries them (``str``);
money is :class:`~decimal.Decimal` and is written with :func:`decimal_text`.

Where each PSA reference goes on the Sales Header (table 36):

* the **correlation** → ``External_Document_No`` (35): the field the host searches before it
  creates (exactly once);
* the **requisition number** (the reference product's "P.O. number") → ``Quote_No`` (20), unless
  it starts with ``EAN``: then it is the EAN and overrides ``EAN_No`` (13);
* the **customer reference** → ``Your_Reference`` (30); the **heading** →
  ``Posting_Description`` (50); the **salesperson** initials → ``Salesperson_Code``.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation

from ledgerlink.financialhost.nav.settings import NavSettings
from ledgerlink.wire.operations import (
    DocumentKind,
    DocumentResult,
    DocumentStatus,
    ErpCustomerRecord,
    ExpenseRecord,
    FieldProblem,
    LineKind,
    StatusRecord,
    WireContact,
    WireCustomer,
    WireDocument,
    WireEmployee,
    WireLine,
    WireProduct,
)

__all__ = [
    "BLANK_OPTION",
    "LENGTHS",
    "LINE_TYPES",
    "clip",
    "contact_values",
    "currency_code",
    "customer_record",
    "customer_values",
    "decimal_text",
    "dimension_values",
    "document_result",
    "document_type",
    "ean_and_quote",
    "employee_values",
    "expense_record",
    "field_errors_of",
    "filter_literal",
    "header_values",
    "hint_for",
    "line_description",
    "line_type",
    "line_values",
    "nav_date",
    "parse_decimal",
    "product",
    "salesperson_values",
    "split_text",
    "status_record",
]

BLANK_OPTION = "_blank_"
BLANK_DATE = "0001-01-01"

#: NAV field lengths the integration must respect (NAV errors on longer strings).
LENGTHS: dict[str, int] = {
    "External_Document_No": 35,
    "Your_Reference": 30,
    "Quote_No": 20,
    "Posting_Description": 50,
    "EAN_No": 13,
    "GLN": 13,
    "Name": 50,
    "Contact": 50,
    "Address": 50,
    "Address_2": 50,
    "Post_Code": 20,
    "City": 30,
    "VAT_Registration_No": 20,
    "E_Mail": 80,
    "Phone_No": 30,
    "Home_Page": 80,
    "Description": 50,
    "Dimension": 20,
    "First_Name": 30,
    "Last_Name": 30,
    "Job_Title": 30,
    "Salesperson_Code": 10,
}

#: ``invoice_line_type`` → the Sales Line ``Type`` option of a product line.
LINE_TYPES: dict[int, str] = {0: BLANK_OPTION, 1: "G_L_Account", 2: "Item", 3: "Resource"}


# --- small helpers -------------------------------------------------------------------------------


def clip(text: str, length: int) -> str:
    """``text`` on one line, trimmed and cut to ``length`` characters."""
    return " ".join(text.split())[:length]


def split_text(text: str, length: int) -> list[str]:
    """``text`` on one line, wrapped into pieces of at most ``length`` characters (words kept
    whole where they fit); at least one piece."""
    flat = " ".join(text.split())
    return textwrap.wrap(flat, length, break_long_words=True) or [""]


def decimal_text(value: Decimal) -> str:
    """A decimal as NAV's XML decimal (plain notation, no exponent)."""
    return format(value, "f")


def parse_decimal(text: object) -> Decimal:
    """A NAV decimal (SOAP text or OData JSON number parsed as Decimal) — never via float."""
    if isinstance(text, Decimal):
        return text
    if isinstance(text, int):
        return Decimal(text)
    try:
        return Decimal(str(text).strip() or "0")
    except InvalidOperation:
        raise ValueError(f"NAV sent {text!r} where a decimal was expected") from None


def nav_date(text: str | None) -> date | None:
    """A NAV date (SOAP ``2026-11-24`` or OData ``2026-11-24T00:00:00Z``); blank → ``None``."""
    if not text:
        return None
    day = text[:10]
    return None if day == BLANK_DATE else date.fromisoformat(day)


def filter_literal(value: str) -> str:
    """``value`` as a literal in a NAV filter (quoted, so ``|&()<>.=`` mean nothing)."""
    return "'" + value.replace("'", "''") + "'"


def currency_code(currency: str, lcy_code: str) -> str:
    """NAV's ``Currency Code``: blank for the local currency (sending it fails in NAV)."""
    code = currency.strip().upper()
    return "" if code == lcy_code.upper() else code


def document_type(kind: DocumentKind) -> str:
    """The Sales Header ``Document Type`` of a wire document."""
    return "Credit_Memo" if kind is DocumentKind.CREDIT_NOTE else "Invoice"


# --- documents -----------------------------------------------------------------------------------


def dimension_values(project: str, department: str, settings: NavSettings) -> dict[str, str]:
    """``Shortcut_Dimension_1/2_Code`` for a project and a department, per the dimension
    settings (a disabled dimension or an empty value is left out, so NAV's default stays)."""
    values: dict[str, str] = {}
    for number, value in (
        (settings.project_dimension, project),
        (settings.department_dimension, department),
    ):
        if value and settings.dimension_enabled(number):
            values[f"Shortcut_Dimension_{number}_Code"] = clip(value, LENGTHS["Dimension"])
    return values


def ean_and_quote(document: WireDocument) -> tuple[str, str]:
    """``(EAN_No, Quote_No)``: a requisition starting with "EAN" is the EAN (it overrides the
    document's EAN), otherwise the requisition is the P.O. number in ``Quote_No``."""
    requisition = document.requisition_number.strip()
    if requisition.upper().startswith("EAN"):
        digits = re.sub(r"\D", "", requisition)
        return digits[: LENGTHS["EAN_No"]], ""
    ean = re.sub(r"\s", "", document.ean)[: LENGTHS["EAN_No"]]
    return ean, clip(requisition, LENGTHS["Quote_No"])


def header_values(
    document: WireDocument, settings: NavSettings, *, contact_name: str = ""
) -> dict[str, str]:
    """The Sales Header fields of a draft (fact sheet §1.3). Bill-to follows Sell-to in NAV;
    VAT is not sent (NAV's posting setup applies); read-only fields are never sent."""
    invoice_date = document.invoice_date.isoformat()
    ean, quote = ean_and_quote(document)
    values: dict[str, str] = {
        "Document_Type": document_type(document.kind),
        "Sell_to_Customer_No": document.customer_number,
    }
    if contact_name:
        values["Sell_to_Contact"] = clip(contact_name, LENGTHS["Contact"])
        values["Bill_to_Contact"] = clip(contact_name, LENGTHS["Contact"])
    values.update(
        {
            "Currency_Code": currency_code(document.currency, settings.lcy_code),
            "Document_Date": invoice_date,
            "Posting_Date": invoice_date,
            "Order_Date": invoice_date,
            "Due_Date": document.due_date.isoformat(),
            "External_Document_No": clip(document.correlation, LENGTHS["External_Document_No"]),
            "Your_Reference": clip(document.customer_reference, LENGTHS["Your_Reference"]),
            "Quote_No": quote,
        }
    )
    if document.heading.strip():
        values["Posting_Description"] = clip(document.heading, LENGTHS["Posting_Description"])
    if document.salesperson:
        values["Salesperson_Code"] = document.salesperson.strip().upper()
    values.update(dimension_values(document.project_number, document.department, settings))
    values["Prices_Including_VAT"] = "false"
    if ean:
        values["EAN_No"] = ean
    return values


def line_type(kind: LineKind, settings: NavSettings) -> str:
    """The Sales Line ``Type``: blank for text lines, else per ``invoice_line_type``."""
    if kind is LineKind.TEXT:
        return BLANK_OPTION
    return LINE_TYPES[settings.invoice_line_type]


def line_description(line: WireLine, settings: NavSettings) -> str:
    """A line's text, date-prefixed when ``include_date_in_lines`` (the whole text, prefix
    included, still has to fit NAV's 50-character Description: see :func:`line_values`)."""
    text = " ".join(line.description.split())
    if settings.include_date_in_lines and line.day is not None:
        text = f"{line.day.strftime(settings.date_format_in_lines)} {text}".strip()
    return text


def line_values(line: WireLine, kind: DocumentKind, settings: NavSettings) -> list[dict[str, str]]:
    """The Sales Lines of one wire line (without ``Document_Type``/``Document_No``).

    A text longer than 50 characters continues on text lines after it, so nothing is lost.
    Credit notes carry the PSA's negative quantities; NAV's Credit Memo wants them positive.
    The unit is not sent (NAV uses the item's). With ``invoice_line_type`` 0 every line is a
    text line (NAV then carries no amounts, as in the reference product).
    """
    pieces = split_text(line_description(line, settings), LENGTHS["Description"])
    kind_of_line = line_type(line.kind, settings)
    texts = [{"Type": BLANK_OPTION, "Description": piece} for piece in pieces]
    if kind_of_line == BLANK_OPTION:
        return texts
    quantity = -line.quantity if kind is DocumentKind.CREDIT_NOTE else line.quantity
    first: dict[str, str] = {
        "Type": kind_of_line,
        "No": line.product_number.strip(),
        "Description": pieces[0],
        "Quantity": decimal_text(quantity),
        "Unit_Price": decimal_text(line.unit_price),
        "Line_Discount_Percent": decimal_text(line.discount_percent),
    }
    first.update(dimension_values(line.project_number, line.department, settings))
    return [first, *texts[1:]]


def document_result(
    header: Mapping[str, str],
    *,
    correlation: str,
    lcy_code: str,
    posted: bool,
    credit: bool,
) -> DocumentResult:
    """A draft (36) or posted (112/114) header as a :class:`DocumentResult`; credit memos get
    negative totals (the PSA's sign). ``external_id`` is the draft's number, which NAV keeps
    on the posted document as ``Pre_Assigned_No``."""
    sign = Decimal(-1) if credit else Decimal(1)
    net = sign * parse_decimal(header.get("Amount", "0"))
    gross = sign * parse_decimal(header.get("Amount_Including_VAT", "0"))
    draft_no = header.get("Pre_Assigned_No", "") if posted else header.get("No", "")
    return DocumentResult(
        external_id=draft_no or header.get("No", ""),
        correlation=correlation,
        currency=header.get("Currency_Code") or lcy_code,
        net=net,
        vat=gross - net,
        gross=gross,
        document_number=draft_no or header.get("No", ""),
        booked_number=header.get("No", "") if posted else "",
    )


def status_record(header: Mapping[str, str], *, lcy_code: str, credit: bool) -> StatusRecord:
    """A posted invoice or credit memo (OData entity, texts) as a booked status, with its
    ``Posting Date``."""
    sign = Decimal(-1) if credit else Decimal(1)
    return StatusRecord(
        correlation=header.get("External_Document_No", ""),
        external_id=header.get("Pre_Assigned_No") or header.get("No", ""),
        status=DocumentStatus.BOOKED,
        booked_number=header.get("No", ""),
        currency=header.get("Currency_Code") or lcy_code,
        gross=sign * parse_decimal(header.get("Amount_Including_VAT", "0")),
        remainder=parse_decimal(header.get("Remaining_Amount", "0")),
        paid=header.get("Closed", "false").lower() == "true",
        due_date=nav_date(header.get("Due_Date")),
        booked_on=nav_date(header.get("Posting_Date")),
    )


# --- master data ---------------------------------------------------------------------------------


def customer_values(
    customer: WireCustomer, settings: NavSettings, *, template: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Customer (18) fields. ``template`` (the template customer, on create only) supplies the
    posting groups and payment terms a page-created customer lacks — without them every
    invoice line fails with "The VAT Posting Setup does not exist"."""
    lines = [" ".join(line.split()) for line in customer.address_lines if line.strip()]
    values: dict[str, str] = {
        "No": customer.number.strip().upper(),
        "Name": clip(customer.name, LENGTHS["Name"]),
        "Address": clip(lines[0] if lines else "", LENGTHS["Address"]),
        "Address_2": clip(", ".join(lines[1:]), LENGTHS["Address_2"]),
        "Post_Code": clip(customer.postal_code, LENGTHS["Post_Code"]),
        "City": clip(customer.city, LENGTHS["City"]),
        "Country_Region_Code": customer.country or settings.default_country,
        "Currency_Code": currency_code(customer.currency, settings.lcy_code),
        "VAT_Registration_No": clip(customer.vat_number, LENGTHS["VAT_Registration_No"]),
        "GLN": re.sub(r"\s", "", customer.ean)[: LENGTHS["GLN"]],
        "E_Mail": clip(customer.email, LENGTHS["E_Mail"]),
        "Phone_No": clip(customer.phone, LENGTHS["Phone_No"]),
        "Home_Page": clip(customer.website, LENGTHS["Home_Page"]),
    }
    if customer.salesperson:
        values["Salesperson_Code"] = customer.salesperson.strip().upper()
    if template is not None:
        for name in (
            "Gen_Bus_Posting_Group",
            "VAT_Bus_Posting_Group",
            "Customer_Posting_Group",
            "Payment_Terms_Code",
        ):
            if template.get(name):
                values[name] = template[name]
        zone = vat_zone(values["Country_Region_Code"], home=settings.home_country)
        if settings.vat_bus_posting_groups.get(zone):
            values["VAT_Bus_Posting_Group"] = settings.vat_bus_posting_groups[zone]
    values["Blocked"] = "All" if customer.blocked else BLANK_OPTION
    return values


EU_COUNTRIES = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()
)


def vat_zone(country: str, *, home: str) -> str:
    """``domestic``, ``eu`` or ``export``: which VAT business posting group a customer needs."""
    if country == home:
        return "domestic"
    return "eu" if country in EU_COUNTRIES else "export"


def customer_record(entity: Mapping[str, str], *, lcy_code: str) -> ErpCustomerRecord:
    """A Customer (18) page entity as the wire's ERP customer."""
    address = [entity.get("Address", ""), entity.get("Address_2", "")]
    return ErpCustomerRecord(
        external_id=entity.get("No", ""),
        number=entity.get("No", ""),
        name=entity.get("Name") or entity.get("No", ""),
        address_lines=tuple(line for line in address if line),
        postal_code=entity.get("Post_Code", ""),
        city=entity.get("City", ""),
        country=entity.get("Country_Region_Code", "")
        if len(entity.get("Country_Region_Code", "")) == 2
        else "",
        currency=entity.get("Currency_Code") or lcy_code,
        vat_number=entity.get("VAT_Registration_No", ""),
        ean=entity.get("GLN", ""),
        email=entity.get("E_Mail", ""),
        phone=entity.get("Phone_No", ""),
        website=entity.get("Home_Page", ""),
        salesperson=entity.get("Salesperson_Code", ""),
        blocked=entity.get("Blocked", BLANK_OPTION) not in ("", BLANK_OPTION),
        updated=nav_date(entity.get("Last_Date_Modified")),
    )


def contact_values(contact: WireContact, *, company_no: str) -> dict[str, str]:
    """A person Contact (5050) under the customer's company contact."""
    return {
        "Type": "Person",
        "Name": clip(contact.name, LENGTHS["Name"]),
        "Company_No": company_no,
        "E_Mail": clip(contact.email, LENGTHS["E_Mail"]),
        "Phone_No": clip(contact.phone, LENGTHS["Phone_No"]),
        "Job_Title": clip(contact.title, LENGTHS["Job_Title"]),
    }


def employee_values(employee: WireEmployee, settings: NavSettings) -> dict[str, str]:
    """An Employee (5200): ``No`` = the initials; the department goes to Global Dimension 1
    when that is the department dimension and it is used."""
    first, _, last = " ".join(employee.name.split()).partition(" ")
    values = {
        "No": employee.initials.strip().upper(),
        "First_Name": clip(first, LENGTHS["First_Name"]),
        "Last_Name": clip(last, LENGTHS["Last_Name"]),
        "E_Mail": clip(employee.email, LENGTHS["E_Mail"]),
    }
    if (
        employee.department
        and settings.employee_department_dimension
        and settings.department_dimension == 1
        and settings.use_dimension_1
    ):
        values["Global_Dimension_1_Code"] = clip(employee.department, LENGTHS["Dimension"])
    return values


def salesperson_values(employee: WireEmployee) -> dict[str, str]:
    """The Salesperson (13) an employee's invoices name (``Code`` = the initials)."""
    return {
        "Code": employee.initials.strip().upper(),
        "Name": clip(employee.name, LENGTHS["Name"]),
        "E_Mail": clip(employee.email, LENGTHS["E_Mail"]),
    }


def product(entity: Mapping[str, str], *, gl_account: bool) -> WireProduct:
    """An Item (27) or G/L Account (15) page entity as a PSA product number."""
    return WireProduct(
        number=entity.get("No", ""),
        name=entity.get("Name" if gl_account else "Description", ""),
        unit="" if gl_account else entity.get("Base_Unit_of_Measure", ""),
        barred=entity.get("Blocked", "false").lower() == "true",
    )


def expense_record(entity: Mapping[str, str], *, lcy_code: str) -> ExpenseRecord:
    """A TimeLog Expense Entry (50511) as a pool expense."""
    day = nav_date(entity.get("Posting_Date"))
    if day is None:
        raise ValueError(f"expense entry {entity.get('Entry_No')} has no posting date")
    return ExpenseRecord(
        external_id=entity.get("Entry_No", ""),
        day=day,
        currency=entity.get("Currency_Code") or lcy_code,
        amount=parse_decimal(entity.get("Amount", "0")),
        amount_in_base_currency=parse_decimal(entity.get("Amount_LCY", "0")),
        text=entity.get("Description", ""),
        voucher_number=entity.get("Document_No", ""),
        project_number=entity.get("Job_No", ""),
        account=entity.get("G_L_Account_No", ""),
    )


# --- NAV's error texts ---------------------------------------------------------------------------

_HINTS: tuple[tuple[str, str], ...] = (
    (
        r"Other user has modified",
        "Someone changed the record in NAV at the same time (tried again once); send it again.",
    ),
    (
        r"related table \(Currency\)|Currency .* does not exist",
        "Create the currency in NAV (Currencies) or use the local currency; the local currency "
        "itself is sent as a blank Currency Code.",
    ),
    (
        r"Posting Setup does not exist|Posting Group must have a value",
        "The customer lacks posting groups: set Gen./VAT Bus. and Customer Posting Group on it "
        "in NAV (customers created by the host copy them from the template customer setting).",
    ),
    (
        r"Customer .* is blocked",
        "The customer is blocked in NAV: unblock it or invoice another customer.",
    ),
    (
        r"has not been set up for dimension|Dimension Value .* is blocked",
        "Create the dimension value (project.ensure does it for projects) or turn the "
        "dimension off in the [nav] settings (use_dimension_1/2).",
    ),
    (
        r"The length of the string is",
        "A value is longer than the NAV field; shorten it in the PSA.",
    ),
    (
        r"related table \(Salesperson/Purchaser\)",
        "Transfer the employee first (employee.ensure creates the salesperson with the initials).",
    ),
    (
        r"related table \(Country/Region\)",
        "Create the country/region code in NAV or correct the customer's country.",
    ),
    (
        r"related table \((Item|G/L Account|Resource)\)",
        "The product number does not exist in NAV; check the PSA product numbers and the "
        "[nav] invoice_line_type setting (G/L account numbers with 1, item numbers with 2).",
    ),
    (
        r"Direct Posting must be equal|Account Type must be equal",
        "The G/L account does not allow direct posting; use a posting account with direct "
        "posting as product number.",
    ),
    (
        r"Blocked must be equal",
        "The item or account is blocked in NAV; unblock it or use another product number.",
    ),
)


_FIELD_TEXTS: tuple[re.Pattern[str], ...] = (
    # Table relation: "The field No. of table Sales Line contains a value (X) that cannot be
    # found in the related table (Item)."
    re.compile(
        r"The field (?P<field>.+?) of table (?P<table>.+?) contains a value \((?P<value>.*?)\)"
    ),
    # "The length of the string is 57, but it must be less than or equal to 50 characters.
    # Value: …" names no field: the value identifies it.
    re.compile(r"The length of the string is \d+, but .*? Value: (?P<value>.*)$"),
    # "Customer Posting Group must have a value in Customer: No.=C00690."
    re.compile(r"^(?P<field>[^.]+?) must have a value in (?P<table>[^:]+):"),
    # "Currency Code EURO does not exist." / "The Dimension Value … does not exist."
    re.compile(r"^(?P<field>[\w .-]+?) (?P<value>\S+) does not exist"),
)


def field_errors_of(erp_text: str) -> tuple[FieldProblem, ...]:
    """The field NAV names in one of its known error texts (table relation, length, missing
    value), as a wire field problem; empty when the text names none."""
    for pattern in _FIELD_TEXTS:
        match = pattern.search(erp_text)
        if match:
            found = match.groupdict()
            table = found.get("table") or ""
            field = found.get("field") or "value"
            return (
                FieldProblem(
                    path=f"{table}.{field}" if table else field,
                    message=erp_text,
                    value=(found.get("value") or "")[:250],
                ),
            )
    return ()


def hint_for(erp_text: str) -> str:
    """What to fix for one of NAV's known error texts (empty when unknown)."""
    for pattern, hint in _HINTS:
        if re.search(pattern, erp_text):
            return hint
    return ""
