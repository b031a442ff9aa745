"""The command line never takes a secret in argv, and never runs on an unsafe master key."""

from __future__ import annotations

import base64
import re
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main

from fixtures.services import cli_env, run_cli, write_master_key_file
from sealbook.cli.main import app

SECRET_NAME = re.compile(r"pass(word|phrase)?|secret|seed|private|master|token", re.IGNORECASE)


def _commands(command: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in sorted((getattr(command, "commands", None) or {}).items()):
        yield from _commands(sub, (*path, name))


def test_no_command_takes_a_secret_as_an_argument() -> None:
    root = typer.main.get_command(app)
    commands = dict(_commands(root, ("sealbook",)))
    # The walk reaches every command that handles a secret.
    for needed in (
        ("sealbook", "user", "create"),
        ("sealbook", "user", "totp-enroll"),
        ("sealbook", "key", "create"),
        ("sealbook", "key", "rotate"),
        ("sealbook", "serve"),
    ):
        assert needed in commands

    flags_seen: set[str] = set()
    for path, command in commands.items():
        for param in command.params:
            names = [param.name or "", *param.opts, *param.secondary_opts]
            if not any(SECRET_NAME.search(name) for name in names):
                continue
            where = f"{' '.join(path)} {param.opts}"
            assert param.param_type_name == "option", f"{where} is a positional argument"
            assert param.is_flag, f"{where} takes a value: secrets belong on stdin"
            flags_seen.update(param.opts)
    # ... and the flags that say "read it from stdin" are what it found.
    assert {"--password-stdin", "--passphrase-stdin"} <= flags_seen


def test_a_master_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_master_key_file(home, 0o644)
    env = cli_env()
    for args in (["key", "list", "--user", "alice"], ["serve"]):
        result = run_cli([*args, "--home", str(home)], env=env, timeout=60)
        assert result.returncode == 2, (args, result.stderr)
        assert "chmod 600" in result.stderr
        assert "Traceback" not in result.stderr
    assert not (home / "sealbook.db").exists()  # refused before touching the database
    # `audit verify` needs no master key: anyone holding the database can check the chain.
    result = run_cli(["audit", "verify", "--home", str(home)], env=env, timeout=60)
    assert result.returncode == 0, result.stderr


def test_a_bad_master_key_in_the_environment_is_refused(tmp_path: Path) -> None:
    env = cli_env(SEALBOOK_MASTER_KEY=base64.b64encode(b"too short").decode())
    result = run_cli(["key", "list", "--user", "alice", "--home", str(tmp_path)], env=env)
    assert result.returncode == 2
    assert "must decode to 32 bytes" in result.stderr
    assert env["SEALBOOK_MASTER_KEY"] not in result.stderr


def test_serve_without_a_master_key_refuses_to_start(tmp_path: Path) -> None:
    home = tmp_path / "empty"
    home.mkdir()
    args = ["serve", "--home", str(home), "--port", str(_free_port())]
    result = run_cli(args, env=cli_env(), timeout=60)
    assert result.returncode == 2
    assert "no master key" in result.stderr
    assert "--demo" in result.stderr
    assert not (home / "master.key").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _accepts(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_serve_demo_creates_a_private_master_key(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        args = ["serve", "--demo", "--home", str(home), "--host", "127.0.0.1", "--port", str(port)]
        server = subprocess.Popen(
            [sys.executable, "-m", "sealbook.cli.main", *args],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=cli_env(),
        )
        try:
            deadline = time.monotonic() + 60
            while server.poll() is None and not _accepts(port):
                if time.monotonic() > deadline:
                    pytest.fail(f"the server did not start:\n{log.read_text()}")
                time.sleep(0.1)
            assert server.poll() is None, log.read_text()
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()

    key_file = home / "master.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(base64.b64decode(key_file.read_text().strip(), validate=True)) == 32
    assert key_file.read_text().strip() not in log.read_text()

    # The key it made is the one later commands use.
    result = run_cli(["audit", "verify", "--json", "--home", str(home)], env=cli_env())
    assert result.returncode == 0, result.stderr
