"""Pricing routes and average-cost PnL, hand-computed."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from sealbook.client.portfolio import CostBook, Fill, price_in_usdt, ticker_prices
from sealbook.client.portfolio.fetch import AccountData
from sealbook.client.portfolio.report import build_portfolio, usd

TICKERS = {
    "BTC/USDT": {"last": "32000"},
    "ETH/BTC": {"last": "0.05"},
    "USDT/TRY": {"last": "40"},
    "BGB/USDT": {"last": "1.25"},
    "XYZ/BGB": {"last": "3"},  # BGB is not a bridge: XYZ stays unpriced
    "DEAD/USDT": {"last": "0"},  # no trade yet: not a price
    "BTC/USDT:USDT": {"last": "99999"},  # a swap: ignored
}
PRICES = ticker_prices(TICKERS)


@pytest.mark.parametrize(
    ("asset", "value", "route"),
    [
        ("USDT", D(1), "USDT"),
        ("BTC", D(32000), "BTC/USDT"),
        ("ETH", D(1600), "ETH/BTC×BTC/USDT"),
        ("TRY", D("0.025"), "USDT/TRY inverse"),
    ],
)
def test_routes(asset: str, value: D, route: str) -> None:
    price = price_in_usdt(asset, PRICES)
    assert price is not None
    assert (price.value, price.route) == (value, route)


@pytest.mark.parametrize("asset", ["XYZ", "DEAD", "NOPE"])
def test_unpriced(asset: str) -> None:
    assert price_in_usdt(asset, PRICES) is None


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError, match="float"):
        ticker_prices({"BTC/USDT": {"last": 32000.0}})


def _value_now(asset: str, qty: D) -> D | None:
    price = price_in_usdt(asset, PRICES)
    return None if price is None else price.value * qty


def test_average_cost_with_fees_in_base_and_quote() -> None:
    book = CostBook(_value_now)
    book.apply_all(
        [
            # sells after buys, given out of order: sorted by time
            Fill(3, "3", "BTC", "USDT", "sell", D("0.2"), D("6400"), D("6.4"), "USDT"),
            Fill(1, "1", "BTC", "USDT", "buy", D("0.5"), D("15000"), D("0.0005"), "BTC"),
        ]
    )
    pool = book.pools["BTC"]
    # 0.4995 BTC cost 15000; selling 0.2 removes 15000 × 0.2 / 0.4995.
    assert pool.qty == D("0.2995")
    assert usd(pool.cost) == "8993.99399399"
    assert usd(book.realised["BTC"]) == "387.59399399"  # 6400 − 6006.00600601 − 6.4
    unrealised, covered = book.unrealised("BTC", D("0.2995"), D("32000"))
    assert (usd(unrealised), covered) == ("590.00600601", D("0.2995"))
    assert not book.approximate


def test_sale_beyond_known_cost_realises_only_the_known_part() -> None:
    book = CostBook(_value_now)
    book.apply(Fill(1, "1", "BTC", "USDT", "buy", D("1"), D("30000")))
    book.apply(Fill(2, "2", "BTC", "USDT", "sell", D("3"), D("96000")))  # 2 BTC deposited
    assert book.realised["BTC"] == D(2000)  # 32000 − 30000 on the one known coin
    assert book.unmatched == {"BTC": D(2)}
    assert book.pools["BTC"].qty == 0


def test_non_usdt_quote_is_valued_at_todays_price_and_flagged() -> None:
    book = CostBook(_value_now)
    book.apply(Fill(1, "1", "ETH", "BTC", "buy", D("2"), D("0.1")))  # 0.1 BTC = 3200 USDT
    assert book.pools["ETH"].cost == D(3200)
    assert book.unmatched == {"BTC": D("0.1")}  # the BTC spent came from outside the fills
    assert book.approximate


def test_report_flags_unpriced_and_uncosted_holdings() -> None:
    data = AccountData(
        "acct",
        "bitget",
        balances={"USDT": D("100"), "BTC": D("0.5"), "XYZ": D("7")},
        prices=PRICES,
        fills=[Fill(1, "1", "BTC", "USDT", "buy", D("0.2"), D("6000"))],
    )
    portfolio = build_portfolio([data, AccountData("down", "bitget", error="boom")], 0)
    view = portfolio.as_dict()
    assert view["netWorth"] == "16100.00000000"  # 100 + 0.5 × 32000; XYZ unpriced
    assert view["unrealisedPnl"] == "400.00000000"  # 0.2 × (32000 − 30000)
    acct, down = view["byAccount"]
    assert acct["unpriced"] == ["XYZ"]
    assert acct["heldWithoutCostBasis"] == {"BTC": "0.3", "XYZ": "7"}
    assert down == {"name": "down", "exchange": "bitget", "error": "boom"}
    assert [(a["asset"], a["share"]) for a in view["byAsset"]] == [
        ("BTC", "99.38"),
        ("USDT", "0.62"),
    ]
