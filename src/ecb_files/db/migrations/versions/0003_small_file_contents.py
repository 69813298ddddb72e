"""Small files' bytes kept with their rows (the embedded store of §3.4's small files).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "small_file_contents",
        sa.Column("blob_id", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["blob_id"],
            ["files.blob_id"],
            name=op.f("fk_small_file_contents_blob_id_files"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("blob_id", name=op.f("pk_small_file_contents")),
    )


def downgrade() -> None:
    op.drop_table("small_file_contents")
