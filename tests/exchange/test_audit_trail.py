"""The audit chain after a realistic day: every event is recorded once, in order, and
the chain verifies; the per-user view shows a user's own events, newest first."""

from __future__ import annotations

import base64
import hmac
import itertools

import pytest
from sqlalchemy import update

from fixtures.services import PASSPHRASE, audit_entries, hmac_spec, make_user
from sealbook.clock import ManualClock
from sealbook.errors import StepUpLocked, TotpInvalid, WrongPassphrase
from sealbook.exchange.accounts import AccountService
from sealbook.exchange.apikeys import KeyService
from sealbook.exchange.authlog import AuthLog
from sealbook.exchange.context import Context
from sealbook.exchange.keyring import DbKeyDirectory
from sealbook.keys.audit import GENESIS
from sealbook.keys.permissions import Permission
from sealbook.keys.verifier import Verifier
from sealbook.store import audit as audit_store
from sealbook.store.tables import audit_log


def test_a_realistic_sequence_leaves_a_verifiable_chain(
    ctx: Context, accounts: AccountService, key_service: KeyService, clock: ManualClock
) -> None:
    alice = make_user(ctx, "alice")
    bob = make_user(ctx, "bob")
    assert accounts.authenticate("alice", alice.password, ip="192.0.2.1") is not None
    assert accounts.authenticate("alice", "not-her-password", ip="192.0.2.66") is None

    created = key_service.create(
        "alice",
        hmac_spec("grid", (Permission.READ, Permission.SPOT_TRADE), ("203.0.113.7",)),
        PASSPHRASE,
        alice.code(),
        ip="192.0.2.1",
    )
    assert created.secret is not None
    api_key = created.record.api_key
    with pytest.raises(TotpInvalid):
        key_service.update(api_key, alice.wrong_code(), label="typo")
    key_service.update(api_key, alice.code(), ips=("203.0.113.7", "203.0.113.8"))
    bob_key = key_service.create("bob", hmac_spec("reader"), PASSPHRASE, bob.code()).record

    # A request with a wrong passphrase, recorded when the server flushes.
    directory = DbKeyDirectory(ctx)
    authlog = AuthLog(ctx)
    verifier = Verifier(directory, clock, authlog)
    ts = str(clock.now_ms()).encode()
    path = b"/api/v2/spot/account/info"
    sign = base64.b64encode(hmac.digest(created.secret.encode(), ts + b"GET" + path, "sha256"))
    with pytest.raises(WrongPassphrase):
        verifier.verify(
            key=api_key.encode(),
            sign=sign,
            timestamp=ts,
            passphrase=b"Guessed1234",
            method=b"GET",
            path=path,
            query=b"",
            body=b"",
            ip="203.0.113.7",
            need=Permission.READ,
        )
    authlog.flush()

    rotated = key_service.rotate(api_key, PASSPHRASE, alice.code()).record
    for _ in range(5):
        with pytest.raises(TotpInvalid):
            key_service.update(rotated.api_key, alice.wrong_code(), label="x")
    with pytest.raises(StepUpLocked):
        key_service.update(rotated.api_key, alice.code(), label="x")
    key_service.revoke(rotated.api_key, "done with it")
    key_service.revoke(bob_key.api_key)

    entries = audit_entries(ctx)
    assert [(e.kind, e.user_id) for e in entries] == [
        ("user.created", alice.id),
        ("totp.enrolled", alice.id),
        ("totp.confirmed", alice.id),
        ("user.created", bob.id),
        ("totp.enrolled", bob.id),
        ("totp.confirmed", bob.id),
        ("signin.ok", alice.id),
        ("signin.failed", alice.id),
        ("key.created", alice.id),
        ("stepup.failed", alice.id),
        ("key.updated", alice.id),
        ("key.created", bob.id),
        ("auth.rejected", alice.id),
        ("key.rotated", alice.id),
        *[("stepup.failed", alice.id)] * 4,
        ("stepup.locked", alice.id),
        ("stepup.locked", alice.id),
        ("key.revoked", alice.id),
        ("key.revoked", bob.id),
    ]
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.hash
    assert all(e.expected_hash() == e.hash for e in entries)

    assert audit_store.verify(ctx.engine).ok  # the plain chain, checkable without the key
    report = ctx.audit.verify(ctx.engine)
    assert report.ok
    assert report.checked == len(entries)
    assert report.as_dict() == {
        "ok": True,
        "checked": len(entries),
        "firstBadSeq": None,
        "reason": "",
        "sealed": len(entries),
        "sealsChecked": True,
        "headHash": entries[-1].hash.hex(),
    }

    bobs = audit_store.entries_for_user(ctx.engine, bob.id)
    assert [e.kind for e in bobs] == [
        "key.revoked",
        "key.created",
        "totp.confirmed",
        "totp.enrolled",
        "user.created",
    ]
    latest = audit_store.entries_for_user(ctx.engine, alice.id, limit=2)
    assert [e.kind for e in latest] == ["key.revoked", "stepup.locked"]


def test_an_empty_chain_verifies(ctx: Context) -> None:
    report = audit_store.verify(ctx.engine)
    assert (report.ok, report.checked, report.first_bad_seq) == (True, 0, None)


def test_verify_names_the_first_bad_entry(ctx: Context) -> None:
    """Tampering through the database connection, as someone with SQL access would."""
    with ctx.engine.begin() as conn:
        for i in range(6):
            ctx.audit.append(conn, 1_800_000_000_000 + i, "test.event", detail={"i": i})
    with ctx.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 4).values(ip="198.51.100.1"))
    report = audit_store.verify(ctx.engine)
    assert (report.ok, report.checked, report.first_bad_seq) == (False, 3, 4)
    assert report.reason == "its content does not match its hash"
