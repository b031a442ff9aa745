"""Secrets at rest: AES-256-GCM sealing bound to a row, keyed digests, HKDF subkeys."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sealbook.keys.sealing import MasterKey, Sealer, SealError

RAW = bytes(range(32))
OTHER_RAW = bytes(range(1, 33))
SECRET = b"9f2c1e7a0b4d4c3e8a6f5d2b1c0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e"
CONTEXT = "apikey-secret:sbk_row_one"


@pytest.fixture
def sealer() -> Sealer:
    return Sealer(MasterKey(RAW))


def hkdf_sha256_32(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    """RFC 5869 for a 32-byte output (one block), written out with hmac."""
    prk = hmac.digest(salt, ikm, hashlib.sha256)
    return hmac.digest(prk, info + b"\x01", hashlib.sha256)


def test_seal_then_open_returns_the_plaintext(sealer: Sealer) -> None:
    for plaintext in (SECRET, b"", b"\x00" * 1000, "pässwörd".encode()):
        assert sealer.open(sealer.seal(plaintext, CONTEXT), CONTEXT) == plaintext


def test_another_sealer_with_the_same_master_key_opens(sealer: Sealer) -> None:
    sealed = sealer.seal(SECRET, CONTEXT)
    assert Sealer(MasterKey(RAW)).open(sealed, CONTEXT) == SECRET


def test_sealed_value_is_version_nonce_ciphertext_tag_under_the_seal_subkey(
    sealer: Sealer,
) -> None:
    sealed = sealer.seal(SECRET, CONTEXT)
    assert sealed[:1] == b"\x01"
    assert len(sealed) == 1 + 12 + len(SECRET) + 16
    aead = AESGCM(hkdf_sha256_32(RAW, b"sealbook/v1", b"seal"))
    assert aead.decrypt(sealed[1:13], sealed[13:], CONTEXT.encode()) == SECRET


def test_two_seals_of_the_same_plaintext_differ(sealer: Sealer) -> None:
    first, second = sealer.seal(SECRET, CONTEXT), sealer.seal(SECRET, CONTEXT)
    assert first != second
    assert first[1:13] != second[1:13]  # fresh nonce each time
    assert SECRET not in first


def test_opening_with_another_rows_context_fails(sealer: Sealer) -> None:
    sealed = sealer.seal(SECRET, CONTEXT)
    for other in ("apikey-secret:sbk_row_two", "", CONTEXT + " ", "totp-seed:sbk_row_one"):
        with pytest.raises(SealError):
            sealer.open(sealed, other)


def test_opening_a_value_with_any_flipped_bit_fails(sealer: Sealer) -> None:
    sealed = sealer.seal(SECRET, CONTEXT)
    for byte in range(len(sealed)):
        for bit in (0, 7):
            tampered = bytearray(sealed)
            tampered[byte] ^= 1 << bit
            with pytest.raises(SealError):
                sealer.open(bytes(tampered), CONTEXT)


def test_opening_a_truncated_value_fails(sealer: Sealer) -> None:
    sealed = sealer.seal(SECRET, CONTEXT)
    for n in range(len(sealed)):
        with pytest.raises(SealError):
            sealer.open(sealed[:n], CONTEXT)
    with pytest.raises(SealError):
        sealer.open(sealed + b"\x00", CONTEXT)


def test_opening_with_another_master_key_fails(sealer: Sealer) -> None:
    sealed = sealer.seal(SECRET, CONTEXT)
    with pytest.raises(SealError):
        Sealer(MasterKey(OTHER_RAW)).open(sealed, CONTEXT)


def test_seal_error_message_reveals_nothing(sealer: Sealer) -> None:
    sealed = sealer.seal(SECRET, CONTEXT)
    with pytest.raises(SealError) as caught:
        Sealer(MasterKey(OTHER_RAW)).open(sealed, CONTEXT)
    text = str(caught.value) + repr(caught.value)
    assert SECRET.decode() not in text
    assert sealed.hex() not in text
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_master_key_must_be_32_bytes() -> None:
    for raw in (b"", b"\x00" * 16, b"\x00" * 31, b"\x00" * 33, b"\x00" * 64):
        with pytest.raises(ValueError, match="32 bytes"):
            MasterKey(raw)


def test_repr_of_master_key_and_sealer_reveals_no_key_bytes() -> None:
    master = MasterKey(RAW)
    sealer = Sealer(master)
    derived = [master.derive(p) for p in ("seal", "passphrase-pepper")]
    for text in (repr(master), str(master), repr(sealer), str(sealer), f"{master!r} {sealer}"):
        assert "redacted" in text
        for material in (RAW, *derived):
            assert material.hex() not in text
            assert material.hex().upper() not in text
            assert repr(material) not in text
            assert base64.b64encode(material).decode() not in text


def test_master_key_and_sealer_have_no_instance_dict_to_dump() -> None:
    master = MasterKey(RAW)
    assert not hasattr(master, "__dict__")
    assert not hasattr(Sealer(master), "__dict__")


def test_passphrase_digest_is_deterministic(sealer: Sealer) -> None:
    one = sealer.passphrase_digest("sbk_a", "Passphrase1")
    assert one == sealer.passphrase_digest("sbk_a", "Passphrase1")
    assert one == Sealer(MasterKey(RAW)).passphrase_digest("sbk_a", "Passphrase1")
    assert len(one) == 32


def test_passphrase_digest_is_hmac_under_the_pepper_subkey(sealer: Sealer) -> None:
    pepper = hkdf_sha256_32(RAW, b"sealbook/v1", b"passphrase-pepper")
    expected = hmac.digest(pepper, b"sbk_a\x00Passphrase1", hashlib.sha256)
    assert sealer.passphrase_digest("sbk_a", "Passphrase1") == expected


def test_passphrase_digest_differs_by_api_key(sealer: Sealer) -> None:
    assert sealer.passphrase_digest("sbk_a", "Passphrase1") != sealer.passphrase_digest(
        "sbk_b", "Passphrase1"
    )


def test_passphrase_digest_differs_by_passphrase(sealer: Sealer) -> None:
    digests = {sealer.passphrase_digest("sbk_a", p) for p in ("Passphrase1", "Passphrase2", "")}
    assert len(digests) == 3


def test_passphrase_digest_does_not_confuse_key_and_passphrase_boundary(sealer: Sealer) -> None:
    assert sealer.passphrase_digest("sbk_ab", "c") != sealer.passphrase_digest("sbk_a", "bc")


def test_passphrase_digest_differs_with_another_master_key(sealer: Sealer) -> None:
    other = Sealer(MasterKey(OTHER_RAW))
    assert sealer.passphrase_digest("sbk_a", "Passphrase1") != other.passphrase_digest(
        "sbk_a", "Passphrase1"
    )


def test_hkdf_subkeys_differ_per_purpose_and_match_rfc_5869() -> None:
    master = MasterKey(RAW)
    purposes = ("seal", "passphrase-pepper", "totp-seed", "session")
    subkeys = [master.derive(p) for p in purposes]
    assert len(set(subkeys)) == len(purposes)
    assert RAW not in subkeys
    for purpose, subkey in zip(purposes, subkeys, strict=True):
        assert len(subkey) == 32
        assert subkey == master.derive(purpose)
        assert subkey == hkdf_sha256_32(RAW, b"sealbook/v1", purpose.encode())
    assert MasterKey(OTHER_RAW).derive("seal") != master.derive("seal")
