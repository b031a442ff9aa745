"""store.keys, store.users and store.db: rows in and out, counters, idempotent migration."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select

from sealbook.keys.format import new_api_key
from sealbook.keys.model import ApiKeyRecord
from sealbook.keys.permissions import Permission
from sealbook.keys.schemes import KeyType
from sealbook.keys.totp import TotpState
from sealbook.store import keys as key_store
from sealbook.store import users as user_store
from sealbook.store.db import is_sqlite, make_engine, migrate
from sealbook.store.tables import audit_head, key_revision

T0 = 1_800_000_000_000


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    migrate(engine)
    yield engine
    engine.dispose()


def _record(user_id: int, **changes: object) -> ApiKeyRecord:
    values: dict[str, object] = {
        "id": 0,
        "user_id": user_id,
        "api_key": new_api_key(),
        "label": "bot",
        "key_type": KeyType.HMAC,
        "permissions": frozenset({Permission.READ, Permission.WITHDRAW}),
        "ips": ("203.0.113.7", "198.51.100.0/24"),
        "created_ms": T0,
        "unbound_since_ms": T0,
        "passphrase_digest": b"\x01" * 32,
        "sealed_secret": b"\x02" * 61,
        "window_ms": 10_000,
        "expires_ms": T0 + 1_000,
        **changes,
    }
    return ApiKeyRecord(**values)  # type: ignore[arg-type]


def test_migrate_is_idempotent(engine: Engine, db_url: str) -> None:
    migrate(engine)
    migrate(engine)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(key_revision)).scalar_one() == 1
        assert conn.execute(select(func.count()).select_from(audit_head)).scalar_one() == 1
    assert is_sqlite(engine) == db_url.startswith("sqlite")


def test_key_rows_round_trip(engine: Engine) -> None:
    with engine.begin() as conn:
        user_id = user_store.insert_user(conn, "alice", "$argon2id$stand-in", T0)
        record = _record(user_id)
        key_id = key_store.insert_key(conn, record)
    with engine.connect() as conn:
        stored = key_store.get_by_api_key(conn, record.api_key)
        assert stored == key_store.get_by_id(conn, key_id)
        assert key_store.list_for_user(conn, user_id) == [stored]
        assert key_store.get_by_api_key(conn, new_api_key()) is None
        assert key_store.list_for_user(conn, user_id + 1) == []
    assert stored is not None
    assert stored == _record(user_id, id=key_id, api_key=record.api_key)

    with engine.begin() as conn:
        key_store.update_key(
            conn, key_id, permissions=frozenset({Permission.READ}), ips=(), label="renamed"
        )
        key_store.update_key(conn, key_id)  # nothing to change: no statement at all
    with engine.connect() as conn:
        changed = key_store.get_by_id(conn, key_id)
    assert changed is not None
    assert (changed.permissions, changed.ips, changed.label) == (
        frozenset({Permission.READ}),
        (),
        "renamed",
    )


def test_revision_counter(engine: Engine) -> None:
    with engine.connect() as conn:
        assert key_store.read_revision(conn) == 0
    with engine.begin() as conn:
        key_store.bump_revision(conn)
        key_store.bump_revision(conn)
    with engine.connect() as conn:
        assert key_store.read_revision(conn) == 2


def test_last_use_only_moves_forward(engine: Engine) -> None:
    with engine.begin() as conn:
        user_id = user_store.insert_user(conn, "alice", "$argon2id$stand-in", T0)
        first = key_store.insert_key(conn, _record(user_id))
        second = key_store.insert_key(conn, _record(user_id))
    with engine.begin() as conn:
        key_store.record_last_use(conn, {first: (T0 + 10, "192.0.2.1"), second: (T0, "192.0.2.2")})
    with engine.begin() as conn:
        key_store.record_last_use(conn, {first: (T0 + 5, "192.0.2.3"), second: (T0 + 1, "::1")})
    with engine.connect() as conn:
        a, b = key_store.get_by_id(conn, first), key_store.get_by_id(conn, second)
    assert a is not None
    assert b is not None
    assert (a.last_used_ms, a.last_used_ip) == (T0 + 10, "192.0.2.1")
    assert (b.last_used_ms, b.last_used_ip) == (T0 + 1, "::1")


def test_user_rows_and_totp_state(engine: Engine) -> None:
    with engine.begin() as conn:
        user_id = user_store.insert_user(conn, "alice", "$argon2id$stand-in", T0)
    with engine.connect() as conn:
        user = user_store.get_by_name(conn, "alice")
    assert user is not None
    assert (user.id, user.name, user.created_ms) == (user_id, "alice", T0)
    assert user.totp_sealed is None
    assert not user.totp_confirmed
    assert user.totp_state == TotpState()
    assert "stand-in" not in repr(user)

    with engine.begin() as conn:
        locked = user_store.get_by_name(conn, "alice", for_update=True)
        assert locked == user
        user_store.update_user(conn, user_id, totp_sealed=b"\x09" * 40, totp_confirmed=True)
        user_store.save_totp_state(conn, user_id, TotpState(59_999_999, 3, T0 + 900_000))
    with engine.connect() as conn:
        again = user_store.get_by_id(conn, user_id)
        assert user_store.get_by_name(conn, "bob") is None
        assert user_store.get_by_id(conn, user_id + 1) is None
    assert again is not None
    assert again.totp_sealed == b"\x09" * 40
    assert again.totp_confirmed
    assert again.totp_state == TotpState(59_999_999, 3, T0 + 900_000)
