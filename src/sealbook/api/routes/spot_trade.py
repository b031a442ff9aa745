"""Spot trading: placing and cancelling orders (spot_trade), and reading them back (read).

A place or cancel is answered only after the transaction that recorded it committed
(:meth:`ExchangeService.run`). Open orders are read from the core after a barrier; closed
orders and fills from the committed rows in the database, newest first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio

from sealbook.api.endpoints import BitgetRequest, Endpoints
from sealbook.api.render import (
    client_oid_param,
    fill_row,
    id_param,
    int_param,
    ms_param,
    order_row,
    page_param,
    time_window,
    unfilled_row,
)
from sealbook.engine import OrderStatus
from sealbook.errors import ParamEmpty, ParamInvalid
from sealbook.exchange.core import ExchangeCore, PlaceRequest
from sealbook.exchange.orders import Order
from sealbook.keys.permissions import Permission
from sealbook.markets import Symbol
from sealbook.store.history import closed_orders, stored_order
from sealbook.store.history import my_fills as my_fills_of

if TYPE_CHECKING:
    from sealbook.api.app import Runtime

__all__ = ["endpoints", "reads"]

endpoints = Endpoints(access=Permission.SPOT_TRADE, tag="spot trade")
reads = Endpoints(access=Permission.READ, tag="spot trade")

LIMIT_DEFAULT = 100
LIMIT_MAX = 100
CLOSED = (OrderStatus.FILLED.value, OrderStatus.CANCELLED.value)
# Bitget's spot order extras that Sealbook does not carry out: refused, not ignored.
UNSUPPORTED = (
    "triggerPrice",
    "presetTakeProfitPrice",
    "executeTakeProfitPrice",
    "presetStopLossPrice",
    "executeStopLossPrice",
)


def _runtime(req: BitgetRequest) -> Runtime:
    runtime: Runtime = req.runtime
    return runtime


def _symbol_or_none(req: BitgetRequest) -> Symbol | None:
    text = req.param("symbol")
    return _runtime(req).catalog.symbol(text) if text else None


def _ids(req: BitgetRequest) -> tuple[int | None, str | None]:
    order_id = id_param(req.param("orderId"), "orderId")
    client_oid = client_oid_param(req.param("clientOid"))
    if order_id is None and client_oid is None:
        raise ParamEmpty("orderId")
    return order_id, client_oid


def _ack(order: Order) -> dict[str, str]:
    return {"orderId": str(order.order_id), "clientOid": order.client_oid}


# --- placing and cancelling ------------------------------------------------------------------


@endpoints.post(
    "/api/v2/spot/trade/place-order",
    params=("symbol", "side", "orderType", "force", "price", "size", "clientOid", "stpMode"),
)
async def place_order(req: BitgetRequest) -> Any:
    """Place a limit or market order; a market buy's ``size`` is the quote to spend."""
    for name in UNSUPPORTED:
        if req.param(name) is not None:
            raise ParamInvalid(name, "trigger and TP/SL orders are not supported")
    tpsl = req.param("tpslType", default="normal")
    if tpsl != "normal":
        raise ParamInvalid("tpslType", "only normal orders are supported")
    order_type = req.require("orderType")
    side = req.require("side")
    size = req.require("size")
    symbol = req.require("symbol")
    request = PlaceRequest(
        symbol=symbol,
        side=side,
        order_type=order_type,
        size=size,
        price=req.param("price"),
        force=req.param("force") or "gtc",
        client_oid=client_oid_param(req.param("clientOid")),
        stp=req.param("stpMode"),
    )
    user_id, now = req.key.user_id, req.now_ms

    def place(core: ExchangeCore) -> dict[str, str]:
        return _ack(core.place(user_id, request, now))

    return await _runtime(req).exchange.run(place)


@endpoints.post("/api/v2/spot/trade/cancel-order", params=("symbol", "orderId", "clientOid"))
async def cancel_order(req: BitgetRequest) -> Any:
    """Cancel an open order by ``orderId`` or ``clientOid``."""
    runtime = _runtime(req)
    text = req.require("symbol")
    symbol = runtime.catalog.symbol(text).symbol
    order_id, client_oid = _ids(req)
    user_id, now = req.key.user_id, req.now_ms

    def cancel(core: ExchangeCore) -> dict[str, str]:
        order = core.cancel(user_id, symbol, now, order_id=order_id, client_oid=client_oid)
        return _ack(order)

    return await runtime.exchange.run(cancel)


@endpoints.post("/api/v2/spot/account/switch-deduct", params=("deduct",))
async def switch_deduct(req: BitgetRequest) -> Any:
    """Pay spot fees in BGB (20 % off, while BGB is available): ``{"deduct": true|false}``."""
    text = req.require("deduct")
    if text not in ("true", "false"):
        raise ParamInvalid("deduct", "expected true or false")
    user_id, on = req.key.user_id, text == "true"

    def switch(core: ExchangeCore) -> None:
        core.set_bgb_deduct(user_id, on)

    await _runtime(req).exchange.run(switch)
    return True


# --- reading orders back -------------------------------------------------------------------


@reads.get("/api/v2/spot/trade/orderInfo", params=("orderId", "clientOid"))
async def order_info(req: BitgetRequest) -> Any:
    """One order by ``orderId`` or ``clientOid``, as a list (empty when there is none)."""
    runtime = _runtime(req)
    order_id, client_oid = _ids(req)
    user_id = req.key.user_id
    await runtime.exchange.barrier()
    core = runtime.exchange.core
    order = core.find(user_id, order_id=order_id, client_oid=client_oid)
    if order is None:
        found = await anyio.to_thread.run_sync(
            stored_order, runtime.ctx.engine, user_id, order_id, client_oid
        )
        order = found[0] if found else None
    if order is None or (client_oid is not None and order.client_oid != client_oid):
        return []  # none, or orderId and clientOid name different orders
    return [order_row(runtime.catalog.symbol(order.symbol), order)]


@reads.get(
    "/api/v2/spot/trade/unfilled-orders",
    params=("symbol", "startTime", "endTime", "idLessThan", "limit"),
)
async def unfilled_orders(req: BitgetRequest) -> Any:
    """Open orders, newest first."""
    runtime = _runtime(req)
    sym = _symbol_or_none(req)
    start = ms_param(req.param("startTime"), "startTime")
    end = ms_param(req.param("endTime"), "endTime")
    time_window(start, end)
    before = id_param(req.param("idLessThan"), "idLessThan")
    limit = int_param(req.param("limit"), "limit", default=LIMIT_DEFAULT, maximum=LIMIT_MAX)
    await runtime.exchange.barrier()
    found = runtime.exchange.core.open_orders(req.key.user_id, sym.symbol if sym else None)
    chosen = sorted(
        (
            o
            for o in found
            if (start is None or o.ctime_ms >= start)
            and (end is None or o.ctime_ms <= end)
            and (before is None or o.order_id < before)
        ),
        key=lambda o: o.order_id,
        reverse=True,
    )[:limit]
    return [unfilled_row(runtime.catalog.symbol(o.symbol), o) for o in chosen]


@reads.get(
    "/api/v2/spot/trade/history-orders",
    params=("symbol", "orderId", "startTime", "endTime", "idLessThan", "limit"),
)
async def history_orders(req: BitgetRequest) -> Any:
    """Filled and cancelled orders, newest first."""
    runtime = _runtime(req)
    sym = _symbol_or_none(req)
    page = page_param(req, sym.symbol if sym else None, default=LIMIT_DEFAULT, maximum=LIMIT_MAX)
    found = await anyio.to_thread.run_sync(closed_orders, runtime.ctx.engine, page)
    return [order_row(runtime.catalog.symbol(o.symbol), o) for o in found]


@reads.get(
    "/api/v2/spot/trade/fills",
    params=("symbol", "orderId", "startTime", "endTime", "idLessThan", "limit"),
)
async def my_fills(req: BitgetRequest) -> Any:
    """The caller's trades with their fees (negative), newest first."""
    runtime = _runtime(req)
    sym = _symbol_or_none(req)
    page = page_param(req, sym.symbol if sym else None, default=LIMIT_DEFAULT, maximum=LIMIT_MAX)
    found = await anyio.to_thread.run_sync(my_fills_of, runtime.ctx.engine, page)
    return [fill_row(runtime.catalog.symbol(f.symbol), f) for f in found]
