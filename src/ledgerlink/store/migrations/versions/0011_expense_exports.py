"""Expense export (issue 13, Fortnox): the integration log of PSA expenses exported as ERP
vouchers — one transaction per attempt (``expense_exports``) with its steps (voucher, receipt).
Which expenses are exported is an external key of type ``expense`` (no column for it).

Named 0011 because another change may take 0010; it revises whatever was the head when it was
written (0009). If a 0010 lands first, set ``down_revision`` to "0010" so there is one head.

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-09
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "expense_exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("expense_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("correlation", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_expense_exports_connection_id_connections"),
        ),
        sa.ForeignKeyConstraint(
            ["expense_id"], ["expenses.id"], name=op.f("fk_expense_exports_expense_id_expenses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expense_exports")),
        sa.UniqueConstraint(
            "connection_id",
            "expense_id",
            "attempt",
            name=op.f("uq_expense_exports_connection_id_expense_id_attempt"),
        ),
    )
    op.create_index(
        op.f("ix_expense_exports_expense_id"), "expense_exports", ["expense_id"], unique=False
    )
    op.create_index(op.f("ix_expense_exports_status"), "expense_exports", ["status"], unique=False)
    op.create_table(
        "expense_export_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("export_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("erp_text", sa.Text(), nullable=False),
        sa.Column("hint", sa.Text(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["export_id"],
            ["expense_exports.id"],
            name=op.f("fk_expense_export_steps_export_id_expense_exports"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expense_export_steps")),
        sa.UniqueConstraint(
            "export_id", "kind", name=op.f("uq_expense_export_steps_export_id_kind")
        ),
    )


def downgrade() -> None:
    op.drop_table("expense_export_steps")
    op.drop_index(op.f("ix_expense_exports_status"), table_name="expense_exports")
    op.drop_index(op.f("ix_expense_exports_expense_id"), table_name="expense_exports")
    op.drop_table("expense_exports")
