"""TOTP (RFC 6238: HMAC-SHA1, 30 s steps, 6 digits) and the step-up rules around it.

A code is accepted for the previous, current or next step, and at most once: any step at
or before the last accepted one is refused, so a code seen over a shoulder is useless.
Consecutive failures lock step-up for a while. The rules are pure; the caller persists
the returned state even when the code is refused, so a lockout survives a restart.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

from sealbook.errors import StepUpError, StepUpLocked, TotpInvalid, TotpReused

__all__ = [
    "STEP_S",
    "StepUpPolicy",
    "TotpState",
    "code_at",
    "new_secret",
    "provisioning_uri",
    "step_of",
    "verify_step_up",
]

STEP_S = 30
DIGITS = 6


def new_secret() -> str:
    """160 random bits, base32 without padding (what authenticator apps expect)."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def _key(secret_b32: str) -> bytes:
    padded = secret_b32.upper() + "=" * (-len(secret_b32) % 8)
    return base64.b32decode(padded)


def step_of(now_ms: int) -> int:
    return now_ms // 1000 // STEP_S


def code_at(secret_b32: str, step: int) -> str:
    digest = hmac.digest(_key(secret_b32), struct.pack(">Q", step), hashlib.sha1)
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**DIGITS).zfill(DIGITS)


def provisioning_uri(secret_b32: str, account: str, issuer: str = "Sealbook") -> str:
    # A literal ":" separates issuer and account; a "%3A" would read as part of a name.
    label = f"{quote(issuer, safe='')}:{quote(account, safe='')}"
    query = urlencode({"secret": secret_b32, "issuer": issuer, "digits": DIGITS, "period": STEP_S})
    return f"otpauth://totp/{label}?{query}"


@dataclass(frozen=True, slots=True)
class TotpState:
    last_step: int = -1
    failures: int = 0
    locked_until_ms: int = 0


@dataclass(frozen=True, slots=True)
class StepUpPolicy:
    max_failures: int = 5
    lockout_ms: int = 15 * 60 * 1000


def verify_step_up(
    secret_b32: str, code: str, state: TotpState, now_ms: int, policy: StepUpPolicy
) -> tuple[TotpState, StepUpError | None]:
    """Check ``code``; return the state to persist and the error, if refused."""
    if now_ms < state.locked_until_ms:
        until = datetime.fromtimestamp(state.locked_until_ms / 1000, UTC).isoformat(
            timespec="seconds"
        )
        return state, StepUpLocked(until)
    code = code.strip().replace(" ", "")
    now_step = step_of(now_ms)
    matched: int | None = None
    # isascii: str.isdigit() also accepts "１２３４５６", which compare_digest rejects.
    if len(code) == DIGITS and code.isascii() and code.isdigit():
        for step in (now_step - 1, now_step, now_step + 1):
            if hmac.compare_digest(code_at(secret_b32, step), code):
                matched = step
                break
    if matched is not None and matched > state.last_step:
        return TotpState(last_step=matched, failures=0, locked_until_ms=0), None
    failures = state.failures + 1
    error: StepUpError = TotpReused() if matched is not None else TotpInvalid()
    if failures >= policy.max_failures:
        return replace(state, failures=0, locked_until_ms=now_ms + policy.lockout_ms), error
    return replace(state, failures=failures), error
