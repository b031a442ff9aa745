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

__all__ = ["api_keys", "audit_head", "audit_log", "key_revision", "metadata", "users"]

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
