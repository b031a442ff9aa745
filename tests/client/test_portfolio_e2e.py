"""``sealbook portfolio`` against two real Sealbook servers (two exchanges) and a dead port.

Exchange A: alice buys 0.5 BTC from bob at 30000 (maker; fee 0.0005 BTC), then sells
0.2 BTC to bob at 32000 (maker; fee 6.4 USDT). Exchange B: erin holds deposited USDT and
BTC; frank and george trade 0.01 BTC at 31000 so B's BTC price is 31000.

Hand-computed for alice: BTC 0.2995 cost 15000 (the BTC fee's cost stays in the pool);
selling 0.2 removes 15000 × 0.2 / 0.4995 = 6006.00600601, so realised = 6400 − 6006.006…
− 6.4 = 387.59399399; the rest costs 8993.99399399 and is worth 0.2995 × 32000 = 9584,
so unrealised = 590.00600601. USDT 20000 − 15000 + 6400 − 6.4 = 11393.6; worth 20977.6.
Erin: 1000 + 0.1 × 31000 = 4100, no fills so no PnL and 0.1 BTC without cost basis.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from fixtures.server import IssuedKey, SealbookServer, running_server
from sealbook.cli.main import app
from sealbook.client.credentials import Credential
from sealbook.client.vault import Vault

ENV = {"SEALBOOK_RATE_LIMIT_FACTOR": "1000"}


def _dead_url() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens here once the socket is closed


def _trade(server: SealbookServer, maker: IssuedKey, taker: IssuedKey, side: str,
           amount: float, price: int) -> None:
    other = "sell" if side == "buy" else "buy"
    server.client(maker).create_order("BTC/USDT", "limit", side, amount, price)
    server.client(taker).create_order("BTC/USDT", "limit", other, amount, price)


@pytest.fixture(scope="module")
def exchanges(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("two-exchanges")
    with running_server(root / "a", ENV) as a, running_server(root / "b", ENV) as b:
        alice, bob = a.person("alice"), a.person("bob")
        a.deposit(alice, "USDT", "20000")
        a.deposit(bob, "BTC", "2")
        alice_key = a.issue_key(alice, perms=["spot_trade"])
        bob_key = a.issue_key(bob, perms=["spot_trade"])
        _trade(a, alice_key, bob_key, "buy", 0.5, 30000)
        _trade(a, alice_key, bob_key, "sell", 0.2, 32000)
        read_only = a.issue_key(alice)

        erin, frank, george = b.person("erin"), b.person("frank"), b.person("george")
        b.deposit(erin, "USDT", "1000")
        b.deposit(erin, "BTC", "0.1")
        b.deposit(frank, "BTC", "1")
        b.deposit(george, "USDT", "1000")
        _trade(b, b.issue_key(frank, perms=["spot_trade"]),
               b.issue_key(george, perms=["spot_trade"]), "sell", 0.01, 31000)
        yield {"a": a, "b": b, "alice": read_only, "erin": b.issue_key(erin)}


@pytest.fixture
def client_home(
    exchanges: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    for name in list(os.environ):
        if name.startswith("SEALBOOK_CREDS_"):
            monkeypatch.delenv(name)
    home = tmp_path / "client"
    monkeypatch.setenv("SEALBOOK_CLIENT_HOME", str(home))
    monkeypatch.setenv("SEALBOOK_VAULT_BACKEND", "file")
    monkeypatch.setenv("SEALBOOK_VAULT_PASSWORD", "portfolio test vault")
    alice: IssuedKey = exchanges["alice"]
    # alice-a comes from the environment (the CI source), erin-b from the encrypted vault.
    monkeypatch.setenv("SEALBOOK_CREDS_ALICE_A_KEY", alice.api_key)
    monkeypatch.setenv("SEALBOOK_CREDS_ALICE_A_SECRET", alice.secret or "")
    monkeypatch.setenv("SEALBOOK_CREDS_ALICE_A_PASSPHRASE", alice.passphrase)
    monkeypatch.setenv("SEALBOOK_CREDS_ALICE_A_URL", exchanges["a"].base_url)
    erin: IssuedKey = exchanges["erin"]
    Vault().add(Credential("erin-b", "bitget", erin.api_key, erin.secret or "",
                           erin.passphrase, exchanges["b"].base_url))
    Vault().add(Credential("dead", "bitget", erin.api_key, erin.secret or "",
                           erin.passphrase, _dead_url()))
    return home


def _run(*args: str) -> Result:
    return CliRunner().invoke(app, ["portfolio", *args])


def test_net_worth_allocation_and_pnl_across_two_exchanges(client_home: Path) -> None:
    result = _run("--json")
    assert result.exit_code == 3, result.output  # one account failed, the rest shown
    view = json.loads(result.stdout)
    assert view["netWorth"] == "25077.60000000"
    assert view["realisedPnl"] == "387.59399399"
    assert view["unrealisedPnl"] == "590.00600601"
    assert view["byAsset"] == [
        {"asset": "BTC", "value": "12684.00000000", "share": "50.58"},
        {"asset": "USDT", "value": "12393.60000000", "share": "49.42"},
    ]
    alice, dead, erin = sorted(view["byAccount"], key=lambda a: a["name"])
    assert (alice["name"], alice["value"], alice["share"]) == ("alice_a", "20977.60000000", "83.65")
    assert (alice["realisedPnl"], alice["unrealisedPnl"]) == ("387.59399399", "590.00600601")
    btc = next(h for h in alice["holdings"] if h["asset"] == "BTC")
    assert btc == {
        "asset": "BTC",
        "quantity": "0.2995",
        "price": "32000",
        "route": "BTC/USDT",
        "value": "9584.00000000",
        "avgCost": "30030.03003003",
        "unrealisedPnl": "590.00600601",
        "costKnownFor": "0.2995",
    }
    assert alice["heldWithoutCostBasis"] == {}
    assert (erin["value"], erin["realisedPnl"], erin["unrealisedPnl"]) == (
        "4100.00000000", "0.00000000", "0.00000000",
    )
    assert erin["heldWithoutCostBasis"] == {"BTC": "0.1"}
    assert dead["name"] == "dead"
    assert dead["error"].startswith("ExchangeNotAvailable: bitget GET http://127.0.0.1:")
    assert "warning: account dead failed" in result.stderr


def test_table_csv_chart_and_history(client_home: Path, tmp_path: Path) -> None:
    table = _run("--creds", "alice-a", "--creds", "erin-b")
    assert table.exit_code == 0, table.output
    assert "Net worth 25077.60000000 USDT" in table.stdout
    assert "20977.60000000" in table.stdout and "no cost basis: BTC" in table.stdout

    csv_out = _run("--csv", "--creds", "erin-b", "--no-snapshot")
    assert csv_out.exit_code == 0
    assert csv_out.stdout.splitlines() == [
        "account,exchange,asset,quantity,price_usdt,value_usdt,avg_cost_usdt,"
        "unrealised_pnl_usdt,error",
        "erin-b,bitget,BTC,0.1,31000,3100.00000000,,0.00000000,",
        "erin-b,bitget,USDT,1000,1,1000.00000000,,0.00000000,",
    ]

    png, page = tmp_path / "p.png", tmp_path / "p.html"
    charted = _run("--creds", "alice-a", "--creds", "dead", "--chart", str(png))
    assert charted.exit_code == 3
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "FAILED" in charted.stdout

    history = CliRunner().invoke(app, ["portfolio", "history", "--json", "--chart", str(page)])
    assert history.exit_code == 0, history.output
    rows = json.loads(history.stdout)
    assert [(r["netWorth"], r["realisedPnl"], r["failed"]) for r in rows] == [
        ("25077.60000000", "387.59399399", []),
        ("20977.60000000", "387.59399399", ["dead"]),
    ]
    assert rows[0]["byAccount"] == {"alice-a": "20977.60000000", "erin-b": "4100.00000000"}
    assert page.read_text().count("data:image/png;base64,") == 1
    assert "BTC" in page.read_text()


def test_bad_input_and_no_secret_in_output(client_home: Path, exchanges: dict[str, Any]) -> None:
    unknown = _run("--creds", "nobody")
    assert unknown.exit_code == 1 and "nobody" in unknown.output
    wrong_chart = _run("--chart", "x.pdf")
    assert wrong_chart.exit_code == 1 and ".png or .html" in wrong_chart.output
    everything = _run("--json").output + _run().output
    for key in (exchanges["alice"], exchanges["erin"]):
        assert key.secret not in everything
        assert key.passphrase not in everything
        assert key.api_key not in everything
