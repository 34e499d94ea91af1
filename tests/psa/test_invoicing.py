"""Invoicing use-cases — draft, post, credit, delete — on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from tests.support import (
    FIRST_NUMBER,
    INVOICE_DATE,
    MARCH,
    POSTING_DATE,
    World,
    build_world,
    dkk,
    expense,
    project,
    registration,
    sek,
)

from ledgerlink.domain.billing import Grouping, RateSource
from ledgerlink.domain.errors import ImmutableError, NotFoundError, ValidationError
from ledgerlink.domain.invoices import DocumentType, Invoice, InvoiceStatus, LineKind
from ledgerlink.domain.vat import VatCategory, VatTreatment
from ledgerlink.domain.work import Expense, ExpenseType, TimeRegistration
from ledgerlink.psa.invoicing import (
    DraftRequest,
    credit_invoice,
    delete_draft,
    draft_invoice,
    post_invoice,
)
from ledgerlink.store.database import Database
from ledgerlink.store.tables import Base
from ledgerlink.store.uow import UnitOfWork

CREDIT_DATE = date(2024, 4, 20)


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


def request(world: World, **changes: Any) -> DraftRequest:
    fields: dict[str, Any] = {
        "legal_entity_id": world.entity_id,
        "project_number": "P-1",
        "period": MARCH,
        "invoice_date": INVOICE_DATE,
    }
    return DraftRequest(**(fields | changes))


def store(database: Database, world: World, *items: TimeRegistration | Expense) -> list[int]:
    """Save registrations and expenses; return their ids in order."""
    with UnitOfWork(database) as uow:
        for item in items:
            if isinstance(item, TimeRegistration):
                uow.registrations.save(world.entity_id, item)
            else:
                uow.expenses.save(world.entity_id, item)
        uow.commit()
    ids = [item.id for item in items]
    assert all(i is not None for i in ids)
    return [i for i in ids if i is not None]


def draft(database: Database, world: World, **changes: Any) -> Invoice:
    return draft_invoice(UnitOfWork(database), request(world, **changes))


def post(database: Database, invoice_id: int | None, **options: Any) -> Invoice:
    """Post an invoice on POSTING_DATE, a credit note on its own date (never before it)."""
    assert invoice_id is not None
    try:
        day = max(POSTING_DATE, load(database, invoice_id).invoice_date)
    except NotFoundError:
        day = POSTING_DATE
    return post_invoice(UnitOfWork(database), invoice_id, posting_date=day, **options)


def credit(database: Database, invoice_id: int | None, **options: Any) -> Invoice:
    assert invoice_id is not None
    return credit_invoice(UnitOfWork(database), invoice_id, invoice_date=CREDIT_DATE, **options)


def load(database: Database, invoice_id: int | None) -> Invoice:
    assert invoice_id is not None
    with UnitOfWork(database) as uow:
        return uow.invoices.get(invoice_id)


def invoiced(database: Database, registration_ids: list[int]) -> list[bool]:
    with UnitOfWork(database) as uow:
        return [uow.registrations.get(i).invoiced for i in registration_ids]


def next_number(database: Database, world: World) -> int:
    with UnitOfWork(database) as uow:
        return uow.legal_entities.get(world.entity_id).next_invoice_number


def summary(invoice: Invoice) -> list[tuple[str, Decimal, Decimal, int | None, tuple[int, ...]]]:
    return [
        (
            line.description,
            line.quantity,
            line.unit_price.amount,
            line.employee_id,
            line.time_registration_ids,
        )
        for line in invoice.lines
    ]


# drafting -----------------------------------------------------------------------------------
def mixed_work(database: Database, world: World) -> list[int]:
    a, c = world.anna_id, world.carl_id
    p = world.project_id
    return store(
        database,
        world,
        registration(a, p, day=date(2024, 3, 4), minutes=90, task="Design"),
        registration(a, p, day=date(2024, 3, 5), minutes=30, task="Build"),
        registration(c, p, day=date(2024, 3, 6), minutes=120, task="Build"),
        registration(c, p, day=date(2024, 3, 7), minutes=20, task=""),
    )


def test_draft_groups_by_employee(database: Database, world: World) -> None:
    r1, r2, r3, r4 = mixed_work(database, world)
    invoice = draft(database, world, grouping=Grouping.EMPLOYEE)
    assert summary(invoice) == [
        ("Website: Anna Berg (AB), March 2024", Decimal("2.00"), Decimal(1000), world.anna_id,
         (r1, r2)),
        ("Website: Carl Dahl (CD), March 2024", Decimal("2.33"), Decimal(1000), world.carl_id,
         (r3, r4)),
    ]  # fmt: skip
    assert [line.net_amount for line in invoice.lines] == [dkk("2000.00"), dkk("2330.00")]
    assert all(line.kind is LineKind.WORK and line.unit == "hours" for line in invoice.lines)
    assert all(line.project_id == world.project_id for line in invoice.lines)


def test_draft_groups_by_task(database: Database, world: World) -> None:
    r1, r2, r3, r4 = mixed_work(database, world)
    invoice = draft(database, world, grouping=Grouping.TASK)
    assert summary(invoice) == [
        ("Website: Build, March 2024", Decimal("2.50"), Decimal(1000), None, (r2, r3)),
        ("Website: Design, March 2024", Decimal("1.50"), Decimal(1000), None, (r1,)),
        ("Website: General, March 2024", Decimal("0.33"), Decimal(1000), None, (r4,)),
    ]


def test_draft_on_one_line(database: Database, world: World) -> None:
    ids = mixed_work(database, world)
    invoice = draft(database, world, grouping=Grouping.ONE_LINE)
    # 260 minutes summed first: 4.33 h (not 1.50 + 0.50 + 2.00 + 0.33 = 4.33 by luck)
    assert summary(invoice) == [
        ("Website: Consulting, March 2024", Decimal("4.33"), Decimal(1000), None, tuple(ids))
    ]


def test_minutes_are_summed_before_rounding_to_hours(database: Database, world: World) -> None:
    ids = store(
        database,
        world,
        *(registration(world.anna_id, world.project_id, minutes=20) for _ in range(3)),
    )
    invoice = draft(database, world)
    assert [(line.quantity, line.time_registration_ids) for line in invoice.lines] == [
        (Decimal("1.00"), tuple(ids))  # 3 × 0.33 would give 0.99
    ]


@pytest.mark.parametrize(
    ("minutes", "hours"),
    [(1, "0.02"), (10, "0.17"), (20, "0.33"), (50, "0.83"), (130, "2.17"), (1440, "24.00")],
)
def test_hours_are_rounded_half_up_to_two_decimals(
    database: Database, world: World, minutes: int, hours: str
) -> None:
    store(database, world, registration(world.anna_id, world.project_id, minutes=minutes))
    [line] = draft(database, world).lines
    assert line.quantity == Decimal(hours)
    assert str(line.quantity) == hours


def test_the_line_amount_is_rounded_half_up(database: Database, world: World) -> None:
    store(
        database,
        world,
        registration(world.anna_id, world.project_id, minutes=30, hourly_rate=dkk("1000.01")),
    )
    invoice = draft(database, world)
    [line] = invoice.lines
    assert line.net_amount == dkk("500.01")  # 0.50 × 1,000.01 = 500.005
    assert invoice.compute_totals().gross == dkk("625.01")  # VAT 125.0025 → 125.00


def test_rate_from_the_registration_falls_back_to_the_project(
    database: Database, world: World
) -> None:
    own, plain = store(
        database,
        world,
        registration(world.anna_id, world.project_id, minutes=60, hourly_rate=dkk("1200.00")),
        registration(world.anna_id, world.project_id, minutes=30),
    )
    invoice = draft(database, world, rate_source=RateSource.REGISTRATION)
    # one employee, two rates: two lines (a line has one price)
    assert [
        (line.quantity, line.unit_price, line.time_registration_ids) for line in invoice.lines
    ] == [
        (Decimal("0.50"), dkk("1000.00"), (plain,)),
        (Decimal("1.00"), dkk("1200.00"), (own,)),
    ]


def test_rate_from_the_project_ignores_the_registration_rate(
    database: Database, world: World
) -> None:
    ids = store(
        database,
        world,
        registration(world.anna_id, world.project_id, minutes=60, hourly_rate=dkk("1200.00")),
        registration(world.anna_id, world.project_id, minutes=30),
    )
    invoice = draft(database, world, rate_source=RateSource.PROJECT)
    assert [
        (line.quantity, line.unit_price, line.time_registration_ids) for line in invoice.lines
    ] == [(Decimal("1.50"), dkk("1000.00"), tuple(ids))]


def test_only_billable_work_of_the_project_in_the_period_is_drafted(
    database: Database, world: World
) -> None:
    a, p = world.anna_id, world.project_id
    first, last, *_ = store(
        database,
        world,
        registration(a, p, day=date(2024, 3, 1), minutes=60),
        registration(a, p, day=date(2024, 3, 31), minutes=30),
        registration(a, p, day=date(2024, 2, 29), minutes=15),
        registration(a, p, day=date(2024, 4, 1), minutes=15),
        registration(a, p, day=date(2024, 3, 15), minutes=15, billable=False),
        registration(a, world.se_project_id, day=date(2024, 3, 15), minutes=15),
        expense(a, p, day=date(2024, 4, 1)),
        expense(a, p, billable=False),
    )
    invoice = draft(database, world)
    assert [(line.quantity, line.time_registration_ids) for line in invoice.lines] == [
        (Decimal("1.50"), (first, last))
    ]


def test_expenses_become_one_line_each(database: Database, world: World) -> None:
    [work, hotel, km] = store(
        database,
        world,
        registration(world.anna_id, world.project_id),
        expense(world.anna_id, world.project_id, day=date(2024, 3, 9), description="Hotel",
                unit_price=dkk("1200.00"), vat_category=VatCategory.ZERO),
        expense(world.carl_id, world.project_id, day=date(2024, 3, 8),
                expense_type=ExpenseType.MILEAGE, description="Kørsel", quantity=Decimal("120.5"),
                unit="km", unit_price=dkk("3.79")),
    )  # fmt: skip
    invoice = draft(database, world)
    lines = [(x.kind, x.description, x.quantity, x.unit, x.unit_price) for x in invoice.lines]
    assert lines == [
        (LineKind.WORK, "Website: Anna Berg (AB), March 2024", Decimal("1.00"), "hours",
         dkk("1000.00")),
        (LineKind.MILEAGE, "Kørsel (2024-03-08)", Decimal("120.5"), "km", dkk("3.79")),
        (LineKind.EXPENSE, "Hotel (2024-03-09)", Decimal(1), "pcs", dkk("1200.00")),
    ]  # fmt: skip
    assert [line.expense_ids for line in invoice.lines] == [(), (km,), (hotel,)]
    assert [line.vat_category for line in invoice.lines][2] is VatCategory.ZERO
    assert invoice.lines[1].net_amount == dkk("456.70")  # 120.5 × 3.79 = 456.695
    with UnitOfWork(database) as uow:
        assert uow.expenses.list(billable_uninvoiced=True) == []
        assert uow.registrations.get(work).invoiced


def test_expenses_can_be_left_out(database: Database, world: World) -> None:
    store(database, world, registration(world.anna_id, world.project_id))
    [km] = store(database, world, expense(world.anna_id, world.project_id))
    invoice = draft(database, world, include_expenses=False)
    assert [line.kind for line in invoice.lines] == [LineKind.WORK]
    with UnitOfWork(database) as uow:
        assert [e.id for e in uow.expenses.list(billable_uninvoiced=True)] == [km]


def test_the_draft_header(database: Database, world: World) -> None:
    store(database, world, registration(world.anna_id, world.project_id))
    invoice = draft(
        database,
        world,
        message="Thanks",
        requisition_number="PO-7",
        customer_reference="Mette",
    )
    stored = load(database, invoice.id)
    assert stored == invoice
    assert stored.status is InvoiceStatus.DRAFT and stored.number is None
    assert stored.document_type is DocumentType.INVOICE
    assert (stored.customer_id, stored.project_id) == (world.customer_id, world.project_id)
    assert stored.currency == "DKK"
    assert stored.due_date == date(2024, 4, 16)  # net 14
    assert stored.vat_treatment is VatTreatment.DOMESTIC
    assert stored.heading == "Website, March 2024"
    assert stored.internal_reference == "AB"  # the project manager
    assert (stored.message, stored.requisition_number, stored.customer_reference) == (
        "Thanks",
        "PO-7",
        "Mette",
    )
    assert stored.totals is None


def test_a_swedish_customer_gets_reverse_charge_in_sek(database: Database, world: World) -> None:
    store(database, world, registration(world.anna_id, world.se_project_id, minutes=90))
    invoice = draft(
        database, world, project_number="P-2", period=(date(2024, 3, 1), date(2024, 4, 15))
    )
    assert invoice.currency == "SEK"
    assert invoice.vat_treatment is VatTreatment.EU_REVERSE_CHARGE
    assert invoice.due_date == date(2024, 5, 30)  # end of April + 30 days
    assert invoice.heading == "Lager, 2024-03-01 – 2024-04-15"
    assert invoice.internal_reference == ""
    assert [line.net_amount for line in invoice.lines] == [sek("1800.00")]
    totals = invoice.compute_totals()
    assert (totals.vat, totals.gross) == (sek("0.00"), sek("1800.00"))


def test_drafted_work_is_not_drafted_again(database: Database, world: World) -> None:
    [first] = store(database, world, registration(world.anna_id, world.project_id))
    draft(database, world)
    with pytest.raises(ValidationError, match="no uninvoiced billable registrations"):
        draft(database, world)
    [later] = store(database, world, registration(world.carl_id, world.project_id))
    second = draft(database, world)
    assert [line.time_registration_ids for line in second.lines] == [(later,)]
    assert invoiced(database, [first, later]) == [True, True]


def test_posted_work_is_not_drafted_again(database: Database, world: World) -> None:
    store(database, world, registration(world.anna_id, world.project_id))
    post(database, draft(database, world).id)
    with pytest.raises(ValidationError, match="no uninvoiced billable registrations"):
        draft(database, world)


def test_deleting_a_draft_frees_its_work(database: Database, world: World) -> None:
    ids = store(
        database,
        world,
        registration(world.anna_id, world.project_id),
        expense(world.anna_id, world.project_id),
    )
    first = draft(database, world)
    assert first.id is not None
    delete_draft(UnitOfWork(database), first.id)
    with UnitOfWork(database) as uow, pytest.raises(NotFoundError):
        uow.invoices.get(first.id)
    assert invoiced(database, ids[:1]) == [False]
    again = draft(database, world)
    assert [(line.time_registration_ids, line.expense_ids) for line in again.lines] == [
        ((ids[0],), ()),
        ((), (ids[1],)),
    ]


def test_a_failed_draft_changes_nothing(database: Database, world: World) -> None:
    with UnitOfWork(database) as uow:
        uow.projects.save(project(world.entity_id, world.customer_id, number="P-3",
                                  hourly_rate=None))  # fmt: skip
        uow.commit()
        p3 = uow.projects.by_number(world.entity_id, "P-3")
    assert p3 is not None and p3.id is not None
    store(
        database,
        world,
        registration(world.anna_id, p3.id, minutes=60, hourly_rate=dkk("900.00")),
        registration(world.anna_id, p3.id, minutes=60),  # no rate anywhere
        expense(world.anna_id, p3.id),
    )
    before = snapshot(database)
    with pytest.raises(ValidationError, match="has no hourly rate"):
        draft(database, world, project_number="P-3")
    assert snapshot(database) == before


def test_an_expense_in_another_currency_stops_the_draft(database: Database, world: World) -> None:
    store(
        database,
        world,
        registration(world.anna_id, world.project_id),
        expense(world.anna_id, world.project_id, unit_price=sek("100.00")),
    )
    before = snapshot(database)
    with pytest.raises(ValidationError, match="is in SEK"):
        draft(database, world)
    assert snapshot(database) == before


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"project_number": "P-404"}, NotFoundError, "project P-404 does not exist"),
        ({"legal_entity_id": 999999}, NotFoundError, "legal entity #999999"),
        (
            {"period": (date(2024, 3, 31), date(2024, 3, 1))},
            ValidationError,
            "the period ends before it starts",
        ),
        (
            {"period": (date(2024, 1, 1), date(2024, 1, 31))},
            ValidationError,
            "no uninvoiced billable registrations or expenses",
        ),
    ],
)
def test_bad_draft_requests(
    database: Database,
    world: World,
    changes: dict[str, Any],
    error: type[Exception],
    message: str,
) -> None:
    store(database, world, registration(world.anna_id, world.project_id))
    before = snapshot(database)
    with pytest.raises(error, match=message):
        draft(database, world, **changes)
    assert snapshot(database) == before


# posting ------------------------------------------------------------------------------------
def test_posting_numbers_and_freezes_the_invoice(database: Database, world: World) -> None:
    store(database, world, registration(world.anna_id, world.project_id, minutes=90))
    drafted = draft(database, world)
    posted = post(database, drafted.id)
    assert posted.number == FIRST_NUMBER
    assert posted.posting_date == POSTING_DATE
    assert posted.status is InvoiceStatus.POSTED
    assert posted.totals == drafted.compute_totals()
    assert posted.totals is not None
    assert (posted.totals.net, posted.totals.vat, posted.totals.gross) == (
        dkk("1500.00"),
        dkk("375.00"),
        dkk("1875.00"),
    )
    assert load(database, drafted.id) == posted
    assert next_number(database, world) == FIRST_NUMBER + 1


def test_numbers_follow_the_series_across_invoices(database: Database, world: World) -> None:
    store(database, world, registration(world.anna_id, world.project_id))
    store(database, world, registration(world.anna_id, world.se_project_id))
    first = draft(database, world)
    second = draft(database, world, project_number="P-2")
    # posted in the other order: numbers follow posting, not drafting
    assert post(database, second.id).number == FIRST_NUMBER
    assert post(database, first.id).number == FIRST_NUMBER + 1


def test_posting_twice_is_refused_and_takes_no_number(database: Database, world: World) -> None:
    store(database, world, registration(world.anna_id, world.project_id))
    invoice = post(database, draft(database, world).id)
    before = snapshot(database)
    with pytest.raises(ValidationError, match="already posted"):
        post(database, invoice.id)
    assert snapshot(database) == before


def test_a_posted_invoice_cannot_change(database: Database, world: World) -> None:
    [reg] = store(database, world, registration(world.anna_id, world.project_id))
    invoice = post(database, draft(database, world).id)
    with pytest.raises(ImmutableError):
        invoice.add_lines(invoice.lines)
    with pytest.raises(ImmutableError):
        invoice.update_header(heading="Changed")
    with pytest.raises(ImmutableError):
        invoice.remove_line(1)
    before = snapshot(database)
    with pytest.raises(ImmutableError, match="credit it instead"):
        delete_draft(UnitOfWork(database), invoice.id or 0)
    assert snapshot(database) == before
    assert invoiced(database, [reg]) == [True]


def test_a_failed_post_changes_nothing(database: Database, world: World) -> None:
    store(database, world, registration(world.anna_id, world.project_id))
    invoice = draft(database, world)
    before = snapshot(database)
    with pytest.raises(ValidationError, match="only a credit note can release"):
        post(database, invoice.id, release_sources=True)
    with pytest.raises(NotFoundError):
        post(database, 999999)
    assert snapshot(database) == before


# crediting ----------------------------------------------------------------------------------
def posted_invoice(database: Database, world: World) -> tuple[Invoice, list[int]]:
    """A posted invoice with two lines: AB 1.50 h and CD 2.00 h at 1,000.00."""
    ids = store(
        database,
        world,
        registration(world.anna_id, world.project_id, minutes=90),
        registration(world.carl_id, world.project_id, minutes=120),
    )
    return post(database, draft(database, world).id), ids


def test_a_full_credit_note_negates_the_invoice(database: Database, world: World) -> None:
    invoice, _ = posted_invoice(database, world)
    note = credit(database, invoice.id)
    assert note.document_type is DocumentType.CREDIT_NOTE
    assert note.status is InvoiceStatus.DRAFT and note.number is None
    assert note.credits_invoice_id == invoice.id
    assert note.heading == f"Credit note for invoice {FIRST_NUMBER}"
    assert [(line.quantity, line.unit_price, line.credits_position) for line in note.lines] == [
        (Decimal("-1.50"), dkk("1000.00"), 1),
        (Decimal("-2.00"), dkk("1000.00"), 2),
    ]
    assert load(database, invoice.id).status is InvoiceStatus.POSTED  # a draft credits nothing

    posted_note = post(database, note.id)
    assert posted_note.number == FIRST_NUMBER + 1  # the same series as invoices
    assert posted_note.totals is not None and invoice.totals is not None
    assert posted_note.totals.gross == -invoice.totals.gross
    assert posted_note.totals.vat == -invoice.totals.vat
    assert load(database, invoice.id).status is InvoiceStatus.CREDITED


def test_partial_credit_notes(database: Database, world: World) -> None:
    invoice, _ = posted_invoice(database, world)
    first = credit(database, invoice.id, quantities={2: Decimal("0.50")})
    assert [(line.quantity, line.credits_position) for line in first.lines] == [
        (Decimal("-0.50"), 2)
    ]
    post(database, first.id)
    assert load(database, invoice.id).status is InvoiceStatus.PARTIALLY_CREDITED
    with UnitOfWork(database) as uow:
        assert uow.invoices.credited_quantities(invoice.id or 0, include_drafts=False) == {
            2: Decimal("0.50")
        }

    rest = credit(database, invoice.id)  # everything still open
    assert [(line.quantity, line.credits_position) for line in rest.lines] == [
        (Decimal("-1.50"), 1),
        (Decimal("-1.50"), 2),
    ]
    post(database, rest.id)
    assert load(database, invoice.id).status is InvoiceStatus.CREDITED
    with pytest.raises(ValidationError, match="already fully credited"):
        credit(database, invoice.id)


def test_crediting_more_than_is_open_is_refused(database: Database, world: World) -> None:
    invoice, _ = posted_invoice(database, world)
    credit(database, invoice.id, quantities={1: Decimal("1.00")})  # draft, not posted
    before = snapshot(database)
    with pytest.raises(ValidationError, match=r"0\.50 is left to credit"):
        credit(database, invoice.id, quantities={1: Decimal("0.51")})
    with pytest.raises(ValidationError, match="no line with an amount at position 3"):
        credit(database, invoice.id, quantities={3: Decimal(1)})
    assert snapshot(database) == before


def test_a_draft_cannot_be_credited(database: Database, world: World) -> None:
    store(database, world, registration(world.anna_id, world.project_id))
    invoice = draft(database, world)
    before = snapshot(database)
    with pytest.raises(ValidationError, match="is not posted"):
        credit(database, invoice.id)
    assert snapshot(database) == before


def test_a_credit_note_cannot_be_credited(database: Database, world: World) -> None:
    invoice, _ = posted_invoice(database, world)
    note = post(database, credit(database, invoice.id).id)
    with pytest.raises(ValidationError, match="a credit note cannot be credited"):
        credit(database, note.id)


def test_crediting_keeps_the_work_invoiced(database: Database, world: World) -> None:
    invoice, ids = posted_invoice(database, world)
    post(database, credit(database, invoice.id).id)
    assert load(database, invoice.id).status is InvoiceStatus.CREDITED
    assert invoiced(database, ids) == [True, True]
    with pytest.raises(ValidationError, match="no uninvoiced billable registrations"):
        draft(database, world)


def test_a_full_credit_can_release_the_work(database: Database, world: World) -> None:
    invoice, ids = posted_invoice(database, world)
    post(database, credit(database, invoice.id).id, release_sources=True)
    assert invoiced(database, ids) == [False, False]
    # the billing history stays readable on the credited invoice
    credited = load(database, invoice.id)
    assert credited.status is InvoiceStatus.CREDITED
    assert [line.time_registration_ids for line in credited.lines] == [(ids[0],), (ids[1],)]
    again = draft(database, world)
    assert [line.time_registration_ids for line in again.lines] == [(ids[0],), (ids[1],)]


def test_the_credit_note_that_completes_a_credit_can_release(
    database: Database, world: World
) -> None:
    invoice, ids = posted_invoice(database, world)
    post(database, credit(database, invoice.id, quantities={1: Decimal("1.50")}).id)
    assert invoiced(database, ids) == [True, True]
    post(database, credit(database, invoice.id).id, release_sources=True)
    assert invoiced(database, ids) == [False, False]


def test_a_partial_credit_cannot_release_and_changes_nothing(
    database: Database, world: World
) -> None:
    invoice, ids = posted_invoice(database, world)
    note = credit(database, invoice.id, quantities={1: Decimal("1.50")})
    before = snapshot(database)
    with pytest.raises(ValidationError, match="only be released when the invoice is fully"):
        post(database, note.id, release_sources=True)
    assert snapshot(database) == before
    assert load(database, note.id).status is InvoiceStatus.DRAFT
    assert load(database, invoice.id).status is InvoiceStatus.POSTED
    assert next_number(database, world) == FIRST_NUMBER + 1
    assert invoiced(database, ids) == [True, True]


def test_posting_a_credit_note_beyond_what_is_open_is_refused(
    database: Database, world: World
) -> None:
    invoice, _ = posted_invoice(database, world)
    first = credit(database, invoice.id)
    assert first.id is not None
    # a second full credit note, made while the first was deleted …
    delete_draft(UnitOfWork(database), first.id)
    second = credit(database, invoice.id)
    post(database, second.id)
    # … and the first re-made by hand from its lines: posting it would credit twice
    with UnitOfWork(database) as uow:
        copy = Invoice(
            legal_entity_id=world.entity_id,
            customer_id=world.customer_id,
            document_type=DocumentType.CREDIT_NOTE,
            currency="DKK",
            invoice_date=CREDIT_DATE,
            due_date=CREDIT_DATE,
            seller_country="DK",
            credits_invoice_id=invoice.id,
            lines=tuple(first.lines),
        )
        uow.invoices.add(copy)
        uow.commit()
    before = snapshot(database)
    with pytest.raises(ValidationError, match="left to credit"):
        post(database, copy.id)
    assert snapshot(database) == before
