"""Argon2id password hashes for people signing in."""

from __future__ import annotations

from sealbook.keys.passwords import hash_password, needs_rehash, verify_password

PASSWORD = "correct horse battery staple"


def test_hash_is_argon2id_and_salted() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first.startswith("$argon2id$")
    assert first != second
    assert PASSWORD not in first
    assert not needs_rehash(first)


def test_verify_accepts_the_password_and_refuses_others() -> None:
    stored = hash_password(PASSWORD)
    assert verify_password(stored, PASSWORD) is True
    assert verify_password(stored, PASSWORD + " ") is False
    assert verify_password(stored, "") is False


def test_unknown_user_is_refused_even_with_the_dummy_password() -> None:
    assert verify_password(None, PASSWORD) is False
    assert verify_password(None, "sealbook-dummy-password") is False


def test_a_corrupt_stored_hash_is_refused_not_raised() -> None:
    assert verify_password("", PASSWORD) is False
    assert verify_password("not-a-hash", PASSWORD) is False
    assert verify_password(hash_password(PASSWORD)[:-4], PASSWORD) is False
