"""One exchange and one symbol, as a bot sees them: exact numbers, client order ids.

ccxt hands prices, sizes and fees back as Python floats, parsed from the exchange's own
decimal strings. Every number crosses into the bots here, and only here, through
:func:`dec` — ``Decimal(str(x))`` — on purpose: ``str`` of a float is the shortest string
that parses back to it, which for any decimal of up to 15 significant digits (every price,
size and fee an exchange sends) is that very decimal. Nothing computed by ccxt from two
numbers (``cost``) is used; quote amounts are ``price × amount`` in Decimal.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any, Protocol, TypeVar

from sealbook.client.errors import ClientError

__all__ = [
    "Book",
    "Fill",
    "LiveVenue",
    "MarketInfo",
    "OrderRequest",
    "OrderView",
    "Venue",
    "dec",
]


T = TypeVar("T")


def dec(value: Any, default: str = "0") -> Decimal:
    """A ccxt number (float, int, str or None) as the exact decimal it was parsed from."""
    if value is None or value == "":
        return Decimal(default)
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value))


@dataclass(frozen=True, slots=True)
class MarketInfo:
    symbol: str
    base: str
    quote: str
    tick: Decimal  # price step
    lot: Decimal  # size step
    min_amount: Decimal
    min_cost: Decimal
    maker_fee: Decimal  # a rate: 0.001 is 0.1 %
    taker_fee: Decimal

    def floor_price(self, price: Decimal) -> Decimal:
        return (price / self.tick).to_integral_value(ROUND_FLOOR) * self.tick

    def ceil_price(self, price: Decimal) -> Decimal:
        return (price / self.tick).to_integral_value(ROUND_CEILING) * self.tick

    def round_price(self, price: Decimal) -> Decimal:
        return (price / self.tick).to_integral_value() * self.tick

    def floor_amount(self, amount: Decimal) -> Decimal:
        return (amount / self.lot).to_integral_value(ROUND_FLOOR) * self.lot

    def ceil_amount(self, amount: Decimal) -> Decimal:
        return (amount / self.lot).to_integral_value(ROUND_CEILING) * self.lot

    def tradable(self, price: Decimal, amount: Decimal) -> bool:
        """Large enough for the exchange's minimum size and value."""
        return amount >= max(self.min_amount, self.lot) and price * amount >= self.min_cost


@dataclass(frozen=True, slots=True)
class Book:
    bid: Decimal | None
    bid_size: Decimal
    ask: Decimal | None
    ask_size: Decimal
    last: Decimal | None = None  # the last trade's price

    @property
    def mid(self) -> Decimal | None:
        if self.bid is None or self.ask is None:
            return self.bid if self.ask is None else self.ask
        return (self.bid + self.ask) / 2

    @property
    def mark(self) -> Decimal | None:
        """The price positions are valued at and triggers compare with: the last trade."""
        return self.last if self.last is not None else self.mid


@dataclass(frozen=True, slots=True)
class OrderRequest:
    client_oid: str
    side: str  # "buy" | "sell"
    amount: Decimal
    price: Decimal | None  # None: a market order
    ioc: bool = False


@dataclass(frozen=True, slots=True)
class OrderView:
    client_oid: str
    order_id: str
    status: str  # ccxt's: "open" | "closed" | "canceled"
    filled: Decimal


@dataclass(frozen=True, slots=True)
class Fill:
    trade_id: str
    order_id: str
    side: str
    price: Decimal
    amount: Decimal
    fee: Decimal
    fee_coin: str
    ts_ms: int

    @property
    def quote(self) -> Decimal:
        return self.price * self.amount


class Venue(Protocol):
    """What a bot needs of an exchange. Network failures surface as ccxt's exceptions."""

    name: str
    market: MarketInfo

    def book(self) -> Book: ...
    def open_orders(self) -> list[OrderView]: ...
    def lookup(self, client_oid: str) -> OrderView | None: ...
    def place(self, req: OrderRequest) -> OrderView: ...
    def cancel(self, client_oid: str) -> None: ...
    def fills_since(self, since_ms: int) -> list[Fill]: ...
    def free(self, coin: str) -> Decimal: ...


def _account_fees(exchange: Any, symbol: str, m: dict[str, Any]) -> tuple[Decimal, Decimal]:
    """The account's own maker and taker rates when the exchange tells them; else the
    market's published ones."""
    import ccxt

    maker, taker = m.get("maker"), m.get("taker")
    if exchange.has.get("fetchTradingFee"):
        try:
            fee = _patiently("read the fee rates", lambda: exchange.fetch_trading_fee(symbol))
            maker, taker = fee.get("maker", maker), fee.get("taker", taker)
        except (ccxt.BaseError, ClientError):
            pass  # the published rates will do
    return dec(maker, "0.001"), dec(taker, "0.001")


def _patiently(what: str, fn: Callable[[], T], attempts: int = 8) -> T:
    """``fn()``, waited for through 429s and network errors (start-up happens before a
    bot's own back-off runs); a ClientError naming ``what`` when it never answers."""
    import ccxt

    for attempt in range(attempts):
        try:
            return fn()
        except (ccxt.NetworkError, ccxt.RateLimitExceeded) as error:
            if attempt + 1 == attempts:
                raise ClientError(f"cannot {what}: {type(error).__name__}") from None
            time.sleep(min(4.0, 0.25 * 2**attempt))
    raise AssertionError("unreachable")


def market_info(exchange: Any, symbol: str) -> MarketInfo:
    markets = _patiently("load the markets", exchange.load_markets)
    if symbol not in markets:
        raise ClientError(f"{exchange.id} has no market {symbol!r}")
    m = markets[symbol]
    maker, taker = _account_fees(exchange, symbol, m)
    limits = m.get("limits") or {}
    precision = m.get("precision") or {}
    return MarketInfo(
        symbol=symbol,
        base=m["base"],
        quote=m["quote"],
        tick=dec(precision.get("price"), "0.00000001"),
        lot=dec(precision.get("amount"), "0.00000001"),
        min_amount=dec((limits.get("amount") or {}).get("min")),
        min_cost=dec((limits.get("cost") or {}).get("min")),
        maker_fee=maker,
        taker_fee=taker,
    )


def order_view(order: dict[str, Any]) -> OrderView:
    return OrderView(
        client_oid=str(order.get("clientOrderId") or ""),
        order_id=str(order.get("id") or ""),
        status=str(order.get("status") or "open"),
        filled=dec(order.get("filled")),
    )


class LiveVenue:
    """A ccxt exchange (synchronous) trading one symbol for real."""

    def __init__(self, exchange: Any, symbol: str, name: str = "") -> None:
        self.exchange = exchange
        self.name = name or str(exchange.id)
        self.market = market_info(exchange, symbol)

    def book(self) -> Book:
        ob = self.exchange.fetch_order_book(self.market.symbol, 5)
        bids, asks = ob.get("bids") or [], ob.get("asks") or []
        last = self.exchange.fetch_ticker(self.market.symbol).get("last")
        return Book(
            bid=dec(bids[0][0]) if bids else None,
            bid_size=dec(bids[0][1]) if bids else Decimal(0),
            ask=dec(asks[0][0]) if asks else None,
            ask_size=dec(asks[0][1]) if asks else Decimal(0),
            last=None if last is None else dec(last),
        )

    def open_orders(self) -> list[OrderView]:
        return [order_view(o) for o in self.exchange.fetch_open_orders(self.market.symbol)]

    def lookup(self, client_oid: str) -> OrderView | None:
        import ccxt

        try:
            # the id is only used in ccxt's not-found message; the clientOid is what is asked
            found = self.exchange.fetch_order(
                client_oid, self.market.symbol, {"clientOid": client_oid}
            )
        except ccxt.OrderNotFound:
            return None
        return order_view(found)

    def place(self, req: OrderRequest) -> OrderView:
        params: dict[str, Any] = {"clientOid": req.client_oid}
        if req.ioc:
            params["timeInForce"] = "IOC"
        kind = "market" if req.price is None else "limit"
        price = None if req.price is None else str(req.price)
        placed = self.exchange.create_order(
            self.market.symbol, kind, req.side, str(req.amount), price, params
        )
        return OrderView(req.client_oid, str(placed.get("id") or ""), "open", Decimal(0))

    def cancel(self, client_oid: str) -> None:
        self.exchange.cancel_order(client_oid, self.market.symbol, {"clientOid": client_oid})

    def fills_since(self, since_ms: int) -> list[Fill]:
        """Every fill from ``since_ms`` on, paging back by trade id (newest come first)."""
        out: dict[str, Fill] = {}
        params: dict[str, Any] = {}
        while True:
            page = self.exchange.fetch_my_trades(self.market.symbol, since_ms, 100, params)
            for t in page:
                fill = _fill(t)
                out[fill.trade_id] = fill
            if len(page) < 100:
                break
            params = {"idLessThan": min(int(t["id"]) for t in page)}
        return sorted(out.values(), key=lambda f: (f.ts_ms, int(f.trade_id)))

    def free(self, coin: str) -> Decimal:
        balance = self.exchange.fetch_balance()
        return dec((balance.get(coin) or {}).get("free"))


def _fill(t: dict[str, Any]) -> Fill:
    fee = t.get("fee") or {}
    return Fill(
        trade_id=str(t["id"]),
        order_id=str(t.get("order") or ""),
        side=str(t["side"]),
        price=dec(t["price"]),
        amount=dec(t["amount"]),
        fee=abs(dec(fee.get("cost"))),
        fee_coin=str(fee.get("currency") or ""),
        ts_ms=int(t.get("timestamp") or 0),
    )
