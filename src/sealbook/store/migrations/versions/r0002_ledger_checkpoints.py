"""Ledger checkpoints: the ledger's state as of a posting, so a restart reads the postings
after the last checkpoint instead of the whole history.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 20:22:42.242689
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sealbook.store.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ledger_checkpoint_balances",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("owner", sa.String(length=16), nullable=False),
        sa.Column("asset", sa.String(length=16), nullable=False),
        sa.Column("bucket", sa.String(length=10), nullable=False),
        sa.Column("amount", sealbook.store.types.Atoms(), nullable=False),
        sa.PrimaryKeyConstraint("seq", "owner", "asset", "bucket"),
    )
    op.create_table(
        "ledger_checkpoint_holds",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hold_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("asset", sa.String(length=16), nullable=False),
        sa.Column("amount", sealbook.store.types.Atoms(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("remaining", sealbook.store.types.Atoms(), nullable=False),
        sa.PrimaryKeyConstraint("seq", "hold_id"),
    )
    op.create_table(
        "ledger_checkpoints",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )


def downgrade() -> None:
    op.drop_table("ledger_checkpoints")
    op.drop_table("ledger_checkpoint_holds")
    op.drop_table("ledger_checkpoint_balances")
