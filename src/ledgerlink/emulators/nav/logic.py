"""NAV's business logic for one company: table triggers, field validation, VAT and totals,
Sales-Post, payments, expenses and the TimeLog change-log hook.

Writes go through :meth:`Books.validate` (a field's OnValidate), :meth:`Books.insert`,
:meth:`Books.modify` and :meth:`Books.delete` (OnInsert/OnModify/OnDelete), whether a page web
service or "the NAV user" (the admin routes) makes them. Errors carry NAV's own texts.
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from ledgerlink.emulators.nav.config import NavConfig
from ledgerlink.emulators.nav.errors import Failure, NavError
from ledgerlink.emulators.nav.schema import FieldDef, TableDef
from ledgerlink.emulators.nav.state import Company, Record
from ledgerlink.emulators.nav.values import blank, round2, sort_value

__all__ = ["Books", "calc_date", "increment"]

_SERIES_DIGITS = re.compile(r"(\d+)(?!.*\d)")
_DATE_FORMULA = re.compile(r"([+-]?)(C|\d+)([DWMQY])")


def increment(number: str) -> str:
    """NAV's INCSTR: the last run of digits plus one, keeping its width."""
    match = _SERIES_DIGITS.search(number)
    if match is None:
        raise NavError(
            Failure.DIALOG, f"The number {number} cannot be extended to more than 20 characters."
        )
    digits = match.group(1)
    bumped = str(int(digits) + 1).rjust(len(digits), "0")
    return number[: match.start(1)] + bumped + number[match.end(1) :]


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def calc_date(formula: str, base: date) -> date:
    """NAV's CALCDATE for the usual payment-term formulas (``14D``, ``1M``, ``CM``,
    ``CM+10D``, ``2W``)."""
    result = base
    for sign, amount, unit in _DATE_FORMULA.findall(formula.upper().replace(" ", "")):
        if amount == "C":
            if unit == "M":
                result = date(
                    result.year, result.month, calendar.monthrange(result.year, result.month)[1]
                )
            elif unit == "W":
                result += timedelta(days=6 - result.weekday())
            elif unit == "Y":
                result = date(result.year, 12, 31)
            continue
        count = int(amount) * (-1 if sign == "-" else 1)
        if unit == "D":
            result += timedelta(days=count)
        elif unit == "W":
            result += timedelta(weeks=count)
        elif unit == "M":
            result = _add_months(result, count)
        elif unit == "Q":
            result = _add_months(result, 3 * count)
        else:
            result = _add_months(result, 12 * count)
    return result


def _shown(field: FieldDef | None, value: Any) -> str:
    """A value as NAV prints it in messages (options by caption, booleans Yes/No)."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if field is not None and field.type == "Option" and value in field.option_names:
        return field.options[field.option_names.index(value)].strip()
    return str(value)


class Books:
    """The business logic of one company (callers hold the state lock)."""

    def __init__(self, config: NavConfig, company: Company, *, now: Callable[[], datetime]) -> None:
        self.config = config
        self.company = company
        self.now = now
        self.ids = config.tables
        self._roles = {table_id: role for role, table_id in config.tables.model_dump().items()}
        self._undo: dict[tuple[int, str], Record | None] | None = None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Undo every change (rows, number series, counters) if the block raises — one web
        service call is one NAV transaction. Stored rows are never changed in place: writes
        replace them, so the undo log keeps the previous objects."""
        saved = (dict(self.company.series), dict(self.company.counters), self.company.version)
        self._undo = {}
        try:
            yield
        except BaseException:
            for (table_id, key), previous in self._undo.items():
                rows = self.company.table(table_id)
                if previous is None:
                    rows.pop(key, None)
                else:
                    rows[key] = previous
            self.company.series, self.company.counters, self.company.version = (
                saved[0],
                saved[1],
                saved[2],
            )
            raise
        finally:
            self._undo = None

    def _store(self, table_id: int, record: Record) -> None:
        key = self.row_key(self.primary_key(table_id, record))
        rows = self.company.table(table_id)
        if self._undo is not None and (table_id, key) not in self._undo:
            self._undo[(table_id, key)] = rows.get(key)
        rows[key] = record

    def _remove(self, table_id: int, record: Record) -> None:
        key = self.row_key(self.primary_key(table_id, record))
        rows = self.company.table(table_id)
        if self._undo is not None and (table_id, key) not in self._undo:
            self._undo[(table_id, key)] = rows.get(key)
        rows.pop(key, None)

    # --- reading ------------------------------------------------------------------------------

    def definition(self, table_id: int) -> TableDef:
        """The definition of ``table_id``."""
        table = self.config.table(table_id)
        if table is None:
            raise NavError(Failure.BAD_REQUEST, f"Table {table_id} is not defined in the emulator.")
        return table

    def work_date(self) -> date:
        """NAV's work date (configured, else today)."""
        return self.config.work_date or self.now().date()

    def stamp(self) -> str:
        """The current moment as a stored DateTime."""
        return self.now().strftime("%Y-%m-%dT%H:%M:%SZ")

    @staticmethod
    def row_key(values: Iterable[Any]) -> str:
        """The storage key of a primary key."""
        return json.dumps(list(values), default=str)

    def primary_key(self, table_id: int, record: Record) -> tuple[Any, ...]:
        """The primary-key values of ``record``."""
        return tuple(record.get(name, "") for name in self.definition(table_id).primary_key)

    def get(self, table_id: int, key: Iterable[Any]) -> Record | None:
        """The record with primary key ``key``, or ``None``."""
        return self.company.table(table_id).get(self.row_key(key))

    def rows(self, table_id: int) -> list[Record]:
        """Every record of ``table_id`` in primary-key order."""
        table = self.definition(table_id)
        fields = [table.field(name) for name in table.primary_key]

        def order(record: Record) -> tuple[Any, ...]:
            return tuple(
                sort_value(f, record.get(f.name)) if f is not None else record.get(name)
                for f, name in zip(fields, table.primary_key, strict=True)
            )

        return sorted(self.company.table(table_id).values(), key=order)

    def where(self, table_id: int, **equal: Any) -> list[Record]:
        """The records whose fields equal ``equal``, in primary-key order."""
        return [r for r in self.rows(table_id) if all(r.get(k) == v for k, v in equal.items())]

    def position(self, table_id: int, record: Record) -> str:
        """NAV's record position in messages: ``Document Type=Invoice,No.=103001``."""
        table = self.definition(table_id)
        parts = []
        for name in table.primary_key:
            field = table.field(name)
            caption = field.caption if field else name
            parts.append(f"{caption}={_shown(field, record.get(name, ''))}")
        return ",".join(parts)

    def identification(self, table_id: int, key: Iterable[Any]) -> str:
        """``No.='10000'`` (the "Identification fields and values" of NAV's messages)."""
        table = self.definition(table_id)
        parts = []
        for name, value in zip(table.primary_key, key, strict=True):
            field = table.field(name)
            parts.append(f"{field.caption if field else name}='{_shown(field, value)}'")
        return ",".join(parts)

    def record_key_text(self, table_id: int, record: Record) -> str:
        """The change log's ``Record Key``: primary-key values joined by commas."""
        return ",".join(str(v) for v in self.primary_key(table_id, record))

    def caption(self, table_id: int, name: str) -> str:
        """The caption of a field (its name when the table does not define it)."""
        field = self.definition(table_id).field(name)
        return field.caption if field else name.replace("_", " ")

    # --- NAV error texts ------------------------------------------------------------------------

    def must_have_value(self, table_id: int, record: Record, name: str) -> NavError:
        """``X must have a value in T: P. It cannot be zero or empty.``"""
        table = self.definition(table_id)
        return NavError(
            Failure.TEST_FIELD,
            f"{self.caption(table_id, name)} must have a value in {table.name}: "
            f"{self.position(table_id, record)}. It cannot be zero or empty.",
        )

    def must_equal(self, table_id: int, record: Record, name: str, expected: Any) -> NavError:
        """``X must be equal to 'E'  in T: P. Current value is 'C'.``"""
        table = self.definition(table_id)
        field = table.field(name)
        return NavError(
            Failure.TEST_FIELD,
            f"{self.caption(table_id, name)} must be equal to '{_shown(field, expected)}'  in "
            f"{table.name}: {self.position(table_id, record)}. Current value is "
            f"'{_shown(field, record.get(name))}'.",
        )

    def not_found(self, table_id: int, key: Iterable[Any]) -> NavError:
        """``The T does not exist. Identification fields and values: K``."""
        return NavError(
            Failure.RECORD_NOT_FOUND,
            f"The {self.definition(table_id).name} does not exist. Identification fields and "
            f"values: {self.identification(table_id, key)}",
        )

    def relation(self, table_id: int, name: str, value: Any, related: int) -> NavError:
        """The table-relation error of a field whose value is not in the related table."""
        return NavError(
            Failure.TABLE_RELATION,
            f"The field {self.caption(table_id, name)} of table {self.definition(table_id).name} "
            f"contains a value ({value}) that cannot be found in the related table "
            f"({self.definition(related).name}).",
        )

    def _related(self, table_id: int, record: Record, name: str, related: int) -> Record | None:
        value = record.get(name, "")
        if value in ("", None):
            return None
        found = self.get(related, (value,))
        if found is None:
            raise self.relation(table_id, name, value, related)
        return found

    # --- writing --------------------------------------------------------------------------------

    def new_record(self, table_id: int) -> Record:
        """A record with every field at its initial value (OnInit/InitRecord)."""
        record: Record = {f.name: blank(f) for f in self.definition(table_id).fields}
        role = self._roles.get(table_id)
        if role == "sales_header":
            today = self.work_date().isoformat()
            record.update(
                Document_Type="Invoice", Posting_Date=today, Document_Date=today, Order_Date=today
            )
        elif role == "sales_line":
            record["Document_Type"] = "Invoice"
        return record

    def validate(self, table_id: int, record: Record, name: str, value: Any) -> None:
        """Set a field and run its OnValidate trigger."""
        old = record.get(name)
        record[name] = value
        role = self._roles.get(table_id)
        handler = getattr(self, f"_validate_{role}", None)
        if handler is not None:
            handler(record, name, old)

    def insert(self, table_id: int, record: Record) -> Record:
        """OnInsert, then store (NAV's duplicate-key error if the key exists)."""
        role = self._roles.get(table_id)
        handler = getattr(self, f"_insert_{role}", None)
        if handler is not None:
            handler(record)
        key = self.primary_key(table_id, record)
        rows = self.company.table(table_id)
        if self.row_key(key) in rows:
            raise NavError(
                Failure.DUPLICATE_KEY,
                f"The {self.definition(table_id).name} already exists. Identification fields and "
                f"values: {self.identification(table_id, key)}",
            )
        record["$version"] = self.company.next_version()
        self._store(table_id, record)
        self._log_change(table_id, record, "Insert")
        return record

    def modify(self, table_id: int, record: Record, old: Record) -> Record:
        """OnModify, then store with a new row version (so Key and ETag change)."""
        role = self._roles.get(table_id)
        handler = getattr(self, f"_modify_{role}", None)
        if handler is not None:
            handler(record, old)
        record["$version"] = self.company.next_version()
        self._store(table_id, record)
        self._log_change(table_id, record, "Modify")
        return record

    def delete(self, table_id: int, record: Record) -> None:
        """OnDelete, then remove."""
        role = self._roles.get(table_id)
        handler = getattr(self, f"_delete_{role}", None)
        if handler is not None:
            handler(record)
        self._remove(table_id, record)
        self._log_change(table_id, record, "Delete")

    def seed(self, table_id: int, values: dict[str, Any]) -> Record:
        """Insert a row without triggers (seed data and internal tables)."""
        record = self.new_record(table_id)
        record.update(values)
        record["$version"] = self.company.next_version()
        self._store(table_id, record)
        return record

    def next_number(self, series: str) -> str:
        """The next number of a number series."""
        current = self.company.series.get(series) or self.config.number_series.get(series)
        if current is None:
            raise NavError(Failure.DIALOG, f"The number series {series} does not exist.")
        self.company.series[series] = increment(current)
        return current

    def _log_change(self, table_id: int, record: Record, change: str) -> None:
        if table_id not in self.config.change_log_tables or table_id == self.ids.change_log:
            return
        entry = self.company.next_counter("change_log")
        row = self.new_record(self.ids.change_log)
        row.update(
            Entry_No=entry,
            Table_ID=table_id,
            Table_Name=self.definition(table_id).name,
            Record_Key=self.record_key_text(table_id, record),
            Change_Type=change,
            Changed_At=self.stamp(),
            Processed=False,
        )
        row["$version"] = self.company.next_version()
        self._store(self.ids.change_log, row)

    # --- FlowFields -----------------------------------------------------------------------------

    def calc_fields(self, table_id: int, record: Record) -> Record:
        """A copy of ``record`` with its FlowFields calculated."""
        role = self._roles.get(table_id)
        shown = dict(record)
        if role == "sales_header":
            lines = self.lines(record["Document_Type"], record["No"])
            shown["Amount"] = sum((line["Amount"] for line in lines), Decimal(0))
            shown["Amount_Including_VAT"] = sum(
                (line["Amount_Including_VAT"] for line in lines), Decimal(0)
            )
        elif role in ("sales_invoice_header", "sales_cr_memo_header"):
            kind = "Invoice" if role == "sales_invoice_header" else "Credit_Memo"
            entries = self.where(
                self.ids.cust_ledger_entry, Document_Type=kind, Document_No=record["No"]
            )
            shown["Remaining_Amount"] = sum((e["Remaining_Amount"] for e in entries), Decimal(0))
            shown["Closed"] = bool(entries) and not any(e["Open"] for e in entries)
        return shown

    def lines(self, document_type: str, number: str) -> list[Record]:
        """The sales lines of a sales document, in line order."""
        # Row keys are the JSON of the primary key, so a document's lines share a key prefix;
        # matching it avoids sorting the whole table on every line write.
        prefix = self.row_key((document_type, number))[:-1] + ", "
        rows = self.company.table(self.ids.sales_line)
        found = [row for key, row in rows.items() if key.startswith(prefix)]
        return sorted(found, key=lambda row: int(row["Line_No"]))

    # --- Customer (18) --------------------------------------------------------------------------

    def _insert_customer(self, record: Record) -> None:
        if not record.get("No"):
            record["No"] = self.next_number("customer")
        record["Last_Date_Modified"] = self.work_date().isoformat()

    def _modify_customer(self, record: Record, _old: Record) -> None:
        record["Last_Date_Modified"] = self.work_date().isoformat()

    def _validate_customer(self, record: Record, name: str, _old: Any) -> None:
        t = self.ids
        related = {
            "Currency_Code": t.currency,
            "Salesperson_Code": t.salesperson,
            "Payment_Terms_Code": t.payment_terms,
        }
        if name in related:
            self._related(t.customer, record, name, related[name])

    # --- Contact (5050) and business relations (5054) -----------------------------------------

    def _insert_contact(self, record: Record) -> None:
        if not record.get("No"):
            record["No"] = self.next_number("contact")
        self._contact_company(record)

    def _modify_contact(self, record: Record, _old: Record) -> None:
        self._contact_company(record)

    def _contact_company(self, record: Record) -> None:
        if record.get("Type") == "Company" or not record.get("Type"):
            record["Company_No"] = record["No"]
            record["Company_Name"] = record.get("Name", "")

    def _validate_contact(self, record: Record, name: str, _old: Any) -> None:
        if name == "Company_No" and record.get("Company_No"):
            company = self._related(self.ids.contact, record, "Company_No", self.ids.contact)
            if company is not None and company.get("Type") != "Company":
                raise self.must_equal(self.ids.contact, company, "Type", "Company")
            if company is not None:
                record["Company_Name"] = company.get("Name", "")

    def _insert_contact_business_relation(self, record: Record) -> None:
        t = self.ids
        self._related(t.contact_business_relation, record, "Contact_No", t.contact)
        if record.get("Link_to_Table") == "Customer":
            self._related(t.contact_business_relation, record, "No", t.customer)

    def _modify_contact_business_relation(self, record: Record, _old: Record) -> None:
        self._insert_contact_business_relation(record)

    # --- Employee (5200) ------------------------------------------------------------------------

    def _insert_employee(self, record: Record) -> None:
        if not record.get("No"):
            record["No"] = self.next_number("employee")
        setup = self.get(self.ids.timelog_setup, ("",))
        template = self.config.employee_templates.get(
            setup.get("Employee_Template", "") if setup else ""
        )
        for name, value in (template or {}).items():
            if not record.get(name):
                record[name] = value
        self._check_dimension(self.ids.employee, record, "Global_Dimension_1_Code", 1)

    def _validate_employee(self, record: Record, name: str, _old: Any) -> None:
        if name == "Global_Dimension_1_Code":
            self._check_dimension(self.ids.employee, record, name, 1)

    # --- Dimensions -----------------------------------------------------------------------------

    def dimension_code(self, number: int) -> str:
        """The code of global dimension 1 or 2 (G/L Setup)."""
        return self.config.global_dimension_1 if number == 1 else self.config.global_dimension_2

    def _check_dimension(self, table_id: int, record: Record, name: str, number: int) -> None:
        value = record.get(name, "")
        if not value:
            return
        dimension = self.dimension_code(number)
        found = self.get(self.ids.dimension_value, (dimension, value))
        if found is None:
            raise NavError(
                Failure.DIALOG,
                f"The dimension value {value} has not been set up for dimension {dimension}.",
            )
        if found.get("Blocked"):
            raise NavError(Failure.DIALOG, f"Dimension Value {dimension} - {value} is blocked.")

    def _insert_dimension_value(self, record: Record) -> None:
        t = self.ids
        if not record.get("Code"):
            raise self.must_have_value(t.dimension_value, record, "Code")
        self._related(t.dimension_value, record, "Dimension_Code", t.dimension)

    # --- Sales Header (36) ----------------------------------------------------------------------

    def _insert_sales_header(self, record: Record) -> None:
        if not record.get("No"):
            series = (
                "sales_credit_memo" if record["Document_Type"] == "Credit_Memo" else "sales_invoice"
            )
            record["No"] = self.next_number(series)
        if not record.get("Posting_Description"):
            kind = "Credit Memo" if record["Document_Type"] == "Credit_Memo" else "Invoice"
            record["Posting_Description"] = f"{kind} {record['No']}"
        if not record.get("Due_Date"):
            self._due_date(record)

    def _due_date(self, record: Record) -> None:
        base = record.get("Document_Date") or self.work_date().isoformat()
        terms = self.get(self.ids.payment_terms, (record.get("Payment_Terms_Code", ""),))
        formula = terms.get("Due_Date_Calculation", "") if terms else ""
        record["Due_Date"] = calc_date(formula, date.fromisoformat(base)).isoformat()

    def _validate_sales_header(self, record: Record, name: str, old: Any) -> None:
        t = self.ids
        header = t.sales_header
        if name == "Sell_to_Customer_No":
            self._sell_to(record, old)
        elif name == "Bill_to_Customer_No":
            self._bill_to(record)
        elif name == "Currency_Code":
            self._related(header, record, name, t.currency)
        elif name == "Salesperson_Code":
            self._related(header, record, name, t.salesperson)
        elif name == "Payment_Terms_Code":
            self._related(header, record, name, t.payment_terms)
            self._due_date(record)
        elif name == "Document_Date":
            self._due_date(record)
        elif name in ("Shortcut_Dimension_1_Code", "Shortcut_Dimension_2_Code"):
            number = 1 if name.endswith("1_Code") else 2
            self._check_dimension(header, record, name, number)
            for line in self.lines(record["Document_Type"], record.get("No", "")):
                if line.get(name) in ("", old):
                    self.modify(t.sales_line, {**line, name: record[name]}, line)
        elif name == "Prices_Including_VAT":
            for line in self.lines(record["Document_Type"], record.get("No", "")):
                changed = dict(line)
                self._line_amounts(changed, record)
                self.modify(t.sales_line, changed, line)

    def _customer_for(self, record: Record, name: str) -> Record:
        number = record.get(name, "")
        customer = self.get(self.ids.customer, (number,))
        if customer is None:
            raise self.not_found(self.ids.customer, (number,))
        if customer.get("Blocked") in ("Invoice", "All"):
            raise NavError(
                Failure.DIALOG,
                f"You cannot create this type of document when Customer {number} is blocked "
                f"with type {customer['Blocked']}",
            )
        return customer

    def _sell_to(self, record: Record, old: Any) -> None:
        if (
            old
            and old != record["Sell_to_Customer_No"]
            and self.lines(record["Document_Type"], record.get("No", ""))
        ):
            # Page logic asks the user to confirm; a web service cannot answer a dialog.
            raise NavError(Failure.CALLBACK, "Callback functions are not allowed.")
        if not record["Sell_to_Customer_No"]:
            return
        customer = self._customer_for(record, "Sell_to_Customer_No")
        record.update(
            Sell_to_Customer_Name=customer.get("Name", ""),
            Sell_to_Contact=customer.get("Contact", ""),
            Bill_to_Customer_No=customer["No"],
        )
        self._bill_to(record)

    def _bill_to(self, record: Record) -> None:
        if not record.get("Bill_to_Customer_No"):
            return
        customer = self._customer_for(record, "Bill_to_Customer_No")
        record.update(
            Bill_to_Name=customer.get("Name", ""),
            Bill_to_Contact=customer.get("Contact", ""),
            Currency_Code=customer.get("Currency_Code", ""),
            Payment_Terms_Code=customer.get("Payment_Terms_Code", ""),
            Salesperson_Code=customer.get("Salesperson_Code", ""),
            Gen_Bus_Posting_Group=customer.get("Gen_Bus_Posting_Group", ""),
            VAT_Bus_Posting_Group=customer.get("VAT_Bus_Posting_Group", ""),
            Customer_Posting_Group=customer.get("Customer_Posting_Group", ""),
        )
        self._due_date(record)

    def _modify_sales_header(self, record: Record, _old: Record) -> None:
        return None

    def _delete_sales_header(self, record: Record) -> None:
        for line in self.lines(record["Document_Type"], record["No"]):
            self.delete(self.ids.sales_line, line)

    # --- Sales Line (37) ------------------------------------------------------------------------

    def header_of(self, line: Record) -> Record:
        """The sales header of a line (NAV's error when it does not exist)."""
        key = (line.get("Document_Type"), line.get("Document_No", ""))
        header = self.get(self.ids.sales_header, key)
        if header is None:
            raise self.not_found(self.ids.sales_header, key)
        return header

    def _insert_sales_line(self, record: Record) -> None:
        header = self.header_of(record)
        if not record.get("Line_No"):
            existing = [
                line["Line_No"] for line in self.lines(header["Document_Type"], header["No"])
            ]
            record["Line_No"] = max(existing, default=0) + 10000
        for name in ("Shortcut_Dimension_1_Code", "Shortcut_Dimension_2_Code"):
            if not record.get(name):
                record[name] = header.get(name, "")
        self._line_amounts(record, header)

    def _modify_sales_line(self, record: Record, _old: Record) -> None:
        self._line_amounts(record, self.header_of(record))

    def _validate_sales_line(self, record: Record, name: str, _old: Any) -> None:
        t = self.ids
        line_table = t.sales_line
        header = self.header_of(record)
        if name == "Type":
            for field in ("No", "Description", "Unit_of_Measure_Code", "VAT_Prod_Posting_Group"):
                record[field] = ""
            record["Unit_Price"] = Decimal(0)
        elif name == "No":
            self._line_no(record, header)
        elif name in ("Quantity", "Unit_Price", "Line_Discount_Percent"):
            if record.get(name) and record.get("Type") == "_blank_":
                raise self.must_have_value(line_table, record, "Type")
            if name == "Line_Discount_Percent" and not 0 <= record[name] <= 100:
                raise NavError(
                    Failure.DIALOG,
                    "The value must be greater than or equal to 0 and less than or equal to 100."
                    "\nField: Line Discount %\nTable: Sales Line",
                )
        elif name == "Shortcut_Dimension_1_Code":
            self._check_dimension(line_table, record, name, 1)
        elif name == "Shortcut_Dimension_2_Code":
            self._check_dimension(line_table, record, name, 2)
        self._line_amounts(record, header)

    def _line_no(self, record: Record, header: Record) -> None:
        t = self.ids
        line_table = t.sales_line
        kind, number = record.get("Type"), record.get("No", "")
        if kind == "_blank_" or not number:
            return
        source_table = {
            "G_L_Account": t.gl_account,
            "Item": t.item,
            "Resource": t.resource,
            "Fixed_Asset": t.fixed_asset,
            "Charge_Item": t.item_charge,
        }[str(kind)]
        source = self.get(source_table, (number,))
        if source is None:
            raise self.relation(line_table, "No", number, source_table)
        if kind == "G_L_Account":
            if source.get("Account_Type") != "Posting":
                raise self.must_equal(t.gl_account, source, "Account_Type", "Posting")
            if not source.get("Direct_Posting"):
                raise self.must_equal(t.gl_account, source, "Direct_Posting", True)
        if source.get("Blocked"):
            raise self.must_equal(source_table, source, "Blocked", False)
        record["Description"] = source.get("Description") or source.get("Name", "")
        record["Unit_of_Measure_Code"] = source.get("Base_Unit_of_Measure", "")
        record["Unit_Price"] = Decimal(source.get("Unit_Price", 0))
        record["VAT_Prod_Posting_Group"] = source.get("VAT_Prod_Posting_Group", "")
        self._vat_percent(record, header)

    def _vat_percent(self, line: Record, header: Record) -> None:
        key = (header.get("VAT_Bus_Posting_Group", ""), line.get("VAT_Prod_Posting_Group", ""))
        setup = self.get(self.ids.vat_posting_setup, key)
        if setup is None:
            raise self.not_found(self.ids.vat_posting_setup, key)
        line["VAT_Percent"] = Decimal(setup.get("VAT_Percent", 0))

    def _line_amounts(self, line: Record, header: Record) -> None:
        if line.get("Type") == "_blank_":
            for name in ("Line_Amount", "Amount", "Amount_Including_VAT", "VAT_Percent"):
                line[name] = Decimal(0)
            return
        quantity = Decimal(line.get("Quantity", 0))
        gross = round2(quantity * Decimal(line.get("Unit_Price", 0)))
        discount = round2(gross * Decimal(line.get("Line_Discount_Percent", 0)) / 100)
        line_amount = gross - discount
        rate = Decimal(line.get("VAT_Percent", 0))
        if header.get("Prices_Including_VAT"):
            amount = round2(line_amount / (1 + rate / 100))
            including = line_amount
        else:
            amount = line_amount
            including = amount + round2(amount * rate / 100)
        line.update(Line_Amount=line_amount, Amount=amount, Amount_Including_VAT=including)

    # --- Expense entries (50511) ----------------------------------------------------------------

    def _modify_expense_entry(self, record: Record, old: Record) -> None:
        if record.get("Status") != old.get("Status"):
            record["Last_Modified"] = self.stamp()

    def add_expense(self, values: dict[str, Any]) -> Record:
        """Add a TimeLog Expense Entry (what the expense-management codeunit would write)."""
        t = self.ids
        record = self.new_record(t.expense_entry)
        record.update(values)
        record["Entry_No"] = self.company.next_counter("expense_entry")
        if not record.get("Posting_Date"):
            record["Posting_Date"] = self.work_date().isoformat()
        self._related(t.expense_entry, record, "G_L_Account_No", t.gl_account)
        self._related(t.expense_entry, record, "Currency_Code", t.currency)
        if not record.get("Amount_LCY"):
            record["Amount_LCY"] = record.get("Amount", Decimal(0))
        record["Status"] = record.get("Status") or "Open"
        record["Last_Modified"] = self.stamp()
        return self.insert(t.expense_entry, record)

    # --- Sales-Post (codeunit 80) and payments --------------------------------------------------

    def post(self, document_type: str, number: str) -> Record:
        """Post an unposted invoice or credit memo: move 36/37 to 112/113 or 114/115 with a
        new number, record ``Pre-Assigned No.``, create the customer ledger entry."""
        t = self.ids
        header = self.get(t.sales_header, (document_type, number))
        if header is None:
            raise self.not_found(t.sales_header, (document_type, number))
        for name in ("Sell_to_Customer_No", "Bill_to_Customer_No", "Posting_Date"):
            if not header.get(name):
                raise self.must_have_value(t.sales_header, header, name)
        customer = self._customer_for(header, "Bill_to_Customer_No")
        if not customer.get("Customer_Posting_Group"):
            raise self.must_have_value(t.customer, customer, "Customer_Posting_Group")
        if not header.get("Gen_Bus_Posting_Group"):
            raise self.must_have_value(t.sales_header, header, "Gen_Bus_Posting_Group")
        lines = self.lines(document_type, number)
        if not any(line["Type"] != "_blank_" and line["Quantity"] for line in lines):
            raise NavError(Failure.DIALOG, "There is nothing to post.")
        for line in lines:
            if line["Type"] != "_blank_" and line["No"]:
                self._line_no(dict(line), header)
        shown = self.calc_fields(t.sales_header, header)
        invoice = document_type == "Invoice"
        posted_table = t.sales_invoice_header if invoice else t.sales_cr_memo_header
        posted_lines = t.sales_invoice_line if invoice else t.sales_cr_memo_line
        posted_no = self.next_number(
            "posted_sales_invoice" if invoice else "posted_sales_credit_memo"
        )
        posted = self.new_record(posted_table)
        for name in list(posted):
            if name in shown and name not in ("No",):
                posted[name] = shown[name]
        posted.update(No=posted_no, Pre_Assigned_No=number)
        for hidden in ("Gen_Bus_Posting_Group", "VAT_Bus_Posting_Group", "Customer_Posting_Group"):
            posted[hidden] = header.get(hidden, "")
        self.insert(posted_table, posted)
        for line in lines:
            row = self.new_record(posted_lines)
            for name in list(row):
                if name in line:
                    row[name] = line[name]
            row["Document_No"] = posted_no
            self.insert(posted_lines, row)
        sign = Decimal(1) if invoice else Decimal(-1)
        total = sign * shown["Amount_Including_VAT"]
        entry = self.company.next_counter("cust_ledger_entry")
        self.seed(
            t.cust_ledger_entry,
            {
                "Entry_No": entry,
                "Customer_No": header["Bill_to_Customer_No"],
                "Posting_Date": header["Posting_Date"],
                "Document_Type": "Invoice" if invoice else "Credit_Memo",
                "Document_No": posted_no,
                "Currency_Code": header.get("Currency_Code", ""),
                "Amount": total,
                "Remaining_Amount": total,
                "Open": total != 0,
                "Due_Date": header.get("Due_Date", ""),
            },
        )
        self.delete(t.sales_header, header)
        return self.calc_fields(posted_table, posted)

    def find_posted(self, number: str) -> tuple[int, Record]:
        """The posted invoice or credit memo numbered ``number``."""
        for table_id in (self.ids.sales_invoice_header, self.ids.sales_cr_memo_header):
            found = self.get(table_id, (number,))
            if found is not None:
                return table_id, found
        raise self.not_found(self.ids.sales_invoice_header, (number,))

    def pay(self, number: str, amount: Decimal) -> Record:
        """Apply a payment (or a refund, for a credit memo) of ``amount`` to a posted document."""
        table_id, posted = self.find_posted(number)
        if amount <= 0:
            raise NavError(Failure.DIALOG, 'The "amount" should be a positive number.')
        kind = "Invoice" if table_id == self.ids.sales_invoice_header else "Credit_Memo"
        entries = self.where(self.ids.cust_ledger_entry, Document_Type=kind, Document_No=number)
        remaining = sum((e["Remaining_Amount"] for e in entries), Decimal(0))
        if amount > abs(remaining):
            raise NavError(
                Failure.DIALOG,
                f"The amount {amount} exceeds the remaining amount {abs(remaining)} of {number}.",
            )
        left = amount
        for entry in entries:
            applied = min(left, abs(entry["Remaining_Amount"]))
            step = applied if entry["Remaining_Amount"] > 0 else -applied
            changed = dict(entry)
            changed["Remaining_Amount"] = entry["Remaining_Amount"] - step
            changed["Open"] = changed["Remaining_Amount"] != 0
            changed["$version"] = self.company.next_version()
            self._store(self.ids.cust_ledger_entry, changed)
            left -= applied
        payment = self.company.next_counter("cust_ledger_entry")
        self.seed(
            self.ids.cust_ledger_entry,
            {
                "Entry_No": payment,
                "Customer_No": posted.get("Bill_to_Customer_No", ""),
                "Posting_Date": self.work_date().isoformat(),
                "Document_Type": "Payment" if kind == "Invoice" else "Refund",
                "Document_No": f"PAY-{payment}",
                "Currency_Code": posted.get("Currency_Code", ""),
                "Amount": -amount if kind == "Invoice" else amount,
                "Remaining_Amount": Decimal(0),
                "Open": False,
            },
        )
        return self.calc_fields(table_id, posted)
