"""The wallet: deposit and withdrawal records and deposit addresses (read), withdrawals
(withdraw).

A key may withdraw only to an address its user booked with a TOTP code (the address
book); the chain's fee is charged on top of the amount, which must reach the chain's
minimum. The withdrawal is acknowledged once recorded (``pending``) and sent after the
server's withdrawal delay (``success``). Records are read from committed rows, newest
first; as on Bitget, ``startTime`` and ``endTime`` are required and at most 90 days apart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio

from sealbook.api.endpoints import BitgetRequest, Endpoints
from sealbook.api.render import (
    client_oid_param,
    deposit_address_row,
    deposit_row,
    page_param,
    withdrawal_row,
)
from sealbook.errors import ParamEmpty, ParamInvalid
from sealbook.exchange.addresses import AddressService
from sealbook.exchange.core import ExchangeCore
from sealbook.keys.permissions import Permission
from sealbook.store.history import deposit_records as deposit_records_of
from sealbook.store.history import withdrawal_records as withdrawal_records_of

if TYPE_CHECKING:
    from sealbook.api.app import Runtime

__all__ = ["endpoints", "reads"]

endpoints = Endpoints(access=Permission.WITHDRAW, tag="wallet")
reads = Endpoints(access=Permission.READ, tag="wallet")

RECORDS_MAX_DAYS = 90
DEPOSITS_LIMIT_DEFAULT = 20
WITHDRAWALS_LIMIT_DEFAULT = 20
RECORDS_LIMIT_MAX = 100
TRANSFER_TYPES = ("on_chain",)  # internal transfers between users are not offered


def _runtime(req: BitgetRequest) -> Runtime:
    runtime: Runtime = req.runtime
    return runtime


def _coin_or_none(req: BitgetRequest) -> str | None:
    text = req.param("coin")
    return _runtime(req).catalog.coin(text).coin if text else None


# --- records -------------------------------------------------------------------------------


@reads.get(
    "/api/v2/spot/wallet/deposit-records",
    params=("coin", "orderId", "startTime", "endTime", "idLessThan", "limit"),
)
async def deposit_records(req: BitgetRequest) -> Any:
    """Deposits between ``startTime`` and ``endTime`` (at most 90 days), newest first."""
    runtime = _runtime(req)
    page = page_param(
        req,
        _coin_or_none(req),
        default=DEPOSITS_LIMIT_DEFAULT,
        maximum=RECORDS_LIMIT_MAX,
        window_days=RECORDS_MAX_DAYS,
    )
    found = await anyio.to_thread.run_sync(deposit_records_of, runtime.ctx.engine, page)
    return [deposit_row(d) for d in found]


@reads.get(
    "/api/v2/spot/wallet/withdrawal-records",
    params=("coin", "orderId", "clientOid", "startTime", "endTime", "idLessThan", "limit"),
)
async def withdrawal_records(req: BitgetRequest) -> Any:
    """Withdrawals between ``startTime`` and ``endTime`` (at most 90 days), newest first;
    ``size`` includes the fee, ``fee`` is negative."""
    runtime = _runtime(req)
    page = page_param(
        req,
        _coin_or_none(req),
        default=WITHDRAWALS_LIMIT_DEFAULT,
        maximum=RECORDS_LIMIT_MAX,
        window_days=RECORDS_MAX_DAYS,
    )
    found = await anyio.to_thread.run_sync(withdrawal_records_of, runtime.ctx.engine, page)
    catalog = runtime.catalog
    return [withdrawal_row(w, catalog.coin(w.coin).chain(w.chain).withdraw_confirm) for w in found]


@reads.get("/api/v2/spot/wallet/deposit-address", params=("coin", "chain"))
async def deposit_address(req: BitgetRequest) -> Any:
    """The caller's deposit address for a coin on a chain (default: the coin's first)."""
    catalog = _runtime(req).catalog
    text = req.require("coin")
    coin = catalog.coin(text)
    chain = coin.chain(req.param("chain") or coin.chains[0].chain)
    if not chain.rechargeable:
        raise ParamInvalid("chain", f"deposits of {coin.coin} on {chain.chain} are suspended")
    return deposit_address_row(catalog, req.key.user_id, coin.coin, chain.chain)


# --- withdrawing ---------------------------------------------------------------------------


@endpoints.post(
    "/api/v2/spot/wallet/withdrawal",
    params=("coin", "transferType", "address", "chain", "tag", "size", "clientOid"),
)
async def withdrawal(req: BitgetRequest) -> Any:
    """Withdraw on chain to an address in the caller's address book; the chain's fee is
    charged on top of ``size``."""
    runtime = _runtime(req)
    transfer_type = req.require("transferType")
    if transfer_type not in TRANSFER_TYPES:
        raise ParamInvalid("transferType", "only on_chain withdrawals are offered")
    coin_text = req.require("coin")
    chain_text = req.require("chain")
    address = req.require("address")
    size = req.require("size")
    coin = runtime.catalog.coin(coin_text)
    chain = coin.chain(chain_text)
    tag = req.param("tag", default="") or ""
    if chain.need_tag and not tag:
        raise ParamEmpty("tag")
    client_oid = client_oid_param(req.param("clientOid"))
    chain.parse_withdraw_amount(size)  # 40808 for a malformed amount, before any lookup
    book = AddressService(runtime.ctx, runtime.accounts, runtime.catalog)
    user_id, now = req.key.user_id, req.now_ms
    booked = await anyio.to_thread.run_sync(
        book.is_booked, user_id, coin.coin, chain.chain, address, tag
    )
    if not booked:
        raise ParamInvalid(
            "address", "not in your withdrawal address book; add it with a TOTP code"
        )

    def withdraw(core: ExchangeCore) -> dict[str, str | None]:
        w = core.request_withdrawal(
            user_id, coin.coin, chain.chain, address, tag, size, client_oid or "", now
        )
        return {"orderId": str(w.withdrawal_id), "clientOid": w.client_oid or None}

    return await runtime.exchange.run(withdraw)
