"""The read side (§11): insurer users and clients, creation times, listing indexes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04

- ``insurer_users``: claims handlers and viewers of one insurance company; e-mail unique
  per company, matched case-insensitively (``email_key``), argon2id password hash.
- ``oauth_clients.company_id``: a client belongs to a service partner *or* an insurance
  company (``partner_id`` becomes nullable; ``ck_oauth_clients_one_owner``).
- ``cases.created_at`` (new) and ``damage_notifications.created_at`` (now required):
  lists are newest first. Rows older than this revision get the time of the upgrade.
- ``files``: the single-column parent indexes become (parent, created_at, id), which
  keyset pagination walks backwards; a DN and a case get the same for their tenant.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "insurer_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("email_key", sa.String(320), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("role IN ('handler', 'viewer')", name="ck_insurer_users_role"),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["insurance_companies.id"],
            name="fk_insurer_users_company_id_insurance_companies",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_insurer_users"),
        sa.UniqueConstraint(
            "company_id", "email_key", name="uq_insurer_users_company_id_email_key"
        ),
    )
    op.create_index("ix_insurer_users_email_key", "insurer_users", ["email_key"])

    with op.batch_alter_table("oauth_clients") as table:
        table.alter_column("partner_id", existing_type=sa.Uuid(), nullable=True)
        table.add_column(sa.Column("company_id", sa.Integer(), nullable=True))
        table.create_foreign_key(
            "fk_oauth_clients_company_id_insurance_companies",
            "insurance_companies",
            ["company_id"],
            ["id"],
        )
        table.create_check_constraint(
            "ck_oauth_clients_one_owner", "(partner_id IS NULL) <> (company_id IS NULL)"
        )

    now = datetime.now(UTC).replace(tzinfo=None)  # the column's form: naive UTC
    with op.batch_alter_table("cases") as table:
        table.add_column(sa.Column("created_at", sa.DateTime(), nullable=True))
    for name in ("cases", "damage_notifications"):
        stamped = sa.table(name, sa.column("created_at", sa.DateTime()))
        op.execute(stamped.update().where(stamped.c.created_at.is_(None)).values(created_at=now))
        with op.batch_alter_table(name) as table:
            table.alter_column("created_at", existing_type=sa.DateTime(), nullable=False)
    op.create_index(
        "ix_cases_company_id_created_at_id", "cases", ["company_id", "created_at", "id"]
    )
    op.create_index(
        "ix_damage_notifications_company_id_created_at_id",
        "damage_notifications",
        ["company_id", "created_at", "id"],
    )

    op.drop_index("ix_files_case_id", table_name="files")
    op.drop_index("ix_files_dn_id", table_name="files")
    op.create_index("ix_files_case_id_created_at_id", "files", ["case_id", "created_at", "id"])
    op.create_index("ix_files_dn_id_created_at_id", "files", ["dn_id", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_files_dn_id_created_at_id", table_name="files")
    op.drop_index("ix_files_case_id_created_at_id", table_name="files")
    op.create_index("ix_files_case_id", "files", ["case_id"])
    op.create_index("ix_files_dn_id", "files", ["dn_id"])
    op.drop_index("ix_damage_notifications_company_id_created_at_id", "damage_notifications")
    op.drop_index("ix_cases_company_id_created_at_id", "cases")
    with op.batch_alter_table("damage_notifications") as table:
        table.alter_column("created_at", existing_type=sa.DateTime(), nullable=True)
    with op.batch_alter_table("cases") as table:
        table.drop_column("created_at")
    # Insurer clients have no partner to fall back to: they go, with their keys.
    op.execute(
        "DELETE FROM client_keys WHERE client_pk IN "
        "(SELECT id FROM oauth_clients WHERE company_id IS NOT NULL)"
    )
    op.execute("DELETE FROM oauth_clients WHERE company_id IS NOT NULL")
    with op.batch_alter_table("oauth_clients") as table:
        table.drop_constraint("ck_oauth_clients_one_owner", type_="check")
        table.drop_constraint("fk_oauth_clients_company_id_insurance_companies", type_="foreignkey")
        table.drop_column("company_id")
        table.alter_column("partner_id", existing_type=sa.Uuid(), nullable=False)
    op.drop_index("ix_insurer_users_email_key", "insurer_users")
    op.drop_table("insurer_users")
