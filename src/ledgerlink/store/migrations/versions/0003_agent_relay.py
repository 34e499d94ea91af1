"""FinancialHost agent relay: jobs for agents, enrolled agents, agent request nonces.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "relay_jobs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("leased_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relay_jobs")),
    )
    op.create_index("ix_relay_jobs_agent_id_state", "relay_jobs", ["agent_id", "state"])
    op.create_table(
        "relay_agents",
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("credentials", sa.Text(), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat", sa.Text(), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("agent_id", name=op.f("pk_relay_agents")),
    )
    op.create_table(
        "relay_nonces",
        sa.Column("nonce", sa.String(length=100), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_relay_nonces")),
    )
    op.create_index(op.f("ix_relay_nonces_expires_at"), "relay_nonces", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_relay_nonces_expires_at"), table_name="relay_nonces")
    op.drop_table("relay_nonces")
    op.drop_table("relay_agents")
    op.drop_index("ix_relay_jobs_agent_id_state", table_name="relay_jobs")
    op.drop_table("relay_jobs")
