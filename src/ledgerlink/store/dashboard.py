"""What the console's dashboard reads besides the other repositories' rows (issue 14 item 2):
a connection's transfer outcomes since a moment, for its chart, and the credentials an ERP has
stored rate-limit budgets under."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledgerlink.domain.transfers import TransferStatus
from ledgerlink.store.tables import RateLimitRow, TransferRow


class DashboardRepository:
    """The dashboard's own reads, inside the unit of work's transaction."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def transfer_outcomes(
        self, connection_id: int, *, since: datetime
    ) -> list[tuple[datetime, TransferStatus]]:
        """When each of the connection's transfers started at or after ``since`` began, and
        its status now; oldest first. Two columns, not the transfers: a month of them is one
        short query however many steps they have."""
        rows = self._session.execute(
            select(TransferRow.started_at, TransferRow.status)
            .where(TransferRow.connection_id == connection_id, TransferRow.started_at >= since)
            .order_by(TransferRow.started_at, TransferRow.id)
        )
        return [(started, TransferStatus(status)) for started, status in rows]

    def budget_credentials(self, erp: str) -> list[str]:
        """The credential fingerprints ``erp`` has a stored rate-limit budget under, sorted
        (a budget is per ERP and credential, so connections sharing one share it)."""
        return list(
            self._session.scalars(
                select(RateLimitRow.credential)
                .where(RateLimitRow.erp == erp)
                .order_by(RateLimitRow.credential)
            )
        )
