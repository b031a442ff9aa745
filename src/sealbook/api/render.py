"""Bitget's spot wire shapes, from the exchange's exact records: pure functions, no I/O.

Every number leaves as a decimal string rendered from integers (atoms, ticks, lots) with
the symbol's or coin's precision; times are millisecond strings. The traps of
BITGET_WIRE §3.5-§3.6 live here, in one place:

* ``orderInfo`` and ``history-orders`` rows carry ``feeDetail`` as a JSON **string**
  (``""`` while the order has no fill, as Bitget sends it; ccxt reads ``""`` as absent)
  and no ``basePrice``;
* ``unfilled-orders`` rows put the limit price in ``priceAvg`` and the average fill price
  in ``basePrice`` (ccxt swaps them back when ``basePrice`` is present);
* a market buy's ``size`` is its quote budget; every other order's is base;
* fees leave as **negative** strings (ccxt negates them);
* ``priceAvg`` of an order is its filled quote over its filled base, rounded **down** to
  the symbol's price precision, ``"0"`` while nothing is filled;
* a withdrawal record's ``size`` is what left the account (amount + fee) and ``fee`` is
  negative: ccxt reports ``size - |fee|``, which is then the amount that arrives.

It also reads the few parameter shapes the spot routes share (limits, millisecond times,
ids, time windows), so that every route refuses bad input the same way.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from sealbook.api.endpoints import BitgetRequest
from sealbook.engine import OrderType
from sealbook.errors import ParamInvalid, TimeRangeTooLong
from sealbook.exchange.orders import Deposit, MyFill, Order, Withdrawal, is_valid_client_oid
from sealbook.markets import Catalog, Symbol
from sealbook.money import atoms_to_str
from sealbook.store.history import Page

__all__ = [
    "DAY_MS",
    "asset_row",
    "client_oid_param",
    "deposit_address_row",
    "deposit_row",
    "fee_detail",
    "fill_row",
    "id_param",
    "int_param",
    "ms_param",
    "order_book",
    "order_row",
    "price_avg",
    "time_window",
    "unfilled_row",
    "withdrawal_row",
]

DAY_MS = 86_400_000
# ccxt takes startTime and endTime from two clock reads (now - 90 d, then now), so a
# window it sends may exceed 90 days by a few milliseconds; this much is tolerated.
WINDOW_SLACK_MS = 60_000
MAX_ID = 2**63 - 1
_MAX_DIGITS = 19

# --- reading parameters ------------------------------------------------------------------


def _digits(name: str, text: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= _MAX_DIGITS):
        raise ParamInvalid(name, "must be a non-negative integer")
    value = int(text)
    if value > MAX_ID:
        raise ParamInvalid(name, "out of range")
    return value


def int_param(text: str | None, name: str, *, default: int, maximum: int) -> int:
    """A ``limit``-like count: missing → ``default``; above ``maximum`` → ``maximum`` (as
    Bitget caps it); zero, negative or not a number → 40020."""
    if text is None:
        return default
    value = _digits(name, text)
    if value < 1:
        raise ParamInvalid(name, "must be at least 1")
    return min(value, maximum)


def ms_param(text: str | None, name: str) -> int | None:
    """A time in milliseconds since the epoch (``startTime``, ``endTime``), or None."""
    return None if text is None else _digits(name, text)


def id_param(text: str | None, name: str) -> int | None:
    """An id (``orderId``, ``idLessThan``), or None."""
    return None if text is None else _digits(name, text)


def client_oid_param(text: str | None) -> str | None:
    """A ``clientOid``: fewer than 50 of ``0-9 a-z A-Z - + _ #`` (Bitget's rule)."""
    if text is None:
        return None
    if not is_valid_client_oid(text):
        raise ParamInvalid("clientOid", "must be under 50 of 0-9 a-z A-Z - + _ #")
    return text


def time_window(start: int | None, end: int | None, *, max_days: int | None = None) -> None:
    """``startTime`` must not follow ``endTime``; with ``max_days``, the two may be at most
    that many days apart (00001)."""
    if start is None or end is None:
        return
    if start > end:
        raise ParamInvalid("startTime", "is after endTime")
    if max_days is not None and end - start > max_days * DAY_MS + WINDOW_SLACK_MS:
        raise TimeRangeTooLong(max_days)


def page_param(
    req: BitgetRequest,
    market: str | None,
    *,
    default: int,
    maximum: int,
    window_days: int | None = None,
) -> Page:
    """The paging filters every history endpoint takes. With ``window_days``, ``startTime``
    and ``endTime`` are required and at most that many days apart (Bitget's records)."""
    required = window_days is not None
    start = ms_param(req.param("startTime", required=required), "startTime")
    end = ms_param(req.param("endTime", required=required), "endTime")
    time_window(start, end, max_days=window_days)
    return Page(
        user_id=req.key.user_id,
        limit=int_param(req.param("limit"), "limit", default=default, maximum=maximum),
        market=market,
        record_id=id_param(req.param("orderId"), "orderId"),
        client_oid=client_oid_param(req.param("clientOid")),
        start_ms=start,
        end_ms=end,
        before_id=id_param(req.param("idLessThan"), "idLessThan"),
    )


# --- orders --------------------------------------------------------------------------------


def _neg(atoms: int) -> str:
    return atoms_to_str(-atoms)


def price_avg(sym: Symbol, filled_lots: int, filled_quote_atoms: int) -> str:
    """Filled quote ÷ filled base, rounded down to the price precision; ``"0"`` if none."""
    if filled_lots <= 0:
        return "0"
    ticks = filled_quote_atoms * 10**sym.price_places // sym.base_atoms(filled_lots)
    return sym.price_str(ticks)


def fee_detail(fees: Mapping[str, int]) -> str:
    """``feeDetail`` of an order, a JSON string: per fee coin ``{deduction, feeCoinCode,
    totalDeductionFee, totalFee}`` with negative amounts (as strings, to stay exact);
    ``""`` when the order paid nothing because nothing filled. BGB is a deduction. Coins
    that were actually charged come first: ccxt reports the first one only."""
    if not fees:
        return ""
    coins = sorted(fees, key=lambda coin: (fees[coin] == 0, coin))
    detail: dict[str, Any] = {}
    for coin in coins:
        bgb = coin == "BGB"
        detail[coin] = {
            "deduction": bgb,
            "feeCoinCode": coin,
            "totalDeductionFee": _neg(fees[coin]) if bgb else "0",
            "totalFee": _neg(fees[coin]),
        }
    return json.dumps(detail, separators=(",", ":"))


def _order_size(sym: Symbol, order: Order) -> str:
    if order.budget_atoms is not None:  # a market buy: its size is the quote budget
        return atoms_to_str(order.budget_atoms)
    assert order.size_lots is not None
    return sym.size_str(order.size_lots)


def _order_common(sym: Symbol, order: Order) -> dict[str, Any]:
    return {
        "userId": str(order.user_id),
        "symbol": sym.symbol,
        "orderId": str(order.order_id),
        "clientOid": order.client_oid,
        "size": _order_size(sym, order),
        "orderType": order.type.value,
        "side": order.side.value,
        "status": order.status.value,
        "force": order.force.value,
        "baseVolume": sym.size_str(order.filled_lots),
        "quoteVolume": atoms_to_str(order.filled_quote_atoms),
        "enterPointSource": "API",
        "orderSource": "market" if order.type is OrderType.MARKET else "normal",
        "triggerPrice": None,
        "tpslType": "normal",
        "cTime": str(order.ctime_ms),
        "uTime": str(order.utime_ms),
    }


def _limit_price(sym: Symbol, order: Order) -> str:
    return sym.price_str(order.price_ticks) if order.price_ticks is not None else "0"


def order_row(sym: Symbol, order: Order) -> dict[str, Any]:
    """A row of ``spot/trade/orderInfo`` and ``spot/trade/history-orders``."""
    row = _order_common(sym, order)
    row.update(
        price=_limit_price(sym, order),
        priceAvg=price_avg(sym, order.filled_lots, order.filled_quote_atoms),
        baseCoin=sym.base,
        quoteCoin=sym.quote,
        cancelReason=order.cancel_reason,
        feeDetail=fee_detail(order.fees),
    )
    return row


def unfilled_row(sym: Symbol, order: Order) -> dict[str, Any]:
    """A row of ``spot/trade/unfilled-orders``: limit price in ``priceAvg``, the average
    fill price in ``basePrice`` (Bitget's quirk, which ccxt undoes)."""
    row = _order_common(sym, order)
    row.update(
        priceAvg=_limit_price(sym, order),
        basePrice=price_avg(sym, order.filled_lots, order.filled_quote_atoms),
        presetTakeProfitPrice=None,
        presetStopLossPrice=None,
        executeTakeProfitPrice=None,
        executeStopLossPrice=None,
    )
    return row


def fill_row(sym: Symbol, fill: MyFill) -> dict[str, Any]:
    """A row of ``spot/trade/fills`` (``feeDetail`` is an object here)."""
    bgb = fill.fee_coin == "BGB"
    return {
        "userId": str(fill.user_id),
        "symbol": sym.symbol,
        "orderId": str(fill.order_id),
        "tradeId": str(fill.trade_id),
        "orderType": fill.order_type.value,
        "side": fill.side.value,
        "priceAvg": sym.price_str(fill.price_ticks),
        "size": sym.size_str(fill.lots),
        "amount": atoms_to_str(fill.quote_atoms),
        "feeDetail": {
            "deduction": "yes" if bgb else "no",
            "feeCoin": fill.fee_coin,
            "totalDeductionFee": _neg(fill.fee_atoms) if bgb else "0",
            "totalFee": _neg(fill.fee_atoms),
        },
        "tradeScope": "maker" if fill.maker else "taker",
        "cTime": str(fill.ts_ms),
        "uTime": str(fill.ts_ms),
    }


# --- market data ---------------------------------------------------------------------------


def order_book(
    sym: Symbol, bids: Iterable[tuple[int, int]], asks: Iterable[tuple[int, int]], ts_ms: int
) -> dict[str, Any]:
    """``spot/market/orderbook``: ``[price, size]`` string pairs, asks ascending and bids
    descending (best first), and ``ts``."""
    return {
        "asks": [[sym.price_str(p), sym.size_str(q)] for p, q in asks],
        "bids": [[sym.price_str(p), sym.size_str(q)] for p, q in bids],
        "ts": str(ts_ms),
    }


# --- wallet --------------------------------------------------------------------------------


def asset_row(coin: str, available: int, frozen: int, ts_ms: int) -> dict[str, str]:
    """A row of ``spot/account/assets``; ``locked`` (Bitget's fiat-merchant lock) and
    ``limitAvailable`` (copy trading) are always ``"0"`` here."""
    return {
        "coin": coin,
        "available": atoms_to_str(available),
        "frozen": atoms_to_str(frozen),
        "locked": "0",
        "limitAvailable": "0",
        "uTime": str(ts_ms),
    }


def deposit_row(d: Deposit) -> dict[str, Any]:
    """A row of ``spot/wallet/deposit-records``; a deposit is credited when recorded."""
    return {
        "orderId": str(d.deposit_id),
        "tradeId": d.tx_id,
        "coin": d.coin,
        "type": "deposit",
        "size": atoms_to_str(d.amount_atoms),
        "status": "success",
        "toAddress": d.address,
        "fromAddress": "",
        "dest": "on_chain",
        "chain": d.chain,
        "tag": "",
        "cTime": str(d.ts_ms),
        "uTime": str(d.ts_ms),
    }


def withdrawal_row(w: Withdrawal, confirms: int) -> dict[str, Any]:
    """A row of ``spot/wallet/withdrawal-records``. ``size`` is what left the account
    (amount + fee) and ``fee`` is negative, so ccxt's ``size - |fee|`` is the amount
    that arrives (what the withdrawal asked for)."""
    return {
        "orderId": str(w.withdrawal_id),
        "tradeId": w.tx_id,
        "clientOid": w.client_oid or None,
        "coin": w.coin,
        "type": "withdraw",
        "dest": "on_chain",
        "size": atoms_to_str(w.amount_atoms + w.fee_atoms),
        "fee": _neg(w.fee_atoms),
        "status": w.status.value,
        "toAddress": w.address,
        "fromAddress": "",
        "tag": w.tag,
        "chain": w.chain,
        "confirm": str(confirms) if w.tx_id else "0",
        "cTime": str(w.ctime_ms),
        "uTime": str(w.utime_ms),
    }


def deposit_address_row(catalog: Catalog, user_id: int, coin: str, chain: str) -> dict[str, str]:
    """``spot/wallet/deposit-address``: the same address for the same user, coin and
    chain every time (a hash of the three; not a real chain address). Chains that need a
    memo get a numeric one from the same hash."""
    info = catalog.coin(coin).chain(chain)
    digest = hashlib.sha256(f"sealbook-deposit:{user_id}:{coin}:{info.chain}".encode()).digest()
    return {
        "coin": coin,
        "chain": info.chain,
        "address": "0x" + digest[:20].hex(),
        "tag": str(int.from_bytes(digest[20:28], "big") % 10**10) if info.need_tag else "",
        "url": "",
    }
