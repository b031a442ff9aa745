"""The exchange on PostgreSQL (``SEALBOOK_DATABASE_URL``), driven by ccxt unchanged.

One server, on a fresh database of the throwaway cluster, for the module. Two users trade
BTCUSDT with each other: limit orders, a market buy by cost and a market sell, a partial
fill and a cancel; then ccxt reads the orders, trades and balances back, and every
balance must equal what is computed here by hand in ``Decimal`` (fees: 0.1 % of what a
side receives, rounded down to an atom). ``sealbook ledger check`` must pass on the same
database. The SQLite e2e suite (test_ccxt_spot.py) covers every endpoint; this one shows
the same path works on PostgreSQL.
"""

from __future__ import annotations

import json
from decimal import ROUND_DOWN, Decimal
from typing import Any

import ccxt
import pytest
from sqlalchemy import select

from conftest import fresh_pg_database
from fixtures.server import IssuedKey, SealbookServer
from sealbook.store.tables import orders

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

D = Decimal
RATE = D("0.001")
ATOM = D("1e-18")
MARKET = "BTC/USDT"
Wallet = dict[str, tuple[Decimal, Decimal]]  # coin → (free, used)


@pytest.fixture(scope="module")
def sealbook_server_env(pg_url: str) -> dict[str, str]:
    return {
        "SEALBOOK_DATABASE_URL": fresh_pg_database(pg_url),
        "SEALBOOK_RATE_LIMIT_FACTOR": "20",
    }


def fee(received: Decimal) -> Decimal:
    """0.1 % of what a side received, rounded down to an atom."""
    return (received * RATE).quantize(ATOM, rounding=ROUND_DOWN)


def wallet(ex: ccxt.bitget) -> Wallet:
    """The balance as the server sent it (exact strings), checked against ccxt's view."""
    balance = ex.fetch_balance()
    rows = {
        row["coin"]: (D(row["available"]), D(row["frozen"]) + D(row["locked"]))
        for row in balance["info"]
    }
    for coin, (free, used) in rows.items():
        assert balance[coin]["free"] == float(free)
        assert balance[coin]["used"] == float(used)
    return rows


def client(server: SealbookServer, key: IssuedKey) -> ccxt.bitget:
    ex = server.client(key)
    ex.load_markets()
    return ex


def ledger_check(server: SealbookServer) -> dict[str, Any]:
    done = server.cli("ledger", "check", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    assert report["ok"] is True and report["violations"] == []
    return report


def test_two_users_trade_on_postgresql(sealbook_server: SealbookServer) -> None:
    server = sealbook_server
    assert server.ctx.engine.dialect.name == "postgresql"
    maker_key = server.issue_key(perms=("spot_trade",))
    taker_key = server.issue_key(perms=("spot_trade",))
    maker_person, taker_person = maker_key.person, taker_key.person
    # one deposit through the CLI (its own process, on the same database), one through
    # the inbox the way the CLI sends it
    credited = server.cli(
        "deposit", "--user", maker_person.name, "--coin", "BTC", "--amount", "0.01", "--json"
    )
    assert credited.returncode == 0, credited.stdout + credited.stderr
    server.deposit(taker_person, "USDT", "1000")
    maker, taker = client(server, maker_key), client(server, taker_key)
    (deposit,) = maker.fetch_deposits("BTC")
    assert (deposit["amount"], deposit["currency"], deposit["status"]) == (0.01, "BTC", "ok")
    assert wallet(taker) == {"USDT": (D(1000), D(0))}

    # a resting ask, committed to PostgreSQL before it is acknowledged
    ask = maker.create_order(MARKET, "limit", "sell", 0.002, 100000)
    with server.ctx.engine.connect() as conn:
        stored = conn.execute(
            select(orders.c.status).where(orders.c.order_id == int(ask["id"]))
        ).scalar_one()
    assert stored == "live"
    assert maker.fetch_order(ask["id"], MARKET)["status"] == "open"

    # a limit buy above the ask fills at the ask's price; a market buy by cost (ccxt sends
    # amount x price = 50 USDT as the size) takes 0.0005 more of it
    bid = taker.create_order(MARKET, "limit", "buy", 0.001, 101000)
    market_buy = taker.create_order(MARKET, "market", "buy", 0.0005, 100000)
    # the maker bids at 99000 and the taker sells into it at market
    maker_bid = maker.create_order(MARKET, "limit", "buy", 0.0005, 99000)
    market_sell = taker.create_order(MARKET, "market", "sell", 0.0005)

    done = taker.fetch_order(bid["id"], MARKET)
    assert (done["status"], done["filled"], done["average"]) == ("closed", 0.001, 100000.0)
    assert done["fee"] == {"cost": float(fee(D("0.001"))), "currency": "BTC"}
    bought = taker.fetch_order(market_buy["id"], MARKET)
    assert bought["info"]["size"] == "50"  # a market buy's size is its quote budget
    assert (bought["status"], bought["filled"], bought["cost"]) == ("closed", 0.0005, 50.0)
    sold = taker.fetch_order(market_sell["id"], MARKET)
    assert (sold["status"], sold["filled"], sold["average"]) == ("closed", 0.0005, 99000.0)
    assert sold["fee"] == {"cost": float(fee(D("49.5"))), "currency": "USDT"}
    half = maker.fetch_order(ask["id"], MARKET)
    assert (half["status"], half["filled"], half["remaining"]) == ("open", 0.0015, 0.0005)
    assert half["fee"] == {"cost": float(fee(D(100)) + fee(D(50))), "currency": "USDT"}
    assert maker.fetch_order(maker_bid["id"], MARKET)["status"] == "closed"

    taker_usdt = D(1000) - D(100) - D(50) + D("49.5") - fee(D("49.5"))
    taker_btc = D("0.001") - fee(D("0.001")) + D("0.0005") - fee(D("0.0005")) - D("0.0005")
    maker_usdt = D(100) - fee(D(100)) + D(50) - fee(D(50)) - D("49.5")
    maker_btc = D("0.01") - D("0.002") + D("0.0005") - fee(D("0.0005"))
    assert wallet(taker) == {"USDT": (taker_usdt, D(0)), "BTC": (taker_btc, D(0))}
    assert wallet(maker) == {"BTC": (maker_btc, D("0.0005")), "USDT": (maker_usdt, D(0))}
    (still_open,) = maker.fetch_open_orders(MARKET)
    assert still_open["id"] == ask["id"]
    assert taker.fetch_open_orders(MARKET) == []

    maker.cancel_order(ask["id"], MARKET)

    cancelled = maker.fetch_order(ask["id"], MARKET)
    assert (cancelled["status"], cancelled["filled"]) == ("canceled", 0.0015)
    assert maker.fetch_open_orders(MARKET) == []
    assert wallet(maker) == {"BTC": (maker_btc + D("0.0005"), D(0)), "USDT": (maker_usdt, D(0))}
    assert wallet(taker) == {"USDT": (taker_usdt, D(0)), "BTC": (taker_btc, D(0))}
    assert maker.fetch_order_book(MARKET, 5)["asks"] == []
    with pytest.raises(ccxt.OrderNotFound):
        maker.cancel_order(ask["id"], MARKET)

    closed = {o["id"] for o in taker.fetch_closed_orders(MARKET)}
    assert closed == {bid["id"], market_buy["id"], market_sell["id"]}
    assert [o["id"] for o in maker.fetch_closed_orders(MARKET)] == [maker_bid["id"]]
    assert [o["id"] for o in maker.fetch_canceled_orders(MARKET)] == [ask["id"]]

    mine = taker.fetch_my_trades(MARKET)
    theirs = maker.fetch_my_trades(MARKET)
    assert sorted((t["order"], t["side"], t["takerOrMaker"], t["amount"]) for t in mine) == sorted(
        [
            (bid["id"], "buy", "taker", 0.001),
            (market_buy["id"], "buy", "taker", 0.0005),
            (market_sell["id"], "sell", "taker", 0.0005),
        ]
    )
    assert sorted((t["order"], t["side"], t["takerOrMaker"], t["amount"]) for t in theirs) == (
        sorted(
            [
                (ask["id"], "sell", "maker", 0.001),
                (ask["id"], "sell", "maker", 0.0005),
                (maker_bid["id"], "buy", "maker", 0.0005),
            ]
        )
    )
    assert {t["id"] for t in mine} == {t["id"] for t in theirs}  # one trade, two sides
    fees = sorted((t["fee"]["currency"], D(repr(t["fee"]["cost"]))) for t in theirs)
    assert fees == [("BTC", fee(D("0.0005"))), ("USDT", fee(D(50))), ("USDT", fee(D(100)))]

    report = ledger_check(server)
    # it read PostgreSQL, not an empty SQLite file in the home directory
    assert report["postings"] > 0
    assert not (server.home / "sealbook.db").exists()
