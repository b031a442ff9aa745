"""The credential vault: where the client tools find API keys.

``load_credentials`` looks first at environment variables (a read-only source for CI, see
``vault_env``), then at the stored vault: the OS keyring when a usable one exists
(``vault_keyring``), otherwise an encrypted file under the client home (``vault_file``).
``SEALBOOK_VAULT_BACKEND`` = ``auto`` (default) | ``keyring`` | ``file`` overrides the
choice. The file's password comes from ``SEALBOOK_VAULT_PASSWORD`` or a hidden prompt.
"""

from __future__ import annotations

import fcntl
import getpass
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from sealbook.client.credentials import Credential
from sealbook.client.errors import CredentialNotFound, VaultError
from sealbook.client.vault_entry import KEY_MAX_AGE_DAYS, StoredCredential
from sealbook.client.vault_env import env_credential, env_names
from sealbook.client.vault_file import VaultFile
from sealbook.client.vault_keyring import KeyringStore, keyring_usable

__all__ = [
    "KEY_MAX_AGE_DAYS",
    "StoredCredential",
    "Vault",
    "default_client_home",
    "load_credentials",
    "load_entries",
    "validate_name",
]

HOME_ENV = "SEALBOOK_CLIENT_HOME"
PASSWORD_ENV = "SEALBOOK_VAULT_PASSWORD"  # noqa: S105 - the variable's name
BACKEND_ENV = "SEALBOOK_VAULT_BACKEND"
VAULT_FILE_NAME = "vault.json"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

PasswordSource = Callable[[bool], str]  # argument: True when a new vault is being made


def default_client_home() -> Path:
    """``$SEALBOOK_CLIENT_HOME`` or ``~/.sealbook``: vault, snapshots, tax DB, bot state."""
    configured = os.environ.get(HOME_ENV, "").strip()
    return Path(configured).expanduser() if configured else Path.home() / ".sealbook"


def validate_name(name: str) -> str:
    if not _NAME.match(name):
        raise VaultError(
            f"bad credential name {name!r}: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def _now_ms() -> int:
    return int(time.time() * 1000)


class _Store(Protocol):
    def read(self) -> dict[str, dict[str, Any]]: ...
    def write(self, records: dict[str, dict[str, Any]]) -> None: ...
    def exists(self) -> bool: ...


class _FileStore:
    """The encrypted file as a record store; the password is asked once per vault."""

    def __init__(self, path: Path, password: PasswordSource) -> None:
        self.file = VaultFile(path)
        self._password = password
        self._opened = False

    def read(self) -> dict[str, dict[str, Any]]:
        contents = self.file.load(self._password(not self.file.exists()))
        self._opened = True
        records = contents.get("credentials", {})
        if not isinstance(records, dict):
            raise VaultError("the vault file is damaged")
        return records

    def write(self, records: dict[str, dict[str, Any]]) -> None:
        if not self._opened:
            self.read()
        self.file.save({"credentials": records})

    def exists(self) -> bool:
        return self.file.exists()


def prompt_password(new: bool) -> str:
    """``SEALBOOK_VAULT_PASSWORD``, else a hidden prompt (twice for a new vault)."""
    password = os.environ.get(PASSWORD_ENV, "")
    if password:
        return password
    if not sys.stdin.isatty():
        raise VaultError(f"the vault is locked: set {PASSWORD_ENV} or run on a terminal")
    password = getpass.getpass("Vault password: ")
    if new and getpass.getpass("Repeat the new vault password: ") != password:
        raise VaultError("the two passwords differ; nothing was stored")
    if not password:
        raise VaultError("an empty vault password is refused")
    return password


class Vault:
    """The stored credentials under one client home (the environment is not written)."""

    def __init__(
        self,
        home: Path | None = None,
        *,
        backend: str | None = None,
        password: PasswordSource = prompt_password,
    ) -> None:
        self.home = home or default_client_home()
        choice = (backend or os.environ.get(BACKEND_ENV, "") or "auto").strip().lower()
        if choice not in ("auto", "keyring", "file"):
            raise VaultError(f"{BACKEND_ENV} must be auto, keyring or file, not {choice!r}")
        if choice == "keyring" and not keyring_usable():
            raise VaultError("no usable OS keyring here; use the file backend")
        use_keyring = choice == "keyring" or (choice == "auto" and keyring_usable())
        self.backend = "keyring" if use_keyring else "file"
        self._store: _Store = (
            KeyringStore(self.home)
            if use_keyring
            else _FileStore(self.home / VAULT_FILE_NAME, password)
        )
        self._records: dict[str, dict[str, Any]] | None = None

    def __repr__(self) -> str:
        return f"Vault(home={str(self.home)!r}, backend={self.backend!r})"

    def exists(self) -> bool:
        return self._store.exists()

    def _all(self) -> dict[str, dict[str, Any]]:
        if self._records is None:
            self._records = self._store.read() if self._store.exists() else {}
        return self._records

    def entries(self) -> list[StoredCredential]:
        return [self._entry(name, rec) for name, rec in sorted(self._all().items())]

    def get(self, name: str) -> StoredCredential:
        record = self._all().get(name)
        if record is None:
            raise CredentialNotFound(f"no credential named {name!r} in the vault")
        return self._entry(name, record)

    def add(
        self, cred: Credential, *, created_ms: int | None = None, now_ms: int | None = None
    ) -> StoredCredential:
        validate_name(cred.name)
        _check_material(cred)
        with self._locked():
            records = self._fresh()
            if cred.name in records:
                raise VaultError(f"a credential named {cred.name!r} exists; rotate or remove it")
            records[cred.name] = {
                **_material(cred),
                "exchange": cred.exchange,
                "url": cred.url,
                "added_ms": now_ms or _now_ms(),
                "rotated_ms": None,
                "created_ms": created_ms,
            }
            self._save(records)
        return self.get(cred.name)

    def rotate(self, cred: Credential, *, now_ms: int | None = None) -> StoredCredential:
        """Replace the key material of the stored credential ``cred.name``."""
        _check_material(cred)
        with self._locked():
            records = self._fresh()
            if cred.name not in records:
                raise CredentialNotFound(f"no credential named {cred.name!r} in the vault")
            records[cred.name] = {
                **records[cred.name],
                **_material(cred),
                "rotated_ms": now_ms or _now_ms(),
            }
            self._save(records)
        return self.get(cred.name)

    def remove(self, name: str) -> None:
        with self._locked():
            records = self._fresh()
            if records.pop(name, None) is None:
                raise CredentialNotFound(f"no credential named {name!r} in the vault")
            self._save(records)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One writer at a time: two ``creds add`` at once must not lose either entry."""
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.home / ".vault.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _fresh(self) -> dict[str, dict[str, Any]]:
        # Read again under the lock; the file store reuses the key it derived for the same
        # salt, so a command still pays for one Argon2id run.
        self._records = self._store.read() if self._store.exists() else {}
        return dict(self._records)

    def _save(self, records: dict[str, dict[str, Any]]) -> None:
        self._store.write(records)
        self._records = records

    def _entry(self, name: str, rec: dict[str, Any]) -> StoredCredential:
        cred = Credential(
            name=name,
            exchange=str(rec.get("exchange") or "bitget"),
            api_key=str(rec.get("api_key", "")),
            secret=str(rec.get("secret", "")),
            passphrase=str(rec.get("passphrase", "")),
            url=rec.get("url") or None,
        )
        return StoredCredential(
            cred,
            self.backend,
            added_ms=rec.get("added_ms"),
            rotated_ms=rec.get("rotated_ms"),
            created_ms=rec.get("created_ms"),
        )


def _material(cred: Credential) -> dict[str, str]:
    return {"api_key": cred.api_key, "secret": cred.secret, "passphrase": cred.passphrase}


def _check_material(cred: Credential) -> None:
    if not cred.api_key.strip() or not cred.secret.strip():
        raise VaultError("an API key and a secret are both needed")
    for value in (cred.api_key, cred.secret, cred.passphrase):
        if any(ch in value for ch in "\r\n\t ") or not value.isprintable():
            raise VaultError("key, secret and passphrase may not hold spaces or control characters")


def load_credentials(names: Sequence[str] = ()) -> list[Credential]:
    """The named credentials (every one known when ``names`` is empty): environment
    variables first, then the stored vault. Raises ``CredentialNotFound`` for an unknown
    name. The stored vault is opened (and its password asked) only when needed."""
    return [entry.credential for entry in load_entries(names)]


def load_entries(names: Sequence[str] = (), vault: Vault | None = None) -> list[StoredCredential]:
    """``load_credentials`` with the facts the vault keeps (``source``, dates)."""
    if names:
        found: list[StoredCredential] = []
        for name in dict.fromkeys(names):
            cred = env_credential(name)
            if cred is not None:
                found.append(StoredCredential(cred, "env"))
                continue
            vault = vault or Vault()
            if not vault.exists():
                raise CredentialNotFound(f"no credential named {name!r} (the vault is empty)")
            found.append(vault.get(name))
        return found
    from_env = [
        StoredCredential(cred, "env")
        for name in env_names()
        if (cred := env_credential(name)) is not None
    ]
    vault = vault or Vault()
    taken = {entry.name.lower() for entry in from_env}
    stored = vault.entries() if vault.exists() else []
    return from_env + [entry for entry in stored if entry.name.lower() not in taken]
