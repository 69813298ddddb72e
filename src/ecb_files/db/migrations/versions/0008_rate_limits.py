"""The §12.2 rate limits, shared by every process of a deployment.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05

- ``rate_buckets``: one row per (limit, OAuth client): the GCRA state of its submission,
  byte and read limits.
- ``auth_failures``: failed client authentications at the token endpoint, by address
  (and the SHA-256 of the client id named), counted towards that address's lockout.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_buckets",
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("tat_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_buckets")),
    )
    op.create_table(
        "auth_failures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("client_sha256", sa.String(64), nullable=True),
        sa.Column("failed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_failures")),
    )
    op.create_index(
        "ix_auth_failures_address_failed_at", "auth_failures", ["address", "failed_at"]
    )
    op.create_index(op.f("ix_auth_failures_failed_at"), "auth_failures", ["failed_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_auth_failures_failed_at"), table_name="auth_failures")
    op.drop_index("ix_auth_failures_address_failed_at", table_name="auth_failures")
    op.drop_table("auth_failures")
    op.drop_table("rate_buckets")
