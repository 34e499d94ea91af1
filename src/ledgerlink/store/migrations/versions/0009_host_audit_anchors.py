"""The audit anchor of each FinancialHost the hub calls directly (design §10, issue 11): agents
send theirs with the heartbeat (0006); an inbound host's comes with ``connection.test``.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "host_audit_anchors",
        sa.Column("host", sa.String(length=300), nullable=False),
        sa.Column("audit_count", sa.Integer(), nullable=True),
        sa.Column("audit_mac", sa.String(length=64), nullable=True),
        sa.Column("audit_problem", sa.Text(), nullable=False),
        sa.Column("audit_problem_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("host", name=op.f("pk_host_audit_anchors")),
    )


def downgrade() -> None:
    op.drop_table("host_audit_anchors")
