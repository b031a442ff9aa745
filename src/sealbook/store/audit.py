"""Appending to and reading the audit chain. Appends run inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import Connection

from sealbook.keys.audit import AuditEntry, ChainReport, canonical_detail, entry_hash, verify_chain
from sealbook.store.tables import audit_head, audit_log

__all__ = ["append", "entries_for_user", "verify"]


def append(
    conn: Connection,
    ts_ms: int,
    kind: str,
    *,
    user_id: int | None = None,
    key_prefix: str | None = None,
    ip: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> int:
    """Append one entry; concurrent appenders are serialised on the head row."""
    head_query = select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
    if conn.dialect.name != "sqlite":  # SQLite already holds the write lock (BEGIN IMMEDIATE)
        head_query = head_query.with_for_update()
    row = conn.execute(head_query).one()
    seq = int(row.seq) + 1
    prev = bytes(row.hash)
    text = canonical_detail(detail or {})
    digest = entry_hash(prev, seq, ts_ms, kind, user_id, key_prefix, ip, text)
    conn.execute(
        insert(audit_log).values(
            seq=seq,
            ts_ms=ts_ms,
            kind=kind,
            user_id=user_id,
            key_prefix=key_prefix,
            ip=ip,
            detail=text,
            prev_hash=prev,
            hash=digest,
        )
    )
    conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=seq, hash=digest))
    return seq


def _entries(conn: Connection, where: Any = None, limit: int | None = None) -> Iterator[AuditEntry]:
    query = select(audit_log).order_by(audit_log.c.seq)
    if where is not None:
        query = query.where(where)
    if limit is not None:
        query = query.order_by(None).order_by(audit_log.c.seq.desc()).limit(limit)
    for row in conn.execute(query):
        yield AuditEntry(
            seq=int(row.seq),
            ts_ms=int(row.ts_ms),
            kind=row.kind,
            user_id=row.user_id,
            key_prefix=row.key_prefix,
            ip=row.ip,
            detail=row.detail,
            prev_hash=bytes(row.prev_hash),
            hash=bytes(row.hash),
        )


def entries_for_user(engine: Engine, user_id: int, limit: int = 100) -> list[AuditEntry]:
    with engine.connect() as conn:
        return list(_entries(conn, audit_log.c.user_id == user_id, limit))


def verify(engine: Engine) -> ChainReport:
    with engine.connect() as conn:
        head_row = conn.execute(
            select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
        ).first()
        head = (int(head_row.seq), bytes(head_row.hash)) if head_row is not None else None
        return verify_chain(_entries(conn), head)
