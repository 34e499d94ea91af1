# ruff: noqa: N802, N815
# (Method and field names are the ADK's own — ``AdkOpen``, ``lRc`` — so that code reads the same as
# Visma's reference manual and ``AdkNet4Wrapper.Api``; pep8-naming does not apply to them.)
"""The Visma Administration ADK as seen from Python: the :class:`Adk` protocol.

The FinancialHost Visma plugin talks to Visma Administration only through this interface. Two
implementations exist: :class:`ledgerlink.emulators.visma.EmulatedAdk` (SQLite, runs anywhere) and
:class:`ledgerlink.financialhost.visma.dotnet.DotNetAdk` (the real ``AdkNet4Wrapper.dll`` through
pythonnet, Windows only).

Conventions, taken from ``Adk.h`` and from how pythonnet presents ``AdkNet4Wrapper.Api``:

* Method names are the real ADK function names; field, database and error numbers are in
  :mod:`.constants`.
* Every data call returns an :class:`AdkError` (the C ``ADK_ERROR`` struct). ``lRc == ADKE_OK``
  (0) means success. On failure ``lDbTable`` holds an ``ADKE_DBTABLE_*`` code, ``lField`` the
  field id, ``lFunction`` an ``ADKE_*`` function code (``ADKE_ADD``…). Texts come from
  :meth:`Adk.AdkGetErrorText`.
* Calls with a by-reference *output* parameter (``AdkGetStr``, ``AdkGetDouble``, ``AdkGetType``
  …) return ``tuple[AdkError, value]`` — the shape pythonnet gives for a .NET method with a
  ``ref``/``out`` parameter (``(return value, out value)``). Parameters the .NET wrapper declares
  ``ref`` but which are inputs (the string of ``AdkSetStr``, the paths of ``AdkOpen``) are plain
  arguments here; the real binding drops the echoed value.
* ``AdkCreateData``/``AdkCreateDataRow``/``AdkGetDataRow`` return the record buffer itself
  (``PADK_DATA`` in C), ``AdkClose`` returns nothing, ``AdkGetErrorText`` returns the text,
  ``AdkIsReadWrite`` a bool, ``AdkGetVersion`` ``(major, minor)`` — as in the header.
* Record buffers are opaque :data:`AdkData` handles: create, fill, pass back, and free with
  ``AdkDeleteStruct``. Row buffers: ``AdkCreateDataRow(ADK_DB_INVOICE_ROW, n)`` gives an array of
  ``n`` rows, ``AdkGetDataRow(rows, i)`` its row ``i`` (0-based), ``AdkSetData(head,
  ADK_OOI_HEAD_ROWS, rows)`` attaches it and ``ADK_OOI_HEAD_NROWS`` says how many rows count.
  After a find or iteration, ``AdkGetData(head, ADK_OOI_HEAD_ROWS, i)`` gives row ``i``.
  ``AdkDeleteRow(head, n)`` takes a 1-based row number.
* Numbers are ``float`` (doubles) everywhere, document numbers included. Dates are ``int``
  LONGs; convert with ``AdkLongToDate``/``AdkDateToLong`` (``"yyyy-mm-dd"``). ``TIMESTAMP``
  fields are LONG date-times (``AdkLongToDateTime``/``AdkDateTimeToLong``) that grow with every
  write, usable as change cursors with the ``eTimeStamp`` sort order.
* Navigation: ``AdkFind`` finds the record whose current sort field (default: the key) equals the
  buffer's value; ``AdkFirst``/``AdkNext`` walk the records that pass the filters
  (``AdkSetFilter``, ``*`` and ``?`` wildcards) in sort order and end with ``ADKE_EOF`` (79). The
  plain variants load rows; the ``…Ex(data, include_rows)`` variants load rows only when asked.
* One company is open per process (per :class:`Adk` instance); access must be serialised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NewType, Protocol

from ledgerlink.interfaces.visma_adk.constants import ADKE_OK, elRc

AdkData = NewType("AdkData", object)
"""An opaque record buffer (``PADK_DATA``), passed back only to the Adk that made it."""


@dataclass(frozen=True, slots=True)
class AdkError:
    """The ``ADK_ERROR`` struct every ADK call returns; ``lRc == ADKE_OK`` means success."""

    lRc: int = ADKE_OK
    lDbTable: int = 0
    lField: int = 0
    lFunction: int = 0
    lProgramPart: int = 0

    @property
    def ok(self) -> bool:
        """Whether the call succeeded (``lRc == ADKE_OK``)."""
        return self.lRc == ADKE_OK


class Adk(Protocol):
    """The ADK functions the FinancialHost Visma plugin may use (see the module docstring)."""

    # --- session ------------------------------------------------------------------------------
    def AdkOpen(self, sys_path: str, ftg_path: str) -> AdkError:
        """Open the company in ``ftg_path``; ``sys_path`` is the "Gemensamma filer" folder.

        A second open closes the first company (one company per process).
        """
        ...

    def AdkOpen2(self, sys_path: str, ftg_path: str, user: str, password: str) -> AdkError:
        """Open a company with Visma's own login (when the company has login activated)."""
        ...

    def AdkClose(self) -> None:
        """Close the open company (no-op when none is open)."""
        ...

    def AdkIsLoginActivated(self, sys_path: str, ftg_path: str) -> tuple[AdkError, bool]:
        """Whether the company requires ``AdkOpen2`` with user and password."""
        ...

    def AdkGetCompanyName(
        self, ftg_path: str, strict: bool, sys_path: str
    ) -> tuple[AdkError, str, int, int, int]:
        """``(error, company name, ADKI_* variant, database major, database minor)``."""
        ...

    def AdkGetVersion(self) -> tuple[int, int]:
        """``(major, minor)`` of the ADK."""
        ...

    def AdkGetErrorText(self, error: AdkError, part: int = elRc) -> str:
        """Text of one part of an error: ``elRc``, ``elDbTable``, ``elField``, ``elFunction``…"""
        ...

    # --- buffers ------------------------------------------------------------------------------
    def AdkCreateData(self, db_id: int) -> AdkData:
        """A new, empty record buffer for database ``db_id`` (``ADK_DB_*``)."""
        ...

    def AdkCreateDataRow(self, db_id: int, n: int) -> AdkData:
        """An array of ``n`` empty row buffers of row database ``db_id``."""
        ...

    def AdkGetDataRow(self, rows: AdkData, index: int) -> AdkData:
        """Row ``index`` (0-based) of a row array from :meth:`AdkCreateDataRow`."""
        ...

    def AdkDeleteStruct(self, data: AdkData) -> AdkError:
        """Free a buffer; it must not be used afterwards."""
        ...

    def AdkResetStruct(self, data: AdkData) -> AdkError:
        """Empty a buffer: values, rows, filters, sort order and position."""
        ...

    # --- field values -------------------------------------------------------------------------
    def AdkSetStr(self, data: AdkData, field_id: int, value: str) -> AdkError:
        """Set an ``eChar`` field (``ADKE_TOO_MANY_SIGNS`` when longer than the field)."""
        ...

    def AdkSetDouble(self, data: AdkData, field_id: int, value: float) -> AdkError:
        """Set an ``eDouble`` field."""
        ...

    def AdkSetBool(self, data: AdkData, field_id: int, value: bool) -> AdkError:
        """Set an ``eBool`` field."""
        ...

    def AdkSetDate(self, data: AdkData, field_id: int, value: int) -> AdkError:
        """Set an ``eDate`` field to a LONG date (see :meth:`AdkDateToLong`)."""
        ...

    def AdkSetData(self, data: AdkData, field_id: int, rows: AdkData) -> AdkError:
        """Attach a row array to an ``eData`` field (``ADK_OOI_HEAD_ROWS``)."""
        ...

    def AdkGetStr(self, data: AdkData, field_id: int, length: int = 255) -> tuple[AdkError, str]:
        """Read an ``eChar`` field into a buffer of ``length`` characters."""
        ...

    def AdkGetDouble(self, data: AdkData, field_id: int) -> tuple[AdkError, float]:
        """Read an ``eDouble`` field."""
        ...

    def AdkGetBool(self, data: AdkData, field_id: int) -> tuple[AdkError, bool]:
        """Read an ``eBool`` field."""
        ...

    def AdkGetDate(self, data: AdkData, field_id: int) -> tuple[AdkError, int]:
        """Read an ``eDate`` field as a LONG."""
        ...

    def AdkGetData(self, data: AdkData, field_id: int, index: int) -> tuple[AdkError, AdkData]:
        """Row ``index`` (0-based) of the ``eData`` field ``field_id`` of a head buffer."""
        ...

    # --- field metadata -----------------------------------------------------------------------
    def AdkGetType(self, data: AdkData, field_id: int) -> tuple[AdkError, int]:
        """``eBool``/``eChar``/``eDouble``/``eDate``/``eData`` of a field."""
        ...

    def AdkGetLength(self, data: AdkData, field_id: int) -> tuple[AdkError, int]:
        """Maximum length (characters, or digits for doubles) of a field."""
        ...

    def AdkGetDecimals(self, data: AdkData, field_id: int) -> tuple[AdkError, int]:
        """Number of decimals a double field keeps."""
        ...

    def AdkIsReadWrite(self, data: AdkData, field_id: int) -> bool:
        """Whether the field may be set (read-only fields answer ``ADKE_EDIT_DENIED_FIELD``)."""
        ...

    def AdkGetFieldName(self, db_id: int, field_id: int) -> tuple[AdkError, str]:
        """The name of a field."""
        ...

    def AdkGetTimestampField(self, data: AdkData) -> tuple[AdkError, int]:
        """The field id of the buffer's ``TIMESTAMP`` field."""
        ...

    def AdkGetRowsFldId(self, data: AdkData) -> tuple[AdkError, int]:
        """The field id of the head's ``ROWS`` field."""
        ...

    def AdkGetNrowsFldId(self, data: AdkData) -> tuple[AdkError, int]:
        """The field id of the head's ``NROWS`` field."""
        ...

    def AdkGetRowDbId(self, data: AdkData) -> tuple[AdkError, int]:
        """The database id of the head's rows (``ADK_DB_INVOICE_ROW`` for an invoice head)."""
        ...

    # --- records ------------------------------------------------------------------------------
    def AdkAdd(self, data: AdkData) -> AdkError:
        """Create the record (with its rows); the buffer then holds it as stored."""
        ...

    def AdkUpdate(self, data: AdkData) -> AdkError:
        """Write the fields changed since the record was read (rows too when they changed)."""
        ...

    def AdkDeleteRecord(self, data: AdkData) -> AdkError:
        """Delete the record whose key is in the buffer."""
        ...

    def AdkDeleteRow(self, data: AdkData, row_nr: int) -> AdkError:
        """Remove row ``row_nr`` (1-based) from a head buffer; ``AdkUpdate`` stores it."""
        ...

    def AdkFind(self, data: AdkData) -> AdkError:
        """Find by the current sort field (default: the key); ``ADKE_NOT_FOUND`` otherwise."""
        ...

    def AdkFindEx(self, data: AdkData, include_rows: bool) -> AdkError:
        """:meth:`AdkFind`, loading rows only when ``include_rows``."""
        ...

    def AdkFirst(self, data: AdkData) -> AdkError:
        """Load the first record passing the filters, in sort order."""
        ...

    def AdkNext(self, data: AdkData) -> AdkError:
        """Load the next record; ``ADKE_EOF`` after the last."""
        ...

    def AdkPrevious(self, data: AdkData) -> AdkError:
        """Load the previous record; ``ADKE_BOF`` before the first."""
        ...

    def AdkLast(self, data: AdkData) -> AdkError:
        """Load the last record passing the filters."""
        ...

    def AdkFirstEx(self, data: AdkData, include_rows: bool) -> AdkError:
        """:meth:`AdkFirst`, loading rows only when ``include_rows``."""
        ...

    def AdkNextEx(self, data: AdkData, include_rows: bool) -> AdkError:
        """:meth:`AdkNext`, loading rows only when ``include_rows``."""
        ...

    def AdkPreviousEx(self, data: AdkData, include_rows: bool) -> AdkError:
        """:meth:`AdkPrevious`, loading rows only when ``include_rows``."""
        ...

    def AdkLastEx(self, data: AdkData, include_rows: bool) -> AdkError:
        """:meth:`AdkLast`, loading rows only when ``include_rows``."""
        ...

    def AdkSetSortOrder(self, data: AdkData, sort_order: int) -> AdkError:
        """Choose the ``ADK_SORT_ORDER`` (``eCustomerNr``, ``eTimeStamp`` …) for find/iterate."""
        ...

    def AdkSetFilter(self, data: AdkData, field_id: int, expression: str, version: int) -> AdkError:
        """Filter iteration on a field (``"*abc*"``); syntax ``version`` 0."""
        ...

    def AdkIsFilterable(self, data: AdkData, field_id: int) -> tuple[AdkError, bool]:
        """Whether :meth:`AdkSetFilter` accepts the field."""
        ...

    def AdkClearFilters(self, data: AdkData) -> AdkError:
        """Remove all filters of the buffer."""
        ...

    # --- dates --------------------------------------------------------------------------------
    def AdkLongToDate(self, value: int, length: int = 11) -> tuple[AdkError, str]:
        """LONG date → ``"yyyy-mm-dd"``."""
        ...

    def AdkDateToLong(self, text: str) -> tuple[AdkError, int]:
        """``"yyyy-mm-dd"`` → LONG date."""
        ...

    def AdkLongToDateTime(self, value: int, length: int = 20) -> tuple[AdkError, str]:
        """LONG date-time (``TIMESTAMP``) → ``"yyyy-mm-dd hh:mm:ss"``."""
        ...

    def AdkDateTimeToLong(self, text: str) -> tuple[AdkError, int]:
        """``"yyyy-mm-dd hh:mm:ss"`` → LONG date-time."""
        ...


class AdkFailure(Exception):
    """An ADK call failed; carries the :class:`AdkError` and its ``elRc`` text.

    For callers who prefer raising to checking ``lRc`` after every call (see :func:`check`).
    """

    def __init__(self, error: AdkError, text: str) -> None:
        super().__init__(f"ADK error {error.lRc}: {text}")
        self.error = error
        self.text = text

    @property
    def code(self) -> int:
        """The ``lRc`` of the failed call."""
        return self.error.lRc


def check(error: AdkError, adk: Adk) -> AdkError:
    """Return ``error`` when ``lRc == ADKE_OK``; otherwise raise :class:`AdkFailure`."""
    if error.lRc != ADKE_OK:
        raise AdkFailure(error, adk.AdkGetErrorText(error, elRc))
    return error
