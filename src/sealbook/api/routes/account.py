"""Account endpoints any live key may call (read permission)."""

from __future__ import annotations

from typing import Any

from sealbook.api.endpoints import BitgetRequest, Endpoints
from sealbook.errors import UnifiedAccountOnly
from sealbook.keys.permissions import Permission, bitget_authorities

__all__ = ["endpoints"]

endpoints = Endpoints(access=Permission.READ, tag="account")


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
    """Balances per coin (empty until the ledger exists)."""
    return []


@endpoints.get("/api/v3/account/settings")
async def unified_settings(req: BitgetRequest) -> Any:
    """Unified-account settings: refused, Sealbook emulates a classic (v2) account."""
    # ccxt probes this endpoint; its failure keeps ccxt on the v2 API.
    raise UnifiedAccountOnly()
