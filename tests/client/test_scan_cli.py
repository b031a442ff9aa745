"""``sealbook scan`` on a real tree (run as its own process), the detect-secrets plugin,
and the pre-commit hook definition."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml
from detect_secrets import SecretsCollection
from detect_secrets.settings import transient_settings

import sealbook.client.scanner.detect_secrets_plugin as plugin_module
from sealbook.keys.format import new_api_key

REPO = Path(__file__).resolve().parents[2]


def _scan(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sealbook.cli.main", "scan", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _tree(root: Path) -> dict[str, str]:
    leaked = {
        "sbk": new_api_key(),
        "bg": "bg_" + "9f8e7d6c" * 4,
        "secret": "Wq8Zr2Lp0Xk4Vn6Hs1",  # sealbook-scan: ignore (test data)
    }
    (root / "src").mkdir(parents=True)
    (root / "src" / "bot.py").write_text(
        "import ccxt\n"
        "\n"
        f"KEY = '{leaked['sbk']}'\n"
        "ex = ccxt.bitget({\n"
        f"    'apiKey': '{leaked['bg']}',\n"
        f"    'secret': '{leaked['secret']}',\n"
        "})\n"
    )
    (root / ".env").write_text("BINANCE_API_SECRET=Hj7Kl9Mn2Bv4Cx6Za8\nDEBUG=true\n")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text(f"token = {new_api_key()}\n")  # skipped
    (root / "blob.bin").write_bytes(b"\x00\x01" + new_api_key().encode())  # binary: skipped
    (root / "clean.md").write_text("sbk_" + "a" * 34 + "\nnothing to see\n")
    return leaked


def test_findings_are_reported_masked_with_exit_1(tmp_path: Path) -> None:
    leaked = _tree(tmp_path)
    result = _scan(str(tmp_path))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines == [
        f"{tmp_path}/.env:1: env-BINANCE_API_SECRET Hj…(18 chars)",
        f"{tmp_path}/src/bot.py:3: sealbook-api-key {leaked['sbk'][:6]}…(38 chars)",
        f"{tmp_path}/src/bot.py:5: bitget-api-key bg_9f…(35 chars)",
        f"{tmp_path}/src/bot.py:6: ccxt-secret Wq…(18 chars)",
    ]
    for value in (*leaked.values(), "Hj7Kl9Mn2Bv4Cx6Za8"):
        assert value not in result.stdout + result.stderr
    assert "4 credential(s) found in 3 file(s)" in result.stderr


def test_json_lists_skips_and_clean_tree_exits_0(tmp_path: Path) -> None:
    _tree(tmp_path)
    report = json.loads(_scan("--json", str(tmp_path)).stdout)
    assert report["filesScanned"] == 3
    assert report["skipped"] == [{"path": f"{tmp_path}/blob.bin", "why": "binary"}]
    clean = _scan(str(tmp_path / "clean.md"))
    assert (clean.returncode, clean.stdout) == (0, "")
    missing = _scan(str(tmp_path / "nope"))
    assert missing.returncode == 2
    assert "no such file or directory" in missing.stderr


def test_detect_secrets_plugin_finds_the_same_secrets(tmp_path: Path) -> None:
    leaked = _tree(tmp_path)
    settings = {
        "plugins_used": [
            {"name": "SealbookDetector", "path": f"file://{plugin_module.__file__}"}
        ],
        "filters_used": [],
    }
    with transient_settings(settings):
        collection = SecretsCollection()
        for name in ("src/bot.py", ".env", "clean.md"):
            collection.scan_file(str(tmp_path / name))
    found = sorted(
        (Path(filename).name, secret.line_number, secret.secret_value)
        for filename, secret in collection
    )
    assert found == [
        (".env", 1, "Hj7Kl9Mn2Bv4Cx6Za8"),
        ("bot.py", 3, leaked["sbk"]),
        ("bot.py", 5, leaked["bg"]),
        ("bot.py", 6, leaked["secret"]),
    ]


def test_pre_commit_hook_runs_sealbook_scan() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    (hook,) = hooks
    assert hook["id"] == "sealbook-scan"
    assert hook["entry"] == "sealbook scan"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is True


def test_this_repository_passes_its_own_hook() -> None:
    """The hook ships for others; this tree must pass it too (its test fixtures' fake
    credentials carry the ignore marker), or a contributor could not commit."""
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=False
    )
    if tracked.returncode != 0:
        paths = ["src", "tests", "docs", "bench", "README.md"]  # not a git checkout
    else:
        paths = [p for p in tracked.stdout.splitlines() if (REPO / p).is_file()]
    done = subprocess.run(
        [sys.executable, "-m", "sealbook.cli.main", "scan", *paths],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
