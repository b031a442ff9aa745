"""Market data rows through ccxt 4.5.90's own bitget parsers and fetch methods (no network).

Markets come from the catalog's ``symbols_payload`` through ccxt's real ``load_markets``;
the public market-data endpoints are replaced by functions that answer from a
:class:`MarketData`, the way the API layer will, so ccxt's request building (granularity
names, ``startTime``/``endTime``/``limit``, candles vs history-candles) meets our answers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ccxt
import pytest

from sealbook.markets import coins_payload, default_catalog, symbols_payload
from sealbook.markets.marketdata import MarketData

CATALOG = default_catalog()
T0 = 1_704_067_200_000  # Monday 2024-01-01 00:00:00 UTC
MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
NOW = T0 + HOUR + 30_000
BOOK = {"ETHUSDT": ((35790, 123), (35810, 500_000))}


def _eth() -> MarketData:
    md = MarketData(CATALOG.symbol)
    for trade_id, ts, ticks, lots, side in [
        (1, T0 + 10_000, 36000, 100_000, "buy"),
        (2, T0 + 50_000, 36105, 50_000, "sell"),
        (3, T0 + 70_000, 35900, 20_000, "sell"),
        (4, T0 + 59 * MINUTE + 30_000, 36200, 10_000, "buy"),
        (5, T0 + HOUR + 5_000, 35800, 30_000, "buy"),
    ]:
        md.record_trade("ETHUSDT", trade_id, ticks, lots, side, ts)
    return md


def _envelope(data: Any) -> dict[str, Any]:
    return {"code": "00000", "msg": "success", "requestTime": NOW, "data": data}


def _opt_int(params: dict[str, Any], key: str) -> int | None:
    return int(params[key]) if key in params else None


class Server:
    """The public spot market endpoints, answered from one MarketData."""

    def __init__(self, md: MarketData, now: int) -> None:
        self.md = md
        self.now = now
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def candles(self, name: str) -> Callable[..., dict[str, Any]]:
        def endpoint(params: dict[str, Any] | None = None, *_: Any) -> dict[str, Any]:
            p = dict(params or {})
            self.calls.append((name, p))
            rows = self.md.candles(
                p["symbol"],
                p["granularity"],
                _opt_int(p, "startTime"),
                _opt_int(p, "endTime"),
                int(p.get("limit", 100)),
                now_ms=self.now,
            )
            return _envelope(rows)

        return endpoint

    def tickers(self, params: dict[str, Any] | None = None, *_: Any) -> dict[str, Any]:
        p = dict(params or {})
        self.calls.append(("tickers", p))
        names = [p["symbol"]] if "symbol" in p else [s.symbol for s in CATALOG.symbols]
        return _envelope([self.md.ticker(n, self.now, *BOOK.get(n, (None, None))) for n in names])

    def fills_history(self, params: dict[str, Any] | None = None, *_: Any) -> dict[str, Any]:
        p = dict(params or {})
        self.calls.append(("fills-history", p))
        rows = self.md.recent_trades(
            p["symbol"],
            int(p.get("limit", 500)),
            start_ms=_opt_int(p, "startTime"),
            end_ms=_opt_int(p, "endTime"),
        )
        return _envelope(rows)


@pytest.fixture(scope="module")
def markets() -> Any:
    ex = ccxt.bitget({"options": {"fetchMarkets": {"types": ["spot"]}}})
    ex.publicSpotGetV2SpotPublicCoins = lambda *_: _envelope(coins_payload(CATALOG))
    ex.publicSpotGetV2SpotPublicSymbols = lambda *_: _envelope(symbols_payload(CATALOG))
    ex.publicMarginGetV2MarginCurrencies = lambda *_: _envelope([])
    ex.load_markets()
    return ex.markets


def _exchange(markets: Any, server: Server) -> Any:
    ex = ccxt.bitget({"options": {"fetchMarkets": {"types": ["spot"]}}})
    ex.set_markets(markets)
    ex.milliseconds = lambda: server.now
    ex.publicSpotGetV2SpotMarketCandles = server.candles("candles")
    ex.publicSpotGetV2SpotMarketHistoryCandles = server.candles("history-candles")
    ex.publicSpotGetV2SpotMarketTickers = server.tickers
    ex.publicSpotGetV2SpotMarketFillsHistory = server.fills_history
    return ex


# --- the parsers, row by row --------------------------------------------------------------


def test_parse_ohlcv(markets: Any) -> None:
    ex = ccxt.bitget()
    md = _eth()
    market = markets["ETH/USDT"]
    rows = md.candles("ETHUSDT", "1min", T0, T0 + 2 * MINUTE)
    assert [ex.parse_ohlcv(r, market) for r in rows] == [
        [T0, 3600.0, 3610.5, 3600.0, 3610.5, 1.5],
        [T0 + MINUTE, 3590.0, 3590.0, 3590.0, 3590.0, 0.2],
    ]
    (day,) = md.candles("ETHUSDT", "1Dutc")
    assert ex.parse_ohlcv(day, market) == [T0, 3600.0, 3620.0, 3580.0, 3580.0, 2.1]


def test_parse_ticker(markets: Any) -> None:
    ex = ccxt.bitget()
    row = _eth().ticker("ETHUSDT", NOW, *BOOK["ETHUSDT"])
    t = ex.parse_ticker(row, markets["ETH/USDT"])
    assert t["symbol"] == "ETH/USDT"
    assert t["timestamp"] == NOW
    assert (t["open"], t["high"], t["low"], t["last"], t["close"]) == (
        3600.0,
        3620.0,
        3580.0,
        3580.0,
        3580.0,
    )
    assert (t["bid"], t["bidVolume"], t["ask"], t["askVolume"]) == (3579.0, 0.00123, 3581.0, 5.0)
    assert t["baseVolume"] == 2.1
    assert t["quoteVolume"] == 7559.25
    assert t["percentage"] == -0.556  # change24h "-0.00556" × 100
    assert t["change"] == -20.0  # last − open, computed by ccxt
    # no trades, empty book: reference prices, no bid or ask
    btc = ex.parse_ticker(_eth().ticker("BTCUSDT", NOW), markets["BTC/USDT"])
    assert (btc["last"], btc["open"], btc["percentage"], btc["baseVolume"]) == (
        104000.0,
        104000.0,
        0.0,
        0.0,
    )
    assert btc["bid"] is None
    assert btc["ask"] is None


def test_parse_trade(markets: Any) -> None:
    ex = ccxt.bitget()
    rows = _eth().recent_trades("ETHUSDT", 2)
    trades = [ex.parse_trade(r, markets["ETH/USDT"]) for r in rows]
    assert [(t["id"], t["side"], t["price"], t["amount"], t["timestamp"]) for t in trades] == [
        ("5", "buy", 3580.0, 0.3, T0 + HOUR + 5_000),
        ("4", "buy", 3620.0, 0.1, T0 + 59 * MINUTE + 30_000),
    ]
    assert trades[0]["cost"] == 1074.0
    assert trades[0]["symbol"] == "ETH/USDT"


# --- ccxt's fetch methods against MarketData ----------------------------------------------


def test_fetch_ohlcv_recent_endpoint(markets: Any) -> None:
    server = Server(_eth(), T0 + 26 * HOUR)
    ex = _exchange(markets, server)
    assert ex.fetch_ohlcv("ETH/USDT", "1h", since=T0, limit=3) == [
        [T0, 3600.0, 3620.0, 3590.0, 3620.0, 1.8],
        [T0 + HOUR, 3580.0, 3580.0, 3580.0, 3580.0, 0.3],
        [T0 + 2 * HOUR, 3580.0, 3580.0, 3580.0, 3580.0, 0.0],
    ]
    assert server.calls[-1] == (
        "candles",
        {
            "symbol": "ETHUSDT",
            "granularity": "1h",
            "startTime": T0,
            "endTime": T0 + 3 * HOUR,
            "limit": 3,
        },
    )
    daily = ex.fetch_ohlcv("ETH/USDT", "1d")
    assert server.calls[-1] == (
        "candles",
        {"symbol": "ETHUSDT", "granularity": "1Dutc", "limit": 1000},
    )
    assert daily == [
        [T0, 3600.0, 3620.0, 3580.0, 3580.0, 2.1],
        [T0 + DAY, 3580.0, 3580.0, 3580.0, 3580.0, 0.0],  # today, no trade yet
    ]
    assert ex.fetch_ohlcv("ETH/USDT", "1M") == [[T0, 3600.0, 3620.0, 3580.0, 3580.0, 2.1]]
    assert server.calls[-1][1]["granularity"] == "1Mutc"


def test_fetch_ohlcv_history_endpoint(markets: Any) -> None:
    server = Server(_eth(), T0 + 40 * DAY)
    ex = _exchange(markets, server)
    rows = ex.fetch_ohlcv("ETH/USDT", "1m", since=T0, limit=3)
    assert server.calls[-1] == (
        "history-candles",
        {
            "symbol": "ETHUSDT",
            "granularity": "1min",
            "startTime": T0,
            "endTime": T0 + 3 * MINUTE,
            "limit": 3,
        },
    )
    assert rows == [
        [T0, 3600.0, 3610.5, 3600.0, 3610.5, 1.5],
        [T0 + MINUTE, 3590.0, 3590.0, 3590.0, 3590.0, 0.2],
        [T0 + 2 * MINUTE, 3590.0, 3590.0, 3590.0, 3590.0, 0.0],
    ]


def test_every_granularity_ccxt_sends_is_accepted(markets: Any) -> None:
    server = Server(_eth(), NOW)
    ex = _exchange(markets, server)
    spot = ex.options["fetchOHLCV"]["timeframes"]["spot"]
    for timeframe in [*spot, "2h"]:
        rows = ex.fetch_ohlcv("ETH/USDT", timeframe)
        assert rows, timeframe
        assert rows[0][5] > 0, timeframe  # the first period holds the first trades
        assert rows[0][0] <= T0 + 10_000, timeframe
    sent = {p["granularity"] for _, p in server.calls}
    assert sent == {*spot.values(), "2h"}
    assert sent >= {"6Hutc", "12Hutc", "1Dutc", "3Dutc", "1Wutc", "1Mutc"}


def test_fetch_ticker_and_tickers(markets: Any) -> None:
    server = Server(_eth(), NOW)
    ex = _exchange(markets, server)
    t = ex.fetch_ticker("ETH/USDT")
    assert server.calls[-1] == ("tickers", {"symbol": "ETHUSDT"})
    assert (t["last"], t["open"], t["percentage"], t["bid"], t["ask"]) == (
        3580.0,
        3600.0,
        -0.556,
        3579.0,
        3581.0,
    )
    assert (t["baseVolume"], t["quoteVolume"]) == (2.1, 7559.25)
    everything = ex.fetch_tickers()
    assert len(everything) == len(CATALOG.symbols)
    assert everything["ETH/USDT"]["last"] == 3580.0
    assert everything["ETH/BTC"]["last"] == 0.034615  # its reference price


def test_fetch_trades(markets: Any) -> None:
    server = Server(_eth(), NOW)
    ex = _exchange(markets, server)
    trades = ex.fetch_trades("ETH/USDT", limit=2)
    assert server.calls[-1] == ("fills-history", {"symbol": "ETHUSDT", "limit": 2})
    # ccxt sorts ascending by time
    assert [(t["id"], t["side"], t["price"], t["amount"]) for t in trades] == [
        ("4", "buy", 3620.0, 0.1),
        ("5", "buy", 3580.0, 0.3),
    ]
    since = ex.fetch_trades("ETH/USDT", since=T0 + 50_000)
    assert [t["id"] for t in since] == ["2", "3", "4", "5"]
    assert [t["side"] for t in since] == ["sell", "sell", "buy", "buy"]
