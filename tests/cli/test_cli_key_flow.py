"""The `sealbook` command, run for real in a subprocess, through a key's whole life.

user create → totp-enroll → totp-confirm → key create (secret printed once) → list/show
(never the secret) → update → rotate → revoke → audit verify. Codes come from the wall
clock, since the subprocess reads it; a fourth code may wait for the next 30-s step.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from fixtures.services import WallClockCodes, cli_env, run_cli, write_master_key_file

PASSWORD = "Sturdy-Password-42"
PASSPHRASE = "CliPassphrase77"
NEW_PASSPHRASE = "CliRotated2025"


class Cli:
    """``sealbook ... --home HOME`` with a fixed environment; every run is recorded."""

    def __init__(self, home: Path, env: dict[str, str]) -> None:
        self.home = home
        self.env = env
        self.runs: list[subprocess.CompletedProcess[str]] = []

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        result = run_cli([*args, "--home", str(self.home)], env=self.env, stdin=stdin)
        self.runs.append(result)
        return result

    def ok(self, *args: str, stdin: str | None = None) -> str:
        result = self.run(*args, stdin=stdin)
        assert result.returncode == 0, f"{args}: {result.stderr}"
        assert "Traceback" not in result.stderr
        return result.stdout

    def json(self, *args: str, stdin: str | None = None) -> Any:
        return json.loads(self.ok(*args, "--json", stdin=stdin))


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    home = tmp_path / "home"
    return Cli(home, cli_env(os.urandom(32)))


def test_full_key_flow(cli: Cli) -> None:
    assert cli.json("user", "create", "alice", "--password-stdin", stdin=PASSWORD + "\n") == {
        "userId": 1,
        "name": "alice",
    }
    enrolment = cli.json("user", "totp-enroll", "alice")
    seed = enrolment["secret"]
    assert enrolment["uri"].startswith("otpauth://totp/")
    assert f"secret={seed}" in enrolment["uri"]
    codes = WallClockCodes(seed)

    confirmed = cli.ok("user", "totp-confirm", "alice", "--code", codes.next())
    assert "two-factor authentication is on for alice" in confirmed

    created = cli.json(
        "key", "create", "--user", "alice", "--totp", codes.next(), "--name", "grid bot",
        "--perm", "spot_trade", "--ip", "203.0.113.7", "--passphrase-stdin",
        stdin=PASSPHRASE + "\n",
    )  # fmt: skip
    api_key, secret = created["apiKey"], created["secretKey"]
    assert list(created)[:2] == ["apiKey", "secretKey"]
    assert api_key.startswith("sbk_")
    assert len(secret) == 64
    assert created["permissions"] == ["read", "spot_trade"]
    assert created["ips"] == ["203.0.113.7"]
    assert created["status"] == "active"
    assert created["label"] == "grid bot"

    listed = cli.json("key", "list", "--user", "alice")
    assert [k["apiKey"] for k in listed] == [api_key]
    assert "secretKey" not in listed[0]
    table = cli.ok("key", "list", "--user", "alice")
    assert "grid bot" in table
    assert api_key[:10] in table

    shown = cli.json("key", "show", api_key)
    assert shown["apiKey"] == api_key
    assert "secretKey" not in shown
    assert shown["effectivePermissions"] == ["read", "spot_trade"]
    assert "grid bot" in cli.ok("key", "show", api_key)

    updated = cli.json(
        "key", "update", api_key, "--totp", codes.next(), "--perm", "spot_trade,withdraw",
        "--ip", "203.0.113.7", "--ip", "198.51.100.0/24",
    )  # fmt: skip
    assert updated["permissions"] == ["read", "spot_trade", "withdraw"]
    assert updated["ips"] == ["203.0.113.7", "198.51.100.0/24"]

    rotated = cli.json(
        "key", "rotate", api_key, "--totp", codes.next(), "--passphrase-stdin",
        stdin=NEW_PASSPHRASE + "\n",
    )  # fmt: skip
    new_key, new_secret = rotated["apiKey"], rotated["secretKey"]
    assert new_key != api_key
    assert new_secret != secret
    assert rotated["permissions"] == ["read", "spot_trade", "withdraw"]
    old = cli.json("key", "show", api_key)
    assert old["status"] == "rotating"
    assert old["rotatedTo"] == new_key
    assert old["diesTime"] - rotated["createdTime"] == 86_400_000

    revoked = cli.json("key", "revoke", new_key, "--reason", "test over")
    assert revoked["status"] == "revoked"
    assert revoked["why"] == "revoked: test over"
    listed = cli.json("key", "list", "--user", "alice")
    assert {k["apiKey"]: k["status"] for k in listed} == {api_key: "rotating", new_key: "revoked"}

    report = cli.json("audit", "verify")
    assert report["ok"] is True
    assert report["checked"] == 7  # user, enrolment, confirmation, create, update, rotate, revoke
    assert "audit chain intact: 7 entries" in cli.ok("audit", "verify")

    # The secrets were printed exactly where they had to be, and nowhere else.
    for value, allowed in ((secret, 1), (new_secret, 1), (seed, 1)):
        assert sum(value in r.stdout for r in cli.runs) == allowed
    for value in (secret, new_secret, seed, PASSWORD, PASSPHRASE, NEW_PASSPHRASE):
        assert all(value not in r.stderr for r in cli.runs)
    for value in (PASSWORD, PASSPHRASE, NEW_PASSPHRASE):
        assert all(value not in r.stdout for r in cli.runs)


def test_errors_are_reported_cleanly(cli: Cli) -> None:
    cli.ok("user", "create", "alice", "--password-stdin", stdin=PASSWORD + "\n")

    duplicate = cli.run("user", "create", "alice", "--password-stdin", stdin=PASSWORD + "\n")
    assert duplicate.returncode == 1
    assert duplicate.stderr.startswith("error: 40072 ")

    no_2fa = cli.run(
        "key", "create", "--user", "alice", "--totp", "123456", "--passphrase-stdin",
        stdin=PASSPHRASE + "\n",
    )  # fmt: skip
    assert no_2fa.returncode == 1
    assert no_2fa.stderr.startswith("error: 40016 ")

    bad_perm = cli.run(
        "key", "create", "--user", "alice", "--totp", "123456", "--perm", "bogus",
        "--passphrase-stdin", stdin=PASSPHRASE + "\n",
    )  # fmt: skip
    assert bad_perm.returncode == 1
    assert bad_perm.stderr.startswith("error: 40020 ")
    assert "Traceback" not in bad_perm.stderr

    bad_passphrase = cli.run(
        "key", "create", "--user", "alice", "--totp", "123456", "--passphrase-stdin",
        stdin="short\n",
    )  # fmt: skip
    assert bad_passphrase.returncode == 1
    assert bad_passphrase.stderr.startswith("error: 40070 ")

    no_stdin = cli.run("user", "create", "bob", "--password-stdin", stdin="")
    assert no_stdin.returncode == 1
    assert "expected the password on standard input" in no_stdin.stderr

    missing = cli.run("key", "show", "sbk_nope")
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: 40073 ")

    bad_duration = cli.run(
        "key", "create", "--user", "alice", "--totp", "123456", "--expires", "soon",
        "--passphrase-stdin", stdin=PASSPHRASE + "\n",
    )  # fmt: skip
    assert bad_duration.returncode == 1
    assert "cannot read duration" in bad_duration.stderr

    no_file = cli.run(
        "key", "create", "--user", "alice", "--totp", "123456", "--type", "rsa",
        "--public-key-file", str(cli.home / "missing.pem"), "--passphrase-stdin",
        stdin=PASSPHRASE + "\n",
    )  # fmt: skip
    assert no_file.returncode == 2
    assert "does not exist" in no_file.stderr
    assert all("Traceback" not in r.stderr for r in cli.runs)


def test_a_0600_master_key_file_works_like_the_environment(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_master_key_file(home, 0o600)
    cli = Cli(home, cli_env())
    cli.ok("user", "create", "alice", "--password-stdin", stdin=PASSWORD + "\n")
    assert cli.json("key", "list", "--user", "alice") == []
    assert cli.json("audit", "verify")["checked"] == 1


@pytest.mark.postgres
def test_the_cli_uses_postgresql_when_configured(tmp_path: Path, fresh_pg_url: str) -> None:
    home = tmp_path / "home"
    cli = Cli(home, cli_env(os.urandom(32), SEALBOOK_DATABASE_URL=fresh_pg_url))
    cli.ok("user", "create", "alice", "--password-stdin", stdin=PASSWORD + "\n")
    assert set(cli.json("user", "totp-enroll", "alice")) == {"secret", "uri"}
    report = cli.json("audit", "verify")
    assert len(report.pop("headHash")) == 64
    assert report == {
        "ok": True,
        "checked": 2,
        "firstBadSeq": None,
        "reason": "",
        "sealed": 2,
        "sealsChecked": True,
    }
    assert not (home / "sealbook.db").exists()
