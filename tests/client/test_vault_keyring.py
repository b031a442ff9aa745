"""The keyring backend: secrets go to the keyring, only facts to the index file.

No desktop keyring runs here, so the test installs a small in-process backend through
keyring's own ``set_keyring``; everything from ``keyring.get_password`` up is real.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from sealbook.client.credentials import Credential
from sealbook.client.errors import VaultError
from sealbook.client.vault import Vault, load_credentials
from sealbook.client.vault_keyring import keyring_usable

SECRET = "7c" * 32


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.store.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


@pytest.fixture
def memory_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    monkeypatch.setenv("SEALBOOK_CLIENT_HOME", str(tmp_path))
    monkeypatch.delenv("SEALBOOK_VAULT_BACKEND", raising=False)
    monkeypatch.delenv("SEALBOOK_VAULT_PASSWORD", raising=False)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


def test_usable_keyring_is_preferred_and_holds_the_secrets(
    memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    assert keyring_usable()
    vault = Vault()
    assert vault.backend == "keyring"
    vault.add(Credential("main", "bitget", "sbk_public_key", SECRET, "Pass9876", "http://h"))
    index = tmp_path / "credentials.json"
    assert stat.S_IMODE(index.stat().st_mode) == 0o600
    text = index.read_text()
    assert SECRET not in text and "Pass9876" not in text and "sbk_public_key" not in text
    assert json.loads(text)["main"]["url"] == "http://h"
    assert json.loads(memory_keyring.store[("sealbook", "main")]) == {
        "api_key": "sbk_public_key",
        "secret": SECRET,
        "passphrase": "Pass9876",
    }
    assert not (tmp_path / "vault.json").exists()  # no password was needed or asked
    (cred,) = load_credentials(["main"])
    assert (cred.api_key, cred.secret, cred.passphrase, cred.url) == (
        "sbk_public_key", SECRET, "Pass9876", "http://h",
    )
    Vault().remove("main")
    assert memory_keyring.store == {}
    assert load_credentials() == []


def test_missing_keyring_entry_is_a_clear_error(memory_keyring: MemoryKeyring) -> None:
    Vault().add(Credential("main", "bitget", "k", SECRET, "P", None))
    memory_keyring.store.clear()  # someone emptied the keyring behind the vault's back
    with pytest.raises(VaultError, match="holds no secret for 'main'"):
        load_credentials(["main"])
