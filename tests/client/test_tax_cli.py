"""``sealbook tax`` refuses bad input clearly, changes nothing, and never shows a secret."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sealbook.cli.main import app
from sealbook.client.tax import TaxStore, TradeRow

SECRET = "s3cr3t-never-shown-0123456789abcdef"
PASSPHRASE = "Passphrase-never-shown-42"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("SEALBOOK_CLIENT_HOME", "SEALBOOK_VAULT_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SEALBOOK_CLIENT_HOME", str(tmp_path))
    return tmp_path


def tax(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["tax", *args], env=env)
    return result.exit_code, result.output


def seeded_db(home: Path) -> Path:
    path = home / "tax.db"
    with TaxStore(path) as store:
        store.put_trades([TradeRow("a", "1", "1", "BTC/USDT", "BTC", "USDT", "sell", "1", "10",
                                   "10", "0", "", 1_767_225_600_000)])  # 2026-01-01
    return path


def test_tax_report_without_a_database_says_run_sync(home: Path) -> None:
    code, out = tax("report", "--year", "2026")
    assert code == 1
    assert "run `sealbook tax sync` first" in out
    assert not (home / "tax.db").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--method", "average"), "unknown method 'average'"),
        (("--transfer-window", "soon"), "cannot read duration"),
    ],
)
def test_tax_report_bad_settings_write_nothing(
    home: Path, args: tuple[str, ...], message: str
) -> None:
    seeded_db(home)
    out_dir = home / "out"
    code, out = tax("report", "--year", "2026", "--out", str(out_dir), *args)
    assert code == 1, out
    assert message in out
    assert not out_dir.exists()


def test_tax_report_year_out_of_range(home: Path) -> None:
    seeded_db(home)
    code, out = tax("report", "--year", "1999", "--out", str(home / "o"))
    assert code == 1 and "out of range" in out


def test_tax_report_writes_every_file(home: Path) -> None:
    seeded_db(home)
    code, out = tax("report", "--year", "2026", "--out", str(home / "o"), "--json")
    assert code == 0, out
    manifest = json.loads(out)
    assert sorted(p.name for p in (home / "o").iterdir()) == [
        "form8949.csv", "koinly.csv", "lot_trail.csv", "manifest.json", "rates.csv",
        "summary.csv"]
    assert manifest["summary"]["flagged"] == 1  # a sale with no known purchase
    assert manifest["settings"]["valuation"].startswith("USD; USDT and USDC at 1:1")
    assert manifest["tool"].startswith("sealbook ")
    code, text = tax("report", "--year", "2026", "--out", str(home / "o"))
    assert code == 0
    assert "1 disposals (1 flagged)" in text


def test_tax_sync_bad_since(home: Path) -> None:
    code, out = tax("sync", "--since", "2025-13-01")
    assert code == 1 and "use YYYY-MM-DD" in out
    assert not (home / "tax.db").exists()


def test_tax_sync_unreachable_account_names_it_and_hides_secrets(home: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once we leave: nothing listens there
    env = {
        "SEALBOOK_CREDS_GONE_KEY": "sbk_notarealkeyatall000000000000000",
        "SEALBOOK_CREDS_GONE_SECRET": SECRET,
        "SEALBOOK_CREDS_GONE_PASSPHRASE": PASSPHRASE,
        "SEALBOOK_CREDS_GONE_URL": f"http://127.0.0.1:{port}",
    }
    code, out = tax("sync", "--creds", "gone", "--json", env=env)
    assert code == 1
    [account] = json.loads(out)["accounts"]
    assert account["account"] == "gone" and not account["ok"]
    assert "run it again to resume" in account["error"]
    assert SECRET not in out and PASSPHRASE not in out
    db = (home / "tax.db").read_bytes()
    assert SECRET.encode() not in db and PASSPHRASE.encode() not in db
