"""The emulated Visma Administration company as ``ledgerlink demo --erp visma`` meets it: a
company folder kept in the demo folder (made on the first run, with the PSA's projects created
by hand, since Visma cannot take them from an integration), reached through the FinancialHost
``visma`` plugin with the emulated ADK; the Visma user books our invoices and pays two."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

from ledgerlink.emulators._kit.rehearsal import EmulatedErp, Rehearsal
from ledgerlink.emulators.visma.adk import EmulatedAdk
from ledgerlink.emulators.visma.admin import (
    book_invoice,
    create_company,
    create_project,
    register_payment,
)
from ledgerlink.interfaces.visma_adk import constants as adk

OURS = "LL-"


@contextmanager
def rehearse(folder: Path, projects: Sequence[tuple[str, str]] = ()) -> Iterator[Rehearsal]:
    """The company folder (made on the first run); nothing to serve: the host's plugin opens
    it through the emulated ADK."""
    system, company = folder / "visma" / "Gemensamma filer", folder / "visma" / "FTG1"
    notes: tuple[str, ...] = ()
    if not company.exists():
        create_company(system, company, name="Nordlys Konsult AB", parties=False)
        for number, name in projects:
            create_project(company, number, name)
        if projects:
            notes = (
                "In Visma the projects were created by hand first (Visma cannot take them "
                "from the PSA): " + ", ".join(number for number, _ in projects),
            )
    yield Rehearsal(
        where="an emulated Visma Administration company",
        settings={
            "system_path": str(system),
            "company_path": str(company),
            "adk": "emulated",
            "auto_create_sellers": True,
        },
        erp_user=lambda agreed: _book_and_pay(system, company, agreed),
        notes=notes,
    )


def _invoices(system: Path, company: Path) -> list[tuple[int, Decimal, Decimal, bool, str]]:
    """(number, total, balance, printed, correlation) of the invoices this integration made."""
    api = EmulatedAdk()
    if api.AdkOpen(str(system), str(company)).lRc != adk.ADKE_OK:
        raise RuntimeError(f"the Visma company {company} does not open")
    found = []
    head = api.AdkCreateData(adk.ADK_DB_INVOICE_HEAD)
    try:
        error = api.AdkFirst(head)
        while error.lRc == adk.ADKE_OK:
            _, reference = api.AdkGetStr(head, adk.ADK_OOI_HEAD_CUSTOMER_ORDER_NUMBER)
            if reference.startswith(OURS):
                _, number = api.AdkGetDouble(head, adk.ADK_OOI_HEAD_DOCUMENT_NUMBER)
                _, total = api.AdkGetDouble(head, adk.ADK_OOI_HEAD_TOTAL_AMOUNT)
                _, balance = api.AdkGetDouble(head, adk.ADK_OOI_HEAD_BALANCE)
                _, printed = api.AdkGetBool(head, adk.ADK_OOI_HEAD_DOCUMENT_PRINTED)
                found.append(
                    (int(number), _money(total), _money(balance), bool(printed), reference)
                )
            error = api.AdkNext(head)
    finally:
        api.AdkDeleteStruct(head)
        api.AdkClose()
    return found


def _money(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _book_and_pay(system: Path, company: Path, agreed: Collection[str]) -> str:
    """As the Visma user: book our invoices whose totals agree (correlation references
    ``agreed``), then pay the two oldest booked invoices in full."""
    invoices = _invoices(system, company)
    to_book = [i[0] for i in invoices if not i[3] and i[4] in agreed]
    for number in to_book:
        book_invoice(company, number)
    paid = 0
    # The two oldest invoices are paid once; a second demo run pays nothing more.
    if not any(balance == 0 for _, _, balance, _, _ in invoices):
        booked = set(to_book) | {i[0] for i in invoices if i[3]}
        # Credit notes (negative totals) can get any number: pay the two oldest invoices.
        payable = sorted(i[:2] for i in invoices if i[1] > 0 and i[0] in booked)
        for number, total in payable[:2]:
            register_payment(company, number, float(total))
            paid += 1
    return f"Booked {len(to_book)} invoices in Visma; registered {paid} full payments."


EMULATED = EmulatedErp(
    name="visma",
    title="Visma Administration",
    country="SE",
    currency="SEK",
    products={
        "work": "KONSULT",
        "expense": "UTLAGG",
        "travel": "RESA",
        "mileage": "MIL",
        "default": "UTLAGG",
    },
    start=rehearse,
)
