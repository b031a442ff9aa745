"""Reading and writing API keys, and the revision counter that tells servers to reload."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, func, insert, select, update
from sqlalchemy.engine import Connection

from sealbook.keys.model import ApiKeyRecord
from sealbook.keys.permissions import Permission
from sealbook.keys.schemes import KeyType
from sealbook.store.tables import api_keys, key_revision

__all__ = [
    "bump_revision",
    "get_by_api_key",
    "get_by_id",
    "insert_key",
    "list_for_user",
    "read_revision",
    "record_from_row",
    "record_last_use",
    "update_key",
]


def record_from_row(row: Row[Any]) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=row.id,
        user_id=row.user_id,
        api_key=row.api_key,
        label=row.label,
        key_type=KeyType(row.key_type),
        permissions=frozenset(Permission(p) for p in row.permissions.split(",") if p),
        ips=tuple(ip for ip in row.ips.split(",") if ip),
        created_ms=row.created_ms,
        unbound_since_ms=row.unbound_since_ms,
        passphrase_digest=bytes(row.passphrase_digest),
        sealed_secret=bytes(row.sealed_secret) if row.sealed_secret is not None else None,
        public_key=row.public_key,
        window_ms=row.window_ms,
        expires_ms=row.expires_ms,
        revoked_ms=row.revoked_ms,
        revoke_reason=row.revoke_reason,
        dies_ms=row.dies_ms,
        rotated_to=row.rotated_to,
        last_used_ms=row.last_used_ms,
        last_used_ip=row.last_used_ip,
    )


def _columns(
    permissions: frozenset[Permission] | None = None, ips: tuple[str, ...] | None = None
) -> dict[str, str]:
    out: dict[str, str] = {}
    if permissions is not None:
        out["permissions"] = ",".join(p.value for p in Permission if p in permissions)
    if ips is not None:
        out["ips"] = ",".join(ips)
    return out


def insert_key(conn: Connection, record: ApiKeyRecord) -> int:
    values = {
        "user_id": record.user_id,
        "api_key": record.api_key,
        "label": record.label,
        "key_type": record.key_type.value,
        "passphrase_digest": record.passphrase_digest,
        "sealed_secret": record.sealed_secret,
        "public_key": record.public_key,
        "window_ms": record.window_ms,
        "created_ms": record.created_ms,
        "unbound_since_ms": record.unbound_since_ms,
        "expires_ms": record.expires_ms,
        **_columns(record.permissions, record.ips),
    }
    result = conn.execute(insert(api_keys).values(**values).returning(api_keys.c.id))
    return int(result.scalar_one())


def update_key(
    conn: Connection,
    key_id: int,
    *,
    permissions: frozenset[Permission] | None = None,
    ips: tuple[str, ...] | None = None,
    **fields: Any,
) -> None:
    values = {**fields, **_columns(permissions, ips)}
    if values:
        conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(**values))


def get_by_api_key(conn: Connection, api_key: str) -> ApiKeyRecord | None:
    row = conn.execute(select(api_keys).where(api_keys.c.api_key == api_key)).first()
    return record_from_row(row) if row is not None else None


def get_by_id(conn: Connection, key_id: int) -> ApiKeyRecord | None:
    row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).first()
    return record_from_row(row) if row is not None else None


def list_for_user(conn: Connection, user_id: int) -> list[ApiKeyRecord]:
    rows = conn.execute(
        select(api_keys).where(api_keys.c.user_id == user_id).order_by(api_keys.c.id)
    )
    return [record_from_row(r) for r in rows]


def record_last_use(conn: Connection, uses: dict[int, tuple[int, str]]) -> None:
    for key_id, (ts_ms, ip) in uses.items():
        conn.execute(
            update(api_keys)
            .where(api_keys.c.id == key_id)
            .where(func.coalesce(api_keys.c.last_used_ms, 0) < ts_ms)
            .values(last_used_ms=ts_ms, last_used_ip=ip)
        )


def bump_revision(conn: Connection) -> None:
    conn.execute(
        update(key_revision)
        .where(key_revision.c.id == 1)
        .values(revision=key_revision.c.revision + 1)
    )


def read_revision(conn: Connection) -> int:
    return int(
        conn.execute(select(key_revision.c.revision).where(key_revision.c.id == 1)).scalar_one()
    )
