"""orders.oid_generated: whether the server generated the clientOid, so a restart reads
only the clientOids users chose (to retire them) instead of every closed order.

Rows from before this revision keep NULL: a restart checks those one by one, as before.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 22:17:20.541167
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("oid_generated", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("oid_generated")
