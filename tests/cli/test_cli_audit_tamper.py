"""`sealbook audit verify` catches tampering done to the SQLite file behind its back.

Events are recorded through the real services (with the home's 0600 master key); then the
file is edited with the stdlib ``sqlite3`` module the way an intruder with file access
would, and the real command, in a subprocess, must exit 1 naming the first bad entry.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from fixtures.services import PASSPHRASE, cli_env, hmac_spec, make_user, run_cli
from sealbook.clock import ManualClock
from sealbook.config import Settings
from sealbook.exchange.accounts import AccountService
from sealbook.exchange.apikeys import KeyService
from sealbook.exchange.context import open_context
from sealbook.keys.audit import entry_hash

EVENTS = 8


def _record_events(home: Path) -> None:
    settings = Settings(home=home, database_url=None, master_key=None)
    ctx = open_context(settings, create_master_key=True, clock=ManualClock())
    try:
        user = make_user(ctx, "alice")  # 1 user.created, 2 totp.enrolled, 3 totp.confirmed
        keys = KeyService(ctx, AccountService(ctx))
        key = keys.create("alice", hmac_spec(), PASSPHRASE, user.code()).record  # 4
        keys.update(key.api_key, user.code(), label="renamed")  # 5
        new = keys.rotate(key.api_key, PASSPHRASE, user.code()).record  # 6
        keys.revoke(key.api_key)  # 7
        keys.revoke(new.api_key)  # 8
    finally:
        ctx.engine.dispose()


def _verify(home: Path) -> tuple[int, dict[str, object], str]:
    env = cli_env()  # the master key comes from home/master.key
    as_json = run_cli(["audit", "verify", "--json", "--home", str(home)], env=env)
    human = run_cli(["audit", "verify", "--home", str(home)], env=env)
    assert as_json.returncode == human.returncode, human.stderr
    return as_json.returncode, json.loads(as_json.stdout), human.stdout


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    _record_events(home)
    return home


def _sql(home: Path, *statements: str, params: tuple[object, ...] = ()) -> None:
    conn = sqlite3.connect(home / "sealbook.db")
    try:
        for statement in statements:
            conn.execute(statement, params)
        conn.commit()
    finally:
        conn.close()


def change_detail(home: Path) -> None:
    _sql(home, """UPDATE audit_log SET detail = '{"reason":"nothing to see"}' WHERE seq = 5""")


def delete_middle(home: Path) -> None:
    _sql(home, "DELETE FROM audit_log WHERE seq = 4")


def delete_last(home: Path) -> None:
    _sql(home, "DELETE FROM audit_log WHERE seq = ?", params=(EVENTS,))


def swap_two(home: Path) -> None:
    _sql(
        home,
        "UPDATE audit_log SET seq = -1 WHERE seq = 6",
        "UPDATE audit_log SET seq = 6 WHERE seq = 7",
        "UPDATE audit_log SET seq = 7 WHERE seq = -1",
    )


def forge_an_entry(home: Path) -> None:
    """Append a well-formed, correctly hashed entry, without moving the chain head."""
    conn = sqlite3.connect(home / "sealbook.db")
    try:
        last = conn.execute("SELECT hash, ts_ms FROM audit_log WHERE seq = ?", (EVENTS,)).fetchone()
        seq, ts, detail = EVENTS + 1, last[1] + 1, '{"reason":"routine"}'
        digest = entry_hash(last[0], seq, ts, "key.revoked", 1, None, None, detail)
        conn.execute(
            "INSERT INTO audit_log (seq, ts_ms, kind, user_id, key_prefix, ip, detail, "
            "prev_hash, hash) VALUES (?, ?, 'key.revoked', 1, NULL, NULL, ?, ?, ?)",
            (seq, ts, detail, last[0], digest),
        )
        conn.commit()
    finally:
        conn.close()


TAMPERING: dict[str, tuple[Callable[[Path], None], int, str]] = {
    "change-detail": (change_detail, 5, "its content does not match its hash"),
    "delete-middle": (delete_middle, 4, "entry 4 is missing or out of order (found 5)"),
    "delete-last": (delete_last, EVENTS, f"entries {EVENTS}..{EVENTS} were removed from the end"),
    "swap-seq": (swap_two, 6, "its link to the previous entry is broken"),
    "forged-append": (
        forge_an_entry,
        EVENTS + 1,
        "entries were appended without updating the head",
    ),
}


def test_untouched_chain_verifies(home: Path) -> None:
    code, report, human = _verify(home)
    assert code == 0
    assert report == {"ok": True, "checked": EVENTS, "firstBadSeq": None, "reason": ""}
    assert human.strip() == f"audit chain intact: {EVENTS} entries"


@pytest.mark.parametrize("how", sorted(TAMPERING))
def test_tampering_is_caught_at_the_first_bad_entry(home: Path, how: str) -> None:
    tamper, first_bad, reason = TAMPERING[how]
    tamper(home)
    code, report, human = _verify(home)
    assert code == 1
    assert report["ok"] is False
    assert report["firstBadSeq"] == first_bad
    assert report["reason"] == reason
    assert f"audit chain BROKEN at entry {first_bad}: {reason}" in human
