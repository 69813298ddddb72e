"""Thumbnails (§11.2): one row per (file, longest side), naming its blob in the store.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "thumbnails",
        sa.Column("file_id", sa.Uuid(), nullable=False),
        sa.Column("longest_side", sa.Integer(), nullable=False),
        sa.Column("blob_id", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["files.id"],
            name=op.f("fk_thumbnails_file_id_files"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("file_id", "longest_side", name=op.f("pk_thumbnails")),
        sa.UniqueConstraint("blob_id", name=op.f("uq_thumbnails_blob_id")),
    )


def downgrade() -> None:
    op.drop_table("thumbnails")
