"""Column types that keep every digit: integer atoms as NUMERIC (PostgreSQL) or TEXT (SQLite)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Dialect, Numeric, Text
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["Atoms"]


class Atoms(TypeDecorator[int]):
    """An exact integer of any size. Never REAL: SQLite stores it as decimal text."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(60, 0))
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: int | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("atoms are ints")
        return Decimal(value) if dialect.name == "postgresql" else str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        return int(value)
