"""Upgrading a home whose audit entries predate seals: ``open_context`` seals them once,
writes ``$home/audit-sealed``, and never seals after the fact again."""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from schema_history import strip_later
from sqlalchemy import delete, func, select, text, update

from fixtures.services import START_MS, make_user
from sealbook.clock import ManualClock
from sealbook.config import Settings
from sealbook.exchange.context import Context, open_context
from sealbook.keys.auditseal import NO_SEAL, SEAL_PURPOSE
from sealbook.keys.sealing import MasterKey
from sealbook.store import audit
from sealbook.store.audit import AuditChainBroken
from sealbook.store.db import make_engine
from sealbook.store.tables import audit_log, audit_seal

EVENTS = 3  # user.created, totp.enrolled, totp.confirmed


def settings(home: Path, db_url: str, raw: bytes) -> Settings:
    key = SecretStr(base64.b64encode(raw).decode())
    return Settings(home=home, database_url=db_url, master_key=key)


@contextlib.contextmanager
def opened(home: Path, db_url: str, raw: bytes) -> Iterator[Context]:
    ctx = open_context(settings(home, db_url, raw), clock=ManualClock(START_MS))
    try:
        yield ctx
    finally:
        ctx.engine.dispose()


def seal_count(ctx: Context) -> int:
    with ctx.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(audit_seal)).scalar_one())


def make_old_home(home: Path, db_url: str, raw: bytes) -> None:
    """A home as the version before seals left it: entries, no audit_seal table, no marker,
    and no alembic_version (that version had no migrations either)."""
    with opened(home, db_url, raw) as ctx:
        make_user(ctx, "alice")
        strip_later(ctx.engine)
        with ctx.engine.begin() as conn:
            conn.execute(text("DROP TABLE alembic_version"))
    (home / "audit-sealed").unlink()


@pytest.fixture
def raw() -> bytes:
    return os.urandom(32)


def test_a_new_home_is_marked_sealed_at_zero(tmp_path: Path, db_url: str, raw: bytes) -> None:
    home = tmp_path / "home"
    with opened(home, db_url, raw) as ctx:
        assert ctx.audit.verify(ctx.engine).ok
    marker = home / "audit-sealed"
    assert marker.read_text() == "0\n"
    assert stat.S_IMODE(marker.stat().st_mode) == 0o600


def test_entries_from_before_seals_are_sealed_once(
    tmp_path: Path, db_url: str, raw: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    home = tmp_path / "home"
    make_old_home(home, db_url, raw)

    with caplog.at_level(logging.INFO, logger="sealbook.audit"), opened(home, db_url, raw) as ctx:
        assert [r.getMessage() for r in caplog.records if r.name == "sealbook.audit"] == [
            f"sealed {EVENTS} audit entries that had no seal (up to entry {EVENTS})"
        ]
        assert seal_count(ctx) == EVENTS
        report = ctx.audit.verify(ctx.engine)
        assert (report.ok, report.checked, report.sealed) == (True, EVENTS, EVENTS)
        make_user(ctx, "bob")  # appends after the upgrade are sealed as they are written
        assert seal_count(ctx) == 2 * EVENTS
    marker = home / "audit-sealed"
    assert marker.read_text() == f"{EVENTS}\n"
    assert stat.S_IMODE(marker.stat().st_mode) == 0o600

    # A seal deleted after the upgrade is not replaced by the next start: it is caught.
    with opened(home, db_url, raw) as ctx, ctx.engine.begin() as conn:
        conn.execute(delete(audit_seal).where(audit_seal.c.seq == 2))
    with opened(home, db_url, raw) as ctx:
        assert seal_count(ctx) == 2 * EVENTS - 1
        report = ctx.audit.verify(ctx.engine)
        assert (report.ok, report.first_bad_seq, report.reason) == (False, 2, NO_SEAL)
    assert marker.read_text() == f"{EVENTS}\n"


def test_a_broken_chain_is_not_sealed(tmp_path: Path, db_url: str, raw: bytes) -> None:
    """Sealing a database nobody has looked at would bless whatever changed in it."""
    home = tmp_path / "home"
    make_old_home(home, db_url, raw)
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(update(audit_log).where(audit_log.c.seq == 2).values(detail='{"x":1}'))

        with pytest.raises(AuditChainBroken) as caught:
            open_context(settings(home, db_url, raw))
        message = str(caught.value)
        assert "broken at entry 2 (its content does not match its hash)" in message
        assert "sealbook audit verify" in message
        assert caught.value.report.first_bad_seq == 2
        assert not (home / "audit-sealed").exists()
        with engine.connect() as conn:  # the table was created, and left empty
            assert conn.execute(select(func.count()).select_from(audit_seal)).scalar_one() == 0
        assert audit.verify(engine).first_bad_seq == 2
    finally:
        engine.dispose()


def test_the_context_shows_no_key(tmp_path: Path, db_url: str, raw: bytes) -> None:
    subkey = MasterKey(raw).derive(SEAL_PURPOSE)
    with opened(tmp_path / "home", db_url, raw) as ctx:
        text = repr(ctx)
    assert "AuditLog(<redacted>)" in text
    for secret in (raw, subkey):
        assert secret.hex() not in text
        assert base64.b64encode(secret).decode() not in text


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make ``path`` unwritable, even for root (chattr +i); skip if that is not possible."""
    path.chmod(0o500)
    immutable = False
    try:
        if os.access(path, os.W_OK):  # root ignores the mode
            chattr = shutil.which("chattr")
            if chattr is None:
                pytest.skip("cannot make a directory read-only for root here (no chattr)")
            done = subprocess.run([chattr, "+i", str(path)], capture_output=True, check=False)
            if done.returncode != 0:
                pytest.skip(f"cannot make a directory read-only here: {done.stderr!r}")
            immutable = True
        yield
    finally:
        if immutable:
            subprocess.run([str(shutil.which("chattr")), "-i", str(path)], check=True)
        path.chmod(0o700)


def _home_outside_its_database(tmp_path: Path) -> tuple[Path, str]:
    """A home and a SQLite database elsewhere, so the home can be made read-only."""
    home = tmp_path / "home"
    home.mkdir()
    return home, f"sqlite:///{tmp_path / 'db' / 'sealbook.db'}"


def test_a_read_only_home_with_the_key_in_the_environment_still_starts(
    tmp_path: Path, raw: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    home, db_url = _home_outside_its_database(tmp_path)
    with read_only(home), caplog.at_level(logging.WARNING, logger="sealbook.audit"):
        with opened(home, db_url, raw) as ctx:
            make_user(ctx, "alice")
            report = ctx.audit.verify(ctx.engine)
            assert (report.ok, report.sealed) == (True, EVENTS)
        assert not (home / "audit-sealed").exists()
    warnings = [r for r in caplog.records if r.name == "sealbook.audit"]
    assert len(warnings) == 1
    assert "audit-sealed" in warnings[0].getMessage()
    assert base64.b64encode(raw).decode() not in caplog.text


def test_without_the_marker_a_deleted_seal_is_still_not_refilled(
    tmp_path: Path, raw: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    """A read-only home cannot keep the marker, so every start runs the upgrade again. It
    seals only entries older than the first sealed one (those from before seals), never
    one whose seal was deleted: a forger cannot get a rewritten entry sealed that way."""
    home, db_url = _home_outside_its_database(tmp_path)
    with read_only(home), caplog.at_level(logging.WARNING, logger="sealbook.audit"):
        with opened(home, db_url, raw) as ctx:
            make_user(ctx, "alice")
            make_user(ctx, "bob")
            with ctx.engine.begin() as conn:
                conn.execute(delete(audit_seal).where(audit_seal.c.seq == EVENTS + 2))
        with opened(home, db_url, raw) as ctx:  # the upgrade runs again: no marker
            report = ctx.audit.verify(ctx.engine)
            assert (report.ok, report.first_bad_seq, report.reason) == (
                False,
                EVENTS + 2,
                NO_SEAL,
            )
            assert seal_count(ctx) == 2 * EVENTS - 1
