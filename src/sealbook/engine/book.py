"""One symbol's order book: exchange-core's simple book, in Python.

Each side maps price → :class:`Level` in a :class:`sortedcontainers.SortedDict`, so the
best price is ``peekitem`` (O(log P)) and a new level is one insertion. A level keeps its
orders in an ``OrderedDict`` keyed by order id, in time priority; an index maps every
resting order id to its order, so a cancel is two dict deletions.

``OrderedDict`` rather than ``dict``: matching removes orders from the *front* of a level,
and a plain dict leaves a hole there that every later ``next(iter(...))`` walks over until
the dict is resized, which turns a busy level quadratic. ``OrderedDict`` pops its head in
O(1).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Protocol

from sortedcontainers import SortedDict  # type: ignore[import-untyped]

from sealbook.engine.orders import Force, RestingOrder, Side

__all__ = ["Book", "Level"]


class Level:
    """All resting orders at one price of one side, oldest first."""

    __slots__ = ("orders", "price_ticks", "total_lots")

    def __init__(self, price_ticks: int) -> None:
        self.price_ticks = price_ticks
        self.orders: OrderedDict[int, RestingOrder] = OrderedDict()
        self.total_lots = 0


class _Levels(Protocol):
    """The part of ``SortedDict[int, Level]`` the engine uses (sortedcontainers is untyped)."""

    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[int]: ...
    def __reversed__(self) -> Iterator[int]: ...
    def __getitem__(self, price: int, /) -> Level: ...
    def __setitem__(self, price: int, level: Level, /) -> None: ...
    def __delitem__(self, price: int, /) -> None: ...
    def get(self, price: int, /) -> Level | None: ...
    def peekitem(self, index: int, /) -> tuple[int, Level]: ...


_RESTING_FORCES = (Force.GTC, Force.POST_ONLY)


class Book:
    """Bids and asks of one symbol. ``index`` may be shared by several books (the engine
    shares one across symbols so an order can be found by id alone)."""

    __slots__ = ("asks", "bids", "index", "symbol")

    def __init__(self, symbol: str, index: dict[int, RestingOrder] | None = None) -> None:
        self.symbol = symbol
        self.bids: _Levels = SortedDict()
        self.asks: _Levels = SortedDict()
        self.index: dict[int, RestingOrder] = {} if index is None else index

    def best_bid(self) -> int | None:
        return self.bids.peekitem(-1)[0] if self.bids else None

    def best_ask(self) -> int | None:
        return self.asks.peekitem(0)[0] if self.asks else None

    def add(self, order: RestingOrder) -> None:
        """Put ``order`` at the back of its price level."""
        levels = self.bids if order.side is Side.BUY else self.asks
        level = levels.get(order.price_ticks)
        if level is None:
            level = Level(order.price_ticks)
            levels[order.price_ticks] = level
        level.orders[order.order_id] = order
        level.total_lots += order.remaining
        self.index[order.order_id] = order

    def remove(self, order_id: int) -> RestingOrder | None:
        """Take a resting order off the book in O(1) (O(log P) if its level empties)."""
        order = self.index.get(order_id)
        if order is None or order.symbol != self.symbol:
            return None
        levels = self.bids if order.side is Side.BUY else self.asks
        level = levels[order.price_ticks]
        del level.orders[order_id]
        level.total_lots -= order.remaining
        if not level.orders:
            del levels[order.price_ticks]
        del self.index[order_id]
        return order

    def depth(self, limit: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Up to ``limit`` levels a side, best first, as ``(price_ticks, total_lots)``."""
        return _top(self.bids, reversed(self.bids), limit), _top(self.asks, iter(self.asks), limit)

    def check_invariants(self) -> int:
        """Raise ``AssertionError`` if the book is inconsistent; return its order count."""
        count = 0
        for side, levels in ((Side.BUY, self.bids), (Side.SELL, self.asks)):
            prices = list(levels)
            _require(prices == sorted(set(prices)), f"{side} levels not strictly sorted")
            for price in prices:
                level = levels[price]
                _require(price > 0, f"non-positive price {price}")
                _require(level.price_ticks == price, f"level {level.price_ticks} under {price}")
                _require(bool(level.orders), f"empty {side} level at {price}")
                total = 0
                for order_id, order in level.orders.items():
                    _require(order.order_id == order_id, f"order {order.order_id} as {order_id}")
                    _require(self.index.get(order_id) is order, f"order {order_id} not indexed")
                    _require(order.symbol == self.symbol, f"order {order_id} of {order.symbol}")
                    _require(order.side is side, f"order {order_id} on the wrong side")
                    _require(order.price_ticks == price, f"order {order_id} at the wrong price")
                    _require(0 < order.remaining <= order.lots, f"order {order_id} remaining")
                    _require(order.force in _RESTING_FORCES, f"order {order_id} cannot rest")
                    # Fills are never worse than the limit: as a maker at exactly it,
                    # as a taker (before it rested) at better prices.
                    at_limit = price * order.filled_lots
                    _require(
                        order.filled_quote <= at_limit
                        if side is Side.BUY
                        else order.filled_quote >= at_limit,
                        f"order {order_id} filled beyond its limit",
                    )
                    total += order.remaining
                _require(level.total_lots == total, f"{side} level {price} total {total}")
                count += len(level.orders)
        bid, ask = self.best_bid(), self.best_ask()
        _require(bid is None or ask is None or bid < ask, f"crossed book: {bid} >= {ask}")
        return count


def _top(levels: _Levels, prices: Iterator[int], limit: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for price in prices:
        if len(out) >= limit:
            break
        out.append((price, levels[price].total_lots))
    return out


def _require(condition: bool, what: str) -> None:
    # An explicit raise, not ``assert``: invariants must hold under ``python -O`` too.
    if not condition:
        raise AssertionError(what)
