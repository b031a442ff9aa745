"""Account endpoints any live key may call (read permission)."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from sealbook.api.deps import CurrentKey, now_ms
from sealbook.api.envelope import ok_response
from sealbook.api.routing import BitgetRouter
from sealbook.errors import UnifiedAccountOnly
from sealbook.keys.permissions import Permission, bitget_authorities

__all__ = ["router"]

router = BitgetRouter(access=Permission.READ, tags=["account"])


@router.get("/api/v2/spot/account/info")
def account_info(request: Request, key: CurrentKey) -> Response:
    runtime = request.app.state.runtime
    live = runtime.directory.get(key.api_key)
    ips = ",".join(live.record.ips) if live is not None else ""
    data = {
        "userId": str(key.user_id),
        "inviterId": "",
        "ips": ips,
        "authorities": bitget_authorities(key.permissions),
        "parentId": "",
        "traderType": "",
        "channelCode": "",
        "channel": "",
        "regisTime": "",
    }
    return ok_response(data, now_ms(request))


@router.get("/api/v2/spot/account/assets")
def assets(request: Request, key: CurrentKey) -> Response:
    # Balances arrive with the ledger; until then every account is empty.
    return ok_response([], now_ms(request))


@router.get("/api/v3/account/settings")
def unified_settings(key: CurrentKey) -> Response:
    # Sealbook emulates a classic (v2) account; ccxt's probe must fail so it stays on v2.
    raise UnifiedAccountOnly()
