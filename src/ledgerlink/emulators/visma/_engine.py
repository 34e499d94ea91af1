"""The emulated company: storage in one SQLite file and Visma's business rules.

Shared by :class:`~.adk.EmulatedAdk` (the ADK surface) and :mod:`.admin` (what the
ERP user does). The file lives in the company folder (``company.sqlite``); WAL mode and one short
``BEGIN IMMEDIATE`` transaction per write make it safe for two processes at once.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from ledgerlink.emulators.visma._schema import DATABASES, NUMBER_SERIES_START, DbSpec
from ledgerlink.interfaces.visma_adk import constants as c

COMPANY_FILE = "company.sqlite"
FAULT_FILE = "adk-fault.json"

Value = str | float | bool | int
Fields = dict[int, Value]
Hidden = dict[str, Value]

VAT_PERCENT: Mapping[str, Decimal] = {
    "0": Decimal(0),
    "1": Decimal(25),
    "2": Decimal(12),
    "3": Decimal(6),
}
"""Visma VAT codes (momskod) → percent: 1 = 25 %, 2 = 12 %, 3 = 6 %, 0 = none."""

INVOICE_TYPES = frozenset({"F", "K"})  # GUESS: F = faktura, K = kreditfaktura
ROW_TYPE_ARTICLE = "A"  # GUESS: TYPE_OF_ROW letters
ROW_TYPE_TEXT = "T"


class Reject(Exception):
    """A business rule refused the write: an ``ADKE_*`` code, the field and the table."""

    def __init__(self, code: int, field_id: int = 0, table: int = 0) -> None:
        super().__init__(code)
        self.code = code
        self.field_id = field_id
        self.table = table


@dataclass(slots=True)
class Stored:
    """One stored record: field values, rows (heads only) and emulator-only state."""

    values: Fields
    rows: list[Fields] = field(default_factory=list)
    hidden: Hidden = field(default_factory=dict)


def default(type_: int) -> Value:
    """The value of an unset field of a type."""
    if type_ == c.eChar:
        return ""
    if type_ == c.eDouble:
        return 0.0
    if type_ == c.eBool:
        return False
    return 0


def key_of(spec: DbSpec, value: Value) -> str:
    """The storage key of a key-field value (document numbers as integers)."""
    if spec.key_is_number:
        return str(int(float(value)))
    return str(value).strip()


def date_to_long(day: date) -> int:
    """A date as the ADK LONG ``yyyymmdd`` (GUESS: the real encoding is not published)."""
    return day.year * 10000 + day.month * 100 + day.day


def long_to_date(value: int) -> date:
    """Inverse of :func:`date_to_long`; raises ``ValueError`` for an impossible date."""
    return date(value // 10000, value // 100 % 100, value % 100)


def today() -> date:
    """Today (UTC)."""
    return datetime.now(UTC).date()


def money(value: Decimal) -> Decimal:
    """Round half up to öre."""
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def read_fault(folder: Path) -> int | None:
    """The licence fault injected for a company folder (``ADKE_*`` code), if any."""
    path = folder / FAULT_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return int(data["lRc"])


HOLD_FILE = "adk-hold.json"


def read_hold(folder: Path) -> float:
    """Seconds ``AdkAdd`` waits after its write is committed before it returns (a fault for
    crash tests: the record exists, but the caller has not heard of it yet)."""
    try:
        return float(json.loads((folder / HOLD_FILE).read_text(encoding="utf-8"))["seconds"])
    except FileNotFoundError:
        return 0.0


def connect(path: Path) -> sqlite3.Connection:
    """A connection to a company file: autocommit, WAL, waits for the other process's lock."""
    connection = sqlite3.connect(path, timeout=10.0, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA busy_timeout=10000")
    return connection


SCHEMA = (
    "CREATE TABLE IF NOT EXISTS record (db INTEGER NOT NULL, key TEXT NOT NULL,"
    " data TEXT NOT NULL, PRIMARY KEY (db, key))",
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
)


class Company:
    """One open company file with Visma's rules for writes."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.connection = connect(folder / COMPANY_FILE)

    def close(self) -> None:
        """Close the file."""
        self.connection.close()

    # --- storage ------------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One short write transaction (``BEGIN IMMEDIATE``), rolled back on any exception."""
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")

    def create_schema(self) -> None:
        """Create the tables of a new company."""
        for statement in SCHEMA:
            self.connection.execute(statement)

    def get(self, db: int, key: str) -> Stored | None:
        """The stored record, or ``None``."""
        row = self.connection.execute(
            "SELECT data FROM record WHERE db = ? AND key = ?", (db, key)
        ).fetchone()
        return None if row is None else _decode(row[0])

    def all(self, db: int) -> list[tuple[str, Stored]]:
        """Every record of a database with its key."""
        rows = self.connection.execute("SELECT key, data FROM record WHERE db = ?", (db,))
        return [(key, _decode(data)) for key, data in rows]

    def put(self, db: int, key: str, stored: Stored) -> None:
        """Insert or replace a record (inside :meth:`transaction`)."""
        self.connection.execute(
            "INSERT OR REPLACE INTO record (db, key, data) VALUES (?, ?, ?)",
            (db, key, _encode(stored)),
        )

    def remove(self, db: int, key: str) -> None:
        """Delete a record (inside :meth:`transaction`)."""
        self.connection.execute("DELETE FROM record WHERE db = ? AND key = ?", (db, key))

    def meta(self, name: str) -> str | None:
        """A company setting."""
        row = self.connection.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, name: str, value: str) -> None:
        """Store a company setting (inside :meth:`transaction`)."""
        self.connection.execute(
            "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", (name, value)
        )

    def stamp(self) -> int:
        """The next TIMESTAMP: seconds since 1970 (UTC), strictly growing per company.

        GUESS: the real LONG date-time encoding is not published; seconds keep it a date-time and
        the +1 rule keeps it a usable change cursor even for several writes in one second.
        """
        last = int(self.meta("timestamp") or 0)
        now = int(datetime.now(UTC).timestamp())
        value = max(now, last + 1)
        self.set_meta("timestamp", str(value))
        return value

    def next_number(self, db: int) -> int:
        """The next free number of a database's number series."""
        last = int(self.meta(f"series:{db}") or NUMBER_SERIES_START[db] - 1)
        number = last + 1
        while self.get(db, str(number)) is not None:
            number += 1
        self.set_meta(f"series:{db}", str(number))
        return number

    @property
    def base_currency(self) -> str:
        """The company's own currency (PRM)."""
        prm = self.get(c.ADK_DB_PRM, "1")
        return str(prm.values.get(c.ADK_PRM_CODE_OF_CURRENCY, "SEK")) if prm else "SEK"

    # --- writes -------------------------------------------------------------------------------
    def add(self, spec: DbSpec, values: Fields, rows: list[Fields] | None) -> str:
        """Validate and store a new record; returns its key. Raises :class:`Reject`."""
        record = {fid: values.get(fid, default(f.type)) for fid, f in spec.fields.items()}
        record.pop(spec.rows_field or -1, None)
        with self.transaction():
            key = self._assign_key(spec, record)
            stored = Stored(record, [dict(row) for row in rows or []])
            self._apply_rules(spec, stored, None)
            self._stamp_all(spec, stored)
            self.put(spec.db_id, key, stored)
        return key

    def update(self, spec: DbSpec, key: str, changed: Fields, rows: list[Fields] | None) -> None:
        """Apply changed fields (and new rows when given) to a stored record."""
        with self.transaction():
            existing = self.get(spec.db_id, key)
            if existing is None:
                raise Reject(c.ADKE_NOT_FOUND, spec.key_field, spec.table_code)
            if spec.db_id == c.ADK_DB_INVOICE_HEAD:
                _check_invoice_editable(existing, changed, rows is not None)
            stored = Stored(
                {**existing.values, **changed},
                [dict(row) for row in rows] if rows is not None else existing.rows,
                dict(existing.hidden),
            )
            self._apply_rules(spec, stored, existing)
            self._stamp_all(spec, stored)
            self.put(spec.db_id, key, stored)

    def delete(self, spec: DbSpec, key: str) -> None:
        """Delete a record; invoices in the ledger and referenced customers are refused."""
        with self.transaction():
            existing = self.get(spec.db_id, key)
            if existing is None:
                raise Reject(c.ADKE_NOT_FOUND, spec.key_field, spec.table_code)
            if spec.db_id == c.ADK_DB_INVOICE_HEAD:
                _check_invoice_editable(existing, {}, rows_changed=True)
            if spec.db_id == c.ADK_DB_CUSTOMER and any(
                head.values.get(c.ADK_OOI_HEAD_CUSTOMER_NUMBER) == key
                for _, head in self.all(c.ADK_DB_INVOICE_HEAD)
            ):
                raise Reject(c.ADKE_DELETE_DENIED_CONNECTION, spec.key_field, spec.table_code)
            self.remove(spec.db_id, key)

    def set_invoice_state(self, number: int, **state: Value) -> None:
        """Admin: set emulator-only invoice state (``in_ledger``, ``booked``) and re-stamp."""
        with self.transaction():
            stored = self.get(c.ADK_DB_INVOICE_HEAD, str(number))
            if stored is None:
                raise Reject(c.ADKE_NOT_FOUND, c.ADK_OOI_HEAD_DOCUMENT_NUMBER, c.ADKE_DBTABLE_OOF)
            stored.hidden.update(state)
            if state.get("in_ledger"):
                # Visma registers an invoice in the ledger when it is printed; without the flag
                # a booking made in Visma would be invisible through the ADK.
                stored.values[c.ADK_OOI_HEAD_DOCUMENT_PRINTED] = True
            self._stamp_all(DATABASES[c.ADK_DB_INVOICE_HEAD], stored)
            self.put(c.ADK_DB_INVOICE_HEAD, str(number), stored)

    # --- rules --------------------------------------------------------------------------------
    def _assign_key(self, spec: DbSpec, record: Fields) -> str:
        raw = record[spec.key_field]
        if spec.numbered:
            if spec.key_is_number and float(raw) > 0:
                key = key_of(spec, raw)
                if self.get(spec.db_id, key) is not None:
                    raise Reject(c.ADKE_KEY_TAKEN_IN_NUMBERSERIES, spec.key_field, spec.table_code)
            else:
                key = str(self.next_number(spec.db_id))
            record[spec.key_field] = float(key)
            return key
        if spec.db_id == c.ADK_DB_PRM:
            return "1"
        key = key_of(spec, raw)
        if not key:
            code = c.ADKE_CUSTOMER_INVALID_CUSTOMERNR if spec.db_id == c.ADK_DB_CUSTOMER else 0
            raise Reject(code or c.ADKE_NO_KEY, spec.key_field, spec.table_code)
        if self.get(spec.db_id, key) is not None:
            # GUESS: the header has no "key exists" code for registers; INVALID_INDEX is closest.
            raise Reject(c.ADKE_INVALID_INDEX, spec.key_field, spec.table_code)
        record[spec.key_field] = key
        return key

    def _stamp_all(self, spec: DbSpec, stored: Stored) -> None:
        stamp = self.stamp()
        if spec.timestamp_field is not None:
            stored.values[spec.timestamp_field] = stamp
        for row in stored.rows:
            row[c.ADK_OOI_ROW_TIMESTAMP] = stamp
        if spec.db_id == c.ADK_DB_CUSTOMER:
            stored.values[c.ADK_CUSTOMER_LASTCHANGE] = date_to_long(today())

    def _ref(self, db: int, value: Value, code: int, field_id: int, table: int) -> Stored | None:
        """Check that a code refers to an existing record of ``db`` (empty is allowed)."""
        text = str(value).strip()
        if not text:
            return None
        stored = self.get(db, text)
        if stored is None:
            raise Reject(code, field_id, table)
        return stored

    def _apply_rules(self, spec: DbSpec, stored: Stored, existing: Stored | None) -> None:
        rules = {
            c.ADK_DB_CUSTOMER: self._customer,
            c.ADK_DB_ARTICLE: self._article,
            c.ADK_DB_PROJECT: self._project,
            c.ADK_DB_INVOICE_HEAD: self._invoice,
            c.ADK_DB_SUPPLIER_INVOICE_HEAD: self._supplier_invoice,
            c.ADK_DB_CUSTOMERPAYMENT: self._payment,
        }
        rule = rules.get(spec.db_id)
        if rule is not None:
            rule(stored, existing)
        elif spec.db_id == c.ADK_DB_ACCOUNT and not str(stored.values[c.ADK_ACCOUNT_TEXT]).strip():
            raise Reject(c.ADKE_NO_NAME, c.ADK_ACCOUNT_TEXT, spec.table_code)

    def _common_refs(self, values: Fields, table: int, refs: Mapping[str, int]) -> None:
        checks = {
            "seller": (c.ADK_DB_CODE_OF_SELLER, c.ADKE_CUSTOMER_INVALID_SELLER),
            "terms": (c.ADK_DB_CODE_OF_TERMS_OF_PAYMENT, c.ADKE_INVALID_PAYMENT_TERMS),
            "currency": (c.ADK_DB_CODE_OF_CURRENCY, c.ADKE_INVALID_CURRENCY_CODE),
            "country": (c.ADK_DB_CODE_OF_COUNTRY_CODE, c.ADKE_INVALID_COUNTRY_CODE),
            "project": (c.ADK_DB_PROJECT, c.ADKE_INVLAID_PROJECT),
            "profit_centre": (c.ADK_DB_CODE_OF_PROFIT_CENTRE, c.ADKE_INVLAID_RESULT_UNIT),
            "account": (c.ADK_DB_ACCOUNT, c.ADKE_INVLAID_ACCOUNT),
            "supplier": (c.ADK_DB_SUPPLIER, c.ADKE_COULD_NOT_FIND_SUPPLIER),
        }
        for kind, field_id in refs.items():
            db, code = checks[kind]
            self._ref(db, values.get(field_id, ""), code, field_id, table)

    def _customer(self, stored: Stored, existing: Stored | None) -> None:
        values = stored.values
        if not str(values[c.ADK_CUSTOMER_NAME]).strip():
            raise Reject(c.ADKE_NO_NAME, c.ADK_CUSTOMER_NAME, c.ADKE_DBTABLE_CUSTOMER)
        self._common_refs(
            values,
            c.ADKE_DBTABLE_CUSTOMER,
            {
                "seller": c.ADK_CUSTOMER_SELLER,
                "terms": c.ADK_CUSTOMER_CODE_OF_TERMS_OF_PAYMENT,
                "currency": c.ADK_CUSTOMER_CODE_OF_CURRENCY,
                "country": c.ADK_CUSTOMER_CODE_OF_COUNTRY,
                "project": c.ADK_CUSTOMER_PROJECT,
                "profit_centre": c.ADK_CUSTOMER_PROFIT_CENTRE,
            },
        )
        country = self.get(
            c.ADK_DB_CODE_OF_COUNTRY_CODE, str(values[c.ADK_CUSTOMER_CODE_OF_COUNTRY])
        )
        if country is not None and not str(values[c.ADK_CUSTOMER_COUNTRY]).strip():
            values[c.ADK_CUSTOMER_COUNTRY] = country.values[c.ADK_CODE_OF_COUNTRY_CODE_COUNTRY]

    def _article(self, stored: Stored, existing: Stored | None) -> None:
        values = stored.values
        table = c.ADKE_DBTABLE_ARTICLE
        if not str(values[c.ADK_ARTICLE_NAME]).strip():
            raise Reject(c.ADKE_NO_NAME, c.ADK_ARTICLE_NAME, table)
        code = values[c.ADK_ARTICLE_ACCOUNTING_CODE]
        self._ref(
            c.ADK_DB_CODE_OF_ARTICLE_ACCOUNT,
            code,
            c.ADKE_ARTICLE_INVALID_KONTKOD,
            c.ADK_ARTICLE_ACCOUNTING_CODE,
            table,
        )
        unit = values[c.ADK_ARTICLE_UNIT_CODE]
        self._ref(c.ADK_DB_CODE_OF_UNIT, unit, c.ADKE_ARTICLE_INVALID_UNITCODE, 7, table)

    def _project(self, stored: Stored, existing: Stored | None) -> None:
        values = stored.values
        if not str(values[c.ADK_PROJECT_NAME]).strip():
            raise Reject(c.ADKE_NO_NAME, c.ADK_PROJECT_NAME, c.ADKE_DBTABLE_PROJECT)
        customer = self._ref(
            c.ADK_DB_CUSTOMER,
            values[c.ADK_PROJECT_CUSTOMER_NUMBER],
            c.ADKE_COULD_NOT_FIND_CUSTOMER,
            c.ADK_PROJECT_CUSTOMER_NUMBER,
            c.ADKE_DBTABLE_PROJECT,
        )
        if customer is not None:
            values[c.ADK_PROJECT_CUSTOMER_NAME] = customer.values[c.ADK_CUSTOMER_NAME]

    def _supplier_invoice(self, stored: Stored, existing: Stored | None) -> None:
        values = stored.values
        table = c.ADKE_DBTABLE_LEVFKT
        supplier = self._ref(
            c.ADK_DB_SUPPLIER,
            values[c.ADK_SUP_INV_HEAD_SUPPLIER_NUMBER],
            c.ADKE_COULD_NOT_FIND_SUPPLIER,
            c.ADK_SUP_INV_HEAD_SUPPLIER_NUMBER,
            table,
        )
        if supplier is None:
            raise Reject(c.ADKE_COULD_NOT_FIND_SUPPLIER, c.ADK_SUP_INV_HEAD_SUPPLIER_NUMBER, table)
        values[c.ADK_SUP_INV_HEAD_SUPPLIER_NAME] = supplier.values[c.ADK_SUPPLIER_NAME]
        if not values[c.ADK_SUP_INV_HEAD_CURRENCY_CODE]:
            values[c.ADK_SUP_INV_HEAD_CURRENCY_CODE] = self.base_currency
        self._common_refs(
            values,
            table,
            {
                "currency": c.ADK_SUP_INV_HEAD_CURRENCY_CODE,
                "project": c.ADK_SUP_INV_HEAD_PROJECT,
                "profit_centre": c.ADK_SUP_INV_HEAD_PROFIT_CENTRE,
            },
        )
        if existing is None:
            values[c.ADK_SUP_INV_HEAD_BALANCE_CURRENT_CURRENCY] = values[c.ADK_SUP_INV_HEAD_TOTAL]

    def _payment(self, stored: Stored, existing: Stored | None) -> None:
        values = stored.values
        table = c.ADKE_DBTABLE_CUSTOMERPAYMENT
        number = int(float(values[c.ADK_CUSTOMERPAYMENT_INVOICE_NUMBER]))
        invoice = self.get(c.ADK_DB_INVOICE_HEAD, str(number))
        field_id = c.ADK_CUSTOMERPAYMENT_INVOICE_NUMBER
        if invoice is None:
            raise Reject(c.ADKE_CUSTOMERPAYMENT_INVALID_INVOICE, field_id, table)
        if not invoice.hidden.get("in_ledger") or invoice.hidden.get("cancelled"):
            raise Reject(c.ADKE_CUSTOMERPAYMENT_INVOICE_ERROR, field_id, table)
        amount = Decimal(str(values[c.ADK_CUSTOMERPAYMENT_AMOUNT_CURRENCY]))
        if existing is not None:
            raise Reject(c.ADKE_EDIT_DENIED_FIELD, 0, table)
        if amount == 0:
            raise Reject(
                c.ADKE_CUSTOMERPAYMENT_ZERO_NOT_ALLOWED,
                c.ADK_CUSTOMERPAYMENT_AMOUNT_CURRENCY,
                table,
            )
        head = invoice.values
        rate = Decimal(str(head[c.ADK_OOI_HEAD_CURRENCY_RATE] or 1))
        unit = Decimal(str(head[c.ADK_OOI_HEAD_CURRENCY_UNIT] or 1))
        values[c.ADK_CUSTOMERPAYMENT_CURRENCY_CODE] = head[c.ADK_OOI_HEAD_CURRENCY_CODE]
        values[c.ADK_CUSTOMERPAYMENT_CURRENCY_RATE] = float(rate)
        values[c.ADK_CUSTOMERPAYMENT_AMOUNT_KR] = float(money(amount * rate / unit))
        if not values[c.ADK_CUSTOMERPAYMENT_DATE]:
            values[c.ADK_CUSTOMERPAYMENT_DATE] = date_to_long(today())
        paid = Decimal(str(invoice.hidden.get("paid", 0.0))) + amount
        invoice.hidden["paid"] = float(paid)
        total = Decimal(str(head[c.ADK_OOI_HEAD_TOTAL_AMOUNT]))
        head[c.ADK_OOI_HEAD_BALANCE] = float(total - paid)
        head[c.ADK_OOI_HEAD_BALANCE2] = float(money((total - paid) * rate / unit))
        head[c.ADK_OOI_HEAD_LAST_PAYMENT] = values[c.ADK_CUSTOMERPAYMENT_DATE]
        self._stamp_all(DATABASES[c.ADK_DB_INVOICE_HEAD], invoice)
        self.put(c.ADK_DB_INVOICE_HEAD, str(number), invoice)

    def _invoice(self, stored: Stored, existing: Stored | None) -> None:
        values = stored.values
        table = c.ADKE_DBTABLE_OOF
        customer = self.get(c.ADK_DB_CUSTOMER, str(values[c.ADK_OOI_HEAD_CUSTOMER_NUMBER]).strip())
        if customer is None:
            raise Reject(c.ADKE_OOF_INVALID_CUSTOMER, c.ADK_OOI_HEAD_CUSTOMER_NUMBER, table)
        self._credit_rules(values)
        if existing is None:
            _fill_from_customer(values, customer.values, self.base_currency)
        self._common_refs(
            values,
            table,
            {
                "seller": c.ADK_OOI_HEAD_SELLER_CODE,
                "terms": c.ADK_OOI_HEAD_CODE_OF_TERMS_OF_PAYMENT,
                "currency": c.ADK_OOI_HEAD_CURRENCY_CODE,
                "country": c.ADK_OOI_HEAD_CODE_OF_COUNTRY,
                "project": c.ADK_OOI_HEAD_PROJECT_CODE,
                "profit_centre": c.ADK_OOI_HEAD_PROFIT_CENTRE,
            },
        )
        currency = self.get(c.ADK_DB_CODE_OF_CURRENCY, str(values[c.ADK_OOI_HEAD_CURRENCY_CODE]))
        if currency is not None:
            if not values[c.ADK_OOI_HEAD_CURRENCY_RATE]:
                values[c.ADK_OOI_HEAD_CURRENCY_RATE] = currency.values[c.ADK_CODE_OF_CURRENCY_SELL]
            if not values[c.ADK_OOI_HEAD_CURRENCY_UNIT]:
                values[c.ADK_OOI_HEAD_CURRENCY_UNIT] = currency.values[c.ADK_CODE_OF_CURRENCY_UNIT]
        if not values[c.ADK_OOI_HEAD_DOCUMENT_DATE1]:
            values[c.ADK_OOI_HEAD_DOCUMENT_DATE1] = date_to_long(today())
        if not values[c.ADK_OOI_HEAD_DOCUMENT_DATE2]:
            terms = self.get(
                c.ADK_DB_CODE_OF_TERMS_OF_PAYMENT,
                str(values[c.ADK_OOI_HEAD_CODE_OF_TERMS_OF_PAYMENT]),
            )
            days = int(terms.hidden.get("days", 30)) if terms else 30
            due = long_to_date(int(values[c.ADK_OOI_HEAD_DOCUMENT_DATE1])) + timedelta(days=days)
            values[c.ADK_OOI_HEAD_DOCUMENT_DATE2] = date_to_long(due)
        nrows = int(float(values[c.ADK_OOI_HEAD_NROWS]))
        if nrows > len(stored.rows):
            raise Reject(c.ADKE_INVALID_STRUCT_POINTER_TO_ROW, c.ADK_OOI_HEAD_NROWS, table)
        stored.rows = stored.rows[:nrows]
        credit = values[c.ADK_OOI_HEAD_TYPE_OF_INVOICE] == "K"
        for number, row in enumerate(stored.rows, start=1):
            self._invoice_row(values, row, number, credit=credit)
        self._invoice_totals(stored)
        if values[c.ADK_OOI_HEAD_DOCUMENT_PRINTED]:
            stored.hidden["in_ledger"] = True
        if values[c.ADK_OOI_HEAD_DOCUMENT_CANCELLED]:
            stored.hidden["cancelled"] = True
            values[c.ADK_OOI_HEAD_BALANCE] = 0.0
            values[c.ADK_OOI_HEAD_BALANCE2] = 0.0

    def _credit_rules(self, values: Fields) -> None:
        table = c.ADKE_DBTABLE_OOF
        original_number = int(float(values[c.ADK_OOI_HEAD_NUMBER_OF_ORIGINAL_INVOICE]))
        kind = str(values[c.ADK_OOI_HEAD_TYPE_OF_INVOICE]).strip().upper()
        if not kind:
            kind = "K" if original_number else "F"
        if kind not in INVOICE_TYPES:
            raise Reject(c.ADKE_INVALID_INVOICE_TYPE, c.ADK_OOI_HEAD_TYPE_OF_INVOICE, table)
        values[c.ADK_OOI_HEAD_TYPE_OF_INVOICE] = kind
        if not original_number:
            return
        field_id = c.ADK_OOI_HEAD_NUMBER_OF_ORIGINAL_INVOICE
        original = self.get(c.ADK_DB_INVOICE_HEAD, str(original_number))
        if original is None:
            raise Reject(c.ADKE_INVALID_INVOICE, field_id, table)
        if original.values[c.ADK_OOI_HEAD_TYPE_OF_INVOICE] == "K":
            raise Reject(c.ADKE_DENIED_CREDIT_CREDIT_INVOICE, field_id, table)
        if original.values[c.ADK_OOI_HEAD_DOCUMENT_CANCELLED]:
            raise Reject(c.ADKE_DENIED_CREDIT_OBLITERATED_INVOICE, field_id, table)

    def _invoice_row(self, head: Fields, row: Fields, number: int, *, credit: bool) -> None:
        table = c.ADKE_DBTABLE_ARTRAD
        price_set = c.ADK_OOI_ROW_PRICE_EACH_CURRENT_CURRENCY in row
        for fid, spec in DATABASES[c.ADK_DB_INVOICE_ROW].fields.items():
            row.setdefault(fid, default(spec.type))
        article_number = str(row[c.ADK_OOI_ROW_ARTICLE_NUMBER]).strip()
        quantity = Decimal(str(row[c.ADK_OOI_ROW_QUANTITY1]))
        if article_number:
            article = self.get(c.ADK_DB_ARTICLE, article_number)
            if article is None:
                raise Reject(c.ADKE_OOF_INVALID_ARTICLE, c.ADK_OOI_ROW_ARTICLE_NUMBER, table)
            self._fill_from_article(row, article.values, price_set=price_set)
            self._default_vat_code(row)
            price = Decimal(str(row[c.ADK_OOI_ROW_PRICE_EACH_CURRENT_CURRENCY]))
            discount = Decimal(str(row[c.ADK_OOI_ROW_DISCOUNT]))
            amount = money(quantity * price * (1 - discount / 100))
            row[c.ADK_OOI_ROW_TYPE_OF_ROW] = ROW_TYPE_ARTICLE
        else:
            # Strict on purpose: only article rows carry amounts (see emulated.py); a text row
            # with a quantity or price is refused rather than silently ignored.
            if quantity or row[c.ADK_OOI_ROW_PRICE_EACH_CURRENT_CURRENCY]:
                raise Reject(c.ADKE_EDIT_DENIED_ON_TEXT_ROW, c.ADK_OOI_ROW_QUANTITY1, table)
            amount = Decimal(0)
            row[c.ADK_OOI_ROW_TYPE_OF_ROW] = ROW_TYPE_TEXT
        if credit:
            amount = -amount
        if not row[c.ADK_OOI_ROW_QUANTITY2]:
            row[c.ADK_OOI_ROW_QUANTITY2] = row[c.ADK_OOI_ROW_QUANTITY1]
        if article_number and str(row[c.ADK_OOI_ROW_VAT_CODE]) not in VAT_PERCENT:
            raise Reject(c.ADKE_INVALID_VAT_CODE, c.ADK_OOI_ROW_VAT_CODE, table)
        self._common_refs(
            row,
            table,
            {
                "account": c.ADK_OOI_ROW_ACCOUNT_NUMBER,
                "project": c.ADK_OOI_ROW_PROJECT,
                "profit_centre": c.ADK_OOI_ROW_PROFIT_CENTRE,
            },
        )
        rate = Decimal(str(head[c.ADK_OOI_HEAD_CURRENCY_RATE] or 1))
        unit = Decimal(str(head[c.ADK_OOI_HEAD_CURRENCY_UNIT] or 1))
        row[c.ADK_OOI_ROW_AMOUNT_CURRENT_CURRENCY] = float(amount)
        row[c.ADK_OOI_ROW_AMOUNT_DOMESTIC_CURRENCY] = float(money(amount * rate / unit))
        row[c.ADK_OOI_ROW_ROWNUMBER] = float(number)

    def _fill_from_article(self, row: Fields, article: Fields, *, price_set: bool) -> None:
        if not str(row[c.ADK_OOI_ROW_TEXT]).strip():
            row[c.ADK_OOI_ROW_TEXT] = article[c.ADK_ARTICLE_NAME]
        if not str(row[c.ADK_OOI_ROW_UNIT]).strip():
            row[c.ADK_OOI_ROW_UNIT] = article[c.ADK_ARTICLE_UNIT_CODE]
        if not price_set:
            row[c.ADK_OOI_ROW_PRICE_EACH_CURRENT_CURRENCY] = article[c.ADK_ARTICLE_PRICE]
        account_code = self.get(
            c.ADK_DB_CODE_OF_ARTICLE_ACCOUNT, str(article[c.ADK_ARTICLE_ACCOUNTING_CODE])
        )
        if account_code is None:
            return
        if not str(row[c.ADK_OOI_ROW_ACCOUNT_NUMBER]).strip():
            row[c.ADK_OOI_ROW_ACCOUNT_NUMBER] = account_code.values[
                c.ADK_CODE_OF_ARTICLE_ACCOUNT_SALES
            ]
        if not str(row[c.ADK_OOI_ROW_VAT_CODE]).strip():
            row[c.ADK_OOI_ROW_VAT_CODE] = account_code.values[c.ADK_CODE_OF_ARTICLE_ACCOUNT_VAT]

    @staticmethod
    def _default_vat_code(row: Fields) -> None:
        if not str(row[c.ADK_OOI_ROW_VAT_CODE]).strip():
            row[c.ADK_OOI_ROW_VAT_CODE] = "1"

    def _invoice_totals(self, stored: Stored) -> None:
        values = stored.values
        including_vat = bool(values[c.ADK_OOI_HEAD_INCLUDING_VAT])
        net = Decimal(0)
        vat = Decimal(0)
        for row in stored.rows:
            amount = Decimal(str(row[c.ADK_OOI_ROW_AMOUNT_CURRENT_CURRENCY]))
            percent = VAT_PERCENT.get(str(row[c.ADK_OOI_ROW_VAT_CODE]), Decimal(0)) / 100
            if including_vat:
                row_net = amount / (1 + percent)
                net += row_net
                vat += amount - row_net
            else:
                net += amount
                vat += amount * percent
        net, vat = money(net), money(vat)
        total = net + vat
        round_off = Decimal(0)
        if values[c.ADK_OOI_HEAD_CURRENCY_CODE] == self.base_currency:
            # Öresavrundning: Swedish invoices are rounded to whole kronor (GUESS for the ADK).
            round_off = total.quantize(Decimal(1), rounding=ROUND_HALF_UP) - total
        total += round_off
        rate = Decimal(str(values[c.ADK_OOI_HEAD_CURRENCY_RATE] or 1))
        unit = Decimal(str(values[c.ADK_OOI_HEAD_CURRENCY_UNIT] or 1))
        balance = total - Decimal(str(stored.hidden.get("paid", 0.0)))
        values[c.ADK_OOI_HEAD_EXCLUDING_OF_VAT] = float(net)
        values[c.ADK_OOI_HEAD_VAT_AMOUNT] = float(vat)
        values[c.ADK_OOI_HEAD_ROUND_OFF] = float(round_off)
        values[c.ADK_OOI_HEAD_TOTAL_AMOUNT] = float(total)
        values[c.ADK_OOI_HEAD_BALANCE] = float(balance)
        values[c.ADK_OOI_HEAD_BALANCE2] = float(money(balance * rate / unit))
        values[c.ADK_OOI_HEAD_NROWS] = float(len(stored.rows))


def _fill_from_customer(values: Fields, customer: Fields, base_currency: str) -> None:
    copies = {
        c.ADK_OOI_HEAD_CUSTOMER_NAME: c.ADK_CUSTOMER_NAME,
        c.ADK_OOI_HEAD_MAILING_ADDRESS1: c.ADK_CUSTOMER_MAILING_ADDRESS,
        c.ADK_OOI_HEAD_MAILING_ADDRESS2: c.ADK_CUSTOMER_MAILING_ADDRESS2,
        c.ADK_OOI_HEAD_ZIPCODE: c.ADK_CUSTOMER_ZIPCODE,
        c.ADK_OOI_HEAD_CITY: c.ADK_CUSTOMER_CITY,
        c.ADK_OOI_HEAD_COUNTRY: c.ADK_CUSTOMER_COUNTRY,
        c.ADK_OOI_HEAD_CODE_OF_COUNTRY: c.ADK_CUSTOMER_CODE_OF_COUNTRY,
        c.ADK_OOI_HEAD_CURRENCY_CODE: c.ADK_CUSTOMER_CODE_OF_CURRENCY,
        c.ADK_OOI_HEAD_CODE_OF_TERMS_OF_PAYMENT: c.ADK_CUSTOMER_CODE_OF_TERMS_OF_PAYMENT,
        c.ADK_OOI_HEAD_SELLER_CODE: c.ADK_CUSTOMER_SELLER,
        c.ADK_OOI_HEAD_CUSTOMER_INVOICE_VAT_NUMBER: c.ADK_CUSTOMER_VAT_NUMBER,
    }
    for head_field, customer_field in copies.items():
        if not str(values[head_field]).strip():
            values[head_field] = customer.get(customer_field, "")
    if not values[c.ADK_OOI_HEAD_CURRENCY_CODE]:
        values[c.ADK_OOI_HEAD_CURRENCY_CODE] = base_currency


def _check_invoice_editable(existing: Stored, changed: Fields, rows_changed: bool) -> None:
    """Refuse edits of booked, ledger and cancelled invoices (printing a draft is allowed).

    A delete is checked as a change of the rows: it is always meaningful.
    """
    table = c.ADKE_DBTABLE_OOF
    meaningful = {fid: value for fid, value in changed.items() if existing.values.get(fid) != value}
    if not meaningful and not rows_changed:
        return
    if existing.hidden.get("cancelled"):
        raise Reject(c.ADKE_EDIT_DENIED_OBLITERATED, 0, table)
    if existing.hidden.get("booked"):
        raise Reject(c.ADKE_INVOICE_EDIT_DENIED_BOOKKEEPING, next(iter(meaningful), 0), table)
    if existing.hidden.get("in_ledger"):
        raise Reject(c.ADKE_INVOICE_EDIT_DENIED_ALREADY_IN_LEDGER, next(iter(meaningful), 0), table)


def _encode(stored: Stored) -> str:
    return json.dumps(
        {
            "v": {str(k): v for k, v in stored.values.items()},
            "r": [{str(k): v for k, v in row.items()} for row in stored.rows],
            "h": stored.hidden,
        },
        ensure_ascii=False,
    )


def _decode(text: str) -> Stored:
    data = json.loads(text)
    return Stored(
        {int(k): v for k, v in data["v"].items()},
        [{int(k): v for k, v in row.items()} for row in data["r"]],
        dict(data["h"]),
    )
