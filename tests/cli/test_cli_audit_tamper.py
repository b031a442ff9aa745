"""`sealbook audit verify` catches tampering done to the SQLite file behind its back.

Events are recorded through the real services (with the home's 0600 master key); then the
file is edited with the stdlib ``sqlite3`` module the way an intruder with file access
would, and the real command, in a subprocess, must exit 1 naming the first bad entry.
An intruder who recomputes the SHA-256 chain gets past the plain check, but not the seals,
which need the master key; without the key the command checks the plain chain only.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from fixtures.services import PASSPHRASE, cli_env, hmac_spec, make_user, rewrite_entry, run_cli
from sealbook.clock import ManualClock
from sealbook.config import Settings
from sealbook.exchange.accounts import AccountService
from sealbook.exchange.apikeys import KeyService
from sealbook.exchange.context import open_context
from sealbook.keys.audit import ANCHOR_DIFFERS, ANCHOR_MISSING, entry_hash
from sealbook.keys.auditseal import BAD_SEAL, NO_ENTRY, NO_SEAL, SEAL_PURPOSE
from sealbook.keys.sealing import MasterKey
from sealbook.store.db import make_engine

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


def _key_forms(home: Path) -> list[str]:
    """The master key and the seal key derived from it, as they could leak."""
    text = (home / "master.key").read_text().strip()
    seal_key = MasterKey(base64.b64decode(text)).derive(SEAL_PURPOSE)
    return [text, seal_key.hex(), base64.b64encode(seal_key).decode()]


def _verify(home: Path) -> tuple[int, dict[str, object], str]:
    """Run `audit verify` with and without --json; also returns the human output."""
    env = cli_env()  # the master key comes from home/master.key, if it is there
    keys = _key_forms(home) if (home / "master.key").exists() else []
    as_json = run_cli(["audit", "verify", "--json", "--home", str(home)], env=env)
    human = run_cli(["audit", "verify", "--home", str(home)], env=env)
    assert as_json.returncode == human.returncode, human.stderr
    for run in (as_json, human):
        assert "Traceback" not in run.stderr
        assert not [k for k in keys if k in run.stdout or k in run.stderr]
    return as_json.returncode, json.loads(as_json.stdout), human.stdout + human.stderr


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


def rewrite_and_rehash(home: Path) -> None:
    """Change entry 5 and recompute every hash after it and the head, as anyone can."""
    engine = make_engine(f"sqlite:///{home / 'sealbook.db'}")
    try:
        rewrite_entry(engine, 5, '{"reason":"nothing to see"}')
    finally:
        engine.dispose()


def delete_a_seal(home: Path) -> None:
    _sql(home, "DELETE FROM audit_seal WHERE seq = 3")


def add_a_seal(home: Path) -> None:
    _sql(
        home,
        "INSERT INTO audit_seal (seq, mac) SELECT ?, mac FROM audit_seal WHERE seq = 1",
        params=(EVENTS + 4,),
    )


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
    "rewrite-and-rehash": (rewrite_and_rehash, 5, BAD_SEAL),
    "delete-seal": (delete_a_seal, 3, NO_SEAL),
    "extra-seal": (add_a_seal, EVENTS + 4, NO_ENTRY),
}


def _last_hash(home: Path) -> str:
    conn = sqlite3.connect(home / "sealbook.db")
    try:
        (digest,) = conn.execute("SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    finally:
        conn.close()
    return bytes(digest).hex()


def test_untouched_chain_verifies(home: Path) -> None:
    code, report, human = _verify(home)
    assert code == 0
    assert report == {
        "ok": True,
        "checked": EVENTS,
        "firstBadSeq": None,
        "reason": "",
        "sealed": EVENTS,
        "sealsChecked": True,
        "headHash": _last_hash(home),
    }
    assert human.strip() == f"audit chain intact: {EVENTS} entries, {EVENTS} sealed"


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


def test_without_the_master_key_a_rehashed_chain_passes_and_says_so(home: Path) -> None:
    """The plain chain alone cannot tell a rewrite with recomputed hashes from the truth."""
    rewrite_and_rehash(home)
    (home / "master.key").rename(home.parent / "master.key.elsewhere")
    code, report, human = _verify(home)
    assert code == 0
    assert report == {
        "ok": True,
        "checked": EVENTS,
        "firstBadSeq": None,
        "reason": "",
        "sealed": 0,
        "sealsChecked": False,
        "headHash": _last_hash(home),
    }
    assert f"audit chain intact: {EVENTS} entries (seals not checked: no master key)" in human

    (home.parent / "master.key.elsewhere").rename(home / "master.key")
    code, report, human = _verify(home)
    assert (code, report["firstBadSeq"], report["sealsChecked"]) == (1, 5, True)
    assert f"audit chain BROKEN at entry 5: {BAD_SEAL}" in human


def _forget_the_upgrade(home: Path) -> None:
    """The home as the version before seals left it: no seals, no marker."""
    (home / "audit-sealed").unlink()
    _sql(home, "DELETE FROM audit_seal")


def test_a_home_from_before_seals_is_sealed_by_the_next_command(home: Path) -> None:
    _forget_the_upgrade(home)
    # Before the upgrade ran, entries without a seal are expected: intact, none sealed yet.
    code, report, human = _verify(home)
    assert (code, report["ok"], report["sealed"], report["checked"]) == (0, True, 0, EVENTS)
    assert f"{EVENTS} entries from before seals existed are not sealed yet" in human

    listed = run_cli(["key", "list", "--user", "alice", "--home", str(home)], env=cli_env())
    assert listed.returncode == 0, listed.stderr
    assert (home / "audit-sealed").read_text() == f"{EVENTS}\n"
    code, report, human = _verify(home)
    assert (code, report["sealed"]) == (0, EVENTS)

    delete_a_seal(home)  # from now on a missing seal is never filled in again
    listed = run_cli(["key", "list", "--user", "alice", "--home", str(home)], env=cli_env())
    assert listed.returncode == 0, listed.stderr
    code, report, human = _verify(home)
    assert (code, report["firstBadSeq"], report["reason"]) == (1, 3, NO_SEAL)
    assert "not sealed yet" not in human


def test_a_broken_chain_from_before_seals_stops_every_command(home: Path) -> None:
    _forget_the_upgrade(home)
    change_detail(home)
    result = run_cli(["key", "list", "--user", "alice", "--home", str(home)], env=cli_env())
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "audit chain is broken at entry 5" in result.stderr
    assert "sealbook audit verify" in result.stderr
    assert not (home / "audit-sealed").exists()
    # Nothing is sealed yet; the plain chain names the changed entry.
    code, report, human = _verify(home)
    assert (code, report["firstBadSeq"]) == (1, 5)
    assert "audit chain BROKEN at entry 5" in human


def _add_user(home: Path, name: str) -> None:
    """One more audited event, through the real command (so its entry is sealed)."""
    made = run_cli(["user", "create", name, "--password-stdin", "--home", str(home)],
                   env=cli_env(), stdin="a long enough password\n")
    assert made.returncode == 0, made.stderr


def test_an_anchor_catches_the_log_put_back_to_an_older_copy(home: Path) -> None:
    older = (home / "sealbook.db").read_bytes()  # a backup, 8 entries
    _add_user(home, "bob")
    code, report, _ = _verify(home)
    assert code == 0
    anchor = f"{report['checked']}:{report['headHash']}"  # kept somewhere else
    seq = EVENTS + 1
    assert report["checked"] == seq

    def verify_anchored() -> tuple[int, dict[str, object]]:
        result = run_cli(["audit", "verify", "--json", "--anchor", anchor, "--home", str(home)],
                         env=cli_env())
        return result.returncode, json.loads(result.stdout)

    assert verify_anchored()[0] == 0
    for leftover in ("sealbook.db-wal", "sealbook.db-shm"):
        (home / leftover).unlink(missing_ok=True)
    (home / "sealbook.db").write_bytes(older)  # rolled back: entry 9 is gone
    assert _verify(home)[0] == 0  # every check inside the database still passes
    code, report = verify_anchored()
    assert (code, report["firstBadSeq"], report["reason"]) == (1, seq, ANCHOR_MISSING)
    _add_user(home, "carol")  # and grows again, past the anchor, with genuine seals
    assert _verify(home)[0] == 0
    code, report = verify_anchored()
    assert (code, report["firstBadSeq"], report["reason"]) == (1, seq, ANCHOR_DIFFERS)


@pytest.mark.parametrize("anchor", ["9", "x:ab", "0:" + "00" * 32, "3:abcd"])
def test_a_malformed_anchor_is_refused(home: Path, anchor: str) -> None:
    result = run_cli(["audit", "verify", "--anchor", anchor, "--home", str(home)], env=cli_env())
    assert result.returncode == 2
    assert "SEQ:HASH" in result.stderr and "Traceback" not in result.stderr
