"""Projects follow to e-conomic (project module, Projects API) with the first invoice or on
creation, each exactly once, and invoices carry the e-conomic project number; both databases."""

from __future__ import annotations

from typing import Any

from ledgerlink.domain.entity import require_id
from ledgerlink.domain.transfers import EntityType, StepKind, StepStatus, TransferStatus
from ledgerlink.store.uow import UnitOfWork
from ledgerlink.sync import automatic, connections, table
from tests.sync.test_economic_end_to_end import World, correlation, transfer, world

__all__ = ["world"]

PROJECTS = "/api/v20.0.0/projects"


def enable_projects(world: World) -> None:
    world.api.put("/_emulator/settings", json={"projectModule": True}).raise_for_status()
    connections.configure(world.engine, world.connection_id, settings={"project_module": True})


def erp_projects(world: World) -> list[dict[str, Any]]:
    return list(world.api.get(PROJECTS).json()["items"])


def test_the_first_invoice_brings_its_project_and_the_draft_carries_its_number(
    world: World,
) -> None:
    enable_projects(world)
    first = world.invoices[0]  # project P-101 of customer 1001
    assert transfer(world, first) is TransferStatus.SUCCESSFUL

    (project,) = erp_projects(world)
    assert (project["name"], project["customerNumber"]) == ("Support agreement 2026", 1001)
    (draft,) = world.drafts(correlation(first))
    detail = world.api.get(f"/invoices/drafts/{draft['draftInvoiceNumber']}").json()
    assert detail["project"]["projectNumber"] == project["number"]
    (log,) = table.integration_log(world.engine, world.connection_id)
    step = log.step(StepKind.PROJECT)
    assert step is not None and step.status is StepStatus.SUCCESSFUL
    assert step.external_id == str(project["number"])


def test_projects_follow_on_creation_once_and_a_lost_answer_creates_no_second(
    world: World,
) -> None:
    enable_projects(world)
    assert transfer(world, world.invoices[0]) is TransferStatus.SUCCESSFUL  # customer 1001 in
    world.emulator.faults.set(PROJECTS, methods={"POST"}, drop_after_commit_rate=1.0)
    try:
        report = automatic.push_new_projects(world.engine, world.connection_id)
    finally:
        world.emulator.faults.clear()
    assert report.failures == ()
    names = sorted(p["name"] for p in erp_projects(world) if p["customerNumber"] == 1001)
    with UnitOfWork(world.engine.database) as uow:
        entity_id = world.invoices[0].legal_entity_id
        customer = uow.customers.by_number(entity_id, "1001")
        assert customer is not None
        ours = sorted(
            p.name for p in uow.projects.list(entity_id) if p.customer_id == require_id(customer)
        )
        linked = uow.external_keys.for_type(world.connection_id, EntityType.PROJECT)
    assert names == ours and len(names) == len(set(names))  # each exactly once
    assert report.pushed == len(ours) - 1  # the first came with the invoice
    assert len(linked) == len(ours)

    before = len(erp_projects(world))
    assert automatic.push_new_projects(world.engine, world.connection_id).pushed == 0
    assert len(erp_projects(world)) == before


def test_a_missing_project_group_is_explained_and_the_invoice_still_goes(world: World) -> None:
    enable_projects(world)
    connections.configure(world.engine, world.connection_id, settings={"project_group_number": 9})
    invoice = world.invoices[0]
    assert transfer(world, invoice) is TransferStatus.PARTIALLY_FAILED
    (log,) = table.integration_log(world.engine, world.connection_id)
    step = log.step(StepKind.PROJECT)
    assert step is not None and step.status is StepStatus.FAILED
    assert "does not exist" in step.erp_text and "project_group_number" in step.hint
    assert len(world.drafts(correlation(invoice))) == 1
    assert erp_projects(world) == []


def test_without_the_project_module_no_project_is_sent(world: World) -> None:
    assert transfer(world, world.invoices[0]) is TransferStatus.SUCCESSFUL
    (log,) = table.integration_log(world.engine, world.connection_id)
    # Without projects among the capabilities the step is planned away, not run.
    assert log.step(StepKind.PROJECT) is None
    assert [s.kind for s in log.steps] == [
        StepKind.CUSTOMER,
        StepKind.EMPLOYEE,
        StepKind.INVOICE,
        StepKind.TOTALS,
    ]
    assert automatic.push_new_projects(world.engine, world.connection_id).pushed == 0
