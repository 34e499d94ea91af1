"""Many posted invoices on top of the sample consultancy, for transfer tests at scale."""

from __future__ import annotations

from datetime import date

from ledgerlink.domain.entity import require_id
from ledgerlink.domain.invoices import Invoice
from ledgerlink.psa import invoicing
from ledgerlink.psa.importing import ImportKind, import_rows
from ledgerlink.store.uow import UnitOfWork

EMPLOYEES = ("AH", "MJ", "SL", "EK", "LV")  # the sample consultancy's staff
CUSTOMERS = ("1001", "1002", "1003")
PERIOD = (date(2026, 9, 1), date(2026, 9, 30))


def post_invoices(uow: UnitOfWork, legal_entity_id: int, *, count: int) -> list[Invoice]:
    """``count`` posted invoices of five work lines each (one per employee), one project
    each, spread over the sample customers; the minutes differ so the totals differ."""
    projects = [
        (
            index,
            {
                "number": f"B-{index:04d}",
                "name": f"Bulk project {index}",
                "customer_number": CUSTOMERS[index % len(CUSTOMERS)],
                "hourly_rate": f"{900 + index % 7 * 50}.00",
            },
        )
        for index in range(1, count + 1)
    ]
    registrations = [
        (
            index * 10 + position,
            {
                "ref": f"BULK-{index:04d}-{position}",
                "date": date(2026, 9, 1 + position).isoformat(),
                "employee_initials": initials,
                "project_number": f"B-{index:04d}",
                "minutes": str(30 + (index * 37 + position * 53) % 450),
                "task": "Development",
            },
        )
        for index in range(1, count + 1)
        for position, initials in enumerate(EMPLOYEES)
    ]
    for kind, rows in ((ImportKind.PROJECTS, projects), (ImportKind.REGISTRATIONS, registrations)):
        report = import_rows(
            uow, legal_entity_id=legal_entity_id, kind=kind, rows=rows, source="bulk"
        )
        assert report.committed, report.errors[:3]
    posted = []
    for index in range(1, count + 1):
        draft = invoicing.draft_invoice(
            uow,
            invoicing.DraftRequest(
                legal_entity_id=legal_entity_id,
                project_number=f"B-{index:04d}",
                period=PERIOD,
                invoice_date=PERIOD[1],
            ),
        )
        posted.append(invoicing.post_invoice(uow, require_id(draft), posting_date=PERIOD[1]))
    return posted
