"""A merged damage notification's files belong to the case alone (§1).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05

Merging used to set a file's ``case_id`` and keep its ``dn_id``, so ``files list --dn``
still listed files the merge had moved. A file now has one parent: this clears the
``dn_id`` of every file that has a case. The DN a file came in with stays on its
submission row, which is how the downgrade puts it back.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("UPDATE files SET dn_id = NULL WHERE case_id IS NOT NULL AND dn_id IS NOT NULL")


def downgrade() -> None:
    op.execute(
        "UPDATE files SET dn_id = "
        "(SELECT submissions.dn_id FROM submissions WHERE submissions.id = files.submission_id) "
        "WHERE case_id IS NOT NULL AND dn_id IS NULL"
    )
