# ruff: noqa: N802
# (The methods carry the real ADK function names, e.g. ``AdkOpen``; see
# ledgerlink/interfaces/visma_adk/adk.py.)
"""``EmulatedAdk``: the ADK protocol (:class:`ledgerlink.interfaces.visma_adk.Adk`) over a SQLite
company file.

A faithful stand-in for Visma Administration's ADK, for tests, demos and rehearsals:

* One instance models one process: one open company at a time; a second ``AdkOpen`` closes the
  first; any data call without an open company answers ``ADKE_NO_DB_OPEN`` (80). ``sys_path``
  must be an existing folder ("Gemensamma filer", else ``ADKE_INVALID_ADM_PATH``); ``ftg_path``
  is a company folder holding ``company.sqlite`` (else ``ADKE_INVALID_PATH_COMPANY``, 116). Make
  one with :func:`~.admin.create_company`.
* Field metadata (type, length, decimals, read-only) is enforced when a field is set:
  ``ADKE_UNKNON_DB_FIELD`` (102), ``ADKE_INVALID_DATA_TYPE`` (103), ``ADKE_EDIT_DENIED_FIELD``
  (109), ``ADKE_TOO_MANY_SIGNS`` (180), ``ADKE_TOO_MANY_DECIMALS`` (181).
* Invoice heads get their document number from the number series on ``AdkAdd`` (a forced
  number that is taken: ``ADKE_KEY_TAKEN_IN_NUMBERSERIES``, 214); customer data, currency rate,
  due date, account and VAT code are filled in as Visma does; totals, VAT, öre rounding (SEK
  only), ``BALANCE`` are computed from the rows. Only article rows carry amounts: a row without
  article number is a text row, and one with a quantity or price is refused with
  ``ADKE_EDIT_DENIED_ON_TEXT_ROW`` (182) — stricter than Visma, so plugin mistakes surface here.
  Credit invoices (``TYPE_OF_INVOICE`` "K", or ``NUMBER_OF_ORIGINAL_INVOICE`` set) take positive
  quantities and get negative amounts.
* Every write stamps the record's ``TIMESTAMP`` (and its rows') with a strictly growing LONG.
* A printed invoice (``DOCUMENT_PRINTED``) or one the ERP user booked is in the ledger; changing
  it answers 25 (in ledger) or 24 (booked); a cancelled one 9. Payments (``CUSTOMERPAYMENT``)
  lower the invoice ``BALANCE`` and move its ``TIMESTAMP``.
* Licence faults injected with :func:`~.admin.set_licence_fault` make ``AdkOpen`` answer
  that code and an open session answer ``ADKE_NO_DB_OPEN`` (the ERP went away) until cleared.

Not thread-safe, like the real ADK: serialise access (single writer per company). Several
instances — in one or several processes — may open the same company file.
"""

from __future__ import annotations

import fnmatch
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TypeVar

from ledgerlink.emulators.visma._engine import (
    COMPANY_FILE,
    Company,
    Fields,
    Reject,
    Stored,
    Value,
    date_to_long,
    default,
    key_of,
    long_to_date,
    read_fault,
    read_hold,
)
from ledgerlink.emulators.visma._schema import DATABASES, DbSpec, FieldSpec
from ledgerlink.emulators.visma._texts import text_for
from ledgerlink.interfaces.visma_adk import AdkData, AdkError
from ledgerlink.interfaces.visma_adk import constants as c

_OK = AdkError()
_T = TypeVar("_T")
ADK_VERSION = (2024, 1)
"""What ``AdkGetVersion`` answers (emulator choice)."""


class _Fail(Exception):
    def __init__(self, error: AdkError) -> None:
        super().__init__(error.lRc)
        self.error = error


def _fail(code: int, function: int, table: int = 0, field_id: int = 0) -> _Fail:
    return _Fail(AdkError(code, table, field_id, function))


class _Buffer:
    """A record buffer (``ADK_DATA``)."""

    def __init__(self, db_id: int, spec: DbSpec | None) -> None:
        self.db_id = db_id
        self.spec = spec
        self.deleted = False
        self.sort_order: int | None = None
        self.filters: dict[int, str] = {}
        self.reset()

    def reset(self) -> None:
        self.values: Fields = {}
        self.changed: set[int] = set()
        self.rows: _RowArray | None = None
        self.rows_changed = False
        self.parent: _Buffer | None = None
        self.loaded_key: str | None = None
        self.position: tuple[int, tuple[Value, Value]] | None = None


@dataclass(slots=True)
class _RowArray:
    """An array of row buffers (``AdkCreateDataRow``)."""

    db_id: int
    rows: list[_Buffer]
    deleted: bool = False


def _sortable(value: Value) -> Value:
    if isinstance(value, str):
        return value.casefold()
    return float(value)


def _key_sortable(spec: DbSpec, key: str) -> Value:
    return float(key) if spec.key_is_number else key.casefold()


def _as_text(value: Value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _matches(value: Value, expression: str) -> bool:
    pattern = expression.casefold().replace("[", "[[]")
    return fnmatch.fnmatchcase(_as_text(value).casefold(), pattern)


class EmulatedAdk:
    """The ADK over a SQLite company (see the module docstring for what it reproduces)."""

    def __init__(self, *, english: bool = False) -> None:
        self._company: Company | None = None
        self._english = english

    # --- session ------------------------------------------------------------------------------
    def AdkOpen(self, sys_path: str, ftg_path: str) -> AdkError:
        """Open a company; see :meth:`.adk.Adk.AdkOpen`."""
        return self._open(sys_path, ftg_path, None, None, c.ADKE_OPEN)

    def AdkOpen2(self, sys_path: str, ftg_path: str, user: str, password: str) -> AdkError:
        """Open a company with a Visma login."""
        return self._open(sys_path, ftg_path, user, password, c.ADKE_OPEN2)

    def AdkClose(self) -> None:
        """Close the open company."""
        if self._company is not None:
            self._company.close()
            self._company = None

    def AdkIsLoginActivated(self, sys_path: str, ftg_path: str) -> tuple[AdkError, bool]:
        """Whether the company has users (``create_company(..., users=...)``)."""
        folder = Path(ftg_path)
        if not (folder / COMPANY_FILE).is_file():
            return AdkError(c.ADKE_INVALID_PATH_COMPANY, lFunction=c.ADKE_ISLOGINACTIVATED), False
        company = Company(folder)
        try:
            return _OK, bool(json.loads(company.meta("users") or "{}"))
        finally:
            company.close()

    def AdkGetCompanyName(
        self, ftg_path: str, strict: bool, sys_path: str
    ) -> tuple[AdkError, str, int, int, int]:
        """``(error, name, ADKI_ADMIN1000, major, minor)`` of a company folder."""
        folder = Path(ftg_path)
        if not (folder / COMPANY_FILE).is_file():
            error = AdkError(c.ADKE_INVALID_PATH_COMPANY, lFunction=c.ADKE_GETCOMPANYNAME)
            return error, "", 0, 0, 0
        company = Company(folder)
        try:
            prm = company.get(c.ADK_DB_PRM, "1")
        finally:
            company.close()
        name = str(prm.values[c.ADK_PRM_NAME]) if prm else ""
        return _OK, name, c.ADKI_ADMIN1000, *ADK_VERSION

    def AdkGetVersion(self) -> tuple[int, int]:
        """The emulated ADK version."""
        return ADK_VERSION

    def AdkGetErrorText(self, error: AdkError, part: int = c.elRc) -> str:
        """Swedish (or, with ``english=True``, English) text of one part of an error."""
        if part == c.elRc:
            return text_for(error.lRc, english=self._english)
        if part == c.elDbTable:
            return text_for(error.lDbTable, english=self._english) if error.lDbTable else ""
        if part == c.elField:
            for spec in DATABASES.values():
                if spec.table_code == error.lDbTable and error.lField in spec.fields:
                    return spec.fields[error.lField].name
            return ""
        if part == c.elFunction:
            return text_for(error.lFunction, english=self._english) if error.lFunction else ""
        return ""

    # --- buffers ------------------------------------------------------------------------------
    def AdkCreateData(self, db_id: int) -> AdkData:
        """A new record buffer (an unmodelled database answers ``ADKE_INVALID_DB`` when used)."""
        return AdkData(_Buffer(db_id, DATABASES.get(db_id)))

    def AdkCreateDataRow(self, db_id: int, n: int) -> AdkData:
        """An array of ``n`` row buffers."""
        spec = DATABASES.get(db_id)
        return AdkData(_RowArray(db_id, [_Buffer(db_id, spec) for _ in range(n)]))

    def AdkGetDataRow(self, rows: AdkData, index: int) -> AdkData:
        """Row ``index`` of a row array (an invalid handle when out of range)."""
        if isinstance(rows, _RowArray) and not rows.deleted and 0 <= index < len(rows.rows):
            return AdkData(rows.rows[index])
        invalid = _Buffer(-1, None)
        invalid.deleted = True
        return AdkData(invalid)

    def AdkDeleteStruct(self, data: AdkData) -> AdkError:
        """Free a buffer or row array."""
        if isinstance(data, _Buffer | _RowArray) and not data.deleted:
            data.deleted = True
            return _OK
        return AdkError(c.ADKE_INVALID_STRUCT_POINTER, lFunction=c.ADKE_DELETE_STRUCT)

    def AdkResetStruct(self, data: AdkData) -> AdkError:
        """Empty a buffer: values, rows, filters, sort order, position."""
        try:
            buffer = self._buffer(data, c.ADKE_RESET_STRUCT, session=False)
        except _Fail as fail:
            return fail.error
        buffer.reset()
        buffer.filters.clear()
        buffer.sort_order = None
        return _OK

    # --- field values -------------------------------------------------------------------------
    def AdkSetStr(self, data: AdkData, field_id: int, value: str) -> AdkError:
        """Set an ``eChar`` field."""
        return self._set(data, field_id, c.eChar, value, c.ADKE_SET_STRING)

    def AdkSetDouble(self, data: AdkData, field_id: int, value: float) -> AdkError:
        """Set an ``eDouble`` field."""
        return self._set(data, field_id, c.eDouble, float(value), c.ADKE_SET_DOUBLE)

    def AdkSetBool(self, data: AdkData, field_id: int, value: bool) -> AdkError:
        """Set an ``eBool`` field."""
        return self._set(data, field_id, c.eBool, bool(value), c.ADKE_SET_BOOL)

    def AdkSetDate(self, data: AdkData, field_id: int, value: int) -> AdkError:
        """Set an ``eDate`` field (a LONG)."""
        return self._set(data, field_id, c.eDate, int(value), c.ADKE_SET_DATE)

    def AdkSetData(self, data: AdkData, field_id: int, rows: AdkData) -> AdkError:
        """Attach a row array to the head's ``ROWS`` field."""
        try:
            head, _ = self._field(data, field_id, c.eData, c.ADKE_SET_DATA)
            assert head.spec is not None
            if not isinstance(rows, _RowArray) or rows.deleted or rows.db_id != head.spec.row_db:
                raise _fail(c.ADKE_INVALID_STRUCT_POINTER_TO_ROW, c.ADKE_SET_DATA)
        except _Fail as fail:
            return fail.error
        for row in rows.rows:
            row.parent = head
        head.rows = rows
        head.rows_changed = True
        return _OK

    def AdkGetStr(self, data: AdkData, field_id: int, length: int = 255) -> tuple[AdkError, str]:
        """Read an ``eChar`` field (``ADKE_TO_SHORT_STRING`` and the cut value when too long)."""
        try:
            buffer, _ = self._field(data, field_id, c.eChar, c.ADKE_GET_STRING)
        except _Fail as fail:
            return fail.error, ""
        value = str(buffer.values.get(field_id, ""))
        if len(value) > length:
            return AdkError(c.ADKE_TO_SHORT_STRING, lFunction=c.ADKE_GET_STRING), value[:length]
        return _OK, value

    def AdkGetDouble(self, data: AdkData, field_id: int) -> tuple[AdkError, float]:
        """Read an ``eDouble`` field."""
        try:
            buffer, _ = self._field(data, field_id, c.eDouble, c.ADKE_GET_DOUBLE)
        except _Fail as fail:
            return fail.error, 0.0
        return _OK, float(buffer.values.get(field_id, 0.0))

    def AdkGetBool(self, data: AdkData, field_id: int) -> tuple[AdkError, bool]:
        """Read an ``eBool`` field."""
        try:
            buffer, _ = self._field(data, field_id, c.eBool, c.ADKE_GET_BOOL)
        except _Fail as fail:
            return fail.error, False
        return _OK, bool(buffer.values.get(field_id, False))

    def AdkGetDate(self, data: AdkData, field_id: int) -> tuple[AdkError, int]:
        """Read an ``eDate`` field as a LONG."""
        try:
            buffer, _ = self._field(data, field_id, c.eDate, c.ADKE_GET_DATE)
        except _Fail as fail:
            return fail.error, 0
        return _OK, int(buffer.values.get(field_id, 0))

    def AdkGetData(self, data: AdkData, field_id: int, index: int) -> tuple[AdkError, AdkData]:
        """Row ``index`` of a head's loaded or attached rows."""
        try:
            head, _ = self._field(data, field_id, c.eData, c.ADKE_GET_DATA)
            if head.rows is None or not 0 <= index < len(head.rows.rows):
                raise _fail(c.ADKE_INVALID_STRUCT_POINTER_TO_ROW, c.ADKE_GET_DATA)
        except _Fail as fail:
            return fail.error, self.AdkGetDataRow(AdkData(None), 0)
        return _OK, AdkData(head.rows.rows[index])

    # --- field metadata -----------------------------------------------------------------------
    def AdkGetType(self, data: AdkData, field_id: int) -> tuple[AdkError, int]:
        """The ``e*`` type of a field."""
        try:
            _, spec = self._field(data, field_id, None, c.ADKE_GET_TYPE)
        except _Fail as fail:
            return fail.error, c.eUnused
        return _OK, spec.type

    def AdkGetLength(self, data: AdkData, field_id: int) -> tuple[AdkError, int]:
        """The length of a field."""
        try:
            _, spec = self._field(data, field_id, None, c.ADKE_GET_LENGTH)
        except _Fail as fail:
            return fail.error, 0
        return _OK, spec.length

    def AdkGetDecimals(self, data: AdkData, field_id: int) -> tuple[AdkError, int]:
        """The decimals of a field."""
        try:
            _, spec = self._field(data, field_id, None, c.ADKE_GET_DECIMALS)
        except _Fail as fail:
            return fail.error, 0
        return _OK, spec.decimals

    def AdkIsReadWrite(self, data: AdkData, field_id: int) -> bool:
        """Whether a field may be set."""
        try:
            _, spec = self._field(data, field_id, None, c.ADKE_GET_TYPE)
        except _Fail:
            return False
        return not spec.read_only

    def AdkGetFieldName(self, db_id: int, field_id: int) -> tuple[AdkError, str]:
        """The name of a field (its ``ADK_*`` constant name)."""
        spec = DATABASES.get(db_id)
        if spec is None:
            return AdkError(c.ADKE_INVALID_DB, lFunction=c.ADKE_GET_FIELD_NAME), ""
        if field_id not in spec.fields:
            error = AdkError(
                c.ADKE_UNKNON_DB_FIELD, spec.table_code, field_id, c.ADKE_GET_FIELD_NAME
            )
            return error, ""
        return _OK, spec.fields[field_id].name

    def AdkGetTimestampField(self, data: AdkData) -> tuple[AdkError, int]:
        """The ``TIMESTAMP`` field id."""
        return self._meta_field(data, "timestamp_field", c.ADKE_GET_TIMESTAMP_FIELD)

    def AdkGetRowsFldId(self, data: AdkData) -> tuple[AdkError, int]:
        """The ``ROWS`` field id."""
        return self._meta_field(data, "rows_field", c.ADKE_GET_ROWS_FIELD_ID)

    def AdkGetNrowsFldId(self, data: AdkData) -> tuple[AdkError, int]:
        """The ``NROWS`` field id."""
        return self._meta_field(data, "nrows_field", c.ADKE_GET_NROWS_FIELD_ID)

    def AdkGetRowDbId(self, data: AdkData) -> tuple[AdkError, int]:
        """The row database id."""
        return self._meta_field(data, "row_db", c.ADKE_GET_ROW_DB_ID)

    # --- records ------------------------------------------------------------------------------
    def AdkAdd(self, data: AdkData) -> AdkError:
        """Create the record; the buffer then holds it as stored (number, totals, timestamp)."""
        try:
            company, buffer, spec = self._record_buffer(data, c.ADKE_ADD)
            rows = [dict(row.values) for row in buffer.rows.rows] if buffer.rows else None
            values = {fid: v for fid, v in buffer.values.items() if fid != spec.rows_field}
            key = self._write(lambda: company.add(spec, values, rows), spec, c.ADKE_ADD)
            hold = read_hold(company.folder)
            if hold:
                time.sleep(hold)
            self._reload(company, buffer, key, include_rows=True)
        except _Fail as fail:
            return fail.error
        return _OK

    def AdkUpdate(self, data: AdkData) -> AdkError:
        """Write the changed fields (and the rows, when they changed)."""
        try:
            company, buffer, spec = self._record_buffer(data, c.ADKE_UPDATE)
            key = self._key(buffer, spec, c.ADKE_UPDATE)
            changed = {fid: buffer.values[fid] for fid in buffer.changed}
            rows = None
            if buffer.rows_changed and buffer.rows is not None:
                rows = [dict(row.values) for row in buffer.rows.rows]
            self._write(lambda: company.update(spec, key, changed, rows), spec, c.ADKE_UPDATE)
            self._reload(company, buffer, key, include_rows=buffer.rows is not None)
        except _Fail as fail:
            return fail.error
        return _OK

    def AdkDeleteRecord(self, data: AdkData) -> AdkError:
        """Delete the record whose key is in the buffer."""
        try:
            company, buffer, spec = self._record_buffer(data, c.ADKE_DELETE)
            key = self._key(buffer, spec, c.ADKE_DELETE)
            self._write(lambda: company.delete(spec, key), spec, c.ADKE_DELETE)
        except _Fail as fail:
            return fail.error
        buffer.loaded_key = None
        return _OK

    def AdkDeleteRow(self, data: AdkData, row_nr: int) -> AdkError:
        """Remove row ``row_nr`` (1-based) from the head buffer; ``AdkUpdate`` stores it."""
        try:
            _, head, spec = self._record_buffer(data, c.ADKE_DELETE_ROW)
            if head.rows is None or not 1 <= row_nr <= len(head.rows.rows):
                raise _fail(c.ADKE_INVALID_STRUCT_POINTER_TO_ROW, c.ADKE_DELETE_ROW)
        except _Fail as fail:
            return fail.error
        del head.rows.rows[row_nr - 1]
        assert spec.nrows_field is not None
        head.values[spec.nrows_field] = float(len(head.rows.rows))
        head.changed.add(spec.nrows_field)
        head.rows_changed = True
        return _OK

    def AdkFind(self, data: AdkData) -> AdkError:
        """Find by the current sort field; loads rows."""
        return self._find(data, include_rows=True, function=c.ADKE_FIND)

    def AdkFindEx(self, data: AdkData, include_rows: bool) -> AdkError:
        """Find; loads rows only when ``include_rows``."""
        return self._find(data, include_rows=include_rows, function=c.ADKE_FINDEX)

    def AdkFirst(self, data: AdkData) -> AdkError:
        """First record in sort order passing the filters."""
        return self._navigate(data, "first", include_rows=True, function=c.ADKE_FIRST)

    def AdkNext(self, data: AdkData) -> AdkError:
        """Next record; ``ADKE_EOF`` after the last."""
        return self._navigate(data, "next", include_rows=True, function=c.ADKE_NEXT)

    def AdkPrevious(self, data: AdkData) -> AdkError:
        """Previous record; ``ADKE_BOF`` before the first."""
        return self._navigate(data, "previous", include_rows=True, function=c.ADKE_PREVIOUS)

    def AdkLast(self, data: AdkData) -> AdkError:
        """Last record."""
        return self._navigate(data, "last", include_rows=True, function=c.ADKE_LAST)

    def AdkFirstEx(self, data: AdkData, include_rows: bool) -> AdkError:
        """:meth:`AdkFirst` with optional rows."""
        return self._navigate(data, "first", include_rows=include_rows, function=c.ADKE_FIRSTEX)

    def AdkNextEx(self, data: AdkData, include_rows: bool) -> AdkError:
        """:meth:`AdkNext` with optional rows."""
        return self._navigate(data, "next", include_rows=include_rows, function=c.ADKE_NEXTEX)

    def AdkPreviousEx(self, data: AdkData, include_rows: bool) -> AdkError:
        """:meth:`AdkPrevious` with optional rows."""
        return self._navigate(
            data, "previous", include_rows=include_rows, function=c.ADKE_PREVIOUSEX
        )

    def AdkLastEx(self, data: AdkData, include_rows: bool) -> AdkError:
        """:meth:`AdkLast` with optional rows."""
        return self._navigate(data, "last", include_rows=include_rows, function=c.ADKE_LASTEX)

    def AdkSetSortOrder(self, data: AdkData, sort_order: int) -> AdkError:
        """Choose a sort order valid for the buffer's database."""
        try:
            buffer = self._buffer(data, c.ADKE_SET_SORT_ORDER)
            assert buffer.spec is not None
            if sort_order not in buffer.spec.sort_orders:
                raise _fail(c.ADKE_NOT_VALID_SORTORDER, c.ADKE_SET_SORT_ORDER)
        except _Fail as fail:
            return fail.error
        buffer.sort_order = sort_order
        return _OK

    def AdkSetFilter(self, data: AdkData, field_id: int, expression: str, version: int) -> AdkError:
        """Filter on a field with ``*``/``?`` wildcards, case-insensitive (syntax version 0)."""
        try:
            buffer = self._buffer(data, c.ADKE_SETFILTER)
            assert buffer.spec is not None
            if version != 0:
                raise _fail(c.ADKE_INVALID_FILTER_SYNTAX_VERSION, c.ADKE_SETFILTER)
            spec = buffer.spec.fields.get(field_id)
            if spec is None or spec.type == c.eData:
                raise _fail(c.ADKE_INVALID_FILTER_FIELD, c.ADKE_SETFILTER, 0, field_id)
            if not expression:
                raise _fail(c.ADKE_INVALID_FILTER_EXPRESSION, c.ADKE_SETFILTER, 0, field_id)
        except _Fail as fail:
            return fail.error
        buffer.filters[field_id] = expression
        return _OK

    def AdkIsFilterable(self, data: AdkData, field_id: int) -> tuple[AdkError, bool]:
        """Whether a field can be filtered (every modelled field except rows)."""
        try:
            _, spec = self._field(data, field_id, None, c.ADKE_ISFILTERABLE)
        except _Fail as fail:
            return fail.error, False
        return _OK, spec.type != c.eData

    def AdkClearFilters(self, data: AdkData) -> AdkError:
        """Remove all filters."""
        try:
            buffer = self._buffer(data, c.ADKE_CLEARFILTERS)
        except _Fail as fail:
            return fail.error
        buffer.filters.clear()
        return _OK

    # --- dates --------------------------------------------------------------------------------
    def AdkLongToDate(self, value: int, length: int = 11) -> tuple[AdkError, str]:
        """LONG (``yyyymmdd``) → ``"yyyy-mm-dd"``; 0 → ``""``."""
        if value == 0:
            return _OK, ""
        try:
            text = long_to_date(value).isoformat()
        except ValueError:
            return AdkError(c.ADKE_INVALID_DATA_TYPE, lFunction=c.ADKE_LONG_TO_DATE), ""
        if length < len(text) + 1:
            return AdkError(c.ADKE_TO_SHORT_STRING, lFunction=c.ADKE_LONG_TO_DATE), text[:length]
        return _OK, text

    def AdkDateToLong(self, text: str) -> tuple[AdkError, int]:
        """``"yyyy-mm-dd"`` (or ``"yyyymmdd"``) → LONG."""
        cleaned = text.strip()
        try:
            day = date.fromisoformat(cleaned) if "-" in cleaned else long_to_date(int(cleaned))
        except ValueError:
            return AdkError(c.ADKE_INVALID_DATA_TYPE, lFunction=c.ADKE_DATE_TO_LONG), 0
        return _OK, date_to_long(day)

    def AdkLongToDateTime(self, value: int, length: int = 20) -> tuple[AdkError, str]:
        """TIMESTAMP LONG (seconds since 1970, UTC) → ``"yyyy-mm-dd hh:mm:ss"``."""
        text = datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S")
        if length < len(text) + 1:
            return AdkError(c.ADKE_TO_SHORT_STRING), text[:length]
        return _OK, text

    def AdkDateTimeToLong(self, text: str) -> tuple[AdkError, int]:
        """``"yyyy-mm-dd hh:mm:ss"`` (UTC) → TIMESTAMP LONG."""
        try:
            moment = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        except ValueError:
            return AdkError(c.ADKE_INVALID_DATA_TYPE), 0
        return _OK, int(moment.timestamp())

    # --- internals ----------------------------------------------------------------------------
    def _open(
        self, sys_path: str, ftg_path: str, user: str | None, password: str | None, function: int
    ) -> AdkError:
        self.AdkClose()
        folder = Path(ftg_path)
        if not Path(sys_path).is_dir():
            return AdkError(c.ADKE_INVALID_ADM_PATH, lFunction=function)
        if not (folder / COMPANY_FILE).is_file():
            return AdkError(c.ADKE_INVALID_PATH_COMPANY, lFunction=function)
        fault = read_fault(folder)
        if fault is not None:
            return AdkError(fault, lFunction=function)
        company = Company(folder)
        users: dict[str, str] = json.loads(company.meta("users") or "{}")
        if users and user is None:
            company.close()
            return AdkError(c.ADKE_LOGIN_DENIED, lFunction=function)
        if user is not None and users and users.get(user) != password:
            company.close()
            return AdkError(c.ADKE_LOGIN_FAIL, lFunction=function)
        self._company = company
        return _OK

    def _session(self, function: int) -> Company:
        company = self._company
        if company is None:
            raise _fail(c.ADKE_NO_DB_OPEN, function)
        if read_fault(company.folder) is not None:
            self.AdkClose()
            raise _fail(c.ADKE_NO_DB_OPEN, function)
        return company

    def _buffer(self, data: AdkData, function: int, *, session: bool = True) -> _Buffer:
        if session:
            self._session(function)
        if not isinstance(data, _Buffer) or data.deleted:
            raise _fail(c.ADKE_INVALID_STRUCT_POINTER, function)
        if data.spec is None:
            raise _fail(c.ADKE_INVALID_DB, function)
        return data

    def _field(
        self, data: AdkData, field_id: int, type_: int | None, function: int
    ) -> tuple[_Buffer, FieldSpec]:
        buffer = self._buffer(data, function)
        assert buffer.spec is not None
        spec = buffer.spec.fields.get(field_id)
        if spec is None:
            raise _fail(c.ADKE_UNKNON_DB_FIELD, function, buffer.spec.table_code, field_id)
        if type_ is not None and spec.type != type_:
            raise _fail(c.ADKE_INVALID_DATA_TYPE, function, buffer.spec.table_code, field_id)
        return buffer, spec

    def _set(
        self, data: AdkData, field_id: int, type_: int, value: Value, function: int
    ) -> AdkError:
        try:
            buffer, spec = self._field(data, field_id, type_, function)
            assert buffer.spec is not None
            table = buffer.spec.table_code
            if spec.read_only:
                raise _fail(c.ADKE_EDIT_DENIED_FIELD, function, table, field_id)
            code = _check_value(spec, value)
            if code:
                raise _fail(code, function, table, field_id)
        except _Fail as fail:
            return fail.error
        buffer.values[field_id] = value
        buffer.changed.add(field_id)
        if buffer.parent is not None:
            buffer.parent.rows_changed = True
        return _OK

    def _meta_field(self, data: AdkData, attribute: str, function: int) -> tuple[AdkError, int]:
        try:
            buffer = self._buffer(data, function, session=False)
        except _Fail as fail:
            return fail.error, 0
        value = getattr(buffer.spec, attribute)
        if value is None:
            return AdkError(c.ADKE_INVALID_DB, lFunction=function), 0
        return _OK, int(value)

    def _record_buffer(self, data: AdkData, function: int) -> tuple[Company, _Buffer, DbSpec]:
        company = self._session(function)
        buffer = self._buffer(data, function)
        spec = buffer.spec
        assert spec is not None
        if spec.db_id == c.ADK_DB_INVOICE_ROW:
            raise _fail(c.ADKE_INVALID_DB, function)
        return company, buffer, spec

    @staticmethod
    def _key(buffer: _Buffer, spec: DbSpec, function: int) -> str:
        if spec.db_id == c.ADK_DB_PRM:
            return "1"
        value = buffer.values.get(spec.key_field)
        key = "" if value is None else key_of(spec, value)
        if not key or key == "0":
            raise _fail(c.ADKE_NO_KEY, function, spec.table_code, spec.key_field)
        return key

    @staticmethod
    def _write(action: Callable[[], _T], spec: DbSpec, function: int) -> _T:
        try:
            return action()
        except Reject as reject:
            raise _fail(
                reject.code, function, reject.table or spec.table_code, reject.field_id
            ) from reject

    def _reload(self, company: Company, buffer: _Buffer, key: str, *, include_rows: bool) -> None:
        stored = company.get(buffer.db_id, key)
        assert stored is not None
        position = buffer.position
        _load(buffer, key, stored, include_rows=include_rows)
        buffer.position = position

    def _ordered(
        self, company: Company, buffer: _Buffer
    ) -> list[tuple[tuple[Value, Value], str, Stored]]:
        spec = buffer.spec
        assert spec is not None
        sort_field = _sort_field(buffer)
        items = []
        for key, stored in company.all(buffer.db_id):
            values = stored.values
            if all(
                _matches(values.get(fid, default(spec.fields[fid].type)), expression)
                for fid, expression in buffer.filters.items()
            ):
                items.append((_sort_tuple(spec, sort_field, key, stored), key, stored))
        items.sort(key=lambda item: item[0])
        return items

    def _find(self, data: AdkData, *, include_rows: bool, function: int) -> AdkError:
        try:
            company, buffer, spec = self._record_buffer(data, function)
            sort_field = _sort_field(buffer)
            wanted = buffer.values.get(sort_field, default(spec.fields[sort_field].type))
            found: tuple[str, Stored] | None = None
            if sort_field == spec.key_field:
                key = key_of(spec, wanted)
                stored = company.get(spec.db_id, key) if key else None
                found = (key, stored) if stored is not None else None
            else:
                for _, key, stored in sorted(
                    self._unfiltered(company, buffer), key=lambda item: item[0]
                ):
                    if _sortable(stored.values.get(sort_field, "")) == _sortable(wanted):
                        found = (key, stored)
                        break
            if found is None:
                raise _fail(c.ADKE_NOT_FOUND, function, spec.table_code, sort_field)
        except _Fail as fail:
            return fail.error
        _load(buffer, found[0], found[1], include_rows=include_rows)
        return _OK

    def _unfiltered(self, company: Company, buffer: _Buffer) -> list[tuple[Value, str, Stored]]:
        spec = buffer.spec
        assert spec is not None
        return [(_key_sortable(spec, key), key, stored) for key, stored in company.all(spec.db_id)]

    def _navigate(self, data: AdkData, move: str, *, include_rows: bool, function: int) -> AdkError:
        try:
            company, buffer, spec = self._record_buffer(data, function)
            items = self._ordered(company, buffer)
            position = _position(buffer)
            if move == "next" and position is not None:
                items = [item for item in items if item[0] > position]
            elif move == "previous" and position is not None:
                items = [item for item in items if item[0] < position]
            if not items:
                code = c.ADKE_BOF if move == "previous" else c.ADKE_EOF
                raise _fail(code, function, spec.table_code)
        except _Fail as fail:
            return fail.error
        chosen = items[-1] if move in {"previous", "last"} else items[0]
        sort_tuple, key, stored = chosen
        _load(buffer, key, stored, include_rows=include_rows)
        buffer.position = (_sort_field(buffer), sort_tuple)
        return _OK


def _sort_field(buffer: _Buffer) -> int:
    spec = buffer.spec
    assert spec is not None
    if buffer.sort_order is None:
        return spec.key_field
    return spec.sort_orders[buffer.sort_order]


def _sort_tuple(spec: DbSpec, sort_field: int, key: str, stored: Stored) -> tuple[Value, Value]:
    value = stored.values.get(sort_field, default(spec.fields[sort_field].type))
    return (_sortable(value), _key_sortable(spec, key))


def _position(buffer: _Buffer) -> tuple[Value, Value] | None:
    """Where the buffer stands in the current sort order (``None``: nowhere yet)."""
    if buffer.position is None or buffer.loaded_key is None:
        return None
    field_id, sort_tuple = buffer.position
    current = _sort_field(buffer)
    if field_id == current:
        return sort_tuple
    spec = buffer.spec
    assert spec is not None
    value = buffer.values.get(current, default(spec.fields[current].type))
    return (_sortable(value), _key_sortable(spec, buffer.loaded_key))


def _load(buffer: _Buffer, key: str, stored: Stored, *, include_rows: bool) -> None:
    spec = buffer.spec
    assert spec is not None
    values = {
        fid: stored.values.get(fid, default(f.type))
        for fid, f in spec.fields.items()
        if f.type != c.eData
    }
    sort_order, filters = buffer.sort_order, buffer.filters
    buffer.reset()
    buffer.sort_order, buffer.filters = sort_order, filters
    buffer.values = values
    buffer.loaded_key = key
    if spec.nrows_field is not None:
        values[spec.nrows_field] = float(len(stored.rows))
    if include_rows and spec.row_db is not None:
        row_spec = DATABASES[spec.row_db]
        rows = []
        for stored_row in stored.rows:
            row = _Buffer(spec.row_db, row_spec)
            row.values = {
                fid: stored_row.get(fid, default(f.type)) for fid, f in row_spec.fields.items()
            }
            row.parent = buffer
            rows.append(row)
        buffer.rows = _RowArray(spec.row_db, rows)


def _check_value(spec: FieldSpec, value: Value) -> int:
    """The ``ADKE_*`` code a value breaks in a field, or 0."""
    if spec.type == c.eChar:
        return c.ADKE_TOO_MANY_SIGNS if spec.length and len(str(value)) > spec.length else 0
    if spec.type == c.eDouble:
        number = float(value)
        if abs(round(number, spec.decimals) - number) > 1e-9:
            return c.ADKE_TOO_MANY_DECIMALS
        digits = len(str(int(abs(number))))
        if spec.length and digits > spec.length - spec.decimals:
            return c.ADKE_TOO_MANY_SIGNS
        return 0
    if spec.type == c.eDate and value:
        try:
            long_to_date(int(value))
        except ValueError:
            return c.ADKE_INVALID_DATA_TYPE
    return 0
