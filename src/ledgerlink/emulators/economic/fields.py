"""Property checks for request documents, recording annotated errors on a :class:`Validation`.

Each check reads ``document[key]``, records an error at ``path + (key,)`` when the value is
missing (and required), of the wrong type or too long, and returns the value (or ``None``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ledgerlink.emulators.economic.http import Validation, reference_id

__all__ = [
    "boolean",
    "integer",
    "iso_date",
    "money",
    "number",
    "reference",
    "required_message",
    "text",
]

Path = Sequence[str | int]
TWO_PLACES = Decimal("0.01")


def money(value: Decimal) -> Decimal:
    """Round half-up to two decimals (the API's amount scale)."""
    return value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def required_message(key: str) -> str:
    """The message for a missing required property."""
    return f"Property {key} is required."


def _missing(
    document: Mapping[str, Any], key: str, path: Path, v: Validation, required: bool
) -> bool:
    if key in document:
        return False
    if required:
        v.add((*path, key), required_message(key), hint="Please check your request data.")
    return True


def text(
    document: Mapping[str, Any],
    key: str,
    v: Validation,
    *,
    path: Path = (),
    max_length: int | None = None,
    min_length: int = 0,
    required: bool = False,
) -> str | None:
    """A string property."""
    if _missing(document, key, path, v, required):
        return None
    value = document[key]
    if not isinstance(value, str):
        v.add((*path, key), f"{key} must be a string.", value=value)
        return None
    if max_length is not None and len(value) > max_length:
        v.add(
            (*path, key),
            f"{key} is too long: {len(value)} characters, at most {max_length} allowed.",
            value=value,
            hint="Please check the length of your data.",
        )
        return None
    if len(value) < max(min_length, 1 if required else 0):
        v.add(
            (*path, key), f"{key} must have at least {max(min_length, 1)} characters.", value=value
        )
        return None
    return value


def integer(
    document: Mapping[str, Any],
    key: str,
    v: Validation,
    *,
    path: Path = (),
    minimum: int | None = None,
    maximum: int | None = None,
    required: bool = False,
) -> int | None:
    """An integer property (a JSON number without fraction)."""
    if _missing(document, key, path, v, required):
        return None
    value = document[key]
    if isinstance(value, bool) or not isinstance(value, int):
        v.add((*path, key), f"{key} must be an integer.", value=value)
        return None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        v.add((*path, key), f"{key} must be between {minimum} and {maximum}.", value=value)
        return None
    return value


def number(
    document: Mapping[str, Any],
    key: str,
    v: Validation,
    *,
    path: Path = (),
    required: bool = False,
    max_scale: int | None = None,
) -> Decimal | None:
    """A decimal property; ``max_scale=2`` gives E04740 on more than two decimals."""
    if _missing(document, key, path, v, required):
        return None
    value = document[key]
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        v.add((*path, key), f"{key} must be a number.", value=value)
        return None
    amount = Decimal(value)
    exponent = amount.normalize().as_tuple().exponent
    if max_scale is not None and isinstance(exponent, int) and -exponent > max_scale:
        v.add(
            (*path, key),
            f"{key} scale cannot be greater then two decimal places.",
            code="E04740",
            value=value,
            hint="Please check the format of your data.",
        )
        return None
    return amount


def boolean(document: Mapping[str, Any], key: str, v: Validation, *, path: Path = ()) -> bool:
    """A boolean property (absent means false)."""
    if key not in document:
        return False
    value = document[key]
    if not isinstance(value, bool):
        v.add((*path, key), f"{key} must be true or false.", value=value)
        return False
    return value


def iso_date(
    document: Mapping[str, Any],
    key: str,
    v: Validation,
    *,
    path: Path = (),
    required: bool = False,
) -> str | None:
    """A ``YYYY-MM-DD`` property."""
    value = text(document, key, v, path=path, required=required)
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        v.add((*path, key), f"{key} must be a date formatted YYYY-MM-DD.", value=value)
        return None


def reference(
    document: Mapping[str, Any],
    key: str,
    id_key: str,
    v: Validation,
    *,
    exists: Callable[[Any], bool],
    collection_url: str,
    path: Path = (),
    required: bool = False,
    as_int: bool = True,
) -> Any:
    """A reference ``{"<id_key>": id}`` or ``{"self": url}``: E04500 without id, E06000 unknown."""
    present, identifier = reference_id(document, key, id_key)
    if not present:
        if required:
            v.add((*path, key), required_message(key), hint="Please check your request data.")
        return None
    if identifier is None:
        v.add(
            (*path, key),
            f"No identifiers present on {key}. Please include either a self link or a {id_key}.",
            code="E04500",
            hint=f"Find a list of resources at {collection_url}.",
        )
        return None
    if as_int:
        try:
            identifier = int(str(identifier))
        except ValueError:
            v.add(
                (*path, key),
                f"{key} does not exist.",
                code="E06000",
                value=identifier,
                hint=f"Find a list of resources at {collection_url}.",
            )
            return None
    if not exists(identifier):
        v.add(
            (*path, key),
            f"{key} does not exist.",
            code="E06000",
            value=identifier,
            hint=f"Find a list of resources at {collection_url}.",
        )
        return None
    return identifier
