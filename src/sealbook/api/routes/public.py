"""Public endpoints: no key needed, limited per IP."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from sealbook.api.deps import now_ms
from sealbook.api.envelope import ok_response
from sealbook.api.routing import PUBLIC, BitgetRouter

__all__ = ["router"]

router = BitgetRouter(access=PUBLIC, tags=["public"])


@router.get("/api/v2/public/time")
def server_time(request: Request) -> Response:
    now = now_ms(request)
    return ok_response({"serverTime": str(now)}, now)


# The exchange catalog (coins, symbols) arrives with the spot exchange; until then these
# answer empty lists so ccxt's default load_markets succeeds (BITGET_WIRE.md §0.4).
@router.get("/api/v2/spot/public/coins")
def coins(request: Request) -> Response:
    return ok_response([], now_ms(request))


@router.get("/api/v2/spot/public/symbols")
def symbols(request: Request) -> Response:
    return ok_response([], now_ms(request))


@router.get("/api/v2/margin/currencies")
def margin_currencies(request: Request) -> Response:
    return ok_response([], now_ms(request))


@router.get("/api/v2/mix/market/contracts")
def contracts(request: Request, productType: str = "") -> Response:
    return ok_response([], now_ms(request))
