"""Builders of domain objects, and a small stored world, shared by the store and PSA tests;
:func:`shared_specs`, the one rule for tests that read ``../shared``.

Each builder returns a valid object with plain defaults; keyword arguments override fields.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ledgerlink.domain.money import Money
from ledgerlink.domain.parties import (
    Address,
    Contact,
    Customer,
    Employee,
    LegalEntity,
    PaymentTerms,
    PaymentTermsKind,
)
from ledgerlink.domain.work import Expense, Project, TimeRegistration
from ledgerlink.store.database import Database
from ledgerlink.store.uow import UnitOfWork

#: ``../shared`` beside the repository: the vendors' specs and the ERP fact sheets.
SHARED = Path(__file__).resolve().parents[2] / "shared"

MARCH = (date(2024, 3, 1), date(2024, 3, 31))
INVOICE_DATE = date(2024, 4, 2)
POSTING_DATE = date(2024, 4, 3)
FIRST_NUMBER = 1000


def dkk(amount: str) -> Money:
    return Money.of(amount, "DKK")


def sek(amount: str) -> Money:
    return Money.of(amount, "SEK")


def legal_entity(**changes: Any) -> LegalEntity:
    fields: dict[str, Any] = {
        "code": "NORD",
        "name": "Nordisk Konsulent ApS",
        "country": "DK",
        "currency": "DKK",
        "vat_number": "DK13585628",
        "next_invoice_number": FIRST_NUMBER,
    }
    return LegalEntity(**(fields | changes))


def customer(legal_entity_id: int, **changes: Any) -> Customer:
    fields: dict[str, Any] = {
        "legal_entity_id": legal_entity_id,
        "number": "C100",
        "name": "Hansen Byg A/S",
        "address": Address(
            lines=("Havnegade 1",), postal_code="1058", city="København K", country="DK"
        ),
        "currency": "DKK",
        "payment_terms": PaymentTerms(PaymentTermsKind.NET, 14),
    }
    return Customer(**(fields | changes))


def swedish_customer(legal_entity_id: int, **changes: Any) -> Customer:
    fields: dict[str, Any] = {
        "number": "C200",
        "name": "Svensson Bygg AB",
        "address": Address(
            lines=("Storgatan 5",), postal_code="111 22", city="Stockholm", country="SE"
        ),
        "vat_number": "SE556036079301",
        "currency": "SEK",
        "payment_terms": PaymentTerms(PaymentTermsKind.END_OF_MONTH, 30),
    }
    return customer(legal_entity_id, **(fields | changes))


def contact(customer_id: int, **changes: Any) -> Contact:
    fields: dict[str, Any] = {
        "customer_id": customer_id,
        "name": "Mette Hansen",
        "email": "mette@hansenbyg.dk",
        "phone": "+45 12 34 56 78",
        "title": "Indkøbschef",
    }
    return Contact(**(fields | changes))


def employee(legal_entity_id: int, **changes: Any) -> Employee:
    fields: dict[str, Any] = {
        "legal_entity_id": legal_entity_id,
        "initials": "AB",
        "name": "Anna Berg",
        "email": "ab@nordisk.dk",
        "department": "DEV",
    }
    return Employee(**(fields | changes))


def project(legal_entity_id: int, customer_id: int, **changes: Any) -> Project:
    fields: dict[str, Any] = {
        "legal_entity_id": legal_entity_id,
        "number": "P-1",
        "name": "Website",
        "customer_id": customer_id,
        "currency": "DKK",
        "hourly_rate": dkk("1000.00"),
    }
    return Project(**(fields | changes))


def registration(employee_id: int, project_id: int, **changes: Any) -> TimeRegistration:
    fields: dict[str, Any] = {
        "employee_id": employee_id,
        "project_id": project_id,
        "day": date(2024, 3, 4),
        "minutes": 60,
        "task": "Design",
    }
    return TimeRegistration(**(fields | changes))


def expense(employee_id: int, project_id: int, **changes: Any) -> Expense:
    fields: dict[str, Any] = {
        "employee_id": employee_id,
        "project_id": project_id,
        "day": date(2024, 3, 5),
        "description": "Train ticket",
        "quantity": Decimal(1),
        "unit": "pcs",
        "unit_price": dkk("450.00"),
    }
    return Expense(**(fields | changes))


@dataclass(frozen=True)
class World:
    """What :func:`build_world` stored: a Danish legal entity, a Danish and a Swedish customer,
    two employees (AB, CD) and a project per customer (P-1 in DKK, P-2 in SEK)."""

    entity_id: int
    customer_id: int
    se_customer_id: int
    anna_id: int
    carl_id: int
    project_id: int
    se_project_id: int


def build_world(database: Database) -> World:
    with UnitOfWork(database) as uow:
        entity = uow.legal_entities.add(legal_entity())
        assert entity.id is not None
        dk = customer(entity.id)
        se = swedish_customer(entity.id)
        uow.customers.save(dk)
        uow.customers.save(se)
        anna = employee(entity.id)
        carl = employee(entity.id, initials="CD", name="Carl Dahl", email="cd@nordisk.dk")
        uow.employees.save(anna)
        uow.employees.save(carl)
        assert dk.id is not None and se.id is not None
        p1 = project(entity.id, dk.id, manager_id=anna.id)
        p2 = project(
            entity.id, se.id, number="P-2", name="Lager", currency="SEK", hourly_rate=sek("1200.00")
        )
        uow.projects.save(p1)
        uow.projects.save(p2)
        uow.commit()
    assert anna.id and carl.id and p1.id and p2.id
    return World(
        entity_id=entity.id,
        customer_id=dk.id,
        se_customer_id=se.id,
        anna_id=anna.id,
        carl_id=carl.id,
        project_id=p1.id,
        se_project_id=p2.id,
    )


def shared_specs(name: str, *, shared: Path = SHARED) -> Path:
    """The folder or file ``../shared/specs/<name>`` (e.g. ``economic-rest-docs``,
    ``fortnox-openapi.json``), for a test module to call at import.

    When it is absent the module is skipped with the reason, except with ``CI=true``, where
    that is a failure (CI always has ``../shared``; a conformance test that skips there proves
    nothing), as a missing PostgreSQL is.
    """
    folder = shared / "specs" / name
    if folder.exists():
        return folder
    reason = f"{folder} is not there (the vendors' specs live in ../shared beside the repository)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason, allow_module_level=True)
