"""Alembic's entry point. Migrations run only through :func:`sealbook.store.db.migrate`,
which hands over its connection (and with it its transaction and locks)."""

from __future__ import annotations

from alembic import context

from sealbook.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through sealbook.store.db.migrate()")
context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things: batch mode copies the table instead.
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
