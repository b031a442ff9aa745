"""What the schema gained after the versions without migrations: a database those versions
left has none of it, and the tests that rebuild one take it away again."""

from __future__ import annotations

from sqlalchemy import Engine, text

from sealbook.store.tables import (
    audit_seal,
    ledger_checkpoint_balances,
    ledger_checkpoint_holds,
    ledger_checkpoints,
)

LATER_TABLES = (audit_seal, ledger_checkpoints, ledger_checkpoint_balances, ledger_checkpoint_holds)
LATER_COLUMNS = {"orders": ("oid_generated",)}


def strip_later(engine: Engine) -> None:
    """Drop what came later from a database the current code created."""
    for table in LATER_TABLES:
        table.drop(engine, checkfirst=True)
    with engine.begin() as conn:
        for table_name, columns in LATER_COLUMNS.items():
            for column in columns:
                conn.execute(text(f"ALTER TABLE {table_name} DROP COLUMN {column}"))
