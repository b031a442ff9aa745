"""Markets: the coin and symbol catalog, its Bitget wire form, and the fee schedule.

Pure and in memory: no I/O, no clock. ``default_catalog()`` is the exchange's catalog;
``coins_payload``/``symbols_payload``/``trade_rate_payload`` render it exactly as Bitget's
``spot/public/coins``, ``spot/public/symbols`` and ``common/trade-rate`` send it.
:class:`MarketData` builds tickers, candles and recent trades from trades
(:mod:`sealbook.markets.marketdata`, :mod:`sealbook.markets.candles`).
"""

from __future__ import annotations

from sealbook.markets.candles import GRANULARITIES, Granularity, parse_granularity
from sealbook.markets.catalog import (
    MAX_PRICE_PLACES,
    QUOTE_COINS,
    Catalog,
    Chain,
    Coin,
    Symbol,
    default_catalog,
)
from sealbook.markets.fees import (
    BGB_DISCOUNT_PPM,
    PPM,
    FeeRate,
    FeeSchedule,
    bgb_fee_atoms,
    fee_atoms,
    trade_rate_payload,
)
from sealbook.markets.marketdata import MarketData, TickerRow, TradeLike, TradeRow
from sealbook.markets.wire import coins_payload, symbols_payload

__all__ = [
    "BGB_DISCOUNT_PPM",
    "GRANULARITIES",
    "MAX_PRICE_PLACES",
    "PPM",
    "QUOTE_COINS",
    "Catalog",
    "Chain",
    "Coin",
    "FeeRate",
    "FeeSchedule",
    "Granularity",
    "MarketData",
    "Symbol",
    "TickerRow",
    "TradeLike",
    "TradeRow",
    "bgb_fee_atoms",
    "coins_payload",
    "default_catalog",
    "fee_atoms",
    "parse_granularity",
    "symbols_payload",
    "trade_rate_payload",
]
