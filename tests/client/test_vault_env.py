"""``load_credentials``: environment variables first (the CI source), then the vault."""

from __future__ import annotations

from pathlib import Path

import pytest

from sealbook.client.credentials import Credential
from sealbook.client.errors import CredentialNotFound, VaultError
from sealbook.client.vault import Vault, default_client_home, load_credentials
from sealbook.client.vault_env import env_prefix

SECRET = "e" * 64


@pytest.fixture(autouse=True)
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import os

    for name in list(os.environ):
        if name.startswith("SEALBOOK_CREDS_"):
            monkeypatch.delenv(name)
    home = tmp_path / "client-home"
    monkeypatch.setenv("SEALBOOK_CLIENT_HOME", str(home))
    monkeypatch.setenv("SEALBOOK_VAULT_BACKEND", "file")
    monkeypatch.setenv("SEALBOOK_VAULT_PASSWORD", "a vault password")
    return home


def test_client_home_comes_from_the_environment(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert default_client_home() == clean_env
    monkeypatch.delenv("SEALBOOK_CLIENT_HOME")
    assert default_client_home() == Path.home() / ".sealbook"


def test_names_are_upper_cased_with_underscores() -> None:
    assert env_prefix("alice-main.v2") == "SEALBOOK_CREDS_ALICE_MAIN_V2_"


def test_env_credential_with_defaults_and_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEALBOOK_CREDS_CI_BOT_KEY", "sbk_key")
    monkeypatch.setenv("SEALBOOK_CREDS_CI_BOT_SECRET", SECRET)
    monkeypatch.setenv("SEALBOOK_CREDS_CI_BOT_PASSPHRASE", "Pass1234")
    monkeypatch.setenv("SEALBOOK_CREDS_OTHER_KEY", "k2")
    monkeypatch.setenv("SEALBOOK_CREDS_OTHER_SECRET", "s2")
    monkeypatch.setenv("SEALBOOK_CREDS_OTHER_EXCHANGE", "binance")
    monkeypatch.setenv("SEALBOOK_CREDS_OTHER_URL", "http://127.0.0.1:1")
    assert load_credentials(["ci-bot"]) == [
        Credential("ci-bot", "bitget", "sbk_key", SECRET, "Pass1234", None)
    ]
    everything = load_credentials()
    assert [(c.name, c.exchange, c.url) for c in everything] == [
        ("ci_bot", "bitget", None),
        ("other", "binance", "http://127.0.0.1:1"),
    ]
    assert not (default_client_home() / "vault.json").exists()  # the vault was not made


def test_env_wins_over_the_stored_vault(monkeypatch: pytest.MonkeyPatch) -> None:
    Vault().add(Credential("main", "bitget", "stored-key", SECRET, "P1", None))
    Vault().add(Credential("spare", "bitget", "spare-key", SECRET, "P2", None))
    monkeypatch.setenv("SEALBOOK_CREDS_MAIN_KEY", "env-key")
    monkeypatch.setenv("SEALBOOK_CREDS_MAIN_SECRET", "env-secret")
    assert [c.api_key for c in load_credentials(["main", "spare"])] == ["env-key", "spare-key"]
    assert [(c.name, c.api_key) for c in load_credentials()] == [
        ("main", "env-key"),
        ("spare", "spare-key"),
    ]


def test_unknown_name_is_credential_not_found() -> None:
    with pytest.raises(CredentialNotFound, match="nobody"):
        load_credentials(["nobody"])
    Vault().add(Credential("main", "bitget", "k", SECRET, "P", None))
    with pytest.raises(CredentialNotFound, match="nobody"):
        load_credentials(["main", "nobody"])


def test_key_without_secret_names_the_variable_not_the_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SEALBOOK_CREDS_HALF_KEY", "sbk_visible_key_value")
    with pytest.raises(VaultError) as caught:
        load_credentials(["half"])
    assert "SEALBOOK_CREDS_HALF_SECRET" in str(caught.value)
    assert "sbk_visible_key_value" not in str(caught.value)


def test_locked_vault_without_password_or_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    Vault().add(Credential("main", "bitget", "k", SECRET, "P", None))
    monkeypatch.delenv("SEALBOOK_VAULT_PASSWORD")
    with pytest.raises(VaultError, match="SEALBOOK_VAULT_PASSWORD"):
        load_credentials(["main"])


def test_the_api_other_tools_rely_on() -> None:
    import inspect

    from sealbook.client import vault

    signature = inspect.signature(vault.load_credentials)
    assert list(signature.parameters) == ["names"]
    assert signature.parameters["names"].default == ()
    assert inspect.signature(vault.default_client_home).parameters == {}
    assert {"load_credentials", "default_client_home"} <= set(vault.__all__)
