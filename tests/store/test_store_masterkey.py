"""Where the master key comes from, and when the server must refuse to start."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from sealbook.config import Settings
from sealbook.keys.sealing import MasterKey, Sealer
from sealbook.store.masterkey import MasterKeyMissing, load_master_key
from sealbook.store.signal import SignalWatcher, touch_signal


def _settings(home: Path, env_key: str | None = None) -> Settings:
    return Settings(
        home=home, database_url=None, master_key=SecretStr(env_key) if env_key else None
    )


def _same_key(a: MasterKey, b: MasterKey) -> bool:
    sealed = Sealer(a).seal(b"probe", "ctx")
    return Sealer(b).open(sealed, "ctx") == b"probe"


def test_missing_key_is_refused_unless_asked_to_create(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    with pytest.raises(MasterKeyMissing) as exc:
        load_master_key(settings)
    assert "serve --demo" in str(exc.value)
    assert not settings.master_key_path.exists()

    created = load_master_key(settings, create=True)
    path = settings.master_key_path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(base64.b64decode(path.read_text().strip(), validate=True)) == 32
    assert _same_key(created, load_master_key(settings))
    assert _same_key(created, load_master_key(settings, create=True))  # never replaced
    assert [p.name for p in tmp_path.iterdir()] == ["master.key"]  # no temp file left


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_key_file_others_can_read_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "master.key"
    path.write_text(base64.b64encode(os.urandom(32)).decode())
    path.chmod(mode)
    with pytest.raises(MasterKeyMissing) as exc:
        load_master_key(_settings(tmp_path))
    assert "chmod 600" in str(exc.value)


@pytest.mark.parametrize(
    "text",
    ["not base64!", base64.b64encode(b"x" * 31).decode(), base64.b64encode(b"x" * 33).decode()],
)
def test_malformed_keys_are_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(MasterKeyMissing):
        load_master_key(_settings(tmp_path, text))
    path = tmp_path / "master.key"
    path.write_text(text)
    path.chmod(0o600)
    with pytest.raises(MasterKeyMissing) as exc:
        load_master_key(_settings(tmp_path))
    assert text not in str(exc.value)  # the message names the place, not the content


def test_the_environment_wins_over_the_file(tmp_path: Path) -> None:
    raw = os.urandom(32)
    (tmp_path / "master.key").write_text("garbage")
    (tmp_path / "master.key").chmod(0o644)
    key = load_master_key(_settings(tmp_path, base64.b64encode(raw).decode()))
    assert _same_key(key, MasterKey(raw))
    assert "redacted" in repr(key)


def test_signal_file_is_noticed(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "keys.signal"
    watcher = SignalWatcher(path)
    assert not watcher.moved()
    touch_signal(path)
    assert watcher.moved()
    assert not watcher.moved()
    touch_signal(path)
    assert watcher.moved()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for _ in range(5000):  # it never grows without bound
        touch_signal(path)
    assert path.stat().st_size <= 4096
