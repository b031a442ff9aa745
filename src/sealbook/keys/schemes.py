"""How a request is signed: the prehash, and HMAC / RSA / Ed25519 verification over it.

The prehash is ``timestamp + METHOD + path ["?" + query] + body`` over the bytes the client
sent. ccxt signs the percent-decoded query while sending it encoded; other clients sign
exactly what they send, so the decoded form is tried first and the raw one second
(BITGET_WIRE.md §1.2).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from enum import StrEnum
from typing import Protocol
from urllib.parse import unquote_to_bytes

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from sealbook.errors import ParamInvalid

__all__ = [
    "Ed25519Scheme",
    "HmacScheme",
    "KeyType",
    "RsaScheme",
    "SignatureScheme",
    "canonical_public_pem",
    "decode_signature",
    "load_public_key",
    "prehash_candidates",
]


class KeyType(StrEnum):
    HMAC = "hmac"
    RSA = "rsa"
    ED25519 = "ed25519"


def prehash_candidates(
    ts: bytes, method: bytes, path: bytes, query: bytes, body: bytes
) -> list[bytes]:
    head = ts + method + path
    if not query:
        return [head + body]
    decoded = unquote_to_bytes(query)
    first = head + b"?" + decoded + body
    if decoded == query:
        return [first]
    return [first, head + b"?" + query + body]


def decode_signature(sign: bytes) -> bytes | None:
    try:
        return binascii.a2b_base64(sign, strict_mode=True)
    except (binascii.Error, ValueError):
        return None


class SignatureScheme(Protocol):
    def verify(self, message: bytes, signature: bytes) -> bool: ...


class HmacScheme:
    """HMAC-SHA256; the secret is held only in memory, opened from its sealed form.

    The key pads are hashed once (RFC 2104): each signature then costs two cheap
    ``sha256`` copies. Unlike ``hmac.digest``, which releases the GIL on every call, this
    keeps it for short messages, so the event loop does not stall waiting to get it back.
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, secret: bytes) -> None:
        key = hashlib.sha256(secret).digest() if len(secret) > 64 else secret
        key = key.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def sign(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def verify(self, message: bytes, signature: bytes) -> bool:
        return hmac.compare_digest(self.sign(message), signature)

    def __repr__(self) -> str:
        return "HmacScheme(<redacted>)"


class RsaScheme:
    """RSASSA-PKCS1-v1_5 with SHA-256, as Bitget's official SDK signs."""

    __slots__ = ("_key",)

    def __init__(self, key: rsa.RSAPublicKey) -> None:
        self._key = key

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            self._key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return False
        return True


class Ed25519Scheme:
    __slots__ = ("_key",)

    def __init__(self, key: ed25519.Ed25519PublicKey) -> None:
        self._key = key

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


def load_public_key(key_type: KeyType, pem: str) -> RsaScheme | Ed25519Scheme:
    """Parse and check a user-supplied public key (PEM, or raw base64 for Ed25519)."""
    text = pem.strip()
    try:
        if key_type is KeyType.ED25519 and not text.startswith("-----"):
            return Ed25519Scheme(ed25519.Ed25519PublicKey.from_public_bytes(base64.b64decode(text)))
        key = serialization.load_pem_public_key(text.encode())
    except (ValueError, TypeError, binascii.Error):
        raise ParamInvalid("publicKey", "not a readable public key") from None
    if key_type is KeyType.RSA:
        if not isinstance(key, rsa.RSAPublicKey):
            raise ParamInvalid("publicKey", "not an RSA public key")
        if key.key_size not in (2048, 4096):
            raise ParamInvalid("publicKey", "RSA keys must be 2048 or 4096 bits")
        return RsaScheme(key)
    if key_type is KeyType.ED25519:
        if not isinstance(key, ed25519.Ed25519PublicKey):
            raise ParamInvalid("publicKey", "not an Ed25519 public key")
        return Ed25519Scheme(key)
    raise ParamInvalid("type", "HMAC keys have no public key")


def canonical_public_pem(scheme: RsaScheme | Ed25519Scheme) -> str:
    key = scheme._key
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
