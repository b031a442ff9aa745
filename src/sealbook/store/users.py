"""Users and their second-factor state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.engine import Connection

from sealbook.keys.totp import TotpState
from sealbook.store.tables import users

__all__ = [
    "UserRecord",
    "get_by_id",
    "get_by_name",
    "insert_user",
    "save_totp_state",
    "update_user",
]


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    name: str
    password_hash: str = field(repr=False)
    totp_sealed: bytes | None = field(repr=False)
    totp_confirmed: bool
    totp_state: TotpState
    created_ms: int


def _record(row: Row[Any]) -> UserRecord:
    return UserRecord(
        id=row.id,
        name=row.name,
        password_hash=row.password_hash,
        totp_sealed=bytes(row.totp_sealed) if row.totp_sealed is not None else None,
        totp_confirmed=bool(row.totp_confirmed),
        totp_state=TotpState(row.totp_last_step, row.totp_failures, row.totp_locked_until_ms),
        created_ms=row.created_ms,
    )


def insert_user(conn: Connection, name: str, password_hash: str, created_ms: int) -> int:
    result = conn.execute(
        insert(users)
        .values(
            name=name,
            password_hash=password_hash,
            totp_confirmed=False,
            totp_last_step=-1,
            totp_failures=0,
            totp_locked_until_ms=0,
            created_ms=created_ms,
        )
        .returning(users.c.id)
    )
    return int(result.scalar_one())


def get_by_name(conn: Connection, name: str, *, for_update: bool = False) -> UserRecord | None:
    query = select(users).where(users.c.name == name)
    if for_update and conn.dialect.name != "sqlite":
        query = query.with_for_update()
    row = conn.execute(query).first()
    return _record(row) if row is not None else None


def get_by_id(conn: Connection, user_id: int) -> UserRecord | None:
    row = conn.execute(select(users).where(users.c.id == user_id)).first()
    return _record(row) if row is not None else None


def update_user(conn: Connection, user_id: int, **values: Any) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(**values))


def save_totp_state(conn: Connection, user_id: int, state: TotpState) -> None:
    update_user(
        conn,
        user_id,
        totp_last_step=state.last_step,
        totp_failures=state.failures,
        totp_locked_until_ms=state.locked_until_ms,
    )
