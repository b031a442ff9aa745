"""Public endpoints: no key needed, limited per IP."""

from __future__ import annotations

from typing import Any

from sealbook.api.endpoints import BitgetRequest, Endpoints
from sealbook.api.routing import PUBLIC

__all__ = ["endpoints"]

endpoints = Endpoints(access=PUBLIC, tag="public")


@endpoints.get("/api/v2/public/time")
async def server_time(req: BitgetRequest) -> Any:
    """Server time in milliseconds."""
    return {"serverTime": str(req.now_ms)}


# The exchange catalog (coins, symbols) arrives with the spot exchange; until then these
# answer empty lists so ccxt's default load_markets succeeds (BITGET_WIRE.md §0.4).
@endpoints.get("/api/v2/spot/public/coins", params=("coin",))
async def coins(req: BitgetRequest) -> Any:
    """Coins with their chains."""
    return []


@endpoints.get("/api/v2/spot/public/symbols", params=("symbol",))
async def symbols(req: BitgetRequest) -> Any:
    """Spot symbols with precisions and limits."""
    return []


@endpoints.get("/api/v2/margin/currencies")
async def margin_currencies(req: BitgetRequest) -> Any:
    """Margin currencies (none: Sealbook has no margin trading)."""
    return []


@endpoints.get("/api/v2/mix/market/contracts", params=("productType",))
async def contracts(req: BitgetRequest) -> Any:
    """Futures contracts (none until futures exist)."""
    return []
