"""The rules the console added to ``AccountService`` (turning 2FA off, a code on its own,
auditing throttled sign-ins), on SQLite and PostgreSQL with a clock the test moves; and
the console's in-memory session store and sign-in throttle."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.services import audit_entries, audit_seq, hmac_spec, make_user
from sealbook.clock import ManualClock
from sealbook.console.sessions import Reveal, SessionStore, same_token
from sealbook.console.throttle import SigninThrottle
from sealbook.errors import SecondFactorRequired, StepUpError
from sealbook.exchange.accounts import AccountService
from sealbook.exchange.apikeys import KeyService
from sealbook.exchange.context import Context
from sealbook.keys.format import display_prefix
from sealbook.keys.model import KeyStatus
from sealbook.keys.permissions import Permission

PASSPHRASE = "Passphrase2024"


def _status(ctx: Context, keys: KeyService, api_key: str) -> KeyStatus:
    return keys.show(api_key).status(ctx.clock.now_ms(), ctx.settings.unbound_key_lapse_days)


def test_totp_disable_revokes_every_key_that_moves_money(
    ctx: Context, accounts: AccountService, key_service: KeyService
) -> None:
    alice = make_user(ctx)
    perms = {
        "reader": (Permission.READ,),
        "trader": (Permission.SPOT_TRADE,),
        "mover": (Permission.TRANSFER,),
        "withdrawer": (Permission.WITHDRAW,),
    }
    made = {
        label: key_service.create(
            "alice",
            hmac_spec(label, p, ips=["127.0.0.1"] if Permission.WITHDRAW in p else []),
            PASSPHRASE,
            alice.code(),
        ).record.api_key
        for label, p in perms.items()
    }
    rotated = key_service.rotate(made["trader"], PASSPHRASE, alice.code()).record.api_key
    other = make_user(ctx, "bob")
    bobs = key_service.create(
        "bob", hmac_spec("b", [Permission.SPOT_TRADE]), PASSPHRASE, other.code()
    )

    warned = {display_prefix(r.api_key) for r in accounts.keys_lost_without_totp("alice")}
    expected = {made["trader"], made["mover"], made["withdrawer"], rotated}
    assert warned == {display_prefix(k) for k in expected}

    seq = audit_seq(ctx)
    revoked = accounts.totp_disable("alice", alice.code(), ip="192.0.2.1")
    assert set(revoked) == warned
    for key in expected:
        assert _status(ctx, key_service, key) is KeyStatus.REVOKED
        assert "two-factor" in (key_service.show(key).revoke_reason or "")
    assert _status(ctx, key_service, made["reader"]) is KeyStatus.ACTIVE
    assert _status(ctx, key_service, bobs.record.api_key) is KeyStatus.ACTIVE
    user = accounts.get("alice")
    assert not user.totp_confirmed and user.totp_sealed is None
    kinds = [e.kind for e in audit_entries(ctx, seq)]
    assert kinds.count("key.revoked") == 4 and kinds[-1] == "totp.disabled"

    # No second factor now: no code can be checked, and enrolling again works.
    with pytest.raises(SecondFactorRequired):
        accounts.verify_code("alice", alice.code())
    assert accounts.totp_enroll("alice").secret != alice.seed


def test_totp_disable_with_a_wrong_code_changes_nothing(
    ctx: Context, accounts: AccountService, key_service: KeyService
) -> None:
    alice = make_user(ctx)
    key = key_service.create(
        "alice", hmac_spec("t", [Permission.SPOT_TRADE]), PASSPHRASE, alice.code()
    )
    seq = audit_seq(ctx)
    with pytest.raises(StepUpError):
        accounts.totp_disable("alice", alice.wrong_code())
    assert accounts.get("alice").totp_confirmed
    assert _status(ctx, key_service, key.record.api_key) is KeyStatus.ACTIVE
    assert [e.kind for e in audit_entries(ctx, seq)] == ["stepup.failed"]


def test_verify_code_accepts_each_code_once(ctx: Context, accounts: AccountService) -> None:
    alice = make_user(ctx)
    code = alice.code()
    accounts.verify_code("alice", code)
    with pytest.raises(StepUpError):
        accounts.verify_code("alice", code)
    assert accounts.get("alice").totp_state.failures == 1


def test_throttled_sign_in_is_audited(ctx: Context, accounts: AccountService) -> None:
    alice = make_user(ctx)
    seq = audit_seq(ctx)
    accounts.signin_throttled("alice", ip="198.51.100.4")
    accounts.signin_throttled("nobody", ip="198.51.100.4")
    entries = audit_entries(ctx, seq)
    assert [(e.kind, e.user_id, e.ip) for e in entries] == [
        ("signin.throttled", alice.id, "198.51.100.4"),
        ("signin.throttled", None, "198.51.100.4"),
    ]


# --- in memory ---------------------------------------------------------------------------


def test_sessions_end_when_idle_or_too_old_or_closed() -> None:
    clock = ManualClock()
    store = SessionStore(clock, idle_s=60, max_s=300)
    token, session = store.open(7, "alice")
    assert token not in repr(session) and session.csrf not in repr(session)
    assert store.get(token) is session
    clock.advance(59)
    assert store.get(token) is session  # each request restarts the idle clock
    clock.advance(59)
    assert store.get(token) is session
    clock.advance(61)
    assert store.get(token) is None  # idle too long
    assert len(store) == 0

    token, _ = store.open(7, "alice")
    for _ in range(6):
        clock.advance(50)
        assert store.get(token) is not None
    clock.advance(1)
    assert store.get(token) is None  # older than max_s however busy
    token, _ = store.open(7, "alice")
    store.close(token)
    assert store.get(token) is None
    assert store.get("") is None and store.get("x" * 500) is None


def test_reveal_slot_gives_its_secret_once() -> None:
    store = SessionStore(ManualClock(), idle_s=60, max_s=300)
    _, session = store.open(1, "alice")
    session.reveal = Reveal("key", {"secret": "s3cr3t"})
    assert "s3cr3t" not in repr(session.reveal)
    assert session.take_reveal("totp") is None  # another kind leaves it alone
    taken = session.take_reveal("key")
    assert taken is not None and taken.values["secret"] == "s3cr3t"
    assert session.take_reveal("key") is None


def test_csrf_tokens_compare_exactly() -> None:
    assert same_token("abc", "abc")
    assert not same_token("abc", "abd")
    assert not same_token("abc", "")
    assert not same_token("abc", None)


def test_throttle_counts_per_name_and_per_ip_in_a_window() -> None:
    clock = ManualClock()
    throttle = SigninThrottle(clock, name_limit=3, ip_limit=5, window_s=100)
    for _ in range(3):
        assert throttle.retry_after_s("Alice", "192.0.2.1") == 0
        throttle.failed("alice", "192.0.2.1")
    assert throttle.retry_after_s("ALICE", "192.0.2.9") == 100  # the name, from anywhere
    assert throttle.retry_after_s("bob", "192.0.2.2") == 0
    clock.advance(60)
    assert throttle.retry_after_s("alice", "192.0.2.9") == 40
    clock.advance(40)
    assert throttle.retry_after_s("alice", "192.0.2.9") == 0  # the window slid past

    for name in ("c1", "c2", "c3", "c4", "c5"):
        throttle.failed(name, "203.0.113.5")
    assert throttle.retry_after_s("someone-new", "203.0.113.5") == 100  # the address
    assert throttle.retry_after_s(None, "203.0.113.5") == 100  # sign-up: address only

    throttle.failed("dana", "192.0.2.3")
    throttle.succeeded("Dana")
    for _ in range(2):
        throttle.failed("dana", "192.0.2.3")
    assert throttle.retry_after_s("dana", "192.0.2.4") == 0  # success cleared the name


def test_sign_ups_are_limited_per_address_even_when_they_succeed(tmp_path: Path) -> None:
    """Through the real server over HTTP: the 11th account from one address within the
    hour is refused with 429 and not created; another address could still sign up."""
    import re

    import httpx

    from fixtures.server import running_server
    from sealbook.console.throttle import SIGNUPS_PER_IP

    with running_server(tmp_path / "home", {}) as server:
        for i in range(SIGNUPS_PER_IP + 1):
            with httpx.Client(base_url=server.base_url + "/console") as web:
                page = web.get("/signup")
                token = re.search(r'name="csrf" value="([^"]+)"', page.text)
                assert token is not None
                form = {"csrf": token.group(1), "name": f"spray{i}",
                        "password": "long enough pw", "password2": "long enough pw"}
                reply = web.post("/signup", data=form)
            if i < SIGNUPS_PER_IP:
                assert reply.status_code == 303, reply.text[:200]
            else:
                assert reply.status_code == 429
                assert "Too many attempts" in reply.text
        assert server.accounts.authenticate(f"spray{SIGNUPS_PER_IP}", "long enough pw") is None
        assert server.accounts.authenticate("spray0", "long enough pw") is not None
