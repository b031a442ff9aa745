"""Public spot market data: tickers, order book, candles and recent trades.

Prices, volumes and candles come from durable trades only (:class:`MarketData` records a
trade once its commit is done); book levels come from the matching engine after a
barrier, so they show only committed orders.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sealbook.api.endpoints import BitgetRequest, Endpoints
from sealbook.api.render import id_param, int_param, ms_param, order_book, time_window
from sealbook.api.routing import PUBLIC
from sealbook.errors import ParamEmpty, ParamInvalid
from sealbook.markets import Symbol

if TYPE_CHECKING:
    from sealbook.api.app import Runtime

__all__ = ["endpoints"]

endpoints = Endpoints(access=PUBLIC, tag="spot market")

BOOK_LIMIT_MAX = 150
BOOK_TYPES = ("step0",)  # merged depth (step1-step5) is not offered
CANDLE_LIMIT_DEFAULT = 100
CANDLE_LIMIT_MAX = 1000
HISTORY_CANDLE_LIMIT_MAX = 200
TRADES_LIMIT_DEFAULT = 500
TRADES_LIMIT_MAX = 1000
RECENT_FILLS_LIMIT_DEFAULT = 100
RECENT_FILLS_LIMIT_MAX = 500


def _runtime(req: BitgetRequest) -> Runtime:
    runtime: Runtime = req.runtime
    return runtime


def _symbol(req: BitgetRequest) -> Symbol:
    text = req.require("symbol")
    return _runtime(req).catalog.symbol(text)


def _ticker(runtime: Runtime, sym: Symbol, now_ms: int) -> Any:
    bids, asks = runtime.exchange.core.engine.depth(sym.symbol, 1)
    return runtime.exchange.market.ticker(
        sym.symbol, now_ms, bids[0] if bids else None, asks[0] if asks else None
    )


@endpoints.get("/api/v2/spot/market/tickers", params=("symbol",))
async def tickers(req: BitgetRequest) -> Any:
    """24-hour tickers with the best bid and ask; one symbol or all."""
    runtime = _runtime(req)
    text = req.param("symbol")
    chosen = [runtime.catalog.symbol(text)] if text else list(runtime.catalog.symbols)
    await runtime.exchange.barrier()
    return [_ticker(runtime, sym, req.now_ms) for sym in chosen]


@endpoints.get("/api/v2/spot/market/orderbook", params=("symbol", "type", "limit"))
async def orderbook(req: BitgetRequest) -> Any:
    """Order book levels, best first: asks ascending, bids descending (at most 150)."""
    sym = _symbol(req)
    kind = req.param("type", default="step0")
    if kind not in BOOK_TYPES:
        raise ParamInvalid("type", "only step0 (no merging) is offered")
    limit = int_param(req.param("limit"), "limit", default=BOOK_LIMIT_MAX, maximum=BOOK_LIMIT_MAX)
    runtime = _runtime(req)
    await runtime.exchange.barrier()
    bids, asks = runtime.exchange.core.engine.depth(sym.symbol, limit)
    return order_book(sym, bids, asks, req.now_ms)


def _candles(req: BitgetRequest, *, maximum: int, need_end: bool) -> Any:
    sym = _symbol(req)
    granularity = req.require("granularity")
    start = ms_param(req.param("startTime"), "startTime")
    end = ms_param(req.param("endTime"), "endTime")
    if need_end and end is None:
        raise ParamEmpty("endTime")
    time_window(start, end)
    limit = int_param(req.param("limit"), "limit", default=CANDLE_LIMIT_DEFAULT, maximum=maximum)
    market = _runtime(req).exchange.market
    return market.candles(sym.symbol, granularity, start, end, limit, now_ms=req.now_ms)


@endpoints.get(
    "/api/v2/spot/market/candles", params=("symbol", "granularity", "startTime", "endTime", "limit")
)
async def candles(req: BitgetRequest) -> Any:
    """Candles ``[ts, open, high, low, close, baseVol, usdtVol, quoteVol]``, oldest first."""
    return _candles(req, maximum=CANDLE_LIMIT_MAX, need_end=False)


@endpoints.get(
    "/api/v2/spot/market/history-candles",
    params=("symbol", "granularity", "endTime", "limit"),
)
async def history_candles(req: BitgetRequest) -> Any:
    """Candles before ``endTime`` (at most 200 a call), oldest first."""
    return _candles(req, maximum=HISTORY_CANDLE_LIMIT_MAX, need_end=True)


@endpoints.get(
    "/api/v2/spot/market/fills-history",
    params=("symbol", "limit", "idLessThan", "startTime", "endTime"),
)
async def fills_history(req: BitgetRequest) -> Any:
    """Public trades, newest first; ``side`` is the taker's."""
    sym = _symbol(req)
    start = ms_param(req.param("startTime"), "startTime")
    end = ms_param(req.param("endTime"), "endTime")
    time_window(start, end)
    before = id_param(req.param("idLessThan"), "idLessThan")
    limit = int_param(
        req.param("limit"), "limit", default=TRADES_LIMIT_DEFAULT, maximum=TRADES_LIMIT_MAX
    )
    return _runtime(req).exchange.market.recent_trades(
        sym.symbol, limit, start_ms=start, end_ms=end, id_less_than=before
    )


@endpoints.get("/api/v2/spot/market/fills", params=("symbol", "limit"))
async def recent_fills(req: BitgetRequest) -> Any:
    """The most recent public trades, newest first (at most 500)."""
    sym = _symbol(req)
    limit = int_param(
        req.param("limit"),
        "limit",
        default=RECENT_FILLS_LIMIT_DEFAULT,
        maximum=RECENT_FILLS_LIMIT_MAX,
    )
    return _runtime(req).exchange.market.recent_trades(sym.symbol, limit)
