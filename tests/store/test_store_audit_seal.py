"""Audit seals on a real database (SQLite, and PostgreSQL when the cluster is there).

Events are recorded through the real services; the database is then changed behind
their back, as someone with write access to it but without the master key could.
"""

from __future__ import annotations

import base64
import os

from sqlalchemy import delete, insert, select, update

from fixtures.services import audit_entries, make_user, rewrite_entry
from sealbook.exchange.accounts import AccountService
from sealbook.exchange.context import Context
from sealbook.keys.auditseal import BAD_SEAL, NO_ENTRY, NO_SEAL, SEAL_PURPOSE
from sealbook.keys.sealing import MasterKey
from sealbook.store import audit
from sealbook.store.audit import AuditLog
from sealbook.store.tables import audit_head, audit_log, audit_seal

EVENTS = 5  # user.created, totp.enrolled, totp.confirmed, signin.ok, signin.failed


def record_events(ctx: Context) -> None:
    user = make_user(ctx, "alice")
    accounts = AccountService(ctx)
    assert accounts.authenticate("alice", user.password, ip="192.0.2.1") is not None
    assert accounts.authenticate("alice", "wrong-password", ip="192.0.2.66") is None


def test_every_append_writes_a_seal(ctx: Context) -> None:
    record_events(ctx)
    with ctx.engine.connect() as conn:
        seqs = conn.execute(select(audit_seal.c.seq).order_by(audit_seal.c.seq)).scalars().all()
    assert seqs == list(range(1, EVENTS + 1))
    report = ctx.audit.verify(ctx.engine)
    assert report.as_dict() == {
        "ok": True,
        "checked": EVENTS,
        "firstBadSeq": None,
        "reason": "",
        "sealed": EVENTS,
        "sealsChecked": True,
        "headHash": audit_entries(ctx)[-1].hash.hex(),
    }


def test_a_rewritten_history_passes_the_plain_chain_but_not_the_seals(ctx: Context) -> None:
    record_events(ctx)
    rewrite_entry(ctx.engine, 2, '{"nothing":"happened"}')

    plain = audit.verify(ctx.engine)
    assert (plain.ok, plain.checked, plain.seals_checked) == (True, EVENTS, False)

    sealed = ctx.audit.verify(ctx.engine)
    assert (sealed.ok, sealed.first_bad_seq, sealed.reason) == (False, 2, BAD_SEAL)
    assert (sealed.checked, sealed.sealed) == (1, 1)


def test_a_deleted_seal_is_a_break(ctx: Context) -> None:
    record_events(ctx)
    with ctx.engine.begin() as conn:
        conn.execute(delete(audit_seal).where(audit_seal.c.seq == 3))
    report = ctx.audit.verify(ctx.engine)
    assert (report.ok, report.first_bad_seq, report.reason) == (False, 3, NO_SEAL)
    assert audit.verify(ctx.engine).ok  # the plain chain cannot see it


def test_a_seal_without_an_entry_is_a_break(ctx: Context) -> None:
    record_events(ctx)
    with ctx.engine.begin() as conn:
        mac = conn.execute(select(audit_seal.c.mac).where(audit_seal.c.seq == 1)).scalar_one()
        conn.execute(insert(audit_seal).values(seq=EVENTS + 2, mac=mac))
    report = ctx.audit.verify(ctx.engine)
    assert (report.ok, report.first_bad_seq, report.reason) == (False, EVENTS + 2, NO_ENTRY)
    assert (report.checked, report.sealed) == (EVENTS, EVENTS)


def test_truncating_the_tail_but_leaving_its_seals_is_a_break(ctx: Context) -> None:
    """Removing the newest entries and moving the head back fools the plain chain."""
    record_events(ctx)
    with ctx.engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq == EVENTS))
        last = conn.execute(select(audit_log.c.hash).where(audit_log.c.seq == EVENTS - 1))
        conn.execute(update(audit_head).values(seq=EVENTS - 1, hash=last.scalar_one()))
    plain = audit.verify(ctx.engine)
    assert (plain.ok, plain.checked) == (True, EVENTS - 1)
    report = ctx.audit.verify(ctx.engine)
    assert (report.ok, report.first_bad_seq, report.reason) == (False, EVENTS, NO_ENTRY)


def test_seals_made_under_another_master_key_do_not_match(ctx: Context) -> None:
    record_events(ctx)
    other = AuditLog.from_master(MasterKey(os.urandom(32)))
    report = other.verify(ctx.engine)
    assert (report.ok, report.first_bad_seq, report.reason) == (False, 1, BAD_SEAL)


def test_the_seal_key_never_shows_in_a_repr() -> None:
    raw = os.urandom(32)
    master = MasterKey(raw)
    subkey = master.derive(SEAL_PURPOSE)
    log = AuditLog.from_master(master)
    for text in (repr(log), str(log), f"{log!r}"):
        assert text == "AuditLog(<redacted>)"
        for secret in (raw, subkey):
            assert secret.hex() not in text
            assert base64.b64encode(secret).decode() not in text
