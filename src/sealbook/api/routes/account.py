"""Account endpoints any live key may call (read permission)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sealbook.api.endpoints import BitgetRequest, Endpoints
from sealbook.api.render import asset_row
from sealbook.errors import ParamInvalid, UnifiedAccountOnly
from sealbook.keys.permissions import Permission, bitget_authorities
from sealbook.markets import trade_rate_payload

if TYPE_CHECKING:
    from sealbook.api.app import Runtime

__all__ = ["endpoints"]

endpoints = Endpoints(access=Permission.READ, tag="account")

ASSET_TYPES = ("hold_only", "all")


def _runtime(req: BitgetRequest) -> Runtime:
    runtime: Runtime = req.runtime
    return runtime


@endpoints.get("/api/v2/spot/account/info")
async def account_info(req: BitgetRequest) -> Any:
    """The calling key: user id, authorities (Bitget names) and IP allowlist."""
    key = req.key
    live = req.runtime.directory.get(key.api_key)
    return {
        "userId": str(key.user_id),
        "inviterId": "",
        "ips": ",".join(live.record.ips) if live is not None else "",
        "authorities": bitget_authorities(key.permissions),
        "parentId": "",
        "traderType": "",
        "channelCode": "",
        "channel": "",
        "regisTime": "",
    }


@endpoints.get("/api/v2/spot/account/assets", params=("coin", "assetType"))
async def assets(req: BitgetRequest) -> Any:
    """Balances per coin: ``available`` and ``frozen`` (held by open orders and pending
    withdrawals). By default the coins with a balance; ``assetType=all`` lists every coin;
    ``coin`` (which takes priority, as on Bitget) narrows to one held coin."""
    runtime = _runtime(req)
    coin = req.param("coin")
    asset_type = req.param("assetType", default="hold_only")
    if asset_type not in ASSET_TYPES:
        raise ParamInvalid("assetType", "expected hold_only or all")
    if coin:
        runtime.catalog.coin(coin)  # 40034 for a coin that does not exist
    await runtime.exchange.barrier()
    held = runtime.exchange.core.ledger.balances(req.key.user_id)
    if coin:
        names = [coin]
    elif asset_type == "all":
        names = [c.coin for c in runtime.catalog.coins]
    else:
        names = list(held)
    rows = []
    for name in names:
        available, frozen = held.get(name, (0, 0))
        if available or frozen or (asset_type == "all" and not coin):
            rows.append(asset_row(name, available, frozen, req.now_ms))
    return rows


@endpoints.get("/api/v2/common/trade-rate", params=("symbol", "businessType"))
async def trade_rate(req: BitgetRequest) -> Any:
    """Maker and taker fee rates for a symbol (the same for every spot symbol)."""
    runtime = _runtime(req)
    symbol = req.require("symbol")
    business_type = req.require("businessType")
    runtime.catalog.symbol(symbol)
    return trade_rate_payload(runtime.exchange.core.fees, business_type)


@endpoints.get("/api/v2/spot/account/deduct-info")
async def deduct_info(req: BitgetRequest) -> Any:
    """Whether spot fees are paid in BGB (20 % off) when BGB is available."""
    runtime = _runtime(req)
    await runtime.exchange.barrier()
    on = req.key.user_id in runtime.exchange.core.bgb_deduct
    return {"deduct": "on" if on else "off"}


@endpoints.get("/api/v3/account/settings")
async def unified_settings(req: BitgetRequest) -> Any:
    """Unified-account settings: refused, Sealbook emulates a classic (v2) account."""
    # ccxt probes this endpoint; its failure keeps ccxt on the v2 API.
    raise UnifiedAccountOnly()
