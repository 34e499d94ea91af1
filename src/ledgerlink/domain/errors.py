"""Errors the domain raises. Each message says what is wrong and what to do about it."""

from __future__ import annotations


class LedgerlinkError(Exception):
    """Base of every error ledgerlink reports to a user (one line, no traceback)."""


class ValidationError(LedgerlinkError):
    """Input data is invalid; the message names the field and the expected form."""


class NotFoundError(LedgerlinkError):
    """A referenced record does not exist."""


class ConflictError(LedgerlinkError):
    """The operation conflicts with existing data (duplicate number, already invoiced, …)."""


class ImmutableError(LedgerlinkError):
    """A posted document was asked to change; corrections are made with a credit note."""
