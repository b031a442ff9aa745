"""Secrets at rest: AES-256-GCM sealing and keyed digests, all derived from one master key.

The master key never encrypts anything itself: HKDF derives one subkey per purpose, so a
sealed HMAC secret, a TOTP seed and a passphrase digest never share key material.
Every sealed value is bound to its row through the AEAD's associated data: a ciphertext
copied to another row does not open.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["MasterKey", "SealError", "Sealer"]

_VERSION = b"\x01"
_NONCE_LEN = 12


class SealError(ValueError):
    """A sealed value did not open: wrong master key, wrong row, or tampering."""


class MasterKey:
    """32 bytes of key material. Its repr shows nothing."""

    __slots__ = ("_raw",)

    def __init__(self, raw: bytes) -> None:
        if len(raw) != 32:
            raise ValueError("the master key must be exactly 32 bytes")
        self._raw = raw

    def derive(self, purpose: str) -> bytes:
        return HKDF(
            algorithm=hashes.SHA256(), length=32, salt=b"sealbook/v1", info=purpose.encode()
        ).derive(self._raw)

    def __repr__(self) -> str:
        return "MasterKey(<redacted>)"

    __str__ = __repr__


class Sealer:
    """Seals and opens secrets; computes passphrase digests."""

    __slots__ = ("_aead", "_pepper")

    def __init__(self, master: MasterKey) -> None:
        self._aead = AESGCM(master.derive("seal"))
        self._pepper = master.derive("passphrase-pepper")

    def seal(self, plaintext: bytes, context: str) -> bytes:
        nonce = os.urandom(_NONCE_LEN)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, context.encode())

    def open(self, sealed: bytes, context: str) -> bytes:
        if len(sealed) < 1 + _NONCE_LEN + 16 or sealed[:1] != _VERSION:
            raise SealError("sealed value has an unknown format")
        nonce = sealed[1 : 1 + _NONCE_LEN]
        try:
            return self._aead.decrypt(nonce, sealed[1 + _NONCE_LEN :], context.encode())
        except InvalidTag:
            raise SealError(
                "sealed value did not open (wrong key, wrong row, or tampered)"
            ) from None

    def passphrase_digest(self, api_key: str, passphrase: str) -> bytes:
        """HMAC-SHA256 under the pepper, bound to the key so equal passphrases differ."""
        msg = api_key.encode() + b"\x00" + passphrase.encode()
        return hmac.digest(self._pepper, msg, hashlib.sha256)

    def __repr__(self) -> str:
        return "Sealer(<redacted>)"
