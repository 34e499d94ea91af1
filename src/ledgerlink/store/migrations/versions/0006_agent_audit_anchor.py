"""FinancialHost agents' audit anchor: the host's audit count and newest MAC as the hub last
saw them, and the first disagreement (design §10, issue 11).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("relay_agents") as table:
        table.add_column(sa.Column("audit_count", sa.Integer(), nullable=True))
        table.add_column(sa.Column("audit_mac", sa.String(length=64), nullable=True))
        table.add_column(sa.Column("audit_problem", sa.Text(), nullable=False, server_default=""))
        table.add_column(sa.Column("audit_problem_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("relay_agents") as table:
        table.drop_column("audit_problem_at")
        table.drop_column("audit_problem")
        table.drop_column("audit_mac")
        table.drop_column("audit_count")
