# ruff: noqa: N802
# (The methods carry the real ADK function names, e.g. ``AdkOpen``; see
# ledgerlink/interfaces/visma_adk/adk.py.)
"""``DotNetAdk``: the ADK protocol (:class:`ledgerlink.interfaces.visma_adk.Adk`) over the real
``AdkNet4Wrapper.dll``.

UNTESTED HERE. This module is written against the documented interface (``Adk.h``, C# programs
calling ``AdkNet4Wrapper.Api`` and the PyPI package ``visma-administration``) and has never run:
it needs Windows, an installed Visma Administration (or its integration client), a Visma
Integration licence and pythonnet — none of which exist where this code was written. Expect to
adjust argument and result shapes on first contact with the real DLL; :class:`EmulatedAdk
<ledgerlink.emulators.visma.EmulatedAdk>` is the tested implementation.

How it binds:

* ``clr`` (pythonnet) and ``winreg`` are imported lazily with :func:`importlib.import_module`, so
  this module imports (and type-checks) on Linux; constructing :class:`DotNetAdk` there raises
  :class:`AdkUnavailable`.
* The DLL folder comes from ``dll_folder`` or from the registry key
  ``HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\App Paths\\SpcsAdm.Exe`` value ``AdkDll``
  (``CommonFiles`` is the "Gemensamma filer" folder, see :func:`registry_paths`).
* ``AdkNet4Wrapper`` is the 32-bit wrapper (the reference FinancialHost runs in a 32-bit IIS
  pool); Visma 2023.1 and later also ship a 64-bit ``AdkNet6Wrapper`` — pass ``wrapper=`` for it.
* pythonnet returns ``(return value, ref/out values…)`` for methods with ``ref``/``out``
  parameters (only the out values for ``void`` methods). :func:`_split` takes the ``ADKERROR``
  from the front and the wanted output from the end, which also covers inputs the wrapper
  declares ``ref`` (``AdkSetStr``, ``AdkOpen``) and echoes back.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledgerlink.interfaces.visma_adk import AdkData, AdkError
from ledgerlink.interfaces.visma_adk.constants import elRc

REGISTRY_KEY = r"SOFTWARE\Microsoft\Windows\CurrentVersion\App Paths\SpcsAdm.Exe"
WINDOWS_ONLY = "pythonnet and Visma Administration are Windows-only; use EmulatedAdk"


class AdkUnavailable(RuntimeError):
    """The real ADK cannot be loaded here (not Windows, no pythonnet, no Visma installed)."""


@dataclass(frozen=True, slots=True)
class VismaPaths:
    """Where the local Visma Administration installation keeps its parts (from the registry)."""

    adk_dll: Path
    common_files: Path
    default_company: Path | None


def registry_paths() -> VismaPaths:
    """Read ``AdkDll``, ``CommonFiles`` and ``DefaultCompanyPath`` from the registry (Windows)."""
    if sys.platform != "win32":
        raise AdkUnavailable(WINDOWS_ONLY)
    winreg: Any = importlib.import_module("winreg")
    with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, REGISTRY_KEY) as key:
        adk_dll = Path(winreg.QueryValueEx(key, "AdkDll")[0])
        common = Path(winreg.QueryValueEx(key, "CommonFiles")[0])
        try:
            company: Path | None = Path(winreg.QueryValueEx(key, "DefaultCompanyPath")[0])
        except OSError:
            company = None
    return VismaPaths(adk_dll, common, company)


def _split(result: Any) -> tuple[Any, Any]:
    """``(ADKERROR, last out value)`` of a pythonnet call with ref/out parameters."""
    if isinstance(result, tuple):
        return result[0], result[-1]
    return result, None


class DotNetAdk:
    """The real ADK through pythonnet (Windows only; see the module docstring — untested)."""

    def __init__(self, *, dll_folder: str | Path | None = None, wrapper: str = "AdkNet4Wrapper"):
        if sys.platform != "win32":
            raise AdkUnavailable(WINDOWS_ONLY)
        try:
            clr: Any = importlib.import_module("clr")
        except ImportError as error:
            raise AdkUnavailable("pythonnet is not installed (pip install pythonnet)") from error
        folder = Path(dll_folder) if dll_folder is not None else registry_paths().adk_dll
        clr.AddReference(str(folder / f"{wrapper}.dll"))
        self._api: Any = importlib.import_module(wrapper).Api

    # --- conversions --------------------------------------------------------------------------
    @staticmethod
    def _error(native: Any) -> AdkError:
        if isinstance(native, tuple):
            native = native[0]
        return AdkError(
            int(native.lRc),
            int(native.lDbTable),
            int(native.lField),
            int(native.lFunction),
            int(native.lProgramPart),
        )

    def _native(self, error: AdkError) -> Any:
        native = self._api.ADKERROR()
        native.lRc = error.lRc
        native.lDbTable = error.lDbTable
        native.lField = error.lField
        native.lFunction = error.lFunction
        native.lProgramPart = error.lProgramPart
        return native

    def _out(self, result: Any) -> tuple[AdkError, Any]:
        native, value = _split(result)
        return self._error(native), value

    # --- session ------------------------------------------------------------------------------
    def AdkOpen(self, sys_path: str, ftg_path: str) -> AdkError:
        """``Api.AdkOpen(ref sys, ref ftg)``."""
        return self._error(self._api.AdkOpen(sys_path, ftg_path))

    def AdkOpen2(self, sys_path: str, ftg_path: str, user: str, password: str) -> AdkError:
        """``Api.AdkOpen2(sys, ftg, user, password)``."""
        return self._error(self._api.AdkOpen2(sys_path, ftg_path, user, password))

    def AdkClose(self) -> None:
        """``Api.AdkClose()``."""
        self._api.AdkClose()

    def AdkIsLoginActivated(self, sys_path: str, ftg_path: str) -> tuple[AdkError, bool]:
        """``Api.AdkIsLoginActivated(sys, ftg, ref int)``."""
        error, value = self._out(self._api.AdkIsLoginActivated(sys_path, ftg_path, 0))
        return error, bool(value)

    def AdkGetCompanyName(
        self, ftg_path: str, strict: bool, sys_path: str
    ) -> tuple[AdkError, str, int, int, int]:
        """Company name, variant and version (``Api.AdkGetCompanyName`` with four out values).

        Shape of the pythonnet result assumed ``(error, …, name, variant, major, minor)``.
        """
        result = self._api.AdkGetCompanyName(ftg_path, strict, sys_path, " " * 100, 100, 0, 0, 0)
        error = self._error(result)
        name, variant, major, minor = result[-4:]
        return error, str(name).strip(), int(variant), int(major), int(minor)

    def AdkGetVersion(self) -> tuple[int, int]:
        """``Api.AdkGetVersion(ref major, ref minor)`` (void: pythonnet returns the two outs)."""
        major, minor = self._api.AdkGetVersion(0, 0)
        return int(major), int(minor)

    def AdkGetErrorText(self, error: AdkError, part: int = elRc) -> str:
        """``Api.AdkGetErrorText(ref error, type, ref text, 200)`` (void)."""
        result = self._api.AdkGetErrorText(self._native(error), part, " " * 200, 200)
        text = result[-1] if isinstance(result, tuple) else result
        return str(text).strip()

    # --- buffers ------------------------------------------------------------------------------
    def AdkCreateData(self, db_id: int) -> AdkData:
        """``Api.AdkCreateData(db)`` (a pointer as int)."""
        return AdkData(self._api.AdkCreateData(db_id))

    def AdkCreateDataRow(self, db_id: int, n: int) -> AdkData:
        """``Api.AdkCreateDataRow(db, n)``."""
        return AdkData(self._api.AdkCreateDataRow(db_id, n))

    def AdkGetDataRow(self, rows: AdkData, index: int) -> AdkData:
        """``Api.AdkGetDataRow(rows, i)``."""
        return AdkData(self._api.AdkGetDataRow(rows, index))

    def AdkDeleteStruct(self, data: AdkData) -> AdkError:
        """``Api.AdkDeleteStruct(data)``."""
        return self._error(self._api.AdkDeleteStruct(data))

    def AdkResetStruct(self, data: AdkData) -> AdkError:
        """``Api.AdkResetStruct(data)``."""
        return self._error(self._api.AdkResetStruct(data))

    # --- field values -------------------------------------------------------------------------
    def AdkSetStr(self, data: AdkData, field_id: int, value: str) -> AdkError:
        """``Api.AdkSetStr(data, field, ref value)``."""
        return self._error(self._api.AdkSetStr(data, field_id, value))

    def AdkSetDouble(self, data: AdkData, field_id: int, value: float) -> AdkError:
        """``Api.AdkSetDouble(data, field, value)``."""
        return self._error(self._api.AdkSetDouble(data, field_id, float(value)))

    def AdkSetBool(self, data: AdkData, field_id: int, value: bool) -> AdkError:
        """``Api.AdkSetBool(data, field, int)``."""
        return self._error(self._api.AdkSetBool(data, field_id, 1 if value else 0))

    def AdkSetDate(self, data: AdkData, field_id: int, value: int) -> AdkError:
        """``Api.AdkSetDate(data, field, long)``."""
        return self._error(self._api.AdkSetDate(data, field_id, int(value)))

    def AdkSetData(self, data: AdkData, field_id: int, rows: AdkData) -> AdkError:
        """``Api.AdkSetData(data, field, rows)``."""
        return self._error(self._api.AdkSetData(data, field_id, rows))

    def AdkGetStr(self, data: AdkData, field_id: int, length: int = 255) -> tuple[AdkError, str]:
        """``Api.AdkGetStr(data, field, ref value, len)``."""
        error, value = self._out(self._api.AdkGetStr(data, field_id, " " * length, length))
        return error, str(value or "").rstrip("\x00").strip()

    def AdkGetDouble(self, data: AdkData, field_id: int) -> tuple[AdkError, float]:
        """``Api.AdkGetDouble(data, field, ref double)``."""
        error, value = self._out(self._api.AdkGetDouble(data, field_id, 0.0))
        return error, float(value or 0.0)

    def AdkGetBool(self, data: AdkData, field_id: int) -> tuple[AdkError, bool]:
        """``Api.AdkGetBool(data, field, ref int)``."""
        error, value = self._out(self._api.AdkGetBool(data, field_id, 0))
        return error, bool(value)

    def AdkGetDate(self, data: AdkData, field_id: int) -> tuple[AdkError, int]:
        """``Api.AdkGetDate(data, field, ref int)``."""
        error, value = self._out(self._api.AdkGetDate(data, field_id, 0))
        return error, int(value or 0)

    def AdkGetData(self, data: AdkData, field_id: int, index: int) -> tuple[AdkError, AdkData]:
        """``Api.AdkGetData(data, field, i, ref row)``."""
        error, value = self._out(self._api.AdkGetData(data, field_id, index, 0))
        return error, AdkData(value)

    # --- field metadata -----------------------------------------------------------------------
    def AdkGetType(self, data: AdkData, field_id: int) -> tuple[AdkError, int]:
        """``Api.AdkGetType(data, field, ref ADK_FIELD_TYPE)``."""
        result = self._api.AdkGetType(data, field_id, self._api.ADK_FIELD_TYPE.eUnused)
        error, value = self._out(result)
        return error, int(value)

    def AdkGetLength(self, data: AdkData, field_id: int) -> tuple[AdkError, int]:
        """``Api.AdkGetLength(data, field, ref int)``."""
        error, value = self._out(self._api.AdkGetLength(data, field_id, 0))
        return error, int(value or 0)

    def AdkGetDecimals(self, data: AdkData, field_id: int) -> tuple[AdkError, int]:
        """``Api.AdkGetDecimals(data, field, ref int)``."""
        error, value = self._out(self._api.AdkGetDecimals(data, field_id, 0))
        return error, int(value or 0)

    def AdkIsReadWrite(self, data: AdkData, field_id: int) -> bool:
        """``Api.AdkIsReadWrite(data, field)``."""
        return bool(self._api.AdkIsReadWrite(data, field_id))

    def AdkGetFieldName(self, db_id: int, field_id: int) -> tuple[AdkError, str]:
        """``Api.AdkGetFieldName(db, field, ref name, len)``."""
        error, value = self._out(self._api.AdkGetFieldName(db_id, field_id, " " * 100, 100))
        return error, str(value or "").strip()

    def AdkGetTimestampField(self, data: AdkData) -> tuple[AdkError, int]:
        """``Api.AdkGetTimestampField(data, ref int)``."""
        return self._int_out(self._api.AdkGetTimestampField(data, 0))

    def AdkGetRowsFldId(self, data: AdkData) -> tuple[AdkError, int]:
        """``Api.AdkGetRowsFldId(data, ref int)``."""
        return self._int_out(self._api.AdkGetRowsFldId(data, 0))

    def AdkGetNrowsFldId(self, data: AdkData) -> tuple[AdkError, int]:
        """``Api.AdkGetNrowsFldId(data, ref int)``."""
        return self._int_out(self._api.AdkGetNrowsFldId(data, 0))

    def AdkGetRowDbId(self, data: AdkData) -> tuple[AdkError, int]:
        """``Api.AdkGetRowDbId(data, ref int)``."""
        return self._int_out(self._api.AdkGetRowDbId(data, 0))

    def _int_out(self, result: Any) -> tuple[AdkError, int]:
        error, value = self._out(result)
        return error, int(value or 0)

    # --- records ------------------------------------------------------------------------------
    def AdkAdd(self, data: AdkData) -> AdkError:
        """``Api.AdkAdd(data)``."""
        return self._error(self._api.AdkAdd(data))

    def AdkUpdate(self, data: AdkData) -> AdkError:
        """``Api.AdkUpdate(data)``."""
        return self._error(self._api.AdkUpdate(data))

    def AdkDeleteRecord(self, data: AdkData) -> AdkError:
        """``Api.AdkDeleteRecord(data)`` (ADK 2019.2 and later)."""
        return self._error(self._api.AdkDeleteRecord(data))

    def AdkDeleteRow(self, data: AdkData, row_nr: int) -> AdkError:
        """``Api.AdkDeleteRow(data, row)`` (1-based)."""
        return self._error(self._api.AdkDeleteRow(data, row_nr))

    def AdkFind(self, data: AdkData) -> AdkError:
        """``Api.AdkFind(data)``."""
        return self._error(self._api.AdkFind(data))

    def AdkFindEx(self, data: AdkData, include_rows: bool) -> AdkError:
        """``Api.AdkFindEx(data, bRow)``."""
        return self._error(self._api.AdkFindEx(data, include_rows))

    def AdkFirst(self, data: AdkData) -> AdkError:
        """``Api.AdkFirst(data)``."""
        return self._error(self._api.AdkFirst(data))

    def AdkNext(self, data: AdkData) -> AdkError:
        """``Api.AdkNext(data)``."""
        return self._error(self._api.AdkNext(data))

    def AdkPrevious(self, data: AdkData) -> AdkError:
        """``Api.AdkPrevious(data)``."""
        return self._error(self._api.AdkPrevious(data))

    def AdkLast(self, data: AdkData) -> AdkError:
        """``Api.AdkLast(data)``."""
        return self._error(self._api.AdkLast(data))

    def AdkFirstEx(self, data: AdkData, include_rows: bool) -> AdkError:
        """``Api.AdkFirstEx(data, bRow)``."""
        return self._error(self._api.AdkFirstEx(data, include_rows))

    def AdkNextEx(self, data: AdkData, include_rows: bool) -> AdkError:
        """``Api.AdkNextEx(data, bRow)``."""
        return self._error(self._api.AdkNextEx(data, include_rows))

    def AdkPreviousEx(self, data: AdkData, include_rows: bool) -> AdkError:
        """``Api.AdkPreviousEx(data, bRow)``."""
        return self._error(self._api.AdkPreviousEx(data, include_rows))

    def AdkLastEx(self, data: AdkData, include_rows: bool) -> AdkError:
        """``Api.AdkLastEx(data, bRow)``."""
        return self._error(self._api.AdkLastEx(data, include_rows))

    def AdkSetSortOrder(self, data: AdkData, sort_order: int) -> AdkError:
        """``Api.AdkSetSortOrder(data, ADK_SORT_ORDER)`` (the int is converted to the enum)."""
        enum = self._api.ADK_SORT_ORDER(sort_order)
        return self._error(self._api.AdkSetSortOrder(data, enum))

    def AdkSetFilter(self, data: AdkData, field_id: int, expression: str, version: int) -> AdkError:
        """``Api.AdkSetFilter(data, field, expression, version)`` (ADK 2018.6 and later)."""
        return self._error(self._api.AdkSetFilter(data, field_id, expression, version))

    def AdkIsFilterable(self, data: AdkData, field_id: int) -> tuple[AdkError, bool]:
        """``Api.AdkIsFilterable(data, field, ref bool)``."""
        error, value = self._out(self._api.AdkIsFilterable(data, field_id, False))
        return error, bool(value)

    def AdkClearFilters(self, data: AdkData) -> AdkError:
        """``Api.AdkClearFilters(data)``."""
        return self._error(self._api.AdkClearFilters(data))

    # --- dates --------------------------------------------------------------------------------
    def AdkLongToDate(self, value: int, length: int = 11) -> tuple[AdkError, str]:
        """``Api.AdkLongToDate(long, ref text, len)``."""
        error, text = self._out(self._api.AdkLongToDate(value, " " * length, length))
        return error, str(text or "").strip()

    def AdkDateToLong(self, text: str) -> tuple[AdkError, int]:
        """``Api.AdkDateToLong(text, ref long)``."""
        return self._int_out(self._api.AdkDateToLong(text, 0))

    def AdkLongToDateTime(self, value: int, length: int = 20) -> tuple[AdkError, str]:
        """``Api.AdkLongToDateTime(long, ref text, len)``."""
        error, text = self._out(self._api.AdkLongToDateTime(value, " " * length, length))
        return error, str(text or "").strip()

    def AdkDateTimeToLong(self, text: str) -> tuple[AdkError, int]:
        """``Api.AdkDateTimeToLong(text, ref long)``."""
        return self._int_out(self._api.AdkDateTimeToLong(text, 0))
