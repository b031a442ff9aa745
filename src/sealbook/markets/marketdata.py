"""Public market data built only from trades: tickers, candles and recent trades.

Pure and in memory (no I/O, no clock reads: the caller passes ``now_ms``). One
:class:`MarketData` per exchange; the trading service calls :meth:`MarketData.record_trade`
for every fill once it is durable, and at start-up :meth:`MarketData.replay` rebuilds
everything from the persisted fills of the last 30 days. The rows it returns are the
``data`` of Bitget's public spot endpoints, every number a decimal string rendered from
exact integers with the symbol's precisions:

* :meth:`~MarketData.ticker` → one row of ``GET /api/v2/spot/market/tickers``;
* :meth:`~MarketData.candles` → ``GET /api/v2/spot/market/candles`` (and
  ``history-candles``): 8-column rows ``[ts, open, high, low, close, baseVolume,
  usdtVolume, quoteVolume]``, in the order Bitget documents them (index 6 is the USDT
  volume, index 7 the quote volume; they are equal for USDT pairs; ccxt reads index 5);
* :meth:`~MarketData.recent_trades` → ``GET /api/v2/spot/market/fills-history``.

Choices, where Bitget leaves room:

* **Ticker window**: the 1,440 one-minute buckets up to and including the one holding
  ``now_ms`` (so the last 23 h 59 m to 24 h). ``open`` is the first trade in that window,
  ``openUtc`` the first trade since 00:00 UTC; without such a trade both are the last
  price. ``lastPr`` is the last trade in the window (else the last trade ever); ``ts`` is
  ``now_ms``. ``change24h = lastPr / open − 1`` and ``changeUtc24h = lastPr / openUtc − 1``,
  exact integer ratios rounded half away from zero to 5 places, trailing zeros trimmed
  (``"0.00321"``, ``"-0.0221"``, ``"0"``). A symbol that never traded shows its reference
  price (or ``ref_ticks``) for every price and ``"0"`` volumes. An empty book side gives
  ``""`` for its price and size (ccxt reads ``""`` as None).
* **USDT volume**: a trade's quote amount valued at the last price of ``<quote>USDT``
  at the time it is recorded (that pair's reference price until it trades), rounded down
  to a USDT atom (10^-18) per trade; for USDT pairs it is the quote volume exactly.
  Replaying trades in commit order therefore reproduces it.
* **Candles**: see :mod:`sealbook.markets.candles` for granularities and boundaries. A
  period without trades is served flat at the close before it with zero volumes (as
  Bitget does), from the period of the oldest kept trade up to the one holding ``now_ms``
  (or the newest trade when ``now_ms`` is not given). ``startTime`` keeps periods
  starting at or after it, ``endTime`` periods starting before it; of those, the newest
  ``limit`` (default 100; above 1000 counts as 1000) are returned, oldest first.
* **Recent trades**: newest first by ``(ts, tradeId)``; ``side`` is the taker's, as
  ``"Buy"``/``"Sell"`` (Bitget's current spelling; ccxt lowercases it). Each symbol keeps
  its newest ``max_recent_trades`` (1000, the endpoint's maximum ``limit``).
* **Memory**: per symbol at most 30 days of minute buckets (43,200) and hour buckets
  (720) — see ``retain_hours`` — plus ``max_recent_trades`` trades; the last price is
  always kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol, TypedDict

from sealbook.errors import ParamInvalid, UnknownSymbol
from sealbook.markets.candles import (
    DAY_MS,
    MINUTE_MS,
    Bucket,
    CandleSeries,
    parse_granularity,
)
from sealbook.markets.catalog import Symbol
from sealbook.money import ATOM_PLACES, scaled_to_str

__all__ = [
    "CANDLE_LIMIT_DEFAULT",
    "CANDLE_LIMIT_MAX",
    "CHANGE_PLACES",
    "TRADES_LIMIT_DEFAULT",
    "MarketData",
    "TickerRow",
    "TradeLike",
    "TradeRow",
]

CANDLE_LIMIT_DEFAULT = 100
CANDLE_LIMIT_MAX = 1000
TRADES_LIMIT_DEFAULT = 500
CHANGE_PLACES = 5
_WINDOW_MINUTES = 1440
_MAX_TS_MS = 10**14  # year 5138: far enough, and inside what datetime.date handles
_SIDES = {"buy": "Buy", "sell": "Sell"}


class TickerRow(TypedDict):
    """One row of ``GET /api/v2/spot/market/tickers``."""

    symbol: str
    high24h: str
    open: str
    low24h: str
    lastPr: str
    quoteVolume: str
    baseVolume: str
    usdtVolume: str
    bidPr: str
    askPr: str
    bidSz: str
    askSz: str
    openUtc: str
    ts: str
    changeUtc24h: str
    change24h: str


class TradeRow(TypedDict):
    """One row of ``GET /api/v2/spot/market/fills-history``."""

    symbol: str
    tradeId: str
    side: str
    price: str
    size: str
    ts: str


class TradeLike(Protocol):
    """What :meth:`MarketData.replay` reads from a persisted fill (``engine.Fill`` fits)."""

    @property
    def symbol(self) -> str: ...
    @property
    def trade_id(self) -> int: ...
    @property
    def price_ticks(self) -> int: ...
    @property
    def lots(self) -> int: ...
    @property
    def taker_side(self) -> str: ...
    @property
    def ts_ms(self) -> int: ...


class _Trade:
    __slots__ = ("key", "lots", "side", "ticks")

    def __init__(self, ts_ms: int, trade_id: int, ticks: int, lots: int, side: str) -> None:
        self.key = (ts_ms, trade_id)
        self.ticks = ticks
        self.lots = lots
        self.side = side


class _Market:
    """Everything kept for one symbol."""

    __slots__ = ("last", "series", "symbol", "trades")

    def __init__(self, symbol: Symbol, retain_hours: int) -> None:
        self.symbol = symbol
        self.series = CandleSeries(retain_hours)
        self.trades: list[_Trade] = []  # ascending by key, at most max_recent_trades
        self.last: _Trade | None = None  # the trade with the largest (ts, trade_id)


def _pow10(e: int) -> int:
    """10^e for e ≥ 0, typed as int."""
    value: int = 10**e
    return value


def _ratio(num: int, den: int) -> str:
    """``num / den`` rounded half away from zero to CHANGE_PLACES places."""
    if den <= 0:
        return "0"
    whole, rest = divmod(abs(num) * 10**CHANGE_PLACES, den)
    if 2 * rest >= den:
        whole += 1
    return scaled_to_str(whole if num >= 0 else -whole, CHANGE_PLACES)


def _clamp(ts_ms: int) -> int:
    return min(max(ts_ms, 0), _MAX_TS_MS)


def _clamp_opt(ts_ms: int | None) -> int | None:
    return None if ts_ms is None else _clamp(ts_ms)


def _check_int(value: object, name: str, minimum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an int ≥ {minimum}, got {value!r}")
    return value


class MarketData:
    """Tickers, candles and recent trades of every symbol, built from trades.

    ``symbol_of`` maps a symbol id to its :class:`Symbol` and raises
    :class:`~sealbook.errors.UnknownSymbol` for anything else (``Catalog.symbol`` does).
    """

    __slots__ = ("_markets", "_max_trades", "_retain_hours", "_symbol_of", "_usdt_pairs")

    def __init__(
        self,
        symbol_of: Callable[[str], Symbol],
        *,
        retain_hours: int = 720,
        max_recent_trades: int = 1000,
    ) -> None:
        if retain_hours < 25:
            raise ValueError("retain_hours must be at least 25")
        if max_recent_trades < 1:
            raise ValueError("max_recent_trades must be at least 1")
        self._symbol_of = symbol_of
        self._retain_hours = retain_hours
        self._max_trades = max_recent_trades
        self._markets: dict[str, _Market] = {}
        self._usdt_pairs: dict[str, Symbol | None] = {}

    # --- input -------------------------------------------------------------------------

    def record_trade(
        self,
        symbol: str,
        trade_id: int,
        price_ticks: int,
        lots: int,
        taker_side: str,
        ts_ms: int,
    ) -> None:
        """Count one durable fill. ``taker_side`` is ``"buy"`` or ``"sell"``."""
        _check_int(trade_id, "trade_id", 0)
        _check_int(price_ticks, "price_ticks", 1)
        _check_int(lots, "lots", 1)
        _check_int(ts_ms, "ts_ms", 0)
        if ts_ms > _MAX_TS_MS:
            raise ValueError(f"ts_ms out of range: {ts_ms!r}")
        side = _SIDES.get(str(taker_side).lower())
        if side is None:
            raise ValueError(f"taker_side must be buy or sell, got {taker_side!r}")
        market = self._market(symbol)
        quote = price_ticks * lots
        usdt = self._usdt_atoms(market.symbol, quote)
        market.series.add(ts_ms, trade_id, price_ticks, lots, quote, usdt)
        trade = _Trade(ts_ms, trade_id, price_ticks, lots, side)
        if market.last is None or trade.key > market.last.key:
            market.last = trade
        trades = market.trades
        if not trades or trade.key > trades[-1].key:
            trades.append(trade)
        else:
            at = len(trades)
            while at and trades[at - 1].key > trade.key:
                at -= 1
            trades.insert(at, trade)
        if len(trades) > self._max_trades:
            del trades[: len(trades) - self._max_trades]

    def replay(self, trades: Iterable[TradeLike]) -> int:
        """Forget everything, then record ``trades`` (persisted fills, in commit order).
        Returns how many were recorded."""
        self._markets.clear()
        count = 0
        for t in trades:
            self.record_trade(t.symbol, t.trade_id, t.price_ticks, t.lots, t.taker_side, t.ts_ms)
            count += 1
        return count

    def prune(self, now_ms: int) -> None:
        """Drop candle buckets older than the retention window before ``now_ms`` (each
        symbol also prunes itself when it trades)."""
        now = _clamp(now_ms)
        for market in self._markets.values():
            market.series.prune(now)

    # --- output ------------------------------------------------------------------------

    def last_price(self, symbol: str) -> int | None:
        """The last trade's price in ticks, or None if the symbol never traded."""
        market = self._markets.get(self._symbol_of(symbol).symbol)
        return None if market is None or market.last is None else market.last.ticks

    def recent_trades(
        self,
        symbol: str,
        limit: int = TRADES_LIMIT_DEFAULT,
        *,
        start_ms: int | None = None,
        end_ms: int | None = None,
        id_less_than: int | None = None,
    ) -> list[TradeRow]:
        """Up to ``limit`` trades (capped at ``max_recent_trades``), newest first, with
        ``start_ms ≤ ts ≤ end_ms`` and ``tradeId < id_less_than`` when given."""
        sym = self._symbol_of(symbol)
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ParamInvalid("limit", "must be a positive integer")
        market = self._markets.get(sym.symbol)
        if market is None:
            return []
        rows: list[TradeRow] = []
        for trade in reversed(market.trades):
            ts, trade_id = trade.key
            if end_ms is not None and ts > end_ms:
                continue
            if start_ms is not None and ts < start_ms:
                break
            if id_less_than is not None and trade_id >= id_less_than:
                continue
            rows.append(
                TradeRow(
                    symbol=sym.symbol,
                    tradeId=str(trade_id),
                    side=trade.side,
                    price=sym.price_str(trade.ticks),
                    size=sym.size_str(trade.lots),
                    ts=str(ts),
                )
            )
            if len(rows) >= limit:
                break
        return rows

    def candles(
        self,
        symbol: str,
        granularity: str,
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int = CANDLE_LIMIT_DEFAULT,
        *,
        now_ms: int | None = None,
    ) -> list[list[str]]:
        """Bitget spot candle rows, oldest first (see the module docstring).

        Unknown ``granularity`` → ``ParamInvalid`` (40020); ``limit`` under 1 →
        ``ParamInvalid``; over 1000 → 1000. Pass ``now_ms`` so that the current period
        shows even before its first trade.
        """
        sym = self._symbol_of(symbol)
        g = parse_granularity(granularity)
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ParamInvalid("limit", "must be a positive integer")
        market = self._markets.get(sym.symbol)
        if market is None:
            return []
        rows = market.series.candles(
            g,
            _clamp_opt(start_ms),
            _clamp_opt(end_ms),
            min(limit, CANDLE_LIMIT_MAX),
            _clamp_opt(now_ms),
        )
        return [self._candle_row(sym, start, bucket) for start, bucket in rows]

    def ticker(
        self,
        symbol: str,
        now_ms: int,
        best_bid: tuple[int, int] | None = None,
        best_ask: tuple[int, int] | None = None,
        *,
        ref_ticks: int | None = None,
    ) -> TickerRow:
        """The ``spot/market/tickers`` row at ``now_ms``. ``best_bid``/``best_ask`` are the
        book's top ``(ticks, lots)``; ``ref_ticks`` (default: the symbol's reference
        price) stands in for prices until the symbol first trades."""
        sym = self._symbol_of(symbol)
        now = _clamp(now_ms)
        market = self._markets.get(sym.symbol)
        last = market.last if market is not None else None
        day: Bucket | None = None
        window: Bucket | None = None
        if market is None or last is None:
            last_ticks = sym.ref_ticks if ref_ticks is None else ref_ticks
        else:
            hi = now - now % MINUTE_MS + MINUTE_MS
            window = market.series.window(hi - _WINDOW_MINUTES * MINUTE_MS, hi)
            day = market.series.window(now - now % DAY_MS, hi)
            # the window's close is the last trade up to now's minute (later trades only
            # exist if now_ms is in the past); else the last trade ever
            last_ticks = window.close if window is not None else last.ticks
        open_ticks = window.open if window is not None else last_ticks
        open_utc = day.open if day is not None else last_ticks
        bid_pr, bid_sz = ("", "") if best_bid is None else self._level(sym, best_bid)
        ask_pr, ask_sz = ("", "") if best_ask is None else self._level(sym, best_ask)
        return TickerRow(
            symbol=sym.symbol,
            high24h=sym.price_str(window.high if window is not None else last_ticks),
            open=sym.price_str(open_ticks),
            low24h=sym.price_str(window.low if window is not None else last_ticks),
            lastPr=sym.price_str(last_ticks),
            quoteVolume=scaled_to_str(window.quote if window is not None else 0, sym.quote_places),
            baseVolume=sym.size_str(window.base if window is not None else 0),
            usdtVolume=scaled_to_str(window.usdt if window is not None else 0, ATOM_PLACES),
            bidPr=bid_pr,
            askPr=ask_pr,
            bidSz=bid_sz,
            askSz=ask_sz,
            openUtc=sym.price_str(open_utc),
            ts=str(now),
            changeUtc24h=_ratio(last_ticks - open_utc, open_utc),
            change24h=_ratio(last_ticks - open_ticks, open_ticks),
        )

    # --- helpers -----------------------------------------------------------------------

    def _market(self, symbol: str) -> _Market:
        sym = self._symbol_of(symbol)
        market = self._markets.get(sym.symbol)
        if market is None:
            market = self._markets[sym.symbol] = _Market(sym, self._retain_hours)
        return market

    def _usdt_pair(self, coin: str) -> Symbol | None:
        if coin not in self._usdt_pairs:
            try:
                self._usdt_pairs[coin] = self._symbol_of(coin + "USDT")
            except UnknownSymbol:
                self._usdt_pairs[coin] = None
        return self._usdt_pairs[coin]

    def _usdt_atoms(self, sym: Symbol, quote: int) -> int:
        """``quote`` (ticks × lots of ``sym``) in USDT atoms, rounded down; 0 when the
        quote coin has no USDT pair."""
        places = sym.quote_places
        if sym.quote != "USDT":
            pair = self._usdt_pair(sym.quote)
            if pair is None:
                return 0
            known = self._markets.get(pair.symbol)
            price = known.last.ticks if known is not None and known.last is not None else None
            quote *= pair.ref_ticks if price is None else price
            places += pair.price_places
        if places <= ATOM_PLACES:
            return quote * _pow10(ATOM_PLACES - places)
        return quote // _pow10(places - ATOM_PLACES)

    @staticmethod
    def _level(sym: Symbol, level: tuple[int, int]) -> tuple[str, str]:
        ticks, lots = level
        return sym.price_str(ticks), sym.size_str(lots)

    @staticmethod
    def _candle_row(sym: Symbol, start: int, bucket: Bucket) -> list[str]:
        return [
            str(start),
            sym.price_str(bucket.open),
            sym.price_str(bucket.high),
            sym.price_str(bucket.low),
            sym.price_str(bucket.close),
            sym.size_str(bucket.base),
            scaled_to_str(bucket.usdt, ATOM_PLACES),
            scaled_to_str(bucket.quote, sym.quote_places),
        ]
