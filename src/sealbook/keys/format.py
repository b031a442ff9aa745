"""The API key string: ``sbk_`` + 28 base62 characters + a 6-character base62 CRC32.

28 base62 characters carry 166 bits of randomness. The checksum lets a scanner recognise
a leaked key without false positives, and lets the server reject a mistyped or forged
key before touching the database.
"""

from __future__ import annotations

import re
import secrets
import zlib

__all__ = [
    "ALPHABET",
    "KEY_PATTERN",
    "KEY_PREFIX",
    "display_prefix",
    "elide",
    "is_well_formed",
    "new_api_key",
    "new_hmac_secret",
]

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
KEY_PREFIX = "sbk_"
BODY_LEN = 28
CHECK_LEN = 6
KEY_LEN = len(KEY_PREFIX) + BODY_LEN + CHECK_LEN
KEY_PATTERN = re.compile(r"\bsbk_[0-9A-Za-z]{34}\b")
_SHAPE = re.compile(r"sbk_[0-9A-Za-z]{34}")


def _checksum(body: str) -> str:
    # Unrolled base62 of a 32-bit CRC (62**6 > 2**32): this runs on every request.
    v, f = divmod(zlib.crc32(b"sbk_" + body.encode("ascii")), 62)
    v, e = divmod(v, 62)
    v, d = divmod(v, 62)
    v, c = divmod(v, 62)
    a, b = divmod(v, 62)
    return ALPHABET[a] + ALPHABET[b] + ALPHABET[c] + ALPHABET[d] + ALPHABET[e] + ALPHABET[f]


def new_api_key() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LEN))
    return KEY_PREFIX + body + _checksum(body)


def is_well_formed(key: str) -> bool:
    """Prefix, length, alphabet and checksum: no database needed."""
    if len(key) != KEY_LEN or _SHAPE.fullmatch(key) is None:
        return False
    return key[-CHECK_LEN:] == _checksum(key[len(KEY_PREFIX) : len(KEY_PREFIX) + BODY_LEN])


def new_hmac_secret() -> str:
    """A 256-bit HMAC secret as 64 hex characters (the shape Bitget hands out)."""
    return secrets.token_hex(32)


def display_prefix(key: str) -> str:
    """The part of a key that is safe to put in an audit entry or a log line."""
    return key[:10]


def elide(key: str) -> str:
    """``sbk_AbCdEf…x1y2z3`` for lists where the whole key is not needed."""
    if len(key) <= 16:
        return key[:4] + "…"
    return key[:10] + "…" + key[-6:]
