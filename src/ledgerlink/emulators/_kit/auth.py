"""Small helpers for the static-token and header-based auth schemes emulators reproduce."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

__all__ = ["header", "tokens_match"]


def tokens_match(presented: str | None, expected: str) -> bool:
    """Constant-time comparison of a presented token with the expected one."""
    if presented is None:
        return False
    return hmac.compare_digest(presented.encode(), expected.encode())


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, or ``None`` when absent or blank (lookup is case-insensitive)."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value.strip() or None if value is not None else None
