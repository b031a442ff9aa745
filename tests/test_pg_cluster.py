"""The throwaway PostgreSQL cluster works, and NUMERIC keeps every digit."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.postgres

AMOUNT = "123456789012345678.123456789012345678"


def test_select_one(fresh_pg_url: str) -> None:
    engine = sa.create_engine(fresh_pg_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("select 1")).scalar_one() == 1
            assert conn.execute(sa.text("select current_database()")).scalar_one() == (
                sa.make_url(fresh_pg_url).database
            )
    finally:
        engine.dispose()


def test_numeric_round_trip_is_exact(fresh_pg_url: str) -> None:
    metadata = sa.MetaData()
    amounts = sa.Table(
        "amounts",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("value", sa.Numeric(36, 18), nullable=False),
    )
    engine = sa.create_engine(fresh_pg_url)
    try:
        with engine.begin() as conn:
            metadata.create_all(conn)
            conn.execute(amounts.insert(), [{"id": 1, "value": Decimal(AMOUNT)}])
        with engine.connect() as conn:
            stored = conn.execute(sa.select(amounts.c.value)).scalar_one()
            literal = conn.execute(sa.text(f"select numeric '{AMOUNT}'")).scalar_one()
    finally:
        engine.dispose()

    for value in (stored, literal):
        assert isinstance(value, Decimal)
        assert value == Decimal(AMOUNT)
        assert str(value) == AMOUNT
