"""e-conomic's filter-value escaping and self-link id encoding (pure helpers)."""

from __future__ import annotations

from urllib.parse import quote

_FILTER_ESCAPES = {"$": "$$", "(": "$(", ")": "$)", "*": "$*", ",": "$,", "[": "$[", "]": "$]"}

_ID_REPLACEMENTS = {
    "<": "_0_",
    ">": "_1_",
    "*": "_2_",
    "%": "_3_",
    ":": "_4_",
    "&": "_5_",
    "/": "_6_",
    "\\": "_7_",
    "_": "_8_",
    " ": "_9_",
    "?": "_10_",
    ".": "_11_",
    "#": "_12_",
    "+": "_13_",
}


def filter_value(text: str) -> str:
    """Escape ``text`` for use as a value in e-conomic's ``filter`` grammar."""
    return "".join(_FILTER_ESCAPES.get(char, char) for char in text)


def encode_id(identifier: str) -> str:
    """Encode a resource id (e.g. a product number) for a self-link path segment: e-conomic's
    replacement scheme first, then standard URL encoding of what is left."""
    replaced = "".join(_ID_REPLACEMENTS.get(char, char) for char in identifier)
    return quote(replaced, safe="_")
