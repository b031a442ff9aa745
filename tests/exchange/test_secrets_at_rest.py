"""Secrets never leak: not into the database, its WAL, a log line, or a repr.

A password, a TOTP seed, an HMAC secret and two passphrases are created through the real
services; then the database (every cell of every table, and for SQLite the bytes of the
file and its -wal), everything logged at DEBUG (SQLAlchemy's statement and parameter
logging included) and the repr of every object handed back are searched for each secret
in raw, hex, base64 and base32 form, and for the bytes a hex or base32 secret encodes.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select

from fixtures.services import (
    PASSPHRASE,
    START_MS,
    build_context,
    hmac_spec,
    make_user,
)
from sealbook.clock import ManualClock
from sealbook.errors import InvalidPassphraseFormat, SealbookError, WrongPassphrase
from sealbook.exchange.accounts import AccountService
from sealbook.exchange.apikeys import KeyService
from sealbook.exchange.context import Context
from sealbook.exchange.keyring import DbKeyDirectory
from sealbook.keys.permissions import Permission
from sealbook.keys.sealing import MasterKey
from sealbook.store.tables import metadata

PASSWORD = "Tr0ub4dor-and-3"
SECOND_PASSPHRASE = "Rotated2ndPass"


def encodings(secret: str) -> set[bytes]:
    """The secret as text, hex, base64 and base32, and so are the bytes it may encode."""
    raws = [secret.encode()]
    with contextlib.suppress(ValueError):
        raws.append(bytes.fromhex(secret))
    with contextlib.suppress(binascii.Error, ValueError):
        raws.append(base64.b32decode(secret.upper() + "=" * (-len(secret) % 8)))
    forms: set[bytes] = set()
    for raw in raws:
        b64 = base64.b64encode(raw)
        b32 = base64.b32encode(raw)
        forms |= {
            raw,
            raw.hex().encode(),
            raw.hex().upper().encode(),
            b64,
            b64.rstrip(b"="),
            base64.urlsafe_b64encode(raw).rstrip(b"="),
            b32,
            b32.rstrip(b"="),
            b32.lower().rstrip(b"="),
        }
    return forms


@dataclass
class Secrets:
    """What a user and the server must never see again, and what the services returned."""

    values: dict[str, str] = field(default_factory=dict)
    returned: list[object] = field(default_factory=list)

    def found_in(self, haystack: bytes) -> list[str]:
        return [
            name
            for name, value in self.values.items()
            if any(form in haystack for form in encodings(value))
        ]


def exercise(ctx: Context) -> Secrets:
    """Everything that handles a secret: sign-up, TOTP, an HMAC key, rotation, errors."""
    found = Secrets()
    accounts = AccountService(ctx)
    keys = KeyService(ctx, accounts)
    user = make_user(ctx, "alice", PASSWORD)
    found.values |= {"password": PASSWORD, "totp seed": user.seed, "passphrase": PASSPHRASE}
    assert accounts.authenticate("alice", PASSWORD) is not None

    created = keys.create(
        "alice",
        hmac_spec("bot", (Permission.READ, Permission.SPOT_TRADE), ("203.0.113.7",)),
        PASSPHRASE,
        user.code(),
    )
    assert created.secret is not None
    found.values["hmac secret"] = created.secret
    rotated = keys.rotate(created.record.api_key, SECOND_PASSPHRASE, user.code())
    assert rotated.secret is not None
    found.values |= {"rotated secret": rotated.secret, "second passphrase": SECOND_PASSPHRASE}

    directory = DbKeyDirectory(ctx)
    live = directory.get(created.record.api_key)
    assert live is not None
    found.returned += [
        created,
        created.record,
        rotated,
        accounts.get("alice"),
        keys.show(created.record.api_key),
        keys.list("alice"),
        live,
        live.scheme,
        ctx,
        ctx.sealer,
    ]

    # Errors that a secret went into: their messages must not echo it.
    errors: list[SealbookError] = []
    with pytest.raises(InvalidPassphraseFormat) as bad:
        keys.create("alice", hmac_spec(), f"{PASSPHRASE}!", user.code())
    errors.append(bad.value)
    errors.append(WrongPassphrase())
    found.returned += errors
    found.returned += [str(e) for e in errors]
    return found


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")  # SQLAlchemy defaults itself to WARN
    return caplog


def _logged(caplog: pytest.LogCaptureFixture) -> bytes:
    lines = [caplog.text]
    for record in caplog.records:
        lines.append(record.getMessage())
        lines.append(repr(record.args))
    return "\n".join(lines).encode()


def test_no_secret_in_any_table_log_line_or_repr(
    ctx: Context, debug_logs: pytest.LogCaptureFixture
) -> None:
    found = exercise(ctx)

    cells: list[bytes] = []
    with ctx.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                for value in row:
                    cells.append(bytes(value) if isinstance(value, bytes | memoryview) else b"")
                    cells.append(str(value).encode())
    assert found.found_in(b"\x00".join(cells)) == []

    logged = _logged(debug_logs)
    assert b"INSERT INTO api_keys" in logged  # SQLAlchemy logged its statements...
    assert b"$argon2id$" in logged  # ...and their parameters
    assert found.found_in(logged) == []

    for obj in found.returned:
        assert found.found_in(repr(obj).encode()) == [], type(obj).__name__


def _read_all(home: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(home.iterdir()) if p.is_file()}


def test_no_secret_in_the_sqlite_file_or_its_wal(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ctx = build_context(
        f"sqlite:///{home / 'sealbook.db'}", home, ManualClock(START_MS), MasterKey(os.urandom(32))
    )
    try:
        found = exercise(ctx)
        # While connections are open the newest pages live in the -wal file.
        with ctx.engine.connect():
            files = _read_all(home)
    finally:
        ctx.engine.dispose()
    assert "sealbook.db" in files
    assert "sealbook.db-wal" in files
    assert len(files["sealbook.db"]) + len(files["sealbook.db-wal"]) > 4096
    for name, data in files.items():
        assert found.found_in(data) == [], name

    # And after the last connection closed and SQLite checkpointed the WAL into the file.
    for name, data in _read_all(home).items():
        assert found.found_in(data) == [], name


def test_the_scan_would_find_a_secret() -> None:
    """The search itself works: each encoding of a secret is recognised."""
    found = Secrets(values={"seed": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "hex": "00ff" * 16})
    seed_bytes = base64.b32decode("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    for haystack in (
        b"..JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP..",
        b"..jbswy3dpehpk3pxpjbswy3dpehpk3pxp..",
        b".." + seed_bytes + b"..",
        b".." + base64.b64encode(seed_bytes) + b"..",
        b".." + seed_bytes.hex().encode() + b"..",
    ):
        assert found.found_in(haystack) == ["seed"]
    assert found.found_in(b".." + bytes.fromhex("00ff" * 16) + b"..") == ["hex"]
    assert found.found_in(b".." + base64.b64encode(("00ff" * 16).encode()) + b"..") == ["hex"]
    assert found.found_in(b"nothing here") == []
