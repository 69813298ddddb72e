"""FNoL (§10.2): each tenant's FNoL schema, the FNoL a damage notification was created
with, and the endpoint that creates damage notifications.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04

- ``insurance_companies.fnol_schema``: the tenant's JSON Schema as JSON text; ``NULL``
  means the built-in default.
- ``damage_notifications.fnol``: the ``damageNotification`` member of the FNoL exactly
  as sent (its JSON text); ``NULL`` for a DN created by a fixture.
- ``damage_notifications.created_at``: when it was created (``NULL`` for rows older
  than this revision). Who created it is on its first submission (endpoint
  ``damageNotification``).
- ``submissions.endpoint`` may be ``damageNotification``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ENDPOINTS_BEFORE = "endpoint IN ('submitForCase', 'submitForDamageNotification')"
_ENDPOINTS_AFTER = (
    "endpoint IN ('submitForCase', 'submitForDamageNotification', 'damageNotification')"
)


def upgrade() -> None:
    with op.batch_alter_table("insurance_companies") as table:
        table.add_column(sa.Column("fnol_schema", sa.Text(), nullable=True))
    with op.batch_alter_table("damage_notifications") as table:
        table.add_column(sa.Column("fnol", sa.Text(), nullable=True))
        table.add_column(sa.Column("created_at", sa.DateTime(), nullable=True))
    _replace_endpoint_check(_ENDPOINTS_AFTER)


def downgrade() -> None:
    # The files an FNoL brought stay on their DN, as if sent to submitForDamageNotification.
    op.execute(
        "UPDATE submissions SET endpoint = 'submitForDamageNotification' "
        "WHERE endpoint = 'damageNotification'"
    )
    _replace_endpoint_check(_ENDPOINTS_BEFORE)
    with op.batch_alter_table("damage_notifications") as table:
        table.drop_column("created_at")
        table.drop_column("fnol")
    with op.batch_alter_table("insurance_companies") as table:
        table.drop_column("fnol_schema")


def _replace_endpoint_check(condition: str) -> None:
    with op.batch_alter_table("submissions") as table:
        table.drop_constraint("ck_submissions_endpoint", type_="check")
        table.create_check_constraint("ck_submissions_endpoint", condition)
