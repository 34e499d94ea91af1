"""The repositories and the unit of work, on SQLite and on PostgreSQL.

Every stored object must come back exactly as it went in (money to the minor unit, decimals
with their scale), upserts must say what they did, and posted documents must stay as posted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from tests.support import (
    FIRST_NUMBER,
    INVOICE_DATE,
    MARCH,
    POSTING_DATE,
    World,
    build_world,
    contact,
    customer,
    dkk,
    employee,
    expense,
    legal_entity,
    project,
    registration,
    sek,
)

from ledgerlink.domain.entity import require_id
from ledgerlink.domain.errors import ConflictError, ImmutableError, NotFoundError
from ledgerlink.domain.invoices import (
    DocumentType,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    text_line,
)
from ledgerlink.domain.money import Money
from ledgerlink.domain.parties import Address, PaymentTerms, PaymentTermsKind
from ledgerlink.domain.transfers import Connection
from ledgerlink.domain.vat import VatCategory, VatTreatment
from ledgerlink.domain.work import ExpenseType
from ledgerlink.store.database import Database
from ledgerlink.store.repositories import Change
from ledgerlink.store.tables import Base
from ledgerlink.store.uow import UnitOfWork

LARGE = "99999999.99"


@pytest.fixture
def world(database: Database) -> World:
    return build_world(database)


def snapshot(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order: to show that nothing changed."""
    with database.engine.connect() as connection:
        return {
            table.name: sorted((tuple(row) for row in connection.execute(table.select())), key=repr)
            for table in Base.metadata.sorted_tables
        }


def work_line(**changes: Any) -> InvoiceLine:
    fields: dict[str, Any] = {
        "kind": LineKind.WORK,
        "description": "Consulting",
        "quantity": Decimal("2.00"),
        "unit": "hours",
        "unit_price": dkk("1000.00"),
    }
    return InvoiceLine(**(fields | changes))


def new_invoice(world: World, **changes: Any) -> Invoice:
    fields: dict[str, Any] = {
        "legal_entity_id": world.entity_id,
        "customer_id": world.customer_id,
        "currency": "DKK",
        "invoice_date": INVOICE_DATE,
        "due_date": date(2024, 4, 16),
        "seller_country": "DK",
        "heading": "Website, March 2024",
        "project_id": world.project_id,
        "lines": (work_line(),),
    }
    return Invoice(**(fields | changes))


def post(uow: UnitOfWork, invoice: Invoice, posting_date: date = POSTING_DATE) -> None:
    """Post a stored draft the way the use-case does: next number, freeze, save."""
    number = uow.legal_entities.take_invoice_number(invoice.legal_entity_id)
    invoice.post(number=number, posting_date=posting_date)
    uow.invoices.save(invoice)


def store_registrations(database: Database, world: World, count: int) -> list[int]:
    ids = []
    with UnitOfWork(database) as uow:
        for index in range(count):
            item = registration(world.anna_id, world.project_id, ref=f"R{index + 1}")
            uow.registrations.save(world.entity_id, item)
            assert item.id is not None
            ids.append(item.id)
        uow.commit()
    return ids


# round trips --------------------------------------------------------------------------------
def test_legal_entity_round_trip(database: Database) -> None:
    entity = legal_entity(registration_number="13585628", next_invoice_number=2**40)
    with UnitOfWork(database) as uow:
        uow.legal_entities.add(entity)
        uow.commit()
    assert entity.id is not None
    with UnitOfWork(database) as uow:
        assert uow.legal_entities.get(entity.id) == entity
        assert uow.legal_entities.by_code(" nord ") == entity
        assert uow.legal_entities.by_code("OTHER") is None
        assert uow.legal_entities.list() == [entity]
        with pytest.raises(NotFoundError, match="legal entity #999999 does not exist"):
            uow.legal_entities.get(999999)


def test_customer_round_trip_keeps_address_identifiers_and_terms(
    database: Database, world: World
) -> None:
    stored = customer(
        world.entity_id,
        number="C900",
        name="Ærø Tømrer & Søn A/S",
        address=Address(
            lines=("Østergade 12", "2. sal", "c/o Ærø Holding"),
            postal_code="5970",
            city="Ærøskøbing",
            country="dk",
        ),
        vat_number="DK 13 58 56 28",
        registration_number="13585628",
        ean="5790000000005",
        payment_terms=PaymentTerms(PaymentTermsKind.END_OF_MONTH, 45),
        email="bogholderi@aeroe.dk",
        phone="+45 62 52 00 00",
        website="https://aeroe.dk",
        active=False,
    )
    with UnitOfWork(database) as uow:
        assert uow.customers.save(stored) is Change.CREATED
        uow.commit()
    assert stored.id is not None
    with UnitOfWork(database) as uow:
        loaded = uow.customers.get(stored.id)
        assert loaded == stored
        assert loaded.address.lines == ("Østergade 12", "2. sal", "c/o Ærø Holding")
        assert loaded.vat_number == "DK13585628"
        assert loaded.payment_terms == PaymentTerms(PaymentTermsKind.END_OF_MONTH, 45)
        assert uow.customers.by_number(world.entity_id, "C900") == stored
        assert uow.customers.by_number(world.entity_id, "C999") is None
        assert [c.number for c in uow.customers.list(world.entity_id)] == ["C100", "C200", "C900"]


def test_customer_with_fewer_address_lines_round_trips(database: Database, world: World) -> None:
    with UnitOfWork(database) as uow:
        loaded = uow.customers.get(world.customer_id)
    assert loaded.address == Address(
        lines=("Havnegade 1",), postal_code="1058", city="København K", country="DK"
    )
    assert loaded.payment_terms == PaymentTerms(PaymentTermsKind.NET, 14)


def test_contact_round_trip(database: Database, world: World) -> None:
    first = contact(world.customer_id)
    second = contact(world.customer_id, name="Anders Hansen", email="", phone="", title="")
    with UnitOfWork(database) as uow:
        uow.contacts.save(first)
        uow.contacts.save(second)
        uow.commit()
    with UnitOfWork(database) as uow:
        assert uow.contacts.for_customer(world.customer_id) == [second, first]
        assert uow.contacts.for_customer(world.se_customer_id) == []


def test_employee_round_trip(database: Database, world: World) -> None:
    stored = employee(world.entity_id, initials="øb", name="Øjvind Bæk", active=False)
    with UnitOfWork(database) as uow:
        uow.employees.save(stored)
        uow.commit()
    assert stored.id is not None
    with UnitOfWork(database) as uow:
        assert uow.employees.get(stored.id) == stored
        assert uow.employees.by_initials(world.entity_id, " øb ") == stored
        assert uow.employees.by_initials(world.entity_id, "ZZ") is None
        assert [e.initials for e in uow.employees.list(world.entity_id)] == ["AB", "CD", "ØB"]


@pytest.mark.parametrize("rate", [None, "0.01", "1234.56", LARGE])
def test_project_round_trip_keeps_the_rate_exactly(
    database: Database, world: World, rate: str | None
) -> None:
    stored = project(
        world.entity_id,
        world.customer_id,
        number="P-9",
        name="Intranet",
        manager_id=world.carl_id,
        department="DEV",
        hourly_rate=None if rate is None else dkk(rate),
        active=False,
    )
    with UnitOfWork(database) as uow:
        uow.projects.save(stored)
        uow.commit()
    assert stored.id is not None
    with UnitOfWork(database) as uow:
        loaded = uow.projects.get(stored.id)
        assert loaded == stored
        assert loaded.hourly_rate == (None if rate is None else Money(Decimal(rate), "DKK"))
        assert uow.projects.by_number(world.entity_id, " P-9 ") == stored
        assert [p.number for p in uow.projects.list(world.entity_id)] == ["P-1", "P-2", "P-9"]


@pytest.mark.parametrize("rate", [None, "0.01", LARGE])
def test_registration_round_trip(database: Database, world: World, rate: str | None) -> None:
    stored = registration(
        world.carl_id,
        world.project_id,
        ref="TS-77",
        day=date(2024, 2, 29),
        minutes=1440,
        task="Support",
        billable=False,
        hourly_rate=None if rate is None else dkk(rate),
        comment="Night shift;\nproduction incident",
    )
    with UnitOfWork(database) as uow:
        uow.registrations.save(world.entity_id, stored)
        uow.commit()
    assert stored.id is not None
    with UnitOfWork(database) as uow:
        loaded = uow.registrations.get(stored.id)
    assert loaded == stored
    assert loaded.invoiced is False


@pytest.mark.parametrize(
    ("quantity", "unit_price"), [("1", "0.01"), ("120.5", "3.79"), ("1.50", LARGE), ("0.001", "7")]
)
def test_expense_round_trip_keeps_quantity_scale_and_price(
    database: Database, world: World, quantity: str, unit_price: str
) -> None:
    stored = expense(
        world.anna_id,
        world.se_project_id,
        ref="EX-1",
        expense_type=ExpenseType.MILEAGE,
        description="Kørsel Aarhus–Stockholm",
        quantity=Decimal(quantity),
        unit="km",
        unit_price=sek(unit_price),
        vat_category=VatCategory.REDUCED,
        billable=False,
        receipt_file="receipts/2024/03/ex-1.pdf",
    )
    with UnitOfWork(database) as uow:
        uow.expenses.save(world.entity_id, stored)
        uow.commit()
    with UnitOfWork(database) as uow:
        [loaded] = uow.expenses.list(project_id=world.se_project_id)
    assert loaded == stored
    assert str(loaded.quantity) == quantity  # the scale survives, not just the value
    assert loaded.unit_price == Money(Decimal(unit_price), "SEK")


def test_work_lists_filter_by_project_period_entity_and_invoiceability(
    database: Database, world: World
) -> None:
    other = legal_entity(
        code="SVEA", name="Svea Konsult AB", country="SE", currency="SEK", vat_number=""
    )
    with UnitOfWork(database) as uow:
        uow.legal_entities.add(other)
        saved = {
            "in": registration(world.anna_id, world.project_id, day=date(2024, 3, 1)),
            "last": registration(world.anna_id, world.project_id, day=date(2024, 3, 31)),
            "before": registration(world.anna_id, world.project_id, day=date(2024, 2, 29)),
            "after": registration(world.anna_id, world.project_id, day=date(2024, 4, 1)),
            "free": registration(world.anna_id, world.project_id, billable=False),
            "se": registration(world.anna_id, world.se_project_id),
        }
        for item in saved.values():
            uow.registrations.save(world.entity_id, item)
        uow.expenses.save(world.entity_id, expense(world.anna_id, world.project_id))
        uow.expenses.save(
            world.entity_id, expense(world.anna_id, world.project_id, day=date(2024, 4, 1))
        )
        uow.expenses.save(world.entity_id, expense(world.anna_id, world.project_id, billable=False))
        uow.commit()
    assert other.id is not None
    with UnitOfWork(database) as uow:
        in_march = uow.registrations.list(project_id=world.project_id, period=MARCH)
        invoiceable = uow.registrations.list(
            project_id=world.project_id, period=MARCH, billable_uninvoiced=True
        )
        assert [r.id for r in in_march] == [
            saved["in"].id,
            saved["free"].id,
            saved["last"].id,
        ]
        assert [r.id for r in invoiceable] == [saved["in"].id, saved["last"].id]
        assert len(uow.registrations.list(legal_entity_id=world.entity_id)) == 6
        assert uow.registrations.list(legal_entity_id=other.id) == []
        assert [e.day for e in uow.expenses.list(period=MARCH)] == [date(2024, 3, 5)] * 2
        assert len(uow.expenses.list(period=MARCH, billable_uninvoiced=True)) == 1


# upserts ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Upsert:
    """How to make, change and save one kind of entity (by its natural key)."""

    make: Callable[[World], Any]
    change: Callable[[Any], None]
    save: Callable[[UnitOfWork, World, Any], Change]
    load: Callable[[UnitOfWork, World, int], Any]


def _set(name: str, value: object) -> Callable[[Any], None]:
    return lambda entity: setattr(entity, name, value)


UPSERTS = {
    "customer": Upsert(
        lambda w: customer(w.entity_id, number="C300"),
        _set("payment_terms", PaymentTerms(PaymentTermsKind.NET, 30)),
        lambda uow, w, e: uow.customers.save(e),
        lambda uow, w, i: uow.customers.get(i),
    ),
    "contact": Upsert(
        lambda w: contact(w.customer_id),
        _set("email", "mh@hansenbyg.dk"),
        lambda uow, w, e: uow.contacts.save(e),
        lambda uow, w, i: next(c for c in uow.contacts.for_customer(w.customer_id) if c.id == i),
    ),
    "employee": Upsert(
        lambda w: employee(w.entity_id, initials="EF", name="Eva Fisk"),
        _set("department", "SALES"),
        lambda uow, w, e: uow.employees.save(e),
        lambda uow, w, i: uow.employees.get(i),
    ),
    "project": Upsert(
        lambda w: project(w.entity_id, w.customer_id, number="P-3"),
        _set("hourly_rate", dkk("1000.01")),
        lambda uow, w, e: uow.projects.save(e),
        lambda uow, w, i: uow.projects.get(i),
    ),
    "registration": Upsert(
        lambda w: registration(w.anna_id, w.project_id, ref="R-1"),
        _set("minutes", 61),
        lambda uow, w, e: uow.registrations.save(w.entity_id, e),
        lambda uow, w, i: uow.registrations.get(i),
    ),
    "expense": Upsert(
        lambda w: expense(w.anna_id, w.project_id, ref="E-1"),
        _set("unit_price", dkk("450.01")),
        lambda uow, w, e: uow.expenses.save(w.entity_id, e),
        lambda uow, w, i: next(x for x in uow.expenses.list() if x.id == i),
    ),
}


@pytest.mark.parametrize("kind", list(UPSERTS))
def test_save_reports_created_unchanged_and_updated(
    database: Database, world: World, kind: str
) -> None:
    upsert = UPSERTS[kind]
    first = upsert.make(world)
    with UnitOfWork(database) as uow:
        assert upsert.save(uow, world, first) is Change.CREATED
        uow.commit()
    with UnitOfWork(database) as uow:
        again = upsert.make(world)
        assert upsert.save(uow, world, again) is Change.UNCHANGED
        assert again.id == first.id
        changed = upsert.make(world)
        upsert.change(changed)
        assert upsert.save(uow, world, changed) is Change.UPDATED
        assert changed.id == first.id
        uow.commit()
    with UnitOfWork(database) as uow:
        assert upsert.load(uow, world, first.id) == changed
        assert upsert.save(uow, world, upsert.make(world)) is Change.UPDATED


def test_registrations_without_a_ref_are_never_merged(database: Database, world: World) -> None:
    with UnitOfWork(database) as uow:
        first = registration(world.anna_id, world.project_id)
        second = registration(world.anna_id, world.project_id)
        assert uow.registrations.save(world.entity_id, first) is Change.CREATED
        assert uow.registrations.save(world.entity_id, second) is Change.CREATED
        uow.commit()
    assert first.id != second.id


# natural keys -------------------------------------------------------------------------------
def test_a_legal_entity_code_is_unique_whatever_its_case(database: Database) -> None:
    with UnitOfWork(database) as uow:
        uow.legal_entities.add(legal_entity())
        uow.commit()
    with UnitOfWork(database) as uow, pytest.raises(ConflictError, match="NORD already exists"):
        uow.legal_entities.add(legal_entity(code="nord", name="Another"))


def test_natural_keys_are_per_legal_entity(database: Database, world: World) -> None:
    with UnitOfWork(database) as uow:
        other = uow.legal_entities.add(legal_entity(code="NORD2", vat_number=""))
        assert other.id is not None
        twin = customer(other.id)  # same number C100 as the first entity's customer
        assert uow.customers.save(twin) is Change.CREATED
        twin_employee = employee(other.id)
        assert uow.employees.save(twin_employee) is Change.CREATED
        twin_project = project(other.id, twin.id or 0)
        assert uow.projects.save(twin_project) is Change.CREATED
        reg_a = registration(world.anna_id, world.project_id, ref="R1")
        reg_b = registration(twin_employee.id or 0, twin_project.id or 0, ref="R1")
        assert uow.registrations.save(world.entity_id, reg_a) is Change.CREATED
        assert uow.registrations.save(other.id, reg_b) is Change.CREATED
        uow.commit()
    assert twin.id != world.customer_id
    assert twin_project.id != world.project_id
    assert reg_a.id != reg_b.id
    with UnitOfWork(database) as uow:
        assert uow.customers.by_number(world.entity_id, "C100") == uow.customers.get(
            world.customer_id
        )


def test_the_database_refuses_a_second_invoice_with_the_same_number(
    database: Database, world: World
) -> None:
    with UnitOfWork(database) as uow:
        first = uow.invoices.add(new_invoice(world))
        second = uow.invoices.add(new_invoice(world))
        first.post(number=7, posting_date=POSTING_DATE)
        uow.invoices.save(first)
        second.post(number=7, posting_date=POSTING_DATE)
        with pytest.raises(IntegrityError):
            uow.invoices.save(second)


def test_an_invoiced_registration_cannot_change(database: Database, world: World) -> None:
    [registration_id] = store_registrations(database, world, 1)
    with UnitOfWork(database) as uow:
        uow.invoices.add(
            new_invoice(world, lines=(work_line(time_registration_ids=(registration_id,)),))
        )
        uow.commit()
    with UnitOfWork(database) as uow:
        same = registration(world.anna_id, world.project_id, ref="R1")
        assert uow.registrations.save(world.entity_id, same) is Change.UNCHANGED
        assert same.invoiced
        changed = registration(world.anna_id, world.project_id, ref="R1", minutes=90)
        with pytest.raises(ConflictError, match="R1 is already invoiced"):
            uow.registrations.save(world.entity_id, changed)


def test_an_invoiced_project_keeps_its_currency(database: Database, world: World) -> None:
    with UnitOfWork(database) as uow:
        uow.invoices.add(new_invoice(world))
        uow.commit()
    with UnitOfWork(database) as uow:
        renamed = project(world.entity_id, world.customer_id, name="Website 2")
        assert uow.projects.save(renamed) is Change.UPDATED
        in_euro = project(world.entity_id, world.customer_id, currency="EUR", hourly_rate=None)
        with pytest.raises(ConflictError, match="invoiced in DKK"):
            uow.projects.save(in_euro)


# invoice numbers ----------------------------------------------------------------------------
def test_take_invoice_number_hands_out_the_series_in_order(
    database: Database, world: World
) -> None:
    with UnitOfWork(database) as uow:
        taken = [uow.legal_entities.take_invoice_number(world.entity_id) for _ in range(3)]
        uow.commit()
    assert taken == [FIRST_NUMBER, FIRST_NUMBER + 1, FIRST_NUMBER + 2]
    with UnitOfWork(database) as uow:
        assert uow.legal_entities.get(world.entity_id).next_invoice_number == FIRST_NUMBER + 3


def test_take_invoice_number_never_reuses_a_number_across_units_of_work(
    database: Database, world: World
) -> None:
    with UnitOfWork(database) as uow:
        first = uow.legal_entities.take_invoice_number(world.entity_id)
        uow.commit()
    with UnitOfWork(database) as uow:
        second = uow.legal_entities.take_invoice_number(world.entity_id)
        uow.commit()
    with UnitOfWork(database) as uow:
        third = uow.legal_entities.take_invoice_number(world.entity_id)
        uow.commit()
    assert [first, second, third] == [FIRST_NUMBER, FIRST_NUMBER + 1, FIRST_NUMBER + 2]


def test_a_number_taken_in_a_rolled_back_unit_of_work_was_never_used(
    database: Database, world: World
) -> None:
    with UnitOfWork(database) as uow:
        assert uow.legal_entities.take_invoice_number(world.entity_id) == FIRST_NUMBER
    with UnitOfWork(database) as uow:
        assert uow.legal_entities.take_invoice_number(world.entity_id) == FIRST_NUMBER
        uow.commit()


def test_each_legal_entity_has_its_own_series(database: Database, world: World) -> None:
    with UnitOfWork(database) as uow:
        other = uow.legal_entities.add(legal_entity(code="NORD2", next_invoice_number=1))
        assert other.id is not None
        assert uow.legal_entities.take_invoice_number(other.id) == 1
        assert uow.legal_entities.take_invoice_number(world.entity_id) == FIRST_NUMBER
        assert uow.legal_entities.take_invoice_number(other.id) == 2
        with pytest.raises(NotFoundError, match="#999999"):
            uow.legal_entities.take_invoice_number(999999)


# invoices -----------------------------------------------------------------------------------
def test_invoice_round_trip_keeps_lines_and_amounts_exactly(
    database: Database, world: World
) -> None:
    [reg_a, reg_b] = store_registrations(database, world, 2)
    with UnitOfWork(database) as uow:
        uow.expenses.save(world.entity_id, expense(world.anna_id, world.project_id, ref="E1"))
        uow.commit()
    with UnitOfWork(database) as uow:
        [stored_expense] = uow.expenses.list()
    assert stored_expense.id is not None
    lines = (
        text_line("Work in March", "DKK"),
        work_line(
            quantity=Decimal("0.01"),
            unit_price=dkk(LARGE),
            discount_percent=Decimal("12.5"),
            employee_id=world.anna_id,
            project_id=world.project_id,
            product_number="TIME",
            time_registration_ids=(reg_a, reg_b),
        ),
        InvoiceLine(
            kind=LineKind.EXPENSE,
            description="Train ticket",
            quantity=Decimal("1.000"),
            unit="pcs",
            unit_price=dkk("450.01"),
            vat_category=VatCategory.ZERO,
            expense_ids=(stored_expense.id,),
        ),
    )
    invoice = new_invoice(
        world,
        lines=lines,
        message="Thank you",
        requisition_number="PO-1",
        customer_reference="Mette",
        internal_reference="AB",
    )
    with UnitOfWork(database) as uow:
        returned = uow.invoices.add(invoice)
        uow.commit()
    assert returned is invoice
    assert invoice.id is not None
    assert all(line.id is not None for line in invoice.lines)
    with UnitOfWork(database) as uow:
        loaded = uow.invoices.get(invoice.id)
    assert loaded == invoice
    assert str(loaded.lines[1].quantity) == "0.01"
    assert str(loaded.lines[2].quantity) == "1.000"
    assert loaded.lines[1].unit_price == Money(Decimal(LARGE), "DKK")
    assert loaded.totals is None and loaded.number is None


def test_a_posted_invoice_round_trips_with_its_frozen_totals(
    database: Database, world: World
) -> None:
    invoice = new_invoice(world, lines=(work_line(quantity=Decimal(1), unit_price=dkk(LARGE)),))
    with UnitOfWork(database) as uow:
        uow.invoices.add(invoice)
        post(uow, invoice)
        uow.commit()
    assert invoice.id is not None
    with UnitOfWork(database) as uow:
        loaded = uow.invoices.get(invoice.id)
    assert loaded == invoice
    assert loaded.status is InvoiceStatus.POSTED
    assert loaded.number == FIRST_NUMBER and loaded.posting_date == POSTING_DATE
    assert loaded.totals is not None
    assert loaded.totals.net == dkk(LARGE)
    assert loaded.totals.vat == dkk("25000000.00")  # 24,999,999.9975 rounded half up
    assert loaded.totals.gross == dkk("124999999.99")
    assert [(v.category, v.percent) for v in loaded.totals.vat_lines] == [
        (VatCategory.STANDARD, Decimal(25))
    ]


def test_adding_puts_the_registrations_on_the_lines(database: Database, world: World) -> None:
    [reg_a, reg_b, reg_c] = store_registrations(database, world, 3)
    invoice = new_invoice(
        world,
        lines=(
            work_line(time_registration_ids=(reg_a, reg_b)),
            work_line(time_registration_ids=(reg_c,)),
        ),
    )
    with UnitOfWork(database) as uow:
        uow.invoices.add(invoice)
        uow.commit()
    first, second = invoice.lines
    with UnitOfWork(database) as uow:
        assert uow.registrations.get(reg_a).invoice_line_id == first.id
        assert uow.registrations.get(reg_b).invoice_line_id == first.id
        assert uow.registrations.get(reg_c).invoice_line_id == second.id
        assert uow.registrations.list(billable_uninvoiced=True) == []


def test_a_registration_goes_on_one_invoice_only(database: Database, world: World) -> None:
    [reg_a, reg_b] = store_registrations(database, world, 2)
    with UnitOfWork(database) as uow:
        uow.invoices.add(new_invoice(world, lines=(work_line(time_registration_ids=(reg_a,)),)))
        uow.commit()
    before = snapshot(database)
    with UnitOfWork(database) as uow, pytest.raises(ConflictError, match="another invoice"):
        uow.invoices.add(
            new_invoice(world, lines=(work_line(time_registration_ids=(reg_b, reg_a)),))
        )
    assert snapshot(database) == before


def test_adding_a_posted_invoice_is_refused(database: Database, world: World) -> None:
    invoice = new_invoice(world)
    invoice.post(number=1, posting_date=POSTING_DATE)
    with UnitOfWork(database) as uow, pytest.raises(ImmutableError, match="only drafts"):
        uow.invoices.add(invoice)


def test_saving_a_draft_replaces_its_lines_and_moves_the_registrations(
    database: Database, world: World
) -> None:
    [reg_a, reg_b] = store_registrations(database, world, 2)
    invoice = new_invoice(world, lines=(work_line(time_registration_ids=(reg_a,)),))
    with UnitOfWork(database) as uow:
        uow.invoices.add(invoice)
        uow.commit()
    invoice.remove_line(1)
    invoice.add_lines([work_line(quantity=Decimal("3.5"), time_registration_ids=(reg_b,))])
    invoice.update_header(heading="Changed heading")
    with UnitOfWork(database) as uow:
        uow.invoices.save(invoice)
        uow.commit()
    assert invoice.id is not None
    with UnitOfWork(database) as uow:
        loaded = uow.invoices.get(invoice.id)
        assert loaded == invoice
        assert loaded.heading == "Changed heading" and loaded.revision == 4
        assert [line.quantity for line in loaded.lines] == [Decimal("3.5")]
        assert uow.registrations.get(reg_a).invoiced is False
        assert uow.registrations.get(reg_b).invoice_line_id == loaded.lines[0].id


def test_by_number_finds_posted_documents(database: Database, world: World) -> None:
    invoice = new_invoice(world)
    with UnitOfWork(database) as uow:
        uow.invoices.add(invoice)
        post(uow, invoice)
        uow.commit()
    with UnitOfWork(database) as uow:
        assert uow.invoices.by_number(world.entity_id, FIRST_NUMBER) == invoice
        assert uow.invoices.by_number(world.entity_id, FIRST_NUMBER + 1) is None
        with pytest.raises(NotFoundError, match="invoice #999999 does not exist"):
            uow.invoices.get(999999)


def test_a_posted_invoice_saved_with_changed_lines_is_refused(
    database: Database, world: World
) -> None:
    invoice = new_invoice(world)
    with UnitOfWork(database) as uow:
        uow.invoices.add(invoice)
        post(uow, invoice)
        uow.commit()
    changed = replace(invoice, lines=(work_line(quantity=Decimal("5.00")),))
    assert changed.status is InvoiceStatus.POSTED
    with UnitOfWork(database) as uow:
        with pytest.raises(ImmutableError):
            uow.invoices.save(changed)
        uow.commit()
    assert invoice.id is not None
    with UnitOfWork(database) as uow:
        assert uow.invoices.get(invoice.id) == invoice


def test_a_stale_draft_cannot_turn_a_posted_invoice_back_into_a_draft(
    database: Database, world: World
) -> None:
    draft = new_invoice(world)
    with UnitOfWork(database) as uow:
        uow.invoices.add(draft)
        uow.commit()
    assert draft.id is not None
    with UnitOfWork(database) as uow:
        stale = uow.invoices.get(draft.id)
        posted = uow.invoices.get(draft.id)
        post(uow, posted)
        uow.commit()
    with UnitOfWork(database) as uow:
        with pytest.raises(ImmutableError):
            uow.invoices.save(stale)
        uow.commit()
    with UnitOfWork(database) as uow:
        assert uow.invoices.get(draft.id) == posted


def test_posting_a_draft_whose_lines_changed_since_saving_is_refused(
    database: Database, world: World
) -> None:
    invoice = new_invoice(world)
    with UnitOfWork(database) as uow:
        uow.invoices.add(invoice)
        uow.commit()
    invoice.add_lines([work_line(description="Unsaved")])
    invoice.post(number=FIRST_NUMBER, posting_date=POSTING_DATE)
    with UnitOfWork(database) as uow, pytest.raises(ConflictError, match="lines changed"):
        uow.invoices.save(invoice)


@dataclass(frozen=True)
class Documents:
    april: Invoice  # DK customer, posted in April, partially credited
    may: Invoice  # SE customer, posted in May
    draft: Invoice  # DK customer, draft
    credit_note: Invoice  # credits one hour of ``april``, posted in May


def store_documents(database: Database, world: World) -> Documents:
    april = new_invoice(world)
    may = new_invoice(
        world,
        customer_id=world.se_customer_id,
        currency="SEK",
        vat_treatment=VatTreatment.EU_REVERSE_CHARGE,
        heading="Lager, April 2024",
        project_id=world.se_project_id,
        lines=(work_line(unit_price=sek("1200.00")),),
    )
    draft = new_invoice(world, heading="Extra work")
    with UnitOfWork(database) as uow:
        for invoice in (april, may, draft):
            uow.invoices.add(invoice)
        post(uow, april, date(2024, 4, 3))
        post(uow, may, date(2024, 5, 10))
        assert april.id is not None
        credit_note = new_invoice(
            world,
            document_type=DocumentType.CREDIT_NOTE,
            credits_invoice_id=april.id,
            heading="Credit note",
            lines=(work_line(quantity=Decimal("-1.00"), credits_position=1),),
        )
        uow.invoices.add(credit_note)
        post(uow, credit_note, date(2024, 5, 15))
        april.record_credits({1: Decimal("1.00")})
        uow.invoices.save(april)
        uow.commit()
    return Documents(april, may, draft, credit_note)


def test_list_orders_numbered_documents_first(database: Database, world: World) -> None:
    docs = store_documents(database, world)
    with UnitOfWork(database) as uow:
        listed = uow.invoices.list(world.entity_id)
        other = uow.legal_entities.add(legal_entity(code="NORD2"))
        assert other.id is not None
        assert uow.invoices.list(other.id) == []
    assert [i.id for i in listed] == [
        docs.april.id,
        docs.may.id,
        docs.credit_note.id,
        docs.draft.id,
    ]
    assert [i.number for i in listed] == [FIRST_NUMBER, FIRST_NUMBER + 1, FIRST_NUMBER + 2, None]
    assert listed[0].status is InvoiceStatus.PARTIALLY_CREDITED


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"statuses": [InvoiceStatus.DRAFT]}, ["draft"]),
        ({"statuses": [InvoiceStatus.POSTED]}, ["may", "credit_note"]),
        (
            {"statuses": [InvoiceStatus.PARTIALLY_CREDITED, InvoiceStatus.CREDITED]},
            ["april"],
        ),
        ({"document_type": DocumentType.CREDIT_NOTE}, ["credit_note"]),
        ({"document_type": DocumentType.INVOICE}, ["april", "may", "draft"]),
        ({"customer_id": "se"}, ["may"]),
        ({"customer_id": "dk"}, ["april", "credit_note", "draft"]),
        ({"period": (date(2024, 4, 1), date(2024, 4, 30))}, ["april"]),
        ({"period": (date(2024, 5, 10), date(2024, 5, 15))}, ["may", "credit_note"]),
        ({"period": (date(2024, 5, 11), date(2024, 5, 14))}, []),
        ({"text": "hansen"}, ["april", "credit_note", "draft"]),
        ({"text": "SVENSSON"}, ["may"]),
        ({"text": "lager"}, ["may"]),
        ({"text": "extra"}, ["draft"]),
        ({"text": f" {FIRST_NUMBER + 1} "}, ["may"]),
        ({"text": "nothing like this"}, []),
        (
            {"statuses": [InvoiceStatus.POSTED], "document_type": DocumentType.INVOICE},
            ["may"],
        ),
    ],
)
def test_list_filters(
    database: Database, world: World, filters: dict[str, Any], expected: list[str]
) -> None:
    docs = store_documents(database, world)
    names = {getattr(docs, name).id: name for name in ("april", "may", "draft", "credit_note")}
    if "customer_id" in filters:
        filters = filters | {
            "customer_id": {"dk": world.customer_id, "se": world.se_customer_id}[
                filters["customer_id"]
            ]
        }
    with UnitOfWork(database) as uow:
        listed = uow.invoices.list(world.entity_id, **filters)
    assert [names[i.id] for i in listed] == expected


def test_credited_quantities_per_line(database: Database, world: World) -> None:
    docs = store_documents(database, world)
    assert docs.april.id is not None
    with UnitOfWork(database) as uow:
        second = new_invoice(
            world,
            document_type=DocumentType.CREDIT_NOTE,
            credits_invoice_id=docs.april.id,
            lines=(work_line(quantity=Decimal("-0.25"), credits_position=1),),
        )
        uow.invoices.add(second)  # a draft credit note
        uow.commit()
    with UnitOfWork(database) as uow:
        credited = uow.invoices.credited_quantities
        assert credited(docs.april.id, include_drafts=False) == {1: Decimal("1.00")}
        assert credited(docs.april.id, include_drafts=True) == {1: Decimal("1.25")}
        assert credited(docs.april.id, include_drafts=True, excluding=second.id) == {
            1: Decimal("1.00")
        }
        assert credited(docs.may.id or 0, include_drafts=True) == {}


def test_delete_draft_releases_its_registrations_and_expenses(
    database: Database, world: World
) -> None:
    [reg_a] = store_registrations(database, world, 1)
    with UnitOfWork(database) as uow:
        item = expense(world.anna_id, world.project_id, ref="E1")
        uow.expenses.save(world.entity_id, item)
        uow.commit()
    assert item.id is not None
    invoice = new_invoice(
        world,
        lines=(
            work_line(time_registration_ids=(reg_a,)),
            work_line(kind=LineKind.EXPENSE, expense_ids=(item.id,)),
        ),
    )
    with UnitOfWork(database) as uow:
        uow.invoices.add(invoice)
        uow.commit()
    assert invoice.id is not None
    with UnitOfWork(database) as uow:
        uow.invoices.delete_draft(invoice.id)
        uow.commit()
    with UnitOfWork(database) as uow:
        with pytest.raises(NotFoundError):
            uow.invoices.get(invoice.id)
        assert uow.registrations.get(reg_a).invoiced is False
        assert [e.id for e in uow.expenses.list(billable_uninvoiced=True)] == [item.id]
        # free again: a new draft can take them
        uow.invoices.add(new_invoice(world, lines=(work_line(time_registration_ids=(reg_a,)),)))


def test_a_posted_invoice_cannot_be_deleted(database: Database, world: World) -> None:
    [reg_a] = store_registrations(database, world, 1)
    invoice = new_invoice(world, lines=(work_line(time_registration_ids=(reg_a,)),))
    with UnitOfWork(database) as uow:
        uow.invoices.add(invoice)
        post(uow, invoice)
        uow.commit()
    assert invoice.id is not None
    before = snapshot(database)
    with UnitOfWork(database) as uow, pytest.raises(ImmutableError, match="credit it instead"):
        uow.invoices.delete_draft(invoice.id)
    assert snapshot(database) == before


def test_release_sources_frees_the_work_but_keeps_the_history(
    database: Database, world: World
) -> None:
    [reg_a, reg_b] = store_registrations(database, world, 2)
    invoice = new_invoice(world, lines=(work_line(time_registration_ids=(reg_a, reg_b)),))
    with UnitOfWork(database) as uow:
        uow.invoices.add(invoice)
        post(uow, invoice)
        uow.commit()
    assert invoice.id is not None
    with UnitOfWork(database) as uow:
        assert uow.invoices.release_sources(invoice.id) == 2
        uow.commit()
    with UnitOfWork(database) as uow:
        assert uow.registrations.get(reg_a).invoiced is False
        assert uow.registrations.get(reg_b).invoiced is False
        assert uow.invoices.get(invoice.id).lines[0].time_registration_ids == (reg_a, reg_b)


# unit of work -------------------------------------------------------------------------------
def test_nothing_is_kept_without_commit(database: Database, world: World) -> None:
    before = snapshot(database)
    with UnitOfWork(database) as uow:
        uow.customers.save(customer(world.entity_id, number="C300"))
        uow.registrations.save(world.entity_id, registration(world.anna_id, world.project_id))
        assert uow.customers.by_number(world.entity_id, "C300") is not None
    assert snapshot(database) == before


def test_an_exception_rolls_the_unit_of_work_back(database: Database, world: World) -> None:
    def save_then_fail() -> None:
        with UnitOfWork(database) as uow:
            uow.customers.save(customer(world.entity_id, number="C300"))
            raise RuntimeError("boom")

    before = snapshot(database)
    with pytest.raises(RuntimeError, match="boom"):
        save_then_fail()
    assert snapshot(database) == before


def test_rollback_undoes_what_was_not_committed(database: Database, world: World) -> None:
    with UnitOfWork(database) as uow:
        uow.customers.save(customer(world.entity_id, number="C300"))
        uow.commit()
        uow.customers.save(customer(world.entity_id, number="C301"))
        uow.rollback()
        uow.customers.save(customer(world.entity_id, number="C302"))
        uow.commit()
    with UnitOfWork(database) as uow:
        numbers = [c.number for c in uow.customers.list(world.entity_id)]
    assert numbers == ["C100", "C200", "C300", "C302"]


def test_a_failed_savepoint_keeps_the_outer_work(database: Database, world: World) -> None:
    def fail_inside(uow: UnitOfWork) -> None:
        with uow.savepoint():
            uow.customers.save(customer(world.entity_id, number="C301"))
            uow.legal_entities.take_invoice_number(world.entity_id)
            raise RuntimeError("inner")

    with UnitOfWork(database) as uow:
        uow.customers.save(customer(world.entity_id, number="C300"))
        with pytest.raises(RuntimeError, match="inner"):
            fail_inside(uow)
        with uow.savepoint():
            uow.customers.save(customer(world.entity_id, number="C302"))
        uow.commit()
    with UnitOfWork(database) as uow:
        numbers = [c.number for c in uow.customers.list(world.entity_id)]
        next_number = uow.legal_entities.get(world.entity_id).next_invoice_number
    assert numbers == ["C100", "C200", "C300", "C302"]
    assert next_number == FIRST_NUMBER


def test_a_committed_unit_of_work_is_visible_to_plain_sql(database: Database, world: World) -> None:
    with UnitOfWork(database) as uow:
        uow.customers.save(customer(world.entity_id, number="C300"))
        uow.commit()
    with database.engine.connect() as connection:
        count = connection.execute(
            text("SELECT count(*) FROM customers WHERE number = 'C300'")
        ).scalar_one()
    assert count == 1


# balancing ----------------------------------------------------------------------------------


def test_update_status_records_the_posting_date_and_a_new_date_is_a_change(
    database: Database, world: World
) -> None:
    invoice = new_invoice(world)
    with UnitOfWork(database) as uow:
        uow.invoices.add(invoice)
        post(uow, invoice)
        connection = uow.connections.save(
            Connection(legal_entity_id=world.entity_id, erp="fake", credentials="")
        )
        uow.erp_documents.record(
            require_id(connection),
            require_id(invoice),
            correlation="LL-1000",
            external_id="7",
            gross=dkk("2500.00"),
        )
        uow.commit()

    def balance(booked_on: date | None) -> bool | None:
        with UnitOfWork(database) as uow:
            changed = uow.erp_documents.update_status(
                require_id(connection),
                "LL-1000",
                status="booked",
                booked_number="20017",
                remainder=dkk("2500.00"),
                paid=False,
                booked_on=booked_on,
            )
            uow.commit()
        return changed

    # Booked as read before the posting date was: the date arriving later is news.
    assert balance(None) is True
    assert balance(date(2024, 4, 5)) is True
    assert balance(date(2024, 4, 5)) is False
    with UnitOfWork(database) as uow:
        state = uow.erp_documents.for_connection(require_id(connection))[require_id(invoice)]
    assert (state.status, state.booked_on) == ("booked", date(2024, 4, 5))
