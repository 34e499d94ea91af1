"""Validation of business identifiers with python-stdnum: VAT numbers, company registration
numbers (CVR, organisationsnummer, …) and EAN/GLN location numbers.

Each function returns the compact, normalised form or raises ``ValidationError`` naming the
identifier and the country, so an import report can say exactly what to fix.
"""

from __future__ import annotations

import re
from functools import cache
from types import ModuleType

from babel import Locale
from stdnum import ean
from stdnum.dk import cvr
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fi import ytunnus
from stdnum.no import orgnr as no_orgnr
from stdnum.se import orgnr as se_orgnr
from stdnum.util import get_cc_module

from ledgerlink.domain.errors import ValidationError

#: Company registration numbers stdnum validates, by country.
_REGISTRATION_MODULES: dict[str, ModuleType] = {
    "DK": cvr,
    "SE": se_orgnr,
    "NO": no_orgnr,
    "FI": ytunnus,
}

#: Registration numbers stdnum has no module for: a format check only.
_REGISTRATION_FORMATS: dict[str, tuple[re.Pattern[str], str]] = {
    "NL": (re.compile(r"^\d{8}$"), "a KvK number of 8 digits"),
}

EU_COUNTRIES = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()
)

# EU VAT numbers are written with their country prefix (VIES form; Greece uses EL).
_EU_VAT_PREFIXES = {code: ("EL" if code == "GR" else code) for code in EU_COUNTRIES}


#: Two-letter regions CLDR (Babel) names that ISO 3166-1 does not assign to a country:
#: reserved codes (AC, CP, CQ, DG, EA, IC, TA), groupings (EU, EZ, UN, QO), pseudo-locales
#: (XA, XB), Kosovo's user-assigned XK and ZZ "unknown region".
_NOT_ISO_3166 = frozenset("AC CP CQ DG EA EU EZ IC QO TA UN XA XB XK ZZ".split())


@cache
def _iso_countries() -> frozenset[str]:
    regions = Locale("en").territories
    codes = {c for c in regions if isinstance(c, str) and len(c) == 2 and c.isalpha()}
    return frozenset(codes - _NOT_ISO_3166)


def country_code(value: str) -> str:
    """An ISO 3166-1 alpha-2 country code in upper case (DK, SE, NL); others are refused."""
    code = value.strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", code):
        raise ValidationError(f"'{value}' is not a two-letter ISO country code (e.g. DK, SE, NL)")
    if code not in _iso_countries():
        raise ValidationError(f"'{value}' is not an ISO 3166 country code (e.g. DK, SE, NL)")
    return code


def vat_number(country: str, value: str) -> str:
    """Validate a VAT number for ``country``; EU numbers are returned with their prefix."""
    candidate = value.replace(" ", "").replace(".", "").replace("-", "").upper()
    prefix = _EU_VAT_PREFIXES.get(country)
    try:
        if prefix is not None:
            if not candidate.startswith(prefix):
                candidate = prefix + candidate
            return str(eu_vat.validate(candidate))
        module = get_cc_module(country.lower(), "vat")
        return candidate if module is None else str(module.validate(candidate))
    except StdnumError as error:
        raise ValidationError(f"'{value}' is not a valid {country} VAT number ({error})") from None


def registration_number(country: str, value: str) -> str:
    """Validate a company registration number (CVR, org.nr, …) where ``country`` is known."""
    raw = value.strip()
    module = _REGISTRATION_MODULES.get(country)
    if module is not None:
        try:
            return str(module.validate(raw))
        except StdnumError as error:
            raise ValidationError(
                f"'{value}' is not a valid {country} company registration number ({error})"
            ) from None
    fmt = _REGISTRATION_FORMATS.get(country)
    if fmt is not None:
        compact = raw.replace(" ", "")
        if not fmt[0].fullmatch(compact):
            raise ValidationError(f"'{value}' is not {fmt[1]}")
        return compact
    return raw


def location_number(value: str) -> str:
    """Validate an EAN/GLN location number (13 digits with a check digit) for e-invoicing."""
    try:
        compact = str(ean.validate(value.strip()))
    except StdnumError as error:
        raise ValidationError(f"'{value}' is not a valid EAN/GLN number ({error})") from None
    if len(compact) != 13:
        raise ValidationError(f"'{value}' is not a 13-digit EAN/GLN location number")
    return compact
