"""Argon2id password hashes for people signing in."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ["hash_password", "needs_rehash", "verify_password"]

# argon2-cffi's defaults are RFC 9106's low-memory profile: Argon2id, t=3, m=64 MiB, p=4.
_HASHER = PasswordHasher()
# Verified against when the user does not exist, so a sign-in costs the same either way.
_DUMMY = _HASHER.hash("sealbook-dummy-password")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _HASHER.check_needs_rehash(stored)
