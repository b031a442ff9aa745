"""ccxt, unchanged, trading spot against the real server: markets, orders, fills, fees,
balances, deposits and withdrawals, with every value checked.

Each test makes its own users (a maker and a taker, funded through the server's inbox as
``sealbook deposit`` funds them) and trades a symbol no other test trades, so books,
tickers and candles hold exactly what the test did. Expected balances are computed here by
hand, in ``Decimal``: fees are 0.1 % of what a side receives, rounded down to an atom
(10^-18), or, with BGB deduction on, 80 % of the fee's USDT value paid in BGB at the
BGB/USDT reference price (4.6, untraded here).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any, TypeVar

import ccxt
import pytest
from sqlalchemy import select

from fixtures.server import IssuedKey, Person, SealbookServer
from sealbook.markets import default_catalog
from sealbook.store.tables import orders

pytestmark = pytest.mark.e2e

D = Decimal
CATALOG = default_catalog()
RATE = D("0.001")  # maker and taker alike
ATOM = D("1e-18")
BGB_PRICE = D("4.6")  # BGBUSDT reference price; nothing trades BGBUSDT in this module
WITHDRAW_DELAY_S = 1.5
WAIT_S = 15.0
LOCALHOST = "127.0.0.1"
DAY_MS = 86_400_000
Wallet = dict[str, tuple[Decimal, Decimal]]  # coin → (free, used)
T = TypeVar("T")


@pytest.fixture(scope="module")
def sealbook_server_env() -> dict[str, str]:
    # The withdrawal delay leaves a pending withdrawal visible for a moment that is long
    # next to the few calls that look at it; the rate-limit factor keeps the many calls
    # below clear of Bitget's per-endpoint limits (the auth tests check those).
    return {
        "SEALBOOK_WITHDRAW_DELAY_S": str(WITHDRAW_DELAY_S),
        "SEALBOOK_RATE_LIMIT_FACTOR": "20",
    }


# --- helpers -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Trader:
    person: Person
    key: IssuedKey
    ex: ccxt.bitget


def trader(
    server: SealbookServer,
    perms: tuple[str, ...] = ("spot_trade",),
    ips: tuple[str, ...] = (),
    **funds: str,
) -> Trader:
    """A new user with a key and a ccxt client (markets loaded), funded with ``funds``."""
    person = server.person()
    for coin, amount in funds.items():
        server.deposit(person, coin, amount)
    key = server.issue_key(person, perms=perms, ips=ips)
    ex = server.client(key)
    ex.load_markets()
    return Trader(person, key, ex)


def fee(received: Decimal) -> Decimal:
    """0.1 % of what a side received, rounded down to an atom."""
    return (received * RATE).quantize(ATOM, rounding=ROUND_DOWN)


def bgb_fee(value_usdt: Decimal) -> Decimal:
    """The BGB paid instead: 80 % of the fee's USDT value at the BGB price, rounded down."""
    return (fee(value_usdt) * D("0.8") / BGB_PRICE).quantize(ATOM, rounding=ROUND_DOWN)


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
        assert balance[coin]["total"] == float(free + used)
    return rows


def num(value: Any) -> Decimal:
    """A number ccxt parsed from one of our decimal strings, back as that decimal."""
    return D(repr(value))


def rows_of(server: SealbookServer, user_id: int) -> list[Any]:
    with server.ctx.engine.connect() as conn:
        return list(conn.execute(select(orders).where(orders.c.user_id == user_id)))


def wait_until(check: Callable[[], T | None], what: str) -> T:
    """Poll ``check`` until it returns something truthy, at most ``WAIT_S`` seconds."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {WAIT_S} s")


@pytest.fixture
def server(sealbook_server: SealbookServer) -> SealbookServer:
    return sealbook_server


# --- markets and currencies ----------------------------------------------------------------


def test_load_markets_reads_the_whole_catalog(server: SealbookServer) -> None:
    ex = server.client(server.issue_key())

    markets = ex.load_markets()

    assert ex.options["uta"] is False  # the v3 probe was refused: classic v2 throughout
    assert len(markets) == len(CATALOG.symbols) >= 1300
    assert all(m["spot"] and m["active"] and m["type"] == "spot" for m in markets.values())
    btc = CATALOG.symbol("BTCUSDT")
    assert (btc.price_places, btc.size_places, btc.min_trade_usdt) == (0, 7, "1")
    market = ex.market("BTC/USDT")
    assert market["id"] == "BTCUSDT"
    assert market["precision"] == {"amount": 1e-7, "price": 1.0}
    assert market["limits"]["amount"] == {"min": 1e-7, "max": 100.0}
    assert market["limits"]["cost"]["min"] == 1.0
    assert market["maker"] == market["taker"] == 0.001
    assert ex.market("ETH/BTC")["limits"]["cost"]["min"] is None  # minTradeUSDT is for USDT


def test_fetch_currencies_has_networks_with_fees_and_minimums(server: SealbookServer) -> None:
    ex = server.client(server.issue_key())

    currencies = ex.fetch_currencies()

    assert len(currencies) == len(CATALOG.coins)
    usdt = currencies["USDT"]
    # ccxt keys networks by its unified codes (BEP20 for BSC, ...) and keeps our id
    by_id = {network["id"]: network for network in usdt["networks"].values()}
    assert set(by_id) == {chain.chain for chain in CATALOG.coin("USDT").chains}
    assert by_id["BSC"]["network"] == "BEP20"
    trc20 = usdt["networks"]["TRC20"]
    assert trc20["fee"] == 1.5
    assert trc20["limits"]["withdraw"]["min"] == 10.0
    assert trc20["limits"]["deposit"]["min"] == 0.1
    assert trc20["precision"] == 1e-6
    assert trc20["deposit"] is True and trc20["withdraw"] is True
    btc = {network["id"]: network for network in currencies["BTC"]["networks"].values()}
    for chain in CATALOG.coin("BTC").chains:
        network = btc[chain.chain]
        assert num(network["fee"]) == D(chain.withdraw_fee_atoms) * ATOM
        assert num(network["limits"]["withdraw"]["min"]) == D(chain.min_withdraw_atoms) * ATOM


def test_trading_fees(server: SealbookServer) -> None:
    ex = server.client(server.issue_key())
    ex.load_markets()

    one = ex.fetch_trading_fee("BTC/USDT")
    every = ex.fetch_trading_fees()

    assert (one["symbol"], one["maker"], one["taker"]) == ("BTC/USDT", 0.001, 0.001)
    assert one["info"] == {"makerFeeRate": "0.001", "takerFeeRate": "0.001"}
    assert len(every) == len(CATALOG.symbols)
    assert every["ETH/BTC"]["maker"] == every["ETH/BTC"]["taker"] == 0.001


# --- limit orders ---------------------------------------------------------------------------


def test_limit_orders_match_and_both_balances_are_exact(server: SealbookServer) -> None:
    maker = trader(server, BTC="0.01")
    taker = trader(server, USDT="1000")
    price, sold, bought = D(100000), D("0.002"), D("0.001")

    ask = maker.ex.create_order("BTC/USDT", "limit", "sell", float(sold), float(price))
    # acknowledged means durable: the order's row is committed before the reply
    assert [row.order_id for row in rows_of(server, maker.person.user_id)] == [int(ask["id"])]
    resting = maker.ex.fetch_order(ask["id"], "BTC/USDT")
    assert (resting["status"], resting["filled"], resting["remaining"]) == ("open", 0.0, 0.002)
    assert (resting["price"], resting["average"], resting["fee"]) == (100000.0, None, None)
    assert resting["info"]["feeDetail"] == ""
    book = taker.ex.fetch_order_book("BTC/USDT", 5)
    assert (book["asks"], book["bids"]) == ([[100000.0, 0.002]], [])

    # a buy limited at 101000 takes the ask at 100000: the difference goes back at once
    bid = taker.ex.create_order("BTC/USDT", "limit", "buy", float(bought), 101000)

    cost = bought * price
    done = taker.ex.fetch_order(bid["id"], "BTC/USDT")
    assert (done["status"], done["filled"], done["remaining"]) == ("closed", 0.001, 0.0)
    assert (done["price"], done["average"], done["cost"]) == (101000.0, 100000.0, 100.0)
    assert done["fee"] == {"cost": float(fee(bought)), "currency": "BTC"}
    assert done["info"]["priceAvg"] == "100000"
    half = maker.ex.fetch_order(ask["id"], "BTC/USDT")
    assert (half["status"], half["filled"], half["remaining"]) == ("open", 0.001, 0.001)
    assert half["info"]["status"] == "partially_filled"
    assert half["fee"] == {"cost": float(fee(cost)), "currency": "USDT"}

    assert wallet(taker.ex) == {"USDT": (D(1000) - cost, D(0)), "BTC": (bought - fee(bought), D(0))}
    assert wallet(maker.ex) == {
        "BTC": (D("0.01") - sold, sold - bought),
        "USDT": (cost - fee(cost), D(0)),
    }

    (mine,) = taker.ex.fetch_my_trades("BTC/USDT")
    (theirs,) = maker.ex.fetch_my_trades("BTC/USDT")
    assert mine["id"] == theirs["id"]
    assert (mine["order"], mine["side"], mine["takerOrMaker"]) == (bid["id"], "buy", "taker")
    assert (theirs["order"], theirs["side"], theirs["takerOrMaker"]) == (ask["id"], "sell", "maker")
    for trade in (mine, theirs):
        assert (trade["price"], trade["amount"], trade["cost"]) == (100000.0, 0.001, 100.0)
    assert mine["fee"] == {"cost": float(fee(bought)), "currency": "BTC"}
    assert theirs["fee"] == {"cost": float(fee(cost)), "currency": "USDT"}
    assert theirs["info"]["feeDetail"] == {
        "deduction": "no",
        "feeCoin": "USDT",
        "totalDeductionFee": "0",
        "totalFee": "-0.1",
    }

    (still_open,) = maker.ex.fetch_open_orders("BTC/USDT")
    assert (still_open["id"], still_open["price"], still_open["average"]) == (
        ask["id"],
        100000.0,
        100000.0,
    )
    maker.ex.cancel_order(ask["id"], "BTC/USDT")
    cancelled = maker.ex.fetch_order(ask["id"], "BTC/USDT")
    assert (cancelled["status"], cancelled["filled"]) == ("canceled", 0.001)
    assert maker.ex.fetch_open_orders("BTC/USDT") == []
    assert wallet(maker.ex) == {"BTC": (D("0.01") - bought, D(0)), "USDT": (cost - fee(cost), D(0))}

    assert [o["id"] for o in taker.ex.fetch_closed_orders("BTC/USDT")] == [bid["id"]]
    assert maker.ex.fetch_closed_orders("BTC/USDT") == []  # cancelled is not closed
    assert [o["id"] for o in maker.ex.fetch_canceled_orders("BTC/USDT")] == [ask["id"]]

    with pytest.raises(ccxt.OrderNotFound):
        maker.ex.cancel_order(ask["id"], "BTC/USDT")
    with pytest.raises(ccxt.OrderNotFound):
        maker.ex.fetch_order("999999999", "BTC/USDT")
    with pytest.raises(ccxt.OrderNotFound):  # another user's order is not found either
        maker.ex.fetch_order(bid["id"], "BTC/USDT")


def test_client_order_id_finds_the_order(server: SealbookServer) -> None:
    maker = trader(server, BTC="0.001")
    placed = maker.ex.create_order(
        "BTC/USDT", "limit", "sell", 0.0001, 150000, {"clientOrderId": "my-ask-1"}
    )

    found = maker.ex.fetch_order("", "BTC/USDT", {"clientOrderId": "my-ask-1"})
    maker.ex.cancel_order("", "BTC/USDT", {"clientOrderId": "my-ask-1"})

    assert (placed["id"], placed["clientOrderId"]) == (found["id"], "my-ask-1")
    assert maker.ex.fetch_order(placed["id"], "BTC/USDT")["status"] == "canceled"
    assert wallet(maker.ex) == {"BTC": (D("0.001"), D(0))}


# --- market orders ---------------------------------------------------------------------------


def test_market_orders_by_amount_and_price_by_cost_and_selling(server: SealbookServer) -> None:
    maker = trader(server, ETH="1", USDT="10000")
    taker = trader(server, ETH="1", USDT="10000")
    for side, amount, price in (("sell", 0.1, 3600), ("sell", 0.1, 3610), ("buy", 0.2, 3590)):
        maker.ex.create_order("ETH/USDT", "limit", side, amount, price)

    with pytest.raises(ccxt.InvalidOrder):  # ccxt itself wants a price for a market buy
        taker.ex.create_order("ETH/USDT", "market", "buy", 0.05)

    # amount 0.05 at price 3600: ccxt sends size = 180 USDT, all spent at 3600
    by_price = taker.ex.create_order("ETH/USDT", "market", "buy", 0.05, 3600)
    first = taker.ex.fetch_order(by_price["id"], "ETH/USDT")
    assert first["info"]["size"] == "180"  # a market buy's size is its quote budget
    assert (first["status"], first["amount"], first["filled"]) == ("closed", 0.05, 0.05)
    assert (first["cost"], first["average"]) == (180.0, 3600.0)

    # 500 USDT: 0.05 ETH left at 3600 (180 USDT), then 320 USDT at 3610 buys whole lots
    # (0.00001 ETH) only: 0.08864 ETH for 319.9904 USDT; 0.0096 USDT stays with the taker
    by_cost = taker.ex.create_market_buy_order_with_cost("ETH/USDT", 500)
    at_3610 = (D(320) / D(3610)).quantize(D("0.00001"), rounding=ROUND_DOWN)
    assert at_3610 == D("0.08864")
    second_base = D("0.05") + at_3610
    second_cost = D(180) + at_3610 * D(3610)
    second = taker.ex.fetch_order(by_cost["id"], "ETH/USDT")
    assert second["info"]["size"] == "500"
    assert (second["status"], num(second["filled"]), num(second["cost"])) == (
        "closed",
        second_base,
        second_cost,
    )
    assert second["info"]["priceAvg"] == str(
        (second_cost / second_base).quantize(D("0.1"), rounding=ROUND_DOWN)
    )
    assert second["fee"] == {"cost": float(fee(second_base)), "currency": "ETH"}

    sold = D("0.15")  # into the bid at 3590
    sell = taker.ex.create_order("ETH/USDT", "market", "sell", float(sold))
    third = taker.ex.fetch_order(sell["id"], "ETH/USDT")
    assert (third["status"], third["filled"], third["average"]) == ("closed", 0.15, 3590.0)
    sell_value = sold * D(3590)

    bought_first, cost_first = D("0.05"), D(180)
    assert wallet(taker.ex) == {
        "ETH": (
            D(1) + bought_first - fee(bought_first) + second_base - fee(second_base) - sold,
            D(0),
        ),
        "USDT": (D(10000) - cost_first - second_cost + sell_value - fee(sell_value), D(0)),
    }
    maker_sold_3600, maker_sold_3610 = D("0.1"), at_3610
    maker_income_3600, maker_income_3610 = D(360), at_3610 * D(3610)
    assert wallet(maker.ex) == {
        "ETH": (D(1) - D("0.2") + sold - fee(sold), D("0.1") - maker_sold_3610),
        "USDT": (
            D(10000)
            - D("0.2") * D(3590)
            + maker_income_3600
            - fee(maker_income_3600)
            + maker_income_3610
            - fee(maker_income_3610),
            (D("0.2") - sold) * D(3590),
        ),
    }
    assert maker_sold_3600 + maker_sold_3610 == second_base + bought_first


# --- time in force ----------------------------------------------------------------------------


def test_ioc_fok_and_post_only(server: SealbookServer) -> None:
    maker = trader(server, SOL="5")
    taker = trader(server, USDT="1000")
    ask = maker.ex.create_order("SOL/USDT", "limit", "sell", 1, 170)
    before = wallet(taker.ex)

    fok = taker.ex.create_order("SOL/USDT", "limit", "buy", 2, 170, {"timeInForce": "FOK"})
    post = taker.ex.create_order("SOL/USDT", "limit", "buy", 0.5, 170, {"postOnly": True})

    fok_seen = taker.ex.fetch_order(fok["id"], "SOL/USDT")
    post_seen = taker.ex.fetch_order(post["id"], "SOL/USDT")
    assert (fok_seen["status"], fok_seen["filled"], fok_seen["timeInForce"]) == (
        "canceled",
        0.0,
        "FOK",
    )
    assert (post_seen["status"], post_seen["filled"], post_seen["postOnly"]) == (
        "canceled",
        0.0,
        True,
    )
    assert post_seen["info"]["cancelReason"] == "post_only"
    assert taker.ex.fetch_my_trades("SOL/USDT") == []
    assert wallet(taker.ex) == before
    assert maker.ex.fetch_order(ask["id"], "SOL/USDT")["remaining"] == 1.0

    ioc = taker.ex.create_order("SOL/USDT", "limit", "buy", 1.5, 170, {"timeInForce": "IOC"})
    ioc_seen = taker.ex.fetch_order(ioc["id"], "SOL/USDT")
    assert (ioc_seen["status"], ioc_seen["filled"], ioc_seen["remaining"]) == ("canceled", 1.0, 0.5)
    assert ioc_seen["timeInForce"] == "IOC"

    resting = taker.ex.create_order("SOL/USDT", "limit", "buy", 0.5, 169, {"postOnly": True})
    assert taker.ex.fetch_order(resting["id"], "SOL/USDT")["status"] == "open"
    assert wallet(taker.ex) == {
        "USDT": (D(1000) - D(170) - D("0.5") * D(169), D("0.5") * D(169)),
        "SOL": (D(1) - fee(D(1)), D(0)),
    }
    taker.ex.cancel_order(resting["id"], "SOL/USDT")
    assert wallet(taker.ex) == {"USDT": (D(830), D(0)), "SOL": (D(1) - fee(D(1)), D(0))}
    assert wallet(maker.ex) == {"SOL": (D(4), D(0)), "USDT": (D(170) - fee(D(170)), D(0))}


# --- BGB fee deduction -----------------------------------------------------------------------


def _deduct(t: Trader, on: bool) -> Any:
    return t.ex.request(
        "v2/spot/account/switch-deduct", ["private", "spot"], "POST", {"deduct": on}
    )


def _deduct_info(t: Trader) -> Any:
    return t.ex.request("v2/spot/account/deduct-info", ["private", "spot"], "GET")["data"]


def test_fees_paid_in_bgb_cost_eighty_percent(server: SealbookServer) -> None:
    maker = trader(server, BNB="1")
    taker = trader(server, USDT="1000", BGB="10")
    assert _deduct_info(taker) == {"deduct": "off"}
    assert _deduct(taker, True)["data"] is True
    assert _deduct_info(taker) == {"deduct": "on"}
    assert taker.ex.fetch_trades("BGB/USDT") == []  # so the BGB price is the reference price

    amount, price = D("0.5"), D(600)
    maker.ex.create_order("BNB/USDT", "limit", "sell", float(amount), float(price))
    bid = taker.ex.create_order("BNB/USDT", "limit", "buy", float(amount), float(price))

    value = amount * price
    in_bgb = bgb_fee(value)
    assert in_bgb == D("0.052173913043478260")  # 0.3 USDT × 0.8 / 4.6, rounded down
    assert wallet(taker.ex) == {
        "BGB": (D(10) - in_bgb, D(0)),
        "BNB": (amount, D(0)),  # nothing taken from the coin received
        "USDT": (D(1000) - value, D(0)),
    }
    assert wallet(maker.ex) == {"BNB": (D("0.5"), D(0)), "USDT": (value - fee(value), D(0))}

    (mine,) = taker.ex.fetch_my_trades("BNB/USDT")
    assert mine["fee"]["currency"] == "BGB"
    assert mine["fee"]["cost"] == float(in_bgb)
    assert mine["info"]["feeDetail"] == {
        "deduction": "yes",
        "feeCoin": "BGB",
        "totalDeductionFee": "-0.05217391304347826",
        "totalFee": "-0.05217391304347826",
    }
    order = taker.ex.fetch_order(bid["id"], "BNB/USDT")
    assert order["fee"] == {"cost": float(in_bgb), "currency": "BGB"}
    (theirs,) = maker.ex.fetch_my_trades("BNB/USDT")
    assert theirs["fee"] == {"cost": float(fee(value)), "currency": "USDT"}

    assert _deduct(taker, False)["data"] is True
    assert _deduct_info(taker) == {"deduct": "off"}


# --- public market data ----------------------------------------------------------------------


def test_ticker_book_candles_and_trades_show_what_traded(server: SealbookServer) -> None:
    maker = trader(server, LINK="10", USDT="100")
    taker = trader(server, USDT="1000")
    for side, price in (("sell", 15), ("sell", 15.1), ("sell", 15.2), ("buy", 14.9)):
        maker.ex.create_order("LINK/USDT", "limit", side, 1, price)
    taker.ex.create_order("LINK/USDT", "limit", "buy", 1.5, 15.1)  # 1 @ 15, 0.5 @ 15.1
    taker.ex.create_order("LINK/USDT", "market", "sell", 0.3)  # 0.3 @ 14.9
    trades = [(15.0, 1.0, "buy"), (15.1, 0.5, "buy"), (14.9, 0.3, "sell")]

    public = server.client(server.issue_key())
    seen = public.fetch_trades("LINK/USDT")
    assert [(t["price"], t["amount"], t["side"]) for t in seen] == trades
    assert [t["cost"] for t in seen] == [15.0, 7.55, 4.47]

    candles = public.fetch_ohlcv("LINK/USDT", "1m")
    assert 1 <= len(candles) <= 2  # the trades may straddle a minute
    assert candles[0][1] == 15.0  # open: the first trade
    assert candles[-1][4] == 14.9  # close: the last trade
    assert max(c[2] for c in candles) == 15.1
    assert min(c[3] for c in candles) == 14.9
    assert sum(num(c[5]) for c in candles) == D("1.8")
    assert all(c[0] % 60_000 == 0 for c in candles)

    ticker = public.fetch_ticker("LINK/USDT")
    assert (ticker["last"], ticker["open"], ticker["high"], ticker["low"]) == (
        14.9,
        15.0,
        15.1,
        14.9,
    )
    assert (ticker["baseVolume"], ticker["quoteVolume"]) == (1.8, 27.02)
    assert (ticker["bid"], ticker["bidVolume"], ticker["ask"], ticker["askVolume"]) == (
        14.9,
        0.7,
        15.1,
        0.5,
    )
    assert ticker["info"]["change24h"] == "-0.00667"

    book = public.fetch_order_book("LINK/USDT", 5)
    assert book["asks"] == [[15.1, 0.5], [15.2, 1.0]]
    assert book["bids"] == [[14.9, 0.7]]
    assert public.fetch_order_book("LINK/USDT", 1)["asks"] == [[15.1, 0.5]]

    some = public.fetch_tickers(["LINK/USDT", "BTC/USDT"])
    assert set(some) == {"LINK/USDT", "BTC/USDT"}
    assert some["LINK/USDT"]["last"] == 14.9
    assert len(public.fetch_tickers()) == len(CATALOG.symbols)
    untraded = public.fetch_ticker("DOGE/USDT")
    assert untraded["last"] == float(CATALOG.symbol("DOGEUSDT").ref_price)
    assert untraded["baseVolume"] == 0.0


# --- refusals change nothing ---------------------------------------------------------------


def _place_raw(t: Trader, **body: str) -> Any:
    """A place-order exactly as given, past ccxt's own rounding."""
    return t.ex.privateSpotPostV2SpotTradePlaceOrder(
        {"symbol": "AVAXUSDT", "orderType": "limit", "force": "gtc", "side": "buy", **body}
    )


def test_refused_orders_change_nothing(server: SealbookServer) -> None:
    funded = trader(server, USDT="10")
    before = wallet(funded.ex)
    assert before == {"USDT": (D(10), D(0))}

    with pytest.raises(ccxt.InsufficientFunds) as short:
        funded.ex.create_order("AVAX/USDT", "limit", "buy", 1, 22)  # 22 USDT > 10
    with pytest.raises(ccxt.InvalidOrder) as size_places:
        _place_raw(funded, price="22", size="0.0001")  # quantityPrecision is 3
    with pytest.raises(ccxt.InvalidOrder) as price_places:
        _place_raw(funded, price="22.0001", size="0.1")  # pricePrecision is 3
    with pytest.raises(ccxt.InvalidOrder) as too_small:
        funded.ex.create_order("AVAX/USDT", "limit", "buy", 0.01, 22)  # 0.22 USDT < 1

    assert '"code":"43012"' in str(short.value)
    assert '"code":"40808"' in str(size_places.value)
    assert '"code":"40808"' in str(price_places.value)
    assert '"code":"45110"' in str(too_small.value)
    assert wallet(funded.ex) == before
    assert funded.ex.fetch_open_orders("AVAX/USDT") == []
    assert rows_of(server, funded.person.user_id) == []


def test_keys_without_the_right_are_refused(server: SealbookServer) -> None:
    reader = trader(server, perms=(), USDT="100")
    with pytest.raises(ccxt.PermissionDenied) as no_trade:
        reader.ex.create_order("AVAX/USDT", "limit", "buy", 1, 22)
    assert "need spot order write permissions" in str(no_trade.value)

    dealer = trader(server, USDT="100")
    address = "TQnTn3qzXnJk7iRDmZq4R3wQy9hzGsFuQ6"
    server.book_address(dealer.person, "USDT", "TRC20", address)
    with pytest.raises(ccxt.PermissionDenied) as no_withdraw:
        dealer.ex.withdraw("USDT", 20, address, params={"network": "TRC20"})
    assert "need withdraw permissions" in str(no_withdraw.value)

    for t in (reader, dealer):
        assert wallet(t.ex) == {"USDT": (D(100), D(0))}
        assert rows_of(server, t.person.user_id) == []
    assert dealer.ex.fetch_withdrawals("USDT") == []


# --- deposits and withdrawals -----------------------------------------------------------------


def test_deposits_addresses_and_withdrawals(server: SealbookServer) -> None:
    user = trader(server, perms=("withdraw",), ips=(LOCALHOST,))
    other = trader(server)
    ex = user.ex
    credited = server.cli(
        "deposit", "--user", user.person.name, "--coin", "USDT", "--amount", "100", "--json"
    )
    assert credited.returncode == 0, credited.stderr
    assert json.loads(credited.stdout)["amount"] == "100"

    (deposit,) = ex.fetch_deposits("USDT")
    assert (deposit["type"], deposit["amount"], deposit["currency"]) == ("deposit", 100.0, "USDT")
    assert (deposit["status"], deposit["network"]) == ("ok", "TRC20")
    assert deposit["txid"].startswith("sbtx")

    mine = ex.fetch_deposit_address("USDT", {"network": "TRC20"})
    assert ex.fetch_deposit_address("USDT", {"network": "TRC20"})["address"] == mine["address"]
    assert mine["address"].startswith("0x") and len(mine["address"]) == 42
    assert (mine["currency"], mine["network"]) == ("USDT", "TRC20")
    theirs = other.ex.fetch_deposit_address("USDT", {"network": "TRC20"})
    assert theirs["address"] != mine["address"]
    assert ex.fetch_deposit_address("USDT", {"network": "BSC"})["address"] != mine["address"]

    address = "TJYeasTPa6gpEEfYcJtqLRnSx5cHaBVqvR"
    with pytest.raises(ccxt.BadRequest) as unbooked:
        ex.withdraw("USDT", 20, address, params={"network": "TRC20"})
    assert "not in your withdrawal address book" in str(unbooked.value)
    assert wallet(ex) == {"USDT": (D(100), D(0))}

    server.book_address(user.person, "USDT", "TRC20", address)
    with pytest.raises(ccxt.BadRequest) as too_little:
        ex.withdraw("USDT", 5, address, params={"network": "TRC20"})  # the minimum is 10
    assert '"code":"40020"' in str(too_little.value)
    assert wallet(ex) == {"USDT": (D(100), D(0))}

    amount, chain_fee = D(20), D("1.5")
    sent = ex.withdraw("USDT", float(amount), address, params={"network": "TRC20"})
    (pending,) = ex.fetch_withdrawals("USDT")
    assert pending["id"] == sent["id"]
    assert (pending["status"], pending["amount"], pending["fee"]) == (
        "pending",
        20.0,
        {"currency": "USDT", "cost": 1.5},
    )
    assert (pending["address"], pending["network"], pending["type"]) == (
        address,
        "TRC20",
        "withdrawal",
    )
    assert wallet(ex) == {"USDT": (D(100) - amount - chain_fee, amount + chain_fee)}

    def sent_on() -> Mapping[str, Any] | None:
        (row,) = ex.fetch_withdrawals("USDT")
        return row if row["status"] == "ok" else None

    done = wait_until(sent_on, "sending the withdrawal")
    assert (done["amount"], done["txid"]) == (20.0, f"sbwd{int(sent['id']):012d}")
    assert wallet(ex) == {"USDT": (D(100) - amount - chain_fee, D(0))}

    with pytest.raises(ccxt.InsufficientFunds):  # 80 + 1.5 USDT > the 78.5 left
        ex.withdraw("USDT", 80, address, params={"network": "TRC20"})
    assert wallet(ex) == {"USDT": (D(100) - amount - chain_fee, D(0))}
    assert len(ex.fetch_withdrawals("USDT")) == 1

    long_ago = ex.milliseconds() - 100 * DAY_MS
    with pytest.raises(ccxt.BadRequest) as too_long:
        ex.fetch_withdrawals("USDT", since=long_ago)
    assert "interval cannot be greater than 90 days" in str(too_long.value)
