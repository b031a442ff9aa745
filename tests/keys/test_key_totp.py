"""TOTP (RFC 6238) and the step-up rules around it: window, single use, lockout."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pyotp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sealbook.clock import ManualClock
from sealbook.errors import StepUpLocked, TotpInvalid, TotpReused
from sealbook.keys.totp import (
    STEP_S,
    StepUpPolicy,
    TotpState,
    code_at,
    new_secret,
    provisioning_uri,
    step_of,
    verify_step_up,
)

RFC_SEED = base64.b32encode(b"12345678901234567890").decode()
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
POLICY = StepUpPolicy()
MINUTE_MS = 60_000


def code_now(clock: ManualClock, secret: str = SECRET, offset: int = 0) -> str:
    return code_at(secret, step_of(clock.now_ms()) + offset)


def wrong_code(clock: ManualClock, secret: str = SECRET) -> str:
    """A six-digit code that matches none of the three accepted steps."""
    near = {code_now(clock, secret, k) for k in (-1, 0, 1)}
    return next(c for c in (f"{n:06d}" for n in range(1_000_000)) if c not in near)


# --- the code itself -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("unix_s", "rfc_code"),
    [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ],
)
def test_rfc_6238_sha1_vectors(unix_s: int, rfc_code: str) -> None:
    assert step_of(unix_s * 1000) == unix_s // 30
    assert code_at(RFC_SEED, step_of(unix_s * 1000)) == rfc_code[-6:]


@given(
    raw=st.binary(min_size=16, max_size=40),
    unix_s=st.integers(min_value=0, max_value=2**34),
    lower=st.booleans(),
)
def test_codes_agree_with_pyotp(raw: bytes, unix_s: int, lower: bool) -> None:
    secret = base64.b32encode(raw).decode().rstrip("=")
    ours = code_at(secret.lower() if lower else secret, step_of(unix_s * 1000))
    assert ours == pyotp.TOTP(secret).at(unix_s)


def test_step_is_thirty_seconds() -> None:
    assert STEP_S == 30
    assert step_of(0) == step_of(29_999) == 0
    assert step_of(30_000) == 1


def test_new_secret_is_160_bits_of_unpadded_base32() -> None:
    secrets_ = {new_secret() for _ in range(50)}
    assert len(secrets_) == 50
    for secret in secrets_:
        assert len(secret) == 32
        assert "=" not in secret
        assert len(base64.b32decode(secret)) == 20


def test_provisioning_uri_is_accepted_by_pyotp() -> None:
    secret = new_secret()
    uri = provisioning_uri(secret, "alice@example.com")
    assert uri.startswith("otpauth://totp/")
    otp = pyotp.parse_uri(uri)
    assert isinstance(otp, pyotp.TOTP)
    assert otp.secret == secret
    assert otp.issuer == "Sealbook"
    assert otp.name == "alice@example.com"
    assert otp.digits == 6
    assert otp.interval == 30
    assert otp.at(1_800_000_000) == code_at(secret, step_of(1_800_000_000_000))


def test_provisioning_uri_keeps_odd_account_names_intact() -> None:
    for account in ("bob smith", "a/b", "x&y=z?#", "ünï"):
        otp = pyotp.parse_uri(provisioning_uri(SECRET, account, issuer="My Exchange"))
        assert otp.name == account
        assert otp.issuer == "My Exchange"


# --- step-up rules -------------------------------------------------------------------


def test_previous_current_and_next_step_are_accepted() -> None:
    clock = ManualClock()
    for offset in (-1, 0, 1):
        state, error = verify_step_up(
            SECRET, code_now(clock, offset=offset), TotpState(), clock.now_ms(), POLICY
        )
        assert error is None, offset
        assert state == TotpState(last_step=step_of(clock.now_ms()) + offset)


def test_two_steps_away_is_refused() -> None:
    clock = ManualClock()
    for offset in (-2, 2, -10):
        code = code_now(clock, offset=offset)
        assert code not in {code_now(clock, offset=k) for k in (-1, 0, 1)}
        state, error = verify_step_up(SECRET, code, TotpState(), clock.now_ms(), POLICY)
        assert isinstance(error, TotpInvalid), offset
        assert state.failures == 1
        assert state.last_step == -1


def test_code_with_spaces_is_accepted() -> None:
    clock = ManualClock()
    code = code_now(clock)
    _, error = verify_step_up(
        SECRET, f" {code[:3]} {code[3:]} ", TotpState(), clock.now_ms(), POLICY
    )
    assert error is None


@pytest.mark.parametrize(
    "code", ["", "12345", "1234567", "abcdef", "12345a", "１２３４５６", "٠١٢٣٤٥", "12345²"]
)
def test_malformed_codes_are_refused_not_crashed_on(code: str) -> None:
    state, error = verify_step_up(SECRET, code, TotpState(), ManualClock().now_ms(), POLICY)
    assert isinstance(error, TotpInvalid)
    assert state.failures == 1


def test_a_code_is_accepted_at_most_once() -> None:
    clock = ManualClock()
    code = code_now(clock)
    state, error = verify_step_up(SECRET, code, TotpState(), clock.now_ms(), POLICY)
    assert error is None
    clock.advance(5)
    refused_state, error = verify_step_up(SECRET, code, state, clock.now_ms(), POLICY)
    assert isinstance(error, TotpReused)
    assert error.code == "40049"
    assert refused_state.last_step == state.last_step


def test_an_older_step_after_a_newer_one_was_accepted_is_refused() -> None:
    clock = ManualClock()
    state, error = verify_step_up(
        SECRET, code_now(clock, offset=1), TotpState(), clock.now_ms(), POLICY
    )
    assert error is None
    for offset in (0, -1):
        _, error = verify_step_up(
            SECRET, code_now(clock, offset=offset), state, clock.now_ms(), POLICY
        )
        assert isinstance(error, TotpReused), offset


def test_the_next_steps_code_is_accepted_after_the_current_one() -> None:
    clock = ManualClock()
    state, _ = verify_step_up(SECRET, code_now(clock), TotpState(), clock.now_ms(), POLICY)
    clock.advance(STEP_S)
    state, error = verify_step_up(SECRET, code_now(clock), state, clock.now_ms(), POLICY)
    assert error is None
    assert state.last_step == step_of(clock.now_ms())


def test_five_consecutive_failures_lock_step_up_for_fifteen_minutes() -> None:
    clock = ManualClock()
    state = TotpState()
    for attempt in range(1, 6):
        state, error = verify_step_up(SECRET, wrong_code(clock), state, clock.now_ms(), POLICY)
        assert isinstance(error, TotpInvalid), attempt
        if attempt < 5:
            assert state.failures == attempt
            assert state.locked_until_ms == 0
    locked_at = clock.now_ms()
    assert state.locked_until_ms == locked_at + 15 * MINUTE_MS

    # The correct code is refused while locked, and refusing it changes nothing.
    for seconds in (0, 60, 15 * 60 - 1):
        clock.set_ms(locked_at + seconds * 1000)
        after, error = verify_step_up(SECRET, code_now(clock), state, clock.now_ms(), POLICY)
        assert isinstance(error, StepUpLocked), seconds
        assert error.code == "40050"
        assert after == state
    until = datetime.fromtimestamp((locked_at + 15 * MINUTE_MS) / 1000, UTC)
    assert until.isoformat(timespec="seconds") in error.msg

    clock.set_ms(locked_at + 15 * MINUTE_MS)
    state, error = verify_step_up(SECRET, code_now(clock), state, clock.now_ms(), POLICY)
    assert error is None
    assert state.failures == 0


def test_a_success_resets_the_failure_count() -> None:
    clock = ManualClock()
    state = TotpState()
    for _ in range(4):
        state, _ = verify_step_up(SECRET, wrong_code(clock), state, clock.now_ms(), POLICY)
    assert state.failures == 4
    state, error = verify_step_up(SECRET, code_now(clock), state, clock.now_ms(), POLICY)
    assert error is None
    assert state.failures == 0
    for _ in range(4):
        state, error = verify_step_up(SECRET, wrong_code(clock), state, clock.now_ms(), POLICY)
        assert isinstance(error, TotpInvalid)
    assert state.locked_until_ms == 0
    clock.advance(STEP_S)
    state, error = verify_step_up(SECRET, code_now(clock), state, clock.now_ms(), POLICY)
    assert error is None


def test_lockout_follows_the_policy() -> None:
    clock = ManualClock()
    policy = StepUpPolicy(max_failures=2, lockout_ms=1_000)
    state, _ = verify_step_up(SECRET, wrong_code(clock), TotpState(), clock.now_ms(), policy)
    state, _ = verify_step_up(SECRET, wrong_code(clock), state, clock.now_ms(), policy)
    assert state.locked_until_ms == clock.now_ms() + 1_000


def test_error_messages_never_contain_the_code_or_the_secret() -> None:
    clock = ManualClock()
    code = wrong_code(clock)
    state = TotpState()
    messages = []
    for _ in range(6):
        state, error = verify_step_up(SECRET, code, state, clock.now_ms(), POLICY)
        assert error is not None
        messages.append(error.msg + repr(error))
    for text in messages:
        assert code not in text
        assert SECRET not in text
