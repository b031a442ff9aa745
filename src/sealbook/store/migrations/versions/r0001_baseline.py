"""Baseline: the schema as it stood when migrations began (2026-11-30).

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-30 18:12:55.007271
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sealbook.store.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database from before migrations has most of these tables already (created by
    # the versions that ran metadata.create_all): create only the missing ones, each
    # with its indexes. A new database gets them all.
    have = set(sa.inspect(op.get_bind()).get_table_names())
    if "audit_head" not in have:
        op.create_table(
            "audit_head",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("seq", sa.BigInteger(), nullable=False),
            sa.Column("hash", sa.LargeBinary(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
    if "audit_log" not in have:
        op.create_table(
            "audit_log",
            sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column("ts_ms", sa.BigInteger(), nullable=False),
            sa.Column("kind", sa.String(length=48), nullable=False),
            sa.Column("user_id", sa.Integer(), nullable=True),
            sa.Column("key_prefix", sa.String(length=16), nullable=True),
            sa.Column("ip", sa.String(length=64), nullable=True),
            sa.Column("detail", sa.Text(), nullable=False),
            sa.Column("prev_hash", sa.LargeBinary(), nullable=False),
            sa.Column("hash", sa.LargeBinary(), nullable=False),
            sa.PrimaryKeyConstraint("seq"),
        )
        with op.batch_alter_table("audit_log", schema=None) as batch_op:
            batch_op.create_index("ix_audit_user", ["user_id"], unique=False)
    if "audit_seal" not in have:
        op.create_table(
            "audit_seal",
            sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column("mac", sa.LargeBinary(), nullable=False),
            sa.PrimaryKeyConstraint("seq"),
        )
    if "deposits" not in have:
        op.create_table(
            "deposits",
            sa.Column("deposit_id", sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column("user_id", sa.Integer(), nullable=False),
            sa.Column("coin", sa.String(length=16), nullable=False),
            sa.Column("chain", sa.String(length=32), nullable=False),
            sa.Column("amount", sealbook.store.types.Atoms(), nullable=False),
            sa.Column("address", sa.String(length=128), nullable=False),
            sa.Column("tx_id", sa.String(length=96), nullable=False),
            sa.Column("ts_ms", sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint("deposit_id"),
        )
        with op.batch_alter_table("deposits", schema=None) as batch_op:
            batch_op.create_index("ix_deposits_user_ts", ["user_id", "ts_ms"], unique=False)
    if "fills" not in have:
        op.create_table(
            "fills",
            sa.Column("trade_id", sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column("order_id", sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column("user_id", sa.Integer(), nullable=False),
            sa.Column("symbol", sa.String(length=32), nullable=False),
            sa.Column("side", sa.String(length=8), nullable=False),
            sa.Column("order_type", sa.String(length=8), nullable=False),
            sa.Column("price_ticks", sealbook.store.types.Atoms(), nullable=False),
            sa.Column("lots", sealbook.store.types.Atoms(), nullable=False),
            sa.Column("quote_atoms", sealbook.store.types.Atoms(), nullable=False),
            sa.Column("maker", sa.Boolean(), nullable=False),
            sa.Column("fee_coin", sa.String(length=16), nullable=False),
            sa.Column("fee_atoms", sealbook.store.types.Atoms(), nullable=False),
            sa.Column("ts_ms", sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint("trade_id", "order_id"),
        )
        with op.batch_alter_table("fills", schema=None) as batch_op:
            batch_op.create_index("ix_fills_symbol_ts", ["symbol", "ts_ms"], unique=False)
            batch_op.create_index("ix_fills_user_ts", ["user_id", "ts_ms"], unique=False)
    if "inbox" not in have:
        op.create_table(
            "inbox",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("kind", sa.String(length=32), nullable=False),
            sa.Column("payload", sa.Text(), nullable=False),
            sa.Column("created_ms", sa.BigInteger(), nullable=False),
            sa.Column("done_ms", sa.BigInteger(), nullable=True),
            sa.Column("result", sa.Text(), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
    if "key_revision" not in have:
        op.create_table(
            "key_revision",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("revision", sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
    if "orders" not in have:
        op.create_table(
            "orders",
            sa.Column("order_id", sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column("client_oid", sa.String(length=64), nullable=False),
            sa.Column("user_id", sa.Integer(), nullable=False),
            sa.Column("symbol", sa.String(length=32), nullable=False),
            sa.Column("side", sa.String(length=8), nullable=False),
            sa.Column("order_type", sa.String(length=8), nullable=False),
            sa.Column("force", sa.String(length=16), nullable=False),
            sa.Column("price_ticks", sealbook.store.types.Atoms(), nullable=True),
            sa.Column("size_lots", sealbook.store.types.Atoms(), nullable=True),
            sa.Column("budget_atoms", sealbook.store.types.Atoms(), nullable=True),
            sa.Column("status", sa.String(length=20), nullable=False),
            sa.Column("filled_lots", sealbook.store.types.Atoms(), nullable=False),
            sa.Column("filled_quote_atoms", sealbook.store.types.Atoms(), nullable=False),
            sa.Column("fees", sa.Text(), nullable=False),
            sa.Column("cancel_reason", sa.String(length=20), nullable=False),
            sa.Column("ctime_ms", sa.BigInteger(), nullable=False),
            sa.Column("utime_ms", sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint("order_id"),
        )
        with op.batch_alter_table("orders", schema=None) as batch_op:
            batch_op.create_index("ix_orders_user_ctime", ["user_id", "ctime_ms"], unique=False)
            batch_op.create_index("ix_orders_user_status", ["user_id", "status"], unique=False)
            batch_op.create_index("ux_orders_client", ["user_id", "client_oid"], unique=True)
    if "postings" not in have:
        op.create_table(
            "postings",
            sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column("transfer_id", sa.String(length=96), nullable=False),
            sa.Column("debit_owner", sa.String(length=16), nullable=False),
            sa.Column("debit_bucket", sa.String(length=10), nullable=False),
            sa.Column("credit_owner", sa.String(length=16), nullable=False),
            sa.Column("credit_bucket", sa.String(length=10), nullable=False),
            sa.Column("asset", sa.String(length=16), nullable=False),
            sa.Column("amount", sealbook.store.types.Atoms(), nullable=False),
            sa.Column("kind", sa.String(length=24), nullable=False),
            sa.Column("ref", sa.String(length=64), nullable=False),
            sa.Column("hold_id", sa.String(length=32), nullable=True),
            sa.PrimaryKeyConstraint("seq"),
            sa.UniqueConstraint("transfer_id"),
        )
    if "user_settings" not in have:
        op.create_table(
            "user_settings",
            sa.Column("user_id", sa.Integer(), autoincrement=False, nullable=False),
            sa.Column("bgb_deduct", sa.Boolean(), nullable=False),
            sa.PrimaryKeyConstraint("user_id"),
        )
    if "users" not in have:
        op.create_table(
            "users",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("name", sa.String(length=64), nullable=False),
            sa.Column("password_hash", sa.Text(), nullable=False),
            sa.Column("totp_sealed", sa.LargeBinary(), nullable=True),
            sa.Column("totp_confirmed", sa.Boolean(), nullable=False),
            sa.Column("totp_last_step", sa.BigInteger(), nullable=False),
            sa.Column("totp_failures", sa.Integer(), nullable=False),
            sa.Column("totp_locked_until_ms", sa.BigInteger(), nullable=False),
            sa.Column("created_ms", sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("name"),
        )
    if "withdraw_addresses" not in have:
        op.create_table(
            "withdraw_addresses",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("user_id", sa.Integer(), nullable=False),
            sa.Column("coin", sa.String(length=16), nullable=False),
            sa.Column("chain", sa.String(length=32), nullable=False),
            sa.Column("address", sa.String(length=128), nullable=False),
            sa.Column("tag", sa.String(length=64), nullable=False),
            sa.Column("label", sa.String(length=64), nullable=False),
            sa.Column("created_ms", sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("withdraw_addresses", schema=None) as batch_op:
            batch_op.create_index(
                "ux_withdraw_addresses", ["user_id", "coin", "chain", "address", "tag"], unique=True
            )
    if "withdrawals" not in have:
        op.create_table(
            "withdrawals",
            sa.Column("withdrawal_id", sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column("client_oid", sa.String(length=64), nullable=False),
            sa.Column("user_id", sa.Integer(), nullable=False),
            sa.Column("coin", sa.String(length=16), nullable=False),
            sa.Column("chain", sa.String(length=32), nullable=False),
            sa.Column("address", sa.String(length=128), nullable=False),
            sa.Column("tag", sa.String(length=64), nullable=False),
            sa.Column("amount", sealbook.store.types.Atoms(), nullable=False),
            sa.Column("fee", sealbook.store.types.Atoms(), nullable=False),
            sa.Column("status", sa.String(length=12), nullable=False),
            sa.Column("ctime_ms", sa.BigInteger(), nullable=False),
            sa.Column("utime_ms", sa.BigInteger(), nullable=False),
            sa.Column("tx_id", sa.String(length=96), nullable=False),
            sa.PrimaryKeyConstraint("withdrawal_id"),
        )
        with op.batch_alter_table("withdrawals", schema=None) as batch_op:
            batch_op.create_index("ix_withdrawals_user_ts", ["user_id", "ctime_ms"], unique=False)
            batch_op.create_index("ux_withdrawals_client", ["user_id", "client_oid"], unique=True)
    if "api_keys" not in have:
        op.create_table(
            "api_keys",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("user_id", sa.Integer(), nullable=False),
            sa.Column("api_key", sa.String(length=64), nullable=False),
            sa.Column("label", sa.String(length=64), nullable=False),
            sa.Column("key_type", sa.String(length=16), nullable=False),
            sa.Column("permissions", sa.Text(), nullable=False),
            sa.Column("ips", sa.Text(), nullable=False),
            sa.Column("passphrase_digest", sa.LargeBinary(), nullable=False),
            sa.Column("sealed_secret", sa.LargeBinary(), nullable=True),
            sa.Column("public_key", sa.Text(), nullable=True),
            sa.Column("window_ms", sa.Integer(), nullable=True),
            sa.Column("created_ms", sa.BigInteger(), nullable=False),
            sa.Column("unbound_since_ms", sa.BigInteger(), nullable=False),
            sa.Column("expires_ms", sa.BigInteger(), nullable=True),
            sa.Column("revoked_ms", sa.BigInteger(), nullable=True),
            sa.Column("revoke_reason", sa.Text(), nullable=True),
            sa.Column("dies_ms", sa.BigInteger(), nullable=True),
            sa.Column("rotated_to", sa.String(length=64), nullable=True),
            sa.Column("last_used_ms", sa.BigInteger(), nullable=True),
            sa.Column("last_used_ip", sa.String(length=64), nullable=True),
            sa.ForeignKeyConstraint(
                ["user_id"],
                ["users.id"],
            ),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("api_key"),
        )
        with op.batch_alter_table("api_keys", schema=None) as batch_op:
            batch_op.create_index("ix_api_keys_user", ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_api_keys_user")

    op.drop_table("api_keys")
    with op.batch_alter_table("withdrawals", schema=None) as batch_op:
        batch_op.drop_index("ux_withdrawals_client")
        batch_op.drop_index("ix_withdrawals_user_ts")

    op.drop_table("withdrawals")
    with op.batch_alter_table("withdraw_addresses", schema=None) as batch_op:
        batch_op.drop_index("ux_withdraw_addresses")

    op.drop_table("withdraw_addresses")
    op.drop_table("users")
    op.drop_table("user_settings")
    op.drop_table("postings")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ux_orders_client")
        batch_op.drop_index("ix_orders_user_status")
        batch_op.drop_index("ix_orders_user_ctime")

    op.drop_table("orders")
    op.drop_table("key_revision")
    op.drop_table("inbox")
    with op.batch_alter_table("fills", schema=None) as batch_op:
        batch_op.drop_index("ix_fills_user_ts")
        batch_op.drop_index("ix_fills_symbol_ts")

    op.drop_table("fills")
    with op.batch_alter_table("deposits", schema=None) as batch_op:
        batch_op.drop_index("ix_deposits_user_ts")

    op.drop_table("deposits")
    op.drop_table("audit_seal")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_user")

    op.drop_table("audit_log")
    op.drop_table("audit_head")
