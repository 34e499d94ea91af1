"""Initial schema: legal entities, parties, projects, registrations, expenses, invoices.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "legal_entities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("vat_number", sa.String(length=40), nullable=False),
        sa.Column("registration_number", sa.String(length=40), nullable=False),
        sa.Column("next_invoice_number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_entities")),
        sa.UniqueConstraint("code", name=op.f("uq_legal_entities_code")),
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("legal_entity_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("address_line1", sa.String(length=255), nullable=False),
        sa.Column("address_line2", sa.String(length=255), nullable=False),
        sa.Column("address_line3", sa.String(length=255), nullable=False),
        sa.Column("postal_code", sa.String(length=30), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("vat_number", sa.String(length=40), nullable=False),
        sa.Column("registration_number", sa.String(length=40), nullable=False),
        sa.Column("ean", sa.String(length=13), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("payment_terms_kind", sa.String(length=20), nullable=False),
        sa.Column("payment_terms_days", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("phone", sa.String(length=50), nullable=False),
        sa.Column("website", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["legal_entity_id"],
            ["legal_entities.id"],
            name=op.f("fk_customers_legal_entity_id_legal_entities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint(
            "legal_entity_id", "number", name=op.f("uq_customers_legal_entity_id_number")
        ),
    )
    op.create_table(
        "employees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("legal_entity_id", sa.Integer(), nullable=False),
        sa.Column("initials", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("department", sa.String(length=50), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["legal_entity_id"],
            ["legal_entities.id"],
            name=op.f("fk_employees_legal_entity_id_legal_entities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_employees")),
        sa.UniqueConstraint(
            "legal_entity_id", "initials", name=op.f("uq_employees_legal_entity_id_initials")
        ),
    )
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("phone", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_contacts_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
        sa.UniqueConstraint("customer_id", "name", name=op.f("uq_contacts_customer_id_name")),
    )
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("legal_entity_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("manager_id", sa.Integer(), nullable=True),
        sa.Column("department", sa.String(length=50), nullable=False),
        sa.Column("hourly_rate_minor", sa.BigInteger(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_projects_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["legal_entity_id"],
            ["legal_entities.id"],
            name=op.f("fk_projects_legal_entity_id_legal_entities"),
        ),
        sa.ForeignKeyConstraint(
            ["manager_id"], ["employees.id"], name=op.f("fk_projects_manager_id_employees")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.UniqueConstraint(
            "legal_entity_id", "number", name=op.f("uq_projects_legal_entity_id_number")
        ),
    )
    op.create_table(
        "invoices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("legal_entity_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("document_type", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("invoice_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("posting_date", sa.Date(), nullable=True),
        sa.Column("tax_date", sa.Date(), nullable=False),
        sa.Column("seller_country", sa.String(length=2), nullable=False),
        sa.Column("vat_treatment", sa.String(length=30), nullable=False),
        sa.Column("heading", sa.String(length=500), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("requisition_number", sa.String(length=100), nullable=False),
        sa.Column("customer_reference", sa.String(length=100), nullable=False),
        sa.Column("internal_reference", sa.String(length=100), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("credits_invoice_id", sa.Integer(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("net_minor", sa.BigInteger(), nullable=True),
        sa.Column("vat_minor", sa.BigInteger(), nullable=True),
        sa.Column("gross_minor", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_invoices_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["credits_invoice_id"],
            ["invoices.id"],
            name=op.f("fk_invoices_credits_invoice_id_invoices"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_invoices_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["legal_entity_id"],
            ["legal_entities.id"],
            name=op.f("fk_invoices_legal_entity_id_legal_entities"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_invoices_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint(
            "legal_entity_id", "number", name=op.f("uq_invoices_legal_entity_id_number")
        ),
    )
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invoices_credits_invoice_id"), ["credits_invoice_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_invoices_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_invoices_status"), ["status"], unique=False)

    op.create_table(
        "invoice_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("quantity", sa.String(length=40), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("discount_percent", sa.String(length=40), nullable=False),
        sa.Column("vat_category", sa.String(length=20), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("employee_id", sa.Integer(), nullable=True),
        sa.Column("product_number", sa.String(length=50), nullable=False),
        sa.Column("credits_position", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employees.id"], name=op.f("fk_invoice_lines_employee_id_employees")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_invoice_lines_invoice_id_invoices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_invoice_lines_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_lines")),
        sa.UniqueConstraint(
            "invoice_id", "position", name=op.f("uq_invoice_lines_invoice_id_position")
        ),
    )
    op.create_table(
        "invoice_vat_lines",
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("percent", sa.String(length=40), nullable=False),
        sa.Column("net_minor", sa.BigInteger(), nullable=False),
        sa.Column("vat_minor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_invoice_vat_lines_invoice_id_invoices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("invoice_id", "category", name=op.f("pk_invoice_vat_lines")),
    )
    op.create_table(
        "expenses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("legal_entity_id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=True),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("expense_type", sa.String(length=20), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("quantity", sa.String(length=40), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("vat_category", sa.String(length=20), nullable=False),
        sa.Column("billable", sa.Boolean(), nullable=False),
        sa.Column("receipt_file", sa.String(length=500), nullable=False),
        sa.Column("invoice_line_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employees.id"], name=op.f("fk_expenses_employee_id_employees")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_line_id"],
            ["invoice_lines.id"],
            name=op.f("fk_expenses_invoice_line_id_invoice_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["legal_entity_id"],
            ["legal_entities.id"],
            name=op.f("fk_expenses_legal_entity_id_legal_entities"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_expenses_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expenses")),
        sa.UniqueConstraint("legal_entity_id", "ref", name=op.f("uq_expenses_legal_entity_id_ref")),
    )
    with op.batch_alter_table("expenses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_expenses_invoice_line_id"), ["invoice_line_id"], unique=False
        )
        batch_op.create_index("ix_expenses_project_day", ["project_id", "day"], unique=False)

    op.create_table(
        "time_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("legal_entity_id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=True),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("task", sa.String(length=100), nullable=False),
        sa.Column("billable", sa.Boolean(), nullable=False),
        sa.Column("hourly_rate_minor", sa.BigInteger(), nullable=True),
        sa.Column("rate_currency", sa.String(length=3), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("invoice_line_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employees.id"],
            name=op.f("fk_time_registrations_employee_id_employees"),
        ),
        sa.ForeignKeyConstraint(
            ["invoice_line_id"],
            ["invoice_lines.id"],
            name=op.f("fk_time_registrations_invoice_line_id_invoice_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["legal_entity_id"],
            ["legal_entities.id"],
            name=op.f("fk_time_registrations_legal_entity_id_legal_entities"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_time_registrations_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_time_registrations")),
        sa.UniqueConstraint(
            "legal_entity_id", "ref", name=op.f("uq_time_registrations_legal_entity_id_ref")
        ),
    )
    with op.batch_alter_table("time_registrations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_time_registrations_invoice_line_id"), ["invoice_line_id"], unique=False
        )
        batch_op.create_index(
            "ix_time_registrations_project_day", ["project_id", "day"], unique=False
        )

    op.create_table(
        "invoice_line_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("time_registration_id", sa.Integer(), nullable=True),
        sa.Column("expense_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["expense_id"],
            ["expenses.id"],
            name=op.f("fk_invoice_line_sources_expense_id_expenses"),
        ),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["invoice_lines.id"],
            name=op.f("fk_invoice_line_sources_line_id_invoice_lines"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["time_registration_id"],
            ["time_registrations.id"],
            name=op.f("fk_invoice_line_sources_time_registration_id_time_registrations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_line_sources")),
    )
    with op.batch_alter_table("invoice_line_sources", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invoice_line_sources_expense_id"), ["expense_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_invoice_line_sources_line_id"), ["line_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_invoice_line_sources_time_registration_id"),
            ["time_registration_id"],
            unique=False,
        )


def downgrade() -> None:

    with op.batch_alter_table("invoice_line_sources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_line_sources_time_registration_id"))
        batch_op.drop_index(batch_op.f("ix_invoice_line_sources_line_id"))
        batch_op.drop_index(batch_op.f("ix_invoice_line_sources_expense_id"))

    op.drop_table("invoice_line_sources")
    with op.batch_alter_table("time_registrations", schema=None) as batch_op:
        batch_op.drop_index("ix_time_registrations_project_day")
        batch_op.drop_index(batch_op.f("ix_time_registrations_invoice_line_id"))

    op.drop_table("time_registrations")
    with op.batch_alter_table("expenses", schema=None) as batch_op:
        batch_op.drop_index("ix_expenses_project_day")
        batch_op.drop_index(batch_op.f("ix_expenses_invoice_line_id"))

    op.drop_table("expenses")
    op.drop_table("invoice_vat_lines")
    op.drop_table("invoice_lines")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoices_status"))
        batch_op.drop_index(batch_op.f("ix_invoices_customer_id"))
        batch_op.drop_index(batch_op.f("ix_invoices_credits_invoice_id"))

    op.drop_table("invoices")
    op.drop_table("projects")
    op.drop_table("contacts")
    op.drop_table("employees")
    op.drop_table("customers")
    op.drop_table("legal_entities")
