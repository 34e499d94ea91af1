"""Field values: stored forms, the SOAP and JSON wire forms, sorting, and NAV filter syntax.

Stored forms: Code → upper-case ``str``; Text → ``str``; Integer/BigInteger → ``int``;
Decimal → ``Decimal``; Boolean → ``bool``; Date → ``"YYYY-MM-DD"`` (``""`` = blank, which NAV
writes as ``0001-01-01``); DateTime → ``"YYYY-MM-DDTHH:MM:SSZ"`` (``""`` = blank); Option → the
SOAP enum name (``"Credit_Memo"``, ``"_blank_"``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from ledgerlink.emulators.nav.errors import Failure, NavError
from ledgerlink.emulators.nav.schema import FieldDef

__all__ = [
    "blank",
    "check_length",
    "compile_criteria",
    "format_decimal",
    "from_json",
    "parse_text",
    "round2",
    "sort_value",
    "to_json",
    "to_soap",
]

BLANK_DATE = "0001-01-01"
BLANK_DATETIME = "0001-01-01T00:00:00Z"
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


def round2(value: Decimal) -> Decimal:
    """NAV's amount rounding: half up to two decimals."""
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def format_decimal(value: Decimal) -> str:
    """A decimal as NAV writes it (no exponent, no trailing zeros)."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def blank(field: FieldDef) -> Any:
    """The value of a field nobody has set (NAV's InitValue for the type)."""
    if field.type in ("Code", "Text", "Date", "DateTime"):
        return ""
    if field.type in ("Integer", "BigInteger"):
        return 0
    if field.type == "Decimal":
        return Decimal(0)
    if field.type == "Boolean":
        return False
    return field.option_names[0] if field.option_names else "_blank_"


def check_length(field: FieldDef, value: str) -> None:
    """Raise NAV's string-length error when ``value`` is longer than the field."""
    if field.length is not None and len(value) > field.length:
        raise NavError(
            Failure.STRING_LENGTH,
            f"The length of the string is {len(value)}, but it must be less than or equal to "
            f"{field.length} characters. Value: {value}",
        )


def _evaluate_error(value: object, type_name: str) -> NavError:
    return NavError(
        Failure.EVALUATE, f'The value "{value}" cannot be evaluated into type {type_name}.'
    )


def _option(field: FieldDef, text: str) -> str:
    wanted = text.strip().lower()
    for name, caption in zip(field.option_names, field.options, strict=True):
        if wanted in (name.lower(), caption.strip().lower()):
            return name
    if wanted == "" and "_blank_" in field.option_names:
        return "_blank_"
    raise _evaluate_error(text, "Option")


def _date(text: str) -> str:
    stripped = text.strip()
    if stripped in ("", BLANK_DATE) or stripped.startswith(BLANK_DATE + "T"):
        return ""
    try:
        return date.fromisoformat(stripped[:10]).isoformat()
    except ValueError:
        raise _evaluate_error(text, "Date") from None


def _datetime(text: str) -> str:
    stripped = text.strip()
    if stripped in ("", BLANK_DATETIME) or stripped.startswith(BLANK_DATE):
        return ""
    try:
        moment = datetime.fromisoformat(stripped.replace("Z", "+00:00"))
    except ValueError:
        raise _evaluate_error(text, "DateTime") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_text(field: FieldDef, text: str) -> Any:
    """The stored value of a SOAP (or filter) text for ``field``; NAV's errors when invalid."""
    kind = field.type
    if kind in ("Code", "Text"):
        value = text.upper() if kind == "Code" else text
        check_length(field, value)
        return value
    if kind in ("Integer", "BigInteger"):
        try:
            return int(text.strip())
        except ValueError:
            raise _evaluate_error(text, kind) from None
    if kind == "Decimal":
        try:
            number = Decimal(text.strip())
        except InvalidOperation:
            raise _evaluate_error(text, "Decimal") from None
        if not number.is_finite():
            raise _evaluate_error(text, "Decimal")
        return number
    if kind == "Boolean":
        lowered = text.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise _evaluate_error(text, "Boolean")
    if kind == "Date":
        return _date(text)
    if kind == "DateTime":
        return _datetime(text)
    return _option(field, text)


def from_json(field: FieldDef, value: object) -> Any:
    """The stored value of an OData JSON property (or an admin-route value)."""
    if value is None:
        return blank(field)
    kind = field.type
    if kind in ("Integer", "BigInteger") and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "Decimal" and isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return Decimal(value)
    if kind == "Boolean" and isinstance(value, bool):
        return value
    if isinstance(value, str) and kind not in ("Boolean", "Integer", "BigInteger", "Decimal"):
        return parse_text(field, value)
    if isinstance(value, str) and kind == "Decimal":
        return parse_text(field, value)
    raise NavError(
        Failure.BAD_REQUEST,
        f"Cannot convert the literal '{value}' to the expected type '{field.edm_type}'.",
    )


def to_soap(field: FieldDef, value: Any) -> str | None:
    """The SOAP element text (``None``: the element is left out, as NAV does for blank text)."""
    kind = field.type
    if kind in ("Code", "Text"):
        return str(value) if value else None
    if kind == "Decimal":
        return format_decimal(Decimal(value))
    if kind == "Boolean":
        return "true" if value else "false"
    if kind == "Date":
        return str(value) or BLANK_DATE
    if kind == "DateTime":
        return str(value) or BLANK_DATETIME
    return str(value)


def to_json(field: FieldDef, value: Any) -> Any:
    """The OData JSON value (dates as ``Edm.DateTimeOffset``, options as their captions)."""
    kind = field.type
    if kind == "Decimal":
        return Decimal(format_decimal(Decimal(value)))
    if kind == "Date":
        return f"{value}T00:00:00Z" if value else BLANK_DATETIME
    if kind == "DateTime":
        return value or BLANK_DATETIME
    if kind == "Option":
        names = field.option_names
        return field.options[names.index(value)] if value in names else value
    return value


def sort_value(field: FieldDef, value: Any) -> Any:
    """A key that sorts stored values as NAV does (options by their index)."""
    if field.type == "Option":
        names = field.option_names
        return names.index(value) if value in names else len(names)
    return value


# --- NAV filter syntax -------------------------------------------------------------------------

Matcher = Callable[[Any], bool]


def _split(text: str, separator: str) -> list[str]:
    """Split at ``separator`` outside single quotes."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == "'":
            quoted = not quoted
        if char == separator and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _unquote(text: str) -> str:
    if len(text) >= 2 and text.startswith("'") and text.endswith("'"):
        return text[1:-1].replace("''", "'")
    return text


def _find_range(text: str) -> int:
    quoted = False
    for index, char in enumerate(text):
        if char == "'":
            quoted = not quoted
        elif not quoted and text.startswith("..", index):
            return index
    return -1


def compile_criteria(field: FieldDef, criteria: str, *, table_name: str) -> Matcher:
    """A predicate for NAV filter ``criteria`` on ``field``: ``a|b``, ``a&b``, ``a..b``,
    ``..b``, ``a..``, ``<>a``, ``>a``, ``>=a``, ``<a``, ``<=a``, ``*``/``?`` wildcards,
    ``@`` (case-insensitive), ``''`` (blank)."""
    try:
        alternatives = [
            [_term(field, part.strip()) for part in _split(alternative, "&")]
            for alternative in _split(criteria, "|")
        ]
    except NavError as problem:
        raise NavError(
            Failure.FILTER,
            f'The filter "{criteria}" is not valid for the {field.caption} field on the '
            f"{table_name} table. {problem.message}",
        ) from None

    def matcher(value: Any) -> bool:
        return any(all(term(value) for term in terms) for terms in alternatives)

    return matcher


def _term(field: FieldDef, text: str) -> Matcher:
    insensitive = text.startswith("@")
    if insensitive:
        text = text[1:]
    for prefix in ("<>", ">=", "<=", ">", "<", "="):
        if text.startswith(prefix):
            return _comparison(field, prefix, text[len(prefix) :].strip(), insensitive)
    position = _find_range(text)
    if position >= 0:
        low, high = text[:position].strip(), text[position + 2 :].strip()
        checks: list[Matcher] = []
        if low:
            checks.append(_comparison(field, ">=", low, insensitive))
        if high:
            checks.append(_comparison(field, "<=", high, insensitive))
        return lambda value: all(check(value) for check in checks)
    if field.type in ("Code", "Text") and ("*" in text or "?" in text):
        return _wildcard(field, _unquote(text), insensitive)
    return _comparison(field, "=", text, insensitive)


def _wildcard(field: FieldDef, text: str, insensitive: bool) -> Matcher:
    pattern = "".join(
        ".*" if char == "*" else "." if char == "?" else re.escape(char) for char in text
    )
    flags = re.IGNORECASE if insensitive or field.type == "Code" else 0
    compiled = re.compile(pattern, flags | re.DOTALL)
    return lambda value: compiled.fullmatch(str(value)) is not None


def _operand(field: FieldDef, text: str) -> Any:
    raw = _unquote(text)
    if field.type in ("Code", "Text"):
        value = raw.upper() if field.type == "Code" else raw
        check_length(field, value)
        return value
    if raw == "" and field.type in ("Date", "DateTime"):
        return ""
    return parse_text(field, raw)


def _comparison(field: FieldDef, operator: str, text: str, insensitive: bool) -> Matcher:
    operand = _operand(field, text)

    def key(value: Any) -> Any:
        result = sort_value(field, value)
        if insensitive and isinstance(result, str):
            return result.casefold()
        return result

    wanted = key(operand)
    if operator == "=":
        return lambda value: key(value) == wanted
    if operator == "<>":
        return lambda value: key(value) != wanted
    if operator == ">":
        return lambda value: key(value) > wanted
    if operator == ">=":
        return lambda value: key(value) >= wanted
    if operator == "<":
        return lambda value: key(value) < wanted
    return lambda value: key(value) <= wanted
