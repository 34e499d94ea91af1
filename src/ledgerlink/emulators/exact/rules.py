"""Exact Online's rules for writes: bodies checked and converted, accounts (numeric codes padded
to 18 characters, the VAT-number check), sales invoices (journal and currency, divisible items,
cost centres, locked periods, totals), processing (number, status 50, open items) and payments.

Every function runs under the state's lock, called by the routes; a refused write raises
:class:`~.errors.ExactError` and changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ledgerlink.emulators._kit.fields import Rule, check, unknown
from ledgerlink.emulators.exact import errors as texts
from ledgerlink.emulators.exact.errors import ExactError
from ledgerlink.emulators.exact.model import (
    ENTITY_TYPES,
    RESOURCES,
    BadValue,
    Resource,
    from_wire,
)
from ledgerlink.emulators.exact.state import Division, Record

__all__ = ["create", "delete", "pay", "process", "update"]

CURRENCIES = frozenset({"EUR", "USD", "GBP", "SEK", "DKK", "NOK", "CHF"})
INVOICE_TYPES = frozenset({8020, 8021, 8023, 8024})
OPEN, PROCESSED = 20, 50
CENT = Decimal("0.01")
ACCOUNTS, CONTACTS, COSTCENTERS = "crm/Accounts", "crm/Contacts", "hrm/Costcenters"
INVOICES, LINES = "salesinvoice/SalesInvoices", "salesinvoice/SalesInvoiceLines"
RECEIVABLES = "read/financial/ReceivablesList"
PURCHASES, PURCHASE_LINES = "purchaseentry/PurchaseEntries", "purchaseentry/PurchaseEntryLines"


def _now() -> str:
    # Exact's local time, to the millisecond as its /Date(ms)/ values carry it (a change a
    # moment after another has a later Modified, which a Modified cursor relies on).
    return datetime.now().isoformat(timespec="milliseconds")  # noqa: DTZ005


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def accept(resource: Resource, document: Any, *, creating: bool) -> Record:
    """The body's properties in stored form; 400 for an unknown property, a missing required
    one, a read-only one, a wrong type or a too long text (the first problem found)."""
    if not isinstance(document, dict):
        raise ExactError(400, "The request body must be a JSON object.")
    extra = unknown(document, resource.fields(creating=creating))
    if extra:
        raise ExactError(
            400, f"The property '{extra[0]}' does not exist on type '{resource.type_name}'."
        )
    problems = check(document, resource.fields(creating=creating))
    if problems:
        problem = problems[0]
        name = problem.field.name
        if problem.rule is Rule.REQUIRED:
            raise ExactError(400, f"Mandatory: {name}")
        if problem.rule is Rule.READ_ONLY:
            raise ExactError(400, f"{name} is read-only.")
        if problem.rule is Rule.MAX_LENGTH:
            limit = problem.field.max_length
            raise ExactError(400, f"{name}: the text is longer than {limit} characters.")
        raise ExactError(400, f"Error converting value for property '{name}'.")
    record: Record = {}
    for name, value in document.items():
        edm = resource.properties[name]
        try:
            record[name] = value if name == resource.lines else from_wire(edm, value)
        except (BadValue, ValueError):
            raise ExactError(400, f"Error converting value for property '{name}'.") from None
    return record


def _new(division: Division, resource: Resource, values: Record) -> Record:
    now = _now()
    record: Record = {resource.key: str(uuid.uuid4())}
    record.update(values)
    division.stamp(record)
    if "Created" in resource.properties:
        record.update(Created=now, Modified=now)
    if "Division" in resource.properties:
        record["Division"] = division.code
    return record


def _find(division: Division, path: str, field: str, value: Any) -> Record | None:
    return next((r for r in division.table(path).values() if r.get(field) == value), None)


def _get(division: Division, path: str, key: str) -> Record:
    record = division.table(path).get(key)
    if record is None:
        raise ExactError(404, f"{RESOURCES[path].entity} {key} does not exist.")
    return record


# accounts, contacts, cost centres ------------------------------------------------------------


def _account_rules(division: Division, values: Record, *, own: str | None) -> None:
    code = values.get("Code")
    if code is not None:
        bare = code.strip()
        if not bare.isdigit():
            raise ExactError(400, texts.CODE_NOT_NUMERIC.format(code=bare))
        values["Code"] = bare.rjust(18)
        other = _find(division, ACCOUNTS, "Code", values["Code"])
        if other is not None and other["ID"] != own:
            raise ExactError(400, texts.DUPLICATE_CODE.format(code=bare))
    vat = values.get("VATNumber")
    if vat:
        normalized = vat.replace(" ", "").replace(".", "").upper()
        refused = {n.replace(" ", "").upper() for n in division.settings.invalid_vat_numbers}
        if normalized in refused:
            raise ExactError(400, texts.VAT_CHECK_FAILED.format(number=vat))
    currency = values.get("SalesCurrency")
    if currency is not None and currency not in CURRENCIES:
        raise ExactError(400, texts.UNKNOWN_CURRENCY.format(currency=currency))


def _create_account(division: Division, values: Record) -> Record:
    _account_rules(division, values, own=None)
    if values.get("Code") is None:
        # Exact numbers new accounts itself when no code is given (the next free one).
        taken = [int(r["Code"]) for r in division.table(ACCOUNTS).values() if r.get("Code")]
        values["Code"] = str(max(taken, default=0) + 1).rjust(18)
    defaults = {"Status": "A", "IsSales": True, "IsSupplier": False, "Blocked": False}
    values = {**defaults, "SalesCurrency": division.currency, **values}
    return _new(division, RESOURCES[ACCOUNTS], values)


def _create_contact(division: Division, values: Record) -> Record:
    _get(division, ACCOUNTS, values["Account"])
    values["FullName"] = " ".join(filter(None, (values.get("FirstName"), values["LastName"])))
    return _new(division, RESOURCES[CONTACTS], values)


def _create_costcenter(division: Division, values: Record) -> Record:
    if _find(division, COSTCENTERS, "Code", values["Code"]) is not None:
        raise ExactError(400, texts.DUPLICATE_CODE.format(code=values["Code"]))
    return _new(division, RESOURCES[COSTCENTERS], {"Active": True, **values})


# sales invoices --------------------------------------------------------------------------------


def _day(value: str | None, default: date) -> date:
    return datetime.fromisoformat(value).date() if value else default


def _check_period(division: Division, day: date) -> None:
    if division.period_locked(day):
        raise ExactError(400, texts.PERIOD_LOCKED.format(year=day.year, period=day.month))


def _invoice_header(division: Division, values: Record) -> tuple[Record, Record]:
    account = division.table(ACCOUNTS).get(values["OrderedBy"])
    if account is None:
        raise ExactError(400, f"OrderedBy: account {values['OrderedBy']} does not exist.")
    journal = _find(division, "financial/Journals", "Code", values["Journal"])
    if journal is None or journal["Type"] != 20:
        raise ExactError(400, f"Journal {values['Journal']} is not a sales journal.")
    currency = values.get("Currency") or division.currency
    if currency not in CURRENCIES:
        raise ExactError(400, texts.UNKNOWN_CURRENCY.format(currency=currency))
    if currency != division.currency and not journal["AllowVariableCurrency"]:
        raise ExactError(
            400, texts.NO_VARIABLE_CURRENCY.format(journal=journal["Code"], currency=currency)
        )
    kind = values.get("Type", 8020)
    if kind not in INVOICE_TYPES:
        raise ExactError(400, f"Type {kind} is not a sales invoice type.")
    invoice_day = _day(values.get("InvoiceDate"), division.settings.current_date())
    _check_period(division, invoice_day)
    condition = values.get("PaymentCondition") or account.get("PaymentConditionSales") or "30"
    days = int(condition) if str(condition).isdigit() else 30
    header = {
        "InvoiceTo": values["OrderedBy"],
        **values,
        "Currency": currency,
        "Type": kind,
        "Status": OPEN,
        "InvoiceNumber": None,
        "InvoiceDate": invoice_day.isoformat() + "T00:00:00",
        "OrderDate": values.get("OrderDate") or invoice_day.isoformat() + "T00:00:00",
        "DueDate": (invoice_day + timedelta(days=days)).isoformat() + "T00:00:00",
        "PaymentCondition": condition,
    }
    header.pop("SalesInvoiceLines", None)
    return header, account


def _line(division: Division, account: Record, raw: Any, number: int) -> Record:
    values = accept(RESOURCES[LINES], raw, creating=True)
    item = division.table("logistics/Items").get(values["Item"])
    if item is None:
        raise ExactError(400, f"Item {values['Item']} does not exist.")
    quantity = values.get("Quantity") or Decimal(1)
    if not item["IsFractionAllowedItem"] and quantity != quantity.to_integral_value():
        raise ExactError(
            400, texts.NOT_DIVISIBLE.format(item=item["Code"], quantity=quantity.normalize())
        )
    discount = values.get("Discount") or Decimal(0)
    if "UnitPrice" in values or "AmountFC" not in values:
        price = values.get("UnitPrice") or Decimal(0)
        amount = _money(quantity * price * (1 - discount))
    else:
        amount = _money(values["AmountFC"])
        price = amount / quantity / (1 - discount) if quantity and discount != 1 else Decimal(0)
    vat_code = values.get("VATCode") or item.get("SalesVatCode") or account.get("SalesVATCode")
    vat = _find(division, "vat/VATCodes", "Code", vat_code)
    if vat is None:
        raise ExactError(400, f"VAT code {vat_code} does not exist.")
    center = values.get("CostCenter")
    if center is not None and _find(division, COSTCENTERS, "Code", center) is None:
        raise ExactError(400, f"Cost center {center} does not exist.")
    return {
        **values,
        "LineNumber": number,
        "ItemCode": item["Code"],
        "Description": values.get("Description") or item["Description"],
        "Quantity": quantity,
        "UnitPrice": price,
        "NetPrice": price * (1 - discount),
        "Discount": discount,
        "AmountFC": amount,
        # VAT per line, rounded per line: inferred (the fact sheet says only that Exact
        # computes its totals, §2.10).
        "VATAmountFC": _money(amount * vat["Percentage"]),
        "VATCode": vat["Code"],
        "VATPercentage": vat["Percentage"],
        "GLAccount": values.get("GLAccount") or item["GLRevenue"],
    }


def _create_invoice(division: Division, values: Record) -> Record:
    header, account = _invoice_header(division, values)
    raw_lines = values.get("SalesInvoiceLines") or []
    if not isinstance(raw_lines, list):
        raise ExactError(400, "Error converting value for property 'SalesInvoiceLines'.")
    lines = [_line(division, account, raw, n) for n, raw in enumerate(raw_lines, start=1)]
    invoice = _new(division, RESOURCES[INVOICES], header)
    net = sum((line["AmountFC"] for line in lines), Decimal("0.00"))
    vat = sum((line["VATAmountFC"] for line in lines), Decimal("0.00"))
    invoice.update(AmountFC=net + vat, AmountDC=net + vat, VATAmountFC=vat)
    for line in lines:
        stored = _new(division, RESOURCES[LINES], line)
        stored["InvoiceID"] = invoice["InvoiceID"]
        division.table(LINES)[stored["ID"]] = stored
    return invoice


# purchase entries (the supplier invoices expense import reads) ---------------------------------


def _purchase_line(division: Division, raw: Any, number: int, rate: Decimal) -> Record:
    values = accept(RESOURCES[PURCHASE_LINES], raw, creating=True)
    account = division.table("financial/GLAccounts").get(values["GLAccount"])
    if account is None:
        raise ExactError(400, f"G/L account {values['GLAccount']} does not exist.")
    vat_code = values.get("VATCode") or account.get("VATCode") or "0"
    vat = _find(division, "vat/VATCodes", "Code", vat_code)
    if vat is None:
        raise ExactError(400, f"VAT code {vat_code} does not exist.")
    center = values.get("CostCenter")
    found = _find(division, COSTCENTERS, "Code", center) if center is not None else None
    if center is not None and found is None:
        raise ExactError(400, f"Cost center {center} does not exist.")
    amount = _money(values["AmountFC"])
    vat_amount = _money(amount * vat["Percentage"])
    return {
        **values,
        "LineNumber": number,
        "GLAccountCode": account["Code"],
        "AmountFC": amount,
        "AmountDC": _money(amount * rate),
        "VATAmountFC": vat_amount,
        "VATAmountDC": _money(vat_amount * rate),
        "VATCode": vat["Code"],
        "VATPercentage": vat["Percentage"],
        "CostCenterDescription": found["Description"] if found else None,
    }


def _supplier(division: Division, key: str) -> Record:
    supplier = division.table(ACCOUNTS).get(key)
    if supplier is None or not supplier.get("IsSupplier"):
        raise ExactError(400, f"Supplier: {key} is not a supplier.")
    return supplier


def _create_purchase(division: Division, values: Record) -> Record:
    supplier = _supplier(division, values["Supplier"])
    journal = _find(division, "financial/Journals", "Code", values["Journal"])
    if journal is None or journal["Type"] != 22:
        raise ExactError(400, f"Journal {values['Journal']} is not a purchase journal.")
    currency = values.get("Currency") or division.currency
    if currency not in CURRENCIES:
        raise ExactError(400, texts.UNKNOWN_CURRENCY.format(currency=currency))
    day = _day(values.get("EntryDate"), division.settings.current_date())
    _check_period(division, day)
    # AmountDC = AmountFC x Rate (inferred: picqer's docblock says only "Currency exchange
    # rate"); the emulator has no rate table, so a foreign currency without a Rate books at 1.
    rate = values.get("Rate") or Decimal(1)
    if currency == division.currency:
        rate = Decimal(1)
    raw_lines = values.pop("PurchaseEntryLines", None) or []
    if not isinstance(raw_lines, list):
        raise ExactError(400, "Error converting value for property 'PurchaseEntryLines'.")
    lines = [_purchase_line(division, raw, n, rate) for n, raw in enumerate(raw_lines, start=1)]
    net = sum((line["AmountFC"] for line in lines), Decimal("0.00"))
    vat = sum((line["VATAmountFC"] for line in lines), Decimal("0.00"))
    net_dc = sum((line["AmountDC"] for line in lines), Decimal("0.00"))
    vat_dc = sum((line["VATAmountDC"] for line in lines), Decimal("0.00"))
    sequence = division.next_number(f"entry:{journal['Code']}:{day.year}")
    entry = _new(
        division,
        RESOURCES[PURCHASES],
        {
            "Type": 30,
            **values,
            "SupplierName": supplier["Name"],
            "Currency": currency,
            "Status": OPEN,
            "EntryNumber": _entry_number(day, journal["Code"], sequence),
            "EntryDate": day.isoformat() + "T00:00:00",
            "DueDate": (day + timedelta(days=30)).isoformat() + "T00:00:00",
            "Rate": rate,
            "AmountFC": net + vat,
            "AmountDC": net_dc + vat_dc,
            "VATAmountFC": vat,
            "VATAmountDC": vat_dc,
        },
    )
    for line in lines:
        stored = _new(division, RESOURCES[PURCHASE_LINES], line)
        stored["EntryID"] = entry["EntryID"]
        division.table(PURCHASE_LINES)[stored["ID"]] = stored
    return entry


def _entry_number(day: date, journal: str, sequence: int) -> int:
    # Exact numbers entries by journal and year (e.g. 26700001: year 26, journal 70): inferred.
    return int(f"{day.year % 100:02d}{journal}{sequence:04d}") if journal.isdigit() else sequence


# the entry points ------------------------------------------------------------------------------

_CREATE = {
    ACCOUNTS: _create_account,
    CONTACTS: _create_contact,
    COSTCENTERS: _create_costcenter,
    INVOICES: _create_invoice,
    PURCHASES: _create_purchase,
}


def create(division: Division, resource: Resource, document: Any) -> Record:
    """POST: the new record, stored."""
    values = accept(resource, document, creating=True)
    record = _CREATE[resource.path](division, values)
    division.table(resource.path)[record[resource.key]] = record
    return record


def update(division: Division, resource: Resource, key: str, document: Any) -> None:
    """PUT: the given properties replace the stored ones (processed invoices refuse)."""
    record = _get(division, resource.path, key)
    values = accept(resource, document, creating=False)
    if resource.path == INVOICES:
        if record["Status"] == PROCESSED:
            raise ExactError(400, texts.PROCESSED)
        values.pop("SalesInvoiceLines", None)
        if "InvoiceDate" in values:
            today = division.settings.current_date()
            _check_period(division, _day(values["InvoiceDate"], today))
    if resource.path == PURCHASES:
        # A PUT changes the header only; its lines are not needed (Exact's endpoint notes).
        values.pop("PurchaseEntryLines", None)
        if "Supplier" in values:
            values["SupplierName"] = _supplier(division, values["Supplier"])["Name"]
        if "EntryDate" in values:
            today = division.settings.current_date()
            _check_period(division, _day(values["EntryDate"], today))
    if resource.path == ACCOUNTS:
        _account_rules(division, values, own=key)
    record.update(values)
    if "Modified" in resource.properties:
        record["Modified"] = _now()
    division.stamp(record)


def delete(division: Division, resource: Resource, key: str) -> None:
    """DELETE (processed invoices refuse; an invoice's lines go with it)."""
    record = _get(division, resource.path, key)
    if resource.path == INVOICES:
        if record["Status"] == PROCESSED:
            raise ExactError(400, texts.PROCESSED)
        lines = division.table(LINES)
        for line_key in [k for k, line in lines.items() if line["InvoiceID"] == key]:
            del lines[line_key]
    if resource.path == PURCHASES:
        purchase_lines = division.table(PURCHASE_LINES)
        for line_key in [k for k, line in purchase_lines.items() if line["EntryID"] == key]:
            del purchase_lines[line_key]
    del division.table(resource.path)[key]
    entity_type = ENTITY_TYPES.get(resource.path)
    if entity_type is not None:
        gone: Record = {
            "ID": str(uuid.uuid4()),
            "EntityKey": key,
            "EntityType": entity_type,
            "DeletedBy": None,
            "DeletedDate": _now(),
            "Division": division.code,
        }
        division.stamp(gone)
        division.table("sync/Deleted")[str(gone["Timestamp"])] = gone


def process(division: Division, invoice_id: str) -> Record:
    """What ``PrintedSalesInvoices`` and the ERP user's "process" do: the invoice gets its
    number and status 50, and its open item appears in the receivables list."""
    invoice = _get(division, INVOICES, invoice_id)
    if invoice["Status"] == PROCESSED:
        raise ExactError(400, texts.PROCESSED)
    day = _day(invoice["InvoiceDate"], division.settings.current_date())
    _check_period(division, day)
    journal = invoice["Journal"]
    sequence = division.next_number(f"invoice:{journal}:{day.year}")
    number = _entry_number(day, journal, sequence)
    invoice.update(Status=PROCESSED, InvoiceNumber=number, Modified=_now())
    division.stamp(invoice)
    account = division.table(ACCOUNTS)[invoice["OrderedBy"]]
    _open_item(division, invoice, account, invoice["AmountFC"], invoice.get("Description"))
    return invoice


def _open_item(
    division: Division, invoice: Record, account: Record, amount: Decimal, text: str | None
) -> None:
    hid = division.next_number("receivable")
    journal = _find(division, "financial/Journals", "Code", invoice["Journal"])
    division.table(RECEIVABLES)[str(hid)] = {
        "HID": hid,
        "Id": str(uuid.uuid4()),
        "_invoice": invoice["InvoiceID"],
        "AccountId": account["ID"],
        "AccountCode": account["Code"],
        "AccountName": account["Name"],
        "Amount": amount,
        "CurrencyCode": invoice["Currency"],
        "Description": text,
        "DueDate": invoice["DueDate"],
        "EntryNumber": invoice["InvoiceNumber"],
        "InvoiceDate": invoice["InvoiceDate"],
        "InvoiceNumber": invoice["InvoiceNumber"],
        "JournalCode": invoice["Journal"],
        "JournalDescription": journal["Description"] if journal else None,
        "AmountInTransit": Decimal("0.00"),
        "YourRef": invoice.get("YourRef"),
    }


def pay(division: Division, invoice_id: str, amount: Decimal) -> Decimal:
    """Register a payment of a processed invoice; returns what is still open. A part payment
    adds a row of its own (the fact sheet §2.3: several rows per invoice); once nothing is
    open, every row of the invoice leaves the receivables list (absent = fully paid)."""
    invoice = _get(division, INVOICES, invoice_id)
    if invoice["Status"] != PROCESSED:
        raise ExactError(400, "Only processed invoices can be paid.")
    rows = division.table(RECEIVABLES)
    mine = {k: r for k, r in rows.items() if r["_invoice"] == invoice_id}
    still_open = sum((r["Amount"] for r in mine.values()), Decimal("0.00"))
    if amount <= 0 or amount > abs(still_open):
        raise ExactError(400, f"The payment must be between 0 and the open {abs(still_open)}.")
    settled = -amount if still_open > 0 else amount
    left = still_open + settled
    if left == 0:
        for key in mine:
            del rows[key]
        return left
    account = division.table(ACCOUNTS)[invoice["OrderedBy"]]
    _open_item(division, invoice, account, settled, "Payment")
    return left
