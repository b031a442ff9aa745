"""SQLAlchemy Core tables. Times are integer milliseconds; secrets are only ever sealed."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

from sealbook.store.types import Atoms

__all__ = [
    "api_keys",
    "audit_head",
    "audit_log",
    "audit_seal",
    "deposits",
    "fills",
    "inbox",
    "key_revision",
    "ledger_checkpoint_balances",
    "ledger_checkpoint_holds",
    "ledger_checkpoints",
    "metadata",
    "orders",
    "postings",
    "user_settings",
    "users",
    "withdraw_addresses",
    "withdrawals",
]

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("totp_sealed", LargeBinary, nullable=True),
    Column("totp_confirmed", Boolean, nullable=False, default=False),
    Column("totp_last_step", BigInteger, nullable=False, default=-1),
    Column("totp_failures", Integer, nullable=False, default=0),
    Column("totp_locked_until_ms", BigInteger, nullable=False, default=0),
    Column("created_ms", BigInteger, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("api_key", String(64), nullable=False, unique=True),
    Column("label", String(64), nullable=False),
    Column("key_type", String(16), nullable=False),
    Column("permissions", Text, nullable=False),
    Column("ips", Text, nullable=False, default=""),
    Column("passphrase_digest", LargeBinary, nullable=False),
    Column("sealed_secret", LargeBinary, nullable=True),
    Column("public_key", Text, nullable=True),
    Column("window_ms", Integer, nullable=True),
    Column("created_ms", BigInteger, nullable=False),
    Column("unbound_since_ms", BigInteger, nullable=False),
    Column("expires_ms", BigInteger, nullable=True),
    Column("revoked_ms", BigInteger, nullable=True),
    Column("revoke_reason", Text, nullable=True),
    Column("dies_ms", BigInteger, nullable=True),
    Column("rotated_to", String(64), nullable=True),
    Column("last_used_ms", BigInteger, nullable=True),
    Column("last_used_ip", String(64), nullable=True),
    Index("ix_api_keys_user", "user_id"),
)

# One row, bumped in the same transaction as any change to a key, so servers can tell
# cheaply whether their cache of keys is stale.
key_revision = Table(
    "key_revision",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("revision", BigInteger, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("ts_ms", BigInteger, nullable=False),
    Column("kind", String(48), nullable=False),
    Column("user_id", Integer, nullable=True),
    Column("key_prefix", String(16), nullable=True),
    Column("ip", String(64), nullable=True),
    Column("detail", Text, nullable=False),
    Column("prev_hash", LargeBinary, nullable=False),
    Column("hash", LargeBinary, nullable=False),
    Index("ix_audit_user", "user_id"),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("hash", LargeBinary, nullable=False),
)

# One HMAC per audit_log entry, keyed from the master key (sealbook.keys.auditseal). A
# table of its own so databases from before seals gain it through create_all.
audit_seal = Table(
    "audit_seal",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("mac", LargeBinary, nullable=False),
)

# --- the exchange ---------------------------------------------------------------------

orders = Table(
    "orders",
    metadata,
    Column("order_id", BigInteger, primary_key=True, autoincrement=False),
    Column("client_oid", String(64), nullable=False),
    # Whether the server generated the clientOid ('sb' + digits): a restart retires only
    # the ones users chose, and reads no others. NULL on rows from before revision 0003.
    Column("oid_generated", Boolean, nullable=True),
    Column("user_id", Integer, nullable=False),
    Column("symbol", String(32), nullable=False),
    Column("side", String(8), nullable=False),
    Column("order_type", String(8), nullable=False),
    Column("force", String(16), nullable=False),
    Column("price_ticks", Atoms, nullable=True),
    Column("size_lots", Atoms, nullable=True),
    Column("budget_atoms", Atoms, nullable=True),
    Column("status", String(20), nullable=False),
    Column("filled_lots", Atoms, nullable=False),
    Column("filled_quote_atoms", Atoms, nullable=False),
    Column("fees", Text, nullable=False),  # JSON: coin → atoms as a decimal string
    Column("cancel_reason", String(20), nullable=False),
    Column("ctime_ms", BigInteger, nullable=False),
    Column("utime_ms", BigInteger, nullable=False),
    Index("ux_orders_client", "user_id", "client_oid", unique=True),
    Index("ix_orders_user_status", "user_id", "status"),
    Index("ix_orders_user_ctime", "user_id", "ctime_ms"),
)

fills = Table(
    "fills",
    metadata,
    Column("trade_id", BigInteger, primary_key=True, autoincrement=False),
    Column("order_id", BigInteger, primary_key=True, autoincrement=False),
    Column("user_id", Integer, nullable=False),
    Column("symbol", String(32), nullable=False),
    Column("side", String(8), nullable=False),
    Column("order_type", String(8), nullable=False),
    Column("price_ticks", Atoms, nullable=False),
    Column("lots", Atoms, nullable=False),
    Column("quote_atoms", Atoms, nullable=False),
    Column("maker", Boolean, nullable=False),
    Column("fee_coin", String(16), nullable=False),
    Column("fee_atoms", Atoms, nullable=False),
    Column("ts_ms", BigInteger, nullable=False),
    Index("ix_fills_user_ts", "user_id", "ts_ms"),
    Index("ix_fills_symbol_ts", "symbol", "ts_ms"),
)

postings = Table(
    "postings",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("transfer_id", String(96), nullable=False, unique=True),
    Column("debit_owner", String(16), nullable=False),
    Column("debit_bucket", String(10), nullable=False),
    Column("credit_owner", String(16), nullable=False),
    Column("credit_bucket", String(10), nullable=False),
    Column("asset", String(16), nullable=False),
    Column("amount", Atoms, nullable=False),
    Column("kind", String(24), nullable=False),
    Column("ref", String(64), nullable=False),
    Column("hold_id", String(32), nullable=True),
)

# The ledger's state as of a posting (every balance, and each open hold with its record and
# what is left of it), written now and then so a restart reads the postings after the last
# one instead of the whole history. ``sealbook ledger check`` checks the newest against the
# log. A row here is written last, so its balances and holds are all there.
ledger_checkpoints = Table(
    "ledger_checkpoints",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
)

ledger_checkpoint_balances = Table(
    "ledger_checkpoint_balances",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("owner", String(16), primary_key=True),
    Column("asset", String(16), primary_key=True),
    Column("bucket", String(10), primary_key=True),
    Column("amount", Atoms, nullable=False),
)

ledger_checkpoint_holds = Table(
    "ledger_checkpoint_holds",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("hold_id", String(32), primary_key=True),
    Column("user_id", Integer, nullable=False),
    Column("asset", String(16), nullable=False),
    Column("amount", Atoms, nullable=False),
    Column("kind", String(24), nullable=False),
    Column("ref", String(64), nullable=False),
    Column("remaining", Atoms, nullable=False),
)

deposits = Table(
    "deposits",
    metadata,
    Column("deposit_id", BigInteger, primary_key=True, autoincrement=False),
    Column("user_id", Integer, nullable=False),
    Column("coin", String(16), nullable=False),
    Column("chain", String(32), nullable=False),
    Column("amount", Atoms, nullable=False),
    Column("address", String(128), nullable=False),
    Column("tx_id", String(96), nullable=False),
    Column("ts_ms", BigInteger, nullable=False),
    Index("ix_deposits_user_ts", "user_id", "ts_ms"),
)

withdrawals = Table(
    "withdrawals",
    metadata,
    Column("withdrawal_id", BigInteger, primary_key=True, autoincrement=False),
    Column("client_oid", String(64), nullable=False),
    Column("user_id", Integer, nullable=False),
    Column("coin", String(16), nullable=False),
    Column("chain", String(32), nullable=False),
    Column("address", String(128), nullable=False),
    Column("tag", String(64), nullable=False),
    Column("amount", Atoms, nullable=False),
    Column("fee", Atoms, nullable=False),
    Column("status", String(12), nullable=False),
    Column("ctime_ms", BigInteger, nullable=False),
    Column("utime_ms", BigInteger, nullable=False),
    Column("tx_id", String(96), nullable=False),
    Index("ix_withdrawals_user_ts", "user_id", "ctime_ms"),
    Index("ux_withdrawals_client", "user_id", "client_oid", unique=True),
)

user_settings = Table(
    "user_settings",
    metadata,
    Column("user_id", Integer, primary_key=True, autoincrement=False),
    Column("bgb_deduct", Boolean, nullable=False),
)

withdraw_addresses = Table(
    "withdraw_addresses",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, nullable=False),
    Column("coin", String(16), nullable=False),
    Column("chain", String(32), nullable=False),
    Column("address", String(128), nullable=False),
    Column("tag", String(64), nullable=False),
    Column("label", String(64), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Index("ux_withdraw_addresses", "user_id", "coin", "chain", "address", "tag", unique=True),
)

# Commands from other processes (the CLI) for the running server's single writer. A row
# is marked done in the same transaction that records its effects: applied exactly once.
inbox = Table(
    "inbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("done_ms", BigInteger, nullable=True),
    Column("result", Text, nullable=True),
)
