"""The spec table: every ERP the product has, by the name connections store (design §6).

This is the one list of ERPs. Adding an ERP is adding its package's ``SPEC`` here.
"""

from __future__ import annotations

from ledgerlink.connectors.economic.spec import SPEC as ECONOMIC
from ledgerlink.connectors.exact.spec import SPEC as EXACT
from ledgerlink.connectors.financialhost.spec import SPEC as FINANCIALHOST
from ledgerlink.connectors.fortnox.spec import SPEC as FORTNOX
from ledgerlink.connectors.spec import ConnectorSpec
from ledgerlink.domain.errors import ValidationError

SPECS: dict[str, ConnectorSpec] = {
    spec.name: spec for spec in (ECONOMIC, EXACT, FINANCIALHOST, FORTNOX)
}


def spec_for(erp: str) -> ConnectorSpec:
    """The spec of ``erp``; an unknown name is a clear error."""
    try:
        return SPECS[erp]
    except KeyError:
        raise ValidationError(
            f"'{erp}' is not a supported ERP; choose one of: {', '.join(sorted(SPECS))}"
        ) from None


def all_specs() -> list[ConnectorSpec]:
    """Every spec, by display name."""
    return sorted(SPECS.values(), key=lambda s: s.display_name.casefold())
