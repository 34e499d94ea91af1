"""The reconciliation report out (issue 14 items 7 and 8): a connection's posted documents
against the ERP's side over a period, from :mod:`ledgerlink.sync.reconcile`. The CLI's
``ledgerlink report reconcile --json`` prints the same model."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from ledgerlink.domain.invoices import DocumentType
from ledgerlink.domain.money import Money
from ledgerlink.domain.users import Permission
from ledgerlink.store.api_keys import Caller
from ledgerlink.sync import reconcile
from ledgerlink.sync.reconcile import DifferenceKind, ReconcileStatus
from ledgerlink.web.api.auth import Authenticator
from ledgerlink.web.api.services import ApiServices
from ledgerlink.web.api.transfers import ConnectionId

_DECIMAL = 'A decimal number as a string, e.g. "1234.50", in the row\'s currency.'


def _amount(money: Money | None) -> str | None:
    return None if money is None else str(money.amount)


class AmountsOut(BaseModel):
    """Sums over documents in one currency (amounts as decimal strings)."""

    currency: str
    documents: int
    psa_gross: str = Field(description=_DECIMAL)
    erp_gross: str = Field(description="The ERP's gross of those in the ERP. " + _DECIMAL)
    difference: str = Field(description="PSA gross − ERP gross. " + _DECIMAL)
    remainder: str | None = Field(
        description="The ERP's open amounts, where balancing told them (null: of none). " + _DECIMAL
    )

    @classmethod
    def of(cls, amounts: reconcile.Amounts) -> AmountsOut:
        return cls(
            currency=amounts.currency,
            documents=amounts.documents,
            psa_gross=str(amounts.psa_gross.amount),
            erp_gross=str(amounts.erp_gross.amount),
            difference=str(amounts.difference.amount),
            remainder=_amount(amounts.remainder),
        )


class StatusTotalsOut(AmountsOut):
    status: ReconcileStatus


class CustomerTotalsOut(AmountsOut):
    customer_number: str
    customer_name: str
    by_status: dict[ReconcileStatus, str] = Field(
        description="Gross per status: the PSA's for not_sent, the ERP's for the others."
    )


class DocumentOut(BaseModel):
    """A posted document with both sides; ``kind`` says what differs (null: they agree)."""

    number: int
    document_type: DocumentType
    posting_date: date | None
    customer_number: str
    customer_name: str
    status: ReconcileStatus
    currency: str
    psa_gross: str = Field(description=_DECIMAL)
    erp_gross: str | None = Field(description="Null: not in the ERP, or its total unknown.")
    difference: str | None = Field(description="PSA − ERP; null when they cannot be subtracted.")
    remainder: str | None = Field(description="The ERP's open amount, when balancing told it.")
    erp_id: str
    erp_number: str
    kind: DifferenceKind | None
    explanation: str
    last_transfer_id: int | None = Field(
        description="The newest transfer of the document (its integration log)."
    )

    @classmethod
    def of(cls, line: reconcile.DocumentLine) -> DocumentOut:
        facts, erp = line.facts, line.facts.erp
        return cls(
            number=facts.number,
            document_type=facts.document_type,
            posting_date=facts.posting_date,
            customer_number=facts.customer_number,
            customer_name=facts.customer_name,
            status=line.status,
            currency=line.currency,
            psa_gross=str(facts.psa_gross.amount),
            erp_gross=_amount(line.erp_gross),
            difference=_amount(line.difference),
            remainder=_amount(line.remainder),
            erp_id=erp.external_id if erp else facts.external_id,
            erp_number=erp.booked_number if erp else "",
            kind=line.kind,
            explanation=line.explanation,
            last_transfer_id=facts.transfer_id,
        )


class ReconciliationOut(BaseModel):
    """A connection's reconciliation over a period of posting dates."""

    connection_id: int
    period_from: date | None
    period_to: date | None
    agrees: bool = Field(description="True when no document differs.")
    totals: list[AmountsOut] = Field(description="One per currency.")
    by_status: list[StatusTotalsOut]
    by_customer: list[CustomerTotalsOut]
    differences: list[DocumentOut] = Field(description="Every document whose sides differ.")
    documents: list[DocumentOut]

    @classmethod
    def of(cls, report: reconcile.Reconciliation) -> ReconciliationOut:
        return cls(
            connection_id=report.connection_id,
            period_from=report.period.start,
            period_to=report.period.end,
            agrees=report.agrees,
            totals=[AmountsOut.of(a) for a in report.totals],
            by_status=[
                StatusTotalsOut(status=s.status, **AmountsOut.of(s.amounts).model_dump())
                for s in report.by_status
            ],
            by_customer=[
                CustomerTotalsOut(
                    customer_number=c.customer_number,
                    customer_name=c.customer_name,
                    by_status={s: str(m.amount) for s, m in c.by_status.items()},
                    **AmountsOut.of(c.amounts).model_dump(),
                )
                for c in report.by_customer
            ],
            differences=[DocumentOut.of(line) for line in report.differences],
            documents=[DocumentOut.of(line) for line in report.documents],
        )


def reconciliation_router(
    services: ApiServices, auth: Authenticator, route_class: type[Any]
) -> APIRouter:
    """``/connections/{id}/reconciliation``."""
    router = APIRouter(prefix="/connections", route_class=route_class, tags=["Reconciliation"])
    read = Depends(auth.require(Permission.READ))

    @router.get(
        "/{connection_id}/reconciliation",
        response_model=ReconciliationOut,
        summary="PSA totals against the ERP's, by customer and status, with every difference",
        description="Posted documents (by posting date, both dates included) against what the "
        "ERP holds for them, as the transfers recorded and balancing last pulled. A document "
        "not in the ERP counts as not_sent.",
    )
    async def get_reconciliation(
        connection_id: ConnectionId,
        period_from: Annotated[
            date | None, Query(alias="from", description="First posting date.")
        ] = None,
        period_to: Annotated[
            date | None, Query(alias="to", description="Last posting date.")
        ] = None,
        _caller: Caller = read,
    ) -> ReconciliationOut:
        period = reconcile.Period(start=period_from, end=period_to)
        report = await run_in_threadpool(
            reconcile.reconciliation, services.uow, connection_id, period
        )
        return ReconciliationOut.of(report)

    return router
