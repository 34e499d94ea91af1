"""Product numbers against the fake ERP, on both databases: the imported list with the
principles that use each number, the principles as they stand, the import's warning when
a number still in use was removed in the ERP, and the transfer error that names a missing
number first and once (issue 12 item 12)."""

from __future__ import annotations

from pathlib import Path

from ledgerlink.connectors.contract import ErpProduct, FieldError, Permanent
from ledgerlink.connectors.testing import FakeErp
from ledgerlink.domain.transfers import StepKind, StepStatus, TransferStatus
from ledgerlink.store.database import Database
from ledgerlink.sync import connections
from tests.sync.test_engine import Hub, build_hub


def hub_without(database: Database, tmp_path: Path, number: str) -> Hub:
    """A hub whose ERP has just removed ``number`` (the hub imported it before)."""
    hub = build_hub(database, tmp_path, FakeErp())
    hub.erp.products = [p for p in hub.erp.products if p.number != number]
    return hub


def test_the_imported_numbers_are_listed_with_the_principles_that_use_them(
    database: Database, tmp_path: Path
) -> None:
    hub = build_hub(database, tmp_path, FakeErp())
    listed = connections.list_products(hub.engine, hub.connection_id)
    assert [(p.number, p.name, p.principles) for p in listed] == [
        ("EXP", "Expenses", ("default",)),
        ("WORK", "Work", ("work",)),
    ]
    principles = {r.kind: r for r in connections.show_principles(hub.engine, hub.connection_id)}
    assert (principles["work"].number, principles["work"].from_default) == ("WORK", False)
    assert (principles["travel"].number, principles["travel"].from_default) == ("EXP", True)
    assert all(r.imported for r in principles.values())


def test_an_import_warns_of_a_removed_number_a_principle_and_waiting_documents_use(
    database: Database, tmp_path: Path
) -> None:
    hub = hub_without(database, tmp_path, "WORK")
    first, second = (invoice.number for invoice in hub.invoices)
    report = connections.import_products(hub.engine, hub.connection_id)
    assert (report.total, report.removed) == (1, 1)
    (warning,) = report.warnings
    assert warning.startswith("product number WORK was removed in ")
    assert f"the work principle and documents {first}, {second}" in warning
    assert "'ledgerlink connections principles'" in warning
    (work,) = [r for r in connections.show_principles(hub.engine, hub.connection_id)
               if r.kind == "work"]  # fmt: skip
    assert not work.imported


def test_removing_a_number_nothing_uses_warns_of_nothing(
    database: Database, tmp_path: Path
) -> None:
    spare = ErpProduct(number="SPARE", name="Not used")
    hub = build_hub(database, tmp_path, FakeErp(products=[*FakeErp().products, spare]))
    hub.erp.products.remove(spare)
    report = connections.import_products(hub.engine, hub.connection_id)
    assert (report.removed, report.warnings) == (1, ())


def test_a_number_the_erp_refuses_is_named_first_and_once(
    database: Database, tmp_path: Path
) -> None:
    hub = build_hub(database, tmp_path, FakeErp())
    erp_text = (
        "lines[0].product: product does not exist.; lines[1].product: product does not exist."
    )
    hub.erp.fail(
        "create_document",
        Permanent(
            f"fake refused POST /documents (HTTP 400): {erp_text}",
            erp_text=erp_text,
            hint="Line 1: the product number is not in the ERP.",
            field_errors=[FieldError(f"lines[{i}].product", "gone", "", "WORK") for i in (0, 1)],
            missing_products=["WORK"],
        ),
    )
    invoice = hub.invoices[0]
    assert hub.transfer(invoice) is TransferStatus.FAILED
    (transfer,) = hub.log(invoice)
    step = transfer.step(StepKind.INVOICE)
    assert step is not None and step.status is StepStatus.FAILED
    assert step.message.startswith("product number WORK is not in ")
    assert step.message.count("WORK") == 1 and "\n" not in step.message
    assert step.erp_text == erp_text  # the ERP's own words stay in the log
    assert "'ledgerlink sync products'" in step.hint and "Line 1" not in step.hint
    assert transfer.message.startswith("invoice: product number WORK is not in ")


def test_a_number_removed_since_the_import_is_named_before_anything_is_sent(
    database: Database, tmp_path: Path
) -> None:
    hub = hub_without(database, tmp_path, "WORK")
    connections.import_products(hub.engine, hub.connection_id)
    invoice = hub.invoices[0]
    assert hub.transfer(invoice) is TransferStatus.FAILED
    (transfer,) = hub.log(invoice)
    step = transfer.step(StepKind.INVOICE)
    assert step is not None
    assert step.message.startswith("product number WORK is not in ")
    assert "create_document" not in hub.erp.calls
