"""The schema's revisions build exactly the tables the code declares, on SQLite and
PostgreSQL, and take up a database from before migrations without losing a row."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from schema_history import LATER_COLUMNS, LATER_TABLES, strip_later
from sqlalchemy import Engine, func, insert, inspect, select

from sealbook.store import migrations
from sealbook.store.db import make_engine, migrate
from sealbook.store.tables import metadata, users


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    else:
        url = request.getfixturevalue("fresh_pg_url")
    eng = make_engine(url)
    request.addfinalizer(eng.dispose)
    return eng


def _revision(eng: Engine) -> str | None:
    with eng.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def test_the_revisions_build_exactly_the_declared_tables(engine: Engine) -> None:
    migrate(engine)
    head = ScriptDirectory.from_config(migrations.config()).get_current_head()
    assert _revision(engine) == head
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), metadata
        )
    # A change to sealbook.store.tables without its revision shows here: write one with
    # `python -m sealbook.store.migrations "what changed"`.
    assert diff == []


def test_migrating_again_changes_nothing(engine: Engine) -> None:
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(insert(users).values(name="alice", password_hash="x", created_ms=1))
    migrate(engine)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(users)).scalar_one() == 1




def test_a_database_from_before_migrations_is_taken_up_whole(engine: Engine) -> None:
    # What the versions before migrations left: every table of the day (created by
    # metadata.create_all), some rows, and no alembic_version.
    metadata.create_all(engine)
    strip_later(engine)
    with engine.begin() as conn:
        conn.execute(insert(users).values(name="alice", password_hash="x", created_ms=1))
    assert _revision(engine) is None

    migrate(engine)
    assert _revision(engine) == ScriptDirectory.from_config(migrations.config()).get_current_head()
    with engine.connect() as conn:
        assert {t.name for t in LATER_TABLES} <= set(inspect(conn).get_table_names())
        order_columns = {c["name"] for c in inspect(conn).get_columns("orders")}
        assert set(LATER_COLUMNS["orders"]) <= order_columns
        assert conn.execute(select(users.c.name)).scalars().all() == ["alice"]
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), metadata
        )
    assert diff == []
