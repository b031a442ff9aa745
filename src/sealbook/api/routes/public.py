"""Public endpoints: no key needed, limited per IP."""

from __future__ import annotations

import functools
from typing import Any

from sealbook.api.endpoints import BitgetRequest, Endpoints
from sealbook.api.routing import PUBLIC
from sealbook.markets import Catalog, coins_payload, symbols_payload
from sealbook.markets.wire import CoinRow, SymbolRow

__all__ = ["endpoints"]

endpoints = Endpoints(access=PUBLIC, tag="public")


@endpoints.get("/api/v2/public/time")
async def server_time(req: BitgetRequest) -> Any:
    """Server time in milliseconds."""
    return {"serverTime": str(req.now_ms)}


@endpoints.get("/api/v2/spot/public/coins", params=("coin",))
async def coins(req: BitgetRequest) -> Any:
    """Coins with their chains (withdraw fees, minimums, precisions)."""
    coin = req.param("coin")
    return coins_payload(req.runtime.catalog, coin) if coin else _all_coins(req.runtime.catalog)


@endpoints.get("/api/v2/spot/public/symbols", params=("symbol",))
async def symbols(req: BitgetRequest) -> Any:
    """Spot symbols with precisions, limits and fee rates."""
    symbol = req.param("symbol")
    if symbol:
        return symbols_payload(req.runtime.catalog, symbol)
    return _all_symbols(req.runtime.catalog)


# The catalog never changes while a server runs: render its full lists once.
@functools.lru_cache(maxsize=2)
def _all_coins(catalog: Catalog) -> list[CoinRow]:
    return coins_payload(catalog)


@functools.lru_cache(maxsize=2)
def _all_symbols(catalog: Catalog) -> list[SymbolRow]:
    return symbols_payload(catalog)


@endpoints.get("/api/v2/margin/currencies")
async def margin_currencies(req: BitgetRequest) -> Any:
    """Margin currencies (none: Sealbook has no margin trading)."""
    return []


@endpoints.get("/api/v2/mix/market/contracts", params=("productType",))
async def contracts(req: BitgetRequest) -> Any:
    """Futures contracts (none until futures exist)."""
    return []
