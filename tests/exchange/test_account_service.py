"""AccountService: users, Argon2id passwords, TOTP enrolment and the step-up rules."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from fixtures.services import (
    PASSPHRASE,
    PASSWORD,
    ContextFactory,
    TotpUser,
    audit_entries,
    audit_seq,
    hmac_spec,
    key_revision,
    make_user,
    user_row,
)
from sealbook.clock import ManualClock
from sealbook.errors import (
    Conflict,
    NotFound,
    ParamInvalid,
    SecondFactorRequired,
    StepUpError,
    StepUpLocked,
    TotpInvalid,
    TotpReused,
)
from sealbook.exchange.accounts import AccountService
from sealbook.exchange.apikeys import KeyService
from sealbook.exchange.context import Context
from sealbook.keys.totp import code_at, step_of

# --- users and passwords ---------------------------------------------------------------


def test_password_is_stored_as_argon2id_and_checked(ctx: Context, accounts: AccountService) -> None:
    user_id = accounts.create_user("alice", PASSWORD, ip="192.0.2.1")

    row = user_row(ctx, "alice")
    assert row.id == user_id
    assert row.password_hash.startswith("$argon2id$")
    assert PASSWORD not in row.password_hash
    assert accounts.get("alice").id == user_id

    ok = accounts.authenticate("alice", PASSWORD, ip="192.0.2.1")
    assert ok is not None
    assert ok.id == user_id
    assert accounts.authenticate("alice", PASSWORD + "x") is None
    assert accounts.authenticate("nobody", PASSWORD) is None

    kinds = [(e.kind, e.user_id) for e in audit_entries(ctx)]
    assert kinds == [
        ("user.created", user_id),
        ("signin.ok", user_id),
        ("signin.failed", user_id),
        ("signin.failed", None),
    ]
    assert all(PASSWORD not in e.detail for e in audit_entries(ctx))


def test_duplicate_and_invalid_users_are_refused(ctx: Context, accounts: AccountService) -> None:
    accounts.create_user("alice", PASSWORD)
    with pytest.raises(Conflict) as exc:
        accounts.create_user("alice", "another-password-1")
    assert exc.value.code == "40072"
    with pytest.raises(ParamInvalid):
        accounts.create_user("bob", "short")
    with pytest.raises(ParamInvalid):
        accounts.create_user("-bob", PASSWORD)
    with pytest.raises(ParamInvalid):
        accounts.create_user("b" * 65, PASSWORD)
    with pytest.raises(ParamInvalid):  # `$` alone would let a trailing newline through
        accounts.create_user("bob\n", PASSWORD)
    with pytest.raises(NotFound):
        accounts.get("bob")
    assert audit_seq(ctx) == 1  # only alice's creation


# --- TOTP enrolment ----------------------------------------------------------------------


def test_enrolment_shows_seed_and_uri_and_confirm_activates(
    ctx: Context, accounts: AccountService, clock: ManualClock
) -> None:
    accounts.create_user("alice", PASSWORD)
    enrolment = accounts.totp_enroll("alice")

    uri = urlsplit(enrolment.uri)
    assert uri.scheme == "otpauth"
    assert uri.netloc == "totp"
    assert unquote(uri.path) == "/Sealbook:alice"
    query = parse_qs(uri.query)
    assert query["secret"] == [enrolment.secret]
    assert query["issuer"] == ["Sealbook"]
    assert query["digits"] == ["6"]
    assert query["period"] == ["30"]
    assert len(enrolment.secret) == 32  # 160 bits of base32

    row = user_row(ctx, "alice")
    assert not row.totp_confirmed
    assert row.totp_sealed is not None
    assert enrolment.secret.encode() not in bytes(row.totp_sealed)

    # The seed is sealed: the user record never hands it out again.
    assert not accounts.get("alice").totp_confirmed

    good = code_at(enrolment.secret, step_of(clock.now_ms()))
    wrong = "000000" if good != "000000" else "111111"
    with pytest.raises(TotpInvalid):
        accounts.totp_confirm("alice", wrong)
    assert not user_row(ctx, "alice").totp_confirmed
    assert user_row(ctx, "alice").totp_failures == 1

    accounts.totp_confirm("alice", good)
    row = user_row(ctx, "alice")
    assert row.totp_confirmed
    assert row.totp_failures == 0
    assert row.totp_last_step == step_of(clock.now_ms())

    with pytest.raises(Conflict):
        accounts.totp_enroll("alice")
    kinds = [e.kind for e in audit_entries(ctx)]
    assert kinds == ["user.created", "totp.enrolled", "stepup.failed", "totp.confirmed"]


def test_a_new_enrolment_replaces_an_unconfirmed_seed(
    ctx: Context, accounts: AccountService, clock: ManualClock
) -> None:
    accounts.create_user("alice", PASSWORD)
    first = accounts.totp_enroll("alice")
    second = accounts.totp_enroll("alice")
    assert first.secret != second.secret
    now_step = step_of(clock.now_ms())
    first_code = code_at(first.secret, now_step)
    if first_code not in {code_at(second.secret, s) for s in range(now_step - 1, now_step + 2)}:
        with pytest.raises(TotpInvalid):
            accounts.totp_confirm("alice", first_code)
    clock.advance(30)
    accounts.totp_confirm("alice", code_at(second.secret, step_of(clock.now_ms())))
    assert user_row(ctx, "alice").totp_confirmed


def test_confirm_without_enrolment_is_refused(accounts: AccountService) -> None:
    accounts.create_user("alice", PASSWORD)
    with pytest.raises(NotFound):
        accounts.totp_confirm("alice", "123456")
    with pytest.raises(NotFound):
        accounts.totp_enroll("nobody")


# --- second factor required --------------------------------------------------------------


@pytest.mark.parametrize("enrolled", [False, True], ids=["never-enrolled", "unconfirmed"])
def test_no_confirmed_totp_means_no_keys(
    ctx: Context, accounts: AccountService, key_service: KeyService, enrolled: bool
) -> None:
    accounts.create_user("alice", PASSWORD)
    code = "123456"
    if enrolled:
        enrolment = accounts.totp_enroll("alice")
        code = code_at(enrolment.secret, step_of(ctx.clock.now_ms()))
    revision, seq = key_revision(ctx), audit_seq(ctx)

    with pytest.raises(SecondFactorRequired) as exc:
        key_service.create("alice", hmac_spec(), PASSPHRASE, code)
    assert exc.value.code == "40016"
    assert key_service.list("alice") == []
    assert key_revision(ctx) == revision
    assert audit_seq(ctx) == seq


# --- each code at most once --------------------------------------------------------------


def test_a_code_is_accepted_at_most_once(
    ctx: Context, key_service: KeyService, clock: ManualClock
) -> None:
    user = make_user(ctx)
    code = user.code()
    key_service.create("alice", hmac_spec("one"), PASSPHRASE, code)

    with pytest.raises(TotpReused) as exc:
        key_service.create("alice", hmac_spec("two"), PASSPHRASE, code)
    assert exc.value.code == "40049"
    assert user_row(ctx, "alice").totp_failures == 1

    # The previous step's code is inside the window but older than the one accepted.
    older = code_at(user.seed, step_of(clock.now_ms()) - 1)
    with pytest.raises(TotpReused):
        key_service.create("alice", hmac_spec("two"), PASSPHRASE, older)

    # The next step's code is accepted early, and then the current one is too old.
    current = user.code_now()
    early = code_at(user.seed, step_of(clock.now_ms()) + 1)
    key_service.create("alice", hmac_spec("two"), PASSPHRASE, early)
    with pytest.raises(TotpReused):
        key_service.create("alice", hmac_spec("three"), PASSPHRASE, current)
    assert [k.label for k in key_service.list("alice")] == ["one", "two"]


def test_codes_outside_the_window_are_invalid(make_ctx: ContextFactory, clock: ManualClock) -> None:
    ctx = make_ctx(totp_max_failures=50)  # six wrong codes in a row must not lock here
    key_service = KeyService(ctx, AccountService(ctx))
    user = make_user(ctx)
    clock.advance(300)
    step = step_of(clock.now_ms())
    for stale in (code_at(user.seed, step - 2), code_at(user.seed, step + 2)):
        if stale in {code_at(user.seed, s) for s in (step - 1, step, step + 1)}:
            continue  # a collision of six digits: not a stale code after all
        with pytest.raises(TotpInvalid):
            key_service.create("alice", hmac_spec(), PASSPHRASE, stale)
    for garbage in ("", "12345", "1234567", "abcdef"):
        with pytest.raises(TotpInvalid):
            key_service.create("alice", hmac_spec(), PASSPHRASE, garbage)
    assert key_service.list("alice") == []
    # Spaces inside a code are tolerated ("123 456" as apps display it).
    spaced = user.code()
    key_service.create("alice", hmac_spec(), PASSPHRASE, f"{spaced[:3]} {spaced[3:]}")


# --- lockout -----------------------------------------------------------------------------


def test_five_failures_lock_step_up_for_fifteen_minutes(
    ctx: Context, key_service: KeyService, clock: ManualClock
) -> None:
    user = make_user(ctx)
    for failures in range(1, 5):
        with pytest.raises(TotpInvalid):
            key_service.create("alice", hmac_spec(), PASSPHRASE, user.wrong_code())
        row = user_row(ctx, "alice")  # committed although the call was refused
        assert row.totp_failures == failures
        assert row.totp_locked_until_ms == 0

    fifth_at = clock.now_ms()
    with pytest.raises(TotpInvalid):
        key_service.create("alice", hmac_spec(), PASSPHRASE, user.wrong_code())
    row = user_row(ctx, "alice")
    assert row.totp_locked_until_ms == fifth_at + 15 * 60 * 1000
    assert row.totp_failures == 0

    # A correct, never-used code is refused while locked, and the lock does not move.
    clock.advance(60)
    with pytest.raises(StepUpLocked) as exc:
        key_service.create("alice", hmac_spec(), PASSPHRASE, user.code_now())
    assert exc.value.code == "40050"
    assert "locked until" in exc.value.msg
    clock.set_ms(fifth_at + 15 * 60 * 1000 - 1)
    with pytest.raises(StepUpLocked):
        key_service.create("alice", hmac_spec(), PASSPHRASE, user.code_now())
    assert user_row(ctx, "alice").totp_locked_until_ms == fifth_at + 15 * 60 * 1000
    assert key_service.list("alice") == []

    clock.set_ms(fifth_at + 15 * 60 * 1000)
    key_service.create("alice", hmac_spec(), PASSPHRASE, user.code_now())
    row = user_row(ctx, "alice")
    assert row.totp_failures == 0
    assert len(key_service.list("alice")) == 1

    kinds = [e.kind for e in audit_entries(ctx) if e.kind.startswith("stepup.")]
    assert kinds == ["stepup.failed"] * 4 + ["stepup.locked"] * 3
    locked = [e for e in audit_entries(ctx) if e.kind == "stepup.locked"]
    assert json.loads(locked[0].detail)["code"] == "40049"
    assert json.loads(locked[1].detail)["code"] == "40050"


def test_lockout_is_configurable(make_ctx: ContextFactory, clock: ManualClock) -> None:
    ctx = make_ctx(totp_max_failures=2, totp_lockout_s=60)
    keys = KeyService(ctx, AccountService(ctx))
    user = make_user(ctx)
    for _ in range(2):
        with pytest.raises(TotpInvalid):
            keys.create("alice", hmac_spec(), PASSPHRASE, user.wrong_code())
    locked_until = user_row(ctx, "alice").totp_locked_until_ms
    assert locked_until == clock.now_ms() + 60_000
    with pytest.raises(StepUpLocked):
        keys.create("alice", hmac_spec(), PASSPHRASE, user.code())
    clock.set_ms(locked_until)
    keys.create("alice", hmac_spec(), PASSPHRASE, user.code_now())


def test_a_success_resets_the_failure_count(ctx: Context, key_service: KeyService) -> None:
    user = make_user(ctx)
    for _ in range(4):
        with pytest.raises(TotpInvalid):
            key_service.create("alice", hmac_spec(), PASSPHRASE, user.wrong_code())
    key_service.create("alice", hmac_spec("one"), PASSPHRASE, user.code())
    assert user_row(ctx, "alice").totp_failures == 0
    for _ in range(4):
        with pytest.raises(TotpInvalid):
            key_service.create("alice", hmac_spec(), PASSPHRASE, user.wrong_code())
    assert user_row(ctx, "alice").totp_locked_until_ms == 0
    key_service.create("alice", hmac_spec("two"), PASSPHRASE, user.code())


Action = Callable[[KeyService, TotpUser, str, str], object]

ACTIONS: dict[str, Action] = {
    "create": lambda ks, u, key, code: ks.create(u.name, hmac_spec("new"), PASSPHRASE, code),
    "update": lambda ks, u, key, code: ks.update(key, code, label="renamed"),
    "rotate": lambda ks, u, key, code: ks.rotate(key, PASSPHRASE, code),
}


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_step_up_commits_its_failure(
    ctx: Context, key_service: KeyService, action: str
) -> None:
    user = make_user(ctx)
    key = key_service.create("alice", hmac_spec(), PASSPHRASE, user.code()).record
    revision, seq = key_revision(ctx), audit_seq(ctx)

    with pytest.raises(StepUpError):
        ACTIONS[action](key_service, user, key.api_key, user.wrong_code())

    assert user_row(ctx, "alice").totp_failures == 1
    assert key_revision(ctx) == revision
    (entry,) = audit_entries(ctx, seq)
    assert entry.kind == "stepup.failed"
    assert entry.user_id == user.id
    assert key_service.show(key.api_key) == key
    assert len(key_service.list("alice")) == 1

    ACTIONS[action](key_service, user, key.api_key, user.code())
    assert user_row(ctx, "alice").totp_failures == 0
