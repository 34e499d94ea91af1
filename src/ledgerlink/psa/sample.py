"""The sample data shipped in the package: a small consultancy (see sample_data/README.md).

Loading is idempotent: the files are imported with the normal importers (upserts by natural
key), and an existing legal entity with the sample's code is reused as it is.
"""

from __future__ import annotations

import csv
import io
import json
from importlib.resources import as_file, files
from importlib.resources.abc import Traversable

from ledgerlink.domain.errors import ValidationError
from ledgerlink.domain.parties import LegalEntity
from ledgerlink.psa.importing import ImportKind, ImportReport, import_file
from ledgerlink.store.uow import UnitOfWork

SAMPLE_FILES: tuple[tuple[ImportKind, str], ...] = (
    (ImportKind.CUSTOMERS, "customers.csv"),
    (ImportKind.CONTACTS, "contacts.csv"),
    (ImportKind.EMPLOYEES, "employees.csv"),
    (ImportKind.PROJECTS, "projects.csv"),
    (ImportKind.REGISTRATIONS, "registrations.csv"),
    (ImportKind.EXPENSES, "expenses.json"),
)


def _sample_dir() -> Traversable:
    return files("ledgerlink.psa") / "sample_data"


def sample_legal_entity(*, country: str = "DK", currency: str = "DKK") -> LegalEntity:
    """The sample legal entity of ``country`` billing in ``currency``: the Danish company, or
    its Swedish or Dutch sister for an ERP whose company is Swedish or Dutch."""
    data = json.loads((_sample_dir() / "legal_entities.json").read_text(encoding="utf-8"))
    for fields in data:
        if (fields["country"], fields["currency"]) == (country, currency):
            return LegalEntity(**fields)
    known = ", ".join(f"{d['country']}/{d['currency']}" for d in data)
    raise ValidationError(f"the sample data has no legal entity in {country}/{currency} ({known})")


def sample_projects() -> list[tuple[str, str]]:
    """(number, name) of the sample projects (for an ERP where they must be made by hand)."""
    text = (_sample_dir() / "projects.csv").read_text(encoding="utf-8")
    return [(row["number"], row["name"]) for row in csv.DictReader(io.StringIO(text))]


def load_sample_data(
    uow: UnitOfWork, *, country: str = "DK", currency: str = "DKK"
) -> tuple[LegalEntity, list[ImportReport]]:
    """Create the sample legal entity of ``country`` and ``currency`` (unless it exists) and
    import the sample files into it."""
    wanted = sample_legal_entity(country=country, currency=currency)
    with uow:
        entity = uow.legal_entities.by_code(wanted.code)
        if entity is None:
            entity = uow.legal_entities.add(wanted)
            uow.commit()
    assert entity.id is not None
    reports = []
    for kind, name in SAMPLE_FILES:
        with as_file(_sample_dir() / name) as path:
            report = import_file(uow, legal_entity_id=entity.id, kind=kind, path=path)
        reports.append(report)
        if not report.committed:
            first = report.errors[0]
            raise RuntimeError(f"sample file {name} line {first.line}: {first.message}")
    return entity, reports
