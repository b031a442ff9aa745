"""Appending to and reading the audit chain. Appends run inside the caller's transaction.

Every entry is written with its seal (:mod:`sealbook.keys.auditseal`), so only an
:class:`AuditLog`, which holds the seal key, can append. Checking the plain chain needs
no key (:func:`verify`); checking the seals as well needs it (:meth:`AuditLog.verify`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.engine import Connection, Row

from sealbook.keys.audit import AuditEntry, ChainReport, canonical_detail, entry_hash, verify_chain
from sealbook.keys.auditseal import SealKey, verify_sealed_chain
from sealbook.keys.sealing import MasterKey
from sealbook.store.tables import audit_head, audit_log, audit_seal

__all__ = ["AuditChainBroken", "AuditLog", "entries_for_user", "stored_hash", "verify"]

_BATCH = 1_000


class AuditChainBroken(RuntimeError):
    """The plain chain does not verify, so sealing it now would bless the damage."""

    def __init__(self, report: ChainReport) -> None:
        super().__init__(
            f"the audit chain is broken at entry {report.first_bad_seq} ({report.reason}), "
            "so its entries were not sealed; run `sealbook audit verify` and find out what "
            "changed before starting again"
        )
        self.report = report


class AuditLog:
    """Appends sealed entries and checks seals. Holds the seal key; its repr shows nothing."""

    __slots__ = ("_key",)

    def __init__(self, key: SealKey) -> None:
        self._key = key

    @classmethod
    def from_master(cls, master: MasterKey) -> AuditLog:
        return cls(SealKey(master))

    def append(
        self,
        conn: Connection,
        ts_ms: int,
        kind: str,
        *,
        user_id: int | None = None,
        key_prefix: str | None = None,
        ip: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> int:
        """Append one sealed entry; concurrent appenders are serialised on the head row."""
        seq, prev = _lock_head(conn)
        seq += 1
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
        conn.execute(insert(audit_seal).values(seq=seq, mac=self._key.seal(seq, digest)))
        conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=seq, hash=digest))
        return seq

    def seal_unsealed(self, engine: Engine) -> tuple[int, int]:
        """Seal the entries from before seals existed, in one transaction.

        Returns the head's sequence number and how many entries were sealed now.

        For databases written before seals existed. The plain chain is checked first, under
        the head lock: if it is broken nothing is sealed and :class:`AuditChainBroken` is
        raised. Only the unsealed entries *before the first sealed one* are sealed: every
        entry appended since seals exist got its seal when it was written, so an unsealed
        entry after a sealed one lost its seal and is left for ``verify`` to report, even
        when the marker could not be written. Existing seals are left as they are.
        """
        with engine.begin() as conn:
            head_seq, head_hash = _lock_head(conn)
            report = verify_chain(_entries(conn), (head_seq, head_hash))
            if not report.ok:
                raise AuditChainBroken(report)
            first_sealed = conn.execute(
                select(func.min(audit_seal.c.seq))
            ).scalar_one_or_none()
            unsealed = (
                select(audit_log.c.seq, audit_log.c.hash)
                .select_from(audit_log.outerjoin(audit_seal, audit_seal.c.seq == audit_log.c.seq))
                .where(audit_seal.c.seq.is_(None))
                .order_by(audit_log.c.seq)
            )
            if first_sealed is not None:
                unsealed = unsealed.where(audit_log.c.seq < int(first_sealed))
            batch: list[dict[str, Any]] = []
            rows = conn.execute(unsealed).all()
            for row in rows:
                seq = int(row.seq)
                batch.append({"seq": seq, "mac": self._key.seal(seq, bytes(row.hash))})
                if len(batch) >= _BATCH:
                    conn.execute(insert(audit_seal), batch)
                    batch = []
            if batch:
                conn.execute(insert(audit_seal), batch)
            return head_seq, len(rows)

    def verify(self, engine: Engine, *, unsealed_ok: bool = False) -> ChainReport:
        """Check the plain chain and every entry's seal; a seal without an entry is a break.
        ``unsealed_ok``: entries without a seal are tolerated (a home never sealed yet)."""
        with _snapshot(engine) as conn:
            head = _head(conn)
            query = (
                select(audit_log, audit_seal.c.mac)
                .select_from(audit_log.outerjoin(audit_seal, audit_seal.c.seq == audit_log.c.seq))
                .order_by(audit_log.c.seq)
            )
            rows = (
                (_entry(row), bytes(row.mac) if row.mac is not None else None)
                for row in conn.execute(query)
            )
            orphans = (
                select(audit_seal.c.seq)
                .select_from(audit_seal.outerjoin(audit_log, audit_log.c.seq == audit_seal.c.seq))
                .where(audit_log.c.seq.is_(None))
                .order_by(audit_seal.c.seq)
                .limit(1)
            )
            orphan_seqs = [int(seq) for seq in conn.execute(orphans).scalars()]
            return verify_sealed_chain(
                rows, head, self._key, orphan_seqs, unsealed_ok=unsealed_ok
            )

    def __repr__(self) -> str:
        return "AuditLog(<redacted>)"

    __str__ = __repr__


_HEAD = select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)


def _lock_head(conn: Connection) -> tuple[int, bytes]:
    query = _HEAD
    if conn.dialect.name != "sqlite":  # SQLite already holds the write lock (BEGIN IMMEDIATE)
        query = query.with_for_update()
    row = conn.execute(query).one()
    return int(row.seq), bytes(row.hash)


def _head(conn: Connection) -> tuple[int, bytes] | None:
    row = conn.execute(_HEAD).first()
    return (int(row.seq), bytes(row.hash)) if row is not None else None


def _snapshot(engine: Engine) -> Connection:
    """A connection whose reads all see one moment, so a concurrent append is not a break.

    SQLite reads inside BEGIN IMMEDIATE already; PostgreSQL needs REPEATABLE READ.
    """
    conn = engine.connect()
    if conn.dialect.name != "sqlite":
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
    return conn


def _entry(row: Row[Any]) -> AuditEntry:
    return AuditEntry(
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


def _entries(conn: Connection, where: Any = None, limit: int | None = None) -> Iterator[AuditEntry]:
    query = select(audit_log).order_by(audit_log.c.seq)
    if where is not None:
        query = query.where(where)
    if limit is not None:
        query = query.order_by(None).order_by(audit_log.c.seq.desc()).limit(limit)
    for row in conn.execute(query):
        yield _entry(row)


def entries_for_user(engine: Engine, user_id: int, limit: int = 100) -> list[AuditEntry]:
    with engine.connect() as conn:
        return list(_entries(conn, audit_log.c.user_id == user_id, limit))


def stored_hash(engine: Engine, seq: int) -> bytes | None:
    """The hash stored with entry ``seq``, or None if there is no such entry."""
    with engine.connect() as conn:
        found = conn.execute(select(audit_log.c.hash).where(audit_log.c.seq == seq)).first()
    return bytes(found.hash) if found is not None else None


def verify(engine: Engine) -> ChainReport:
    """Check the plain SHA-256 chain only: needs no key, so seals are not checked."""
    with _snapshot(engine) as conn:
        return verify_chain(_entries(conn), _head(conn))
