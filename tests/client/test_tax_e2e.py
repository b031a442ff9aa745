"""End to end: two Sealbook servers stand for two exchanges; alice trades on X, moves BTC
to Y and sells it there; ``sealbook tax sync`` (twice) and ``sealbook tax report``.

On X (bob takes the other side of every trade; fees 0.1 %):
  buy 10.01 BGB @ 5           fee 0.01001 BGB  -> BGB lot 9.99999, basis 50.05
  buy 0.1 BTC @ 99000         fee 0.0001 BTC   -> L1: 0.0999 BTC, basis 9900
  buy 0.1 BTC @ 105000        fee 0.0001 BTC   -> L2: 0.0999 BTC, basis 10500
  BGB fee deduction on
  sell 0.0333 BTC @ 108000    fee 3.5964 USDT x 0.8 / 5 = 0.575424 BGB (= 2.87712 USD)
       FIFO: a third of L1, basis 3300; proceeds 3596.4 - 2.87712 = 3593.52288
       BGB fee disposal: 0.575424 BGB for 2.87712, basis 50.05 x 0.575424 / 9.99999 = 2.88
  withdraw 0.066523 BTC (+ 0.000077 fee = 0.0666, the rest of L1)
On Y: the 0.066523 BTC arrive (a deposit), sold @ 102000 to carol:
       proceeds 6785.346 - 6.785346 = 6778.560654, basis 6600 (L1, bought on X)
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from fixtures.server import IssuedKey, Person, SealbookServer, running_server
from sealbook.client.connect import connect
from sealbook.client.credentials import Credential
from sealbook.client.tax import ReportSettings, TaxStore, report_from_store, sync_account
from sealbook.client.tax.sync import WINDOW_MS, SyncStats, _Run
from sealbook.client.tax.units import from_atoms

pytestmark = pytest.mark.e2e

ENV = {"SEALBOOK_RATE_LIMIT_FACTOR": "20", "SEALBOOK_WITHDRAW_DELAY_S": "1"}
ADDRESS = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
TRON = "TJYeasTPa6gpEEfYcJtqLRnSx5cHaBVqvR"


@dataclass(slots=True)
class World:
    x: SealbookServer
    y: SealbookServer
    alice_x: IssuedKey  # read-only: what the tax tool is given
    alice_y: IssuedKey
    start_ms: int
    withdrawal_id: str


def _ex(server: SealbookServer, key: IssuedKey) -> Any:
    ex = server.client(key)
    ex.load_markets()
    return ex


def _cross(maker: Any, taker: Any, symbol: str, side: str, amount: str, price: str) -> None:
    """``maker`` rests an order, ``taker`` fills it whole at the same price."""
    other = "buy" if side == "sell" else "sell"
    maker.create_order(symbol, "limit", side, amount, price)
    order = taker.create_order(symbol, "limit", other, amount, price)
    filled = taker.fetch_order(order["id"], symbol)
    assert filled["status"] == "closed", filled


def _person_with(server: SealbookServer, **funds: str) -> Person:
    person = server.person()
    for coin, amount in funds.items():
        server.deposit(person, coin, amount)
    return person


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("tax-e2e")
    slow = {**ENV, "SEALBOOK_WITHDRAW_DELAY_S": "3600"}  # Y's withdrawals stay pending
    with running_server(root / "x", ENV) as x, running_server(root / "y", slow) as y:
        start_ms = int(time.time() * 1000) - 60_000
        alice = _person_with(x, USDT="25000")
        bob = _person_with(x, BTC="1", BGB="100", USDT="10000")
        trade_key = x.issue_key(alice, perms=("spot_trade", "withdraw"), ips=("127.0.0.1",))
        alice_ex, bob_ex = _ex(x, trade_key), _ex(x, x.issue_key(bob, perms=("spot_trade",)))
        _cross(bob_ex, alice_ex, "BGB/USDT", "sell", "10.01", "5")
        _cross(bob_ex, alice_ex, "BTC/USDT", "sell", "0.1", "99000")
        _cross(bob_ex, alice_ex, "BTC/USDT", "sell", "0.1", "105000")
        done = x.cli("fees", "bgb", "--user", alice.name, "on")
        assert done.returncode == 0, done.stderr
        _cross(bob_ex, alice_ex, "BTC/USDT", "buy", "0.0333", "108000")
        x.book_address(alice, "BTC", "BTC", ADDRESS)
        sent = alice_ex.withdraw("BTC", "0.066523", ADDRESS, params={"network": "BTC"})

        alice_on_y = _person_with(y)
        y.deposit(alice_on_y, "BTC", "0.066523")  # the same coins arriving on Y
        carol = _person_with(y, USDT="10000")
        seller = _ex(y, y.issue_key(alice_on_y, perms=("spot_trade", "withdraw"),
                                    ips=("127.0.0.1",)))
        _cross(_ex(y, y.issue_key(carol, perms=("spot_trade",))), seller,
               "BTC/USDT", "buy", "0.066523", "102000")
        # Dollars leave Y for an outside address: not taxed, and pending for the whole test.
        y.book_address(alice_on_y, "USDT", "TRC20", TRON)
        seller.withdraw("USDT", "100", TRON, params={"network": "TRC20"})
        yield World(x, y, x.issue_key(alice), y.issue_key(alice_on_y), start_ms, str(sent["id"]))


def _env(world: World, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEALBOOK_")}
    env["SEALBOOK_CLIENT_HOME"] = str(home)
    for name, server, key in (("X", world.x, world.alice_x), ("Y", world.y, world.alice_y)):
        assert key.secret is not None
        env[f"SEALBOOK_CREDS_{name}_KEY"] = key.api_key
        env[f"SEALBOOK_CREDS_{name}_SECRET"] = key.secret
        env[f"SEALBOOK_CREDS_{name}_PASSPHRASE"] = key.passphrase
        env[f"SEALBOOK_CREDS_{name}_URL"] = server.base_url
    return env


def _tax(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sealbook.cli.main", "tax", *args],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")


def test_tax_sync_twice_and_report_across_two_exchanges(world: World, tmp_path: Path) -> None:
    env = _env(world, tmp_path)
    since = _day(world.start_ms - 86_400_000)
    first = _tax(env, "sync", "--creds", "x", "--creds", "y", "--since", since, "--json")
    assert first.returncode == 0, first.stderr
    got = {a["account"]: a for a in json.loads(first.stdout)["accounts"]}
    assert (got["x"]["new_trades"], got["x"]["new_deposits"], got["x"]["new_withdrawals"]) == (
        4, 1, 1)
    assert got["x"]["symbols"] == ["BGB/USDT", "BTC/USDT"]
    assert got["x"]["new_rates"] == 1  # BGB at the time of the sale that paid its fee in BGB
    assert (got["y"]["new_trades"], got["y"]["new_deposits"], got["y"]["new_withdrawals"]) == (
        1, 1, 1)

    # Once X has sent the withdrawal, sync again: nothing new, its status updated.
    reader = _ex(world.x, world.alice_x)
    deadline = time.monotonic() + 30
    while reader.fetch_withdrawals("BTC")[0]["status"] != "ok":
        assert time.monotonic() < deadline, "X never sent the withdrawal"
        time.sleep(0.2)
    again = _tax(env, "sync", "--creds", "x", "--creds", "y", "--since", since, "--json")
    assert again.returncode == 0, again.stderr
    data = json.loads(again.stdout)
    for account in data["accounts"]:
        assert (account["new_trades"], account["new_deposits"], account["new_withdrawals"],
                account["new_rates"]) == (0, 0, 0, 0)
    assert data["stored"] == {"trades": 5, "transfers": 4, "rates": 1}
    with TaxStore(tmp_path / "tax.db") as store:
        [w, pending] = [t for t in store.transfers() if t.kind == "withdrawal"]
        assert (w.account, w.record_id, w.status, w.amount, w.fee) == (
            "x", world.withdrawal_id, "ok", "0.066523", "0.000077")
        # Still pending on Y: its stream starts there again next time.
        assert (pending.account, pending.status, pending.amount) == ("y", "pending", "100")
        assert store.checkpoint("y", "withdrawals") <= pending.ts
        # Ten minutes on (past the settling margin) the pending one still holds it.
        later = int(time.time() * 1000) + 600_000
        key = world.alice_y
        assert key.secret is not None
        cred = Credential("y", "bitget", key.api_key, key.secret, key.passphrase,
                          world.y.base_url)
        sync_account(connect(cred), "y", store, now_ms=later, since_ms=world.start_ms)
        assert store.checkpoint("y", "withdrawals") == pending.ts
        assert store.checkpoint("y", "deposits") == later - 120_000
        [rate] = store.rates()
        assert (rate.coin, D(rate.usd)) == ("BGB", D(5))
        assert "BGB/USDT 1m candle" in rate.source

    year = datetime.fromtimestamp(w.ts / 1000, UTC).year
    out = tmp_path / "out"
    shown = _tax(env, "report", "--year", str(year), "--method", "fifo", "--out", str(out),
                 "--json")
    assert shown.returncode == 0, shown.stderr
    manifest = json.loads(shown.stdout)
    s = manifest["summary"]
    assert s["by_asset"]["BTC"] == {
        "proceeds": str(D("3593.52288") + D("6778.560654")),
        "cost_basis": "9900",
        "gain": str(D("293.52288") + D("178.560654")),
    }
    assert s["by_asset"]["BGB"] == {
        "proceeds": "2.87712", "cost_basis": "2.88", "gain": "-0.00288"}
    assert (s["disposals"], s["flagged"], s["transfers_matched"]) == (3, 0, 1)
    assert s["withdrawals_unmatched"] == 1  # the dollars that left Y

    rows = list(csv.DictReader((out / "form8949.csv").open()))
    assert [(r["Description of property"], r["Proceeds"], r["Cost or other basis"],
             r["Gain or (loss)"], r["Account"]) for r in rows] == [
        ("0.0333 BTC", "3593.52", "3300.00", "293.52", "x"),
        ("0.575424 BGB", "2.88", "2.88", "0.00", "x"),
        ("0.066523 BTC", "6778.56", "6600.00", "178.56", "y"),
    ]
    trail = list(csv.DictReader((out / "lot_trail.csv").open()))
    sold_on_y = [t for t in trail if t["account"] == "y"]
    assert [(t["lot_account"], t["qty_from_lot"], t["basis_usd"]) for t in sold_on_y] == [
        ("x", "0.066523", "6600")]
    koinly = list(csv.DictReader((out / "koinly.csv").open()))
    assert len(koinly) == 5 + 4
    assert manifest["files"].keys() == {"form8949.csv", "summary.csv", "koinly.csv",
                                        "lot_trail.csv", "rates.csv"}
    [used] = list(csv.DictReader((out / "rates.csv").open()))
    assert (used["account"], used["coin"], D(used["usd"])) == ("x", "BGB", D(5))

    # The same inputs and settings give the same manifest; per wallet, the same figures.
    twice = _tax(env, "report", "--year", str(year), "--out", str(tmp_path / "out2"), "--json")
    assert json.loads(twice.stdout)["report_sha256"] == manifest["report_sha256"]
    assert (out / "manifest.json").read_text() == (tmp_path / "out2" / "manifest.json").read_text()
    wallets = _tax(env, "report", "--year", str(year), "--per-wallet", "--out",
                   str(tmp_path / "out3"), "--json")
    assert json.loads(wallets.stdout)["summary"]["total"] == s["total"]
    assert json.loads(wallets.stdout)["report_sha256"] != manifest["report_sha256"]


def test_tax_library_sync_walks_windows_and_pages(world: World, tmp_path: Path) -> None:
    """Six-hour windows and pages of two rows: every row still arrives exactly once, and
    a sync that stopped halfway (an earlier ``now``) resumes from its checkpoints."""
    key = world.alice_x
    assert key.secret is not None
    cred = Credential("x", "bitget", key.api_key, key.secret, key.passphrase, world.x.base_url)
    since = world.start_ms - 86_400_000
    with TaxStore(tmp_path / "tax.db") as store:
        early = sync_account(connect(cred), "x", store, now_ms=world.start_ms - 3_600_000,
                             since_ms=since, window_ms=6 * 3_600_000, page=2)
        assert (early.trades, early.deposits) == (0, 0)
        assert store.checkpoint("x", "deposits") == world.start_ms - 3_600_000 - 120_000
        now = int(time.time() * 1000)
        late = sync_account(connect(cred), "x", store, now_ms=now, since_ms=since,
                            window_ms=6 * 3_600_000, page=2)
        assert (late.trades, late.deposits, late.withdrawals) == (4, 1, 1)
        # Early: 23 h in four 6-hour windows x (orders, deposits, withdrawals) + open orders.
        assert early.requests == 13
        # Late: one window per stream from the checkpoints, paged by two: open orders 1,
        # orders 3 (4 orders), BGB fills 1, BTC fills 2 (3 fills), deposits 1,
        # withdrawals 1, the BGB rate 1.
        assert late.requests == 10
        assert len({t.trade_id for t in store.trades()}) == 4
        # Rates: BGB traded in the hour before, so its candle; ETH never traded here, so
        # the ticker at sync time (what the server quotes before any trade); no market, none.
        run = _Run(connect(cred), "x", store, now, since, WINDOW_MS, 100, SyncStats("x"))
        run.exchange.number = str
        run.exchange.load_markets()
        bgb = run._rate("BGB", now)
        assert bgb is not None and D(bgb[0]) == 5 and "BGB/USDT 1m candle" in bgb[1]
        eth = run._rate("ETH", now)
        quoted = run.exchange.fetch_ticker("ETH/USDT")["last"]
        assert eth is not None and D(eth[0]) == D(str(quoted)) > 0
        assert eth[1].startswith("ETH/USDT ticker last at sync")
        assert run._rate("NOSUCHCOIN", now) is None
        r = report_from_store(store, ReportSettings(datetime.now(UTC).year, "hifo"))
        # HIFO sells from L2 (105000) first: 0.0333 of 0.0999 -> a third of 10500.
        [btc] = [d for d in r.disposals if d.asset == "BTC"]
        assert (from_atoms(btc.basis), btc.pieces[0].lot) == (D(3500), 2)


def test_two_credentials_for_one_account_are_imported_once(
    world: World, tmp_path: Path
) -> None:
    """A second key for alice's account on X (a rotation stored under a new name, say)
    is recognised by the user id the exchange reports and skipped, not imported twice."""
    env = _env(world, tmp_path)
    second = world.x.issue_key(world.alice_x.person)
    assert second.secret is not None
    env["SEALBOOK_CREDS_X2_KEY"] = second.api_key
    env["SEALBOOK_CREDS_X2_SECRET"] = second.secret
    env["SEALBOOK_CREDS_X2_PASSPHRASE"] = second.passphrase
    env["SEALBOOK_CREDS_X2_URL"] = world.x.base_url
    since = _day(world.start_ms - 86_400_000)
    done = _tax(env, "sync", "--creds", "x", "--creds", "x2", "--creds", "y", "--since", since,
                "--json")
    assert done.returncode == 0, done.stderr
    got = {a["account"]: a for a in json.loads(done.stdout)["accounts"]}
    assert got["x"]["new_trades"] == 4 and got["y"]["new_trades"] == 1
    assert "the same exchange account as 'x'" in got["x2"]["skipped"]
    assert json.loads(done.stdout)["stored"]["trades"] == 5  # not 9

    # Asked alone later, it is still recognised; the readable output says so.
    alone = _tax(env, "sync", "--creds", "x2", "--since", since)
    assert alone.returncode == 0, alone.stderr
    assert "x2: skipped: the same exchange account as 'x'" in alone.stdout
