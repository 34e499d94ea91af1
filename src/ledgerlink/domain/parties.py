"""Who takes part: the PSA's legal entities, their customers, contacts and employees."""

from __future__ import annotations

import calendar
import enum
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from ledgerlink.domain import identifiers
from ledgerlink.domain.errors import ValidationError
from ledgerlink.domain.money import currency_code

# C0 controls other than tab and line breaks, DEL, and UTF-16 surrogates (a JSON "\ud800"
# alone): nobody types them, NUL ends strings in other systems and a surrogate is not even
# storable as UTF-8.
_NOT_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def plain_text(value: str, what: str) -> str:
    """Return ``value``; refuse control characters (NUL, …) and lone surrogates."""
    found = _NOT_TEXT.search(value)
    if found is None:
        return value
    code = f"U+{ord(found[0]):04X}"
    if 0xD800 <= ord(found[0]) <= 0xDFFF:
        raise ValidationError(
            f"{what} holds {code}, half of a UTF-16 surrogate pair and not a character "
            "(correct the text at its source)"
        )
    raise ValidationError(f"{what} holds the control character {code} (remove it)")


def required_text(value: str, what: str, *, max_length: int = 255) -> str:
    """Strip ``value``; refuse it when empty, longer than ``max_length`` or not plain text."""
    text = plain_text(value.strip(), what)
    if not text:
        raise ValidationError(f"{what} is required")
    if len(text) > max_length:
        raise ValidationError(f"{what} is longer than {max_length} characters")
    return text


def optional_text(value: str | None, what: str, *, max_length: int = 255) -> str:
    """Strip ``value`` (``None`` is empty); refuse it when too long or not plain text."""
    text = plain_text((value or "").strip(), what)
    if len(text) > max_length:
        raise ValidationError(f"{what} is longer than {max_length} characters")
    return text


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address; ``lines`` holds up to three street lines."""

    lines: tuple[str, ...] = ()
    postal_code: str = ""
    city: str = ""
    country: str = ""

    def __post_init__(self) -> None:
        lines = tuple(
            optional_text(line, "address line") for line in self.lines if line and line.strip()
        )
        if len(lines) > 3:
            raise ValidationError("an address has at most three street lines")
        object.__setattr__(self, "lines", lines)
        object.__setattr__(
            self, "postal_code", optional_text(self.postal_code, "postal code", max_length=30)
        )
        object.__setattr__(self, "city", optional_text(self.city, "city", max_length=100))
        if self.country:
            object.__setattr__(self, "country", identifiers.country_code(self.country))


class PaymentTermsKind(enum.StrEnum):
    NET = "net"
    """Due ``days`` after the invoice date."""
    END_OF_MONTH = "end_of_month"
    """Due ``days`` after the end of the invoice date's month ("løbende måned + 30")."""


@dataclass(frozen=True, slots=True)
class PaymentTerms:
    kind: PaymentTermsKind = PaymentTermsKind.NET
    days: int = 30

    def __post_init__(self) -> None:
        if not 0 <= self.days <= 365:
            raise ValidationError("payment terms must be between 0 and 365 days")

    def due_date(self, invoice_date: date) -> date:
        if self.kind is PaymentTermsKind.END_OF_MONTH:
            last_day = calendar.monthrange(invoice_date.year, invoice_date.month)[1]
            return invoice_date.replace(day=last_day) + timedelta(days=self.days)
        return invoice_date + timedelta(days=self.days)

    def __str__(self) -> str:
        if self.kind is PaymentTermsKind.END_OF_MONTH:
            return f"end of month + {self.days} days"
        return f"net {self.days} days"

    @classmethod
    def parse(cls, text: str) -> PaymentTerms:
        """Parse ``net 30`` / ``30`` / ``eom 30`` / ``end_of_month 30``."""
        match = re.fullmatch(r"\s*(net|eom|end_of_month)?\s*(\d+)\s*(days?)?\s*", text.lower())
        if not match:
            raise ValidationError(f"'{text}' is not payment terms; write e.g. 'net 30' or 'eom 30'")
        kind = PaymentTermsKind.NET if match[1] in (None, "net") else PaymentTermsKind.END_OF_MONTH
        return cls(kind, int(match[2]))


@dataclass(kw_only=True)
class LegalEntity:
    """A company in the PSA. It has its own invoice number series and may have its own ERP
    connection. Invoices and credit notes share the series (numbers are never reused)."""

    id: int | None = None
    code: str
    name: str
    country: str
    currency: str
    vat_number: str = ""
    registration_number: str = ""
    next_invoice_number: int = 1

    def __post_init__(self) -> None:
        self.code = required_text(self.code, "legal entity code", max_length=20).upper()
        self.name = required_text(self.name, "legal entity name")
        self.country = identifiers.country_code(self.country)
        self.currency = currency_code(self.currency)
        if self.vat_number:
            self.vat_number = identifiers.vat_number(self.country, self.vat_number)
        if self.registration_number:
            self.registration_number = identifiers.registration_number(
                self.country, self.registration_number
            )
        if self.next_invoice_number < 1:
            raise ValidationError("the next invoice number must be 1 or more")

    def take_invoice_number(self) -> int:
        """Hand out the next number of the series (the store persists the increment)."""
        number = self.next_invoice_number
        self.next_invoice_number += 1
        return number


@dataclass(kw_only=True)
class Customer:
    """A customer of a legal entity. Identifiers are validated for the customer's country."""

    id: int | None = None
    legal_entity_id: int
    number: str
    name: str
    address: Address = field(default_factory=Address)
    vat_number: str = ""
    registration_number: str = ""
    ean: str = ""
    currency: str
    payment_terms: PaymentTerms = field(default_factory=PaymentTerms)
    email: str = ""
    phone: str = ""
    website: str = ""
    active: bool = True

    def __post_init__(self) -> None:
        self.number = required_text(self.number, "customer number", max_length=30)
        self.name = required_text(self.name, "customer name")
        self.currency = currency_code(self.currency)
        if not self.address.country:
            raise ValidationError(f"customer {self.number}: country is required")
        country = self.address.country
        if self.vat_number:
            self.vat_number = identifiers.vat_number(country, self.vat_number)
        if self.registration_number:
            self.registration_number = identifiers.registration_number(
                country, self.registration_number
            )
        if self.ean:
            self.ean = identifiers.location_number(self.ean)
        self.email = optional_text(self.email, "e-mail")
        self.phone = optional_text(self.phone, "phone", max_length=50)
        self.website = optional_text(self.website, "website")

    @property
    def country(self) -> str:
        return self.address.country


@dataclass(kw_only=True)
class Contact:
    """A person at a customer (the invoice's attention person)."""

    id: int | None = None
    customer_id: int
    name: str
    email: str = ""
    phone: str = ""
    title: str = ""

    def __post_init__(self) -> None:
        self.name = required_text(self.name, "contact name")
        self.email = optional_text(self.email, "e-mail")
        self.phone = optional_text(self.phone, "phone", max_length=50)
        self.title = optional_text(self.title, "title", max_length=100)


@dataclass(kw_only=True)
class Employee:
    """An employee of a legal entity, known to ERPs by initials (salesperson, säljare)."""

    id: int | None = None
    legal_entity_id: int
    initials: str
    name: str
    email: str = ""
    department: str = ""
    active: bool = True

    def __post_init__(self) -> None:
        initials = required_text(self.initials, "employee initials", max_length=10).upper()
        if not re.fullmatch(r"[A-Z0-9ÆØÅÄÖÜ]+", initials):
            raise ValidationError(
                f"employee initials '{self.initials}' may hold letters and digits only"
            )
        self.initials = initials
        self.name = required_text(self.name, "employee name")
        self.email = optional_text(self.email, "e-mail")
        self.department = optional_text(self.department, "department", max_length=50)
