"""The encrypted vault file: Argon2id derives the key, AES-256-GCM seals the contents.

The file is JSON with a versioned header and one sealed blob::

    {"format": "sealbook-vault", "version": 1,
     "kdf": {"name": "argon2id", "memory_kib": 65536, "time_cost": 3, "parallelism": 4,
             "salt": "<b64>"},
     "cipher": {"name": "aes-256-gcm", "nonce": "<b64>"},
     "sealed": "<b64 ciphertext+tag>"}

The header (everything but ``sealed``) is the AEAD's associated data, so a changed KDF
parameter or version fails authentication like a changed ciphertext. The KDF parameters
are stored so a later version can raise them and still open old files. Writes go to a new
file created with mode 0600 and replace the old one atomically.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sealbook.client.errors import VaultError

__all__ = ["FORMAT", "KDF_MEMORY_KIB", "KDF_TIME_COST", "VERSION", "KdfParams", "VaultFile"]

FORMAT = "sealbook-vault"
VERSION = 1
KDF_MEMORY_KIB = 64 * 1024  # 64 MiB: the floor; stored params below it are refused
KDF_TIME_COST = 3
KDF_PARALLELISM = 4
# A hostile file could ask for terabytes of memory; refuse before trying.
_KDF_MEMORY_CEILING_KIB = 4 * 1024 * 1024
_KDF_TIME_CEILING = 64
SALT_LEN = 16
NONCE_LEN = 12
KEY_LEN = 32


@dataclass(frozen=True, slots=True)
class KdfParams:
    salt: bytes = field(repr=False)
    memory_kib: int = KDF_MEMORY_KIB
    time_cost: int = KDF_TIME_COST
    parallelism: int = KDF_PARALLELISM

    def derive(self, password: str) -> bytes:
        return hash_secret_raw(
            password.encode("utf-8"),
            self.salt,
            time_cost=self.time_cost,
            memory_cost=self.memory_kib,
            parallelism=self.parallelism,
            hash_len=KEY_LEN,
            type=Type.ID,
        )

    def header(self) -> dict[str, Any]:
        return {
            "name": "argon2id",
            "memory_kib": self.memory_kib,
            "time_cost": self.time_cost,
            "parallelism": self.parallelism,
            "salt": _b64(self.salt),
        }

    @classmethod
    def from_header(cls, raw: Any) -> KdfParams:
        if not isinstance(raw, dict) or raw.get("name") != "argon2id":
            raise VaultError("the vault file names an unknown key derivation")
        try:
            params = cls(
                salt=_unb64(raw["salt"]),
                memory_kib=int(raw["memory_kib"]),
                time_cost=int(raw["time_cost"]),
                parallelism=int(raw["parallelism"]),
            )
        except (KeyError, TypeError, ValueError):
            raise VaultError("the vault file's key derivation parameters are damaged") from None
        if not (KDF_MEMORY_KIB <= params.memory_kib <= _KDF_MEMORY_CEILING_KIB):
            raise VaultError("the vault file's Argon2id memory cost is out of range")
        if not (KDF_TIME_COST <= params.time_cost <= _KDF_TIME_CEILING):
            raise VaultError("the vault file's Argon2id time cost is out of range")
        if not (1 <= params.parallelism <= 64) or len(params.salt) < SALT_LEN:
            raise VaultError("the vault file's Argon2id parameters are out of range")
        return params


class VaultFile:
    """One vault file at ``path``. ``load`` opens it with a password; ``save`` seals a
    new state under the same derived key (a fresh nonce each time), so one command pays
    for one Argon2id run."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._params: KdfParams | None = None
        self._key: bytes | None = None
        self._tag = b""  # SHA-256 of the password the key came from, to reuse the key

    def __repr__(self) -> str:
        return f"VaultFile({str(self.path)!r})"

    def exists(self) -> bool:
        return self.path.exists()

    def load(self, password: str) -> dict[str, Any]:
        """The vault's contents; an empty vault when the file does not exist yet."""
        if not self.path.exists():
            self._params = KdfParams(salt=secrets.token_bytes(SALT_LEN))
            self._key = self._params.derive(password)
            self._tag = hashlib.sha256(password.encode("utf-8")).digest()
            return {}
        try:
            document = json.loads(self.path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            raise VaultError(f"cannot read the vault file {self.path}") from None
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise VaultError(f"{self.path} is not a Sealbook vault file")
        if document.get("version") != VERSION:
            raise VaultError(
                f"the vault file has version {document.get('version')!r}; this Sealbook "
                f"reads version {VERSION}"
            )
        cipher = document.get("cipher")
        if not isinstance(cipher, dict) or cipher.get("name") != "aes-256-gcm":
            raise VaultError("the vault file names an unknown cipher")
        params = KdfParams.from_header(document.get("kdf"))
        try:
            nonce = _unb64(cipher["nonce"])
            sealed = _unb64(document["sealed"])
        except (KeyError, TypeError, ValueError):
            raise VaultError("the vault file is damaged") from None
        tag = hashlib.sha256(password.encode("utf-8")).digest()
        if params == self._params and self._key is not None and hmac.compare_digest(tag, self._tag):
            key = self._key  # opened before in this process with the same salt and password
        else:
            key = params.derive(password)
        try:
            plain = AESGCM(key).decrypt(nonce, sealed, _aad(document))
        except InvalidTag:
            raise VaultError("wrong vault password, or the vault file was changed") from None
        contents = json.loads(plain)
        if not isinstance(contents, dict):
            raise VaultError("the vault file is damaged")
        self._params, self._key, self._tag = params, key, tag
        return contents

    def save(self, contents: dict[str, Any]) -> None:
        """Seal ``contents`` and atomically replace the file (mode 0600)."""
        if self._params is None or self._key is None:
            raise VaultError("open the vault before writing it")
        document: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "kdf": self._params.header(),
            "cipher": {"name": "aes-256-gcm", "nonce": ""},
        }
        nonce = secrets.token_bytes(NONCE_LEN)
        document["cipher"]["nonce"] = _b64(nonce)
        plain = json.dumps(contents, sort_keys=True).encode("utf-8")
        document["sealed"] = _b64(AESGCM(self._key).encrypt(nonce, plain, _aad(document)))
        _write_private(self.path, json.dumps(document, indent=1).encode("utf-8") + b"\n")


def _aad(document: dict[str, Any]) -> bytes:
    header = {name: value for name, value in document.items() if name != "sealed"}
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a new 0600 file beside ``path``, fsync, then rename over it."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_private(path: Path, data: bytes) -> None:
    """Public alias for the other backends' non-secret index file."""
    _write_private(path, data)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise TypeError("not base64 text")
    return base64.b64decode(text.encode("ascii"), validate=True)
