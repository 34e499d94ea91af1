"""The SOAP ``Key`` and the OData ``@odata.etag``.

A Key is three length-prefixed segments ``<len>;<value>``: the base64 of a binary record id,
the record's version (a decimal row timestamp that changes on every modify) and an empty
segment: ``32;DgAAAAJ7/0wATwBDAEYAUwAwADAAMQ==10;13343107410;``. The record id starts with the
table number as a little-endian int32; Code/Text key values follow as UTF-16LE after a ``7b ff``
marker, integers (and options, by index) after ``00 87``; trailing zero bytes are trimmed. This
reproduces the byte layout of captured NAV keys; clients must treat keys as opaque.

The ETag is ``W/"<base64 of 'Key'>"`` (the Key in single quotes), so a record's ETag and Key
always change together.
"""

from __future__ import annotations

import base64
import binascii
import struct
from typing import Any

from ledgerlink.emulators.nav.errors import Failure, NavError
from ledgerlink.emulators.nav.schema import TableDef

__all__ = ["decode_key", "encode_key", "etag", "key_from_etag", "segments"]

_STRING = b"\x7b\xff"
_INTEGER = b"\x00\x87"


def _segment(value: str) -> str:
    return f"{len(value)};{value}"


def segments(key: str) -> list[str]:
    """The values of a length-prefixed key string (raises ``ValueError`` when malformed)."""
    values: list[str] = []
    position = 0
    while position < len(key):
        separator = key.index(";", position)
        length = int(key[position:separator])
        start = separator + 1
        if length < 0 or start + length > len(key):
            raise ValueError("segment runs past the end of the key")
        values.append(key[start : start + length])
        position = start + length
    return values


def _record_id(table: TableDef, values: tuple[Any, ...]) -> bytes:
    buffer = bytearray(struct.pack("<i", table.table_id))
    buffer.append(0x02)
    for name, value in zip(table.primary_key, values, strict=True):
        field = table.field(name)
        if field is not None and field.type == "Option":
            buffer += _INTEGER + struct.pack("<i", field.option_names.index(value))
        elif isinstance(value, int):
            buffer += _INTEGER + struct.pack("<i", value)
        else:
            buffer += _STRING + str(value).encode("utf-16-le") + b"\x00\x00"
    return bytes(buffer).rstrip(b"\x00")


def encode_key(table: TableDef, values: tuple[Any, ...], version: int) -> str:
    """The Key of the record of ``table`` with primary-key ``values`` at ``version``."""
    record_id = base64.b64encode(_record_id(table, values)).decode("ascii")
    return _segment(record_id) + _segment(str(version)) + _segment("")


def _invalid(key: str) -> NavError:
    return NavError(Failure.BAD_REQUEST, f'The format of the key "{key}" is not valid.')


def decode_key(table: TableDef, key: str) -> tuple[tuple[Any, ...], int]:
    """The primary-key values and the version a Key names; NAV's error when it is not a
    key of ``table``."""
    try:
        parts = segments(key.strip())
        raw = base64.b64decode(parts[0], validate=True) + b"\x00" * 8
        version = int(parts[1])
    except (ValueError, IndexError, binascii.Error):
        raise _invalid(key) from None
    if struct.unpack_from("<i", raw)[0] != table.table_id or raw[4] != 0x02:
        raise _invalid(key)
    position = 5
    values: list[Any] = []
    for name in table.primary_key:
        field = table.field(name)
        marker = raw[position : position + 2]
        position += 2
        if marker == _INTEGER:
            number = struct.unpack_from("<i", raw, position)[0]
            position += 4
            if field is not None and field.type == "Option":
                if not 0 <= number < len(field.option_names):
                    raise _invalid(key)
                values.append(field.option_names[number])
            else:
                values.append(number)
        elif marker == _STRING:
            end = position
            while raw[end : end + 2] != b"\x00\x00":
                end += 2
            values.append(raw[position:end].decode("utf-16-le"))
            position = end + 2
        else:
            raise _invalid(key)
    return tuple(values), version


def etag(key: str) -> str:
    """The weak OData ETag carrying ``key``."""
    return 'W/"' + base64.b64encode(f"'{key}'".encode()).decode("ascii") + '"'


def key_from_etag(value: str) -> str | None:
    """The Key inside an ETag (``None`` when it is not one of ours)."""
    text = value.strip()
    if text.startswith("W/"):
        text = text[2:]
    if len(text) < 2 or not (text.startswith('"') and text.endswith('"')):
        return None
    try:
        inner = base64.b64decode(text[1:-1], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    if len(inner) < 2 or not (inner.startswith("'") and inner.endswith("'")):
        return None
    return inner[1:-1]
