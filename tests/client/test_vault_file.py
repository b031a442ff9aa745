"""The encrypted vault file: Argon2id + AES-256-GCM, versioned, 0600, atomic, no leaks."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from sealbook.client.credentials import Credential
from sealbook.client.errors import CredentialNotFound, VaultError
from sealbook.client.vault import Vault
from sealbook.client.vault_file import KDF_MEMORY_KIB, KDF_TIME_COST, VaultFile

SECRET = "9f1c2e7a" * 8
PASSPHRASE = "Passphrase123"
KEY = "sbk_0123456789abcdefghijABCDEFGHIJ"


def _password(_new: bool) -> str:
    return "correct horse battery staple"


def _vault(home: Path, password: object = _password) -> Vault:
    return Vault(home, backend="file", password=password)  # type: ignore[arg-type]


def _cred(name: str = "main", key: str = KEY, secret: str = SECRET) -> Credential:
    return Credential(name, "bitget", key, secret, PASSPHRASE, "http://127.0.0.1:9")


def test_round_trip_keeps_every_field_and_the_dates(tmp_path: Path) -> None:
    _vault(tmp_path).add(_cred(), created_ms=1_700_000_000_000, now_ms=1_800_000_000_000)
    entry = _vault(tmp_path).get("main")
    assert entry.credential == _cred()
    assert (entry.added_ms, entry.created_ms, entry.rotated_ms) == (
        1_800_000_000_000,
        1_700_000_000_000,
        None,
    )
    assert entry.source == "file"


def test_file_is_private_sealed_and_names_its_parameters(tmp_path: Path) -> None:
    _vault(tmp_path).add(_cred())
    path = tmp_path / "vault.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    raw = path.read_bytes()
    for secret in (SECRET, PASSPHRASE, KEY, "main"):
        assert secret.encode() not in raw
    document = json.loads(raw)
    assert document["format"] == "sealbook-vault"
    assert document["version"] == 1
    assert document["cipher"]["name"] == "aes-256-gcm"
    assert document["kdf"]["name"] == "argon2id"
    assert document["kdf"]["memory_kib"] >= 64 * 1024 == KDF_MEMORY_KIB
    assert document["kdf"]["time_cost"] == KDF_TIME_COST == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == [".vault.lock", "vault.json"]


def test_each_write_uses_a_fresh_nonce(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    vault.add(_cred("one"))
    first = json.loads((tmp_path / "vault.json").read_text())
    vault.add(_cred("two"))
    second = json.loads((tmp_path / "vault.json").read_text())
    assert first["cipher"]["nonce"] != second["cipher"]["nonce"]
    assert [e.name for e in _vault(tmp_path).entries()] == ["one", "two"]


def test_wrong_password_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    _vault(tmp_path).add(_cred())
    before = (tmp_path / "vault.json").read_bytes()
    with pytest.raises(VaultError, match="wrong vault password") as caught:
        _vault(tmp_path, lambda _new: "not the password").add(_cred("other"))
    assert SECRET not in str(caught.value)
    assert (tmp_path / "vault.json").read_bytes() == before


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("memory_kib", 128 * 1024, "wrong vault password"),  # header is authenticated
        ("memory_kib", 1024, "memory cost is out of range"),  # a downgrade is refused
        ("time_cost", 1, "time cost is out of range"),
    ],
)
def test_changed_kdf_parameters_are_refused(
    tmp_path: Path, field: str, value: int, message: str
) -> None:
    _vault(tmp_path).add(_cred())
    path = tmp_path / "vault.json"
    document = json.loads(path.read_text())
    document["kdf"][field] = value
    path.write_text(json.dumps(document))
    with pytest.raises(VaultError, match=message):
        _vault(tmp_path).entries()


def test_unknown_version_and_foreign_files_are_refused(tmp_path: Path) -> None:
    _vault(tmp_path).add(_cred())
    path = tmp_path / "vault.json"
    document = json.loads(path.read_text())
    document["version"] = 2
    path.write_text(json.dumps(document))
    with pytest.raises(VaultError, match="version 2"):
        _vault(tmp_path).entries()
    path.write_text("{}")
    with pytest.raises(VaultError, match="not a Sealbook vault"):
        _vault(tmp_path).entries()
    path.write_text("garbage")
    with pytest.raises(VaultError, match="cannot read"):
        VaultFile(path).load("x")


def test_rotate_and_remove(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    vault.add(_cred(), now_ms=1_000)
    rotated = vault.rotate(_cred(key="sbk_" + "Z" * 34, secret="b" * 64), now_ms=2_000)
    assert rotated.credential.api_key == "sbk_" + "Z" * 34
    assert (rotated.added_ms, rotated.rotated_ms, rotated.issued_ms()) == (1_000, 2_000, 2_000)
    assert _vault(tmp_path).get("main").credential.secret == "b" * 64
    _vault(tmp_path).remove("main")
    with pytest.raises(CredentialNotFound):
        _vault(tmp_path).get("main")
    with pytest.raises(CredentialNotFound):
        _vault(tmp_path).remove("main")


@pytest.mark.parametrize(
    "cred",
    [
        _cred(name="bad name"),
        _cred(name="-leading"),
        _cred(key=""),
        _cred(secret=" "),
        _cred(secret="has space"),
        _cred(key="line\nbreak"),
    ],
)
def test_bad_input_is_refused_and_stores_nothing(tmp_path: Path, cred: Credential) -> None:
    with pytest.raises(VaultError):
        _vault(tmp_path).add(cred)
    assert not (tmp_path / "vault.json").exists()


def test_duplicate_name_is_refused(tmp_path: Path) -> None:
    _vault(tmp_path).add(_cred())
    with pytest.raises(VaultError, match="exists"):
        _vault(tmp_path).add(_cred(secret="c" * 64))
    assert _vault(tmp_path).get("main").credential.secret == SECRET


def test_reprs_hold_no_secret(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    entry = vault.add(_cred())
    text = repr(entry) + repr(vault) + repr(entry.credential) + repr(entry.listing())
    for secret in (SECRET, PASSPHRASE, KEY):
        assert secret not in text
    assert entry.listing()["apiKey"] == "sbk_0123…GHIJ"


def test_file_backend_is_chosen_when_keyring_is_unusable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keyring
    from keyring.backends import fail

    monkeypatch.delenv("SEALBOOK_VAULT_BACKEND", raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())  # what a machine without a desktop keyring has
    try:
        assert Vault(tmp_path, password=_password).backend == "file"
        with pytest.raises(VaultError, match="no usable OS keyring"):
            Vault(tmp_path, backend="keyring")
        with pytest.raises(VaultError, match="auto, keyring or file"):
            Vault(tmp_path, backend="cloud")
    finally:
        keyring.set_keyring(previous)


def test_concurrent_adds_lose_nothing(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def add(i: int) -> None:
        _vault(tmp_path).add(_cred(f"acct{i}", key=f"key-{i}"))

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(add, range(6)))
    assert [e.name for e in _vault(tmp_path).entries()] == [f"acct{i}" for i in range(6)]
