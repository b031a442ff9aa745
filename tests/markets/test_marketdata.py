"""Market data from trades: candles, tickers, recent trades — exact, hand-computed values."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from itertools import pairwise

import pytest

from sealbook.engine.orders import Fill, Side
from sealbook.errors import ParamInvalid, UnknownSymbol
from sealbook.markets import default_catalog
from sealbook.markets.candles import (
    DAY_MS,
    GRANULARITIES,
    HOUR_MS,
    MINUTE_MS,
    Granularity,
    parse_granularity,
)
from sealbook.markets.catalog import Symbol
from sealbook.markets.marketdata import MarketData

CATALOG = default_catalog()
T0 = 1_704_067_200_000  # Monday 2024-01-01 00:00:00 UTC
UTC8 = 8 * HOUR_MS

# ETHUSDT: price in 0.1 USDT ticks, size in 10^-5 ETH lots.
ETH_TRADES = [
    # (trade_id, ts, ticks, lots, taker side)
    (1, T0 + 10_000, 36000, 100_000, "buy"),  # 3600    × 1
    (2, T0 + 50_000, 36105, 50_000, "sell"),  # 3610.5  × 0.5
    (3, T0 + 70_000, 35900, 20_000, "sell"),  # 3590    × 0.2   (minute 1)
    (4, T0 + 59 * MINUTE_MS + 30_000, 36200, 10_000, "buy"),  # 3620 × 0.1 (minute 59)
    (5, T0 + HOUR_MS + 5_000, 35800, 30_000, "buy"),  # 3580 × 0.3 (hour 1)
    (6, T0 + DAY_MS + MINUTE_MS, 37000, 100_000, "buy"),  # 3700 × 1 (Jan 2, 00:01)
]


def _eth(md: MarketData | None = None) -> MarketData:
    md = md if md is not None else MarketData(CATALOG.symbol)
    for trade_id, ts, ticks, lots, side in ETH_TRADES:
        md.record_trade("ETHUSDT", trade_id, ticks, lots, side, ts)
    return md


def _row(ts: int, o: str, h: str, lo: str, c: str, base: str, quote: str) -> list[str]:
    """A USDT pair's row: usdtVolume (index 6) equals quoteVolume (index 7)."""
    return [str(ts), o, h, lo, c, base, quote, quote]


def _flat(ts: int, price: str) -> list[str]:
    return [str(ts), price, price, price, price, "0", "0", "0"]


# --- candles: hand-computed ------------------------------------------------------------


def test_minute_candles() -> None:
    md = _eth()
    assert md.candles("ETHUSDT", "1min", T0, T0 + 2 * MINUTE_MS) == [
        _row(T0, "3600", "3610.5", "3600", "3610.5", "1.5", "5405.25"),
        _row(T0 + MINUTE_MS, "3590", "3590", "3590", "3590", "0.2", "718"),
    ]
    # minute 59 and the first minute of hour 1
    assert md.candles("ETHUSDT", "1min", T0 + 59 * MINUTE_MS, T0 + 61 * MINUTE_MS) == [
        _row(T0 + 59 * MINUTE_MS, "3620", "3620", "3620", "3620", "0.1", "362"),
        _row(T0 + 60 * MINUTE_MS, "3580", "3580", "3580", "3580", "0.3", "1074"),
    ]
    # a minute without trades between them is flat at the close before it
    assert md.candles("ETHUSDT", "1min", T0 + 2 * MINUTE_MS, T0 + 3 * MINUTE_MS) == [
        _flat(T0 + 2 * MINUTE_MS, "3590")
    ]


def test_hour_candles_fill_gaps_flat() -> None:
    md = _eth()
    assert md.candles("ETHUSDT", "1h", None, T0 + 3 * HOUR_MS) == [
        _row(T0, "3600", "3620", "3590", "3620", "1.8", "6485.25"),
        _row(T0 + HOUR_MS, "3580", "3580", "3580", "3580", "0.3", "1074"),
        _flat(T0 + 2 * HOUR_MS, "3580"),
    ]
    rows = md.candles("ETHUSDT", "1h")
    assert len(rows) == 25  # hour 0 … hour 24, the last trade's hour
    assert rows[-1] == _row(T0 + DAY_MS, "3700", "3700", "3700", "3700", "1", "3700")
    assert all(r == _flat(T0 + i * HOUR_MS, "3580") for i, r in enumerate(rows) if 2 <= i < 24)


def test_day_week_month_candles_utc_and_utc8() -> None:
    md = _eth()
    jan1 = _row(T0, "3600", "3620", "3580", "3580", "2.1", "7559.25")
    jan2 = _row(T0 + DAY_MS, "3700", "3700", "3700", "3700", "1", "3700")
    everything = ("3600", "3700", "3580", "3700", "3.1", "11259.25")
    assert md.candles("ETHUSDT", "1Dutc") == [jan1, jan2]
    # plain 1day: UTC+8 days start at 16:00 UTC
    assert md.candles("ETHUSDT", "1day") == [
        [str(T0 - UTC8), *jan1[1:]],
        [str(T0 + DAY_MS - UTC8), *jan2[1:]],
    ]
    assert md.candles("ETHUSDT", "1Wutc") == [_row(T0, *everything)]  # a Monday
    assert md.candles("ETHUSDT", "1week") == [_row(T0 - UTC8, *everything)]
    assert md.candles("ETHUSDT", "1Mutc") == [_row(T0, *everything)]
    assert md.candles("ETHUSDT", "1M") == [_row(T0 - UTC8, *everything)]
    # 6Hutc: hour 0 and 1 in the first, the Jan 2 trade in the fifth
    six = md.candles("ETHUSDT", "6Hutc")
    assert [r[0] for r in six] == [str(T0 + i * 6 * HOUR_MS) for i in range(5)]
    assert six[0] == _row(T0, "3600", "3620", "3580", "3580", "2.1", "7559.25")
    # 6h (UTC+8): periods start at 16, 22, 04, 10 UTC
    assert md.candles("ETHUSDT", "6h")[0][0] == str(T0 - 2 * HOUR_MS)


def test_limit_keeps_the_newest_periods_ascending() -> None:
    md = _eth()
    rows = md.candles("ETHUSDT", "1h", limit=3)
    assert [r[0] for r in rows] == [str(T0 + h * HOUR_MS) for h in (22, 23, 24)]
    assert rows == [
        _flat(T0 + 22 * HOUR_MS, "3580"),
        _flat(T0 + 23 * HOUR_MS, "3580"),
        _row(T0 + DAY_MS, "3700", "3700", "3700", "3700", "1", "3700"),
    ]
    # default limit 100, cap 1000 (1,442 one-minute periods exist)
    assert len(md.candles("ETHUSDT", "1min")) == 100
    assert len(md.candles("ETHUSDT", "1min", limit=5000)) == 1000
    assert md.candles("ETHUSDT", "1min", limit=5000)[-1][0] == str(T0 + DAY_MS + MINUTE_MS)
    stamps = [int(r[0]) for r in md.candles("ETHUSDT", "1min", limit=1000)]
    assert stamps == sorted(stamps)
    assert all(b - a == MINUTE_MS for a, b in pairwise(stamps))


def test_start_and_end_filters() -> None:
    md = _eth()
    # start is inclusive of a period starting exactly at it ...
    assert md.candles("ETHUSDT", "1h", T0 + HOUR_MS, T0 + 2 * HOUR_MS) == [
        _row(T0 + HOUR_MS, "3580", "3580", "3580", "3580", "0.3", "1074")
    ]
    # ... a period that started before it is left out; end keeps periods starting before it
    assert [r[0] for r in md.candles("ETHUSDT", "1h", T0 + 1, T0 + 3 * HOUR_MS)] == [
        str(T0 + HOUR_MS),
        str(T0 + 2 * HOUR_MS),
    ]
    assert [r[0] for r in md.candles("ETHUSDT", "1h", T0, T0 + HOUR_MS + 1)] == [
        str(T0),
        str(T0 + HOUR_MS),
    ]
    # with both bounds and a limit: the newest `limit` inside the bounds
    assert [r[0] for r in md.candles("ETHUSDT", "1h", T0, T0 + 10 * HOUR_MS, 2)] == [
        str(T0 + 8 * HOUR_MS),
        str(T0 + 9 * HOUR_MS),
    ]
    assert md.candles("ETHUSDT", "1h", T0 + 5 * HOUR_MS, T0 + 5 * HOUR_MS) == []
    assert md.candles("ETHUSDT", "1h", T0 + 9 * HOUR_MS, T0 + 2 * HOUR_MS) == []
    assert md.candles("ETHUSDT", "1h", None, T0) == []  # before the first trade
    assert md.candles("ETHUSDT", "1h", -(10**20), 10**20, 2)[-1][0] == str(T0 + DAY_MS)


def test_now_extends_to_the_current_period() -> None:
    md = _eth()
    now = T0 + 26 * HOUR_MS + 5 * MINUTE_MS
    rows = md.candles("ETHUSDT", "1h", limit=3, now_ms=now)
    assert rows == [
        _row(T0 + DAY_MS, "3700", "3700", "3700", "3700", "1", "3700"),
        _flat(T0 + 25 * HOUR_MS, "3700"),
        _flat(T0 + 26 * HOUR_MS, "3700"),
    ]
    # trades after now_ms are not shown
    assert md.candles("ETHUSDT", "1Dutc", now_ms=T0 + HOUR_MS) == [
        _row(T0, "3600", "3620", "3580", "3580", "2.1", "7559.25")
    ]


def test_no_trades_no_candles() -> None:
    md = _eth()
    assert md.candles("BTCUSDT", "1min") == []
    assert md.candles("BTCUSDT", "1min", now_ms=T0) == []


@pytest.mark.parametrize("bad", ["1d", "1w", "1MIN", "7min", "", " 1min", "1mutc", None, 60])
def test_unknown_granularity(bad: object) -> None:
    md = _eth()
    with pytest.raises(ParamInvalid) as caught:
        md.candles("ETHUSDT", bad)  # type: ignore[arg-type]
    assert caught.value.code == "40020"
    assert "granularity" in caught.value.msg


def test_aliases_match_canonical_names() -> None:
    md = _eth()
    pairs = {
        "1m": "1min",
        "5m": "5min",
        "1H": "1h",
        "4H": "4h",
        "6H": "6h",
        "12H": "12h",
        "1D": "1day",
        "3D": "3day",
        "1W": "1week",
    }
    for alias, name in pairs.items():
        assert parse_granularity(alias) is GRANULARITIES[name]
        assert md.candles("ETHUSDT", alias) == md.candles("ETHUSDT", name)


def test_bad_limit_and_unknown_symbol() -> None:
    md = _eth()
    for limit in (0, -1, True):
        with pytest.raises(ParamInvalid):
            md.candles("ETHUSDT", "1h", limit=limit)
    with pytest.raises(UnknownSymbol):
        md.candles("NOPEUSDT", "1h")
    assert md.candles("ethusdt", "1Dutc") == md.candles("ETHUSDT", "1Dutc")  # catalog folds case


def test_out_of_order_trades_give_the_same_candles() -> None:
    in_order = _eth()
    shuffled = MarketData(CATALOG.symbol)
    for trade_id, ts, ticks, lots, side in reversed(ETH_TRADES):
        shuffled.record_trade("ETHUSDT", trade_id, ticks, lots, side, ts)
    for name in GRANULARITIES:
        assert shuffled.candles("ETHUSDT", name, limit=1000) == in_order.candles(
            "ETHUSDT", name, limit=1000
        )
    # same timestamp: the trade id orders them
    md = MarketData(CATALOG.symbol)
    md.record_trade("ETHUSDT", 11, 36010, 1, "buy", T0)
    md.record_trade("ETHUSDT", 10, 36000, 1, "buy", T0)
    assert md.candles("ETHUSDT", "1min")[0][1:5] == ["3600", "3601", "3600", "3601"]


# --- granularity boundaries ------------------------------------------------------------


def test_period_boundaries() -> None:
    g = GRANULARITIES
    sunday_20h = T0 - 4 * HOUR_MS  # Sun 2023-12-31 20:00 UTC = Mon 04:00 UTC+8
    assert g["1Wutc"].floor(sunday_20h) == T0 - 7 * DAY_MS
    assert g["1week"].floor(sunday_20h) == T0 - UTC8
    assert g["1Wutc"].next(T0) == T0 + 7 * DAY_MS
    # 3 days: multiples of 3 days since 1970-01-01 (local); 2024-01-01 is day 19723 ≡ 1
    assert g["3Dutc"].floor(T0) == T0 - DAY_MS
    assert g["3day"].floor(T0) == T0 - DAY_MS - UTC8
    # months, leap February included
    feb1 = 1_706_745_600_000  # 2024-02-01 00:00 UTC
    mar1 = 1_709_251_200_000  # 2024-03-01 00:00 UTC
    dec1 = 1_701_388_800_000  # 2023-12-01 00:00 UTC
    assert g["1Mutc"].floor(mar1 - 1) == feb1
    assert g["1Mutc"].next(feb1) == mar1
    assert g["1Mutc"].prev(T0) == dec1
    assert mar1 - feb1 == 29 * DAY_MS
    jan31_20h = feb1 - 4 * HOUR_MS  # Feb 1 04:00 in UTC+8
    assert g["1M"].floor(jan31_20h) == feb1 - UTC8
    assert g["1Mutc"].floor(jan31_20h) == T0
    assert g["1M"].next(feb1 - UTC8) == mar1 - UTC8
    # hours are the same in UTC and UTC+8 for 1h/4h; 12h (UTC+8) starts at 04 and 16 UTC
    assert g["4h"].floor(T0 + 5 * HOUR_MS) == T0 + 4 * HOUR_MS
    assert g["12h"].floor(T0 + 5 * HOUR_MS) == T0 + 4 * HOUR_MS
    assert g["12Hutc"].floor(T0 + 5 * HOUR_MS) == T0
    for gran in g.values():
        for ts in (T0, T0 + 12_345_678, feb1 + 7, mar1 - 1):
            start = gran.floor(ts)
            assert start <= ts < gran.next(start)
            assert gran.prev(gran.next(start)) == start
            assert gran.ceil(start) == start
            assert gran.floor(gran.next(start)) == gran.next(start)


# --- aggregation consistency -------------------------------------------------------------


def _lcg(seed: int) -> Callable[[int], int]:
    state = [seed]

    def draw(n: int) -> int:
        state[0] = (state[0] * 6364136223846793005 + 1442695040888963407) % 2**64
        return (state[0] >> 33) % n

    return draw


def test_aggregation_matches_one_minute_candles() -> None:
    """Every granularity equals the 1-minute candles grouped by its periods: first open,
    last close, max high, min low, summed volumes; periods without trades are flat."""
    draw = _lcg(7)
    md = MarketData(CATALOG.symbol, retain_hours=24 * 80)
    ts = T0 + 20 * DAY_MS  # from 2024-01-21, about 50 days: weeks and two month ends
    stamps = []
    for trade_id in range(1, 401):
        ts += draw(2 * HOUR_MS) + (draw(10) == 0) * draw(40 * HOUR_MS)
        stamps.append(ts)
        md.record_trade("SOLUSDT", trade_id, 15000 + draw(4000), 1 + draw(50_000), "buy", ts)
    assert stamps[-1] > 1_709_251_200_000  # past 2024-03-01
    minutes: dict[int, list[str]] = {}
    for m in {t - t % MINUTE_MS for t in stamps}:
        (row,) = md.candles("SOLUSDT", "1min", m, m + MINUTE_MS)
        minutes[m] = row
    assert len(minutes) >= 300

    for name, g in GRANULARITIES.items():
        rows = md.candles("SOLUSDT", name, None, None, 1000)
        first, last = int(rows[0][0]), int(rows[-1][0])
        if len(rows) < 1000:  # all periods fit: they start at the first trade's
            assert first == g.floor(stamps[0]), name
        else:
            assert name in ("1min", "3min", "5min", "15min", "30min", "1h"), name
        assert last == g.floor(stamps[-1]), name
        expected: dict[int, list[Decimal]] = {}
        for m in sorted(minutes):
            if g.floor(m) < first:
                continue
            o, h, lo, c, base, usdt, quote = (Decimal(x) for x in minutes[m][1:])
            agg = expected.get(g.floor(m))
            if agg is None:
                expected[g.floor(m)] = [o, h, lo, c, base, usdt, quote]
            else:
                agg[1], agg[2], agg[3] = max(agg[1], h), min(agg[2], lo), c
                agg[4] += base
                agg[5] += usdt
                agg[6] += quote
        by_start = {int(r[0]): r for r in rows}
        assert {s for s, r in by_start.items() if r[5] != "0"} == set(expected), name
        for s, agg in expected.items():
            assert [Decimal(x) for x in by_start[s][1:]] == agg, (name, s)
        # contiguous, ascending, and flat at the previous close where nothing traded
        starts = [int(r[0]) for r in rows]
        assert all(g.next(a) == b for a, b in pairwise(starts)), name
        for prev, row in pairwise(rows):
            if row[5] == "0":
                assert row[1:] == [prev[4]] * 4 + ["0", "0", "0"], name


# --- tickers -----------------------------------------------------------------------------


TICKER_FIELDS = {
    "symbol",
    "high24h",
    "open",
    "lastPr",
    "low24h",
    "quoteVolume",
    "baseVolume",
    "usdtVolume",
    "ts",
    "bidPr",
    "askPr",
    "bidSz",
    "askSz",
    "openUtc",
    "changeUtc24h",
    "change24h",
}


def test_ticker_hand_computed() -> None:
    md = _eth()
    now = T0 + HOUR_MS + 30_000
    ticker = md.ticker("ETHUSDT", now, best_bid=(35790, 123), best_ask=(35810, 500_000))
    assert set(ticker) == TICKER_FIELDS
    assert ticker == {
        "symbol": "ETHUSDT",
        "high24h": "3620",
        "open": "3600",
        "low24h": "3580",
        "lastPr": "3580",
        "quoteVolume": "7559.25",  # 3600 + 1805.25 + 718 + 362 + 1074
        "baseVolume": "2.1",
        "usdtVolume": "7559.25",
        "bidPr": "3579",
        "askPr": "3581",
        "bidSz": "0.00123",
        "askSz": "5",
        "openUtc": "3600",
        "ts": str(now),
        "changeUtc24h": "-0.00556",  # -20 / 3600 = -0.005555… → -0.00556
        "change24h": "-0.00556",
    }
    # change as an exact ratio
    assert Decimal(ticker["change24h"]) == (Decimal(-20) / Decimal(3600)).quantize(
        Decimal("0.00001")
    )


def test_ticker_rolling_window_drops_trades_older_than_24h() -> None:
    md = _eth()
    # the window is the 1,440 minutes up to and including now's minute
    last_in = md.ticker("ETHUSDT", T0 + DAY_MS - 1)
    assert (last_in["open"], last_in["baseVolume"], last_in["high24h"]) == ("3600", "2.1", "3620")
    assert last_in["openUtc"] == "3600"
    moved = md.ticker("ETHUSDT", T0 + DAY_MS)  # minute 0 (trades 1 and 2) has left
    assert moved["open"] == "3590"
    assert moved["high24h"] == "3620"
    assert moved["low24h"] == "3580"
    assert moved["lastPr"] == "3580"
    assert moved["baseVolume"] == "0.6"
    assert moved["quoteVolume"] == "2154"  # 718 + 362 + 1074
    assert moved["change24h"] == "-0.00279"  # -10 / 3590 = -0.0027855…
    assert (moved["openUtc"], moved["changeUtc24h"]) == ("3580", "0")  # no trade yet today

    after = md.ticker("ETHUSDT", T0 + DAY_MS + 2 * MINUTE_MS)
    assert after == {
        "symbol": "ETHUSDT",
        "high24h": "3700",
        "open": "3620",
        "low24h": "3580",
        "lastPr": "3700",
        "quoteVolume": "5136",  # 362 + 1074 + 3700
        "baseVolume": "1.4",
        "usdtVolume": "5136",
        "bidPr": "",
        "askPr": "",
        "bidSz": "",
        "askSz": "",
        "openUtc": "3700",
        "ts": str(T0 + DAY_MS + 2 * MINUTE_MS),
        "changeUtc24h": "0",
        "change24h": "0.0221",  # 80 / 3620 = 0.0220994… → 0.02210
    }
    quiet = md.ticker("ETHUSDT", T0 + 3 * DAY_MS)
    assert [quiet[k] for k in ("open", "high24h", "low24h", "lastPr", "openUtc")] == ["3700"] * 5
    assert [quiet[k] for k in ("baseVolume", "quoteVolume", "usdtVolume")] == ["0"] * 3
    assert (quiet["change24h"], quiet["changeUtc24h"]) == ("0", "0")


def test_ticker_without_trades_uses_the_reference_price() -> None:
    md = _eth()
    btc = md.ticker("BTCUSDT", T0)
    assert set(btc) == TICKER_FIELDS
    for key in ("open", "high24h", "low24h", "lastPr", "openUtc"):
        assert btc[key] == "104000"  # the catalog's reference price
    for key in ("baseVolume", "quoteVolume", "usdtVolume", "change24h", "changeUtc24h"):
        assert btc[key] == "0"
    given = md.ticker("BTCUSDT", T0, best_ask=(104001, 5), ref_ticks=99_000)
    assert (given["lastPr"], given["open"], given["askPr"], given["askSz"]) == (
        "99000",
        "99000",
        "104001",
        "0.0000005",
    )
    with pytest.raises(UnknownSymbol):
        md.ticker("NOPEUSDT", T0)


def test_change_rounding_half_away_from_zero() -> None:
    md = MarketData(CATALOG.symbol)
    # SOLUSDT: 0.01 ticks. open 200.00, last 200.01 → 0.00005 exactly → "0.00005"
    md.record_trade("SOLUSDT", 1, 20000, 1, "buy", T0)
    md.record_trade("SOLUSDT", 2, 20001, 1, "buy", T0 + 1)
    assert md.ticker("SOLUSDT", T0 + 2)["change24h"] == "0.00005"
    # DOGEUSDT (10^-5 ticks): open 160, last 160.01 → 0.0000625 → 0.00006; 159.99 → -0.00006
    md.record_trade("DOGEUSDT", 1, 16_000_000, 1, "buy", T0)
    md.record_trade("DOGEUSDT", 2, 16_001_000, 1, "sell", T0 + 1)
    assert md.ticker("DOGEUSDT", T0 + 2)["change24h"] == "0.00006"
    md.record_trade("DOGEUSDT", 3, 15_999_000, 1, "sell", T0 + 2)
    assert md.ticker("DOGEUSDT", T0 + 3)["change24h"] == "-0.00006"
    # exactly half a unit of the 5th place rounds away from zero: 1/40000 = 0.000025
    md.record_trade("XRPUSDT", 1, 40_000, 1, "buy", T0)
    md.record_trade("XRPUSDT", 2, 40_001, 1, "buy", T0 + 1)
    assert md.ticker("XRPUSDT", T0 + 2)["change24h"] == "0.00003"
    md.record_trade("XRPUSDT", 3, 39_999, 1, "sell", T0 + 2)
    assert md.ticker("XRPUSDT", T0 + 3)["change24h"] == "-0.00003"
    md.record_trade("BGBUSDT", 1, 40_000, 1, "buy", T0)
    md.record_trade("BGBUSDT", 2, 40_002, 1, "buy", T0 + 1)  # 2/40000 = 0.00005
    assert md.ticker("BGBUSDT", T0 + 2)["change24h"] == "0.00005"
    md.record_trade("USDCUSDT", 1, 10_000, 1, "buy", T0)
    md.record_trade("USDCUSDT", 2, 10_001, 1, "buy", T0 + 1)  # 1/10000 = 0.0001
    assert md.ticker("USDCUSDT", T0 + 2)["change24h"] == "0.0001"


# --- USDT volume of non-USDT pairs -------------------------------------------------------


def test_usdt_volume_of_a_btc_pair_uses_the_btc_price_at_trade_time() -> None:
    md = MarketData(CATALOG.symbol)
    # ETHBTC: 10^-6 BTC ticks, 10^-5 ETH lots. BTCUSDT has not traded: reference 104000.
    md.record_trade("ETHBTC", 1, 34615, 200_000, "buy", T0)  # 0.034615 × 2 = 0.06923 BTC
    md.record_trade("BTCUSDT", 2, 100_000, 1, "sell", T0 + 1)  # BTC now 100000
    md.record_trade("ETHBTC", 3, 35000, 100_000, "sell", T0 + 2)  # 0.035 × 1 = 0.035 BTC
    ticker = md.ticker("ETHBTC", T0 + 3)
    assert ticker["quoteVolume"] == "0.10423"
    assert ticker["usdtVolume"] == "10699.92"  # 0.06923 × 104000 + 0.035 × 100000
    assert ticker["lastPr"] == "0.035"
    row = md.candles("ETHBTC", "1Dutc")[0]
    assert row == [str(T0), "0.034615", "0.035", "0.034615", "0.035", "3", "10699.92", "0.10423"]


def test_usdt_volume_rounds_down_to_an_atom() -> None:
    eth_btc = replace(CATALOG.symbol("ETHBTC"), price_places=10, size_places=8)
    btc_usdt = replace(CATALOG.symbol("BTCUSDT"), price_places=2, ref_ticks=333)  # 3.33
    table = {s.symbol: s for s in (eth_btc, btc_usdt)}

    def symbol_of(name: str) -> Symbol:
        if name not in table:
            raise UnknownSymbol(name)
        return table[name]

    md = MarketData(symbol_of)
    # 0.0000000001 BTC × 0.00000001 = 10^-18 BTC; × 3.33 USDT = 3.33e-18 → 3 atoms
    md.record_trade("ETHBTC", 1, 1, 1, "buy", T0)
    md.record_trade("ETHBTC", 2, 1, 1, "buy", T0 + 1)
    ticker = md.ticker("ETHBTC", T0 + 2)
    assert ticker["quoteVolume"] == "0.000000000000000002"
    assert ticker["usdtVolume"] == "0.000000000000000006"


def test_usdt_volume_without_a_usdt_pair_is_zero() -> None:
    eth_btc = CATALOG.symbol("ETHBTC")

    def symbol_of(name: str) -> Symbol:
        if name != "ETHBTC":
            raise UnknownSymbol(name)
        return eth_btc

    md = MarketData(symbol_of)
    md.record_trade("ETHBTC", 1, 34615, 100_000, "buy", T0)
    ticker = md.ticker("ETHBTC", T0)
    assert (ticker["quoteVolume"], ticker["usdtVolume"]) == ("0.034615", "0")


# --- recent trades -----------------------------------------------------------------------


def test_recent_trades_newest_first() -> None:
    md = _eth()
    rows = md.recent_trades("ETHUSDT", 3)
    assert rows == [
        {
            "symbol": "ETHUSDT",
            "tradeId": "6",
            "side": "Buy",
            "price": "3700",
            "size": "1",
            "ts": str(T0 + DAY_MS + MINUTE_MS),
        },
        {
            "symbol": "ETHUSDT",
            "tradeId": "5",
            "side": "Buy",
            "price": "3580",
            "size": "0.3",
            "ts": str(T0 + HOUR_MS + 5_000),
        },
        {
            "symbol": "ETHUSDT",
            "tradeId": "4",
            "side": "Buy",
            "price": "3620",
            "size": "0.1",
            "ts": str(T0 + 59 * MINUTE_MS + 30_000),
        },
    ]
    assert [r["tradeId"] for r in md.recent_trades("ETHUSDT")] == ["6", "5", "4", "3", "2", "1"]
    assert [r["side"] for r in md.recent_trades("ETHUSDT")][-3:] == ["Sell", "Sell", "Buy"]
    assert md.recent_trades("ETHUSDT", 1, start_ms=T0 + 50_000, end_ms=T0 + 70_000) == [
        {
            "symbol": "ETHUSDT",
            "tradeId": "3",
            "side": "Sell",
            "price": "3590",
            "size": "0.2",
            "ts": str(T0 + 70_000),
        }
    ]
    ids = [r["tradeId"] for r in md.recent_trades("ETHUSDT", start_ms=T0 + 50_000)]
    assert ids == ["6", "5", "4", "3", "2"]
    assert [r["tradeId"] for r in md.recent_trades("ETHUSDT", end_ms=T0 + 50_000)] == ["2", "1"]
    assert [r["tradeId"] for r in md.recent_trades("ETHUSDT", 2, id_less_than=5)] == ["4", "3"]
    assert md.recent_trades("BTCUSDT") == []
    with pytest.raises(ParamInvalid):
        md.recent_trades("ETHUSDT", 0)
    with pytest.raises(UnknownSymbol):
        md.recent_trades("NOPEUSDT")


def test_recent_trades_are_bounded_and_ordered() -> None:
    md = MarketData(CATALOG.symbol, max_recent_trades=3)
    for trade_id in (1, 2, 3, 5, 4):  # 4 arrives late, with an older timestamp
        md.record_trade("ETHUSDT", trade_id, 36000 + trade_id, 1, "buy", T0 + trade_id)
    assert [r["tradeId"] for r in md.recent_trades("ETHUSDT", 10)] == ["5", "4", "3"]
    md.record_trade("ETHUSDT", 0, 36000, 1, "sell", T0)  # older than all kept: not kept
    assert [r["tradeId"] for r in md.recent_trades("ETHUSDT", 10)] == ["5", "4", "3"]
    assert md.last_price("ETHUSDT") == 36005
    assert md.last_price("BTCUSDT") is None


# --- memory bound, replay, input checks -------------------------------------------------------


def test_old_minute_buckets_are_dropped() -> None:
    md = MarketData(CATALOG.symbol)  # 720 hours = 30 days = 43,200 minutes
    minutes = 31 * 24 * 60
    for i in range(minutes):
        md.record_trade("SOLUSDT", i, 17000 + i % 7, 1, "buy", T0 + i * MINUTE_MS)
    series = md._markets["SOLUSDT"].series
    assert len(series.minutes.starts) == len(series.minutes.by_start) == 43_200
    assert len(series.hours.starts) == len(series.hours.by_start) == 720
    first_kept = T0 + (minutes - 43_200) * MINUTE_MS  # 1,440 minutes (a day) were dropped
    assert 17000 + 1440 % 7 == 17005
    assert md.candles("SOLUSDT", "1min", 0, first_kept + MINUTE_MS, 1000) == [
        [str(first_kept), "170.05", "170.05", "170.05", "170.05", "0.0001", "0.017005", "0.017005"]
    ]
    # 1Dutc now starts at the first kept day; a trade older than the window makes no bucket
    assert md.candles("SOLUSDT", "1Dutc", limit=1000)[0][0] == str(first_kept)
    md.record_trade("SOLUSDT", 10**6, 1, 1, "buy", T0)
    assert md.candles("SOLUSDT", "1Dutc", limit=1000)[0][0] == str(first_kept)
    assert md.recent_trades("SOLUSDT", 1)[0]["tradeId"] == str(minutes - 1)


def test_prune_by_now() -> None:
    md = _eth(MarketData(CATALOG.symbol, retain_hours=25))
    assert len(md.candles("ETHUSDT", "1Dutc")) == 2
    md.prune(T0 + 2 * DAY_MS)  # keeps hours from T0 + 24 h
    assert md.candles("ETHUSDT", "1Dutc") == [
        _row(T0 + DAY_MS, "3700", "3700", "3700", "3700", "1", "3700")
    ]
    assert md.last_price("ETHUSDT") == 37000  # the last price stays
    with pytest.raises(ValueError, match="retain_hours"):
        MarketData(CATALOG.symbol, retain_hours=24)


def test_replay_rebuilds_the_same_state() -> None:
    live = _eth()
    live.record_trade("ETHBTC", 7, 34615, 100_000, "buy", T0 + 5)
    fills = [
        Fill(tid, "ETHUSDT", 0, 0, 0, 0, Side(side), ticks, lots, ts)
        for tid, ts, ticks, lots, side in ETH_TRADES
    ]
    fills.insert(1, Fill(7, "ETHBTC", 0, 0, 0, 0, Side.BUY, 34615, 100_000, T0 + 5))
    restarted = MarketData(CATALOG.symbol)
    restarted.record_trade("SOLUSDT", 99, 17000, 1, "buy", T0)  # forgotten by replay
    assert restarted.replay(fills) == 7
    now = T0 + DAY_MS + 2 * MINUTE_MS
    for symbol in ("ETHUSDT", "ETHBTC", "SOLUSDT"):
        assert restarted.ticker(symbol, now) == live.ticker(symbol, now)
        assert restarted.recent_trades(symbol) == live.recent_trades(symbol)
        for name in GRANULARITIES:
            assert restarted.candles(symbol, name, limit=1000, now_ms=now) == live.candles(
                symbol, name, limit=1000, now_ms=now
            )


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("ETHUSDT", 1, 36000, 1, "hold", T0), ValueError),
        (("ETHUSDT", 1, 0, 1, "buy", T0), ValueError),
        (("ETHUSDT", 1, 36000, 0, "buy", T0), ValueError),
        (("ETHUSDT", -1, 36000, 1, "buy", T0), ValueError),
        (("ETHUSDT", 1, 36000, 1, "buy", -5), ValueError),
        (("ETHUSDT", 1, 36000, 1, "buy", 10**15), ValueError),
        (("ETHUSDT", 1, "36000", 1, "buy", T0), ValueError),
        (("ETHUSDT", 1, 36000, True, "buy", T0), ValueError),
        (("NOPEUSDT", 1, 36000, 1, "buy", T0), UnknownSymbol),
    ],
)
def test_record_trade_refuses_bad_input(args: tuple[object, ...], error: type[Exception]) -> None:
    md = MarketData(CATALOG.symbol)
    with pytest.raises(error):
        md.record_trade(*args)  # type: ignore[arg-type]
    assert md.recent_trades("ETHUSDT") == []
    assert md.candles("ETHUSDT", "1min") == []


def test_granularity_table_covers_what_ccxt_and_bitget_send() -> None:
    bitget_spot = "1min 3min 5min 15min 30min 1h 4h 6h 12h 1day 3day 1week 1M"
    utc = "6Hutc 12Hutc 1Dutc 3Dutc 1Wutc 1Mutc"
    assert set(GRANULARITIES) == {*bitget_spot.split(), *utc.split(), "2h"}
    assert all(isinstance(g, Granularity) for g in GRANULARITIES.values())
