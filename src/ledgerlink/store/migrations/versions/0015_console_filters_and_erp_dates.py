"""The transfer table's last columns and saved filters (issue 14 item 3):
``erp_documents.booked_on`` (the ERP's posting date of a transferred document, from
balancing; empty while it is a draft) and ``saved_filters`` (a user's named filters of a
console page, kept as the page's query string).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("erp_documents") as batch:
        batch.add_column(sa.Column("booked_on", sa.Date(), nullable=True))
    op.create_table(
        "saved_filters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("page", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_saved_filters_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_filters")),
        sa.UniqueConstraint(
            "user_id", "page", "name", name=op.f("uq_saved_filters_user_id_page_name")
        ),
    )


def downgrade() -> None:
    op.drop_table("saved_filters")
    with op.batch_alter_table("erp_documents") as batch:
        batch.drop_column("booked_on")
