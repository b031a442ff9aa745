"""``sealbook creds`` against a real Sealbook server: rights checked on add, withdraw keys
refused, secrets only ever on stdin and never in any output."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command
from typer.testing import CliRunner, Result

from fixtures.server import IssuedKey, SealbookServer
from sealbook.cli.main import app

PASSWORD = "vault password for tests"


@pytest.fixture(scope="module")
def sealbook_server_env() -> dict[str, str]:
    return {"SEALBOOK_RATE_LIMIT_FACTOR": "1000"}


@pytest.fixture
def client_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    import os

    for name in list(os.environ):
        if name.startswith("SEALBOOK_CREDS_"):
            monkeypatch.delenv(name)
    env = {
        "SEALBOOK_CLIENT_HOME": str(tmp_path / "client"),
        "SEALBOOK_VAULT_BACKEND": "file",
        "SEALBOOK_VAULT_PASSWORD": PASSWORD,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    yield env


def _run(args: list[str], stdin: str = "") -> Result:
    return CliRunner().invoke(app, args, input=stdin)


def _material(key: IssuedKey) -> str:
    return f"{key.api_key}\n{key.secret}\n{key.passphrase}\n"


def _assert_no_secret(key: IssuedKey, *texts: str) -> None:
    for text in texts:
        assert key.secret is not None
        assert key.secret not in text
        assert key.passphrase not in text
        assert key.api_key not in text


def test_add_list_rotate_remove(
    sealbook_server: SealbookServer, client_env: dict[str, str]
) -> None:
    server = sealbook_server
    key = server.issue_key(perms=["spot_trade"])
    added = _run(["creds", "add", "main", "--url", server.base_url, "--json"], _material(key))
    assert added.exit_code == 0, added.output
    view = json.loads(added.stdout)
    assert view["rights"] == "read, spot trade"
    assert view["apiKey"] == f"{key.api_key[:8]}…{key.api_key[-4:]}"
    assert (view["exchange"], view["url"], view["source"]) == ("bitget", server.base_url, "file")

    listed = _run(["creds", "list", "--json"])
    assert listed.exit_code == 0
    rows = json.loads(listed.stdout)
    assert [(r["name"], r["apiKey"], r["ageDays"], r["tooOld"]) for r in rows] == [
        ("main", view["apiKey"], 0, False)
    ]
    table = _run(["creds", "list"])
    assert "main" in table.stdout and view["apiKey"] in table.stdout

    vault_bytes = (Path(client_env["SEALBOOK_CLIENT_HOME"]) / "vault.json").read_text()
    _assert_no_secret(key, added.output, listed.output, table.output, vault_bytes)

    fresh = server.rotate(key)
    rotated = _run(["creds", "rotate", "main", "--json"], _material(fresh))
    assert rotated.exit_code == 0, rotated.output
    assert json.loads(rotated.stdout)["rotatedTime"] is not None
    _assert_no_secret(fresh, rotated.output)

    from sealbook.client.vault import load_credentials

    (cred,) = load_credentials(["main"])
    assert (cred.api_key, cred.secret, cred.passphrase) == (
        fresh.api_key,
        fresh.secret,
        fresh.passphrase,
    )

    removed = _run(["creds", "remove", "main"])
    assert removed.exit_code == 0
    assert json.loads(_run(["creds", "list", "--json"]).stdout) == []
    missing = _run(["creds", "remove", "main"])
    assert missing.exit_code == 1
    assert "no credential named 'main'" in missing.output


def test_withdraw_key_is_refused_unless_allowed(
    sealbook_server: SealbookServer, client_env: dict[str, str]
) -> None:
    key = sealbook_server.issue_key(perms=["spot_trade", "withdraw"], ips=["127.0.0.1"])
    refused = _run(["creds", "add", "hot", "--url", sealbook_server.base_url], _material(key))
    assert refused.exit_code == 1
    assert "can withdraw" in refused.output and "nothing was stored" in refused.output
    assert json.loads(_run(["creds", "list", "--json"]).stdout) == []
    _assert_no_secret(key, refused.output)

    allowed = _run(
        ["creds", "add", "hot", "--url", sealbook_server.base_url, "--allow-withdraw-key",
         "--json"],
        _material(key),
    )
    assert allowed.exit_code == 0, allowed.output
    assert json.loads(allowed.stdout)["rights"] == "read, spot trade, withdraw"


def test_old_key_warns_and_bad_key_is_refused(
    sealbook_server: SealbookServer, client_env: dict[str, str]
) -> None:
    key = sealbook_server.issue_key()
    old = _run(
        ["creds", "add", "old", "--url", sealbook_server.base_url, "--created", "2020-01-01"],
        _material(key),
    )
    assert old.exit_code == 0, old.output
    assert "days old (more than 90)" in old.stderr
    assert json.loads(_run(["creds", "list", "--json"]).stdout)[0]["tooOld"] is True

    wrong = f"{key.api_key}\n{'0' * 64}\n{key.passphrase}\n"
    bad = _run(["creds", "add", "bad", "--url", sealbook_server.base_url], wrong)
    assert bad.exit_code == 1
    assert "could not read the key's permissions" in bad.output
    assert [r["name"] for r in json.loads(_run(["creds", "list", "--json"]).stdout)] == ["old"]

    for args, stdin in [
        (["creds", "add", "x y"], _material(key)),
        (["creds", "add", "x", "--created", "yesterday"], _material(key)),
        (["creds", "add", "x"], ""),
        (["creds", "add", "old", "--url", sealbook_server.base_url], _material(key)),
    ]:
        result = _run(args, stdin)
        assert result.exit_code != 0, args
        assert result.output.startswith("error:") or "Error" in result.output


def test_no_option_takes_a_secret() -> None:
    creds: Any = get_command(app).commands["creds"]  # type: ignore[attr-defined]
    assert sorted(creds.commands) == ["add", "list", "remove", "rotate"]
    for command in creds.commands.values():
        for param in command.params:
            names = " ".join(getattr(param, "opts", [])).lower()
            for word in ("secret", "passphrase", "password", "api-key", "apikey", "--key"):
                assert word not in names, (command.name, names)
