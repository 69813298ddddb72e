"""The initial schema: the domain of §1 and the service's bookkeeping.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Written out table by table (not ``metadata.create_all``) so the migration stays what it
was when the models move on; constraint names follow ``ecb_files.db.base.NAMING_CONVENTION``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    _create_parties()
    _create_claims()
    _create_files()
    _create_bookkeeping()


def downgrade() -> None:
    for index, table in (
        ("ix_used_assertions_expires_at", "used_assertions"),
        ("ix_idempotency_records_expires_at", "idempotency_records"),
        ("ix_files_dn_id", "files"),
        ("ix_files_case_id", "files"),
    ):
        op.drop_index(index, table_name=table)
    for table in (
        "signing_keys",
        "used_assertions",
        "idempotency_records",
        "files",
        "submissions",
        "damage_notifications",
        "case_partners",
        "cases",
        "client_keys",
        "oauth_clients",
        "employees",
        "service_partner_companies",
        "service_partners",
        "insurance_companies",
    ):
        op.drop_table(table)


def _create_parties() -> None:
    op.create_table(
        "insurance_companies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alias", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_insurance_companies"),
        sa.UniqueConstraint("alias", name="uq_insurance_companies_alias"),
    )
    op.create_table(
        "service_partners",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("security_token", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_service_partners"),
    )
    op.create_table(
        "service_partner_companies",
        sa.Column("partner_id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["service_partners.id"],
            name="fk_service_partner_companies_partner_id_service_partners",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["insurance_companies.id"],
            name="fk_service_partner_companies_company_id_insurance_companies",
        ),
        sa.PrimaryKeyConstraint("partner_id", "company_id", name="pk_service_partner_companies"),
    )
    op.create_table(
        "employees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("email_key", sa.String(320), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["service_partners.id"], name="fk_employees_partner_id_service_partners"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_employees"),
        sa.UniqueConstraint("partner_id", "email_key", name="uq_employees_partner_id_email_key"),
    )
    op.create_table(
        "oauth_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(200), nullable=False),
        sa.Column("partner_id", sa.Uuid(), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("secret_hash", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["service_partners.id"],
            name="fk_oauth_clients_partner_id_service_partners",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_oauth_clients"),
        sa.UniqueConstraint("client_id", name="uq_oauth_clients_client_id"),
    )
    op.create_table(
        "client_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_pk", sa.Integer(), nullable=False),
        sa.Column("kid", sa.String(200), nullable=False),
        sa.Column("x5t", sa.String(200), nullable=True),
        sa.Column("jwk", sa.Text(), nullable=False),
        sa.Column("certificate_pem", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_pk"], ["oauth_clients.id"], name="fk_client_keys_client_pk_oauth_clients"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_client_keys"),
        sa.UniqueConstraint("client_pk", "kid", name="uq_client_keys_client_pk_kid"),
    )


def _create_claims() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.CheckConstraint("status IN ('open', 'closed')", name="ck_cases_status"),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["insurance_companies.id"],
            name="fk_cases_company_id_insurance_companies",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_cases"),
    )
    op.create_table(
        "case_partners",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("partner_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_case_partners_case_id_cases"),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["service_partners.id"],
            name="fk_case_partners_partner_id_service_partners",
        ),
        sa.PrimaryKeyConstraint("case_id", "partner_id", name="pk_case_partners"),
    )
    op.create_table(
        "damage_notifications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Uuid(), nullable=False),
        sa.Column("merged_to_case_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["insurance_companies.id"],
            name="fk_damage_notifications_company_id_insurance_companies",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["service_partners.id"],
            name="fk_damage_notifications_partner_id_service_partners",
        ),
        sa.ForeignKeyConstraint(
            ["merged_to_case_id"],
            ["cases.id"],
            name="fk_damage_notifications_merged_to_case_id_cases",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_damage_notifications"),
    )


def _create_files() -> None:
    op.create_table(
        "submissions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("endpoint", sa.String(32), nullable=False),
        sa.Column("client_pk", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Uuid(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("dn_id", sa.Uuid(), nullable=True),
        sa.Column("timestamp", sa.String(64), nullable=True),
        sa.Column("idempotency_key", sa.String(255), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "endpoint IN ('submitForCase', 'submitForDamageNotification')",
            name="ck_submissions_endpoint",
        ),
        sa.ForeignKeyConstraint(
            ["client_pk"], ["oauth_clients.id"], name="fk_submissions_client_pk_oauth_clients"
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["service_partners.id"],
            name="fk_submissions_partner_id_service_partners",
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employees.id"], name="fk_submissions_employee_id_employees"
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_submissions_case_id_cases"),
        sa.ForeignKeyConstraint(
            ["dn_id"], ["damage_notifications.id"], name="fk_submissions_dn_id_damage_notifications"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_submissions"),
    )
    op.create_table(
        "files",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("dn_id", sa.Uuid(), nullable=True),
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("client_pk", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(500), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("is_restricted", sa.Boolean(), nullable=False),
        sa.Column("is_damage_image", sa.Boolean(), nullable=False),
        sa.Column("blob_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("case_id IS NOT NULL OR dn_id IS NOT NULL", name="ck_files_has_parent"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_files_case_id_cases"),
        sa.ForeignKeyConstraint(
            ["dn_id"], ["damage_notifications.id"], name="fk_files_dn_id_damage_notifications"
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submissions.id"], name="fk_files_submission_id_submissions"
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employees.id"], name="fk_files_employee_id_employees"
        ),
        sa.ForeignKeyConstraint(
            ["client_pk"], ["oauth_clients.id"], name="fk_files_client_pk_oauth_clients"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_files"),
        sa.UniqueConstraint("blob_id", name="uq_files_blob_id"),
    )
    op.create_index("ix_files_case_id", "files", ["case_id"])
    op.create_index("ix_files_dn_id", "files", ["dn_id"])


def _create_bookkeeping() -> None:
    op.create_table(
        "idempotency_records",
        sa.Column("client_id", sa.String(200), nullable=False),
        sa.Column("endpoint", sa.String(32), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("request_sha256", sa.String(64), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("lease_until", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("state IN ('in_flight', 'done')", name="ck_idempotency_records_state"),
        sa.PrimaryKeyConstraint("client_id", "endpoint", "key", name="pk_idempotency_records"),
    )
    op.create_index("ix_idempotency_records_expires_at", "idempotency_records", ["expires_at"])
    op.create_table(
        "used_assertions",
        sa.Column("issuer", sa.String(200), nullable=False),
        sa.Column("jti", sa.String(255), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("issuer", "jti", name="pk_used_assertions"),
    )
    op.create_index("ix_used_assertions_expires_at", "used_assertions", ["expires_at"])
    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.String(100), nullable=False),
        sa.Column("private_pem", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("retired_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("kid", name="pk_signing_keys"),
    )
