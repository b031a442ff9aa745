"""The OS keyring as the vault's store for secrets, with a plain index beside it.

A keyring can store and fetch one password per (service, name) but cannot list them, so
the names and the non-secret facts (exchange, URL, masked key, dates) live in
``credentials.json`` under the client home (mode 0600); the key, secret and passphrase
live only in the keyring, as one JSON value per credential.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from sealbook.client.errors import VaultError
from sealbook.client.vault_file import write_private

__all__ = ["SERVICE", "KeyringStore", "keyring_usable"]

SERVICE = "sealbook"
SECRET_FIELDS = ("api_key", "secret", "passphrase")
# keyring's stand-ins for "no keyring here" refuse or drop what they are given, and
# keyrings.alt's plaintext file is no safer than no vault: the encrypted file is used instead.
_UNUSABLE = ("keyring.backends.fail", "keyring.backends.null", "keyrings.alt")


def keyring_usable() -> bool:
    """True when keyring found a backend that really stores secrets."""
    try:
        import keyring
        from keyring.backends import chainer
    except ImportError:
        return False
    backend = keyring.get_keyring()
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return False
    return not type(backend).__module__.startswith(_UNUSABLE)


class KeyringStore:
    """Records keyed by name: secrets in the keyring, the rest in the index file."""

    def __init__(self, home: Path) -> None:
        self.index_path = home / "credentials.json"

    def __repr__(self) -> str:
        return f"KeyringStore({str(self.index_path)!r})"

    def read(self) -> dict[str, dict[str, Any]]:
        import keyring

        records: dict[str, dict[str, Any]] = {}
        for name, facts in self._index().items():
            raw = keyring.get_password(SERVICE, name)
            if raw is None:
                raise VaultError(f"the keyring holds no secret for {name!r}; remove and re-add it")
            try:
                secret_part = json.loads(raw)
            except json.JSONDecodeError:
                raise VaultError(f"the keyring entry for {name!r} is damaged") from None
            records[name] = {**facts, **{f: str(secret_part.get(f, "")) for f in SECRET_FIELDS}}
        return records

    def write(self, records: dict[str, dict[str, Any]]) -> None:
        import keyring
        from keyring.errors import PasswordDeleteError

        old = set(self._index())
        for name, record in records.items():
            value = json.dumps({f: record.get(f, "") for f in SECRET_FIELDS})
            keyring.set_password(SERVICE, name, value)
        index = {
            name: {k: v for k, v in record.items() if k not in SECRET_FIELDS}
            for name, record in records.items()
        }
        write_private(self.index_path, json.dumps(index, indent=1, sort_keys=True).encode())
        for name in old - set(records):
            with contextlib.suppress(PasswordDeleteError):  # already gone: fine
                keyring.delete_password(SERVICE, name)

    def exists(self) -> bool:
        return self.index_path.exists()

    def _index(self) -> dict[str, dict[str, Any]]:
        if not self.index_path.exists():
            return {}
        try:
            index = json.loads(self.index_path.read_text("utf-8"))
        except (OSError, json.JSONDecodeError):
            raise VaultError(f"cannot read {self.index_path}") from None
        if not isinstance(index, dict):
            raise VaultError(f"{self.index_path} is damaged")
        return index
