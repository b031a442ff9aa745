"""``--dry-run``: the live order book, simulated orders. Nothing is ever sent.

:class:`DryRunVenue` reads the real book (and, once, the real balances) through the
exchange and keeps its own orders: a resting buy fills at its price once the best ask
reaches it, a resting sell once the best bid does (maker fee); an order that crosses the
book when placed fills at once at the best price (taker fee). Fees are taken from the coin
received, as on the exchange. Queue position and depth are not modelled: a touch fills
the whole order — an optimistic simulation, said plainly in the docs.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import ccxt

from sealbook.client.bots.venue import Book, Fill, LiveVenue, OrderRequest, OrderView, dec

__all__ = ["DryRunVenue"]


@dataclass(slots=True)
class _SimOrder:
    req: OrderRequest
    order_id: str
    status: str = "open"
    filled: Decimal = Decimal(0)


class DryRunVenue:
    def __init__(self, exchange: Any, symbol: str, name: str = "") -> None:
        self._live = LiveVenue(exchange, symbol, name)
        self.exchange = exchange
        self.name = self._live.name + " (dry run)"
        self.market = self._live.market
        self._orders: dict[str, _SimOrder] = {}
        self._fills: list[Fill] = []
        self._ids = itertools.count(1)
        self._balances: dict[str, Decimal] | None = None
        self._last: Book | None = None
        self.now_ms = 0

    # --- reads: the real book, then the simulated matches ----------------------------------

    def book(self) -> Book:
        book = self._live.book()
        self._last = book
        self._ts()
        for order in list(self._orders.values()):
            if order.status != "open":
                continue
            price = order.req.price
            assert price is not None
            if _touched(order.req.side, price, book):
                self._fill(order, price, maker=True)
        return book

    def open_orders(self) -> list[OrderView]:
        return [self._view(o) for o in self._orders.values() if o.status == "open"]

    def lookup(self, client_oid: str) -> OrderView | None:
        order = self._orders.get(client_oid)
        return None if order is None else self._view(order)

    def fills_since(self, since_ms: int) -> list[Fill]:
        return [f for f in self._fills if f.ts_ms >= since_ms]

    def free(self, coin: str) -> Decimal:
        if self._balances is None:
            try:
                balance = self.exchange.fetch_balance()
            except ccxt.AuthenticationError:
                balance = {}
            self._balances = {
                c: dec(v.get("free")) for c, v in balance.items()
                if isinstance(v, dict) and "free" in v
            }
        return self._balances.get(coin, Decimal(0))

    # --- writes, simulated ----------------------------------------------------------------

    def place(self, req: OrderRequest) -> OrderView:
        if req.client_oid in self._orders:
            return self._view(self._orders[req.client_oid])
        order = _SimOrder(req, str(next(self._ids)))
        self._orders[req.client_oid] = order
        book = self._last or self._live.book()
        cross = book.ask if req.side == "buy" else book.bid
        if cross is not None and (req.price is None or _touched(req.side, req.price, book)):
            assert cross is not None
            self._fill(order, cross, maker=False)
        elif req.ioc or req.price is None:
            order.status = "canceled"
        return self._view(order)

    def cancel(self, client_oid: str) -> None:
        order = self._orders.get(client_oid)
        if order is None or order.status != "open":
            raise ccxt.OrderNotFound(f"no open order {client_oid}")
        order.status = "canceled"

    # --- internals -----------------------------------------------------------------------

    def _ts(self) -> None:
        import time

        self.now_ms = max(self.now_ms + 1, int(time.time() * 1000))

    def _fill(self, order: _SimOrder, price: Decimal, *, maker: bool) -> None:
        m = self.market
        amount = order.req.amount - order.filled
        rate = m.maker_fee if maker else m.taker_fee
        if order.req.side == "buy":
            fee, coin = amount * rate, m.base
        else:
            fee, coin = price * amount * rate, m.quote
        self._ts()
        self._fills.append(
            Fill(f"d{len(self._fills) + 1}", order.order_id, order.req.side, price, amount,
                 fee, coin, self.now_ms)
        )
        order.filled += amount
        order.status = "closed"
        balances = self._balances if self._balances is not None else {}
        sign = 1 if order.req.side == "buy" else -1
        balances[m.base] = balances.get(m.base, Decimal(0)) + sign * amount
        balances[m.quote] = balances.get(m.quote, Decimal(0)) - sign * price * amount
        balances[coin] -= fee

    @staticmethod
    def _view(order: _SimOrder) -> OrderView:
        return OrderView(order.req.client_oid, order.order_id, order.status, order.filled)


def _touched(side: str, price: Decimal, book: Book) -> bool:
    """Would an order at ``price`` trade against the other side of ``book``?"""
    if side == "buy":
        return book.ask is not None and book.ask <= price
    return book.bid is not None and book.bid >= price
