"""Database engines: SQLite (WAL, one writer at a time) by default, PostgreSQL by URL."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

from alembic import command
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, event, insert, select, text
from sqlalchemy.engine import Connection

from sealbook.store import migrations
from sealbook.store.tables import audit_head, key_revision

__all__ = ["is_sqlite", "make_engine", "migrate"]

log = logging.getLogger("sealbook.store")


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
            # Let SQLAlchemy own transactions, and take the write lock at BEGIN so two
            # writers never deadlock upgrading a read lock.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


# Held while migrating on PostgreSQL, so processes starting together take turns (SQLite
# serialises them already: every transaction begins with BEGIN IMMEDIATE).
_MIGRATION_LOCK = 0x5EA1B00C


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (:mod:`sealbook.store.migrations`) and
    create the single-row counters, in one transaction. Idempotent; a database from
    before migrations is taken up by the baseline, which adds only what it lacks."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        # Alembic narrates every run at INFO ("Context impl SQLiteImpl."); a server log
        # only needs to hear of a revision actually applied, which it says itself.
        alembic_log = logging.getLogger("alembic")
        level = alembic_log.level
        alembic_log.setLevel(logging.WARNING)
        try:
            before = MigrationContext.configure(conn).get_current_revision()
            command.upgrade(migrations.config(conn), "head")
            after = MigrationContext.configure(conn).get_current_revision()
        finally:
            alembic_log.setLevel(level)
        if after != before:
            log.info("database schema upgraded from revision %s to %s", before or "none", after)
        if conn.execute(select(key_revision.c.id)).first() is None:
            conn.execute(insert(key_revision).values(id=1, revision=0))
        if conn.execute(select(audit_head.c.id)).first() is None:
            conn.execute(insert(audit_head).values(id=1, seq=0, hash=b"\x00" * 32))
